"""Entra's HTTP surface: token endpoints (v2 and v1), OIDC discovery, JWKS, instance
discovery, and the admin-consent pages (``urls.py`` maps paths to them). The rules live in
``models/``; refusals are ``EntraError``s, rendered as the token endpoint renders them, except
on the consent pages, which show Entra's sign-in error page."""

from __future__ import annotations

import base64
import datetime as dt
import html
import uuid
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..http import Req, json_response
from .exceptions import EntraError
from .models import MULTI_TENANT_AUDIENCES, PSEUDO_TENANTS

if TYPE_CHECKING:
    from ..world import World

_NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
_CONSENT = Template((Path(__file__).parent / "consent.html").read_text())

_ERROR_PAGE = Template("""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title>
<style>body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;background:#f2f2f2;margin:0}
main{background:#fff;max-width:440px;margin:48px auto;padding:44px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
h1{font-size:24px;font-weight:600}.details{font-size:13px;color:#444;word-wrap:break-word}</style>
</head><body><main>
<h1>Sign in</h1>
<p id="error-title">Sorry, but we're having trouble signing you in.</p>
<p id="error-message" class="details">AADSTS$code: $message</p>
<div class="details"><p>Troubleshooting details</p>
<p>Request Id: $trace<br>Correlation Id: $corr<br>Timestamp: $ts<br>Message: AADSTS$code: $message</p></div>
</main></body></html>""")


def _ts() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _basic_auth(req: Req) -> tuple[str, str] | None:
    header = req.header("authorization") or ""
    if not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip()).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    user, sep, pwd = raw.partition(":")
    return (unquote(user), unquote(pwd)) if sep else None


def error_page(e: EntraError) -> Response:
    """Entra's sign-in error page (it renders with 200; the AADSTS code is in the page)."""
    body = _ERROR_PAGE.substitute(
        code=e.code, message=html.escape(e.message), trace=uuid.uuid4(), corr=uuid.uuid4(), ts=_ts()
    )
    return HTMLResponse(body, 200, headers=_NO_STORE)


def _with_query(uri: str, params: dict[str, str]) -> str:
    parts = urlsplit(uri)
    q = urlencode(params)
    return urlunsplit(parts._replace(query=f"{parts.query}&{q}" if parts.query else q))


