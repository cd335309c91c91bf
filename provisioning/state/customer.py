"""A customer tenant as read: our service principal, its Microsoft Graph app-role grants,
the app roles Microsoft Graph publishes there, and the role assignments at the kit's scopes.

Graph is read as JSON (``core/graph.GraphReader``); role assignments and definitions through
azure-mgmt-authorization (its models are small; measured 1.3 ms per read, against 1.1 ms as
raw JSON). Readers return frozen values or ``None`` for what does not exist; a denial is a
``TaskError`` that names the permission to ask for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from provisioning.core.catalog import GRAPH_APP_ID
from provisioning.core.errors import denied
from provisioning.core.graph import sp_by_app_id

from .home import SP_FIELDS, ServicePrincipalState

if TYPE_CHECKING:
    from provisioning.kit.model import Kit


def label(kit: Kit) -> str:
    """The address prefix of a customer's objects in plans (``customer[litware]``)."""
    return f"customer[{kit.customer.name}]"


def consent_denied(kit: Kit) -> str:
    return (
        f"permission denied in tenant {kit.customer.tenant}: consenting to an app needs the "
        f"Application.ReadWrite.All Graph permission or the Cloud Application Administrator "
        f"role (or use the kit's admin-consent link as a Global Administrator)"
    )


def grants_denied(kit: Kit) -> str:
    return (
        f"permission denied in tenant {kit.customer.tenant}: granting Graph application "
        f"permissions needs AppRoleAssignment.ReadWrite.All (or a Privileged Role Administrator "
        f"/ Global Administrator using the kit's consent link)"
    )


# ---- the objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class GraphResource:
    """Microsoft Graph's own service principal in the tenant and the app roles it publishes."""

    id: str
    app_roles: Mapping[str, str] = field(default_factory=dict, hash=False)  # id -> value

    @classmethod
    def from_graph(cls, doc: Mapping[str, Any]) -> GraphResource:
        roles = {
            str(r["id"]).lower(): str(r.get("value") or "")
            for r in doc.get("appRoles") or []
            if r.get("id")
        }
        return cls(str(doc.get("id") or ""), roles)


@dataclass(frozen=True)
class AppRoleGrant:
    """An app-role assignment held by our service principal."""

    id: str
    app_role_id: str
    resource_id: str  # the service principal of the API (Microsoft Graph's, for ours)

    @classmethod
    def from_graph(cls, doc: Mapping[str, Any]) -> AppRoleGrant:
        return cls(
            str(doc.get("id") or ""),
            str(doc.get("appRoleId") or "").lower(),
            str(doc.get("resourceId") or "").lower(),
        )


@dataclass(frozen=True)
class RoleAssignmentState:
    """An Azure role assignment."""

    id: str
    name: str
    scope: str
    role_definition_id: str
    principal_id: str

    @classmethod
    def from_sdk(cls, a: Any) -> RoleAssignmentState:
        return cls(
            str(a.id or ""),
            str(a.name or ""),
            str(a.scope or ""),
            str(a.role_definition_id or ""),
            str(a.principal_id or ""),
        )


@dataclass(frozen=True)
class RoleDefinitionState:
    """A role definition the catalog does not know (a custom role): its name and actions."""

    id: str
    name: str
    actions: tuple[str, ...]


@dataclass(frozen=True)
class CustomerState:
    """What one run read of a customer tenant."""

    tenant: str
    principal: ServicePrincipalState | None = None  # ours: what admin consent created
    graph: GraphResource | None = None
    app_role_grants: tuple[AppRoleGrant, ...] = ()
    role_assignments: tuple[RoleAssignmentState, ...] = ()

    @property
    def consented(self) -> bool:
        return self.principal is not None


# ---- the readers ------------------------------------------------------------------------


async def read_principal(clients: Any, kit: Kit) -> ServicePrincipalState | None:
    """Our service principal in the tenant (``None``: no consent yet)."""
    with denied(f"{label(kit)}.service_principal", consent_denied(kit)):
        doc = await clients.graph_reader.find(sp_by_app_id(clients.graph, kit.app_id), SP_FIELDS)
    return ServicePrincipalState.from_graph(doc) if doc is not None else None


async def read_graph_resource(clients: Any, kit: Kit) -> GraphResource:
    """Microsoft Graph's service principal (it exists in every tenant)."""
    with denied(f"{label(kit)}.graph_app_roles", grants_denied(kit)):
        doc = await clients.graph_reader.get(
            sp_by_app_id(clients.graph, GRAPH_APP_ID), ("id", "appRoles")
        )
    return GraphResource.from_graph(doc)


async def read_app_role_grants(
    clients: Any, kit: Kit, principal_id: str
) -> tuple[AppRoleGrant, ...]:
    """Every app-role assignment our service principal holds (on any API)."""
    builder = clients.graph.service_principals.by_service_principal_id(
        principal_id
    ).app_role_assignments
    with denied(f"{label(kit)}.graph_app_roles", grants_denied(kit)):
        docs = await clients.graph_reader.list(builder, ("id", "appRoleId", "resourceId"))
    return tuple(AppRoleGrant.from_graph(d) for d in docs)


async def read_role_assignment(ops: Any, scope: str, name: str) -> RoleAssignmentState | None:
    """The assignment named ``name`` at ``scope`` (``None``: none). ``ops`` is the
    authorization client's ``role_assignments``."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        return RoleAssignmentState.from_sdk(await ops.get(scope, name))
    except ResourceNotFoundError:
        return None


async def list_role_assignments(
    ops: Any, scope: str, principal_id: str
) -> tuple[RoleAssignmentState, ...]:
    """The principal's assignments that apply at ``scope`` (every page)."""
    return tuple(
        [
            RoleAssignmentState.from_sdk(a)
            async for a in ops.list_for_scope(scope, filter=f"principalId eq '{principal_id}'")
        ]
    )


async def read_role_definition(ops: Any, definition_id: str) -> RoleDefinitionState | None:
    """A role definition by its full id (``None``: none). ``ops``: ``role_definitions``."""
    from azure.core.exceptions import ResourceNotFoundError

    try:
        d = await ops.get_by_id(definition_id)
    except ResourceNotFoundError:
        return None
    actions = tuple(a for p in d.permissions or [] for a in (p.actions or []))
    return RoleDefinitionState(str(d.id or definition_id), str(d.role_name or ""), actions)
