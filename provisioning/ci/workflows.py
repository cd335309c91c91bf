"""Pipelines: the CI workflows ``xtenant ci init github|azure-devops`` writes, and the exact
rights the pipeline's identities need.

    files = render_ci("github", config, config_path="xtenant.yaml", out_dir=Path("."))
    for p in pipeline_permissions(config):
        print(p.role, p.scope, p.why)
    print(format_permissions(pipeline_permissions(config)))

Two identities, so that a pull request can never write:

* **plan** — pull requests (``reconcile --plan-only``) and the nightly ``status``: reads only
  (Reader on the identities' resource groups and on each host, Graph ``Application.Read.All``);
* **apply** — ``reconcile --yes`` on the main branch, behind an approval (a GitHub environment,
  an Azure DevOps environment): Managed Identity Contributor and Operator on the identities'
  resource groups, Virtual Machine / Automation Contributor on each host, Graph
  ``Application.ReadWrite.OwnedBy`` (the pipeline must own the apps).

Both authenticate without a secret: the CI's OIDC token is written to a file named by
``AZURE_FEDERATED_TOKEN_FILE`` (with ``AZURE_CLIENT_ID`` and ``AZURE_TENANT_ID``), which
azure-identity's ``DefaultAzureCredential`` picks up as ``WorkloadIdentityCredential``;
the workflows refresh that file in the background because GitHub's ID tokens live five
minutes and Azure DevOps' ten (see ``docs/ci.md``).

Rendering is deterministic: no clock, no randomness; the same configuration and options
give byte-identical files.
"""

from __future__ import annotations

import math
import os
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import jinja2

from provisioning.config import Config
from provisioning.core import armid, clouds
from provisioning.core.catalog import GRAPH_APP_ID, graph, roles

CiKind = Literal["github", "azure-devops"]
CI_KINDS: tuple[str, ...] = ("github", "azure-devops")

OUTPUTS: dict[str, str] = {
    "github": ".github/workflows/xtenant.yml",
    "azure-devops": "azure-pipelines.yml",
}
"""Where each kind's file lands, relative to ``out_dir`` (the repository root)."""

TEMPLATES: dict[str, str] = {
    "github": "ci/github/xtenant.yml.j2",
    "azure-devops": "ci/azure-devops/azure-pipelines.yml.j2",
}

PLAN_CONNECTION = "xtenant-plan"
APPLY_CONNECTION = "xtenant-apply"
"""Azure DevOps service connections (workload identity federation) of the two identities."""

SHARD_SIZE = 500
"""Customers per nightly job when ``shards`` is left to ``render_ci`` (500 is a normal day)."""
MAX_SHARDS = 32

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"

# Built-in roles the pipeline needs that the shipped catalog does not list yet.
# Automation Contributor: learn.microsoft.com/azure/role-based-access-control/built-in-roles/
# management-and-governance#automation-contributor (Microsoft.Automation/automationAccounts/*).
_ROLES_NOT_IN_CATALOG = {"Automation Contributor": "f353d9bd-d4a6-484e-a77a-8050b599b867"}

_HOST_ROLES = {
    "microsoft.compute/virtualmachines": (
        "Virtual Machine Contributor",
        "attach {names} to this VM (read and PATCH its identity block)",
    ),
    "microsoft.automation/automationaccounts": (
        "Automation Contributor",
        "attach {names} to this Automation account (read and PATCH its identity block)",
    ),
}

Identity = Literal["apply", "plan"]
Kind = Literal["azure-role", "graph-app-role"]

_ORDER_IDENTITY = {"apply": 0, "plan": 1}
_ORDER_KIND = {"azure-role": 0, "graph-app-role": 1}


# =====================================================================================
# The rights
# =====================================================================================


@dataclass(frozen=True)
class Permission:
    """One right a pipeline identity needs: an Azure role on a scope, or a Microsoft Graph
    application permission (an app role of Graph's service principal) in a tenant."""

    identity: Identity  # which pipeline identity: "apply" (writes) or "plan" (reads only)
    kind: Kind
    role: str  # role name, or the Graph permission's value (Application.ReadWrite.OwnedBy)
    role_id: str  # role definition GUID, or the Graph app role id
    scope: str | None  # ARM id of the scope; None for a Graph permission (tenant-wide)
    tenant: str  # where it is granted: the home tenant, or a managed customer's tenant
    why: str

    @property
    def resource_app_id(self) -> str | None:
        """For a Graph permission: Microsoft Graph's appId (the same in every tenant)."""
        return GRAPH_APP_ID if self.kind == "graph-app-role" else None

    def to_json(self) -> dict[str, Any]:
        return {
            "identity": self.identity,
            "kind": self.kind,
            "role": self.role,
            "role_id": self.role_id,
            "scope": self.scope,
            "resource_app_id": self.resource_app_id,
            "tenant": self.tenant,
            "why": self.why,
        }


