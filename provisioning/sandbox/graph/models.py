"""The directory: applications, service principals, federated identity credentials, app
role assignments, SharePoint sites and organizations, with Microsoft Entra's rules.

State and rules only (moto's *model*); ``responses.py`` parses Graph requests and renders
Graph responses. Other services use the methods listed in ``sandbox/CONTRACT.md``
(``Directory`` section). Every object lives in one tenant (``_tenant``); an application is
also found globally by its ``appId`` (``_tenant`` is then its home tenant).

Stored documents have Microsoft's wire shape plus internal ``_`` fields:
``_tenant``, ``_created`` / ``_updated`` (sandbox clock, epoch seconds), ``_owners`` (object
ids of owning service principals), ``_secrets`` (salted hashes of client secrets),
``_app`` (a FIC's application object id), ``_grants`` (a site's Sites.Selected grants).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import csdl

if TYPE_CHECKING:
    from ..store import Doc
    from ..world import World

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
ARM_APP_ID = "797f4846-ba00-4fd7-ba43-dac1f8f63013"
MONITOR_APP_ID = "e933bd07-d2ee-4f1d-933c-3752b819567b"  # Azure Monitor Control Service
EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936"  # api://AzureADTokenExchange
MICROSOFT_TENANT = (
    "f8cdef31-a31e-4b4a-93e4-5f571e91255a"  # appOwnerOrganizationId of first-party apps
)

SIGN_IN_AUDIENCES = (
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
)
MULTI_TENANT = ("AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount")
MAX_FICS = 20
FIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")
DEFAULT_ACCESS_ROLE = "00000000-0000-0000-0000-000000000000"

_DATA = Path(__file__).resolve().parent.parent / "data"


class GraphError(Exception):
    """A rule was broken; ``responses`` renders it in Graph's error format."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def not_found(ref: str) -> GraphError:
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{ref}' does not exist or one of its queried reference-property "
        f"objects are not present.",
    )


def bad_value(prop: str, resource: str) -> GraphError:
    return GraphError(
        400,
        "Request_BadRequest",
        f"Invalid value specified for property '{prop}' of resource '{resource}'.",
    )


def read_only(prop: str) -> GraphError:
    return GraphError(
        400, "Request_BadRequest", f"Property '{prop}' is read-only and cannot be set."
    )


def duplicate(prop: str) -> GraphError:
    return GraphError(
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        f"Another object with the same value for property {prop} already exists.",
    )


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def public(doc: Doc) -> Doc:
    """The wire view: internal fields stripped."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def _hash_secret(secret: str, salt: str) -> str:
    return hashlib.sha256((salt + secret).encode()).hexdigest()


def _new_secret() -> str:
    """Shaped like an Entra client secret: 3 chars, ``8Q~``, 34 more (40 in all)."""
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~"
    head = "".join(secrets.choice(alphabet[:62]) for _ in range(3))
    return head + "8Q~" + "".join(secrets.choice(alphabet) for _ in range(34))


def _assignment_id(principal_id: str) -> str:
    """appRoleAssignment ids are base64url strings derived from the principal's id."""
    raw = uuid.UUID(principal_id).bytes_le + uuid.uuid4().bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _norm_uri(value: str) -> str:
    return value.strip().rstrip("/").lower()


