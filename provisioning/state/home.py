"""The home tenant as read: identities, hosts, apps, their federated credentials and service
principals, in one typed form that the tasks, verify, kit building and reconcile share.

Each reader does one GET (a list: one per page) and returns a frozen value, ``None`` for an
object that does not exist, or raises ``TaskError`` naming the object and the role that
would let the admin read it. Graph is read as JSON (``core/graph.GraphReader``), ARM too
(``state/hosts.arm_json``); nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from provisioning.config import App, Config, Identity
from provisioning.core import armid
from provisioning.core.errors import TaskError, code_of, denied
from provisioning.core.graph import (
    app_by_app_id,
    app_by_unique_name,
    graph_permission_hint,
    sp_by_app_id,
)
from provisioning.core.hosts import host_kind, host_label

from .hosts import HostIdentity, arm_json, read_host

SYSTEM_IDENTITY = "providers/Microsoft.ManagedIdentity/identities/default"
"""A resource's system-assigned identity (SystemAssignedIdentities_GetByScope)."""

APP_FIELDS = (
    "id",
    "appId",
    "uniqueName",
    "displayName",
    "signInAudience",
    "web",
    "requiredResourceAccess",
    "tags",
)
FIC_FIELDS = ("id", "name", "issuer", "subject", "audiences")
SP_FIELDS = ("id", "appId", "displayName")


def identity_address(name: str) -> str:
    return f"home.identity[{name}]"


def app_address(key: str) -> str:
    return f"home.app[{key}]"


# ---- the objects ------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentityState:
    """A managed identity: a user-assigned one, or the system-assigned identity of a host
    (``system_assigned_of``; its ``resource_id`` is then the host's id, as the ``xms_mirid``
    claim of its tokens says)."""

    name: str
    resource_id: str
    client_id: str
    principal_id: str  # the object id: what a federated credential's subject names
    location: str
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)
    system_assigned_of: str | None = None

    @classmethod
    def from_arm(cls, name: str, doc: Mapping[str, Any]) -> IdentityState:
        props = doc.get("properties") or {}
        return cls(
            name=name,
            resource_id=str(doc.get("id") or ""),
            client_id=str(props.get("clientId") or ""),
            principal_id=str(props.get("principalId") or ""),
            location=str(doc.get("location") or ""),
            tags=dict(doc.get("tags") or {}),
        )

    @classmethod
    def of_host(
        cls, name: str, host: str, block: HostIdentity, client_id: str = ""
    ) -> IdentityState | None:
        """A host's system-assigned identity as its identity block has it (``None``: off)."""
        if not block.system or not block.principal_id:
            return None
        return cls(name, host, client_id, block.principal_id, "", system_assigned_of=host)

    def ids(self) -> dict[str, str]:
        """The three ids a kit's workload snippets and a diagnosis name."""
        return {
            "client_id": self.client_id,
            "principal_id": self.principal_id,
            "resource_id": self.resource_id,
        }


@dataclass(frozen=True)
class ResourceAccess:
    """One API's permissions an app registration requests (``requiredResourceAccess``)."""

    resource_app_id: str
    access: tuple[tuple[str, str], ...]  # (id, type), sorted


@dataclass(frozen=True)
class AppState:
    """An app registration."""

    object_id: str
    app_id: str
    unique_name: str | None
    display_name: str
    sign_in_audience: str | None
    redirect_uris: tuple[str, ...]
    required_resource_access: tuple[ResourceAccess, ...]
    tags: tuple[str, ...]

    @classmethod
    def from_graph(cls, doc: Mapping[str, Any]) -> AppState:
        rra = tuple(
            ResourceAccess(
                str(r.get("resourceAppId") or ""),
                tuple(
                    sorted(
                        (str(x.get("id")), str(x.get("type")))
                        for x in r.get("resourceAccess") or []
                    )
                ),
            )
            for r in doc.get("requiredResourceAccess") or []
        )
        return cls(
            object_id=str(doc.get("id") or ""),
            app_id=str(doc.get("appId") or ""),
            unique_name=doc.get("uniqueName") or None,
            display_name=str(doc.get("displayName") or ""),
            sign_in_audience=doc.get("signInAudience"),
            redirect_uris=tuple((doc.get("web") or {}).get("redirectUris") or ()),
            required_resource_access=rra,
            tags=tuple(doc.get("tags") or ()),
        )


