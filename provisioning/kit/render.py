"""Rendering one customer's onboarding kit: the customer's folder (page, README, scripts,
Bicep, ``kit.json``), the home-side snippets, and ``render_all`` for every customer plus the
landing page.

The jinja2 machinery and the per-language escaping filters are in ``templating.py``; the
landing page in ``landing.py``.

Rendering is deterministic: no clock, no randomness, no absolute paths, sorted where the
order carries no meaning, so the same input gives byte-identical files.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from provisioning.config import Config
from provisioning.core import armid
from provisioning.core.catalog import GRAPH_APP_ID
from provisioning.core.clouds import Cloud
from provisioning.core.hosts import host_label, lookup

from .ids import assignment_id
from .landing import LANDING_DIR, render_landing
from .model import KIT_SCHEMA_VERSION, Kit, Workload, build_kit
from .scoped import SCOPED_SNIPPETS, scoped_context, scoped_files
from .templating import bicep_quote, csp_hash, render, static, templates_dir, write_file

__all__ = ["render_all", "render_kit", "render_landing", "scope_info", "templates_dir"]
"""``render_landing`` and ``templates_dir`` live in ``landing.py`` and ``templating.py``;
``provisioning.kit`` imports them from here too."""

GRAPH_BICEP_EXTENSION = "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:1.0.0"
"""The Microsoft Graph Bicep extension (v1.0 types, GA July 2025; needs Bicep >= 0.36.1)."""

ROLE_ASSIGNMENT_API = "2022-04-01"
HOME_DIR = "home"

# --------------------------------------------------------------------------------------
# What the templates are given
# --------------------------------------------------------------------------------------

# Azure CLI cloud names / Az PowerShell environments of the built-in clouds.
_AZ_CLOUDS = {"public": "AzureCloud", "usgov": "AzureUSGovernment", "china": "AzureChinaCloud"}
# A region per cloud for `az deployment sub create --location` (it only stores the record).
_DEPLOY_LOCATION = {"usgov": "usgovvirginia", "china": "chinaeast2"}

# API versions used for `existing` references to the resources role assignments hang on.
# Bicep needs one to name the type; the compiled template only uses the resource id.
_EXISTING_API_VERSIONS = {
    "microsoft.insights/datacollectionrules": "2022-06-01",
    "microsoft.insights/datacollectionendpoints": "2022-06-01",
    "microsoft.insights/components": "2020-02-02",
    "microsoft.operationalinsights/workspaces": "2022-10-01",
    "microsoft.storage/storageaccounts": "2023-01-01",
    "microsoft.storage/storageaccounts/blobservices/containers": "2023-01-01",
    "microsoft.storage/storageaccounts/queueservices/queues": "2023-01-01",
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.eventhub/namespaces": "2021-11-01",
    "microsoft.eventhub/namespaces/eventhubs": "2021-11-01",
    "microsoft.servicebus/namespaces": "2021-11-01",
    "microsoft.servicebus/namespaces/queues": "2021-11-01",
    "microsoft.servicebus/namespaces/topics": "2021-11-01",
    "microsoft.web/sites": "2022-09-01",
    "microsoft.compute/virtualmachines": "2024-03-01",
    "microsoft.containerregistry/registries": "2023-07-01",
    "microsoft.documentdb/databaseaccounts": "2023-04-15",
    "microsoft.sql/servers": "2021-11-01",
    "microsoft.sql/servers/databases": "2021-11-01",
    "microsoft.managedidentity/userassignedidentities": "2023-01-31",
    "microsoft.automation/automationaccounts": "2023-11-01",
    "microsoft.logic/workflows": "2019-05-01",
    "microsoft.network/virtualnetworks": "2023-09-01",
}
_EXISTING_API_FALLBACK = "2022-09-01"

# A harmless read per Graph permission family, for the sample call in workload.py.
_GRAPH_SAMPLES = (
    ("sites.", "/sites?search=*&$top=5"),
    ("files.", "/sites?search=*&$top=5"),
    ("user.", "/users?$top=5&$select=id,displayName"),
    ("group.", "/groups?$top=5&$select=id,displayName"),
    ("directory.", "/organization?$select=id,displayName"),
    ("application.", "/applications?$top=5&$select=id,displayName"),
    ("auditlog.", "/auditLogs/directoryAudits?$top=5"),
    ("mail.", None),
)


def scope_info(scope: str) -> dict[str, Any]:
    """A scope in words: what it is, its name, resource group and subscription."""
    rid = armid.parse(scope)
    info: dict[str, Any] = {
        "id": str(rid),
        "kind": rid.kind,
        "name": rid.name,
        "type": rid.full_type,
        "resource_group": rid.resource_group,
        "subscription": rid.subscription_id,
        "management_group": rid.management_group,
    }
    if rid.kind == "resource":
        info["label"] = f"{rid.full_type} {rid.name}"
    elif rid.kind == "resource_group":
        info["label"] = f"resource group {rid.name}"
    elif rid.kind == "subscription":
        info["label"] = f"subscription {rid.name}"
    elif rid.kind == "management_group":
        info["label"] = f"management group {rid.name}"
    else:
        info["label"] = "the root scope (every subscription of the tenant)"
    return info


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class _BicepModule:
    path: str  # relative to the kit folder, e.g. modules/role-assignment-resource-group.bicep
    target_scope: str  # resourceGroup | subscription
    resource_type: str | None = None  # for an assignment on a resource
    api_version: str | None = None


@dataclass
class _BicepCall:
    index: int
    role: Any  # KitRole
    module: _BicepModule
    scope_expr: str  # Bicep expression, already escaped
    resource_name: str | None = None


@dataclass
class _BicepPlan:
    calls: list[_BicepCall] = field(default_factory=list)
    modules: dict[str, _BicepModule] = field(default_factory=dict)
    unsupported: list[Any] = field(default_factory=list)  # roles Bicep cannot place


def _bicep_plan(kit: Kit) -> _BicepPlan:
    """How each role assignment is expressed in Bicep from a subscription deployment.

    Subscription and resource-group scopes use a generic module; a resource scope needs an
    ``existing`` reference of the resource's type, so one module per resource type.
    Management-group, root and extension-resource scopes cannot be reached from a
    subscription deployment: they are left to the scripts (and said so).
    """
    plan = _BicepPlan()
    for i, role in enumerate(kit.roles):
        rid = armid.parse(role.scope)
        sub = rid.subscription_id
        if rid.kind == "subscription":
            module = _BicepModule("modules/role-assignment-subscription.bicep", "subscription")
            scope_expr = f"subscription({bicep_quote(sub)})"
            name = None
        elif rid.kind == "resource_group":
            module = _BicepModule("modules/role-assignment-resource-group.bicep", "resourceGroup")
            scope_expr = f"resourceGroup({bicep_quote(sub)}, {bicep_quote(rid.resource_group)})"
            name = None
        elif (
            rid.kind == "resource"
            and not rid.is_extension
            and rid.scope is not None
            and rid.scope.kind in ("resource_group", "subscription")
        ):
            at_rg = rid.scope.kind == "resource_group"
            rtype = rid.full_type
            api = _EXISTING_API_VERSIONS.get(rtype.lower(), _EXISTING_API_FALLBACK)
            suffix = "" if at_rg else "-subscription"
            module = _BicepModule(
                f"modules/role-assignment-{_slug(rtype)}{suffix}.bicep",
                "resourceGroup" if at_rg else "subscription",
                rtype,
                api,
            )
            if at_rg:
                scope_expr = f"resourceGroup({bicep_quote(sub)}, {bicep_quote(rid.resource_group)})"
            else:
                scope_expr = f"subscription({bicep_quote(sub)})"
            name = "/".join(rid.names)
        else:
            plan.unsupported.append(role)
            continue
        module = plan.modules.setdefault(module.path, module)
        plan.calls.append(_BicepCall(i, role, module, scope_expr, name))
    return plan


def _az_role(role: Any) -> str:
    """``--role`` for az: the kit's definition id where it lies under a subscription (az
    then uses it as is), or the GUID where the scope has no subscription."""
    if str(role.role_definition_id).startswith("/subscriptions/"):
        return str(role.role_definition_id)
    return str(role.role_id)


def _context(kit: Kit) -> dict[str, Any]:
    app = kit.home.app
    roles: list[dict[str, Any]] = [
        {
            "index": i,
            "role": r.role,
            "role_id": r.role_id,
            "role_definition_id": r.role_definition_id,
            "az_role": _az_role(r),
            "scope": r.scope,
            "scope_info": scope_info(r.scope),
            "why": r.why,
            "description": r.description,
            "assignment_name": r.assignment_name,
            "assignment_id": assignment_id(r.scope, r.assignment_name),
        }
        for i, r in enumerate(kit.roles)
    ]
    declared = {g.id for g in kit.graph_app_roles}
    consent_extra = [g for g in kit.consent_graph_app_roles if g.id not in declared]
    subscriptions = sorted(
        {s for r in roles if (s := r["scope_info"]["subscription"])}, key=str.lower
    )
    tenant_is_guid = bool(armid.GUID_RE.match(kit.customer.tenant))
    return {
        "kit": kit,
        "app": app,
        "customer": kit.customer,
        "cloud": kit.cloud,
        "home_tenant": kit.home.tenant_id,
        "publisher": app.publisher,
        "asker": app.publisher or app.display_name,
        "roles": roles,
        "graph_roles": list(kit.graph_app_roles),
        "consent_roles": list(kit.consent_graph_app_roles),
        "consent_extra": consent_extra,
        "consent_v2": kit.consent_v2,
        "graph_app_id": GRAPH_APP_ID,
        "tenant_is_guid": tenant_is_guid,
        "az_cloud": _AZ_CLOUDS.get(kit.cloud.name),
        "custom_cloud": kit.cloud.name not in _AZ_CLOUDS,
        "subscriptions": subscriptions,
        "deploy_subscription": subscriptions[0] if subscriptions else None,
        "deploy_location": _DEPLOY_LOCATION.get(kit.cloud.name, "eastus"),
        "deployment_name": f"xtenant-{kit.customer.name}"[:64],
        "schema_version": KIT_SCHEMA_VERSION,
        "graph_v1": f"{kit.cloud.graph}/v1.0",
        "graph_bicep_extension": GRAPH_BICEP_EXTENSION,
        "role_assignment_api": ROLE_ASSIGNMENT_API,
        **scoped_context(kit),
    }


# --------------------------------------------------------------------------------------
# Writing the kit
# --------------------------------------------------------------------------------------


def render_kit(kit: Kit, out_dir: Path, *, workload: Mapping[str, Any] | None = None) -> list[Path]:
    """Write the customer's folder (``index.html``, ``README.md``, the scripts, the Bicep,
    ``kit.json``) into ``out_dir``, plus the home-side snippets under ``out_dir/home/``
    when there is workload data: ``workload`` (same shape as ``model.Workload``) or, by
    default, what ``build_kit`` recorded.  Returns the files written, sorted."""
    out_dir = Path(out_dir)
    ctx = _context(kit)
    bicep = _bicep_plan(kit)
    ctx["bicep"] = bicep
    written: list[Path] = []

    # The scripts first: the page and the README show them.
    scripts = {
        "assign-roles.sh": render("kit/assign-roles.sh.j2", **ctx),
        "assign-roles.ps1": render("kit/assign-roles.ps1.j2", **ctx),
        "customer.bicep": render("kit/customer.bicep.j2", **ctx),
    }
    modules = {
        path: render("kit/modules/role-assignment.bicep.j2", module=module, **ctx)
        for path, module in sorted(bicep.modules.items())
    }
    scoped = {name: render(f"kit/{name}.j2", **ctx) for name in scoped_files(kit)}
    scripts.update(scoped)
    snippets = {
        name: render(f"kit/snippets/{name}.j2", **ctx).rstrip("\n")
        for name in (
            "run-az.sh",
            "run-ps.ps1",
            "run-bicep.sh",
            "run-xtenant.sh",
            "verify-az.sh",
            "verify-ps.ps1",
            "revoke-az.sh",
            "revoke-ps.ps1",
            "revoke-xtenant.sh",
            *SCOPED_SNIPPETS,
        )
    }
    files = [
        "index.html",
        "README.md",
        "kit.json",
        "assign-roles.sh",
        "assign-roles.ps1",
        "customer.bicep",
        "customer.parameters.json",
        "bicepconfig.json",
        *scoped,
        *modules,
    ]
    ctx.update(scripts=scripts, modules=modules, snippets=snippets, files=files)
    copy_js = static("kit/copy.js")
    ctx.update(
        css=Markup(static("kit/style.css")),
        copy_js=Markup(copy_js),
        script_hash=csp_hash(copy_js),
    )

    written.append(write_file(out_dir / "index.html", render("kit/index.html.j2", **ctx)))
    written.append(write_file(out_dir / "README.md", render("kit/README.md.j2", **ctx)))
    written.append(write_file(out_dir / "kit.json", kit.dumps()))
    written.append(
        write_file(out_dir / "assign-roles.sh", scripts["assign-roles.sh"], executable=True)
    )
    # A BOM so that Windows PowerShell 5.1 reads non-ASCII names as UTF-8.
    written.append(write_file(out_dir / "assign-roles.ps1", scripts["assign-roles.ps1"], bom=True))
    written.append(write_file(out_dir / "customer.bicep", scripts["customer.bicep"]))
    params = {
        "$schema": "https://schema.management.azure.com/schemas/2019-04-01/"
        "deploymentParameters.json#",
        "contentVersion": "1.0.0.0",
        "parameters": {"appId": {"value": kit.app_id}},
    }
    written.append(write_file(out_dir / "customer.parameters.json", _dumps(params)))
    bicepconfig = {"extensions": {"microsoftGraphV1": GRAPH_BICEP_EXTENSION}}
    written.append(write_file(out_dir / "bicepconfig.json", _dumps(bicepconfig)))
    stale_modules = out_dir / "modules"
    if stale_modules.is_dir() and not stale_modules.is_symlink():  # roles no longer asked for
        for old in stale_modules.glob("role-assignment*.bicep"):
            if f"modules/{old.name}" not in modules:
                old.unlink()
    for path, text in modules.items():
        written.append(write_file(out_dir / path, text))
    for name, text in scoped.items():  # the scoped grants' scripts (a BOM on PowerShell's)
        written.append(
            write_file(
                out_dir / name, text, executable=name.endswith(".sh"), bom=name.endswith(".ps1")
            )
        )
    for name in {"scoped-grants.sh", "scoped-grants.ps1", "exchange-rbac.ps1"} - set(scoped):
        (out_dir / name).unlink(missing_ok=True)  # grants no longer asked for

    effective = Workload.model_validate(workload) if workload is not None else kit.workload
    if effective is not None:
        written.extend(_render_home(kit, ctx, effective, out_dir / HOME_DIR))
    return sorted(written)


def _dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _logs_related(kit: Kit, workload: Workload) -> bool:
    if workload.logs_ingestion is not None:
        return True
    return any(
        r.role.lower() == "monitoring metrics publisher"
        or "microsoft.insights/datacollectionrules" in r.scope.lower()
        for r in kit.roles
    )


def _graph_sample(kit: Kit) -> str | None:
    for g in kit.consent_graph_app_roles:
        for prefix, path in _GRAPH_SAMPLES:
            if g.value.lower().startswith(prefix):
                if path:
                    return path
    return None


def _render_home(kit: Kit, ctx: dict[str, Any], workload: Workload, home: Path) -> list[Path]:
    """The service provider's side: how the workload uses the chain (not for the customer)."""
    identities = list(workload.identities)
    logs = _logs_related(kit, workload)
    sink_base = "xtenant_" + re.sub(r"[^A-Za-z0-9_]", "_", kit.customer.name)
    sinks = [
        {
            "key": sink_base if len(identities) <= 1 else f"{sink_base}_{_slug(i.name)}",
            "identity": i,
        }
        for i in identities
    ] or [{"key": sink_base, "identity": None}]
    hctx = dict(
        ctx,
        workload=workload,
        identities=identities,
        logs=workload.logs_ingestion,
        logs_related=logs,
        sinks=sinks,
        vector_exchange_ok=kit.cloud.exchange_audience == "api://AzureADTokenExchange",
        exchange_scope=kit.cloud.exchange_audience.rstrip("/") + "/.default",
        monitor_scope=kit.cloud.monitor_audience.rstrip("/") + "/.default",
        graph_scope=kit.cloud.graph_audience.rstrip("/") + "/.default",
        arm_scope=kit.cloud.arm_audience.rstrip("/") + "/.default",
        authority_host=kit.cloud.authority.split("://", 1)[-1],
        graph_sample=_graph_sample(kit),
    )
    hosts = _hosts(identities)
    hctx["hosts"] = hosts
    written = []
    files = ["README.md", "workload.py"] + (["vector.toml"] if logs else [])
    files += ["hosts.md"] if hosts else []
    hctx["home_files"] = files
    written.append(write_file(home / "README.md", render("home/README.md.j2", **hctx)))
    written.append(write_file(home / "workload.py", render("home/workload.py.j2", **hctx)))
    vector = home / "vector.toml"
    if logs:
        written.append(write_file(vector, render("home/vector.toml.j2", **hctx)))
    elif vector.exists():
        vector.unlink()
    if hosts:
        written.append(write_file(home / "hosts.md", render("home/hosts.md.j2", **hctx)))
    return written


