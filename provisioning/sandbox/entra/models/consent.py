"""Admin consent: validating the request (tenant, app, redirect URI, scope) and what the
consent page lists. Granting is the directory's (``Directory.consent``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..exceptions import EntraError, missing
from .base import (
    GRAPH_APP_ID,
    MULTI_TENANT_AUDIENCES,
    PERSONAL_AUDIENCES,
    PSEUDO_TENANTS,
    RESERVED_SCOPES,
    EntraModel,
)

if TYPE_CHECKING:
    from ...store import Doc


class Consent(EntraModel):
    def consent_target(
        self,
        tenant_ref: str,
        client_id: str | None,
        redirect_uri: str | None,
        *,
        v2: bool,
        scope: str | None,
    ) -> tuple[Doc, Doc | None]:
        """Validate an admin-consent request. Returns (app, tenant or None for common/organizations).

        Raises ``EntraError`` for what Entra shows as an error page (no redirect)."""
        consumers = tenant_ref.lower() == "consumers"
        # common / organizations: the admin picks the directory on the page
        tenant = None if tenant_ref.lower() in PSEUDO_TENANTS else self.require_tenant(tenant_ref)
        if not client_id:
            raise missing("client_id", where="request")
        app = self.world.directory.app_by_app_id(client_id)
        if consumers and app is not None and app.get("signInAudience") not in PERSONAL_AUDIENCES:
            # a work-or-school-only app has no place in the Microsoft account directory
            raise EntraError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory "
                "'Microsoft Accounts'. This can happen if the application has not been installed "
                "by the administrator of the tenant or consented to by any user in the tenant. "
                "You may have sent your authentication request to the wrong tenant.",
            )
        if app is None or (
            tenant is not None
            and app.get("_tenant") != tenant["id"]
            and app.get("signInAudience") not in MULTI_TENANT_AUDIENCES
        ):
            name = tenant.get("displayName", tenant["id"]) if tenant else tenant_ref
            raise EntraError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the "
                f"directory '{name}'. This can happen if the application has not been "
                "installed by the administrator of the tenant or consented to by any "
                "user in the tenant. You may have sent your authentication request to "
                "the wrong tenant.",
            )
        if not redirect_uri or not self._redirect_registered(app, redirect_uri, exact=v2):
            raise EntraError(
                400,
                "invalid_request",
                50011,
                f"The redirect URI '{redirect_uri or ''}' specified in the request "
                "does not match the redirect URIs configured for the application "
                f"'{client_id}'. Make sure the redirect URI sent in the request "
                "matches one added to your application in the Azure portal. Navigate "
                "to https://aka.ms/redirectUriMismatchError to learn more about how "
                "to fix this.",
            )
        if v2 and not (scope or "").strip():
            raise missing("scope", where="request")
        return app, tenant

    @staticmethod
    def _redirect_registered(app: Doc, uri: str, *, exact: bool) -> bool:
        for r in (app.get("web") or {}).get("redirectUris") or []:
            if uri == r:
                return True
            if not exact and uri.startswith(r.rstrip("/") + "/"):
                return True  # the v1 endpoint allows extra path segments
        return False

    def requested_permissions(
        self, app: Doc, tid: str | None, scope: str | None
    ) -> list[dict[str, str]]:
        """What the consent page lists: resource, permission value, display name, kind."""
        d = self.world.directory
        out: list[dict[str, str]] = []
        scopes = (scope or "").split()
        dynamic = [
            s for s in scopes if not s.endswith("/.default") and s.lower() not in RESERVED_SCOPES
        ]
        if scopes and not dynamic and not any(s.endswith("/.default") for s in scopes):
            return out
        if any(s.endswith("/.default") for s in scopes) or not scopes:
            for rra in app.get("requiredResourceAccess") or []:
                rid = rra.get("resourceAppId")
                rsp = d.sp_by_app_id(tid, rid) if tid else None
                roles = {r["id"]: r for r in (rsp or {}).get("appRoles") or []}
                perms = {p["id"]: p for p in (rsp or {}).get("oauth2PermissionScopes") or []}
                if not roles and rid == GRAPH_APP_ID:
                    roles = {r["id"]: r for r in _graph_roles()}
                rname = (rsp or {}).get("displayName") or (
                    "Microsoft Graph" if rid == GRAPH_APP_ID else rid
                )
                for ra in rra.get("resourceAccess") or []:
                    if ra.get("type") == "Role":
                        r = roles.get(ra.get("id"), {})
                        out.append(
                            {
                                "resource": rname,
                                "value": r.get("value", ra.get("id")),
                                "displayName": r.get("displayName", ""),
                                "kind": "Application",
                            }
                        )
                    else:
                        p = perms.get(ra.get("id"), {})
                        out.append(
                            {
                                "resource": rname,
                                "value": p.get("value", ra.get("id")),
                                "displayName": p.get("adminConsentDisplayName", ""),
                                "kind": "Delegated",
                            }
                        )
        for s in dynamic:
            base, _, value = s.rpartition("/")
            out.append(
                {
                    "resource": base or "Microsoft Graph",
                    "value": value or s,
                    "displayName": "",
                    "kind": "Delegated",
                }
            )
        return out


def _graph_roles() -> list[dict[str, Any]]:
    path = Path(__file__).resolve().parents[2] / "data" / "graph_app_roles.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return []
