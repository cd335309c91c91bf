"""Microsoft Graph application permissions granted to our service principal: exactly the
kit's list, as ``appRoleAssignedTo`` on the tenant's Microsoft Graph service principal.

Names shown are derived from the ids: the catalog's, or the app roles Microsoft Graph's own
service principal publishes in this tenant; a kit whose label names another permission
than its id is refused (it would show one permission and grant another).
"""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from kiota_abstractions.api_error import APIError

from provisioning.core.catalog import graph as graph_catalog
from provisioning.core.engine import UNKNOWN, Context, Task, presence
from provisioning.core.errors import TaskError, denied, message_of, status_of
from provisioning.core.graph import send_json
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.kit.model import Kit, KitGraphRole
from provisioning.state.customer import (
    AppRoleGrant,
    GraphResource,
    grants_denied,
    read_app_role_grants,
    read_graph_resource,
)

from . import label, privilege
from .service_principal import principal_id


class GraphGrantsTask(Task):
    kind = "Graph app role"
    stage = 1

    def __init__(self, kit: Kit, *, remove: bool = False) -> None:
        self.kit = kit
        self.remove = remove
        self.stage = 0 if remove else 1
        self.address = f"{label(kit)}.graph_app_roles"
        self.graph_sp: GraphResource | None = None
        self.sp: str | None = None
        self.assigned: dict[str, str] = {}  # appRoleId -> assignment id (on the Graph SP only)
        self.other: list[str] = []  # assignments not in the kit (reported, never touched)
        self.names: dict[str, str] = {}  # appRoleId -> value, as Graph names it

    def _addr(self, role: KitGraphRole) -> str:
        return f"{label(self.kit)}.graph_app_role[{self.names.get(role.id, role.value)}]"

    async def observe(self, ctx: Context) -> None:
        self.assigned, self.other = {}, []
        self.sp = await principal_id(ctx, self.kit)
        self.graph_sp = await read_graph_resource(ctx.clients, self.kit)
        ctx.seen.graph = self.graph_sp
        self._name_roles(self.graph_sp)
        if self.sp is None:
            return
        self._record(ctx, await read_app_role_grants(ctx.clients, self.kit, self.sp))

    def _record(self, ctx: Context, grants: tuple[AppRoleGrant, ...]) -> None:
        ctx.seen.grants = grants
        assert self.graph_sp is not None
        declared = {r.id.lower() for r in self.kit.graph_app_roles}
        self.assigned, self.other = {}, []
        for a in grants:
            if a.resource_id != self.graph_sp.id.lower():
                continue
            if a.app_role_id in declared:
                self.assigned[a.app_role_id] = a.id
            else:
                self.other.append(a.app_role_id)

    def _name_roles(self, graph_sp: GraphResource) -> None:
        """Every permission's real name, from its id; a kit label naming another is refused."""
        for role in self.kit.graph_app_roles:
            known = graph_catalog.lookup(role.id)
            real = known.value if known is not None else graph_sp.app_roles.get(role.id.lower())
            if real is None:
                raise TaskError(
                    self.address,
                    f"Microsoft Graph has no application permission with id {role.id} in this "
                    "tenant: nothing will be granted from this kit",
                )
            if real != role.value:
                raise TaskError(
                    self.address,
                    f"the kit calls Graph permission {role.id} {role.value!r}, but it is "
                    f"{real!r}: the kit's label does not match what it grants; nothing will "
                    "be granted from this kit",
                )
            self.names[role.id] = real

    def _privileged(self, role: KitGraphRole) -> str | None:
        if not privilege.graph_is_privileged(role.id):
            return None
        return privilege.warning(
            f"{self.names.get(role.id, role.value)} is a privileged Graph permission",
            role.allow_privileged,
        )

    def changes(self, ctx: Context) -> list[Change]:
        out: list[Change] = []
        for role in self.kit.graph_app_roles:
            have = role.id.lower() in self.assigned
            value = self.names.get(role.id, role.value)
            if self.remove and not have:
                continue  # removing: what was never granted is not shown
            out.append(
                presence(
                    self._addr(role),
                    self.kind,
                    present=have,
                    wanted=not self.remove,
                    fields=[FieldChange("permission", value, None)]
                    if self.remove
                    else [
                        FieldChange("permission", None, value),
                        FieldChange("principal", None, self.sp or UNKNOWN),
                    ],
                    create=partial(self._grant, ctx, role),
                    delete=partial(self._delete, ctx, role),
                    privileged=None if self.remove else self._privileged(role),
                )
            )
        if self.other:
            out.append(
                Change(
                    self.address,
                    self.kind,
                    Action.NOOP,
                    note=f"{len(self.other)} other Graph permission(s) granted outside this "
                    f"kit were left alone: {', '.join(sorted(self.other))}",
                )
            )
        return out

    def _assigned_to(self, ctx: Context) -> Any:
        assert self.graph_sp is not None
        return ctx.clients.graph.service_principals.by_service_principal_id(
            self.graph_sp.id
        ).app_role_assigned_to

    async def _grant(self, ctx: Context, role: KitGraphRole) -> None:
        from msgraph.generated.models.app_role_assignment import AppRoleAssignment

        sp = await principal_id(ctx, self.kit)
        if sp is None or self.graph_sp is None:
            raise TaskError(self.address, "the service principal does not exist yet")
        body = AppRoleAssignment(
            principal_id=UUID(sp),
            resource_id=UUID(self.graph_sp.id),
            app_role_id=UUID(role.id),
        )
        request = self._assigned_to(ctx).to_post_request_information(body)
        try:
            with denied(self.address, grants_denied(self.kit)):
                made = await send_json(ctx.clients.graph, request)
        except APIError as e:
            if status_of(e) in (400, 409) and "already exists" in message_of(e).lower():
                return  # granted by an earlier attempt whose response was lost
            raise
        if made:
            self._record(ctx, (*ctx.seen.grants, AppRoleGrant.from_graph(made)))

    async def _delete(self, ctx: Context, role: KitGraphRole) -> None:
        gone = self.assigned[role.id.lower()]
        with denied(self.address, grants_denied(self.kit), ok={404}):
            await self._assigned_to(ctx).by_app_role_assignment_id(gone).delete()
        self._record(ctx, tuple(g for g in ctx.seen.grants if g.id != gone))

    def verified(self, ctx: Context) -> str | None:
        held = [
            self.names.get(r.id, r.value)
            for r in self.kit.graph_app_roles
            if r.id.lower() in self.assigned
        ]
        return f"{self.address}: {', '.join(held) or 'none'}"
