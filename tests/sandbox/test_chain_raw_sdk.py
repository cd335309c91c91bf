"""The whole cross-tenant chain against the sandbox, with the raw Azure SDKs only (no xtenant
engine): contoso builds a user-assigned identity on vm-vector and a multi-tenant app that
trusts it, litware's admin consents and grants a role on its DCR, and a process "on"
vm-vector (only the host's environment variables) turns its managed-identity token into a
litware token, reads the DCR through ARM and uploads logs through the Logs Ingestion API.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

ARM_SCOPE = "https://management.azure.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
DIRECTORY_READ_ALL = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"
MONITORING_READER = "43d0d8ad-25c7-4714-9337-8ba259a9fe05"
REDIRECT = "https://localhost/xtenant/consent-done"
STREAM = "Custom-vector_CL"

# What runs on vm-vector: nothing but the SDKs and the host's environment.
HOST_SCRIPT = r"""
import json, os, sys
from azure.core import PipelineClient
from azure.core.exceptions import HttpResponseError
from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy
from azure.core.rest import HttpRequest
from azure.identity import ClientAssertionCredential, ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient

a = json.loads(sys.argv[1])
mi = ManagedIdentityCredential(client_id=a["mi_client_id"])
cred = ClientAssertionCredential(
    a["tenant"], a["app_id"],
    lambda: mi.get_token("api://AzureADTokenExchange/.default").token,
    authority=os.environ["AZURE_AUTHORITY_HOST"])
arm = PipelineClient(a["arm"], policies=[RetryPolicy(), BearerTokenCredentialPolicy(
    cred, "https://management.azure.com/.default")])
r = arm.send_request(HttpRequest("GET", a["arm"] + a["dcr"], params={"api-version": "2022-06-01"}))
out = {"dcr_status": r.status_code}
if r.status_code == 200:
    dcr = r.json()
    out["immutable_id"] = dcr["properties"]["immutableId"]
    logs = LogsIngestionClient(endpoint=a["dce_endpoint"], credential=cred)
    logs.upload(rule_id=out["immutable_id"], stream_name=a["stream"], logs=a["records"])
    out["uploaded"] = len(a["records"])
else:
    out["dcr_error"] = r.json().get("error", {}).get("code")
