"""The Logs Ingestion API in the sandbox, driven by the unmodified ``azure-monitor-ingestion``
client (gzip bodies, 1 MB chunks) and by raw HTTP for the error bodies."""

from __future__ import annotations

import gzip
import json
import ssl
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.core.exceptions import HttpResponseError
from azure.identity import ClientSecretCredential
from azure.monitor.ingestion import LogsIngestionClient

MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
MONITOR_SCOPE = "https://monitor.azure.com/.default"
STREAM = "Custom-vector_CL"


class Ctx:
    def __init__(self, sb: Any) -> None:
        self.sb = sb
        lw = sb.tenant("litware")
        self.tid = lw["tenant_id"]
        arm = sb.world.arm
        dcr = arm.resource(lw["resources"]["dcr"])
        dce = arm.render(arm.resource(lw["resources"]["dce"]))
        self.dcr_id = dcr["id"]
        self.immutable_id = dcr["properties"]["immutableId"]
        self.endpoint = dce["properties"]["logsIngestion"]["endpoint"]
        self.closers: list[Any] = []

    def principal(self, name: str, *, publisher: bool) -> dict[str, str]:
        p = self.sb.world.directory.create_admin(
            self.tid, f"{name}-{uuid.uuid4().hex[:6]}", graph_roles=()
        )
        if publisher:
            self.sb.world.arm.assign_role(
                self.dcr_id, MONITORING_METRICS_PUBLISHER, p["principal_id"], "ServicePrincipal"
            )
        return p

    def cred(self, tenant_id: str, client_id: str, secret: str) -> ClientSecretCredential:
        c = self.sb.secret_credential(tenant_id, client_id, secret)
        self.closers.append(c)
        return c

    def client(self, cred: ClientSecretCredential) -> LogsIngestionClient:
        c = LogsIngestionClient(endpoint=self.endpoint, credential=cred)
        self.closers.append(c)
        return c

    def http(self) -> httpx.Client:
        c = httpx.Client(
            verify=ssl.create_default_context(cafile=self.sb.info["ca_bundle"]), timeout=30
        )
        self.closers.append(c)
        return c


@pytest.fixture()
def ctx(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ctx]:
    for k, v in sandbox.env().items():
        monkeypatch.setenv(k, v)
    c = Ctx(sandbox)
    yield c
    for x in c.closers:
        x.close()


def _records(n: int, tag: str) -> list[dict[str, Any]]:
    return [
        {"TimeGenerated": "2024-05-01T00:00:00Z", "message": f"{tag} line {i}", "host": "vm-vector"}
        for i in range(n)
    ]


def test_upload_with_monitoring_metrics_publisher(ctx: Ctx) -> None:
    p = ctx.principal("shipper", publisher=True)
    client = ctx.client(ctx.cred(ctx.tid, p["client_id"], p["client_secret"]))
    tag = uuid.uuid4().hex
    client.upload(rule_id=ctx.immutable_id, stream_name=STREAM, logs=_records(3, tag))
    got = [r for r in ctx.sb.ingested(STREAM) if r["record"]["message"].startswith(tag)]
    assert [r["record"]["message"] for r in got] == [f"{tag} line {i}" for i in range(3)]
    assert {(r["tenant"], r["dcr"], r["stream"], r["caller"]) for r in got} == {
        (ctx.tid, ctx.dcr_id, STREAM, p["principal_id"])
    }
    assert ctx.sb.ingested("Custom-other_CL") == []


def test_large_upload_is_chunked_by_the_sdk(ctx: Ctx) -> None:
    p = ctx.principal("bulk", publisher=True)
    client = ctx.client(ctx.cred(ctx.tid, p["client_id"], p["client_secret"]))
    tag = uuid.uuid4().hex
    logs = [
        {"TimeGenerated": "2024-05-01T00:00:00Z", "message": f"{tag} {i} " + "x" * 900, "host": "h"}
        for i in range(3000)
    ]  # ~2.8 MB: the SDK sends several gzip chunks of < 1 MB each
    mark = ctx.sb.mark()
    client.upload(rule_id=ctx.immutable_id, stream_name=STREAM, logs=logs)
    posts = [
        e for e in ctx.sb.requests(mark) if e["service"] == "monitor" and e["method"] == "POST"
    ]
    assert len(posts) >= 3 and {e["status"] for e in posts} == {204}
    got = [r for r in ctx.sb.ingested(STREAM) if r["record"]["message"].startswith(tag)]
    assert len(got) == 3000


