"""``roleManagement/directory``: the built-in Microsoft Entra role definitions and role
assignments (``unifiedRoleAssignment``), with Graph's rules.

Definitions come from ``data/entra_roles.json`` (Microsoft's table of built-in roles with
their template ids; a built-in role's definition ``id`` is its ``templateId``). An
assignment names a principal, a role definition (its id or template id: "roleDefinitionId
can be either the service-wide template Id or the directory-specific roleDefinitionId") and
a ``directoryScopeId`` (``/`` or ``/administrativeUnits/{id}``), per
``rbacapplication-post-roleassignments.md`` (microsoft-graph-docs-contrib). Graph's answers:

* an unknown (or not yet replicated) principal or role: ``404 Request_ResourceNotFound``
  "Resource '…' does not exist or one of its queried reference-property objects are not
  present." (microsoftgraph/microsoft-graph-docs#18218);
* the same principal, role and scope again: ``400 Request_BadRequest`` "A conflicting object
  with one or more of the specified property values is present in the directory."
  (dod-ccpo/atat#1554).

Deleting a service principal removes its directory role assignments (they are never listed
for a principal that is gone). The sandbox has no administrative units to look up: a
well-formed ``/administrativeUnits/{guid}`` scope is taken as it is.
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from functools import cache
from typing import TYPE_CHECKING, Any

from ..exceptions import GraphError
from .base import _DATA, DirectoryModel, Doc

_AU = re.compile(r"^/administrativeUnits/[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


@cache
def _builtin() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads((_DATA / "entra_roles.json").read_text(encoding="utf-8")))


def _definition(spec: dict[str, Any]) -> Doc:
    return {
        "id": spec["templateId"],
        "description": spec["description"],
        "displayName": spec["displayName"],
        "isBuiltIn": True,
        "isEnabled": True,
        "resourceScopes": ["/"],
        "templateId": spec["templateId"],
        "version": "1",
        "rolePermissions": [
            {
                "allowedResourceActions": list(spec.get("actions", [])),
                "condition": None,
                "excludedResourceActions": [],
            }
        ],
    }


def not_present(ref: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ref}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


class RoleManagement(DirectoryModel):
    ROLE_ASSIGNMENTS = "unifiedRoleAssignments"

    def role_definitions(self) -> list[Doc]:
        return [_definition(s) for s in _builtin()]

    def role_definition(self, ref: str) -> Doc | None:
        low = (ref or "").lower()
        spec = next((s for s in _builtin() if s["templateId"] == low), None)
        return _definition(spec) if spec else None

    def directory_role_actions(self, tid: str, principal_id: str) -> set[str]:
        """The resource actions the principal's tenant-wide directory roles allow."""
        held = {
            a["roleDefinitionId"]
            for a in self.role_assignments(tid)
            if a["principalId"] == (principal_id or "").lower() and a["directoryScopeId"] == "/"
        }
        return {
            act.lower()
            for s in _builtin()
            if s["templateId"] in held
            for act in s.get("actions", [])
        }

    def role_assignments(self, tid: str) -> list[Doc]:
        return sorted(
            self.store.find(
                self.ROLE_ASSIGNMENTS,
                lambda d: d["_tenant"] == tid and self.sp(tid, d["principalId"]) is not None,
            ),
            key=lambda d: d["_created"],
        )

    def role_assignment(self, tid: str, assignment_id: str) -> Doc | None:
        doc = self.store.get(self.ROLE_ASSIGNMENTS, assignment_id)
        if doc is None or doc["_tenant"] != tid or self.sp(tid, doc["principalId"]) is None:
            return None
        return doc

    def create_role_assignment(self, tid: str, body: Any) -> Doc:
        clean = self._validate_body("unifiedRoleAssignment", body, "unifiedRoleAssignment")
        principal = str(clean.get("principalId") or "").lower()
        role_ref = str(clean.get("roleDefinitionId") or "")
        scope = clean.get("directoryScopeId")
        if not principal or not role_ref:
            missing = "principalId" if not principal else "roleDefinitionId"
            raise GraphError(400, "Request_BadRequest", f"Property '{missing}' is required.")
        if scope is None or clean.get("appScopeId") is not None:
            raise GraphError(
                400,
                "Request_BadRequest",
                "This role supports only directoryScopeId; appScopeId is not supported.",
            )
        if scope != "/" and not _AU.match(scope):
            raise GraphError(
                400,
                "Request_BadRequest",
                "Invalid value specified for property 'directoryScopeId'.",
            )
        if scope != "/":
            scope = "/administrativeUnits/" + scope.rsplit("/", 1)[1].lower()
        definition = self.role_definition(role_ref)
        if definition is None:
            raise not_present(role_ref)
        if not self.principal_visible_to_arm(tid, principal):
            raise not_present(principal)
        for other in self.role_assignments(tid):
            if (
                other["principalId"] == principal
                and other["roleDefinitionId"] == definition["id"]
                and other["directoryScopeId"].lower() == scope.lower()
            ):
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    "A conflicting object with one or more of the specified property values "
                    "is present in the directory.",
                )
        raw = uuid.UUID(definition["id"]).bytes_le + uuid.UUID(principal).bytes_le
        suffix = "1" if scope == "/" else f"1-{uuid.uuid5(uuid.NAMESPACE_URL, scope).hex[:8]}"
        doc = {
            "id": base64.urlsafe_b64encode(raw).decode().rstrip("=") + f"-{suffix}",
            "principalId": principal,
            "roleDefinitionId": definition["id"],
            "directoryScopeId": scope,
            "appScopeId": None,
            "condition": None,
            "principalOrganizationId": tid,
            "_tenant": tid,
            "_created": self.now(),
        }
        self.store.put(self.ROLE_ASSIGNMENTS, doc["id"], doc)
        return doc

    def delete_role_assignment(self, tid: str, assignment_id: str) -> bool:
        if self.role_assignment(tid, assignment_id) is None:
            return False
        return self.store.delete(self.ROLE_ASSIGNMENTS, assignment_id)

    if TYPE_CHECKING:  # what this part uses of the others (``Directory`` is their union)

        def principal_visible_to_arm(self, tid: str, object_id: str) -> bool: ...
