"""Entra: token issuance and the rules of the client-credentials / federated-credential flow.

Everything here is about *deciding*: which tenant, which app, whether its credential holds,
which resource, which claims. ``responses.py`` only parses requests and renders answers.

Error wording follows Entra's token endpoint (``AADSTSnnnn: ...``); where Microsoft's
reference list (``reference-error-codes.md``) is silent, the text is the one Entra is
publicly seen to send (quoted in Microsoft's GitHub issues).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import jwt

from ..http import HttpError, aadsts_error
from ..tokens import unverified_claims

if TYPE_CHECKING:
    from ..store import Doc
    from ..world import World

EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936"
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PSEUDO_TENANTS = ("common", "organizations", "consumers")
RESERVED_SCOPES = ("openid", "profile", "offline_access", "email")
ASSERTION_LEEWAY_S = 300  # Entra tolerates five minutes of clock skew on assertions
FIC_DOC = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation"
MULTI_TENANT_AUDIENCES = ("AzureADMultipleOrgs", "AzureADandPersonalMicrosoftAccount")
PERSONAL_AUDIENCES = ("AzureADandPersonalMicrosoftAccount", "PersonalMicrosoftAccount")


class EntraError(Exception):
    """An Entra refusal; each endpoint renders it in its own format."""

    def __init__(self, status: int, error: str, code: int, message: str) -> None:
        super().__init__(f"AADSTS{code}: {message}")
        self.status = status
        self.error = error
        self.code = code
        self.message = message

    def http(self) -> HttpError:
        """The token endpoint's JSON body (``aadsts_error``)."""
        return aadsts_error(self.status, self.error, self.code, self.message)

    def oauth_body(self) -> dict[str, Any]:
        """``error`` + ``error_description``, as IMDS relays an Entra refusal."""
        ts = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.message} Trace ID: {uuid.uuid4()} "
            f"Correlation ID: {uuid.uuid4()} Timestamp: {ts}",
        }


@dataclass
class Client:
    """The authenticated client of a token request."""

    app: Doc  # the application object (global, ``_tenant`` = home tenant)
    sp: Doc  # its service principal in the requested tenant
    acr: str  # appidacr: "1" secret, "2" assertion / certificate


def _b64(n: int) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(n)).rstrip(b"=").decode()


def _strip_slash(value: str) -> str:
    return value.rstrip("/").lower()