def test_without_the_data_action_is_403(ctx: Ctx) -> None:
    # the tenant admin is Owner on the subscription: Owner has no data actions
    lw = ctx.sb.tenant("litware")
    client = ctx.client(ctx.cred(ctx.tid, lw["admin"]["client_id"], lw["admin"]["client_secret"]))
    with pytest.raises(HttpResponseError) as exc:
        client.upload(rule_id=ctx.immutable_id, stream_name=STREAM, logs=_records(1, "owner"))
    assert exc.value.status_code == 403
    body = json.loads(exc.value.response.text())
    assert body["error"]["code"] == "OperationFailed"
    assert body["error"]["message"].startswith(
        "The authentication token provided does not have access to ingest data for the data collection rule "
        f"with immutable Id '{ctx.immutable_id}'"
    )


def test_error_bodies(ctx: Ctx) -> None:
    p = ctx.principal("raw", publisher=True)
    token = ctx.cred(ctx.tid, p["client_id"], p["client_secret"]).get_token(MONITOR_SCOPE).token
    http = ctx.http()
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
    }
    body = gzip.compress(json.dumps(_records(2, "raw")).encode())
    url = f"{ctx.endpoint}/dataCollectionRules/{ctx.immutable_id}/streams/{STREAM}"
    ok = http.post(url, params={"api-version": "2023-01-01"}, content=body, headers=headers)
    assert ok.status_code == 204 and ok.content == b""
    # uncompressed bodies are accepted too
    plain = http.post(
        url,
        params={"api-version": "2023-01-01"},
        json=_records(1, "plain"),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert plain.status_code == 204
    ghost = f"dcr-{uuid.uuid4().hex}"
    r = http.post(
        url.replace(ctx.immutable_id, ghost),
        params={"api-version": "2023-01-01"},
        content=body,
        headers=headers,
    )
    assert r.status_code == 404
    assert r.json()["error"] == {
        "code": "NotFound",
        "message": f"Data collection rule with immutable Id '{ghost}' not found.",
    }
    r = http.post(
        url.replace(STREAM, "Custom-nope_CL"),
        params={"api-version": "2023-01-01"},
        content=body,
        headers=headers,
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidStream"
    r = http.post(
        url,
        params={"api-version": "2023-01-01"},
        content=body,
        headers={k: v for k, v in headers.items() if k != "Authorization"},
    )
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer ")
    # a management token is for the wrong audience
    arm_token = (
        ctx.cred(ctx.tid, p["client_id"], p["client_secret"])
        .get_token("https://management.azure.com/.default")
        .token
    )
    r = http.post(
        url,
        params={"api-version": "2023-01-01"},
        content=body,
        headers={**headers, "Authorization": f"Bearer {arm_token}"},
    )
    assert (
        r.status_code == 401 and r.json()["error"]["code"] == "InvalidAuthenticationTokenAudience"
    )
    r = http.post(url, content=body, headers=headers)
    assert r.status_code == 400 and r.json()["error"]["code"] == "MissingApiVersionParameter"


def test_token_from_another_tenant_is_refused(ctx: Ctx) -> None:
    contoso = ctx.sb.tenant("contoso")
    client = ctx.client(
        ctx.cred(
            contoso["tenant_id"], contoso["admin"]["client_id"], contoso["admin"]["client_secret"]
        )
    )
    with pytest.raises(HttpResponseError) as exc:
        client.upload(rule_id=ctx.immutable_id, stream_name=STREAM, logs=_records(1, "foreign"))
    assert exc.value.status_code == 403
