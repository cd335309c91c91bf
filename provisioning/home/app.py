"""The multi-tenant app registration (msgraph-sdk).

Created and updated through its ``uniqueName`` alternate key with ``PATCH`` +
``Prefer: create-if-missing``: a retried request after a lost response updates the app
it created instead of creating a second one (what a bare ``POST`` would do).
"""

from __future__ import annotations

from typing import Any

from provisioning.core.catalog import GRAPH_APP_ID
from provisioning.core.engine import Context, Task
from provisioning.core.errors import TaskError, denied
from provisioning.core.graph import (
    app_by_unique_name,
    graph_permission_hint,
    prefer_create_if_missing,
    restore_deleted,
    send_json,
)
from provisioning.core.plan import Action, Change, FieldChange
from provisioning.state.home import AppState, DeletedObject, app_address, read_app, read_deleted

from ..config import App

MULTI_TENANT = "AzureADMultipleOrgs"
MANAGED_TAG = "xtenant:managed"


def desired_state(app: App) -> dict[str, Any]:
    """The app's declared properties, in Graph's vocabulary (compared and sent as is)."""
    roles = sorted(r.id for r in app.graph_roles)
    rra = (
        [
            {
                "resourceAppId": GRAPH_APP_ID,
                "resourceAccess": [{"id": r, "type": "Role"} for r in roles],
            }
        ]
        if roles
        else []
    )
    return {
        "displayName": app.display_name,
        "signInAudience": MULTI_TENANT,
        "web.redirectUris": sorted(app.redirect_uris),
        "requiredResourceAccess": rra,
        "tags": [MANAGED_TAG],
    }


def observed_state(a: AppState) -> dict[str, Any]:
    """The app as read, in the vocabulary of ``desired_state``."""
    return {
        "displayName": a.display_name,
        "signInAudience": a.sign_in_audience,
        "web.redirectUris": sorted(a.redirect_uris),
        "requiredResourceAccess": [
            {
                "resourceAppId": r.resource_app_id,
                "resourceAccess": [{"id": i, "type": t} for i, t in r.access],
            }
            for r in a.required_resource_access
        ],
        "tags": list(a.tags),
    }


def _body(app: App, desired: dict[str, Any], existing_tags: list[str], *, unique_name: bool) -> Any:
    from msgraph.generated.models.application import Application
    from msgraph.generated.models.required_resource_access import RequiredResourceAccess
    from msgraph.generated.models.resource_access import ResourceAccess
    from msgraph.generated.models.web_application import WebApplication

    body = Application(
        display_name=desired["displayName"],
        sign_in_audience=desired["signInAudience"],
        web=WebApplication(redirect_uris=desired["web.redirectUris"]),
        required_resource_access=[
            RequiredResourceAccess(
                resource_app_id=r["resourceAppId"],
                resource_access=[
                    ResourceAccess(id=x["id"], type=x["type"]) for x in r["resourceAccess"]
                ],
            )
            for r in desired["requiredResourceAccess"]
        ],
        tags=sorted({*existing_tags, *desired["tags"]}),
    )
    if app.description:
        body.description = app.description
    if unique_name:
        body.unique_name = app.unique_name
    return body


