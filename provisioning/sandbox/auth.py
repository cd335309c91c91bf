"""Bearer-token checks shared by the resource services (ARM, Graph, Logs Ingestion).

Each service turns an ``AuthError`` into its own 401 body; the rules are the same.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import jwt

if TYPE_CHECKING:
    from .http import Req

ARM_AUDIENCES = (
    "https://management.azure.com",
    "https://management.azure.com/",
    "https://management.core.windows.net",
    "https://management.core.windows.net/",
)
GRAPH_AUDIENCES = (
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000",
)
MONITOR_AUDIENCES = ("https://monitor.azure.com", "https://monitor.azure.com/")


class AuthError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def bearer_claims(req: Req, audiences: tuple[str, ...]) -> dict[str, Any]:
    """Verify the request's bearer token (signature, expiry on the sandbox clock, audience)."""
    header = req.header("authorization") or ""
    if not header.lower().startswith("bearer "):
        raise AuthError(
            "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing."
        )
    token = header[7:].strip()
    try:
        claims = req.world.signer.verify(token, now=req.world.now(), leeway=300)
    except jwt.ExpiredSignatureError:
        raise AuthError(
            "ExpiredAuthenticationToken",
            "The access token expiry UTC time is earlier than current UTC time.",
        ) from None
    except jwt.PyJWTError as e:
        raise AuthError("InvalidAuthenticationToken", f"The access token is invalid. {e}") from None
    if claims.get("aud") not in audiences:
        raise AuthError(
            "InvalidAuthenticationTokenAudience",
            f"The access token has been obtained for wrong audience or resource "
            f"'{claims.get('aud')}'. It should exactly match with one of the allowed "
            f"audiences {', '.join(repr(a) for a in audiences)}.",
        )
    req.tenant = claims.get("tid")
    req.caller = claims.get("appid") or claims.get("azp") or claims.get("oid")
    return claims
