"""App role assignments of a service principal, from either side: ``appRoleAssignedTo`` (the
resource's: who holds its roles) and ``appRoleAssignments`` (the client's: what it holds).

Permissions (API pages, *Application*): read with any of the application read permissions or
``AppRoleAssignment.ReadWrite.All``; write with ``AppRoleAssignment.ReadWrite.All`` *and* one of
``Application.Read.All`` / ``Application.ReadWrite.All`` / ``Directory.Read.All`` /
``Directory.ReadWrite.All`` (the API page lists the pairs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import GraphError, bad_value, denied, not_found
from .base import APP_READ, ARA_FILTER, DIR_READ, Call, Out
from .service_principals import ServicePrincipalResponses

if TYPE_CHECKING:
    from ...world import World


class AppRoleAssignmentResponses(ServicePrincipalResponses):
    def __init__(self, world: World, nav: str) -> None:
        super().__init__(world)
        self.nav = nav  # "appRoleAssignedTo" | "appRoleAssignments"
        self.assigned_to = nav == "appRoleAssignedTo"
        # the side of an assignment this service principal is on
        self.side = "resourceId" if self.assigned_to else "principalId"

    def _context(self, sp: dict[str, Any]) -> str:
        return f"servicePrincipals('{sp['id']}')/{self.nav}"

    def _need_assign(self, call: Call) -> None:
        ctx = call.ctx
        if not (ctx.has("AppRoleAssignment.ReadWrite.All") and ctx.has(DIR_READ)):
            raise denied()

    def list(self, call: Call) -> Out:
        sp = self._sp(call)
        ctx = call.ctx
        ctx.need(APP_READ, "AppRoleAssignment.ReadWrite.All")
        docs = self.d.assignments(
            ctx.tid, **{"resource_id" if self.assigned_to else "principal_id": sp["id"]}
        )
        return self._collection(
            call, docs, "appRoleAssignment", self._context(sp), "AppRoleAssignment", ARA_FILTER
        )

    def create(self, call: Call) -> Out:
        sp = self._sp(call)
        self._need_assign(call)
        body = call.json()
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        clean = self.d._validate_body("appRoleAssignment", body, "AppRoleAssignment")
        for k in ("principalId", "resourceId", "appRoleId"):
            if not clean.get(k):
                if k == self.side:  # this service principal's side may be left out
                    clean[k] = sp["id"]
                    continue
                raise bad_value(k, "AppRoleAssignment")
        if clean[self.side].lower() != sp["id"]:
            raise bad_value(self.side, "AppRoleAssignment")
        doc = self.d.assign(
            call.ctx.tid,
            principal_id=clean["principalId"],
            resource_id=clean["resourceId"],
            app_role_id=clean["appRoleId"],
        )
        location = f"servicePrincipals/{sp['id']}/{self.nav}/{doc['id']}"
        return self._created(call, doc, self._context(sp), location)

    def _assignment(self, call: Call) -> tuple[dict[str, Any], dict[str, Any] | None, str]:
        sp = self._sp(call)
        aid = call.keys["assignment"].value
        doc = self.d.assignment(call.ctx.tid, aid)
        if doc is not None and doc[self.side] != sp["id"]:
            doc = None
        return sp, doc, aid

    def get(self, call: Call) -> Out:
        sp, doc, aid = self._assignment(call)
        call.ctx.need(APP_READ, "AppRoleAssignment.ReadWrite.All")
        if doc is None:
            raise not_found(aid)
        return self._entity(call, doc, "appRoleAssignment", self._context(sp))

    def delete(self, call: Call) -> Out:
        _sp, doc, aid = self._assignment(call)
        self._need_assign(call)
        if doc is None:
            raise not_found(aid)
        self.d.unassign(doc)
        return Out(204)