def _hosts(identities: list[Any]) -> list[dict[str, Any]]:
    """Each host an identity the app trusts runs on, with what the host registry says of its
    kind (its identity endpoint, the variables, the snippet): ``home/hosts.md``."""
    by_id: dict[str, dict[str, Any]] = {}
    for ident in identities:
        for h in ident.hosts:
            rid = armid.parse(h.resource_id)
            kind = lookup(rid)
            if kind is None:
                continue
            entry = by_id.setdefault(
                h.resource_id.lower(),
                {"name": host_label(rid), "id": h.resource_id, "kind": kind, "identities": []},
            )
            entry["identities"].append(ident)
    return sorted(by_id.values(), key=lambda e: (e["kind"].label, e["name"]))


def render_all(
    config: Config,
    cloud: Cloud,
    out_dir: Path,
    *,
    app_ids: Mapping[str, str],
    identities: Mapping[str, Mapping[str, str]],
    customers: Iterable[str] | None = None,
) -> dict[str, list[Path]]:
    """Kits for the customers (all by default): ``out_dir/<customer>/`` each, with the
    home-side snippets in ``out_dir/<customer>/home/``, and the landing page in
    ``out_dir/landing/index.html`` (key ``"landing"`` of the result).

    ``app_ids`` maps app key -> appId; ``identities`` maps identity name -> ``{"client_id",
    "principal_id", "resource_id"}``.
    """
    out_dir = Path(out_dir)
    names = [c.name for c in config.customers] if customers is None else list(customers)
    chosen = [config.customer(n) for n in names]
    by_key = {k.casefold(): v for k, v in app_ids.items()}
    for customer in chosen:  # every app id first, so that nothing is written when one lacks
        if not by_key.get(config.app(customer.app).key.casefold()):
            raise KeyError(
                f"no appId for app {customer.app!r} (customer {customer.name!r}): "
                "the app must exist in the home tenant first (xtenant apply)"
            )
    result: dict[str, list[Path]] = {}
    for customer in sorted(chosen, key=lambda c: c.name.casefold()):
        if customer.name.casefold() == LANDING_DIR:
            raise ValueError(
                f"a customer named {customer.name!r} would overwrite the landing page "
                f"folder '{LANDING_DIR}/': rename the customer"
            )
        app = config.app(customer.app)
        app_id = by_key.get(app.key.casefold())
        if not app_id:
            raise KeyError(
                f"no appId for app {app.key!r} (customer {customer.name!r}): "
                "the app must exist in the home tenant first (xtenant apply)"
            )
        kit = build_kit(config, cloud, customer.name, app_id=app_id, home_identities=identities)
        result[customer.name] = render_kit(kit, out_dir / customer.name)
    publishers = sorted({a.publisher for a in config.home.apps if a.publisher})
    result[LANDING_DIR] = [
        render_landing(
            out_dir / LANDING_DIR,
            publisher=publishers[0] if len(publishers) == 1 else None,
            tenants={c.name: c.tenant for c in config.customers},
        )
    ]
    return result
