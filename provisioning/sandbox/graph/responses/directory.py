"""The tenant's ``organization`` (``Organization.Read.All`` / ``Organization.ReadWrite.All`` /
``Directory.Read*``, or a directory role allowing ``microsoft.directory/organization/
standard/read``, such as Directory Readers) and ``directoryObjects/getByIds``
(``Directory.Read.All``; the az CLI resolves ``--assignee`` with it)."""

from __future__ import annotations

from ..exceptions import GraphError, bad_value, denied, not_found
from ..models import public
from .base import _EQ, ORG_READ, Call, GraphResponses, Out

ORG_ACTION = "microsoft.directory/organization/standard/read"


class DirectoryResponses(GraphResponses):
    def _need_org_read(self, call: Call) -> None:
        ctx = call.ctx
        if ctx.has(ORG_READ):
            return
        if ctx.oid and ORG_ACTION in self.d.directory_role_actions(ctx.tid, ctx.oid):
            return
        raise denied()

    def list_organization(self, call: Call) -> Out:
        self._need_org_read(call)
        org = self.d.organization(call.ctx.tid)
        return self._collection(
            call, [org], "organization", "organization", "Organization", {"id": _EQ}
        )

    def get_organization(self, call: Call) -> Out:
        self._need_org_read(call)
        org = self.d.organization(call.ctx.tid)
        ref = call.keys["org"].value
        if ref.lower() != org["id"]:
            raise not_found(ref)
        return self._entity(call, org, "organization", "organization")

    def get_by_ids(self, call: Call) -> Out:
        """``POST /directoryObjects/getByIds`` (directoryobject-getbyids): ``ids`` (up to 1000),
        ``types`` (case-insensitive; default every directoryObject type); unknown ids are left
        out. This directory holds applications and service principals only."""
        ctx = call.ctx
        ctx.need("Directory.Read.All", "Directory.ReadWrite.All")
        body = call.json()
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_value("ids", "getByIds")
        if len(ids) > 1000:
            raise GraphError(
                400, "Request_BadRequest", "Too many ids: a request can ask for at most 1000."
            )
        types = body.get("types") or ["directoryObject"]
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise bad_value("types", "getByIds")
        want = {t.lower().removeprefix("microsoft.graph.") for t in types}
        every = "directoryobject" in want
        out = []
        for i in ids:
            sp = self.d.sp(ctx.tid, i) if every or "serviceprincipal" in want else None
            if sp is not None:
                out.append({"@odata.type": "#microsoft.graph.servicePrincipal", **public(sp)})
                continue
            app = self.d.app(i) if every or "application" in want else None
            if app is not None and app["_tenant"] == ctx.tid:
                out.append({"@odata.type": "#microsoft.graph.application", **public(app)})
        return Out(200, {"@odata.context": call.meta("directoryObjects"), "value": out})
