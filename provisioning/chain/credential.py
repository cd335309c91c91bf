"""``CrossTenantCredential``: what a workload imports to use the chain.

    cred = CrossTenantCredential(app_client_id="…", tenant_id="litware.onmicrosoft.com",
                                 managed_identity="<uami client id>")
    LogsIngestionClient(endpoint, credential=cred)

It takes the managed-identity token for the cloud's exchange audience through
azure-identity's ``ManagedIdentityCredential`` (so IMDS, App Service/Automation and Arc
all work), presents it as the client assertion of the multi-tenant app
(``ClientAssertionCredential``) and returns tokens for any scope in the target tenant.
One MI token is cached and shared — across tenants too — until shortly before it
expires; customer tokens are cached per (tenant, scope) by MSAL inside each
``ClientAssertionCredential``.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any

from provisioning.core.clouds import Cloud, resolve

REFRESH_MARGIN_S = 300  # take a new MI token this long before the cached one expires
_GUID = re.compile(r"\A[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")


def identity_selector(managed_identity: str | None) -> dict[str, Any]:
    """``ManagedIdentityCredential`` kwargs for a client id, object id or resource id.

    A bare GUID is taken as a client id (what every Azure tool calls "the identity's
    id"); prefix it with ``object_id:`` to select by principal id instead.
    """
    if not managed_identity:
        return {}
    if managed_identity.startswith("/"):
        return {"identity_config": {"resource_id": managed_identity}}
    if managed_identity.startswith("object_id:"):
        return {"identity_config": {"object_id": managed_identity.split(":", 1)[1]}}
    if _GUID.match(managed_identity):
        return {"client_id": managed_identity}
    raise ValueError(
        f"managed_identity {managed_identity!r}: expected a client id (GUID), "
        "object_id:<GUID> or an ARM resource id"
    )


def _cloud(cloud: Cloud | str | None) -> Cloud:
    return cloud if isinstance(cloud, Cloud) else resolve(cloud)


def _assertion_kwargs(cloud: Cloud) -> dict[str, Any]:
    from provisioning.core.clients import credential_kwargs

    return credential_kwargs(cloud)


class ManagedIdentityAssertion:
    """The MI token for the exchange audience, cached and shared by many credentials."""

    def __init__(
        self,
        cloud: Cloud | str | None = None,
        managed_identity: str | None = None,
        *,
        credential: Any = None,
    ) -> None:
        self.cloud = _cloud(cloud)
        if credential is None:
            from azure.identity import ManagedIdentityCredential

            credential = ManagedIdentityCredential(**identity_selector(managed_identity))
        self._mi = credential
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_on = 0.0
        self.fetches = 0  # how many MI tokens were taken (observable for tests and benchmarks)

    def __call__(self) -> str:
        with self._lock:
            if self._token is None or time.time() > self._expires_on - REFRESH_MARGIN_S:
                tok = self._mi.get_token(self.cloud.exchange_scope)
                self._token, self._expires_on = tok.token, float(tok.expires_on)
                self.fetches += 1
            return self._token

    def close(self) -> None:
        self._mi.close()


class CrossTenantCredential:
    """An azure-core ``TokenCredential`` for the app in ``tenant_id``, secret-less."""

    def __init__(
        self,
        app_client_id: str,
        tenant_id: str,
        *,
        cloud: Cloud | str | None = None,
        managed_identity: str | None = None,
        assertion: ManagedIdentityAssertion | None = None,
    ) -> None:
        self.cloud = _cloud(cloud)
        self.app_client_id = app_client_id
        self.tenant_id = tenant_id
        self.assertion = assertion or ManagedIdentityAssertion(self.cloud, managed_identity)
        self._by_tenant: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _for(self, tenant: str | None) -> Any:
        tenant = tenant or self.tenant_id
        with self._lock:
            cred = self._by_tenant.get(tenant)
            if cred is None:
                from azure.identity import ClientAssertionCredential

                cred = ClientAssertionCredential(
                    tenant, self.app_client_id, self.assertion, **_assertion_kwargs(self.cloud)
                )
                self._by_tenant[tenant] = cred
            return cred

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> Any:
        return self._for(tenant_id).get_token(
            *scopes, claims=claims, enable_cae=enable_cae, **kwargs
        )

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        tenant = (options or {}).get("tenant_id")
        return self._for(tenant).get_token_info(*scopes, options=options)

    def close(self) -> None:
        for c in self._by_tenant.values():
            c.close()
        self.assertion.close()

    def __enter__(self) -> CrossTenantCredential:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncManagedIdentityAssertion:
    """Async twin of ``ManagedIdentityAssertion``."""

    def __init__(
        self,
        cloud: Cloud | str | None = None,
        managed_identity: str | None = None,
        *,
        credential: Any = None,
    ) -> None:
        import asyncio

        self.cloud = _cloud(cloud)
        if credential is None:
            from azure.identity.aio import ManagedIdentityCredential

            credential = ManagedIdentityCredential(**identity_selector(managed_identity))
        self._mi = credential
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_on = 0.0
        self.fetches = 0

    async def refresh(self) -> str:
        """Take a new MI token if the cached one is missing or about to expire."""
        async with self._lock:
            if self._token is None or time.time() > self._expires_on - REFRESH_MARGIN_S:
                tok = await self._mi.get_token(self.cloud.exchange_scope)
                self._token, self._expires_on = tok.token, float(tok.expires_on)
                self.fetches += 1
            return self._token

    def __call__(self) -> str:
        """azure-identity's async ClientAssertionCredential calls this synchronously."""
        if self._token is None:
            raise RuntimeError("call `await refresh()` before requesting a token")
        return self._token

    async def close(self) -> None:
        await self._mi.close()


class AsyncCrossTenantCredential:
    """An azure-core ``AsyncTokenCredential`` twin of ``CrossTenantCredential``."""

    def __init__(
        self,
        app_client_id: str,
        tenant_id: str,
        *,
        cloud: Cloud | str | None = None,
        managed_identity: str | None = None,
        assertion: AsyncManagedIdentityAssertion | None = None,
    ) -> None:
        self.cloud = _cloud(cloud)
        self.app_client_id = app_client_id
        self.tenant_id = tenant_id
        self.assertion = assertion or AsyncManagedIdentityAssertion(self.cloud, managed_identity)
        self._by_tenant: dict[str, Any] = {}

    def _for(self, tenant: str | None) -> Any:
        tenant = tenant or self.tenant_id
        cred = self._by_tenant.get(tenant)
        if cred is None:
            from azure.identity.aio import ClientAssertionCredential

            cred = ClientAssertionCredential(
                tenant, self.app_client_id, self.assertion, **_assertion_kwargs(self.cloud)
            )
            self._by_tenant[tenant] = cred
        return cred

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> Any:
        await self.assertion.refresh()
        return await self._for(tenant_id).get_token(
            *scopes, claims=claims, enable_cae=enable_cae, **kwargs
        )

    async def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        tenant = (options or {}).get("tenant_id")
        await self.assertion.refresh()
        return await self._for(tenant).get_token_info(*scopes, options=options)

    async def close(self) -> None:
        for c in self._by_tenant.values():
            await c.close()
        await self.assertion.close()

    async def __aenter__(self) -> AsyncCrossTenantCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