@dataclass(frozen=True)
class Fic:
    """A federated identity credential on an app."""

    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]
    id: str | None = None

    @classmethod
    def from_graph(cls, doc: Mapping[str, Any]) -> Fic:
        return cls(
            str(doc.get("name") or ""),
            str(doc.get("issuer") or ""),
            str(doc.get("subject") or ""),
            tuple(doc.get("audiences") or ()),
            doc.get("id"),
        )

    def fields(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "subject": self.subject, "audiences": list(self.audiences)}


@dataclass(frozen=True)
class ServicePrincipalState:
    """A service principal (an app's instance in a tenant)."""

    id: str
    app_id: str
    display_name: str

    @classmethod
    def from_graph(cls, doc: Mapping[str, Any]) -> ServicePrincipalState:
        return cls(
            str(doc.get("id") or ""), str(doc.get("appId") or ""), str(doc.get("displayName") or "")
        )


@dataclass(frozen=True)
class HomeState:
    """What one run read of the home tenant, by the names the configuration gives.

    An object missing from a mapping was not found, or not read: ``absent`` lists the
    addresses read and found missing, ``problems`` the reads that failed (``address:
    message``)."""

    identities: Mapping[str, IdentityState] = field(default_factory=dict, hash=False)
    apps: Mapping[str, AppState] = field(default_factory=dict, hash=False)
    fics: Mapping[str, tuple[Fic, ...]] = field(default_factory=dict, hash=False)  # by app key
    hosts: Mapping[str, HostIdentity] = field(default_factory=dict, hash=False)  # id, lower
    service_principals: Mapping[str, ServicePrincipalState] = field(
        default_factory=dict, hash=False
    )  # app key -> the app's home service principal
    absent: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()

    def app_ids(self) -> dict[str, str]:
        return {k: a.app_id for k, a in self.apps.items()}

    def identity_ids(self) -> dict[str, dict[str, str]]:
        """Identity name -> its ids: what kits are built from (``build_kit``)."""
        return {n: i.ids() for n, i in self.identities.items()}

    def attached(self, identity: str, host: armid.ResourceId) -> bool | None:
        """Whether the host carries the identity (``None``: one of them was not read)."""
        ident, block = self.identities.get(identity), self.hosts.get(str(host).lower())
        if ident is None or block is None:
            return None
        return block.has(ident.resource_id)


# ---- the readers ------------------------------------------------------------------------


def identity_id(subscription_id: str, ident: Identity) -> str:
    """The identity's ARM id: a user-assigned identity's own, or the host's (the
    ``xms_mirid`` of a system-assigned identity's tokens)."""
    if ident.system_assigned_of is not None:
        return str(armid.parse(ident.system_assigned_of))
    return armid.user_assigned_identity_id(subscription_id, str(ident.resource_group), ident.name)


def host_denied(address: str, host: armid.ResourceId, verb: str = "read") -> str:
    """What an admin denied reading (or changing) a host needs, named from the registry."""
    kind = host_kind(host)
    role = "Reader (to plan) or " + kind.role if verb == "read" else kind.role
    return f"no permission to {verb} {kind.label} {host}: the admin needs {role} on it"


