"""SDK clients for one cloud profile, built only through the SDKs' public knobs.

Authority host, ARM base URL and credential scopes, Graph base URL and allowed hosts,
and the cloud's CA bundle: the same code path serves Azure public, sovereign clouds,
private clouds and the sandbox. Everything is async (msgraph-sdk is), and every import
of an SDK happens here, lazily, so the CLI starts fast.

One ``Http`` (an aiohttp session for azure-core, an httpx client for msgraph) is shared
by every client and credential of a run: one TLS context, one keep-alive pool. This
matters: handed a CA *path*, azure-core's aiohttp transport builds a new SSL context for
every request (≈20 ms of CPU, and a new TLS connection), which dominated a 500-tenant run.
"""

from __future__ import annotations

import functools
import ssl
from functools import cached_property
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from provisioning.core.clouds import Cloud

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential
    from msgraph import GraphServiceClient

    from provisioning.core.graph import GraphReader

USER_AGENT = "xtenant/0.1"

# Retries of transient answers (429 with Retry-After, 5xx), bounded, through each SDK's own
# retry settings. A write is retried only where the SDK already does so and a lost answer is
# resolved by observing again (names are deterministic: a second create meets the first).

ARM_RETRY: dict[str, Any] = {"retry_total": 10, "retry_status": 10, "retry_backoff_max": 10}
"""azure-core's RetryPolicy for ARM: 408/429/500/502/503/504 on its idempotent methods
(GET, PUT, DELETE, ...), ``Retry-After`` honoured. Its default ``retry_status`` is 3: a 20 %
throttling storm then fails one request in 625; 10 retries make that one in 50 million. The
backoff without ``Retry-After`` (0, 1.6, 3.2, 6.4 s, ...) is capped at 10 s: at most ~70 s."""

TOKEN_RETRY: dict[str, Any] = {"retry_total": 6, "retry_status": 6}
"""azure-identity's transport RetryPolicy for token requests (429 and 5xx, also on its POST):
7 attempts, so a 30 % throttling storm on the token endpoint fails one request in 4,500
instead of one in 120; the backoff stays azure-identity's (IMDS keeps its own)."""

GRAPH_RETRIES = 10
"""msgraph's RetryHandler retries after the first attempt: its maximum (``MAX_MAX_RETRIES``)."""

GRAPH_MAX_BACKOFF = 10
"""Seconds: msgraph's exponential backoff (0.5 s, 1 s, 2 s, ... without ``Retry-After``)
capped, so ten retries of a 5xx wait ~70 s at most instead of minutes."""


def credential_kwargs(cloud: Cloud) -> dict[str, Any]:
    """Keyword arguments every azure-identity credential takes for this cloud (sync use)."""
    kw: dict[str, Any] = {"authority": cloud.authority_host, **TOKEN_RETRY}
    if cloud.custom:
        # no Microsoft instance-discovery endpoint exists for a custom authority
        kw["disable_instance_discovery"] = True
    if cloud.ca_bundle:
        kw["connection_verify"] = cloud.ca_bundle
    return kw


class Http:
    """The connection pools of one run (create and close inside the event loop)."""

    def __init__(self, cloud: Cloud) -> None:
        self.cloud = cloud
        self._session: Any = None
        self._httpx: Any = None

    @cached_property
    def ssl_context(self) -> ssl.SSLContext:
        return (
            ssl.create_default_context(cafile=self.cloud.ca_bundle)
            if self.cloud.ca_bundle
            else ssl.create_default_context()
        )

    @property
    def session(self) -> Any:
        if self._session is None:
            import aiohttp

            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self.ssl_context, limit=128),
                trust_env=True,
            )
        return self._session

    def transport(self) -> Any:
        from azure.core.pipeline.transport import AioHttpTransport

        return AioHttpTransport(session=self.session, session_owner=False)

    @property
    def httpx(self) -> Any:
        if self._httpx is None:
            import httpx

            self._httpx = httpx.AsyncClient(
                verify=self.ssl_context,
                timeout=60,
                headers={"User-Agent": USER_AGENT},
                limits=httpx.Limits(max_connections=128),
            )
        return self._httpx

    @cached_property
    def graph_httpx(self) -> Any:
        """The httpx client with msgraph's middleware (retry, redirect, ...) wrapped once:
        msgraph's default chain, its retry handler set through ``RetryHandlerOption``
        (``GRAPH_RETRIES``, no base delay added to the backoff) and widened to 500 and 502
        on reads (``graph_retry_handler``)."""
        from kiota_http.kiota_client_factory import KiotaClientFactory
        from kiota_http.middleware import RetryHandler
        from kiota_http.middleware.options import RetryHandlerOption
        from msgraph_core import GraphClientFactory
        from msgraph_core.middleware import GraphTelemetryHandler

        option = RetryHandlerOption(delay=0, max_retries=GRAPH_RETRIES)
        chain = KiotaClientFactory.get_default_middleware({option.get_key(): option})
        chain = [
            graph_retry_handler()(options=option) if isinstance(m, RetryHandler) else m
            for m in chain
        ]
        chain.append(GraphTelemetryHandler())  # as create_with_default_middleware does
        return GraphClientFactory.create_with_custom_middleware(chain, client=self.httpx)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._httpx is not None:
            await self._httpx.aclose()
            self._httpx = None
            self.__dict__.pop("graph_httpx", None)


