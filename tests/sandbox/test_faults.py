"""Each injected fault, as a real SDK client experiences it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, IncompleteReadError, ServiceResponseError
from azure.mgmt.msi import ManagedServiceIdentityClient

RG = "rg-identity"


def _msi(sb: Any) -> ManagedServiceIdentityClient:
    return ManagedServiceIdentityClient(
        sb.admin_credential("contoso"),
        sb.info["tenants"]["contoso"]["subscription_id"],
        base_url=sb.info["arm"],
        credential_scopes=["https://management.azure.com/.default"],
        connection_verify=sb.info["ca_bundle"],
    )


def _arm(sb: Any, since: int) -> list[dict[str, Any]]:
    return [e for e in sb.requests(since) if e["service"] == "arm"]


def test_azure_core_honours_retry_after(fresh_sandbox: Any) -> None:
    sb = fresh_sandbox
    client = _msi(sb)
    client.user_assigned_identities.create_or_update(RG, "umi-retry", {"location": "westus2"})
    mark = sb.mark()
    sb.fault("throttle", service="arm", method="GET", count=1, retry_after=2)
    assert client.user_assigned_identities.get(RG, "umi-retry").name == "umi-retry"
    log = _arm(sb, mark)
    assert [e["status"] for e in log] == [429, 200]
    assert log[1]["time"] - log[0]["time"] >= 1.9  # waited the Retry-After, not its own backoff


def test_msgraph_sdk_honours_retry_after(
    fresh_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient

    sb = fresh_sandbox
    for k, v in sb.env().items():  # SSL_CERT_FILE: how httpx/aiohttp learn the sandbox CA
        monkeypatch.setenv(k, v)
    t = sb.info["tenants"]["contoso"]
    sb.fault("throttle", service="graph", count=1, retry_after=1)
    mark = sb.mark()

    async def run() -> Any:
        cred = sb.admin_credential("contoso", aio=True)  # names the CA: aiohttp cached its own
        auth = AzureIdentityAuthenticationProvider(
            cred, scopes=["https://graph.microsoft.com/.default"], allowed_hosts=["127.0.0.1"]
        )
        adapter = GraphRequestAdapter(auth)
        adapter.base_url = f"{sb.info['graph']}/v1.0"
        try:
            return await GraphServiceClient(request_adapter=adapter).organization.get()
        finally:
            await cred.close()

    orgs = asyncio.run(run())
    assert orgs.value[0].id == t["tenant_id"]
    log = [e for e in sb.requests(mark) if e["service"] == "graph"]
    assert [e["status"] for e in log] == [429, 200]
    assert log[1]["time"] - log[0]["time"] >= 0.9


def test_transient_5xx_is_retried_by_the_sdk(fresh_sandbox: Any) -> None:
    sb = fresh_sandbox
    client = _msi(sb)
    sb.fault("error", service="arm", method="GET", status=503, count=2)
    mark = sb.mark()
    with pytest.raises(HttpResponseError) as info:  # the identity does not exist: a clean 404 after
        client.user_assigned_identities.get(RG, "umi-missing")
    assert info.value.status_code == 404
    assert [e["status"] for e in _arm(sb, mark)] == [503, 503, 404]


def test_latency_is_applied(fresh_sandbox: Any) -> None:
    sb = fresh_sandbox
    client = _msi(sb)
    client.user_assigned_identities.create_or_update(RG, "umi-slow", {"location": "westus2"})
    sb.fault("latency", service="arm", latency_ms=300)
    t = time.perf_counter()
    client.user_assigned_identities.get(RG, "umi-slow")
    assert time.perf_counter() - t >= 0.3


def test_a_lost_response_still_committed_the_write(fresh_sandbox: Any) -> None:
    sb = fresh_sandbox
    client = _msi(sb)
    sb.fault("lose_response", service="arm", method="PUT", count=1)
    mark = sb.mark()
    try:
        client.user_assigned_identities.create_or_update(RG, "umi-lost", {"location": "westus2"})
    except (IncompleteReadError, ServiceResponseError):
        pass  # the client may or may not retry the PUT by itself; either way:
    assert client.user_assigned_identities.get(RG, "umi-lost").principal_id
    puts = [e for e in _arm(sb, mark) if e["method"] == "PUT"]
    assert puts[0]["fault"] == "lose_response" and puts[0]["kind"] == "write"
    assert sb.stats(mark)["write"] == len(puts)
