"""The home app's service principal in the customer tenant: what admin consent creates.

Created with ``PATCH servicePrincipals(appId='…')`` + ``Prefer: create-if-missing`` so a
retry after a lost response cannot make a second one.
"""

from __future__ import annotations

from typing import Any

from provisioning.core.engine import Context, Task
from provisioning.core.errors import TaskError, code_of, is_not_found, message_of, status_of
from provisioning.core.graph import (
    deleted_objects,
    deleted_on,
    prefer_create_if_missing,
    sp_by_app_id,
)
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.kit.model import Kit

from . import label


class CustomerSpTask(Task):
    kind = "service principal"

    def __init__(self, kit: Kit, *, remove: bool = False) -> None:
        self.kit = kit
        self.remove = remove
        self.stage = 1 if remove else 0  # created first, removed last
        self.address = f"{label(kit)}.service_principal"
        self.observed: Any = None
        self.deleted: Any = None  # ours, soft-deleted (Entra's deleted items)

    async def observe(self, ctx: Context) -> None:
        self.observed = None
        try:
            self.observed = await sp_by_app_id(ctx.clients.graph, self.kit.app_id).get()
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(self.address, _denied(self.kit)) from None
            if not is_not_found(e):
                raise
        self.deleted = None
        if self.observed is None and not self.remove:
            gone = await deleted_objects(ctx.clients.graph, "servicePrincipal")
            ours = [x for x in gone if (x.app_id or "").lower() == self.kit.app_id.lower()]
            self.deleted = ours[-1] if ours else None
        tenant = self.kit.customer.tenant
        if self.observed is not None:
            ctx.facts.principals[tenant] = self.observed.id
        else:
            ctx.facts.principals.pop(tenant, None)

    def changes(self, ctx: Context) -> list[Change]:
        app = self.kit.home.app
        if self.remove:
            if self.observed is None:
                return [Change(self.address, self.kind, Action.NOOP)]
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.DELETE,
                    [
                        FieldChange("appId", app.app_id, None),
                        FieldChange("displayName", self.observed.display_name, None),
                    ],
                    note="the enterprise app goes; the provider's app can no longer get tokens here",
                    apply=lambda: self._delete(ctx),
                )
            ]
        if self.observed is not None:
            return [Change(self.address, self.kind, Action.NOOP)]
        return [
            Change(
                self.address,
                self.kind,
                Action.CREATE,
                [
                    FieldChange("appId", None, app.app_id),
                    FieldChange("displayName", None, app.display_name),
                    FieldChange("publisher tenant", None, self.kit.home.tenant_id),
                ],
                note=self._create_note(ctx),
                apply=lambda: self._create(ctx),
            )
        ]

    async def _create(self, ctx: Context) -> None:
        from msgraph.generated.models.service_principal import ServicePrincipal

        try:
            await sp_by_app_id(ctx.clients.graph, self.kit.app_id).patch(
                ServicePrincipal(), request_configuration=prefer_create_if_missing()
            )
        except Exception as e:
            status, msg = status_of(e), message_of(e)
            if status == 403:
                raise TaskError(self.address, _denied(self.kit)) from None
            if status in (400, 404) and (
                "tenant" in msg.lower()
                or "multi" in msg.lower()
                or code_of(e) in ("Request_ResourceNotFound",)
            ):
                raise TaskError(
                    self.address,
                    (
                        f"Entra refused to create a service principal for app {self.kit.app_id}: "
                        f"{msg} — the app must exist in the provider's tenant "
                        f"{self.kit.home.tenant_id} and be multi-tenant (signInAudience "
                        f"AzureADMultipleOrgs); ask the provider to fix their app registration"
                    ),
                ) from None
            raise

    def _create_note(self, ctx: Context) -> str:
        """What admin consent does — and, when one of ours waits in deleted items, that this
        makes a second object, and how to restore that one instead."""
        if self.deleted is None:
            return "this is what admin consent creates"
        gone = self.deleted
        return (
            f"a service principal of this app is in the tenant's deleted items (objectId {gone.id}, "
            f"deleted {deleted_on(gone)}; restorable for 30 days): this makes a new one beside "
            "it. To restore that one instead (same object id; role assignments made for it work "
            f"again): az rest --method POST --url {ctx.cloud.graph_v1}/directory/deletedItems/"
            f"{gone.id}/restore — then plan again"
        )

    async def _delete(self, ctx: Context) -> None:
        try:
            await ctx.clients.graph.service_principals.by_service_principal_id(
                self.observed.id
            ).delete()
        except Exception as e:
            if not is_not_found(e):
                raise

    def verified(self, ctx: Context) -> str | None:
        sp = ctx.facts.principals.get(self.kit.customer.tenant)
        return f"{self.address}: objectId {sp}" if sp else f"{self.address}: absent"


def _denied(kit: Kit) -> str:
    return (
        f"permission denied in tenant {kit.customer.tenant}: consenting to an app needs the "
        f"Application.ReadWrite.All Graph permission or the Cloud Application Administrator "
        f"role (or use the kit's admin-consent link as a Global Administrator)"
    )


async def principal_id(ctx: Context, kit: Kit) -> str | None:
    """Our service principal's object id in the customer tenant (looked up once)."""
    tenant = kit.customer.tenant
    if tenant in ctx.facts.principals:
        return ctx.facts.principals[tenant]
    try:
        sp = await sp_by_app_id(ctx.clients.graph, kit.app_id).get()
    except Exception as e:
        if is_not_found(e):
            return None
        if status_of(e) == 403:
            raise TaskError(f"{label(kit)}.service_principal", _denied(kit)) from None
        raise
    ctx.facts.principals[tenant] = sp.id
    return str(sp.id)
