"""What the Entra models share: the constants of the client-credentials flow, tenants and
issuers, and small helpers."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..exceptions import EntraError

if TYPE_CHECKING:
    from ...store import Doc
    from ...world import World

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


@dataclass
class Client:
    """The authenticated client of a token request."""

    app: Doc  # the application object (global, ``_tenant`` = home tenant)
    sp: Doc  # its service principal in the requested tenant
    acr: str  # appidacr: "1" secret, "2" assertion / certificate


def b64(n: int) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(n)).rstrip(b"=").decode()


def strip_slash(value: str) -> str:
    return value.rstrip("/").lower()


class EntraModel:
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

    if TYPE_CHECKING:  # what the parts use of each other (``Entra`` is their union)

        def _authenticate(
            self, tenant: Doc, client_id: str, form: dict[str, str], basic: tuple[str, str] | None
        ) -> Client: ...


def aud_text(aud: Any) -> str:
    return ", ".join(aud) if isinstance(aud, list) else str(aud)


def iso(ts: Any) -> str:
    if ts is None:
        return "(none)"
    try:
        return (
            dt.datetime.fromtimestamp(float(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        )
    except (TypeError, ValueError, OverflowError):
        return str(ts)