def _role_id(name: str) -> str:
    found = roles.lookup(name)
    if found is not None:
        return found.id
    if name in _ROLES_NOT_IN_CATALOG:
        return _ROLES_NOT_IN_CATALOG[name]
    raise LookupError(f"built-in role {name!r} is in neither the catalog nor ci.py")


def _graph_id(value: str) -> str:
    found = graph.lookup(value)
    if found is None:
        raise LookupError(f"Graph permission {value!r} is not in the catalog")
    return found.id


def _names(items: Iterable[str]) -> str:
    return ", ".join(sorted(set(items), key=str.casefold))


class _Collector:
    """Permissions keyed by (identity, tenant, kind, role, scope); reasons are merged."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, ...], tuple[Permission, list[str]]] = {}

    def add(
        self,
        identity: Identity,
        kind: Kind,
        role: str,
        scope: str | None,
        tenant: str,
        why: str,
    ) -> None:
        role_id = _role_id(role) if kind == "azure-role" else _graph_id(role)
        key = (identity, tenant.casefold(), kind, role_id, (scope or "").casefold())
        if key in self._items:
            reasons = self._items[key][1]
            if why not in reasons:
                reasons.append(why)
            return
        self._items[key] = (Permission(identity, kind, role, role_id, scope, tenant, ""), [why])

    def result(self, home_tenant: str) -> list[Permission]:
        out = []
        for perm, reasons in self._items.values():
            why = "; ".join(sorted(reasons, key=str.casefold))
            out.append(
                Permission(
                    perm.identity, perm.kind, perm.role, perm.role_id, perm.scope, perm.tenant, why
                )
            )

        def order(p: Permission) -> tuple[Any, ...]:
            home = p.tenant.casefold() == home_tenant.casefold()
            return (
                _ORDER_IDENTITY[p.identity],
                0 if home else 1,
                p.tenant.casefold(),
                _ORDER_KIND[p.kind],
                (p.scope or "").casefold(),
                p.role.casefold(),
            )

        return sorted(out, key=order)


def pipeline_permissions(config: Config) -> list[Permission]:
    """The rights the pipeline's two identities need for what ``reconcile`` does with this
    configuration, and nothing more: the apply identity's, then the plan identity's, each
    home tenant first, Azure roles before Graph permissions, sorted by scope.

    Nothing at subscription scope: every read and write of the home tasks lands in the
    identities' resource groups or on a declared host. (``--prune`` lists every VM and
    Automation account of the subscription; the pipelines do not prune.)"""
    home = config.home
    tenant = home.tenant_id
    sub = home.subscription_id
    c = _Collector()

    by_rg: dict[str, list[str]] = {}
    rg_name: dict[str, str] = {}
    attached: dict[str, list[str]] = {}
    hosts: dict[str, tuple[armid.ResourceId, list[str]]] = {}
    for ident in home.identities:
        key = ident.resource_group.casefold()
        rg_name.setdefault(key, ident.resource_group)
        by_rg.setdefault(key, []).append(ident.name)
        for host in ident.attach_ids:
            attached.setdefault(key, []).append(ident.name)
            hosts.setdefault(str(host).casefold(), (host, []))[1].append(ident.name)

    for key, names in by_rg.items():
        scope = f"/subscriptions/{sub}/resourceGroups/{rg_name[key]}"
        c.add(
            "apply",
            "azure-role",
            "Managed Identity Contributor",
            scope,
            tenant,
            f"create and tag the user-assigned identities {_names(names)} (it cannot create "
            "the resource group: that must exist)",
        )
        c.add(
            "plan",
            "azure-role",
            "Reader",
            scope,
            tenant,
            f"read the identities {_names(names)} (a missing identity reads as 'to create' "
            "only with read access on its resource group)",
        )
        if key in attached:
            c.add(
                "apply",
                "azure-role",
                "Managed Identity Operator",
                scope,
                tenant,
                f"assign {_names(attached[key])} to their hosts (.../assign/action); on the "
                "resource group because the pipeline creates the identities, so they may not "
                "exist when this is granted",
            )

    for rid, names in hosts.values():
        if rid.full_type.lower() not in _HOST_ROLES:
            raise LookupError(
                f"no least-privilege role is known for attaching to a {rid.full_type} "
                "(add one to provisioning/ci.py _HOST_ROLES)"
            )
        role, why = _HOST_ROLES[rid.full_type.lower()]
        c.add("apply", "azure-role", role, str(rid), tenant, why.format(names=_names(names)))
        c.add(
            "plan",
            "azure-role",
            "Reader",
            str(rid),
            tenant,
            f"read which identities this host carries ({_names(names)})",
        )

    if home.apps:
        keys = _names(a.key for a in home.apps)
        adopted = [a.key for a in home.apps if a.adopt_app_id]
        with_sp = [a.key for a in home.apps if a.service_principal]
        why = (
            f"create and update the app registrations {keys}, their federated credentials"
            + (f" and home service principals ({_names(with_sp)})" if with_sp else "")
            + ". Only apps the pipeline owns: the apps it creates; make it an owner of apps "
            "that already exist"
            + (f" (adopted: {_names(adopted)})" if adopted else "")
            + ", or grant Application.ReadWrite.All instead"
        )
        c.add("apply", "graph-app-role", "Application.ReadWrite.OwnedBy", None, tenant, why)
        c.add(
            "plan",
            "graph-app-role",
            "Application.Read.All",
            None,
            tenant,
            f"read the app registrations {keys} and their federated credentials",
        )

    for cust in sorted(config.customers, key=lambda x: x.name.casefold()):
        if cust.customer_side != "managed":
            continue
        t = cust.tenant
        c.add(
            "apply",
            "graph-app-role",
            "Application.ReadWrite.All",
            None,
            t,
            f"customer {cust.name} (customer_side: managed): create the service principal of "
            f"app {cust.app} in its tenant (consent); the pipeline identity must be a "
            "multi-tenant app with a service principal there",
        )
        c.add(
            "plan",
            "graph-app-role",
            "Application.Read.All",
            None,
            t,
            f"customer {cust.name}: read the service principal of app {cust.app} and its "
            "Graph grants",
        )
        if cust.graph_app_roles:
            c.add(
                "apply",
                "graph-app-role",
                "AppRoleAssignment.ReadWrite.All",
                None,
                t,
                f"customer {cust.name}: grant app {cust.app} the Graph permissions "
                f"{_names(cust.graph_app_roles)}",
            )
        for grant in cust.roles:
            c.add(
                "apply",
                "azure-role",
                "Role Based Access Control Administrator",
                grant.scope,
                t,
                f"customer {cust.name}: assign {grant.role} to app {cust.app} (constrain it "
                f"with a condition to role {grant.role_id})",
            )
            c.add(
                "plan",
                "azure-role",
                "Reader",
                grant.scope,
                t,
                f"customer {cust.name}: read the role assignments on this scope",
            )
    return c.result(tenant)


_IDENTITY_TITLES = {
    "apply": "apply identity — reconcile --yes on the main branch, behind an approval",
    "plan": "plan identity — pull requests and the nightly status; reads only",
}


def format_permissions(
    perms: Sequence[Permission], *, graph_endpoint: str = "https://graph.microsoft.com"
) -> str:
    """The role list as ``xtenant ci init`` prints it, followed by the Azure CLI commands
    that grant it (``$APPLY_PRINCIPAL_ID`` / ``$PLAN_PRINCIPAL_ID`` = the object id of
    each identity's service principal)."""
    lines: list[str] = []
    for identity in ("apply", "plan"):
        mine = [p for p in perms if p.identity == identity]
        if not mine:
            continue
        lines.append(f"{_IDENTITY_TITLES[identity]}:")
        for p in mine:
            if p.kind == "azure-role":
                lines.append(f"  {p.role} ({p.role_id})")
                lines.append(f"      on {p.scope}")
            else:
                lines.append(f"  Microsoft Graph {p.role} ({p.role_id}), application permission")
                lines.append(f"      in tenant {p.tenant}")
            lines.append(f"      why: {p.why}")
        lines.append("")
    if not lines:
        return "The pipeline needs no rights: the configuration declares nothing to manage.\n"
    lines.append("Grant them with the Azure CLI, signed in to each tenant named above:")
    graph_sp = "$(az ad sp show --id " + GRAPH_APP_ID + " --query id -o tsv)"
    for p in perms:
        var = f"${p.identity.upper()}_PRINCIPAL_ID"
        if p.kind == "azure-role":
            lines.append(
                f'  az role assignment create --assignee-object-id "{var}" '
                f"--assignee-principal-type ServicePrincipal --role {p.role_id} "
                f"--scope {shlex.quote(p.scope or '')}"
            )
        else:
            body = (
                '{"principalId": "\'"'
                + var
                + '"\'", "resourceId": "\'"'
                + graph_sp
                + '"\'", "appRoleId": "'
                + p.role_id
                + '"}'
            )
            lines.append(
                f'  az rest --method POST --uri "{graph_endpoint}/v1.0/servicePrincipals/'
                f"{var}/appRoleAssignments\" --body '{body}'   # {p.role}"
            )
    return "\n".join(lines) + "\n"


# =====================================================================================
# The workflows
# =====================================================================================

_SAFE_PATH = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._/-]*$")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._-]+$")
_SAFE_AUDIENCE = re.compile(r"^[A-Za-z0-9:/._-]+$")
_SAFE_INSTALL = re.compile(r"^[A-Za-z0-9._\[\],=<>!~+:/@-]+$")
_CRON = re.compile(r"^[0-9*/,-]+( [0-9*/,-]+){4}$")
_ENV_VAR = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
# Set by the workflows themselves (the sign-in step) or reserved by GitHub: never mapped.
_RESERVED_ENV = re.compile(
    r"^(AZURE_CLIENT_ID|AZURE_TENANT_ID|AZURE_FEDERATED_TOKEN_FILE|(GITHUB|RUNNER|ACTIONS)_.*)$"
)


