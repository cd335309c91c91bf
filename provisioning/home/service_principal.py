"""The app's service principal in the home tenant (only when asked for: it is needed
only to grant the app home-side roles)."""

from __future__ import annotations

from provisioning.core.engine import UNKNOWN, Context, Task, presence
from provisioning.core.errors import denied
from provisioning.core.graph import (
    graph_permission_hint,
    prefer_create_if_missing,
    send_json,
    sp_by_app_id,
)
from provisioning.core.plan import Change, FieldChange
from provisioning.state.home import ServicePrincipalState, app_address, read_service_principal

from ..config import App


class HomeServicePrincipalTask(Task):
    kind = "service principal"
    stage = 1

    def __init__(self, app: App) -> None:
        self.app = app
        self.address = f"{app_address(app.key)}.service_principal"
        self.observed: ServicePrincipalState | None = None

    async def observe(self, ctx: Context) -> None:
        self.observed = None
        app = ctx.seen.apps.get(self.app.key)
        if app is not None:
            self._record(ctx, await read_service_principal(ctx.clients, app.app_id))

    def _record(self, ctx: Context, sp: ServicePrincipalState | None) -> None:
        self.observed = sp
        if sp is not None:
            ctx.seen.home_sps[self.app.key] = sp

    def changes(self, ctx: Context) -> list[Change]:
        app = ctx.seen.apps.get(self.app.key)
        return [
            presence(
                self.address,
                self.kind,
                present=self.observed is not None,
                fields=[FieldChange("appId", None, app.app_id if app else UNKNOWN)],
                create=lambda: self._create(ctx),
            )
        ]

    async def _create(self, ctx: Context) -> None:
        from msgraph.generated.models.service_principal import ServicePrincipal

        app_id = ctx.seen.apps[self.app.key].app_id
        hint = "cannot create the service principal: " + graph_permission_hint(
            ctx.cfg.home.tenant_id
        )
        with denied(self.address, hint):
            request = sp_by_app_id(ctx.clients.graph, app_id).to_patch_request_information(
                ServicePrincipal(), request_configuration=prefer_create_if_missing()
            )
            made = await send_json(ctx.clients.graph, request)
        if made:
            self._record(ctx, ServicePrincipalState.from_graph(made))
