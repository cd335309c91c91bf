"""Azure RBAC role assignments for our service principal, exactly as the kit lists them.

The kit carries each assignment's deterministic name and role definition id (computed in
``kit/ids.py``); ``principalType`` is always sent (so ARM does not need to resolve a
just-created principal), an existing assignment of the same role under another name counts
as present, and ``PrincipalNotFound`` while a new service principal replicates is waited
out with bounded backoff.

An assignment under our name whose principal is not the current service principal is ours
and stale: the customer deleted the enterprise app (its assignments stay behind, shown as
"Identity not found") and consented again, which made a new principal. ARM refuses to
point an assignment at another principal (400 ``RoleAssignmentUpdateNotPermitted``), so it
is replaced: deleted, then created for the current principal.
"""

from __future__ import annotations

import logging
from typing import Any

from azure.core.exceptions import HttpResponseError

from provisioning.core import armid
from provisioning.core.catalog import roles as role_catalog
from provisioning.core.engine import UNKNOWN, Context, Task, presence
from provisioning.core.errors import TaskError, code_of, denied
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.kit.ids import role_guid_of
from provisioning.kit.model import Kit, KitRole
from provisioning.state.customer import (
    RoleAssignmentState,
    list_role_assignments,
    read_role_assignment,
    read_role_definition,
)

from . import label, privilege
from .service_principal import principal_id

log = logging.getLogger("xtenant")
NO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def _short_scope(scope: str) -> str:
    rid = armid.parse(scope)
    return rid.name or rid.resource_group or rid.subscription_id or scope