def _safe_path(what: str, value: str) -> str:
    text = PurePosixPath(str(value).replace("\\", "/")).as_posix()
    if (
        not _SAFE_PATH.match(text)
        or text.startswith("/")
        or ".." in PurePosixPath(text).parts
        or text.endswith("/")
    ):
        raise ValueError(
            f"{what}: {value!r} must be a path relative to the repository root, inside it, "
            "of letters, digits and . _ - /"
        )
    return text


def config_path_for(config_file: Path, out_dir: Path) -> str:
    """``config_file`` as the pipeline sees it: relative to ``out_dir`` (the repository
    root), in POSIX form; ``ValueError`` if it is not inside it."""
    rel = os.path.relpath(Path(config_file).resolve(), Path(out_dir).resolve())
    return _safe_path("configuration file", PurePosixPath(Path(rel).as_posix()).as_posix())


def _check(what: str, value: str, pattern: re.Pattern[str]) -> str:
    if not pattern.match(value):
        raise ValueError(f"{what}: {value!r} is not allowed here")
    return value


def config_variables(path: Path) -> list[str]:
    """The ``${VAR}`` names a configuration file (and its ``customers_dir`` files) takes
    from the environment, sorted: the workflows pass each from a CI variable."""
    found: set[str] = set()
    path = Path(path)
    doc = _load_yaml(path)
    if doc is None:
        return []
    docs = [doc]
    folder_spec = doc.get("customers_dir") if isinstance(doc, dict) else None
    if isinstance(folder_spec, str) and (path.parent / folder_spec).is_dir():
        folder = path.parent / folder_spec
        for f in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml")):
            docs.append(_load_yaml(f))
    for d in docs:
        for text in _strings(d):
            found.update(_ENV_VAR.findall(text))
    return sorted(found)


