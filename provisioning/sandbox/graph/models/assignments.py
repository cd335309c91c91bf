"""App role assignments (application permissions granted to a service principal), admin
consent (what granting a ``.default`` scope does), and the sandbox admins the seeds create."""

from __future__ import annotations

from ..exceptions import GraphError, not_found
from .base import DEFAULT_ACCESS_ROLE, GRAPH_APP_ID, DirectoryModel, Doc, _assignment_id, iso


class AppRoleAssignments(DirectoryModel):
    def assignments(
        self, tid: str, *, principal_id: str | None = None, resource_id: str | None = None
    ) -> list[Doc]:
        return sorted(
            self.store.find(
                self.ARA,
                lambda d: (
                    d["_tenant"] == tid
                    and (principal_id is None or d["principalId"] == principal_id)
                    and (resource_id is None or d["resourceId"] == resource_id)
                ),
            ),
            key=lambda d: d["_created"],
        )

    def app_roles_granted(self, tid: str, client_sp_id: str, resource_sp_id: str) -> list[str]:
        res = self.sp(tid, resource_sp_id)
        if res is None:
            return []
        by_id = {
            r["id"].lower(): r.get("value")
            for r in res.get("appRoles") or []
            if r.get("isEnabled", True)
        }
        out = []
        for a in self.assignments(
            tid, principal_id=client_sp_id.lower(), resource_id=resource_sp_id.lower()
        ):
            v = by_id.get(a["appRoleId"])
            if v and v not in out:
                out.append(v)
        return out

    # ---- app role assignments ------------------------------------------------------------------
    def assign(self, tid: str, *, principal_id: str, resource_id: str, app_role_id: str) -> Doc:
        principal_id, resource_id, app_role_id = (
            (principal_id or "").lower(),
            (resource_id or "").lower(),
            (app_role_id or "").lower(),
        )
        resource = self.sp(tid, resource_id)
        if resource is None:
            raise not_found(resource_id)
        principal = self.sp(tid, principal_id)
        if principal is None:
            raise not_found(principal_id)
        if app_role_id != DEFAULT_ACCESS_ROLE:
            role = next(
                (r for r in resource.get("appRoles") or [] if r["id"].lower() == app_role_id), None
            )
            if (
                role is None
                or not role.get("isEnabled", True)
                or "Application" not in (role.get("allowedMemberTypes") or [])
            ):
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    f"Permission being assigned was not found on application '{resource['appId']}'.",
                )
        for a in self.assignments(tid, principal_id=principal_id, resource_id=resource_id):
            if a["appRoleId"] == app_role_id:
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    "Permission being assigned already exists on the object.",
                )
        now = self.now()
        doc = {
            "id": _assignment_id(principal_id),
            "deletedDateTime": None,
            "appRoleId": app_role_id,
            "createdDateTime": iso(now),
            "principalDisplayName": principal.get("displayName"),
            "principalId": principal_id,
            "principalType": "ServicePrincipal",
            "resourceDisplayName": resource.get("displayName"),
            "resourceId": resource_id,
            "_tenant": tid,
            "_created": now,
        }
        self.store.put(self.ARA, doc["id"], doc)
        return doc

    def assignment(self, tid: str, assignment_id: str) -> Doc | None:
        doc = self.store.get(self.ARA, assignment_id)
        return doc if doc and doc["_tenant"] == tid else None

    def unassign(self, doc: Doc) -> None:
        self.store.delete(self.ARA, doc["id"])

    def _grant_values(
        self, tid: str, client_sp: Doc, resource_sp: Doc, values: list[str] | None
    ) -> None:
        """Assign app roles by value (None = every role the app's requiredResourceAccess asks)."""
        wanted: set[str] = set()
        if values is None:
            app = self.app_by_app_id(client_sp["appId"])
            for rra in (app or {}).get("requiredResourceAccess") or []:
                if rra.get("resourceAppId", "").lower() == resource_sp["appId"]:
                    wanted |= {
                        ra["id"].lower()
                        for ra in rra.get("resourceAccess") or []
                        if ra.get("type") == "Role"
                    }
        else:
            by_value = {r.get("value"): r["id"] for r in resource_sp.get("appRoles") or []}
            wanted = {by_value[v].lower() for v in values if v in by_value}
        have = {
            a["appRoleId"]
            for a in self.assignments(
                tid, principal_id=client_sp["id"], resource_id=resource_sp["id"]
            )
        }
        for role_id in sorted(wanted - have):
            try:
                self.assign(
                    tid,
                    principal_id=client_sp["id"],
                    resource_id=resource_sp["id"],
                    app_role_id=role_id,
                )
            except GraphError:
                continue  # a role the resource does not publish is skipped, as consent does

    def consent(self, tid: str, app_id: str, *, scope: str | None) -> Doc:
        """Admin consent: the app's SP in ``tid`` (created if missing) and its app roles."""
        sp = self.sp_by_app_id(tid, app_id)
        if sp is None:
            source = self.can_instantiate(tid, app_id)
            if "_tenant" not in source:
                sp = self._put_sp(self._first_party_sp(tid, source))
            else:
                sp = self._put_sp(self._sp_from_app(tid, source))
        scopes = (scope or "").split()
        if not scopes:
            app = self.app_by_app_id(app_id)
            for rra in (app or {}).get("requiredResourceAccess") or []:
                res = self.sp_by_app_id(tid, rra.get("resourceAppId", ""))
                if res:
                    self._grant_values(tid, sp, res, None)
            return self.sp(tid, sp["id"]) or sp
        by_resource: dict[str, list[str] | None] = {}
        for s in scopes:
            if s.lower() in ("openid", "profile", "offline_access", "email"):
                continue
            if s.endswith("/.default"):
                res_uri, value = s[: -len("/.default")], None
            elif "/" in s.replace("://", ""):
                res_uri, value = s.rsplit("/", 1)
            else:
                res_uri, value = "https://graph.microsoft.com", s
            res = self.sp_for_resource(tid, res_uri)
            if res is None:
                continue
            if value is None:
                by_resource[res["id"]] = None
            elif by_resource.get(res["id"], []) is not None:
                by_resource.setdefault(res["id"], []).append(value)  # type: ignore[union-attr]
        for res_id, values in by_resource.items():
            res = self.sp(tid, res_id)
            if res:
                self._grant_values(tid, sp, res, values)
        return self.sp(tid, sp["id"]) or sp

    # ---- seeding ---------------------------------------------------------------------------------
    def create_admin(
        self,
        tid: str,
        display_name: str,
        graph_roles: tuple[str, ...] | list[str],
        *,
        multi_tenant: bool = False,
    ) -> dict[str, str]:
        """An app with a client secret and its SP in ``tid``, granted ``graph_roles``.
        ``multi_tenant`` makes it consentable elsewhere (an MSSP's pipeline identity)."""
        self.ensure_first_party(tid)
        graph_sp = self.sp_by_app_id(tid, GRAPH_APP_ID)
        assert graph_sp is not None
        by_value = {r["value"]: r["id"] for r in graph_sp["appRoles"]}
        unknown = [r for r in graph_roles if r not in by_value]
        if unknown:
            raise ValueError(f"unknown Graph app roles: {unknown}")
        app = self.create_app(
            tid,
            {
                "displayName": display_name,
                "signInAudience": "AzureADMultipleOrgs" if multi_tenant else "AzureADMyOrg",
                "notes": "Sandbox-only administrator (client secret).",
                "requiredResourceAccess": [
                    {
                        "resourceAppId": GRAPH_APP_ID,
                        "resourceAccess": [
                            {"id": by_value[r], "type": "Role"} for r in graph_roles
                        ],
                    }
                ],
            },
        )
        secret = self.add_password(app, {"passwordCredential": {"displayName": "sandbox"}})[
            "secretText"
        ]
        app = self.app(app["id"]) or app
        sp = self.create_sp(tid, {"appId": app["appId"]})
        sp["_created"] = self.now() - 86400  # long replicated
        self._put_sp(sp)
        for role in graph_roles:
            self.assign(
                tid, principal_id=sp["id"], resource_id=graph_sp["id"], app_role_id=by_value[role]
            )
        return {
            "client_id": app["appId"],
            "client_secret": secret,
            "principal_id": sp["id"],
            "app_object_id": app["id"],
        }
