"""``/roleManagement/directory/roleDefinitions`` and ``/roleAssignments``.

Permissions, as the v1.0 pages (microsoft-graph-docs-contrib ``api-reference/v1.0/api/``)
give them for the directory provider: reading needs RoleManagement.Read.Directory,
RoleManagement.ReadWrite.Directory, RoleManagement.Read.All or Directory.Read.All
(``rbacapplication-list-roleassignments.md``, ``rbacapplication-list-roledefinitions.md``);
creating and deleting need RoleManagement.ReadWrite.Directory
(``rbacapplication-post-roleassignments.md``, ``unifiedroleassignment-delete.md``). A
caller whose own directory role allows ``microsoft.directory/roleAssignments/standard/read``
(Directory Readers, for one) may read the assignments too.
"""

from __future__ import annotations

from ..exceptions import denied
from ..models.role_management import not_present
from .base import _EQ, Call, GraphResponses, Out

READ = {
    "RoleManagement.Read.Directory",
    "RoleManagement.ReadWrite.Directory",
    "RoleManagement.Read.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
}
WRITE = {"RoleManagement.ReadWrite.Directory"}
ASSIGNMENTS = "roleManagement/directory/roleAssignments"
DEFINITIONS = "roleManagement/directory/roleDefinitions"


class RoleManagementResponses(GraphResponses):
    def _need_read(self, call: Call, action: str) -> None:
        ctx = call.ctx
        if ctx.has(READ):
            return
        if ctx.oid and action in self.d.directory_role_actions(ctx.tid, ctx.oid):
            return
        raise denied()

    def list_definitions(self, call: Call) -> Out:
        self._need_read(call, "microsoft.directory/roledefinitions/standard/read")
        docs = self.d.role_definitions()
        filterable = {"id": _EQ, "templateId": _EQ, "displayName": _EQ, "isBuiltIn": _EQ}
        return self._collection(
            call, docs, "unifiedRoleDefinition", DEFINITIONS, "UnifiedRoleDefinition", filterable
        )

    def get_definition(self, call: Call) -> Out:
        self._need_read(call, "microsoft.directory/roledefinitions/standard/read")
        ref = call.keys["definition"].value
        doc = self.d.role_definition(ref)
        if doc is None:
            raise not_present(ref)
        return self._entity(call, doc, "unifiedRoleDefinition", DEFINITIONS)

    def list_assignments(self, call: Call) -> Out:
        self._need_read(call, "microsoft.directory/roleassignments/standard/read")
        filterable = {
            "id": _EQ,
            "principalId": _EQ,
            "roleDefinitionId": _EQ,
            "directoryScopeId": _EQ,
        }
        return self._collection(
            call,
            self.d.role_assignments(call.ctx.tid),
            "unifiedRoleAssignment",
            ASSIGNMENTS,
            "UnifiedRoleAssignment",
            filterable,
        )

    def get_assignment(self, call: Call) -> Out:
        self._need_read(call, "microsoft.directory/roleassignments/standard/read")
        ref = call.keys["assignment"].value
        doc = self.d.role_assignment(call.ctx.tid, ref)
        if doc is None:
            raise not_present(ref)
        return self._entity(call, doc, "unifiedRoleAssignment", ASSIGNMENTS)

    def create_assignment(self, call: Call) -> Out:
        call.ctx.need(WRITE)
        doc = self.d.create_role_assignment(call.ctx.tid, call.json())
        return self._created(call, doc, ASSIGNMENTS, f"{ASSIGNMENTS}/{doc['id']}")

    def delete_assignment(self, call: Call) -> Out:
        call.ctx.need(WRITE)
        ref = call.keys["assignment"].value
        if not self.d.delete_role_assignment(call.ctx.tid, ref):
            raise not_present(ref)
        return Out(204)
