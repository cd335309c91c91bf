"""azure-identity credentials for a sandbox's principals, configured only through public
knobs: the sandbox's authority, its CA bundle, and no instance discovery (MSAL would otherwise
ask login.microsoftonline.com about an authority it does not know)."""

from __future__ import annotations

from typing import Any


def secret_credential(
    info: dict[str, Any], tenant: str, client_id: str, client_secret: str, *, aio: bool = False
) -> Any:
    """A ``ClientSecretCredential`` (``azure.identity.aio``'s with ``aio``) for an app in
    ``tenant`` (a sandbox tenant's name, or a tenant id)."""
    if aio:
        from azure.identity.aio import ClientSecretCredential as AioSecret

        cls: Any = AioSecret
    else:
        from azure.identity import ClientSecretCredential

        cls = ClientSecretCredential
    tenant_id = (info["tenants"].get(tenant) or {}).get("tenant_id", tenant)
    return cls(
        tenant_id,
        client_id,
        client_secret,
        authority=info["authority"],
        disable_instance_discovery=True,
        # named even when REQUESTS_CA_BUNDLE / SSL_CERT_FILE are set: aiohttp caches its
        # default SSL context at import
        connection_verify=info["ca_bundle"],
    )


def admin_credential(info: dict[str, Any], tenant: str, *, aio: bool = False) -> Any:
    """The credential of ``tenant``'s sandbox admin (its client secret is in ``sandbox.json``)."""
    admin = info["tenants"][tenant]["admin"]
    return secret_credential(info, tenant, admin["client_id"], admin["client_secret"], aio=aio)
