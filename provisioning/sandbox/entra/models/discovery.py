"""Discovery: OpenID configuration (v1 and v2), instance discovery (MSAL asks it about an
authority it does not know) and the signing keys."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..exceptions import EntraError
from .base import PSEUDO_TENANTS, EntraModel


class Discovery(EntraModel):
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
