"""Azure RBAC role assignments for our service principal, exactly as the kit lists them.

Names are deterministic (uuid5 of scope, role and app id), ``principalType`` is always
given (so ARM does not need to resolve a just-created principal), an existing assignment
under another name counts as present, and ``PrincipalNotFound`` while the new service
principal replicates is waited out with bounded backoff.
"""

from __future__ import annotations

import logging
from typing import Any

from provisioning.core import armid
from provisioning.core.engine import UNKNOWN, Context, Task
from provisioning.core.errors import TaskError, code_of, is_not_found, status_of
from provisioning.core.plan import Action, Change, FieldChange

from .service_principal import principal_id
from .spec import CustomerSpec, RoleGrant

log = logging.getLogger("xtenant")
NO_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def role_definition_id(grant: RoleGrant) -> str:
    sub = grant.subscription_id
    prefix = f"/subscriptions/{sub}" if sub else ""
    return f"{prefix}/providers/Microsoft.Authorization/roleDefinitions/{grant.role_id}"


def _guid_of(role_definition: str) -> str:
    return role_definition.rstrip("/").rsplit("/", 1)[-1].lower()


def _short_scope(scope: str) -> str:
    rid = armid.parse(scope)
    return rid.name or rid.resource_group or rid.subscription_id or scope


class RoleAssignmentTask(Task):
    kind = "role assignment"

    def __init__(self, spec: CustomerSpec, grant: RoleGrant, *, remove: bool = False) -> None:
        self.spec = spec
        self.grant = grant
        self.remove = remove
        self.stage = 0 if remove else 1
        self.address = f"{spec.label}.role[{grant.role} @ {_short_scope(grant.scope)}]"
        self.found: Any = None  # the assignment, under our name or another
        self.sp: str | None = None

    def _client(self, ctx: Context) -> Any:
        return ctx.clients.authorization(self.grant.subscription_id or NO_SUBSCRIPTION)

    async def observe(self, ctx: Context) -> None:
        self.found = None
        self.sp = await principal_id(ctx, self.spec)
        if self.sp is None:
            return
        ops = self._client(ctx).role_assignments
        try:
            self.found = await ops.get(self.grant.scope, self.grant.assignment_name)
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(self.address, self._denied("read")) from None
            if not is_not_found(e):
                raise
        if self.found is not None and self.found.principal_id == self.sp:
            return
        self.found = None
        # the same grant may exist under another name (made by hand, by az, by Bicep)
        async for a in ops.list_for_scope(self.grant.scope, filter=f"principalId eq '{self.sp}'"):
            if (a.scope or "").lower() == self.grant.scope.lower() and _guid_of(
                a.role_definition_id
            ) == self.grant.role_id.lower():
                self.found = a
                return

    def changes(self, ctx: Context) -> list[Change]:
        fields = [
            FieldChange("role", None, f"{self.grant.role} ({self.grant.role_id})"),
            FieldChange("scope", None, self.grant.scope),
            FieldChange("principal", None, self.sp or UNKNOWN),
        ]
        if self.remove:
            if self.found is None:
                return [Change(self.address, self.kind, Action.NOOP)]
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.DELETE,
                    [FieldChange(f.field, f.after, None) for f in fields],
                    apply=lambda: self._delete(ctx),
                )
            ]
        if self.found is not None:
            return [Change(self.address, self.kind, Action.NOOP)]
        return [
            Change(
                self.address,
                self.kind,
                Action.CREATE,
                fields,
                note=self.grant.why,
                apply=lambda: self._create(ctx),
            )
        ]

    async def _create(self, ctx: Context) -> None:
        from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

        sp = await principal_id(ctx, self.spec)
        if sp is None:
            raise TaskError(
                self.address, "the service principal does not exist yet (consent first)"
            )
        body = RoleAssignmentCreateParameters(
            role_definition_id=role_definition_id(self.grant),
            principal_id=sp,
            principal_type="ServicePrincipal",
        )

        def replicating(e: BaseException) -> bool:
            if code_of(e) == "PrincipalNotFound":
                ctx.progress(self.address, f"waiting for principal {sp} to replicate to ARM")
                log.info("%s: PrincipalNotFound; waiting for replication", self.address)
                return True
            return False

        try:
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(replicating),
                reraise=True,
                stop=stop_after_delay(ctx.replication_wait_s),
                wait=wait_exponential(multiplier=0.5, max=15),
            ):
                with attempt:
                    await self._client(ctx).role_assignments.create(
                        self.grant.scope, self.grant.assignment_name, body
                    )
        except Exception as e:
            code = code_of(e)
            if code == "RoleAssignmentExists":
                return  # present under another name: that is what we wanted
            if code == "PrincipalNotFound":
                raise TaskError(
                    self.address,
                    (
                        f"ARM still does not see service principal {sp} after "
                        f"{ctx.replication_wait_s:.0f}s; directory replication can take longer — run "
                        f"apply again in a few minutes"
                    ),
                ) from None
            if status_of(e) == 403:
                raise TaskError(self.address, self._denied("write")) from None
            raise

    async def _delete(self, ctx: Context) -> None:
        try:
            await self._client(ctx).role_assignments.delete(self.found.scope, self.found.name)
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(self.address, self._denied("delete")) from None
            if not is_not_found(e):
                raise

    def _denied(self, verb: str) -> str:
        need = (
            "Reader"
            if verb == "read"
            else "Owner, User Access Administrator or Role Based Access Control Administrator"
        )
        return (
            f"permission denied to {verb} role assignments at {self.grant.scope} in tenant "
            f"{self.spec.tenant}: the admin running this needs {need} on that scope"
        )

    def verified(self, ctx: Context) -> str | None:
        return f"{self.address}: assigned" if self.found is not None else None
