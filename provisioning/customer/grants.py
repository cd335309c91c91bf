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

from provisioning.core.catalog import GRAPH_APP_ID
from provisioning.core.catalog import graph as graph_catalog
from provisioning.core.engine import UNKNOWN, Context, Task
from provisioning.core.errors import TaskError, message_of, status_of
from provisioning.core.graph import every_page, sp_by_app_id
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.kit.model import Kit, KitGraphRole

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
        self.graph_sp: Any = None
        self.sp: str | None = None
        self.assigned: dict[str, str] = {}  # appRoleId -> assignment id (on the Graph SP only)
        self.other: list[str] = []  # assignments not in the kit (reported, never touched)
        self.names: dict[str, str] = {}  # appRoleId -> value, as Graph names it

    def _addr(self, role: KitGraphRole) -> str:
        return f"{label(self.kit)}.graph_app_role[{self.names.get(role.id, role.value)}]"

    async def observe(self, ctx: Context) -> None:
        graph = ctx.clients.graph
        self.assigned, self.other = {}, []
        self.sp = await principal_id(ctx, self.kit)
        try:
            self.graph_sp = await sp_by_app_id(graph, GRAPH_APP_ID).get()
            self._name_roles()
            if self.sp is None:
                return
            page = await graph.service_principals.by_service_principal_id(
                self.sp
            ).app_role_assignments.get()
            held = await every_page(graph, page)
        except TaskError:
            raise
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(self.address, _denied(self.kit)) from None
            raise
        declared = {r.id for r in self.kit.graph_app_roles}
        for a in held:
            if str(a.resource_id) != str(self.graph_sp.id):
                continue
            if str(a.app_role_id) in declared:
                self.assigned[str(a.app_role_id)] = str(a.id)
            else:
                self.other.append(str(a.app_role_id))

    def _name_roles(self) -> None:
        """Every permission's real name, from its id; a kit label naming another is refused."""
        published = {str(r.id): r.value for r in (self.graph_sp.app_roles or []) if r.id}
        for role in self.kit.graph_app_roles:
            known = graph_catalog.lookup(role.id)
            real = known.value if known is not None else published.get(role.id)
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
            have = role.id in self.assigned
            value = self.names.get(role.id, role.value)
            if self.remove:
                if have:
                    out.append(
                        Change(
                            self._addr(role),
                            self.kind,
                            Action.DELETE,
                            [FieldChange("permission", value, None)],
                            apply=partial(self._delete, ctx, role),
                        )
                    )
                continue
            if have:
                out.append(Change(self._addr(role), self.kind, Action.NOOP))
                continue
            out.append(
                Change(
                    self._addr(role),
                    self.kind,
                    Action.CREATE,
                    [
                        FieldChange("permission", None, value),
                        FieldChange("principal", None, self.sp or UNKNOWN),
                    ],
                    apply=partial(self._grant, ctx, role),
                    privileged=self._privileged(role),
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
        return ctx.clients.graph.service_principals.by_service_principal_id(
            self.graph_sp.id
        ).app_role_assigned_to

    async def _grant(self, ctx: Context, role: KitGraphRole) -> None:
        from msgraph.generated.models.app_role_assignment import AppRoleAssignment

        sp = await principal_id(ctx, self.kit)
        if sp is None:
            raise TaskError(self.address, "the service principal does not exist yet")
        body = AppRoleAssignment(
            principal_id=UUID(sp),
            resource_id=UUID(str(self.graph_sp.id)),
            app_role_id=UUID(role.id),
        )
        try:
            await self._assigned_to(ctx).post(body)
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(self.address, _denied(self.kit)) from None
            if status_of(e) in (400, 409) and "already exists" in message_of(e).lower():
                return  # granted by an earlier attempt whose response was lost
            raise

    async def _delete(self, ctx: Context, role: KitGraphRole) -> None:
        try:
            await self._assigned_to(ctx).by_app_role_assignment_id(self.assigned[role.id]).delete()
        except Exception as e:
            if status_of(e) != 404:
                raise

    def verified(self, ctx: Context) -> str | None:
        held = [
            self.names.get(r.id, r.value) for r in self.kit.graph_app_roles if r.id in self.assigned
        ]
        return f"{self.address}: {', '.join(held) or 'none'}"


def _denied(kit: Kit) -> str:
    return (
        f"permission denied in tenant {kit.customer.tenant}: granting Graph application "
        f"permissions needs AppRoleAssignment.ReadWrite.All (or a Privileged Role Administrator "
        f"/ Global Administrator using the kit's consent link)"
    )
