"""Microsoft.Authorization: role assignments (the RoleAssignments_Create rules, principal
resolution against the directory with its replication delay), built-in role definitions, and
the permission check every ARM call and the Logs Ingestion API make (``rbac.py``)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from .. import rbac
from ..exceptions import ArmError
from ..ids import (
    ROLE_ASSIGNMENTS_PROVIDER,
    ROLE_DEFINITIONS_PROVIDER,
    Doc,
    is_guid,
    iso,
    parse_rid,
    strip,
)
from .base import RAS, ArmModel


class Authorization(ArmModel):
    def role_definition(self, guid: str) -> dict[str, Any] | None:
        return rbac.role_by_id(guid)

    def has_permission(
        self, tid: str, principal_id: str, scope: str, action: str, *, data: bool = False
    ) -> bool:
        pid = (principal_id or "").lower()
        if not pid:
            return False
        for ra in self._assignments_of(tid, pid):
            if not self._enforced(ra, data=data):
                continue
            if not rbac.scope_covers(ra["properties"]["scope"], scope):
                continue
            role = rbac.role_by_id(rbac.role_guid_of(ra["properties"]["roleDefinitionId"]))
            if role and rbac.role_allows(role, action, data=data):
                return True
        return False

    def permissions_of(self, tid: str, principal_id: str, scope: str) -> list[Doc]:
        """The permissions of each role the principal holds at ``scope`` or above, as listed
        (propagated or not)."""
        out = []
        for ra in self._assignments_of(tid, (principal_id or "").lower()):
            if not rbac.scope_covers(ra["properties"]["scope"], scope):
                continue
            role = rbac.role_by_id(rbac.role_guid_of(ra["properties"]["roleDefinitionId"]))
            if role is not None:
                out.append(
                    {
                        "actions": list(role.get("actions", [])),
                        "notActions": list(role.get("notActions", [])),
                        "dataActions": list(role.get("dataActions", [])),
                        "notDataActions": list(role.get("notDataActions", [])),
                    }
                )
        return out

    def has_any_assignment(self, tid: str, principal_id: str, scope: str) -> bool:
        """Whether the principal has any role at, above or below ``scope`` (subscription listing)."""
        pid = principal_id.lower()
        for ra in self._assignments_of(tid, pid):
            if not self._enforced(ra):
                continue
            s = ra["properties"]["scope"]
            if rbac.scope_covers(s, scope) or rbac.scope_covers(scope, s):
                return True
        return False

    def _enforced(self, ra: Doc, *, data: bool = False) -> bool:
        """Whether a role assignment is honoured yet. Azure lists a new assignment at once but
        enforces it only once it has propagated: "Azure RBAC ... changes can take up to 10
        minutes" (learn.microsoft.com/azure/role-based-access-control/troubleshooting, "Role
        assignment changes are not being detected"), and for Azure Monitor's data plane "up to
        30 minutes" (learn.microsoft.com/azure/azure-monitor/logs/tutorial-logs-ingestion-portal,
        "Assign permissions to the DCR"). ``settings.rbac_propagation_s`` and
        ``rbac_data_propagation_s`` stand for those delays; seeded assignments are settled."""
        if ra.get("_settled"):
            return True
        settings = self.world.settings
        delay = settings.rbac_propagation_s
        if data and settings.rbac_data_propagation_s is not None:
            delay = settings.rbac_data_propagation_s
        return self._now() >= float(ra.get("_created", 0)) + float(delay or 0)

    def _assignments_of(self, tid: str, pid: str) -> list[Doc]:
        return self.store.find(
            RAS, lambda d: d["_tenant"] == tid and d["properties"]["principalId"].lower() == pid
        )

    # ---- role assignments ------------------------------------------------------------------------
    def role_definition_id_for(self, scope: str, guid: str) -> str:
        rid = parse_rid(scope) if scope not in ("", "/") else None
        if rid is not None:
            return f"/subscriptions/{rid.sub}/providers/{ROLE_DEFINITIONS_PROVIDER}/{guid}"
        return f"/providers/{ROLE_DEFINITIONS_PROVIDER}/{guid}"

    def assign_role(
        self, scope: str, role_definition_guid: str, principal_id: str, principal_type: str
    ) -> Doc:
        """Seed helper: an assignment without the API's checks (deterministic name)."""
        name = str(
            uuid.uuid5(
                uuid.NAMESPACE_URL,
                f"{scope.lower()}|{role_definition_guid.lower()}|{principal_id.lower()}",
            )
        )
        props = {
            "roleDefinitionId": self.role_definition_id_for(scope, role_definition_guid),
            "principalId": principal_id,
            "principalType": principal_type,
        }
        doc, _ = self.put_role_assignment(
            scope, name, props, caller=None, check_principal=False, settled=True
        )
        return strip(doc)

    def _tenant_of_scope(self, scope: str) -> str | None:
        rid = parse_rid(scope)
        return self.tenant_of_subscription(rid.sub) if rid else None

    def role_assignment(self, scope: str, name: str) -> Doc | None:
        return self.store.get(RAS, _ra_key(scope, name))

    def put_role_assignment(
        self,
        scope: str,
        name: str,
        props: Any,
        *,
        caller: str | None,
        check_principal: bool = True,
        settled: bool = False,
    ) -> tuple[Doc, bool]:
        """The RoleAssignments_Create rules. Returns (doc, created). ``settled``: enforced at
        once whatever the propagation delay (seeds)."""
        if not is_guid(name):
            raise ArmError(
                400,
                "InvalidRoleAssignmentId",
                f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
            )
        if not isinstance(props, dict):
            raise ArmError(
                400, "InvalidRequestFormat", "The 'properties' of the request body are missing."
            )
        principal = props.get("principalId")
        role_def_id = props.get("roleDefinitionId")
        if not principal or not isinstance(principal, str) or not is_guid(principal):
            raise ArmError(
                400,
                "InvalidPrincipalId",
                "A valid principal ID must be provided for role assignment.",
            )
        if not role_def_id or not isinstance(role_def_id, str):
            raise ArmError(
                400, "InvalidRoleDefinitionId", "The role definition ID '' is not valid."
            )
        guid = rbac.role_guid_of(role_def_id)
        if rbac.role_by_id(guid) is None:
            raise ArmError(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{guid}' does not exist.",
            )
        tid = self._tenant_of_scope(scope)
        if tid is None:
            raise ArmError(
                400, "InvalidScope", f"The scope '{scope}' is not valid for role assignments."
            )
        scope_norm = "/" + scope.strip("/")
        ptype = props.get("principalType")
        existing = self.role_assignment(scope_norm, name)

        def same_props(d: Doc) -> bool:
            return (
                d["properties"]["principalId"].lower() == principal.lower()
                and rbac.role_guid_of(d["properties"]["roleDefinitionId"]) == guid
            )

        if existing is not None:
            if not same_props(existing):
                raise ArmError(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                )
            return existing, False
        for other in self._assignments_of(tid, principal.lower()):
            if other["properties"]["scope"].lower() == scope_norm.lower() and same_props(other):
                raise ArmError(409, "RoleAssignmentExists", "The role assignment already exists.")
        # principal resolution, as ARM does it against the directory (replication delay included)
        directory = self.world.directory
        if check_principal:
            visible = directory.principal_visible_to_arm(tid, principal)
            if not visible and not ptype:
                raise ArmError(
                    400,
                    "PrincipalNotFound",
                    f"Principal {principal.replace('-', '')} does not exist in the directory {tid}. "
                    "Check that you have the correct principal ID. If you are creating this principal "
                    "and then immediately assigning a role, this error might be related to a "
                    "replication delay. In this case, set the role assignment principalType property "
                    "to a value, such as ServicePrincipal, User, or Group.  "
                    "See https://aka.ms/docs-principaltype",
                )
            if visible:
                actual = "ServicePrincipal" if directory.sp(tid, principal) is not None else None
                if ptype and actual and ptype.lower() != actual.lower():
                    raise ArmError(
                        400,
                        "UnmatchedPrincipalType",
                        f"The PrincipalId '{principal.replace('-', '')}' has type '{actual}' , which is "
                        f"different from specified PrincipalType '{ptype}'.",
                    )
                ptype = ptype or actual or "User"
        now = iso(self._now())
        doc = {
            "properties": {
                "roleDefinitionId": self.role_definition_id_for(scope_norm, guid),
                "principalId": principal,
                "principalType": ptype or "User",
                "scope": scope_norm,
                "condition": props.get("condition"),
                "conditionVersion": props.get("conditionVersion"),
                "createdOn": now,
                "updatedOn": now,
                "createdBy": caller,
                "updatedBy": caller,
                "delegatedManagedIdentityResourceId": props.get(
                    "delegatedManagedIdentityResourceId"
                ),
                "description": props.get("description"),
            },
            "id": f"{scope_norm.rstrip('/')}/providers/{ROLE_ASSIGNMENTS_PROVIDER}/{name}",
            "type": ROLE_ASSIGNMENTS_PROVIDER,
            "name": name,
            "_tenant": tid,
            "_created": self._now(),
        }
        if settled:
            doc["_settled"] = True
        self.store.put(RAS, _ra_key(scope_norm, name), doc)
        return doc, True

    def delete_role_assignment(self, scope: str, name: str) -> Doc | None:
        doc = self.role_assignment(scope, name)
        if doc is not None:
            self.store.delete(RAS, _ra_key(scope, name))
        return doc

    def _delete_assignments_below(self, scope: str) -> None:
        for key, ra in list(self.store.items(RAS)):
            if rbac.scope_covers(scope, ra["properties"]["scope"]):
                self.store.delete(RAS, key)

    def list_role_assignments(self, scope: str, tid: str, filter_: str | None = None) -> list[Doc]:
        """At, above and below ``scope``; ``atScope()`` keeps at/above; ``principalId eq`` and
        ``assignedTo()`` keep one principal."""
        f = _parse_ra_filter(filter_)
        out = []
        for ra in self.store.find(RAS, lambda d: d["_tenant"] == tid):
            s = ra["properties"]["scope"]
            above = rbac.scope_covers(s, scope)
            below = rbac.scope_covers(scope, s)
            if not (above or (below and not f["at_scope"])):
                continue
            if f["principal"] and ra["properties"]["principalId"].lower() != f["principal"]:
                continue
            out.append(ra)
        out.sort(key=lambda d: d["_created"])
        return out

    # ---- role definitions ------------------------------------------------------------------------
    def render_role_definition(self, role: dict[str, Any], scope: str) -> Doc:
        return {
            "properties": {
                "roleName": role["roleName"],
                "type": "BuiltInRole",
                "description": role.get("description", ""),
                "assignableScopes": ["/"],
                "permissions": [
                    {
                        "actions": list(role.get("actions", [])),
                        "notActions": list(role.get("notActions", [])),
                        "dataActions": list(role.get("dataActions", [])),
                        "notDataActions": list(role.get("notDataActions", [])),
                    }
                ],
                "createdOn": "2015-02-02T21:55:09.8806423Z",
                "updatedOn": "2024-01-01T00:00:00.0000000Z",
                "createdBy": None,
                "updatedBy": None,
            },
            "id": self.role_definition_id_for(scope, role["id"]),
            "type": ROLE_DEFINITIONS_PROVIDER,
            "name": role["id"],
        }

    def list_role_definitions(self, scope: str, filter_: str | None) -> list[Doc]:
        name, type_ = _parse_rd_filter(filter_)
        out = []
        for role in rbac.builtin_roles():
            if name is not None and role["roleName"].lower() != name.lower():
                continue
            if type_ is not None and type_.lower() != "builtinrole":
                continue
            out.append(self.render_role_definition(role, scope))
        return out


def _ra_key(scope: str, name: str) -> str:
    return f"{('/' + scope.strip('/')).rstrip('/')}|{name}".lower()


def _parse_ra_filter(f: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"at_scope": False, "principal": None}
    if not f:
        return out
    if re.search(r"atScope\(\)", f, re.IGNORECASE):
        out["at_scope"] = True
    m = re.search(r"principalId\s+eq\s+'([^']+)'", f, re.IGNORECASE) or re.search(
        r"assignedTo\('([^']+)'\)", f, re.IGNORECASE
    )
    if m:
        out["principal"] = m.group(1).lower()
    return out


def _parse_rd_filter(f: str | None) -> tuple[str | None, str | None]:
    if not f:
        return None, None
    name = re.search(r"roleName\s+eq\s+'((?:[^']|'')*)'", f, re.IGNORECASE)
    type_ = re.search(r"type\s+eq\s+'([^']+)'", f, re.IGNORECASE)
    return (name.group(1).replace("''", "'") if name else None), (type_.group(1) if type_ else None)
