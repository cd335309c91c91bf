"""Microsoft.Authorization at any scope (the root, a subscription, a group, a resource): role
definitions (the built-in roles) and role assignments."""

from __future__ import annotations

from starlette.responses import Response

from ...http import Req, empty, json_response
from ..exceptions import ArmError
from ..ids import parse_rid, strip
from .base import ArmResponses, Ctx

ASSIGNMENTS = "Microsoft.Authorization/roleAssignments"


class AuthorizationResponses(ArmResponses):
    def _scope(self, req: Req, ctx: Ctx) -> tuple[str, str]:
        """The route's scope (``/`` for the root) once valid, and its tenant."""
        scope = req.params["scope"] or "/"
        if scope == "/":
            return scope, ctx.tid
        rid = parse_rid(scope)
        if rid is None:
            raise ArmError(
                400,
                "UnsupportedScope" if scope.lower().startswith("/providers/") else "InvalidScope",
                f"The scope '{scope}' is not valid.",
            )
        return scope, self._subscription(req, ctx, rid.sub)["tenantId"]

    def _scope_exists(self, scope: str) -> None:
        rid = parse_rid(scope)
        if rid is None:
            return
        if rid.rg is not None:
            self.arm.require_resource_group(rid.sub, rid.rg)
        if rid.names:
            self.arm.require_resource(rid)

    # ---- role definitions ------------------------------------------------------------------------
    def _definitions_scope(self, req: Req, ctx: Ctx) -> str:
        scope, _tid = self._scope(req, ctx)
        if scope != "/":
            self._authorize(ctx, self._path(req), "Microsoft.Authorization/roleDefinitions/read")
        return scope

    def list_role_definitions(self, req: Req, ctx: Ctx) -> Response:
        scope = self._definitions_scope(req, ctx)
        return self._list(req, self.arm.list_role_definitions(scope, req.q("$filter")))

    def get_role_definition(self, req: Req, ctx: Ctx) -> Response:
        scope = self._definitions_scope(req, ctx)
        name = req.params["name"]
        role = self.arm.role_definition(name)
        if role is None:
            raise ArmError(
                404,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{name}' does not exist.",
            )
        return json_response(self.arm.render_role_definition(role, scope))

    # ---- the caller's own permissions ----------------------------------------------------------------
    def list_permissions(self, req: Req, ctx: Ctx) -> Response:
        """``{scope}/providers/Microsoft.Authorization/permissions`` (Permissions_ListForResource
        / _ListForResourceGroup): "Gets all permissions the caller has" there, one entry per role
        the caller holds at the scope or above, asked by any caller about itself (no role needed).
        The sandbox computes it from the role assignments as ARM lists them, at once: a grant
        not yet enforced (``settings.rbac_propagation_s``) is already in it — its model of the
        gap between an assignment being listed and being honoured."""
        scope, tid = self._scope(req, ctx)
        rid = parse_rid(scope)
        if rid is not None and rid.rg is not None:
            self.arm.require_resource_group(rid.sub, rid.rg)
        return self._list(req, self.arm.permissions_of(tid, ctx.oid, scope))

    # ---- role assignments ------------------------------------------------------------------------
    def _assignments_scope(self, req: Req, ctx: Ctx, verb: str) -> tuple[str, str]:
        scope, tid = self._scope(req, ctx)
        self._authorize(ctx, self._path(req), f"{ASSIGNMENTS}/{verb}")
        self._scope_exists(scope)
        return scope, tid

    def list_role_assignments(self, req: Req, ctx: Ctx) -> Response:
        scope, tid = self._assignments_scope(req, ctx, "read")
        docs = self.arm.list_role_assignments(scope, tid, req.q("$filter"))
        return self._list(req, [strip(d) for d in docs])

    def get_role_assignment(self, req: Req, ctx: Ctx) -> Response:
        scope, _tid = self._assignments_scope(req, ctx, "read")
        name = req.params["name"]
        doc = self.arm.role_assignment(scope, name)
        if doc is None:
            raise ArmError(
                404, "RoleAssignmentNotFound", f"The role assignment '{name}' is not found."
            )
        return json_response(strip(doc))

    def put_role_assignment(self, req: Req, ctx: Ctx) -> Response:
        scope, _tid = self._assignments_scope(req, ctx, "write")
        body = self._body(req)
        props = body.get("properties") if isinstance(body, dict) else None
        doc, created = self.arm.put_role_assignment(
            scope, req.params["name"], props, caller=ctx.oid
        )
        return json_response(strip(doc), 201 if created else 200)

    def delete_role_assignment(self, req: Req, ctx: Ctx) -> Response:
        scope, _tid = self._assignments_scope(req, ctx, "delete")
        doc = self.arm.delete_role_assignment(scope, req.params["name"])
        return json_response(strip(doc)) if doc else empty(204)
