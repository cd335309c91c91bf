"""Service principals: the first-party ones every tenant has, those made from an application
(in its home tenant or, for a multi-tenant app, any other), managed identities' (minted by ARM),
and how other services find them (by appId, by resource URI, visible to ARM after the
replication delay)."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from ..exceptions import GraphError, bad_value, read_only
from .base import (
    _DATA,
    ARM_APP_ID,
    EXCHANGE_APP_ID,
    GRAPH_APP_ID,
    MICROSOFT_TENANT,
    MONITOR_APP_ID,
    MULTI_TENANT,
    DirectoryModel,
    Doc,
    _merge,
    _norm_uri,
    _spns,
)


class ServicePrincipals(DirectoryModel):
    def graph_app_roles(self) -> list[dict[str, Any]]:
        if self._graph_roles is None:
            data = json.loads((_DATA / "graph_app_roles.json").read_text())
            self._graph_roles = [
                {
                    "allowedMemberTypes": ["Application"],
                    "description": r["displayName"],
                    "displayName": r["displayName"],
                    "id": r["id"],
                    "isEnabled": True,
                    "origin": "Application",
                    "value": r["value"],
                }
                for r in data
            ]
        return [dict(r) for r in self._graph_roles]

    def sp(self, tid: str, object_id: str) -> Doc | None:
        doc = self.store.get(self.SPS, (object_id or "").lower())
        return doc if doc and doc["_tenant"] == tid else None

    def sp_by_app_id(self, tid: str, app_id: str) -> Doc | None:
        app_id = (app_id or "").lower()
        oid = self._sp_idx.get((tid, app_id))
        if oid:
            doc = self.store.get(self.SPS, oid)
            if doc and doc["_tenant"] == tid and doc["appId"] == app_id:
                return doc
        doc = self.store.first(self.SPS, lambda d: d["_tenant"] == tid and d["appId"] == app_id)
        if doc:
            self._sp_idx[(tid, app_id)] = doc["id"]
        return doc

    def sps(self, tid: str, pred: Callable[[Doc], bool] | None = None) -> list[Doc]:
        return self.store.find(
            self.SPS, lambda d: d["_tenant"] == tid and (pred is None or pred(d))
        )

    def sp_for_resource(self, tid: str, resource: str) -> Doc | None:
        """The resource's service principal, by appId or any servicePrincipalName."""
        if not resource:
            return None
        want = _norm_uri(resource)
        by_id = self.sp_by_app_id(tid, want)
        if by_id:
            return by_id
        if self.world.urls.graph and want == _norm_uri(self.world.urls.graph):
            # the sandbox's own Graph service root names Microsoft Graph, as a national cloud's
            # does: "any permission scope value (including the .default scope) that contains the
            # Microsoft Graph domain MUST use the domain of the Microsoft Graph service root
            # endpoint for the national cloud deployment" (learn.microsoft.com/graph/sdks/
            # national-clouds). az derives Graph's scope from the cloud's Graph endpoint.
            return self.sp_by_app_id(tid, GRAPH_APP_ID)
        return self.store.first(
            self.SPS,
            lambda d: (
                d["_tenant"] == tid
                and any(_norm_uri(n) == want for n in d.get("servicePrincipalNames") or [])
            ),
        )

    def principal_visible_to_arm(self, tid: str, object_id: str) -> bool:
        doc = self.sp(tid, object_id)
        if doc is None:
            return False
        return self.now() >= doc["_created"] + float(self.world.settings.replication_delay_s)

    # ---- first-party service principals -----------------------------------------------------
    def _first_party_specs(self) -> list[dict[str, Any]]:
        return [
            {
                "appId": GRAPH_APP_ID,
                "displayName": "Microsoft Graph",
                "servicePrincipalNames": [
                    GRAPH_APP_ID,
                    "https://graph.microsoft.com",
                    "https://graph.microsoft.com/",
                    "https://canary.graph.microsoft.com",
                    "https://ags.windows.net",
                    "https://dod-graph.microsoft.us",
                ],
                "appRoles": self.graph_app_roles(),
            },
            {
                "appId": ARM_APP_ID,
                "displayName": "Windows Azure Service Management API",
                "servicePrincipalNames": [
                    ARM_APP_ID,
                    "https://management.azure.com/",
                    "https://management.core.windows.net/",
                    "https://management.azure.com",
                    "https://management.core.windows.net",
                ],
                "appRoles": [],
            },
            {
                "appId": MONITOR_APP_ID,
                "displayName": "Azure Monitor Control Service",
                "servicePrincipalNames": [MONITOR_APP_ID, "https://monitor.azure.com/"],
                "appRoles": [],
            },
            {
                "appId": EXCHANGE_APP_ID,
                "displayName": "AzureADTokenExchange",
                "servicePrincipalNames": [EXCHANGE_APP_ID, "api://AzureADTokenExchange"],
                "appRoles": [],
            },
        ]

    def ensure_first_party(self, tid: str) -> None:
        for spec in self._first_party_specs():
            if self.sp_by_app_id(tid, spec["appId"]) is None:
                self._put_sp(self._first_party_sp(tid, spec))

    def _first_party_sp(self, tid: str, spec: dict[str, Any]) -> Doc:
        doc = self.blank("servicePrincipal")
        now = self.now()
        doc.update(
            {
                "id": str(uuid.uuid4()),
                "accountEnabled": True,
                "appDisplayName": spec["displayName"],
                "appId": spec["appId"],
                "appOwnerOrganizationId": MICROSOFT_TENANT,
                "appRoleAssignmentRequired": False,
                "appRoles": spec["appRoles"],
                "displayName": spec["displayName"],
                "servicePrincipalNames": spec["servicePrincipalNames"],
                "servicePrincipalType": "Application",
                "signInAudience": "AzureADMultipleOrgs",
                "info": {
                    "logoUrl": None,
                    "marketingUrl": None,
                    "privacyStatementUrl": None,
                    "supportUrl": None,
                    "termsOfServiceUrl": None,
                },
                "verifiedPublisher": {
                    "displayName": None,
                    "verifiedPublisherId": None,
                    "addedDateTime": None,
                },
                "_tenant": tid,
                "_created": now - 86400 * 365,
                "_updated": now,
                "_owners": [],
            }
        )
        return doc

    # ---- service principals ------------------------------------------------------------------
    def _put_sp(self, doc: Doc) -> Doc:
        self.store.put(self.SPS, doc["id"], doc)
        self._sp_idx[(doc["_tenant"], doc["appId"])] = doc["id"]
        return doc

    def can_instantiate(self, tid: str, app_id: str) -> Doc | dict[str, Any]:
        """The application (or first-party spec) a service principal in ``tid`` may be made from."""
        app = self.app_by_app_id(app_id)
        if app is None:
            spec = next(
                (s for s in self._first_party_specs() if s["appId"] == (app_id or "").lower()), None
            )
            if spec is not None:
                return spec
        if app is None or (app["_tenant"] != tid and app.get("signInAudience") not in MULTI_TENANT):
            raise GraphError(
                400,
                "Request_BadRequest",
                f"The appId '{app_id}' of the service principal does not reference a valid "
                f"application object.",
            )
        return app

    def create_sp(
        self,
        tid: str,
        body: Any,
        *,
        caller: dict[str, Any] | None = None,
        app_id: str | None = None,
    ) -> Doc:
        clean = self._validate_body("servicePrincipal", body, "ServicePrincipal")
        if app_id is not None:
            if clean.get("appId") not in (None,) and clean["appId"].lower() != app_id.lower():
                raise bad_value("appId", "ServicePrincipal")
            clean["appId"] = app_id
        if not clean.get("appId"):
            raise bad_value("appId", "ServicePrincipal")
        for k in (
            "id",
            "appOwnerOrganizationId",
            "servicePrincipalType",
            "appDisplayName",
            "signInAudience",
            "createdByAppId",
            "passwordCredentials",
        ):
            if k in clean and k != "id" and clean[k] not in (None, []):
                raise read_only(k)
            clean.pop(k, None)
        source = self.can_instantiate(tid, clean["appId"])
        if self.sp_by_app_id(tid, clean["appId"]) is not None:
            raise GraphError(
                409,
                "Request_MultipleObjectsWithSameKeyValue",
                f"The service principal cannot be created, updated, or restored because the "
                f"service principal name {clean['appId'].lower()} is already in use.",
            )
        if "_tenant" not in source:  # first-party
            doc = self._first_party_sp(tid, source)
            doc["_created"] = self.now()
        else:
            doc = self._sp_from_app(tid, source)
        clean.pop("appId", None)
        _merge(doc, clean)
        doc["createdByAppId"] = (caller or {}).get("appid")
        if caller and caller.get("app_only") and caller.get("oid"):
            doc["_owners"] = [caller["oid"]]
        return self._put_sp(doc)

    def _sp_from_app(self, tid: str, app: Doc) -> Doc:
        now = self.now()
        doc = self.blank("servicePrincipal")
        web = app.get("web") or {}
        doc.update(
            {
                "id": str(uuid.uuid4()),
                "accountEnabled": True,
                "appDisplayName": app.get("displayName"),
                "appDescription": app.get("description"),
                "appId": app["appId"],
                "appOwnerOrganizationId": app["_tenant"],
                "appRoleAssignmentRequired": False,
                "appRoles": [dict(r) for r in app.get("appRoles") or []],
                "displayName": app.get("displayName"),
                "homepage": web.get("homePageUrl"),
                "info": dict(app.get("info") or {}),
                "logoutUrl": web.get("logoutUrl"),
                "notes": app.get("notes"),
                "oauth2PermissionScopes": [
                    dict(s) for s in (app.get("api") or {}).get("oauth2PermissionScopes") or []
                ],
                "replyUrls": list(web.get("redirectUris") or []),
                "servicePrincipalNames": _spns(app),
                "servicePrincipalType": "Application",
                "signInAudience": app.get("signInAudience"),
                "tags": [],
                "verifiedPublisher": dict(
                    app.get("verifiedPublisher")
                    or {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None}
                ),
                "_tenant": tid,
                "_created": now,
                "_updated": now,
                "_owners": [],
            }
        )
        return doc

    def update_sp(self, sp: Doc, body: Any) -> Doc:
        clean = self._validate_body("servicePrincipal", body, "ServicePrincipal")
        for k in (
            "id",
            "appId",
            "appOwnerOrganizationId",
            "servicePrincipalType",
            "appDisplayName",
            "signInAudience",
            "createdByAppId",
            "passwordCredentials",
        ):
            if k in clean and clean[k] != sp.get(k):
                if k == "passwordCredentials" and not clean[k]:
                    continue
                raise read_only(k)
            clean.pop(k, None)
        if "displayName" in clean and not (clean["displayName"] or "").strip():
            raise bad_value("displayName", "ServicePrincipal")
        _merge(sp, clean)
        sp["_updated"] = self.now()
        return self._put_sp(sp)

    def delete_sp(self, tid: str, object_id: str) -> bool:
        doc = self.sp(tid, object_id)
        if doc is None:
            return False
        for a in self.store.find(
            self.ARA,
            lambda d: d["_tenant"] == tid and doc["id"] in (d["principalId"], d["resourceId"]),
        ):
            self.store.delete(self.ARA, a["id"])
        self.store.delete(self.SPS, doc["id"])
        self._sp_idx.pop((tid, doc["appId"]), None)
        return True

    def create_managed_identity_sp(
        self, tid: str, *, principal_id: str, client_id: str, display_name: str, resource_id: str
    ) -> Doc:
        explicit = "/microsoft.managedidentity/userassignedidentities/" in resource_id.lower()
        existing = self.store.get(self.SPS, principal_id.lower())
        now = self.now()
        doc = existing or self.blank("servicePrincipal")
        doc.update(
            {
                "id": principal_id.lower(),
                "accountEnabled": True,
                "appId": client_id.lower(),
                "alternativeNames": [f"isExplicit={'True' if explicit else 'False'}", resource_id],
                "appDisplayName": None,
                "appOwnerOrganizationId": None,
                "appRoleAssignmentRequired": False,
                "displayName": display_name,
                "servicePrincipalNames": [
                    client_id.lower(),
                    "https://identity.azure.net/"
                    + base64.b64encode(
                        hashlib.sha256(resource_id.lower().encode()).digest()
                    ).decode(),
                ],
                "servicePrincipalType": "ManagedIdentity",
                "signInAudience": "AzureADMyOrg",
                "_tenant": tid,
                "_owners": [],
            }
        )
        doc.setdefault("_created", now)
        doc["_updated"] = now
        return self._put_sp(doc)
