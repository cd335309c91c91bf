"""Microsoft Graph application permissions granted to our service principal: exactly the
kit's list, as ``appRoleAssignedTo`` on the tenant's Microsoft Graph service principal."""

from __future__ import annotations

from functools import partial
from typing import Any
from uuid import UUID

from provisioning.core.catalog import GRAPH_APP_ID
from provisioning.core.engine import UNKNOWN, Context, Task
from provisioning.core.errors import TaskError, message_of, status_of
from provisioning.core.graph import sp_by_app_id
from provisioning.core.plan import Action, Change, FieldChange

from .service_principal import principal_id
from .spec import CustomerSpec, GraphRole


class GraphGrantsTask(Task):
    kind = "Graph app role"
    stage = 1

    def __init__(self, spec: CustomerSpec, *, remove: bool = False) -> None:
        self.spec = spec
        self.remove = remove
        self.stage = 0 if remove else 1
        self.address = f"{spec.label}.graph_app_roles"
        self.graph_sp: Any = None
        self.sp: str | None = None
        self.assigned: dict[str, str] = {}  # appRoleId -> assignment id (on the Graph SP only)
        self.other: list[str] = []  # assignments not in the kit (reported, never touched)

    def _addr(self, role: GraphRole) -> str:
        return f"{self.spec.label}.graph_app_role[{role.value}]"

    async def observe(self, ctx: Context) -> None:
        graph = ctx.clients.graph
        self.assigned, self.other = {}, []
        self.sp = await principal_id(ctx, self.spec)
        try:
            self.graph_sp = await sp_by_app_id(graph, GRAPH_APP_ID).get()
            if self.sp is None:
                return
            page = await graph.service_principals.by_service_principal_id(
                self.sp
            ).app_role_assignments.get()
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(self.address, _denied(self.spec)) from None
            raise
        declared = {r.id for r in self.spec.graph_roles}
        for a in (page.value or []) if page else []:
            if str(a.resource_id) != str(self.graph_sp.id):
                continue
            if str(a.app_role_id) in declared:
                self.assigned[str(a.app_role_id)] = str(a.id)
            else:
                self.other.append(str(a.app_role_id))

    def changes(self, ctx: Context) -> list[Change]:
        out: list[Change] = []
        for role in self.spec.graph_roles:
            have = role.id in self.assigned
            if self.remove:
                if have:
                    out.append(
                        Change(
                            self._addr(role),
                            self.kind,
                            Action.DELETE,
                            [FieldChange("permission", role.value, None)],
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
                        FieldChange("permission", None, role.value),
                        FieldChange("principal", None, self.sp or UNKNOWN),
                    ],
                    apply=partial(self._grant, ctx, role),
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

    async def _grant(self, ctx: Context, role: GraphRole) -> None:
        from msgraph.generated.models.app_role_assignment import AppRoleAssignment

        sp = await principal_id(ctx, self.spec)
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
                raise TaskError(self.address, _denied(self.spec)) from None
            if status_of(e) in (400, 409) and "already exists" in message_of(e).lower():
                return  # granted by an earlier attempt whose response was lost
            raise

    async def _delete(self, ctx: Context, role: GraphRole) -> None:
        try:
            await self._assigned_to(ctx).by_app_role_assignment_id(self.assigned[role.id]).delete()
        except Exception as e:
            if status_of(e) != 404:
                raise

    def verified(self, ctx: Context) -> str | None:
        held = [r.value for r in self.spec.graph_roles if r.id in self.assigned]
        return f"{self.address}: {', '.join(held) or 'none'}"


def _denied(spec: CustomerSpec) -> str:
    return (
        f"permission denied in tenant {spec.tenant}: granting Graph application permissions "
        f"needs AppRoleAssignment.ReadWrite.All (or a Privileged Role Administrator / Global "
        f"Administrator using the kit's consent link)"
    )