@functools.cache
def graph_retry_handler() -> type:
    """msgraph's RetryHandler, which retries 429, 503 and 504 (any method, as msgraph does),
    also retrying 500 and 502 for reads (GET, HEAD): Graph answers those transiently too,
    and a read repeated changes nothing. Writes keep msgraph's own rule."""
    from kiota_http.middleware import RetryHandler

    class ReadRetryHandler(RetryHandler):
        MAXIMUM_BACKOFF = GRAPH_MAX_BACKOFF

        def should_retry(self, request: Any, options: Any, response: Any) -> bool:
            if super().should_retry(request, options, response):
                return True
            return (
                request.method.upper() in ("GET", "HEAD")
                and response.status_code in (500, 502)
                and options.max_retry > 0
            )

    return ReadRetryHandler


def admin_credential(
    cloud: Cloud, tenant_id: str | None = None, *, http: Http | None = None
) -> AsyncTokenCredential:
    """The way every Azure tool authenticates an admin or a pipeline: environment
    (secret, certificate or federated token file), workload identity, managed identity,
    or ``az login`` — never a value from the config file."""
    from azure.identity.aio import DefaultAzureCredential

    kw = credential_kwargs(cloud)
    if http is not None:
        kw.pop("connection_verify", None)
        kw["transport"] = http.transport()
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

    async def __aenter__(self) -> TenantCredential:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Clients:
    """Lazily built SDK clients sharing one credential and one ``Http``; ``await close()``."""

    def __init__(
        self, cloud: Cloud, credential: AsyncTokenCredential, *, http: Http | None = None
    ) -> None:
        self.cloud = cloud
        self.credential = credential
        self._own_http = http is None
        self.http = http or Http(cloud)
        self._arm: dict[tuple[str, str], Any] = {}
        self._closers: list[Any] = []

    @classmethod
    def for_admin(cls, cloud: Cloud, tenant_id: str | None = None) -> Clients:
        """Clients authenticated like every Azure tool (``admin_credential``), one pool, one
        token per resource (``SharedTokens``)."""
        from provisioning.core.tokens import SharedTokens

        http = Http(cloud)
        credential = SharedTokens(admin_credential(cloud, tenant_id, http=http))
        clients = cls(cloud, credential, http=http)
        clients._own_http = True
        return clients

    def _arm_kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.cloud.arm,
            "credential_scopes": [self.cloud.arm_scope],
            "user_agent": USER_AGENT,
            "transport": self.http.transport(),
            **ARM_RETRY,
        }

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

        config_policies = [
            policies.RequestIdPolicy(),
            policies.HeadersPolicy(),
            policies.UserAgentPolicy(base_user_agent=USER_AGENT),
            policies.ProxyPolicy(),
            policies.ContentDecodePolicy(),
            AsyncARMAutoResourceProviderRegistrationPolicy(),
            policies.AsyncRedirectPolicy(),
            policies.AsyncRetryPolicy(**ARM_RETRY),
            policies.AsyncBearerTokenCredentialPolicy(self.credential, self.cloud.arm_scope),
            policies.NetworkTraceLoggingPolicy(),
            policies.HttpLoggingPolicy(),
        ]
        client: Any = AsyncARMPipelineClient(
            base_url=self.cloud.arm, policies=config_policies, transport=self.http.transport()
        )
        self._closers.append(client)
        return client

    @cached_property
    def graph(self) -> GraphServiceClient:
        from kiota_authentication_azure.azure_identity_authentication_provider import (
            AzureIdentityAuthenticationProvider,
        )
        from msgraph import GraphRequestAdapter, GraphServiceClient

        http = self.http.graph_httpx
        auth = AzureIdentityAuthenticationProvider(
            self.credential,
            scopes=[self.cloud.graph_scope],
            allowed_hosts=[urlparse(self.cloud.graph).netloc.split(":")[0]],
        )
        adapter = GraphRequestAdapter(auth, http)
        adapter.base_url = self.cloud.graph_v1
        return GraphServiceClient(request_adapter=adapter)

    @cached_property
    def graph_reader(self) -> GraphReader:
        """Graph reads as JSON (``core/graph.py``): the same credential, CAE on as msgraph's
        authentication provider asks, azure-core's retry policy."""
        from azure.core import AsyncPipelineClient
        from azure.core.pipeline import policies

        from provisioning.core.graph import GraphReader

        pipeline: Any = AsyncPipelineClient(
            base_url=self.cloud.graph_v1,
            policies=[
                policies.RequestIdPolicy(),
                policies.HeadersPolicy(),
                policies.UserAgentPolicy(base_user_agent=USER_AGENT),
                policies.AsyncRetryPolicy(),
                policies.AsyncBearerTokenCredentialPolicy(
                    self.credential, self.cloud.graph_scope, enable_cae=True
                ),
                policies.NetworkTraceLoggingPolicy(),
                policies.HttpLoggingPolicy(),
            ],
            transport=self.http.transport(),
        )
        self._closers.append(pipeline)
        return GraphReader(self.graph, pipeline, self.cloud.graph_v1)

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
        if self._own_http:
            await self.http.close()