class AppTask(Task):
    kind = "app registration"
    stage = 0

    def __init__(self, app: App) -> None:
        self.app = app
        self.address = app_address(app.key)
        self.observed: AppState | None = None
        self.deleted: DeletedObject | None = None  # the app, soft-deleted (deleted items)

    async def observe(self, ctx: Context) -> None:
        found = await read_app(ctx.clients, self.app, ctx.cfg.home.tenant_id)
        if found is not None and self.app.adopt_app_id and found.app_id == self.app.adopt_app_id:
            if found.unique_name and found.unique_name != self.app.unique_name:
                raise TaskError(
                    self.address,
                    (
                        f"adopt_app_id {self.app.adopt_app_id} already has uniqueName "
                        f"{found.unique_name!r} (it cannot change); set unique_name to that"
                    ),
                )
        self.deleted = None
        if found is None and not self.app.adopt_app_id:
            # a deleted app keeps its uniqueName for 30 days: creating another is refused, and
            # restoring it keeps its appId, which every customer's consent and kit name
            gone = await read_deleted(ctx.clients, "application", ctx.cfg.home.tenant_id)
            self.deleted = next((a for a in gone if a.unique_name == self.app.unique_name), None)
        self._record(ctx, found)

    def _record(self, ctx: Context, found: AppState | None) -> None:
        self.observed = found
        ctx.seen.record(ctx.seen.apps, self.app.key, self.address, found)

    def changes(self, ctx: Context) -> list[Change]:
        desired = desired_state(self.app)
        if self.observed is None and self.deleted is not None:
            gone = self.deleted
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.RESTORE,
                    [
                        FieldChange("uniqueName", None, self.app.unique_name),
                        FieldChange("appId", None, gone.app_id),
                        FieldChange("deletedDateTime", gone.deleted_on, None),
                    ],
                    note=(
                        f"found in Entra's deleted items (deleted {gone.deleted_on}, restorable "
                        "for 30 days): restored with its appId, which customers' consents and "
                        "kits name; its service principal is restored separately. For a new app "
                        "instead (a new appId: every kit must be sent again), delete it for good "
                        f"first: DELETE {ctx.cloud.graph_v1}/directory/deletedItems/{gone.id}"
                    ),
                    apply=lambda: self._restore(ctx),
                )
            ]
        if self.observed is None:
            return [
                Change(
                    self.address,
                    self.kind,
                    Action.CREATE,
                    [
                        FieldChange("uniqueName", None, self.app.unique_name),
                        *(FieldChange(k, None, v) for k, v in desired.items()),
                    ],
                    apply=lambda: self._upsert(ctx, desired, []),
                )
            ]
        have = observed_state(self.observed)
        fields = [
            FieldChange(k, have.get(k), v)
            for k, v in desired.items()
            if k != "tags" and have.get(k) != v
        ]
        if MANAGED_TAG not in have["tags"]:
            fields.append(FieldChange("tags", have["tags"], sorted({*have["tags"], MANAGED_TAG})))
        adopting = not self.observed.unique_name
        if adopting:
            fields.insert(0, FieldChange("uniqueName", None, self.app.unique_name))
        if not fields:
            return [Change(self.address, self.kind, Action.NOOP)]
        return [
            Change(
                self.address,
                self.kind,
                Action.UPDATE,
                fields,
                note="adopting an existing app (adopt_app_id)" if adopting else None,
                apply=lambda: self._upsert(ctx, desired, have["tags"]),
            )
        ]

    async def _restore(self, ctx: Context) -> None:
        assert self.deleted is not None
        await restore_deleted(ctx.clients.graph, self.deleted.id)
        self.observed = None  # restored: the next look reads it, then it is brought in line
        await self._upsert(ctx, desired_state(self.app), list(self.deleted.tags))

    async def _upsert(self, ctx: Context, desired: dict[str, Any], tags: list[str]) -> None:
        graph = ctx.clients.graph
        hint = "cannot write the app registration: " + graph_permission_hint(ctx.cfg.home.tenant_id)
        with denied(self.address, hint):
            if self.observed is not None and not self.observed.unique_name:
                await graph.applications.by_application_id(self.observed.object_id).patch(
                    _body(self.app, desired, tags, unique_name=True)
                )
                return  # 204: the next look reads it
            request = app_by_unique_name(graph, self.app.unique_name).to_patch_request_information(
                _body(self.app, desired, tags, unique_name=False),
                request_configuration=prefer_create_if_missing(),
            )
            made = await send_json(graph, request)  # 201 with the app, or 204 (updated)
        if made:
            self._record(ctx, AppState.from_graph(made))

    def verified(self, ctx: Context) -> str | None:
        f = self.observed
        return f"{self.address}: appId {f.app_id} (objectId {f.object_id})" if f else None
