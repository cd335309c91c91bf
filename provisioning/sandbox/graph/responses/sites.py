"""``/sites`` and a site's ``permissions`` (``Sites.Selected`` grants).

``Sites.Read.All`` / ``Sites.ReadWrite.All`` / ``Sites.Manage.All`` / ``Sites.FullControl.All``
see every site; ``Sites.Selected`` sees only sites that granted the caller's app a
``permission``; managing a site's permissions needs ``Sites.FullControl.All`` (or a
``fullcontrol`` grant on that site).
"""

from __future__ import annotations

from typing import Any

from ..exceptions import GraphError
from .base import _EQ, SITES_ALL, Call, Ctx, GraphResponses, Out


def access_denied() -> GraphError:
    return GraphError(403, "accessDenied", "Access denied")


class SiteResponses(GraphResponses):
    def _visible(self, ctx: Ctx, site: dict[str, Any]) -> bool:
        if ctx.has(SITES_ALL):
            return True
        return ctx.has("Sites.Selected") and bool(self.d.site_roles(site, ctx.appid or ""))

    @staticmethod
    def _need_sites(ctx: Ctx) -> None:
        if not ctx.has(SITES_ALL, "Sites.Selected"):
            raise access_denied()

    def _site(self, call: Call) -> dict[str, Any]:
        self._need_sites(call.ctx)
        site = self.d.site(call.ctx.tid, call.keys["site"].value)
        if site is None:
            raise GraphError(404, "itemNotFound", "Requested site could not be found")
        if not self._visible(call.ctx, site):
            raise access_denied()
        return site

    def list(self, call: Call) -> Out:
        ctx = call.ctx
        self._need_sites(ctx)
        docs = [s for s in self.d.sites(ctx.tid) if self._visible(ctx, s)]
        term = call.q("search")
        if term is not None and term.strip() not in ("", "*"):
            low = term.strip().strip('"').lower()
            fields = ("name", "displayName", "description", "webUrl")
            docs = [s for s in docs if any(low in (s.get(k) or "").lower() for k in fields)]
        return self._collection(call, docs, "site", "sites", "Site", {"id": _EQ})

    def get(self, call: Call) -> Out:
        return self._entity(call, self._site(call), "site", "sites")

    # ---- permissions ---------------------------------------------------------------------------
    def _managed(self, call: Call) -> tuple[dict[str, Any], str]:
        """The site whose permissions the caller may manage, and their OData context."""
        site = self._site(call)
        ctx = call.ctx
        roles = self.d.site_roles(site, ctx.appid or "")
        if not (ctx.has("Sites.FullControl.All") or "fullcontrol" in roles):
            raise access_denied()
        return site, f"sites('{site['id']}')/permissions"

    def list_permissions(self, call: Call) -> Out:
        site, context = self._managed(call)
        grants = site.get("_grants", [])
        return self._collection(call, grants, "permission", context, "Permission", {"id": _EQ})

    def grant(self, call: Call) -> Out:
        site, context = self._managed(call)
        body = call.json()
        if not isinstance(body, dict):
            raise GraphError(400, "invalidRequest", "Invalid request")
        idents = body.get("grantedToIdentities") or body.get("grantedToIdentitiesV2") or []
        app = (
            (idents[0] or {}).get("application") if idents and isinstance(idents[0], dict) else None
        )
        if not isinstance(app, dict) or not app.get("id"):
            raise GraphError(400, "invalidRequest", "Invalid request")
        perm = self.d.grant_site(
            call.ctx.tid,
            site["id"],
            app_id=app["id"],
            display_name=app.get("displayName"),
            roles=body.get("roles") or [],
        )
        return Out(201, {"@odata.context": call.meta(context + "/$entity"), **perm})

    def _permission(self, call: Call) -> tuple[dict[str, Any], dict[str, Any], str]:
        site, context = self._managed(call)
        pid = call.keys["perm"].value
        perm = next((p for p in site.get("_grants", []) if p["id"] == pid), None)
        if perm is None:
            raise GraphError(404, "itemNotFound", "Item not found")
        return site, perm, context

    def get_permission(self, call: Call) -> Out:
        _site, perm, context = self._permission(call)
        return Out(200, {"@odata.context": call.meta(context + "/$entity"), **perm})

    def revoke(self, call: Call) -> Out:
        site, perm, _context = self._permission(call)
        self.d.revoke_site(call.ctx.tid, site["id"], perm["id"])
        return Out(204)