class RoleAssignmentTask(Task):
    kind = "role assignment"

    def __init__(self, kit: Kit, role: KitRole, *, remove: bool = False) -> None:
        self.kit = kit
        self.role = role
        self.remove = remove
        self.stage = 0 if remove else 1
        self.address = f"{label(kit)}.role[{role.role} @ {_short_scope(role.scope)}]"
        # our assignment (by name, or the same grant under another name)
        self.found: RoleAssignmentState | None = None
        # an assignment under our name for another (deleted) principal
        self.stale: RoleAssignmentState | None = None
        self.sp: str | None = None
        self.role_name = role.role  # as the tenant names it (catalog or role definition)
        self.custom_privileged = False

    @property
    def subscription_id(self) -> str | None:
        return armid.parse(self.role.scope).subscription_id

    def _client(self, ctx: Context) -> Any:
        return ctx.clients.authorization(self.subscription_id or NO_SUBSCRIPTION)

    async def observe(self, ctx: Context) -> None:
        self.found = self.stale = None
        self.sp = await principal_id(ctx, self.kit)
        await self._read_definition(ctx)
        ops = self._client(ctx).role_assignments
        with denied(self.address, self._denied("read")):
            named = await read_role_assignment(ops, self.role.scope, self.role.assignment_name)
            if named is not None:
                self._record(ctx, named)
                if self.sp is not None and named.principal_id == self.sp:
                    self.found = named
                    return
                self.stale = named
            if self.sp is None:
                return
            # the same grant may exist under another name (made by hand, by az, by Bicep)
            for a in await list_role_assignments(ops, self.role.scope, self.sp):
                if a.scope.lower() == self.role.scope.lower() and (
                    role_guid_of(a.role_definition_id) == self.role.role_id.lower()
                ):
                    self._record(ctx, a)
                    self.found = a
                    return

    def _record(self, ctx: Context, a: RoleAssignmentState, *, gone: bool = False) -> None:
        if gone:
            ctx.seen.assignments.pop(a.id.lower(), None)
        else:
            ctx.seen.assignments[a.id.lower()] = a

    async def _read_definition(self, ctx: Context) -> None:
        """A role the catalog does not know is named by the tenant's own definition: the
        label a kit gives it must be that name, and its actions say whether it is privileged."""
        if role_catalog.lookup(self.role.role_id) is not None:
            return
        with denied(self.address, self._denied("read")):
            definition = await read_role_definition(
                self._client(ctx).role_definitions, self.role.role_definition_id
            )
        if definition is None:
            raise TaskError(
                self.address,
                f"role definition {self.role.role_id} does not exist at {self.role.scope} "
                "in this tenant: ask the provider which role they mean",
            )
        if definition.name != self.role.role:
            raise TaskError(
                self.address,
                f"the kit calls role {self.role.role_id} {self.role.role!r}, but this tenant "
                f"names it {definition.name!r}: the kit's label does not match what it grants; "
                "nothing will be granted from this kit",
            )
        self.role_name = definition.name
        self.custom_privileged = privilege.role_is_privileged(self.role.role_id, definition.actions)

    @property
    def privileged(self) -> str | None:
        is_priv = self.custom_privileged or privilege.role_is_privileged(self.role.role_id)
        if not is_priv:
            return None
        return privilege.warning(
            f"{self.role_name} can change or grant anything at {self.role.scope}",
            self.role.allow_privileged,
        )

    def changes(self, ctx: Context) -> list[Change]:
        fields = [
            FieldChange("role", None, f"{self.role_name} ({self.role.role_id})"),
            FieldChange("scope", None, self.role.scope),
            FieldChange("principal", None, self.sp or UNKNOWN),
        ]
        if self.remove:
            gone = [a for a in (self.found, self.stale) if a is not None]
            return [
                presence(
                    self.address,
                    self.kind,
                    present=bool(gone),
                    wanted=False,
                    fields=[FieldChange(f.field, f.after, None) for f in fields[:2]]
                    + [FieldChange("principal", a.principal_id, None) for a in gone],
                    delete=lambda: self._delete(ctx, *gone),
                )
            ]
        if self.found is not None:
            out = [Change(self.address, self.kind, Action.NOOP)]
            if self.stale is not None:  # ours, orphaned, beside a grant made under another name
                out.append(self._orphan_cleanup(ctx))
            return out
        if self.stale is not None:
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.REPLACE,
                    [
                        FieldChange("role", None, f"{self.role_name} ({self.role.role_id})"),
                        FieldChange("scope", None, self.role.scope),
                        FieldChange("principal", self.stale.principal_id, self.sp or UNKNOWN),
                    ],
                    note=(
                        f"the assignment {self.role.assignment_name} belongs to principal "
                        f"{self.stale.principal_id}, which is not the app's current service "
                        "principal (the enterprise app was deleted and consent given again): "
                        "ARM cannot move it to the new principal, so it is deleted and made again"
                    ),
                    apply=lambda: self._replace(ctx),
                    privileged=self.privileged,
                )
            ]
        return [
            Change(
                self.address,
                self.kind,
                Action.CREATE,
                fields,
                note=self.role.why,
                apply=lambda: self._create(ctx),
                privileged=self.privileged,
            )
        ]

    def _orphan_cleanup(self, ctx: Context) -> Change:
        stale = self.stale
        assert stale is not None
        return Change(
            f"{self.address}.orphan",
            self.kind,
            Action.DELETE,
            [
                FieldChange("name", stale.name, None),
                FieldChange("principal", stale.principal_id, None),
            ],
            note="an assignment of this app's role for a principal that is no longer the "
            "app's service principal (the enterprise app was deleted): it grants nothing",
            apply=lambda: self._delete(ctx, stale),
        )

    async def _replace(self, ctx: Context) -> None:
        if self.stale is not None:
            await self._delete(ctx, self.stale)
        await self._create(ctx)

    async def _create(self, ctx: Context) -> None:
        from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

        sp = await principal_id(ctx, self.kit)
        if sp is None:
            raise TaskError(
                self.address, "the service principal does not exist yet (consent first)"
            )
        body = RoleAssignmentCreateParameters(
            role_definition_id=self.role.role_definition_id,
            principal_id=sp,
            principal_type="ServicePrincipal",
        )

        def replicating(e: BaseException) -> bool:
            if code_of(e) == "PrincipalNotFound":
                ctx.progress(self.address, f"waiting for principal {sp} to replicate to ARM")
                log.info("%s: PrincipalNotFound; waiting for replication", self.address)
                return True
            return False

        made = None
        try:
            with denied(self.address, self._denied("write")):
                async for attempt in AsyncRetrying(
                    retry=retry_if_exception(replicating),
                    reraise=True,
                    stop=stop_after_delay(ctx.replication_wait_s),
                    wait=wait_exponential(multiplier=0.5, max=15),
                ):
                    with attempt:
                        made = await self._client(ctx).role_assignments.create(
                            self.role.scope, self.role.assignment_name, body
                        )
        except TaskError:
            raise
        except HttpResponseError as e:
            code = code_of(e)
            if code == "RoleAssignmentExists":
                return  # present under another name: the next look finds it
            if code == "PrincipalNotFound":
                raise TaskError(
                    self.address,
                    (
                        f"ARM still does not see service principal {sp} after "
                        f"{ctx.replication_wait_s:.0f}s; directory replication can take longer — run "
                        f"apply again in a few minutes"
                    ),
                ) from None
            raise
        if made is not None:  # the response is the assignment: no second look needed
            self.found = RoleAssignmentState.from_sdk(made)
            self._record(ctx, self.found)

    async def _delete(self, ctx: Context, *assignments: RoleAssignmentState) -> None:
        for a in assignments:
            with denied(self.address, self._denied("delete"), ok={404}):
                await self._client(ctx).role_assignments.delete(a.scope, a.name)
            self._record(ctx, a, gone=True)
            if a is self.found:
                self.found = None
            if a is self.stale:
                self.stale = None

    def _denied(self, verb: str) -> str:
        need = (
            "Reader"
            if verb == "read"
            else "Owner, User Access Administrator or Role Based Access Control Administrator"
        )
        return (
            f"permission denied to {verb} role assignments at {self.role.scope} in tenant "
            f"{self.kit.customer.tenant}: the admin running this needs {need} on that scope"
        )

    def verified(self, ctx: Context) -> str | None:
        return f"{self.address}: assigned" if self.found is not None else None