print(json.dumps(out))
"""


def _graph_client(sb: Any, tenant: str) -> Any:
    from kiota_authentication_azure.azure_identity_authentication_provider import (
        AzureIdentityAuthenticationProvider,
    )
    from msgraph import GraphRequestAdapter, GraphServiceClient

    auth = AzureIdentityAuthenticationProvider(sb.admin_credential(tenant), scopes=[GRAPH_SCOPE])
    adapter = GraphRequestAdapter(auth)
    adapter.base_url = f"{sb.info['graph']}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


def _arm_get(sb: Any, cred: Any, path: str, api_version: str) -> dict[str, Any]:
    from azure.core import PipelineClient
    from azure.core.pipeline.policies import BearerTokenCredentialPolicy, RetryPolicy
    from azure.core.rest import HttpRequest

    client = PipelineClient(
        sb.info["arm"], policies=[RetryPolicy(), BearerTokenCredentialPolicy(cred, ARM_SCOPE)]
    )
    r = client.send_request(
        HttpRequest("GET", f"{sb.info['arm']}{path}", params={"api-version": api_version})
    )
    r.raise_for_status()
    return r.json()


def _run_on_host(sb: Any, host: str, args: dict[str, Any]) -> dict[str, Any]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AZURE_", "IDENTITY_", "MSI_", "IMDS_"))
    }
    env.update(sb.env(host=host))
    p = subprocess.run(
        [sys.executable, "-c", HOST_SCRIPT, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr[-4000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.mark.e2e
def test_cross_tenant_chain_with_raw_sdks(
    fresh_sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.mgmt.authorization import AuthorizationManagementClient
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.msi import ManagedServiceIdentityClient
    from msgraph.generated.models.application import Application
    from msgraph.generated.models.federated_identity_credential import FederatedIdentityCredential
    from msgraph.generated.models.required_resource_access import RequiredResourceAccess
    from msgraph.generated.models.resource_access import ResourceAccess
    from msgraph.generated.models.web_application import WebApplication

    sb = fresh_sandbox
    for k, v in sb.env().items():
        monkeypatch.setenv(k, v)
    c, lw = sb.tenant("contoso"), sb.tenant("litware")
    arm_kw = {"base_url": sb.info["arm"], "credential_scopes": [ARM_SCOPE]}
    contoso = sb.admin_credential("contoso")

    # 1. contoso: a user-assigned identity, attached to vm-vector (a long-running update)
    msi = ManagedServiceIdentityClient(contoso, c["subscription_id"], **arm_kw)
    uami = msi.user_assigned_identities.create_or_update(
        "rg-identity", "id-vector-shipper", {"location": "westus2"}
    )
    compute = ComputeManagementClient(contoso, c["subscription_id"], **arm_kw)
    vm = compute.virtual_machines.get("rg-vm", "vm-vector")
    ids = {k: {} for k in ((vm.identity.user_assigned_identities or {}) if vm.identity else {})}
    ids[uami.id] = {}
    poller = compute.virtual_machines.begin_update(
        "rg-vm", "vm-vector", {"identity": {"type": "UserAssigned", "userAssignedIdentities": ids}}
    )
    vm = poller.result()
    assert uami.id.lower() in {k.lower() for k in vm.identity.user_assigned_identities}

    # 2. contoso: a multi-tenant app trusting that identity (msgraph-sdk)
    issuer = f"{sb.info['authority']}/{c['tenant_id']}/v2.0"

    async def build_app() -> Any:
        g = _graph_client(sb, "contoso")
        app = await g.applications.post(
            Application(
                display_name="vector-log-shipper",
                sign_in_audience="AzureADMultipleOrgs",
                web=WebApplication(redirect_uris=[REDIRECT]),
                required_resource_access=[
                    RequiredResourceAccess(
                        resource_app_id=GRAPH_APP_ID,
                        resource_access=[
                            ResourceAccess(id=uuid.UUID(DIRECTORY_READ_ALL), type="Role")
                        ],
                    )
                ],
            )
        )
        await g.applications.by_application_id(app.id).federated_identity_credentials.post(
            FederatedIdentityCredential(
                name="vm-vector-uami",
                issuer=issuer,
                subject=uami.principal_id,
                audiences=["api://AzureADTokenExchange"],
            )
        )
        return app

    app = asyncio.run(build_app())
    assert app.sign_in_audience == "AzureADMultipleOrgs" and app.app_id

    # 3. litware's admin consents (the page a browser would show, then Accept)
    consent_url = f"{sb.info['authority']}/{lw['tenant_id']}/v2.0/adminconsent"
    params = {
        "client_id": app.app_id,
        "redirect_uri": REDIRECT,
        "scope": GRAPH_SCOPE,
        "state": "chain",
    }
    with httpx.Client(verify=sb.info["ca_bundle"], timeout=30) as h:
        page = h.get(consent_url, params=params)
        assert page.status_code == 200 and "vector-log-shipper" in page.text
        done = h.post(consent_url, data={**params, "decision": "accept"})
    assert done.status_code == 302
    q = parse_qs(urlsplit(done.headers["location"]).query)
    assert q["admin_consent"] == ["True"] and q["tenant"] == [lw["tenant_id"]]

    async def litware_sp() -> Any:
        return await _graph_client(sb, "litware").service_principals_with_app_id(app.app_id).get()

    sp = asyncio.run(litware_sp())
    assert sp.app_id == app.app_id

    # 4. litware's admin grants roles on the DCR (azure-mgmt-authorization)
    litware = sb.admin_credential("litware")
    dcr_id = lw["resources"]["dcr"]
    authz = AuthorizationManagementClient(litware, lw["subscription_id"], **arm_kw)

    def assign(role: str) -> None:
        authz.role_assignments.create(
            dcr_id,
            str(uuid.uuid4()),
            {
                "role_definition_id": f"/subscriptions/{lw['subscription_id']}/providers/"
                f"Microsoft.Authorization/roleDefinitions/{role}",
                "principal_id": sp.id,
                "principal_type": "ServicePrincipal",
            },
        )

    assign(MONITORING_METRICS_PUBLISHER)
    dce = _arm_get(sb, litware, lw["resources"]["dce"], "2022-06-01")
    args = {
        "tenant": lw["tenant_id"],
        "app_id": app.app_id,
        "mi_client_id": uami.client_id,
        "arm": sb.info["arm"],
        "dcr": dcr_id,
        "stream": STREAM,
        "dce_endpoint": dce["properties"]["logsIngestion"]["endpoint"],
        "records": [
            {"TimeGenerated": "2026-01-01T00:00:00Z", "message": f"hello {i}", "host": "vm-vector"}
            for i in range(3)
        ],
    }

    # 5. on vm-vector: Monitoring Metrics Publisher alone does not allow reading the DCR ...
    out = _run_on_host(sb, "vm-vector", args)
    assert out == {"dcr_status": 403, "dcr_error": "AuthorizationFailed"}
    # ... a reader role does; then the upload goes through with the data action
    assign(MONITORING_READER)
    out = _run_on_host(sb, "vm-vector", args)
    assert out["dcr_status"] == 200 and out["uploaded"] == 3, out
    got = [r for r in sb.ingested(STREAM) if r["record"].get("message", "").startswith("hello ")]
    assert [r["record"]["message"] for r in got] == ["hello 0", "hello 1", "hello 2"]
    assert {r["tenant"] for r in got} == {lw["tenant_id"]}
    assert {r["caller"] for r in got} & {app.app_id, sp.id}  # the app, as litware knows it
