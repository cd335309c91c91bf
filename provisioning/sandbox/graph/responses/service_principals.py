"""``/servicePrincipals``: the collection, one service principal (by id or ``appId``;
``PATCH`` with ``Prefer: create-if-missing`` on ``appId`` upserts) and its owners.

Permissions (servicePrincipal API pages, *Application*): read as applications are read; create
with ``Application.ReadWrite.All``, or ``Application.ReadWrite.OwnedBy`` for an app of the
local tenant the caller owns; write with ``Application.ReadWrite.All`` or
``Application.ReadWrite.OwnedBy`` on a service principal the caller owns.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import GraphError, bad_value, denied, not_counted, not_found
from .base import APP_READ, SP_FILTER, Call, Ctx, GraphResponses, Out

APP_WRITE = ("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")


class ServicePrincipalResponses(GraphResponses):
    def _find(self, call: Call) -> tuple[dict[str, Any] | None, str, str]:
        """(service principal or None, key name, key value) of ``{sp}``."""
        name, value = call.keys["sp"].one("id", "appid")
        if name == "appid":
            return self.d.sp_by_app_id(call.ctx.tid, value), "appId", value
        return self.d.sp(call.ctx.tid, value), "id", value

    def _sp(self, call: Call) -> dict[str, Any]:
        """The service principal a navigation starts from (``/servicePrincipals/{sp}/...``)."""
        sp, _name, value = self._find(call)
        if sp is None:
            call.ctx.need(APP_READ, "AppRoleAssignment.ReadWrite.All")
            raise not_found(value)
        return sp

    def _need_create(self, ctx: Ctx, app_id: str) -> None:
        if ctx.has("Application.ReadWrite.All"):
            return
        if not ctx.has("Application.ReadWrite.OwnedBy"):
            raise denied()
        app = self.d.app_by_app_id(app_id)
        if app is None or app["_tenant"] != ctx.tid:
            raise GraphError(
                403,
                "Authorization_RequestDenied",
                "When using this permission, the backing application of the service principal "
                "being created must in the local tenant",
            )
        if not self._owns(ctx, app):
            raise denied()

    # ---- the collection ----------------------------------------------------------------------
    def list(self, call: Call) -> Out:
        ctx = call.ctx
        ctx.need(APP_READ)
        return self._collection(
            call,
            lambda p: sorted(self.d.sps(ctx.tid, p), key=lambda d: d["_created"]),
            "servicePrincipal",
            "servicePrincipals",
            "ServicePrincipal",
            SP_FILTER,
        )

    def create(self, call: Call) -> Out:
        ctx = call.ctx
        ctx.need(*APP_WRITE)
        body = call.json()
        app_id = body.get("appId") if isinstance(body, dict) else None
        if not isinstance(app_id, str) or not app_id:
            raise bad_value("appId", "ServicePrincipal")
        self._need_create(ctx, app_id)
        sp = self.d.create_sp(ctx.tid, body, caller=ctx.caller())
        return self._created(call, sp, "servicePrincipals", f"servicePrincipals/{sp['id']}")

    def count(self, call: Call) -> Out:
        call.ctx.need(APP_READ)
        if not call.eventual():
            raise not_counted()
        return Out(200, text=str(len(self.d.sps(call.ctx.tid))))

    # ---- one service principal -----------------------------------------------------------------
    def get(self, call: Call) -> Out:
        sp, _name, value = self._find(call)
        call.ctx.need(APP_READ)
        if sp is None:
            raise not_found(value)
        return self._entity(call, sp, "servicePrincipal", "servicePrincipals")

    def update(self, call: Call) -> Out:
        ctx = call.ctx
        sp, name, value = self._find(call)
        ctx.need(*APP_WRITE)
        if sp is None:
            if name == "appId" and call.prefer("create-if-missing"):
                self._need_create(ctx, value)
                created = self.d.create_sp(
                    ctx.tid, call.json() or {}, caller=ctx.caller(), app_id=value
                )
                return self._created(
                    call, created, "servicePrincipals", f"servicePrincipals/{created['id']}"
                )
            raise not_found(value)
        self._need_write(ctx, sp)
        self.d.update_sp(sp, call.json())
        return Out(204)

    def delete(self, call: Call) -> Out:
        ctx = call.ctx
        sp, _name, value = self._find(call)
        ctx.need(*APP_WRITE)
        if sp is None:
            raise not_found(value)
        self._need_write(ctx, sp)
        self.d.soft_delete_sp(ctx.tid, sp["id"])  # to deleted items (models/deleted_items.py)
        return Out(204)

    # ---- owners ------------------------------------------------------------------------------
    def _owned(self, call: Call) -> dict[str, Any]:
        sp = self._sp(call)
        call.ctx.need(APP_READ)
        return sp

    def list_owners(self, call: Call) -> Out:
        return self._list_owners(call, self._owned(call))

    def add_owner(self, call: Call) -> Out:
        return self._add_owner(call, self._owned(call), self.d.SPS)

    def remove_owner(self, call: Call) -> Out:
        return self._remove_owner(call, self._owned(call), self.d.SPS)