def _load_yaml(path: Path) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))
    except (OSError, YAMLError, UnicodeDecodeError):
        return None


def _strings(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)


def _audience(config: Config, config_file: Path | None) -> str:
    spec = config.cloud
    if spec.lower() in clouds.BUILTIN:
        return clouds.resolve(spec.lower()).exchange_audience
    if config_file is not None:
        try:
            return clouds.load_cloud_file(config_file.parent / spec).exchange_audience
        except (OSError, ValueError):
            pass
    return clouds.resolve("public").exchange_audience


def _version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("xtenant")
    except PackageNotFoundError:
        return None


def _trigger_paths(config: Config, config_path: str, kind: str) -> list[str]:
    base = PurePosixPath(config_path).parent
    paths = [config_path]
    if config.customers_dir:
        folder = (base / config.customers_dir.replace("\\", "/")).as_posix()
        folder = os.path.normpath(folder).replace(os.sep, "/")
        if _SAFE_PATH.match(folder) and not folder.startswith(".."):
            paths.append(folder + ("/**" if kind == "github" else ""))
    if config.cloud.lower() not in clouds.BUILTIN:
        cloud_file = os.path.normpath((base / config.cloud).as_posix()).replace(os.sep, "/")
        if _SAFE_PATH.match(cloud_file) and not cloud_file.startswith(".."):
            paths.append(cloud_file)
    paths.append(OUTPUTS[kind])
    return paths


