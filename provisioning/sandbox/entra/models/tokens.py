"""The token endpoint: the client-credentials grant (v2 ``scope`` or v1 ``resource``), the
resource's service principal, the access token's claims (v1 or v2, as the resource asks), and
managed identities' tokens (``mi_token``, for the identity endpoints)."""

from __future__ import annotations

import base64
import hashlib
from typing import TYPE_CHECKING, Any

from ..exceptions import EntraError, missing
from .base import EXCHANGE_APP_ID, PSEUDO_TENANTS, RESERVED_SCOPES, EntraModel, b64, strip_slash

if TYPE_CHECKING:
    from ...store import Doc


class Tokens(EntraModel):
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
            raise missing("grant_type")
        if grant != "client_credentials":
            raise EntraError(
                400,
                "unsupported_grant_type",
                70003,
                f"The app requested an unsupported grant type '{grant}'.",
            )
        client_id = form.get("client_id") or (basic[0] if basic else None)
        if not client_id:
            raise missing("client_id")
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
            raise missing("scope")
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
        if len({strip_slash(s[: -len("/.default")]) for s in scopes}) > 1:
            raise EntraError(
                400,
                "invalid_scope",
                700022,
                "The provided value for the input parameter scope isn't valid because "
                f"it contains more than one resource. Scope {raw} is not valid.",
            )
        return scopes[0][: -len("/.default")]

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
                "aio": b64(48),
                "azp": client_id,
                "azpacr": acr,
                "idtyp": "app",
                "oid": principal["id"],
                "rh": self._rh(tid, rsp),
                "sub": principal["id"],
                "tid": tid,
                "uti": b64(16),
                "ver": "2.0",
            }
        else:
            claims = {
                "aud": resource,
                "iss": self.issuer_v1(tid),
                "iat": now,
                "nbf": now,
                "exp": now + life,
                "aio": b64(48),
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
                    "uti": b64(16),
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
