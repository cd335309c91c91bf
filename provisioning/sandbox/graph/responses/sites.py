"""``/sites``, a site's ``permissions`` (``Sites.Selected`` grants) and its ``lists``.

``Sites.Read.All`` / ``Sites.ReadWrite.All`` / ``Sites.Manage.All`` / ``Sites.FullControl.All``
see every site; ``Sites.Selected`` sees only sites that granted the caller's app a
``permission`` (403 ``accessDenied`` on any other); managing a site's permissions needs
``Sites.FullControl.All`` (or a ``fullcontrol`` grant on that site): site-post-permissions,
permissions-selected-overview "What permissions do I need to manage permissions?".
Writing content needs a write permission: ``Sites.ReadWrite.All`` (or higher), or
``Sites.Selected`` with a ``write``, ``owner``, ``manage`` or ``fullcontrol`` role on the site
("write: read and modify the metadata and contents of the resource"; ``read`` reads only).
A site is named by id or by path (``sites/{hostname}:/{server-relative-path}``,
site-getbypath); ``routing.py`` keeps such a path in one segment.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import GraphError
from ..models.sites import WRITE_ROLES
from .base import _EQ, SITES_ALL, Call, Ctx, GraphResponses, Out

SITES_WRITE_ALL = {"Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"}


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
        one = body.get("grantedToV2") or body.get("grantedTo")  # the newer single form
        if not idents and isinstance(one, dict):
            idents = [one]
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

    def update_permission(self, call: Call) -> Out:
        """``PATCH``: only ``roles`` may change (site-update-permission)."""
        site, perm, context = self._permission(call)
        body = call.json()
        if (
            not isinstance(body, dict)
            or set(body) - {"roles"}
            or not isinstance(body.get("roles"), list)
        ):
            raise GraphError(400, "invalidRequest", "Invalid request")
        updated = self.d.update_site_grant(call.ctx.tid, site["id"], perm["id"], body["roles"])
        return Out(200, {"@odata.context": call.meta(context + "/$entity"), **updated})

    def revoke(self, call: Call) -> Out:
        site, perm, _context = self._permission(call)
        self.d.revoke_site(call.ctx.tid, site["id"], perm["id"])
        return Out(204)

    # ---- lists and their items ----------------------------------------------------------------
    def _list(self, call: Call) -> tuple[dict[str, Any], dict[str, Any]]:
        site = self._site(call)
        ref = call.keys["list"].value.lower()
        lst = next(
            (
                x
                for x in site.get("_lists", [])
                if ref in (x["id"].lower(), x["name"].lower(), x["displayName"].lower())
            ),
            None,
        )
        if lst is None:
            raise GraphError(404, "itemNotFound", "The specified list was not found")
        return site, lst

    def list_lists(self, call: Call) -> Out:
        site = self._site(call)
        context = f"sites('{site['id']}')/lists"
        return self._collection(call, site.get("_lists", []), "list", context, "List", {"id": _EQ})

    def get_list(self, call: Call) -> Out:
        site, lst = self._list(call)
        return self._entity(call, lst, "list", f"sites('{site['id']}')/lists")

    def list_items(self, call: Call) -> Out:
        site, lst = self._list(call)
        context = f"sites('{site['id']}')/lists('{lst['id']}')/items"
        return self._collection(call, lst["_items"], "listItem", context, "ListItem", {"id": _EQ})

    def add_item(self, call: Call) -> Out:
        """``POST .../lists/{list}/items`` with ``{"fields": {...}}``: a write."""
        site, lst = self._list(call)
        ctx = call.ctx
        roles = self.d.site_roles(site, ctx.appid or "")
        if not (ctx.has(SITES_WRITE_ALL) or (ctx.has("Sites.Selected") and roles & WRITE_ROLES)):
            raise access_denied()
        body = call.json()
        fields = body.get("fields") if isinstance(body, dict) else None
        if not isinstance(fields, dict):
            raise GraphError(400, "invalidRequest", "Invalid request")
        item = self.d.add_list_item(ctx.tid, site["id"], lst["id"], fields)
        context = f"sites('{site['id']}')/lists('{lst['id']}')/items/$entity"
        return Out(201, {"@odata.context": call.meta(context), **item})