class Directory:
    APPS = "applications"
    SPS = "servicePrincipals"
    FICS = "federatedIdentityCredentials"
    ARA = "appRoleAssignments"
    SITES = "sites"

    def __init__(self, world: World) -> None:
        self.world = world
        self.store = world.store
        self._app_idx: dict[str, str] = {}  # appId -> object id (verified on use)
        self._sp_idx: dict[tuple[str, str], str] = {}  # (tid, appId) -> object id
        self._graph_roles: list[dict[str, Any]] | None = None

    # ---- helpers ---------------------------------------------------------------------------
    def now(self) -> float:
        return self.world.now()

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

    def _tenant_doc(self, tid: str) -> Doc:
        t = self.world.tenants.get(tid)
        if t is None:
            raise GraphError(400, "Request_BadRequest", f"Tenant '{tid}' not found.")
        return t

    @staticmethod
    def blank(type_name: str) -> Doc:
        """Every declared property of an entity type at Graph's default (streams left out)."""
        spec = csdl.type_of(type_name)
        return {k: csdl.default_of(t) for k, (t, _n) in spec["props"].items() if t != "Edm.Stream"}

    # ---- lookups (contract) ----------------------------------------------------------------
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

    def fics(self, app_object_id: str) -> list[Doc]:
        delay = float(self.world.settings.fic_propagation_s)
        out = self.store.find(self.FICS, lambda d: d["_app"] == app_object_id.lower())
        for d in out:
            d["_effective_at"] = d["_updated"] + delay
        return sorted(out, key=lambda d: d["_created"])

    def fic(self, app_object_id: str, ref: str) -> Doc | None:
        """By id, else by name (case-insensitive, as Graph's alternate key)."""
        doc = self.store.get(self.FICS, ref.lower())
        if doc and doc["_app"] == app_object_id.lower():
            return doc
        low = ref.lower()
        return self.store.first(
            self.FICS, lambda d: d["_app"] == app_object_id.lower() and d["name"].lower() == low
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

    def _validate_body(self, type_name: str, body: Any, resource: str) -> Doc:
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        spec = csdl.type_of(type_name)
        clean: Doc = {}
        for k, v in body.items():
            if k.startswith("@odata.") or "@odata." in k:
                continue
            if k not in spec["props"]:
                raise GraphError(400, "Request_BadRequest", f"Invalid property '{k}'.")
            edm, nullable = spec["props"][k]
            err = csdl.check_value(edm, v, k)
            if err:
                raise GraphError(400, "BadRequest", f"Invalid value for property '{k}': {err}.")
            if v is None and not nullable:
                raise bad_value(k, resource)
            clean[k] = v
        return clean

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

    def delete_app(self, app: Doc) -> None:
        for f in self.store.find(self.FICS, lambda d: d["_app"] == app["id"]):
            self.store.delete(self.FICS, f["id"])
        home_sp = self.sp_by_app_id(app["_tenant"], app["appId"])
        if home_sp:
            self.delete_sp(app["_tenant"], home_sp["id"])
        self.store.delete(self.APPS, app["id"])
        self._app_idx.pop(app["appId"], None)

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

    # ---- federated identity credentials ----------------------------------------------------
    def _check_fic(self, app: Doc, fic: Doc, current: Doc | None) -> None:
        name = fic.get("name")
        if not isinstance(name, str) or not FIC_NAME.match(name):
            raise bad_value("name", "FederatedIdentityCredential")
        for prop in ("issuer", "subject"):
            v = fic.get(prop)
            if not isinstance(v, str) or not v.strip() or len(v) > 600:
                raise bad_value(prop, "FederatedIdentityCredential")
        auds = fic.get("audiences")
        if (
            not isinstance(auds, list)
            or len(auds) != 1
            or not isinstance(auds[0], str)
            or not auds[0].strip()
            or len(auds[0]) > 600
        ):
            raise bad_value("audiences", "FederatedIdentityCredential")
        if fic.get("description") is not None and len(fic["description"]) > 600:
            raise bad_value("description", "FederatedIdentityCredential")
        for other in self.store.find(self.FICS, lambda d: d["_app"] == app["id"]):
            if current is not None and other["id"] == current["id"]:
                continue
            if other["name"].lower() == name.lower():
                raise GraphError(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    f"FederatedIdentityCredential with name {name} already exists.",
                )
            if other["issuer"] == fic["issuer"] and other["subject"] == fic["subject"]:
                raise GraphError(
                    400,
                    "InvalidFederatedIdentityCredentialValue",
                    f"The combination of issuer and subject must be unique for the application. Issuer "
                    f"{fic['issuer']} and Subject: {fic['subject']} already exist. paramName: "
                    f"FederatedIdentityCredential.Subject, paramValue: {fic['subject']}, objectType: "
                    f"Microsoft.Online.DirectoryServices.Application",
                )

    def create_fic(self, app: Doc, body: Any, *, name: str | None = None) -> Doc:
        clean = self._validate_body(
            "federatedIdentityCredential", body, "FederatedIdentityCredential"
        )
        clean.pop("id", None)
        if name is not None:
            if clean.get("name") not in (None, name):
                raise bad_value("name", "FederatedIdentityCredential")
            clean["name"] = name
        fic = {
            "id": str(uuid.uuid4()),
            "name": None,
            "issuer": None,
            "subject": None,
            "description": None,
            "audiences": [],
        }
        fic.update(clean)
        self._check_fic(app, fic, None)
        if len(self.store.find(self.FICS, lambda d: d["_app"] == app["id"])) >= MAX_FICS:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"The application already has the maximum number ({MAX_FICS}) of federated "
                f"identity credentials.",
            )
        now = self.now()
        fic.update({"_app": app["id"], "_tenant": app["_tenant"], "_created": now, "_updated": now})
        self.store.put(self.FICS, fic["id"], fic)
        return fic

    def update_fic(self, app: Doc, fic: Doc, body: Any) -> Doc:
        clean = self._validate_body(
            "federatedIdentityCredential", body, "FederatedIdentityCredential"
        )
        if clean.get("id", fic["id"]) != fic["id"]:
            raise read_only("id")
        clean.pop("id", None)
        if "name" in clean and clean["name"] != fic["name"]:
            raise read_only("name")
        new = {**fic, **clean}
        self._check_fic(app, new, fic)
        new["_updated"] = self.now()
        self.store.put(self.FICS, new["id"], new)
        return new

    def delete_fic(self, fic: Doc) -> None:
        self.store.delete(self.FICS, fic["id"])

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

    def create_site(self, tid: str, name: str) -> Doc:
        tenant = self._tenant_doc(tid)
        host = f"{tenant['name']}.sharepoint.com"
        existing = self.store.first(
            self.SITES, lambda d: d["_tenant"] == tid and d["name"].lower() == name.lower()
        )
        if existing:
            return existing
        now = self.now()
        doc = {
            "id": f"{host},{uuid.uuid4()},{uuid.uuid4()}",
            "createdDateTime": iso(now),
            "description": f"{name} team site",
            "displayName": name,
            "eTag": f'"{uuid.uuid4()},1"',
            "lastModifiedDateTime": iso(now),
            "name": name,
            "webUrl": f"https://{host}/sites/{name}",
            "isPersonalSite": False,
            "siteCollection": {
                "hostname": host,
                "dataLocationCode": None,
                "root": None,
                "archivalDetails": None,
            },
            "_tenant": tid,
            "_created": now,
            "_grants": [],
        }
        self.store.put(self.SITES, doc["id"], doc)
        return doc

    def sites(self, tid: str) -> list[Doc]:
        return sorted(
            self.store.find(self.SITES, lambda d: d["_tenant"] == tid), key=lambda d: d["_created"]
        )

    def site(self, tid: str, site_id: str) -> Doc | None:
        low = site_id.lower()
        return self.store.first(
            self.SITES,
            lambda d: (
                d["_tenant"] == tid
                and (d["id"].lower() == low or d["id"].split(",")[1].lower() == low)
            ),
        )

    def grant_site(
        self, tid: str, site_id: str, *, app_id: str, display_name: str | None, roles: list[str]
    ) -> Doc:
        """A Sites.Selected grant (a site ``permission`` for an application)."""
        site = self.site(tid, site_id)
        if site is None:
            raise GraphError(404, "itemNotFound", "Requested site could not be found")
        bad = [r for r in roles if r not in ("read", "write", "owner", "fullcontrol")]
        if not roles or bad:
            raise GraphError(400, "invalidRequest", "Invalid request")
        app = {"application": {"id": app_id, "displayName": display_name}}
        perm = {
            "id": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode().rstrip("="),
            "roles": list(roles),
            "grantedToIdentitiesV2": [app],
            "grantedToIdentities": [app],
        }
        site["_grants"] = [*site.get("_grants", []), perm]
        self.store.put(self.SITES, site["id"], site)
        return perm

    def revoke_site(self, tid: str, site_id: str, perm_id: str) -> bool:
        site = self.site(tid, site_id)
        if site is None:
            return False
        before = len(site.get("_grants", []))
        site["_grants"] = [p for p in site.get("_grants", []) if p["id"] != perm_id]
        self.store.put(self.SITES, site["id"], site)
        return len(site["_grants"]) != before

    def site_roles(self, site: Doc, app_id: str) -> set[str]:
        out: set[str] = set()
        for p in site.get("_grants", []):
            for ident in p.get("grantedToIdentitiesV2") or []:
                if (ident.get("application") or {}).get("id", "").lower() == (app_id or "").lower():
                    out |= set(p.get("roles") or [])
        return out

    def organization(self, tid: str) -> Doc:
        t = self._tenant_doc(tid)
        doc = self.blank("organization")
        doc.update(
            {
                "id": t["id"],
                "displayName": t["displayName"],
                "tenantType": "AAD",
                "countryLetterCode": "US",
                "preferredLanguage": "en",
                "defaultUsageLocation": None,
                "createdDateTime": "2020-01-01T00:00:00Z",
                "mobileDeviceManagementAuthority": "unknown",
                "onPremisesSyncEnabled": None,
                "verifiedDomains": [
                    {
                        "capabilities": "Email, OfficeCommunicationsOnline",
                        "isDefault": i == 0,
                        "isInitial": d == t["domain"],
                        "name": d,
                        "type": "Managed",
                    }
                    for i, d in enumerate(t["verifiedDomains"])
                ],
            }
        )
        return doc


def _spns(app: Doc) -> list[str]:
    out = [app["appId"]]
    for u in app.get("identifierUris") or []:
        if u not in out:
            out.append(u)
    return out


def _merge(target: Doc, patch: Doc) -> None:
    """PATCH semantics: complex values merge, collections and primitives replace."""
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            _merge(target[k], v)
        else:
            target[k] = v
