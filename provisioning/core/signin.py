"""Who is signed in, established once before anything is read.

Every run starts by taking one token through the same credential the SDK clients use (it
lands in azure-identity's cache, so it costs the run nothing): without a usable credential
there is no plan to show, only one clear message saying which sources were tried and how to
sign in; an endpoint that cannot be reached is one line naming it. The token's claims (never
the token) say which tenant the admin is signed in to, which a run then checks against the
tenant it is about to act in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from provisioning.core.clouds import Cloud
from provisioning.core.errors import XtenantError

_SIGN_IN = {
    "public": "az login --tenant {tenant}",
    "usgov": "az cloud set --name AzureUSGovernment && az login --tenant {tenant}",
    "china": "az cloud set --name AzureChinaCloud && az login --tenant {tenant}",
}
_CUSTOM = "az cloud register/set for {cloud}, then az login --tenant {tenant}"
_ENV = (
    "or set AZURE_TENANT_ID and AZURE_CLIENT_ID with AZURE_CLIENT_SECRET, "
    "AZURE_CLIENT_CERTIFICATE_PATH or AZURE_FEDERATED_TOKEN_FILE"
)


class SignInError(XtenantError):
    """No usable credential, or the sign-in endpoint cannot be reached: nothing was read."""


class WrongTenantError(XtenantError):
    """Signed in to another tenant than the one the run acts in: nothing was read or written."""


@dataclass(frozen=True)
class SignedIn:
    tenant_id: str  # the token's tid
    who: str  # upn, app id or object id: for messages only


def how_to_sign_in(cloud: Cloud, tenant: str) -> str:
    """The one command (or variables) that signs an admin in to ``tenant`` on ``cloud``."""
    cmd = _SIGN_IN.get(cloud.name, _CUSTOM).format(tenant=tenant, cloud=cloud.name)
    return f"sign in with `{cmd}`, {_ENV}"


async def signed_in(credential: Any, cloud: Cloud, tenant: str) -> SignedIn:
    """Take an ARM token once; ``SignInError`` in one line when that is impossible."""
    from azure.core.exceptions import ClientAuthenticationError, ServiceRequestError

    from provisioning.chain.claims import decode

    try:
        token = await credential.get_token(cloud.arm_scope)
    except ServiceRequestError as exc:
        raise SignInError(
            f"cannot reach {cloud.authority} to sign in: {_reason(exc)}", address="sign-in"
        ) from None
    except ClientAuthenticationError as exc:
        if _unreachable(str(exc)):  # a credential of the chain could not connect
            raise SignInError(
                f"cannot reach {cloud.authority} to sign in: {_reason(exc)}", address="sign-in"
            ) from None
        tried = _tried(str(exc))
        head = (
            f"not signed in: no usable credential (tried {', '.join(tried)})"
            if tried
            else f"not signed in: {_first_line(str(exc))}"
        )
        raise SignInError(f"{head}; {how_to_sign_in(cloud, tenant)}", address="sign-in") from None
    claims = decode(token.token)["claims"]
    who = str(claims.get("upn") or claims.get("appid") or claims.get("oid") or "unknown")
    return SignedIn(tenant_id=str(claims.get("tid", "")).lower(), who=who)


def check_tenant(who: SignedIn, tenant_id: str, cloud: Cloud, *, what: str) -> None:
    """``WrongTenantError`` unless the signed-in tenant is ``tenant_id`` (a GUID)."""
    if who.tenant_id != tenant_id.lower():
        raise WrongTenantError(
            f"{what} is for tenant {tenant_id}, but you are signed in to tenant "
            f"{who.tenant_id or '(unknown)'} as {who.who}: {how_to_sign_in(cloud, tenant_id)}. "
            "Nothing was changed.",
            address="sign-in",
        )


_CREDENTIAL_LINE = re.compile(r"^\s*(\w+Credential)\b", re.M)


def _tried(message: str) -> list[str]:
    seen: list[str] = []
    for name in _CREDENTIAL_LINE.findall(message):
        if name not in seen and name != "DefaultAzureCredential":
            seen.append(name)
    return seen


def _first_line(message: str) -> str:
    return next((ln.strip() for ln in message.splitlines() if ln.strip()), "unknown error")


_UNREACHABLE = (
    "connection refused",
    "cannot connect to host",
    "name or service not known",
    "temporary failure in name resolution",
    "timed out",
    "certificate verify failed",
)


def _unreachable(message: str) -> bool:
    low = message.lower()
    return any(hint in low for hint in _UNREACHABLE)


def _reason(exc: BaseException) -> str:
    low = str(exc).lower()
    for hint in _UNREACHABLE:
        if hint in low:
            return "connection refused" if hint == "cannot connect to host" else hint
    return _first_line(str(exc))[:200]
