"""``/applications``: the collection, one application (by id, ``appId`` or ``uniqueName``;
``PATCH`` with ``Prefer: create-if-missing`` on ``uniqueName`` upserts), its password
credentials (``addPassword`` / ``removePassword``), federated identity credentials (by id or
``name``, upsert by ``name``) and owners.

Permissions (applications API pages, *Application*): read with ``Application.Read.All`` /
``Application.ReadWrite.All`` / ``Directory.Read.All`` / ``Directory.ReadWrite.All``
(``Application.ReadWrite.OwnedBy``: only the caller's own apps); write with
``Application.ReadWrite.All`` or ``Application.ReadWrite.OwnedBy`` on apps the caller owns (an
app created by an app-only caller is owned by it).
"""

from __future__ import annotations

from typing import Any

from ..exceptions import bad_value, not_counted, not_found
from .base import (
    APP_FILTER,
    APP_READ,
    FIC_FILTER,
    Call,
    Ctx,
    GraphResponses,
    Out,
)

APP_WRITE = ("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")


class ApplicationResponses(GraphResponses):
    def _can_read(self, ctx: Ctx, app: dict[str, Any]) -> bool:
        if ctx.has(APP_READ - {"Application.ReadWrite.OwnedBy"}):
            return True
        return ctx.has("Application.ReadWrite.OwnedBy") and self._owns(ctx, app)

    def _find(self, call: Call) -> tuple[dict[str, Any] | None, str, str]:
        """(app of the caller's tenant or None, key name, key value) of ``{app}``."""
        tid = call.ctx.tid
        name, value = call.keys["app"].one("id", "appid", "uniquename")
        if name == "uniquename":
            return self.d.app_by_unique_name(tid, value), "uniqueName", value
        app = self.d.app(value) if name == "id" else self.d.app_by_app_id(value)
        app = app if app and app["_tenant"] == tid else None
        return app, ("id" if name == "id" else "appId"), value

    def _app(self, call: Call) -> dict[str, Any]:
        """The app a navigation starts from (``/applications/{app}/...``), readable by the caller."""
        app, _name, value = self._find(call)
        if app is None or not self._can_read(call.ctx, app):
            call.ctx.need(APP_READ)
            raise not_found(value)
        return app

    # ---- the collection ----------------------------------------------------------------------
    def list(self, call: Call) -> Out:
        ctx = call.ctx
        ctx.need(APP_READ)
        return self._collection(
            call,
            lambda p: sorted(
                self.d.apps(ctx.tid, lambda a: self._can_read(ctx, a) and p(a)),
                key=lambda a: a["_created"],
            ),
            "application",
            "applications",
            "Application",
            APP_FILTER,
        )

    def create(self, call: Call) -> Out:
        call.ctx.need(*APP_WRITE)
        app = self.d.create_app(call.ctx.tid, call.json(), caller=call.ctx.caller())
        return self._created(call, app, "applications", f"applications/{app['id']}")

    def count(self, call: Call) -> Out:
        call.ctx.need(APP_READ)
        if not call.eventual():
            raise not_counted()
        return Out(
            200,
            text=str(len([a for a in self.d.apps(call.ctx.tid) if self._can_read(call.ctx, a)])),
        )

    # ---- one application -----------------------------------------------------------------------
    def get(self, call: Call) -> Out:
        app, _name, value = self._find(call)
        call.ctx.need(APP_READ)
        if app is None or not self._can_read(call.ctx, app):
            raise not_found(value)
        return self._entity(call, app, "application", "applications")

    def update(self, call: Call) -> Out:
        ctx = call.ctx
        app, name, value = self._find(call)
        ctx.need(*APP_WRITE)
        if app is None:
            if name == "uniqueName" and call.prefer("create-if-missing"):
                created = self.d.create_app(
                    ctx.tid, call.json(), caller=ctx.caller(), unique_name=value
                )
                return self._created(call, created, "applications", f"applications/{created['id']}")
            raise not_found(value)
        self._need_write(ctx, app)
        self.d.update_app(app, call.json())
        return Out(204)

    def delete(self, call: Call) -> Out:
        app, _name, value = self._find(call)
        call.ctx.need(*APP_WRITE)
        if app is None:
            raise not_found(value)
        self._need_write(call.ctx, app)
        self.d.soft_delete_app(app)  # to deleted items for 30 days (models/deleted_items.py)
        return Out(204)

    # ---- password credentials ------------------------------------------------------------------
    def add_password(self, call: Call) -> Out:
        app = self._app(call)
        self._need_write(call.ctx, app)
        cred = self.d.add_password(app, call.json())
        return Out(200, {"@odata.context": call.meta("microsoft.graph.passwordCredential"), **cred})

    def remove_password(self, call: Call) -> Out:
        app = self._app(call)
        self._need_write(call.ctx, app)
        body = call.json() or {}
        key_id = body.get("keyId") if isinstance(body, dict) else None
        if not key_id:
            raise bad_value("keyId", "Application")
        self.d.remove_password(app, key_id)
        return Out(204)

    # ---- federated identity credentials ----------------------------------------------------------
    @staticmethod
    def _fics_context(app: dict[str, Any]) -> str:
        return f"applications('{app['id']}')/federatedIdentityCredentials"

    def list_fics(self, call: Call) -> Out:
        app = self._app(call)
        return self._collection(
            call,
            self.d.fics(app["id"]),
            "federatedIdentityCredential",
            self._fics_context(app),
            "FederatedIdentityCredential",
            FIC_FILTER,
        )

    def _fic_created(self, call: Call, app: dict[str, Any], fic: dict[str, Any]) -> Out:
        location = f"applications/{app['id']}/federatedIdentityCredentials/{fic['id']}"
        return self._created(call, fic, self._fics_context(app), location)

    def create_fic(self, call: Call) -> Out:
        app = self._app(call)
        self._need_write(call.ctx, app)
        return self._fic_created(call, app, self.d.create_fic(app, call.json()))

    def _fic(self, call: Call) -> tuple[dict[str, Any], dict[str, Any] | None, str, bool]:
        """(app, credential or None, its reference, whether by ``name``) of ``{fic}``."""
        app = self._app(call)
        key = call.keys["fic"]
        if key.segment:
            ref, by_name = key.value, False
        else:
            name, ref = key.one("id", "name")
            by_name = name == "name"
        fic = self.d.fic(app["id"], ref)
        if by_name and fic is not None and fic["name"].lower() != ref.lower():
            fic = None
        return app, fic, ref, by_name

    def get_fic(self, call: Call) -> Out:
        app, fic, ref, _by_name = self._fic(call)
        if fic is None:
            raise not_found(ref)
        return self._entity(call, fic, "federatedIdentityCredential", self._fics_context(app))

    def update_fic(self, call: Call) -> Out:
        app, fic, ref, by_name = self._fic(call)
        self._need_write(call.ctx, app)
        if fic is None:
            if by_name and call.prefer("create-if-missing"):
                return self._fic_created(call, app, self.d.create_fic(app, call.json(), name=ref))
            raise not_found(ref)
        self.d.update_fic(app, fic, call.json())
        return Out(204)

    def delete_fic(self, call: Call) -> Out:
        app, fic, ref, _by_name = self._fic(call)
        self._need_write(call.ctx, app)
        if fic is None:
            raise not_found(ref)
        self.d.delete_fic(fic)
        return Out(204)

    # ---- owners ------------------------------------------------------------------------------
    def list_owners(self, call: Call) -> Out:
        return self._list_owners(call, self._app(call))

    def add_owner(self, call: Call) -> Out:
        return self._add_owner(call, self._app(call), self.d.APPS)

    def remove_owner(self, call: Call) -> Out:
        return self._remove_owner(call, self._app(call), self.d.APPS)
