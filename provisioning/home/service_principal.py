"""The app's service principal in the home tenant (only when asked for: it is needed
only to grant the app home-side roles)."""

from __future__ import annotations

from typing import Any

from provisioning.core.engine import UNKNOWN, Context, Task
from provisioning.core.errors import TaskError, is_not_found, status_of
from provisioning.core.graph import graph_permission_hint, prefer_create_if_missing, sp_by_app_id
from provisioning.core.plan import Action, Change, FieldChange

from ..config import App


class HomeServicePrincipalTask(Task):
    kind = "service principal"
    stage = 1

    def __init__(self, app: App) -> None:
        self.app = app
        self.address = f"home.app[{app.key}].service_principal"
        self.observed: Any = None

    async def observe(self, ctx: Context) -> None:
        self.observed = None
        app = ctx.facts.apps.get(self.app.key)
        if not app:
            return
        try:
            self.observed = await sp_by_app_id(ctx.clients.graph, app["app_id"]).get()
        except Exception as e:
            if not is_not_found(e):
                raise

    def changes(self, ctx: Context) -> list[Change]:
        if self.observed is not None:
            return [Change(self.address, self.kind, Action.NOOP)]
        app_id = ctx.facts.apps.get(self.app.key, {}).get("app_id", UNKNOWN)
        return [
            Change(
                self.address,
                self.kind,
                Action.CREATE,
                [FieldChange("appId", None, app_id)],
                apply=lambda: self._create(ctx),
            )
        ]

    async def _create(self, ctx: Context) -> None:
        from msgraph.generated.models.service_principal import ServicePrincipal

        app_id = ctx.facts.apps[self.app.key]["app_id"]
        try:
            await sp_by_app_id(ctx.clients.graph, app_id).patch(
                ServicePrincipal(), request_configuration=prefer_create_if_missing()
            )
        except Exception as e:
            if status_of(e) == 403:
                raise TaskError(
                    self.address,
                    "cannot create the service principal: "
                    + graph_permission_hint(ctx.cfg.home.tenant_id),
                ) from None
            raise