class Entra:
    def __init__(self, world: World) -> None:
        self.world = world

    # ---- tenants and issuers -------------------------------------------------------------
    def tenant(self, ref: str | None) -> Doc | None:
        return self.world.tenants.get(ref)

    def require_tenant(self, ref: str, *, discovery: bool = False) -> Doc:
        t = self.tenant(ref)
        if t is None:
            raise EntraError(
                400,
                "invalid_tenant" if discovery else "invalid_request",
                90002,
                f"Tenant '{ref}' not found. Check to make sure you have the correct "
                "tenant ID and are signing into the correct cloud. Check with your "
                "subscription administrator, this may happen if there are no active "
                "subscriptions for the tenant.",
            )
        return t

    @property
    def authority(self) -> str:
        return self.world.urls.authority

    def issuer_v2(self, tid: str) -> str:
        return f"{self.authority}/{tid}/v2.0"

    @staticmethod
    def issuer_v1(tid: str) -> str:
        return f"https://sts.windows.net/{tid}/"

    # ---- discovery -----------------------------------------------------------------------
    def openid_configuration(self, ref: str, *, v2: bool) -> dict[str, Any]:
        """``/{tenant}[/v2.0]/.well-known/openid-configuration``, as Entra serves it."""
        a = self.authority
        if ref.lower() in PSEUDO_TENANTS:
            seg, tid_for_issuer = ref.lower(), "{tenantid}"
        else:
            seg = tid_for_issuer = self.require_tenant(ref, discovery=True)["id"]
        if v2:
            return {
                "token_endpoint": f"{a}/{seg}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{a}/{seg}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{a}/{tid_for_issuer}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
                "authorization_endpoint": f"{a}/{seg}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{a}/{seg}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{a}/{seg}/oauth2/v2.0/logout",
                "claims_supported": [
                    "sub",
                    "iss",
                    "cloud_instance_name",
                    "cloud_instance_host_name",
                    "cloud_graph_host_name",
                    "msgraph_host",
                    "aud",
                    "exp",
                    "iat",
                    "auth_time",
                    "acr",
                    "nonce",
                    "preferred_username",
                    "name",
                    "tid",
                    "ver",
                    "at_hash",
                    "c_hash",
                    "email",
                ],
                "kerberos_endpoint": f"{a}/{seg}/kerberos",
                "tenant_region_scope": "NA",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            }
        return {
            "token_endpoint": f"{a}/{seg}/oauth2/token",
            "token_endpoint_auth_methods_supported": [
                "client_secret_post",
                "private_key_jwt",
                "client_secret_basic",
            ],
            "jwks_uri": f"{a}/common/discovery/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": [
                "code",
                "id_token",
                "code id_token",
                "token id_token",
                "token",
            ],
            "scopes_supported": ["openid"],
            # v1 tokens (the resource tokens this sandbox issues) carry this issuer
            "issuer": self.issuer_v1(tid_for_issuer),
            "microsoft_multi_refresh_token": True,
            "authorization_endpoint": f"{a}/{seg}/oauth2/authorize",
            "device_authorization_endpoint": f"{a}/{seg}/oauth2/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{a}/{seg}/oauth2/logout",
            "claims_supported": [
                "sub",
                "iss",
                "cloud_instance_name",
                "cloud_instance_host_name",
                "cloud_graph_host_name",
                "msgraph_host",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "acr",
                "amr",
                "nonce",
                "email",
                "given_name",
                "family_name",
                "nickname",
            ],
            "check_session_iframe": f"{a}/{seg}/oauth2/checksession",
            "userinfo_endpoint": f"{a}/{seg}/openid/userinfo",
            "kerberos_endpoint": f"{a}/{seg}/kerberos",
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }

    def instance_discovery(
        self, authorization_endpoint: str | None, api_version: str | None
    ) -> tuple[int, dict[str, Any]]:
        """``/common/discovery/instance``: this authority is the one instance it knows.

        MSAL names the instance by host name (no port), so both spellings are aliases."""
        me = urlsplit(self.authority)
        aliases = [me.netloc, me.hostname or me.netloc]
        parts = urlsplit(authorization_endpoint or "")
        if authorization_endpoint and parts.netloc.lower() not in {a.lower() for a in aliases}:
            err = EntraError(
                400,
                "invalid_instance",
                50049,
                "Unknown or invalid instance.",
            ).oauth_body()
            return 400, err
        segs = [s for s in parts.path.split("/") if s]
        tenant = segs[0] if segs else "common"
        return 200, {
            "tenant_discovery_endpoint": f"{self.authority}/{tenant}/v2.0/.well-known/openid-configuration",
            "api-version": api_version or "1.1",
            "metadata": [
                {"preferred_network": me.netloc, "preferred_cache": me.netloc, "aliases": aliases}
            ],
        }

    def jwks(self) -> dict[str, Any]:
        return self.world.signer.jwks()

    # ---- the token endpoint --------------------------------------------------------------
    def client_credentials(
        self,
        tenant_ref: str,
        form: dict[str, str],
        *,
        v1: bool = False,
        basic: tuple[str, str] | None = None,
    ) -> tuple[dict[str, Any], str, str]:
        """``POST /{tenant}/oauth2[/v2.0]/token``. Returns (response body, tid, client_id)."""
        grant = form.get("grant_type")
        if not grant:
            raise _missing("grant_type")
        if grant != "client_credentials":
            raise EntraError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        client_id = form.get("client_id") or (basic[0] if basic else None)
        if not client_id:
            raise _missing("client_id")
        if tenant_ref.lower() in PSEUDO_TENANTS:
            raise EntraError(
                400,
                "invalid_request",
                50059,
                "No tenant-identifying information found in either the request or "
                "implied by any provided credentials.",
            )
        resource = self._requested_resource(form, v1=v1)
        tenant = self.require_tenant(tenant_ref)
        tid = tenant["id"]
        client = self._authenticate(tenant, client_id, form, basic)
        token, claims = self._resource_token(
            tenant,
            resource,
            principal=client.sp,
            client_id=client_id,
            acr=client.acr,
            app_display_name=client.app.get("displayName"),
        )
        life = int(claims["exp"] - claims["iat"])
        if v1:
            body: dict[str, Any] = {
                "token_type": "Bearer",
                "expires_in": str(life),
                "ext_expires_in": str(life),
                "expires_on": str(int(claims["exp"])),
                "not_before": str(int(claims["nbf"])),
                "resource": resource,
                "access_token": token,
            }
        else:
            body = {
                "token_type": "Bearer",
                "expires_in": life,
                "ext_expires_in": life,
                "access_token": token,
            }
        return body, tid, client_id

    def _requested_resource(self, form: dict[str, str], *, v1: bool) -> str:
        if v1:
            resource = (form.get("resource") or "").strip()
            if not resource:
                raise EntraError(
                    400, "invalid_resource", 50001, "Resource identifier is not provided."
                )
            return resource
        raw = (form.get("scope") or "").strip()
        scopes = [s for s in raw.split() if s.lower() not in RESERVED_SCOPES]
        if not scopes:
            raise _missing("scope")
        for s in scopes:
            if not s.endswith("/.default"):
                raise EntraError(
                    400,
                    "invalid_scope",
                    1002012,
                    f"The provided value for scope {s} is not valid. Client credential "
                    "flows must have a scope value with /.default suffixed to the "
                    "resource identifier (application ID URI).",
                )
        if len({_strip_slash(s[: -len("/.default")]) for s in scopes}) > 1:
            raise EntraError(
                400,
                "invalid_scope",
                700022,
                "The provided value for the input parameter scope isn't valid because "
                f"it contains more than one resource. Scope {raw} is not valid.",
            )
        return scopes[0][: -len("/.default")]

    # ---- client authentication -----------------------------------------------------------
    def _authenticate(
        self, tenant: Doc, client_id: str, form: dict[str, str], basic: tuple[str, str] | None
    ) -> Client:
        d = self.world.directory
        tid = tenant["id"]
        app = d.app_by_app_id(client_id)
        sp = d.sp_by_app_id(tid, client_id)
        not_found = EntraError(
            400,
            "unauthorized_client",
            700016,
            f"Application with identifier '{client_id}' was not found in the "
            f"directory '{tenant.get('displayName', tid)}'. This can happen if "
            "the application has not been installed by the administrator of the "
            "tenant or consented to by any user in the tenant. You may have sent "
            "your authentication request to the wrong tenant.",
        )
        if app is None:
            raise not_found
        home = app.get("_tenant")
        if sp is None:
            if home == tid:
                raise EntraError(
                    401,
                    "invalid_client",
                    7000229,
                    f"The client application {client_id} is missing service principal "
                    f"in the tenant {tid}. See instructions here: "
                    "https://go.microsoft.com/fwlink/?linkid=2225119",
                )
            raise not_found
        if home != tid and app.get("signInAudience") not in MULTI_TENANT_AUDIENCES:
            raise not_found
        if sp.get("accountEnabled") is False:
            raise EntraError(
                400,
                "unauthorized_client",
                7000112,
                f"Application '{client_id}'({app.get('displayName')}) is disabled.",
            )
        secret = form.get("client_secret") or (basic[1] if basic else None)
        assertion = form.get("client_assertion")
        if not secret and not assertion:
            raise EntraError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: "
                "'client_assertion' or 'client_secret'.",
            )
        if secret:
            if not d.check_secret(app, secret):
                raise EntraError(
                    401,
                    "invalid_client",
                    7000215,
                    "Invalid client secret provided. Ensure the secret being sent in "
                    "the request is the client secret value, not the client secret ID, "
                    f"for a secret added to app '{client_id}'.",
                )
            return Client(app=app, sp=sp, acr="1")
        atype = form.get("client_assertion_type")
        if not atype:
            raise _missing("client_assertion_type")
        if atype != JWT_BEARER:
            raise EntraError(
                400,
                "invalid_request",
                50027,
                f"JWT token is invalid or malformed. client_assertion_type must be '{JWT_BEARER}'.",
            )
        self._check_assertion(app, client_id, assertion or "")
        return Client(app=app, sp=sp, acr="2")

    def _check_assertion(self, app: Doc, client_id: str, assertion: str) -> None:
        try:
            header = jwt.get_unverified_header(assertion)
            claims = unverified_claims(assertion)
        except jwt.PyJWTError:
            raise EntraError(
                400, "invalid_request", 50027, "JWT token is invalid or malformed."
            ) from None
        iss, sub, aud = claims.get("iss"), claims.get("sub"), claims.get("aud")
        if iss == client_id and sub == client_id:
            # a certificate assertion: the app signed it itself; it must hold a keyCredential
            raise EntraError(
                401,
                "invalid_client",
                700027,
                "The certificate with identifier used to sign the client assertion is "
                "not registered on application. [Reason - The key was not found., "
                "Please visit the Azure Portal, Graph Explorer or directly use MS Graph "
                f"to see configured keys for app Id '{client_id}'.]",
            )
        home = app.get("_tenant")
        entra_issued = self.world.signer.owns(assertion) or (
            isinstance(iss, str) and iss.startswith(self.authority + "/")
        )
        if entra_issued:
            if claims.get("idtyp") != "app" and claims.get("scp"):
                raise EntraError(
                    401,
                    "invalid_client",
                    700229,
                    "Forbidden token type. Only app-only tokens may be used as "
                    "Federated Identity Credentials for AAD issuer.",
                )
            if not claims.get("xms_mirid"):
                raise EntraError(
                    401,
                    "invalid_client",
                    700226,
                    "Only MSI tokens may be used as Federated Identity Credentials for AAD issuer.",
                )
            if claims.get("tid") != home:
                raise EntraError(
                    401,
                    "invalid_client",
                    700236,
                    f"Entra ID tokens issued by issuer '{iss}' may not be used for "
                    "federated identity credential flows for applications or managed "
                    "identities registered in this tenant.",
                )
        now = self.world.now()
        fics = self.world.directory.fics(app["id"])
        pending = [f for f in fics if float(f.get("_effective_at", 0)) > now]
        live = [f for f in fics if float(f.get("_effective_at", 0)) <= now]
        if any(self._fic_matches(f, iss, sub, aud) for f in pending) or not live:
            raise EntraError(
                400,
                "invalid_request",
                70021,
                "No matching federated identity record found for presented assertion. "
                f"Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion "
                f"Audience: '{_aud_text(aud)}'. {FIC_DOC}",
            )
        by_issuer = [f for f in live if f.get("issuer") == iss]
        if not by_issuer:
            raise EntraError(
                401,
                "invalid_client",
                700211,
                "No matching federated identity record found for presented assertion "
                f"issuer '{iss}'. Please check your federated identity credential "
                f"Subject, Audience and Issuer against the presented assertion. {FIC_DOC}",
            )
        # the issuer is trusted by a record: now the signature, from that issuer's keys
        self._verify_signature(assertion, header, iss, entra_issued)
        self._check_times(claims)
        by_subject = [f for f in by_issuer if f.get("subject") == sub]
        if not by_subject:
            raise EntraError(
                401,
                "invalid_client",
                700213,
                "No matching federated identity record found for presented assertion "
                f"subject '{sub}'. Check your federated identity credential Subject, "
                f"Audience and Issuer against the presented assertion. {FIC_DOC}",
            )
        if not any(self._aud_matches(f, aud) for f in by_subject):
            raise EntraError(
                401,
                "invalid_client",
                700212,
                "No matching federated identity record found for presented assertion "
                f"audience '{_aud_text(aud)}'. Please check your federated identity "
                "credential Subject, Audience and Issuer against the presented "
                f"assertion. {FIC_DOC}",
            )

    def _fic_matches(self, fic: Doc, iss: Any, sub: Any, aud: Any) -> bool:
        return (
            fic.get("issuer") == iss and fic.get("subject") == sub and self._aud_matches(fic, aud)
        )

    @staticmethod
    def _aud_matches(fic: Doc, aud: Any) -> bool:
        presented = aud if isinstance(aud, list) else [aud]
        for want in fic.get("audiences") or []:
            for got in presented:
                if got == want:
                    return True
                # an Entra token for the exchange app carries its appId as audience
                if want == EXCHANGE_AUDIENCE and got == EXCHANGE_APP_ID:
                    return True
        return False

    def _verify_signature(
        self, assertion: str, header: dict[str, Any], iss: Any, entra_issued: bool
    ) -> None:
        kid = header.get("kid") or header.get("x5t")
        if not entra_issued or kid != self.world.signer.kid:
            # No outbound metadata fetch: only this sandbox's Entra keys are known.
            raise EntraError(
                401,
                "invalid_client",
                7000272,
                f"The certificate with identifier {kid} used to sign the federated "
                f"credential could not be found in the metadata of identity provider "
                f"{iss}. Please validate that your Identity Provider's metadata exposes "
                "the key used to sign the incoming token.",
            )
        try:
            self.world.signer.verify(assertion)
        except jwt.PyJWTError:
            raise EntraError(
                401,
                "invalid_client",
                50013,
                "Assertion failed signature validation. [Reason - Key was found, but "
                "use of the key to verify the signature failed.]",
            ) from None

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self.world.now()
        exp, nbf = claims.get("exp"), claims.get("nbf", claims.get("iat"))
        if (
            exp is None
            or now > float(exp) + ASSERTION_LEEWAY_S
            or (nbf is not None and now + ASSERTION_LEEWAY_S < float(nbf))
        ):
            raise EntraError(
                401,
                "invalid_client",
                700024,
                "Client assertion is not within its valid time range. Current time: "
                f"{_iso(now)}, assertion valid from {_iso(nbf)}, expiry time of "
                f"assertion {_iso(exp)}. Review the documentation at "
                "https://docs.microsoft.com/azure/active-directory/develop/"
                "active-directory-certificate-credentials .",
            )

    # ---- tokens ---------------------------------------------------------------------------
    def _resource_sp(self, tenant: Doc, resource: str) -> Doc:
        sp = self.world.directory.sp_for_resource(tenant["id"], resource)
        if sp is None:
            raise EntraError(
                400,
                "invalid_resource",
                500011,
                f"The resource principal named {resource} was not found in the tenant "
                f"named {tenant.get('displayName', tenant['id'])}. This can happen if "
                "the application has not been installed by the administrator of the "
                "tenant or consented to by any user in the tenant. You might have sent "
                "your authentication request to the wrong tenant.",
            )
        return sp

    def _wants_v2(self, resource_sp: Doc) -> bool:
        if resource_sp.get("appId") == EXCHANGE_APP_ID:
            return True
        app = self.world.directory.app_by_app_id(resource_sp.get("appId"))
        return bool(app and (app.get("api") or {}).get("requestedAccessTokenVersion") == 2)

    def _resource_token(
        self,
        tenant: Doc,
        resource: str,
        *,
        principal: Doc,
        client_id: str,
        acr: str,
        app_display_name: str | None = None,
        mi_resource_id: str | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """An app-only access token for ``resource`` in ``tenant``."""
        tid = tenant["id"]
        rsp = self._resource_sp(tenant, resource)
        now = int(self.world.now())
        life = int(self.world.settings.token_lifetime_s)
        roles = self.world.directory.app_roles_granted(tid, principal["id"], rsp["id"])
        claims: dict[str, Any]
        if self._wants_v2(rsp):
            claims = {
                "aud": rsp["appId"],
                "iss": self.issuer_v2(tid),
                "iat": now,
                "nbf": now,
                "exp": now + life,
                "aio": _b64(48),
                "azp": client_id,
                "azpacr": acr,
                "idtyp": "app",
                "oid": principal["id"],
                "rh": self._rh(tid, rsp),
                "sub": principal["id"],
                "tid": tid,
                "uti": _b64(16),
                "ver": "2.0",
            }
        else:
            claims = {
                "aud": resource,
                "iss": self.issuer_v1(tid),
                "iat": now,
                "nbf": now,
                "exp": now + life,
                "aio": _b64(48),
            }
            if app_display_name:
                claims["app_displayname"] = app_display_name
            claims.update(
                {
                    "appid": client_id,
                    "appidacr": acr,
                    "idp": self.issuer_v1(tid),
                    "idtyp": "app",
                    "oid": principal["id"],
                    "rh": self._rh(tid, rsp),
                    "sub": principal["id"],
                    "tid": tid,
                    "uti": _b64(16),
                    "ver": "1.0",
                }
            )
        if roles:
            claims["roles"] = sorted(roles)
        if mi_resource_id:
            claims["xms_mirid"] = mi_resource_id
        claims["xms_tcdt"] = self._tenant_created(tenant)
        return self.world.signer.sign(claims), claims

    @staticmethod
    def _rh(tid: str, rsp: Doc) -> str:
        seed = hashlib.sha256(f"{tid}:{rsp.get('appId')}".encode()).digest()
        return "0." + base64.urlsafe_b64encode(seed[:30]).rstrip(b"=").decode() + "."

    @staticmethod
    def _tenant_created(tenant: Doc) -> int:
        if tenant.get("_created"):
            return int(tenant["_created"])
        # stable per tenant: a date in 2016-2020, as real tenants have
        h = int(hashlib.sha256(tenant["id"].encode()).hexdigest()[:8], 16)
        return 1451606400 + h % 157766400

    def mi_token(
        self, host: dict[str, Any], identity: dict[str, Any], resource: str
    ) -> dict[str, Any]:
        """A managed identity's token for ``resource``, as the host's identity endpoint gets it.

        ``identity`` = ``{"principal_id", "client_id", "resource_id"?}``; without
        ``resource_id`` it is the host's system-assigned identity. Raises ``EntraError``.
        """
        tenant = self.tenant(host.get("tenant"))
        if tenant is None:
            raise EntraError(
                400, "invalid_request", 90002, f"Tenant '{host.get('tenant')}' not found."
            )
        mirid = identity.get("resource_id") or host.get("resource_id")
        token, claims = self._resource_token(
            tenant,
            resource,
            principal={"id": identity["principal_id"]},
            client_id=identity["client_id"],
            acr="2",
            mi_resource_id=mirid,
        )
        life = int(claims["exp"] - claims["iat"])
        return {
            "access_token": token,
            "client_id": identity["client_id"],
            "expires_in": life,
            "ext_expires_in": life,
            "expires_on": int(claims["exp"]),
            "not_before": int(claims["nbf"]),
            "resource": resource,
            "token_type": "Bearer",
        }

    # ---- admin consent --------------------------------------------------------------------
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
            raise _missing("client_id", where="request")
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
            raise _missing("scope", where="request")
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
    path = Path(__file__).resolve().parent.parent / "data" / "graph_app_roles.json"
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return []


def _missing(name: str, where: str = "request body") -> EntraError:
    return EntraError(
        400,
        "invalid_request",
        900144,
        f"The {where} must contain the following parameter: '{name}'.",
    )


def _aud_text(aud: Any) -> str:
    return ", ".join(aud) if isinstance(aud, list) else str(aud)


def _iso(ts: Any) -> str:
    if ts is None:
        return "(none)"
    try:
        return (
            dt.datetime.fromtimestamp(float(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        )
    except (TypeError, ValueError, OverflowError):
        return str(ts)
