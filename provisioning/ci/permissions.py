"""The exact rights a pipeline's two identities need, computed from the configuration, and
how ``xtenant ci init`` prints them.

    for p in pipeline_permissions(config):
        print(p.role, p.scope, p.why)
    print(format_permissions(pipeline_permissions(config)))

Two identities, so that a pull request can never write:

* **plan** — pull requests (``reconcile --plan-only``) and the nightly ``status``: reads only
  (Reader on the identities' resource groups and on each host, Graph ``Application.Read.All``);
* **apply** — ``reconcile --yes`` on the main branch, behind an approval (a GitHub environment,
  an Azure DevOps environment): Managed Identity Contributor and Operator on the identities'
  resource groups, the host kind's role on each host (``core/hosts.py``), Graph
  ``Application.ReadWrite.OwnedBy`` (the pipeline must own the apps).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from provisioning.config import Config
from provisioning.core import armid
from provisioning.core.catalog import GRAPH_APP_ID, graph, roles
from provisioning.core.hosts import HOST_KINDS, host_kind

Identity = Literal["apply", "plan"]
Kind = Literal["azure-role", "graph-app-role"]

_ORDER_IDENTITY = {"apply": 0, "plan": 1}
_ORDER_KIND = {"azure-role": 0, "graph-app-role": 1}


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
    for kind in HOST_KINDS.values():  # the host roles the shipped catalog does not list
        if kind.role == name:
            return kind.role_id
    raise LookupError(f"built-in role {name!r} is in neither the catalog nor core/hosts.py")


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
        if ident.system_assigned_of is not None:  # lives on its host: enabled there
            host = armid.parse(ident.system_assigned_of)
            hosts.setdefault(str(host).casefold(), (host, []))[1].append(ident.name)
            continue
        group = str(ident.resource_group)
        key = group.casefold()
        rg_name.setdefault(key, group)
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
        kind = host_kind(rid)
        c.add(
            "apply",
            "azure-role",
            kind.role,
            str(rid),
            tenant,
            f"attach {_names(names)} to this {kind.label} (read and PATCH its identity block)",
        )
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
        if cust.site_permissions:
            on_sites = _names(p.site for p in cust.site_permissions)
            stages: tuple[tuple[Identity, str], ...] = (
                ("apply", "grant"),
                ("plan", "read the permissions of"),
            )
            for stage, what in stages:
                c.add(
                    stage,
                    "graph-app-role",
                    "Sites.FullControl.All",
                    None,
                    t,
                    f"customer {cust.name}: {what} app {cust.app}'s roles on the sites "
                    f"{on_sites} (Graph has no narrower permission for a site's permissions)",
                )
        if cust.directory_roles:
            role_names = _names(d.role for d in cust.directory_roles)
            c.add(
                "apply",
                "graph-app-role",
                "RoleManagement.ReadWrite.Directory",
                None,
                t,
                f"customer {cust.name}: assign app {cust.app} the Microsoft Entra roles "
                f"{role_names}",
            )
            c.add(
                "plan",
                "graph-app-role",
                "RoleManagement.Read.Directory",
                None,
                t,
                f"customer {cust.name}: read the Microsoft Entra role assignments of app "
                f"{cust.app}",
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