@cache
def _ci_environment(root: str) -> jinja2.Environment:
    """The kit's jinja2 environment (its escaping filters included) with delimiters that
    cannot clash with GitHub's ``${{ }}``, Azure DevOps' ``$( )`` / ``${{ }}`` or bash."""
    from provisioning.kit.render import environment, json_quote

    env = environment().overlay(
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[=",
        variable_end_string="=]",
        comment_start_string="[#",
        comment_end_string="#]",
    )
    env.filters = dict(env.filters, yaml=json_quote)  # a JSON string is a YAML scalar
    return env


def render_ci(
    kind: CiKind,
    config: Config,
    *,
    config_path: str,
    out_dir: Path,
    kits_dir: str = "kits",
    branch: str = "main",
    environment: str = "xtenant",
    shards: int | None = None,
    install: str | None = None,
    cron: str = "17 5 * * *",
    config_file: Path | None = None,
) -> list[Path]:
    """Write the pipeline for ``kind`` under ``out_dir`` (the repository root):
    ``.github/workflows/xtenant.yml`` or ``azure-pipelines.yml``. Returns the files written.

    ``config_path`` is the configuration as the pipeline sees it, relative to the
    repository root (``xtenant.yaml``); ``config_file`` is where to read it now for its
    ``${VAR}`` names (default ``out_dir/config_path``). ``shards`` > 1 splits the nightly
    status over a matrix (GitHub; default: one job per 500 customers); ``install`` is what
    ``pip install`` gets (default: this version of xtenant)."""
    if kind not in OUTPUTS:
        raise ValueError(f"unknown CI kind {kind!r}; expected one of {', '.join(CI_KINDS)}")
    out_dir = Path(out_dir)
    config_path = _safe_path("config path", config_path)
    kits_dir = _safe_path("kits folder", kits_dir)
    _check("branch", branch, _SAFE_NAME)
    _check("environment", environment, _SAFE_NAME)
    _check("cron", cron, _CRON)
    if shards is None:
        shards = min(MAX_SHARDS, max(1, math.ceil(len(config.customers) / SHARD_SIZE)))
    if not 1 <= shards <= 256:
        raise ValueError(f"shards: {shards} is not between 1 and 256 (GitHub's matrix limit)")
    if install is None:
        version = _version()
        install = f"xtenant=={version}" if version else "xtenant"
    _check("install", install, _SAFE_INSTALL)

    source = config_file if config_file is not None else out_dir / config_path
    env_vars = [v for v in config_variables(source) if not _RESERVED_ENV.match(v)]
    audience = _check("exchange audience", _audience(config, source), _SAFE_AUDIENCE)

    context = {
        "config_path": config_path,
        "kits": kits_dir,
        "branch": branch,
        "environment": environment,
        "shards": shards,
        "install": install,
        "cron": cron,
        "env_vars": env_vars,
        "tenant_id": config.home.tenant_id,
        "audience": audience,
        "paths": _trigger_paths(config, config_path, kind),
        "workflow": OUTPUTS[kind],
        "plan_connection": PLAN_CONNECTION,
        "apply_connection": APPLY_CONNECTION,
        "python_version": "3.11",
    }
    from provisioning.kit.render import templates_dir

    env = _ci_environment(str(templates_dir()))
    text = env.get_template(TEMPLATES[kind]).render(**context)
    if not text.endswith("\n"):
        text += "\n"
    target = out_dir / OUTPUTS[kind]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    target.chmod(0o644)
    return [target]