class EntraResponses:
    def __init__(self, world: World) -> None:
        self.world = world
        self.entra = world.entra

    # ---- token endpoints -----------------------------------------------------------------
    def token_v2(self, req: Req) -> Response:
        return self._token(req, v1=False)

    def token_v1(self, req: Req) -> Response:
        return self._token(req, v1=True)

    def _token(self, req: Req, *, v1: bool) -> Response:
        req.kind = "token"
        tenant_ref = req.params["tenant"]
        form = req.form() if req.body else {}
        req.caller = form.get("client_id")
        t = self.entra.tenant(tenant_ref)
        req.tenant = t["id"] if t else tenant_ref
        try:
            body, tid, client_id = self.entra.client_credentials(
                tenant_ref, form, v1=v1, basic=_basic_auth(req)
            )
        except EntraError as e:
            req.extra["aadsts"] = e.code
            raise
        req.tenant, req.caller = tid, client_id
        return json_response(body, 200, {**_NO_STORE, "x-ms-request-id": str(uuid.uuid4())})

    def token_get(self, req: Req) -> Response:
        raise EntraError(
            400,
            "invalid_request",
            900561,
            "The endpoint only accepts POST requests. Received a GET request.",
        )

    # ---- discovery -----------------------------------------------------------------------
    def openid_configuration_v2(self, req: Req) -> Response:
        return self._oidc(req, v2=True)

    def openid_configuration_v1(self, req: Req) -> Response:
        return self._oidc(req, v2=False)

    def _oidc(self, req: Req, *, v2: bool) -> Response:
        doc = self.entra.openid_configuration(req.params["tenant"], v2=v2)
        return json_response(doc, 200, {"Access-Control-Allow-Origin": "*"})

    def instance_discovery(self, req: Req) -> Response:
        status, body = self.entra.instance_discovery(
            req.q("authorization_endpoint"), req.q("api-version")
        )
        return json_response(body, status)

    def keys(self, req: Req) -> Response:
        ref = req.params.get("tenant", "common")
        if ref.lower() not in PSEUDO_TENANTS and self.entra.tenant(ref) is None:
            raise EntraError(400, "invalid_tenant", 90002, f"Tenant '{ref}' not found.")
        return json_response(self.entra.jwks(), 200, {"Access-Control-Allow-Origin": "*"})

    # ---- admin consent -------------------------------------------------------------------
    def consent_page_v2(self, req: Req) -> Response:
        return self._consent_page(req, v2=True)

    def consent_page_v1(self, req: Req) -> Response:
        return self._consent_page(req, v2=False)

    def consent_decision_v2(self, req: Req) -> Response:
        return self._consent_decision(req, v2=True)

    def consent_decision_v1(self, req: Req) -> Response:
        return self._consent_decision(req, v2=False)

    def _consent_page(self, req: Req, *, v2: bool) -> Response:
        tenant_ref = req.params["tenant"]
        client_id, redirect_uri = req.q("client_id"), req.q("redirect_uri")
        scope, state = req.q("scope"), req.q("state")
        try:
            app, tenant = self.entra.consent_target(
                tenant_ref, client_id, redirect_uri, v2=v2, scope=scope
            )
        except EntraError as e:
            return error_page(e)
        req.tenant = tenant["id"] if tenant else None
        req.caller = client_id
        home = self.world.tenants.get(app.get("_tenant"))
        home_name = home.get("displayName", app.get("_tenant")) if home else app.get("_tenant")
        perms = self.entra.requested_permissions(
            app, tenant["id"] if tenant else app.get("_tenant"), scope if v2 else None
        )
        items = (
            "\n".join(
                f'    <li class="permission" data-value="{html.escape(p["value"])}">'
                f'<span class="perm">{html.escape(p["displayName"] or p["value"])}</span> '
                f'<span class="kind">({html.escape(p["value"])} &middot; {html.escape(p["resource"])}'
                f" &middot; {p['kind']})</span></li>"
                for p in perms
            )
            or '    <li class="permission">Sign in and read user profile (no additional permissions)</li>'
        )
        if tenant is None:
            opts = "".join(
                f'<option value="{html.escape(t["id"])}">{html.escape(t.get("displayName", t["name"]))}'
                f" ({html.escape(t.get('domain', ''))})</option>"
                for t in sorted(self.world.tenants.all(), key=lambda d: d["name"])
            )
            tenant_field = f'    <p>Consent as administrator of <select name="tenant" id="tenant">{opts}</select></p>'
            tenant_line = "Choose the organization to grant consent for"
        else:
            tenant_field = ""
            tenant_line = html.escape(
                f"{tenant.get('displayName', tenant['id'])} "
                f"({tenant.get('domain', '')}) - tenant {tenant['id']}"
            )
        multi = app.get("signInAudience") in MULTI_TENANT_AUDIENCES
        publisher = (
            app.get("publisherDomain") or (home.get("domain") if home else None) or home_name
        )
        page = _CONSENT.substitute(
            tenant_line=tenant_line,
            app_name=html.escape(app.get("displayName") or client_id or ""),
            publisher=html.escape(f"{publisher}" + ("" if multi else " (single tenant)")),
            home_tenant=html.escape(f"{home_name}, {app.get('_tenant')}"),
            permissions=items,
            action=html.escape(req.path),
            client_id=html.escape(client_id or ""),
            redirect_uri=html.escape(redirect_uri or ""),
            scope=html.escape(scope or ""),
            state=html.escape(state or ""),
            tenant_field=tenant_field,
        )
        return HTMLResponse(page, 200, headers=_NO_STORE)

    def _consent_decision(self, req: Req, *, v2: bool) -> Response:
        form = req.form()
        tenant_ref = req.params["tenant"]
        if tenant_ref.lower() in PSEUDO_TENANTS and form.get("tenant"):
            tenant_ref = form["tenant"]
        client_id, redirect_uri = form.get("client_id"), form.get("redirect_uri")
        scope, state = form.get("scope") or None, form.get("state") or None
        try:
            _app, tenant = self.entra.consent_target(
                tenant_ref, client_id, redirect_uri, v2=v2, scope=scope
            )
            if tenant is None:
                raise EntraError(
                    400,
                    "invalid_request",
                    900144,
                    "The request body must contain the following parameter: 'tenant'.",
                )
        except EntraError as e:
            return error_page(e)
        assert redirect_uri is not None and client_id is not None
        tid = tenant["id"]
        req.tenant, req.caller = tid, client_id
        if form.get("decision") != "accept":
            req.kind = "read"
            if v2:
                e = EntraError(
                    400, "access_denied", 65004, "User declined to consent to access the app."
                )
                params = {
                    "admin_consent": "True",
                    "error": "access_denied",
                    "error_subcode": "cancel",
                    "error_description": f"AADSTS65004: {e.message}\r\nTrace ID: "
                    f"{uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}"
                    f"\r\nTimestamp: {_ts()[:19].replace('T', ' ')}Z",
                }
                if state is not None:
                    params["state"] = state
            else:
                # v1 admin consent (v2-oauth2-client-creds-grant-flow.md, "Error response")
                params = {
                    "error": "permission_denied",
                    "error_description": "The admin canceled the request",
                }
            return RedirectResponse(_with_query(redirect_uri, params), 302, headers=_NO_STORE)
        req.kind = "write"
        self.world.directory.consent(tid, client_id, scope=scope if v2 else None)
        if v2:
            params = {"admin_consent": "True", "tenant": tid, "scope": scope or ""}
            if state is not None:
                params["state"] = state
        else:
            params = {"tenant": tid}
            if state is not None:
                params["state"] = state
            params["admin_consent"] = "True"
        return RedirectResponse(_with_query(redirect_uri, params), 302, headers=_NO_STORE)
