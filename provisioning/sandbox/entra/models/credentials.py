"""Client authentication at the token endpoint: the application and its service principal in
the tenant asked, then a client secret or a federated assertion checked against the app's
federated identity credentials (issuer, signature, times, subject, audience), in Entra's order
and with its AADSTS codes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jwt

from ...tokens import unverified_claims
from ..exceptions import EntraError, missing
from .base import (
    ASSERTION_LEEWAY_S,
    EXCHANGE_APP_ID,
    EXCHANGE_AUDIENCE,
    FIC_DOC,
    JWT_BEARER,
    MULTI_TENANT_AUDIENCES,
    Client,
    EntraModel,
    aud_text,
    iso,
)

if TYPE_CHECKING:
    from ...store import Doc


class ClientAuthentication(EntraModel):
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
            raise missing("client_assertion_type")
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
                f"Audience: '{aud_text(aud)}'. {FIC_DOC}",
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
                f"audience '{aud_text(aud)}'. Please check your federated identity "
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
                f"{iso(now)}, assertion valid from {iso(nbf)}, expiry time of "
                f"assertion {iso(exp)}. Review the documentation at "
                "https://docs.microsoft.com/azure/active-directory/develop/"
                "active-directory-certificate-credentials .",
            )
