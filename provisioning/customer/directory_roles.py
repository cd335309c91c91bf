"""Microsoft Entra roles for our service principal, exactly as the kit lists them: one
``unifiedRoleAssignment`` per (role, directory scope).

Graph v1.0, microsoft-graph-docs-contrib ``api-reference/v1.0/api/``:
``rbacapplication-list-roleassignments.md`` (observe, ``$filter=principalId eq '…'``),
``rbacapplication-post-roleassignments.md`` (create: ``roleDefinitionId`` = the built-in
role's template id, ``directoryScopeId`` ``/`` or ``/administrativeUnits/{id}``; permission
RoleManagement.ReadWrite.Directory), ``unifiedroleassignment-delete.md`` (remove).

A create whose response was lost is found by the next observation; a create that races one
answers ``400 Request_BadRequest`` "A conflicting object … is present in the directory"
(as Graph does, dod-ccpo/atat#1554), which counts as present. A just-created service
principal that Entra's role service does not see yet answers ``404
Request_ResourceNotFound``: waited out with bounded backoff, like ARM's PrincipalNotFound.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from provisioning.core.engine import UNKNOWN, Context, Task
from provisioning.core.errors import TaskError, code_of, is_not_found, message_of, status_of
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.kit.model import Kit, KitDirectoryRole

from . import label, privilege
from .service_principal import principal_id

log = logging.getLogger("xtenant")
CONFLICT = "conflicting object"


class DirectoryRoleTask(Task):
    kind = "directory role"

    def __init__(self, kit: Kit, role: KitDirectoryRole, *, remove: bool = False) -> None:
        self.kit = kit
        self.role = role
        self.remove = remove
        self.stage = 0 if remove else 1
        scope = "tenant" if role.scope == "/" else role.scope.rsplit("/", 1)[-1]
        self.address = f"{label(kit)}.directory_role[{role.role} @ {scope}]"
        self.sp: str | None = None
        self.found: list[str] = []  # assignment ids of this role at this scope for our SP

    def _assignments(self, ctx: Context) -> Any:
        return ctx.clients.graph.role_management.directory.role_assignments

    async def observe(self, ctx: Context) -> None:
        from kiota_abstractions.base_request_configuration import RequestConfiguration

        self.found = []
        self.sp = await principal_id(ctx, self.kit)
        if self.sp is None:
            return
        builder = self._assignments(ctx)
        config: Any = RequestConfiguration(
            query_parameters=builder.RoleAssignmentsRequestBuilderGetQueryParameters(
                filter=f"principalId eq '{self.sp}'"
            )
        )
        try:
            page = await builder.get(request_configuration=config)
            while True:
                for a in (page.value or []) if page else []:
                    if self._is_ours(a):
                        self.found.append(str(a.id))
                nxt = page.odata_next_link if page else None
                if not nxt:
                    break
                page = await builder.with_url(nxt).get()
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(self.address, _denied(self.kit, "read")) from None
            raise

    def _is_ours(self, a: Any) -> bool:
        return (
            str(a.principal_id or "").lower() == str(self.sp).lower()
            and str(a.role_definition_id or "").lower() == self.role.template_id
            and str(a.directory_scope_id or "").lower() == self.role.scope.lower()
        )

    @property
    def _privileged(self) -> str | None:
        if not privilege.directory_role_is_privileged(self.role.template_id):
            return None
        where = "the whole tenant" if self.role.scope == "/" else self.role.scope
        return privilege.warning(
            f"{self.role.role} is a privileged Microsoft Entra role, over {where}",
            self.role.allow_privileged,
        )

    def changes(self, ctx: Context) -> list[Change]:
        fields = [
            FieldChange("role", None, f"{self.role.role} ({self.role.template_id})"),
            FieldChange("scope", None, self.role.scope),
            FieldChange("principal", None, self.sp or UNKNOWN),
        ]
        if self.remove:
            if not self.found:
                return [Change(self.address, self.kind, Action.NOOP)]
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.DELETE,
                    [FieldChange(f.field, f.after, None) for f in fields],
                    apply=partial(self._delete, ctx, list(self.found)),
                )
            ]
        if self.found:
            return [Change(self.address, self.kind, Action.NOOP)]
        return [
            Change(
                self.address,
                self.kind,
                Action.CREATE,
                fields,
                note=self.role.why,
                apply=partial(self._create, ctx),
                privileged=self._privileged,
            )
        ]

    async def _create(self, ctx: Context) -> None:
        from msgraph.generated.models.unified_role_assignment import UnifiedRoleAssignment
        from tenacity import AsyncRetrying, retry_if_exception, stop_after_delay, wait_exponential

        sp = await principal_id(ctx, self.kit)
        if sp is None:
            raise TaskError(
                self.address, "the service principal does not exist yet (consent first)"
            )
        body = UnifiedRoleAssignment(
            principal_id=sp,
            role_definition_id=self.role.template_id,
            directory_scope_id=self.role.scope,
        )

        def replicating(e: BaseException) -> bool:
            if is_not_found(e) and code_of(e) == "Request_ResourceNotFound":
                ctx.progress(self.address, f"waiting for principal {sp} to replicate")
                log.info("%s: principal not found yet; waiting for replication", self.address)
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
                    await self._assignments(ctx).post(body)
        except Exception as e:
            if status_of(e) == 400 and CONFLICT in message_of(e).lower():
                return  # made by an attempt whose response was lost, or by another admin
            if status_of(e) == 403:
                raise TaskError(self.address, _denied(self.kit, "assign")) from None
            if is_not_found(e):
                raise TaskError(
                    self.address,
                    f"Microsoft Entra still does not see service principal {sp} after "
                    f"{ctx.replication_wait_s:.0f}s; run apply again in a few minutes",
                ) from None
            raise

    async def _delete(self, ctx: Context, ids: list[str]) -> None:
        for aid in ids:
            try:
                await self._assignments(ctx).by_unified_role_assignment_id(aid).delete()
            except Exception as e:
                if status_of(e) == 403:
                    raise TaskError(self.address, _denied(self.kit, "remove")) from None
                if not is_not_found(e):
                    raise

    def verified(self, ctx: Context) -> str | None:
        return f"{self.address}: assigned" if self.found else None


def _denied(kit: Kit, verb: str) -> str:
    need = (
        "RoleManagement.Read.Directory"
        if verb == "read"
        else "RoleManagement.ReadWrite.Directory (a Privileged Role Administrator or Global "
        "Administrator signed in, or an application holding it)"
    )
    return (
        f"permission denied to {verb} Microsoft Entra role assignments in tenant "
        f"{kit.customer.tenant}: this needs Microsoft Graph {need}"
    )
