"""The home app's service principal in the customer tenant: what admin consent creates.

Created with ``PATCH servicePrincipals(appId='…')`` + ``Prefer: create-if-missing`` so a
retry after a lost response cannot make a second one.
"""

from __future__ import annotations

from kiota_abstractions.api_error import APIError

from provisioning.core.engine import Context, Task, presence
from provisioning.core.errors import TaskError, code_of, denied, message_of, status_of
from provisioning.core.graph import prefer_create_if_missing, send_json, sp_by_app_id
from provisioning.core.plan import Change, FieldChange
from provisioning.kit.model import Kit
from provisioning.state.customer import consent_denied, read_principal
from provisioning.state.home import DeletedObject, ServicePrincipalState, read_deleted

from . import label


class CustomerSpTask(Task):
    kind = "service principal"

    def __init__(self, kit: Kit, *, remove: bool = False) -> None:
        self.kit = kit
        self.remove = remove
        self.stage = 1 if remove else 0  # created first, removed last
        self.address = f"{label(kit)}.service_principal"
        self.observed: ServicePrincipalState | None = None
        self.deleted: DeletedObject | None = None  # ours, soft-deleted (Entra's deleted items)

    async def observe(self, ctx: Context) -> None:
        found = await read_principal(ctx.clients, self.kit)
        self.deleted = None
        if found is None and not self.remove:
            gone = await read_deleted(ctx.clients, "servicePrincipal", self.kit.customer.tenant)
            ours = [x for x in gone if x.app_id.lower() == self.kit.app_id.lower()]
            self.deleted = ours[-1] if ours else None
        self._record(ctx, found)

    def _record(self, ctx: Context, sp: ServicePrincipalState | None) -> None:
        self.observed = sp
        ctx.seen.record_principal(sp)

    def changes(self, ctx: Context) -> list[Change]:
        app = self.kit.home.app
        if self.remove:
            shown = [FieldChange("appId", app.app_id, None)]
            if self.observed is not None:
                shown.append(FieldChange("displayName", self.observed.display_name, None))
            return [
                presence(
                    self.address,
                    self.kind,
                    present=self.observed is not None,
                    wanted=False,
                    fields=shown,
                    note="the enterprise app goes; the provider's app can no longer get tokens here",
                    delete=lambda: self._delete(ctx),
                )
            ]
        return [
            presence(
                self.address,
                self.kind,
                present=self.observed is not None,
                fields=[
                    FieldChange("appId", None, app.app_id),
                    FieldChange("displayName", None, app.display_name),
                    FieldChange("publisher tenant", None, self.kit.home.tenant_id),
                ],
                note=self._create_note(ctx),
                create=lambda: self._create(ctx),
            )
        ]

    async def _create(self, ctx: Context) -> None:
        from msgraph.generated.models.service_principal import ServicePrincipal

        graph = ctx.clients.graph
        request = sp_by_app_id(graph, self.kit.app_id).to_patch_request_information(
            ServicePrincipal(), request_configuration=prefer_create_if_missing()
        )
        try:
            with denied(self.address, consent_denied(self.kit)):
                made = await send_json(graph, request)  # 201 with the principal, or 204
        except APIError as e:
            status, msg = status_of(e), message_of(e)
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
        if made:
            self._record(ctx, ServicePrincipalState.from_graph(made))

    def _create_note(self, ctx: Context) -> str:
        """What admin consent does — and, when one of ours waits in deleted items, that this
        makes a second object, and how to restore that one instead."""
        if self.deleted is None:
            return "this is what admin consent creates"
        gone = self.deleted
        return (
            f"a service principal of this app is in the tenant's deleted items (objectId {gone.id}, "
            f"deleted {gone.deleted_on}; restorable for 30 days): this makes a new one beside "
            "it. To restore that one instead (same object id; role assignments made for it work "
            f"again): az rest --method POST --url {ctx.cloud.graph_v1}/directory/deletedItems/"
            f"{gone.id}/restore — then plan again"
        )

    async def _delete(self, ctx: Context) -> None:
        assert self.observed is not None
        with denied(self.address, consent_denied(self.kit), ok={404}):
            await ctx.clients.graph.service_principals.by_service_principal_id(
                self.observed.id
            ).delete()
        self._record(ctx, None)

    def verified(self, ctx: Context) -> str | None:
        sp = self.observed
        return f"{self.address}: objectId {sp.id}" if sp else f"{self.address}: absent"


async def principal_id(ctx: Context, kit: Kit) -> str | None:
    """Our service principal's object id in the customer tenant: what the run observed,
    else read once however many tasks ask."""
    seen = ctx.seen
    if not seen.principal_known:

        async def read() -> None:
            seen.record_principal(await read_principal(ctx.clients, kit))

        await seen.once("principal", read)
    return seen.principal.id if seen.principal else None