async def read_system_identity(
    clients: Any, ident: Identity
) -> tuple[HostIdentity, IdentityState | None]:
    """The host's identity block, and its system-assigned identity when it is on (with the
    client id ``SystemAssignedIdentities_GetByScope`` reports, when it can be read)."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

    host = armid.parse(str(ident.system_assigned_of))
    address = identity_address(ident.name)
    try:
        with denied(address, host_denied(address, host)):
            block = await read_host(clients, host)
    except ResourceNotFoundError:
        raise TaskError(
            address, f"host {host} does not exist (or the admin cannot see it)"
        ) from None
    state = IdentityState.of_host(ident.name, str(host), block)
    if state is None:
        return block, None
    try:
        doc = await arm_json(clients, "GET", f"{host}/{SYSTEM_IDENTITY}", armid.IDENTITY_API)
        client_id = str(((doc or {}).get("properties") or {}).get("clientId") or "")
    except HttpResponseError:  # the client id is for display only: the principal id matters
        client_id = ""
    return block, replace(state, client_id=client_id)


async def read_identity(
    clients: Any, subscription_id: str, ident: Identity
) -> IdentityState | None:
    from azure.core.exceptions import ResourceNotFoundError

    if ident.system_assigned_of is not None:
        return (await read_system_identity(clients, ident))[1]
    rid = identity_id(subscription_id, ident)
    address = identity_address(ident.name)
    fix = (
        f"no permission to read {rid}: the admin needs Managed Identity Contributor (or Reader "
        f"to plan) on resource group {ident.resource_group}"
    )
    try:
        with denied(address, fix):
            doc = await arm_json(clients, "GET", rid, armid.IDENTITY_API)
    except ResourceNotFoundError as e:
        if code_of(e) == "ResourceGroupNotFound":
            raise TaskError(
                address,
                f"resource group {ident.resource_group!r} does not exist in subscription "
                f"{subscription_id}; create it (az group create -n {ident.resource_group} -l "
                f"{ident.location}) or fix home.identities[].resource_group",
            ) from None
        return None
    return IdentityState.from_arm(ident.name, doc or {})


async def read_app(
    clients: Any, app: App, home_tenant: str, app_id: str | None = None
) -> AppState | None:
    """The app by ``app_id`` when it is known (a kit's, ``verify --app``); else by its
    ``uniqueName``, and when none has it, by the config's ``adopt_app_id`` (an existing app
    being adopted: it must exist)."""
    reader, graph = clients.graph_reader, clients.graph
    address = app_address(app.key)
    with denied(address, "cannot read app registrations: " + graph_permission_hint(home_tenant)):
        if app_id:
            doc = await reader.find(app_by_app_id(graph, app_id), APP_FIELDS)
        else:
            doc = await reader.find(app_by_unique_name(graph, app.unique_name), APP_FIELDS)
            if doc is None and app.adopt_app_id:
                doc = await reader.find(app_by_app_id(graph, app.adopt_app_id), APP_FIELDS)
                if doc is None:
                    raise TaskError(
                        address,
                        f"adopt_app_id {app.adopt_app_id}: no such app in tenant {home_tenant}",
                    )
    return AppState.from_graph(doc) if doc is not None else None


@dataclass(frozen=True)
class DeletedObject:
    """A soft-deleted application or service principal, as Entra's deleted items list it
    (restorable for 30 days; a deleted app keeps its uniqueName, so no other may take it)."""

    id: str
    app_id: str
    unique_name: str | None
    display_name: str
    deleted_on: str  # "2026-11-29 10:15 UTC", or "recently"
    tags: tuple[str, ...] = ()

    @classmethod
    def from_graph(cls, doc: Mapping[str, Any]) -> DeletedObject:
        when = str(doc.get("deletedDateTime") or "")
        shown = f"{when[:10]} {when[11:16]} UTC" if len(when) >= 16 else "recently"
        return cls(
            id=str(doc.get("id") or ""),
            app_id=str(doc.get("appId") or ""),
            unique_name=doc.get("uniqueName") or None,
            display_name=str(doc.get("displayName") or ""),
            deleted_on=shown,
            tags=tuple(str(t) for t in doc.get("tags") or ()),
        )


DELETED_FIELDS = ("id", "appId", "uniqueName", "displayName", "deletedDateTime", "tags")


async def read_deleted(clients: Any, kind: str, tenant: str) -> tuple[DeletedObject, ...]:
    """The tenant's soft-deleted ``application``s or ``servicePrincipal``s, every page
    (learn.microsoft.com/graph/api/directory-deleteditems-list); () when the admin may not
    read them (then a re-creation simply meets Entra's own refusal)."""
    from azure.core.exceptions import HttpResponseError

    items = clients.graph.directory.deleted_items
    builder = items.graph_application if kind == "application" else items.graph_service_principal
    fields = DELETED_FIELDS if kind == "application" else DELETED_FIELDS[:2] + DELETED_FIELDS[3:]
    try:
        docs = await clients.graph_reader.list(builder, fields)
    except HttpResponseError as e:
        if e.status_code in (401, 403):
            return ()
        raise
    return tuple(DeletedObject.from_graph(d) for d in docs)


async def read_fics(clients: Any, app: App, state: AppState, home_tenant: str) -> tuple[Fic, ...]:
    graph = clients.graph
    builder = graph.applications.by_application_id(state.object_id).federated_identity_credentials
    hint = "cannot read federated credentials: " + graph_permission_hint(home_tenant)
    with denied(f"{app_address(app.key)}.fics", hint):
        docs = await clients.graph_reader.list(builder, FIC_FIELDS)
    return tuple(Fic.from_graph(d) for d in docs)


async def read_service_principal(clients: Any, app_id: str) -> ServicePrincipalState | None:
    """The service principal of ``app_id`` in the signed-in tenant (``None``: none)."""
    doc = await clients.graph_reader.find(sp_by_app_id(clients.graph, app_id), SP_FIELDS)
    return ServicePrincipalState.from_graph(doc) if doc is not None else None


async def read_home(
    clients: Any,
    config: Config,
    *,
    apps: Iterable[App] | None = None,
    identities: Iterable[Identity] | None = None,
    app_ids: Mapping[str, str] | None = None,
    fics: bool = False,
    hosts: bool = False,
) -> HomeState:
    """Read the home objects asked for (every app and identity by default; their FICs and
    the hosts they are attached to on request), concurrently; a read that fails is a
    problem of the result, never an exception."""
    import asyncio

    from .observed import Observed

    home = config.home
    seen = Observed(home.tenant_id)
    problems: list[str] = []

    async def guard(address: str, read: Any) -> tuple[bool, Any]:
        """(read, what it found); a failed read is a problem, said with its object."""
        from provisioning.core.errors import describe

        try:
            return True, await read
        except TaskError as e:
            problems.append(f"{e.address}: {e.message}")
        except Exception as e:  # an SDK error: still say which object
            problems.append(f"{address}: {describe(e)}")
        return False, None

    async def one_app(app: App) -> None:
        address = app_address(app.key)
        read, state = await guard(
            address, read_app(clients, app, home.tenant_id, (app_ids or {}).get(app.key))
        )
        if read:
            seen.record(seen.apps, app.key, address, state)
        if state is not None and fics:
            read, got = await guard(
                f"{address}.fics", read_fics(clients, app, state, home.tenant_id)
            )
            if read:
                seen.fics[app.key] = got

    async def one_identity(ident: Identity) -> None:
        address = identity_address(ident.name)
        if ident.system_assigned_of is not None:
            read, got = await guard(address, read_system_identity(clients, ident))
            if read:
                seen.hosts[identity_id("", ident).lower()] = got[0]
                seen.record(seen.identities, ident.name, address, got[1])
            return
        read, state = await guard(address, read_identity(clients, home.subscription_id, ident))
        if read:
            seen.record(seen.identities, ident.name, address, state)
        for host in ident.attach_ids if hosts and state is not None else ():
            read, block = await guard(
                f"{address}.attach[{host_label(host)}]", read_host(clients, host)
            )
            if read:
                seen.hosts[str(host).lower()] = block

    await asyncio.gather(
        *map(one_app, config.home.apps if apps is None else apps),
        *map(one_identity, config.home.identities if identities is None else identities),
    )
    return replace(seen.home(), problems=tuple(sorted(problems)))
