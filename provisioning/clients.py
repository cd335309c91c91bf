"""SDK clients for one cloud profile, built only through the SDKs' public knobs.

Authority host, ARM base URL and credential scopes, Graph base URL and allowed hosts,
and the cloud's CA bundle: the same code path serves Azure public, sovereign clouds,
private clouds and the sandbox. Everything is async (msgraph-sdk is), and every import
of an SDK happens here, lazily, so the CLI starts fast.
"""

from __future__ import annotations

import ssl
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from .clouds import Cloud

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from msgraph import GraphServiceClient

USER_AGENT = "xtenant/0.1"


def credential_kwargs(cloud: Cloud) -> dict[str, Any]:
    """Keyword arguments every azure-identity credential takes for this cloud."""
    kw: dict[str, Any] = {"authority": cloud.authority_host}
    if cloud.custom:
        # no Microsoft instance-discovery endpoint exists for a custom authority
        kw["disable_instance_discovery"] = True
    if cloud.ca_bundle:
        kw["connection_verify"] = cloud.ca_bundle
    return kw


def admin_credential(cloud: Cloud, tenant_id: str | None = None) -> AsyncTokenCredential:
    """The way every Azure tool authenticates an admin or a pipeline: environment
    (secret, certificate or federated token file), workload identity, managed identity,
    or ``az login`` — never a value from the config file."""
    from azure.identity.aio import DefaultAzureCredential

    kw = credential_kwargs(cloud)
    if tenant_id:
        kw["additionally_allowed_tenants"] = ["*"]
    return DefaultAzureCredential(**kw)


class TenantCredential:
    """One credential, pinned to another tenant (azure-identity's multi-tenant support:
    ``additionally_allowed_tenants`` + ``tenant_id`` per request). For pipelines that hold
    rights in customer tenants through a multi-tenant identity."""

    def __init__(self, inner: Any, tenant_id: str) -> None:
        self.inner = inner
        self.tenant_id = tenant_id

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        kwargs["tenant_id"] = self.tenant_id
        return await self.inner.get_token(*scopes, **kwargs)

    async def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        return await self.inner.get_token_info(
            *scopes, options={**(options or {}), "tenant_id": self.tenant_id}
        )

    async def close(self) -> None:
        """The inner credential is shared; its owner closes it."""


class Clients:
    """Lazily built SDK clients sharing one credential; close with ``await close()``."""

    def __init__(self, cloud: Cloud, credential: AsyncTokenCredential) -> None:
        self.cloud = cloud
        self.credential = credential
        self._arm: dict[tuple[str, str], Any] = {}
        self._closers: list[Any] = []

    def _arm_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {
            "base_url": self.cloud.arm,
            "credential_scopes": [self.cloud.arm_scope],
            "user_agent": USER_AGENT,
        }
        if self.cloud.ca_bundle:
            kw["connection_verify"] = self.cloud.ca_bundle
        return kw

    def _mgmt(self, kind: str, subscription_id: str) -> Any:
        key = (kind, subscription_id)
        if key not in self._arm:
            if kind == "msi":
                from azure.mgmt.msi.aio import ManagedServiceIdentityClient as Cls
            elif kind == "compute":
                from azure.mgmt.compute.aio import ComputeManagementClient as Cls  # type: ignore[assignment]
            else:
                from azure.mgmt.authorization.aio import AuthorizationManagementClient as Cls  # type: ignore[assignment]
            client: Any = Cls(self.credential, subscription_id, **self._arm_kwargs())
            self._arm[key] = client
            self._closers.append(client)
        return self._arm[key]

    def msi(self, subscription_id: str) -> Any:
        return self._mgmt("msi", subscription_id)

    def compute(self, subscription_id: str) -> Any:
        return self._mgmt("compute", subscription_id)

    def authorization(self, subscription_id: str) -> Any:
        return self._mgmt("authorization", subscription_id)

    @cached_property
    def arm(self) -> Any:
        """A bare ARM pipeline for resource types without a typed SDK here (Automation)."""
        from azure.core.pipeline import policies
        from azure.mgmt.core import AsyncARMPipelineClient
        from azure.mgmt.core.policies import AsyncARMAutoResourceProviderRegistrationPolicy

        kw = self._arm_kwargs()
        config_policies = [
            policies.RequestIdPolicy(),
            policies.HeadersPolicy(),
            policies.UserAgentPolicy(base_user_agent=USER_AGENT),
            policies.ProxyPolicy(),
            policies.ContentDecodePolicy(),
            AsyncARMAutoResourceProviderRegistrationPolicy(),
            policies.AsyncRedirectPolicy(),
            policies.AsyncRetryPolicy(),
            policies.AsyncBearerTokenCredentialPolicy(self.credential, *kw["credential_scopes"]),
            policies.NetworkTraceLoggingPolicy(),
            policies.HttpLoggingPolicy(),
        ]
        client: Any = AsyncARMPipelineClient(
            base_url=kw["base_url"],
            policies=config_policies,
            **({"connection_verify": kw["connection_verify"]} if "connection_verify" in kw else {}),
        )
        self._closers.append(client)
        return client

    @cached_property
    def graph(self) -> GraphServiceClient:
        import httpx
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )
        from msgraph import GraphRequestAdapter, GraphServiceClient
        from msgraph_core import GraphClientFactory

        verify: ssl.SSLContext | bool = True
        if self.cloud.ca_bundle:
            verify = ssl.create_default_context(cafile=self.cloud.ca_bundle)
        http = httpx.AsyncClient(
            base_url=self.cloud.graph_v1,
            verify=verify,
            headers={"User-Agent": USER_AGENT},
            timeout=60,
        )
        http = GraphClientFactory.create_with_default_middleware(client=http)
        auth = AzureIdentityAuthenticationProvider(
            self.credential,
            scopes=[self.cloud.graph_scope],
            allowed_hosts=[urlparse(self.cloud.graph).netloc.split(":")[0]],
        )
        adapter = GraphRequestAdapter(auth, http)
        adapter.base_url = self.cloud.graph_v1
        self._closers.append(http)
        return GraphServiceClient(request_adapter=adapter)

    async def close(self, *, close_credential: bool = True) -> None:
        for c in self._closers:
            closer = getattr(c, "close", None) or getattr(c, "aclose", None)
            if closer is not None:
                res = closer()
                if hasattr(res, "__await__"):
                    await res
        self._closers.clear()
        if close_credential:
            await self.credential.close()
