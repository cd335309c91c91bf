"""Applications: creation and PATCH with Entra's rules (read-only properties, unique
``uniqueName`` and ``identifierUris``, redirect URIs, sign-in audiences), password credentials
(only a salted hash of a secret is kept), and the service principals that mirror an app."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import uuid
from collections.abc import Callable
from typing import Any

from ..exceptions import GraphError, bad_value, duplicate, read_only
from .base import (
    SIGN_IN_AUDIENCES,
    DirectoryModel,
    Doc,
    _hash_secret,
    _merge,
    _new_secret,
    _norm_uri,
    _spns,
    iso,
)


class Applications(DirectoryModel):
    def app(self, object_id: str) -> Doc | None:
        return self.store.get(self.APPS, object_id.lower())

    def app_by_app_id(self, app_id: str) -> Doc | None:
        app_id = (app_id or "").lower()
        oid = self._app_idx.get(app_id)
        if oid:
            doc = self.store.get(self.APPS, oid)
            if doc and doc["appId"] == app_id:
                return doc
        doc = self.store.first(self.APPS, lambda d: d["appId"] == app_id)
        if doc:
            self._app_idx[app_id] = doc["id"]
        return doc

    def app_by_unique_name(self, tid: str, name: str) -> Doc | None:
        low = name.lower()
        return self.store.first(
            self.APPS, lambda d: d["_tenant"] == tid and (d.get("uniqueName") or "").lower() == low
        )

    def apps(self, tid: str, pred: Callable[[Doc], bool] | None = None) -> list[Doc]:
        """The tenant's applications (``pred`` sees the stored documents; only matches are copied)."""
        return self.store.find(
            self.APPS, lambda d: d["_tenant"] == tid and (pred is None or pred(d))
        )

    def check_secret(self, app_doc: Doc, secret: str) -> bool:
        if not secret:
            return False
        now = self.now()
        for s in app_doc.get("_secrets") or []:
            if s.get("_end") and now > s["_end"]:
                continue
            if hmac.compare_digest(_hash_secret(secret, s["salt"]), s["hash"]):
                return True
        return False

    # ---- applications ------------------------------------------------------------------------
    _APP_READ_ONLY = (
        "id",
        "appId",
        "createdDateTime",
        "publisherDomain",
        "deletedDateTime",
        "createdByAppId",
        "passwordCredentials",
        "disabledByMicrosoftStatus",
    )

    def _check_app_values(self, tid: str, body: Doc, current: Doc | None) -> None:
        if "displayName" in body and not (
            isinstance(body["displayName"], str) and body["displayName"].strip()
        ):
            raise bad_value("displayName", "Application")
        if "signInAudience" in body and body["signInAudience"] not in SIGN_IN_AUDIENCES:
            raise bad_value("signInAudience", "Application")
        if "uniqueName" in body:
            un = body["uniqueName"]
            if current is not None and current.get("uniqueName"):
                if (un or "").lower() != current["uniqueName"].lower():
                    raise read_only("uniqueName")
            elif un is not None:
                if not un.strip() or len(un) > 120:
                    raise bad_value("uniqueName", "Application")
                other = self.app_by_unique_name(tid, un)
                if other and (current is None or other["id"] != current["id"]):
                    raise duplicate("uniqueName")
                if self.deleted_holding_unique_name(tid, un) is not None:
                    raise duplicate("uniqueName")  # a deleted app keeps it (deleted_items.py)
        for uri in body.get("identifierUris") or []:
            low = _norm_uri(uri)
            if not low:
                raise bad_value("identifierUris", "Application")
            other = self.store.first(
                self.APPS,
                lambda d, low=low: (
                    d["_tenant"] == tid
                    and any(_norm_uri(u) == low for u in d.get("identifierUris") or [])
                ),
            )
            if other and (current is None or other["id"] != current["id"]):
                raise duplicate("identifierUris")
        for key in ("web", "spa", "publicClient"):
            block = body.get(key)
            if isinstance(block, dict):
                for u in block.get("redirectUris") or []:
                    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", u) or len(u) > 256:
                        raise bad_value(key, "Application")
        for rra in body.get("requiredResourceAccess") or []:
            for ra in rra.get("resourceAccess") or []:
                if ra.get("type") not in ("Role", "Scope"):
                    raise bad_value("requiredResourceAccess", "Application")

    def create_app(
        self,
        tid: str,
        body: Any,
        *,
        caller: dict[str, Any] | None = None,
        unique_name: str | None = None,
    ) -> Doc:
        clean = self._validate_body("application", body, "Application")
        for k in self._APP_READ_ONLY:
            if k in clean and k != "id":
                if k == "passwordCredentials" and not clean[k]:
                    continue
                raise read_only(k)
        if unique_name is not None:
            if clean.get("uniqueName") not in (None, unique_name):
                raise bad_value("uniqueName", "Application")
            clean["uniqueName"] = unique_name
        if "displayName" not in clean:
            raise bad_value("displayName", "Application")
        self._check_app_values(tid, clean, None)
        tenant = self._tenant_doc(tid)
        now = self.now()
        doc = self.blank("application")
        doc.update(
            {
                "api": {
                    "acceptMappedClaims": None,
                    "knownClientApplications": [],
                    "oauth2PermissionScopes": [],
                    "preAuthorizedApplications": [],
                    "requestedAccessTokenVersion": None,
                },
                "info": {
                    "logoUrl": None,
                    "marketingUrl": None,
                    "privacyStatementUrl": None,
                    "supportUrl": None,
                    "termsOfServiceUrl": None,
                },
                "parentalControlSettings": {
                    "countriesBlockedForMinors": [],
                    "legalAgeGroupRule": "Allow",
                },
                "publicClient": {"redirectUris": []},
                "spa": {"redirectUris": []},
                "web": {
                    "homePageUrl": None,
                    "logoutUrl": None,
                    "redirectUris": [],
                    "redirectUriSettings": [],
                    "implicitGrantSettings": {
                        "enableAccessTokenIssuance": False,
                        "enableIdTokenIssuance": False,
                    },
                },
                "oauth2RequirePostResponse": False,
                "signInAudience": "AzureADMyOrg",
                # an unverified app's publisher is an object of nulls, not null (az CLI
                # recordings test_service_principal_scenario, test_app_federated_credential)
                "verifiedPublisher": {
                    "displayName": None,
                    "verifiedPublisherId": None,
                    "addedDateTime": None,
                },
            }
        )
        _merge(doc, clean)
        doc.update(
            {
                "id": str(uuid.uuid4()),
                "appId": str(uuid.uuid4()),
                "createdDateTime": iso(now),
                "publisherDomain": tenant["domain"],
                "createdByAppId": (caller or {}).get("appid"),
                "_tenant": tid,
                "_created": now,
                "_updated": now,
                "_secrets": [],
                "_owners": [caller["oid"]]
                if caller and caller.get("app_only") and caller.get("oid")
                else [],
            }
        )
        if doc.get("web"):
            doc["web"]["redirectUriSettings"] = [
                {"uri": u, "index": None} for u in doc["web"].get("redirectUris") or []
            ]
        self.store.put(self.APPS, doc["id"], doc)
        self._app_idx[doc["appId"]] = doc["id"]
        return doc

    def update_app(self, app: Doc, body: Any) -> Doc:
        clean = self._validate_body("application", body, "Application")
        for k in self._APP_READ_ONLY:
            if k in clean and clean[k] != app.get(k):
                if k == "passwordCredentials" and not clean[k]:
                    continue
                raise read_only(k)
            clean.pop(k, None)
        self._check_app_values(app["_tenant"], clean, app)
        _merge(app, clean)
        if "web" in clean and app.get("web"):
            app["web"]["redirectUriSettings"] = [
                {"uri": u, "index": None} for u in app["web"].get("redirectUris") or []
            ]
        app["_updated"] = self.now()
        self.store.put(self.APPS, app["id"], app)
        self._sync_sps(app)
        return app

    def _sync_sps(self, app: Doc) -> None:
        """Service principals mirror their application's published settings."""
        for sp in self.store.find(self.SPS, lambda d: d["appId"] == app["appId"]):
            sp["appDisplayName"] = app.get("displayName")
            sp["appRoles"] = [dict(r) for r in app.get("appRoles") or []]
            sp["oauth2PermissionScopes"] = [
                dict(s) for s in (app.get("api") or {}).get("oauth2PermissionScopes") or []
            ]
            sp["servicePrincipalNames"] = _spns(app)
            sp["signInAudience"] = app.get("signInAudience")
            sp["replyUrls"] = list((app.get("web") or {}).get("redirectUris") or [])
            self.store.put(self.SPS, sp["id"], sp)

    def add_password(self, app: Doc, body: Any) -> Doc:
        cred = (body or {}).get("passwordCredential") if isinstance(body, dict) else None
        cred = cred if isinstance(cred, dict) else {}
        secret = _new_secret()
        now = self.now()
        end = now + 2 * 365 * 86400
        if cred.get("endDateTime"):
            try:
                end = dt.datetime.fromisoformat(
                    cred["endDateTime"].replace("Z", "+00:00")
                ).timestamp()
            except ValueError:
                raise bad_value("endDateTime", "PasswordCredential") from None
        key_id = str(uuid.uuid4())
        out = {
            "customKeyIdentifier": None,
            "displayName": cred.get("displayName"),
            "endDateTime": iso(end),
            "hint": secret[:3],
            "keyId": key_id,
            "secretText": secret,
            "startDateTime": iso(now),
        }
        salt = secrets.token_hex(8)
        app.setdefault("_secrets", []).append(
            {"keyId": key_id, "salt": salt, "hash": _hash_secret(secret, salt), "_end": end}
        )
        app["passwordCredentials"] = [
            *app.get("passwordCredentials", []),
            {**out, "secretText": None},
        ]
        app["_updated"] = now
        self.store.put(self.APPS, app["id"], app)
        return out

    def remove_password(self, app: Doc, key_id: str) -> None:
        before = len(app.get("passwordCredentials") or [])
        app["passwordCredentials"] = [
            c for c in app.get("passwordCredentials") or [] if c.get("keyId") != key_id
        ]
        if len(app["passwordCredentials"]) == before:
            raise GraphError(
                400, "Request_BadRequest", f"No password credential found with keyId '{key_id}'."
            )
        app["_secrets"] = [s for s in app.get("_secrets") or [] if s.get("keyId") != key_id]
        self.store.put(self.APPS, app["id"], app)
