"""Managed-identity endpoints: IMDS for the VM host, the App Service / Automation protocol
for the Automation account, only for identities attached in ARM right now.

The clients are the unmodified ``ManagedIdentityCredential`` (azure-identity, which
delegates to MSAL), pointed at the sandbox only by the variables in ``sandbox.json``'s
``hosts[...].env``; plain httpx where the wire format itself is checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

ARM_SCOPE = "https://management.azure.com/.default"
EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936"
HOST_VARS = (
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IMDS_ENDPOINT",
    "MSI_ENDPOINT",
    "MSI_SECRET",
)


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


@pytest.fixture(scope="module")
def sbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp_path_factory.mktemp("identity"), seed="demo")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in sb.env().items():
            mp.setenv(k, v)
        yield sb
    sb.stop()


@pytest.fixture(scope="module")
def arm(sbx: Any) -> dict[str, Any]:
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.msi import ManagedServiceIdentityClient

    c = sbx.tenant("contoso")
    cred = sbx.admin_credential("contoso")
    kw = {"base_url": sbx.info["arm"], "credential_scopes": [ARM_SCOPE]}
    return {
        "msi": ManagedServiceIdentityClient(cred, c["subscription_id"], **kw),
        "compute": ComputeManagementClient(cred, c["subscription_id"], **kw),
    }


def _on_host(mp: pytest.MonkeyPatch, sb: Any, host: str) -> None:
    for k in HOST_VARS:
        mp.delenv(k, raising=False)
    for k, v in sb.env(host=host).items():
        mp.setenv(k, v)


def _set_vm_identities(arm: dict[str, Any], ids: list[str]) -> None:
    ident = (
        {"type": "UserAssigned", "userAssignedIdentities": {i: {} for i in ids}}
        if ids
        else {"type": "None"}
    )
    arm["compute"].virtual_machines.begin_update("rg-vm", "vm-vector", {"identity": ident}).result()


def _imds(sb: Any, **params: str) -> httpx.Response:
    url = f"{sb.env(host='vm-vector')['AZURE_POD_IDENTITY_AUTHORITY_HOST']}/metadata/identity/oauth2/token"
    return httpx.get(
        url,
        params={"api-version": "2018-02-01", **params},
        headers={"Metadata": "true"},
        timeout=30,
    )


# ---- host environment --------------------------------------------------------------------------
def test_host_env_in_sandbox_json(sbx: Any) -> None:
    hosts = sbx.info["hosts"]
    vm, aa = hosts["vm-vector"], hosts["aa-runbooks"]
    assert vm["kind"] == "vm"
    assert vm["env"] == {
        "AZURE_POD_IDENTITY_AUTHORITY_HOST": f"{sbx.info['identity']}/hosts/vm-vector"
    }
    assert aa["kind"] == "automation"
    assert aa["env"]["IDENTITY_ENDPOINT"] == f"{sbx.info['identity']}/hosts/aa-runbooks/msi/token"
    assert len(aa["env"]["IDENTITY_HEADER"]) >= 32


def test_identity_header_survives_restart(tmp_path: Any) -> None:
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp_path / "s", seed="demo")
    first = sb.info["hosts"]["aa-runbooks"]["env"]["IDENTITY_HEADER"]
    sb.stop()
    sb = Sandbox.start(tmp_path / "s", seed="demo")
    try:
        assert sb.info["hosts"]["aa-runbooks"]["env"]["IDENTITY_HEADER"] == first
    finally:
        sb.stop()


# ---- IMDS --------------------------------------------------------------------------------------
def test_imds_without_identity_and_without_metadata_header(sbx: Any, arm: dict[str, Any]) -> None:
    _set_vm_identities(arm, [])
    r = _imds(sbx, resource="https://management.azure.com/")
    assert r.status_code == 400
    assert r.json() == {"error": "invalid_request", "error_description": "Identity not found"}
    url = f"{sbx.env(host='vm-vector')['AZURE_POD_IDENTITY_AUTHORITY_HOST']}/metadata/identity/oauth2/token"
    r = httpx.get(
        url, params={"api-version": "2018-02-01", "resource": "https://management.azure.com/"}
    )
    assert (
        r.status_code == 400
        and r.json()["error_description"] == "Required metadata header not specified"
    )


def test_imds_with_managed_identity_credential(
    sbx: Any, arm: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.identity import ManagedIdentityCredential

    uami = arm["msi"].user_assigned_identities.create_or_update(
        "rg-identity", "id-imds-1", {"location": "westus2"}
    )
    _set_vm_identities(arm, [uami.id])
    _on_host(monkeypatch, sbx, "vm-vector")
    tok = ManagedIdentityCredential(client_id=uami.client_id).get_token(ARM_SCOPE)
    c = _claims(tok.token)
    assert c["aud"] == "https://management.azure.com" and c["oid"] == uami.principal_id
    assert c["appid"] == uami.client_id and c["appidacr"] == "2" and c["idtyp"] == "app"
    assert c["xms_mirid"].lower() == uami.id.lower()
    assert c["tid"] == sbx.tenant("contoso")["tenant_id"]
    # the only identity is also the default one (no client_id), as on IMDS
    assert (
        _claims(ManagedIdentityCredential().get_token(ARM_SCOPE).token)["oid"] == uami.principal_id
    )
    # the wire format: every field a string
    r = _imds(sbx, resource="https://management.azure.com/")
    body = r.json()
    assert set(body) == {
        "access_token",
        "client_id",
        "expires_in",
        "expires_on",
        "ext_expires_in",
        "not_before",
        "resource",
        "token_type",
    }
    assert all(isinstance(v, str) for v in body.values())
    assert (
        body["resource"] == "https://management.azure.com/" and body["client_id"] == uami.client_id
    )


def test_imds_exchange_token_is_v2(
    sbx: Any, arm: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.identity import ManagedIdentityCredential

    uami = arm["msi"].user_assigned_identities.get("rg-identity", "id-imds-1")
    _set_vm_identities(arm, [uami.id])
    _on_host(monkeypatch, sbx, "vm-vector")
    c = _claims(
        ManagedIdentityCredential(client_id=uami.client_id)
        .get_token("api://AzureADTokenExchange/.default")
        .token
    )
    assert c["aud"] == EXCHANGE_APP_ID and c["ver"] == "2.0"
    assert c["iss"] == f"{sbx.info['authority']}/{sbx.tenant('contoso')['tenant_id']}/v2.0"
    assert c["sub"] == c["oid"] == uami.principal_id and c["azp"] == uami.client_id


def test_imds_multiple_identities(
    sbx: Any, arm: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ManagedIdentityCredential

    a = arm["msi"].user_assigned_identities.create_or_update(
        "rg-identity", "id-imds-a", {"location": "westus2"}
    )
    b = arm["msi"].user_assigned_identities.create_or_update(
        "rg-identity", "id-imds-b", {"location": "westus2"}
    )
    _set_vm_identities(arm, [a.id, b.id])
    r = _imds(sbx, resource="https://management.azure.com/")
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_request",
        "error_description": "Multiple user assigned identities exist, please specify the clientId / "
        "resourceId of the identity in the token request",
    }
    _on_host(monkeypatch, sbx, "vm-vector")
    with pytest.raises(ClientAuthenticationError, match="Multiple user assigned identities"):
        ManagedIdentityCredential().get_token(ARM_SCOPE)
    # each selector IMDS knows picks one of them
    assert (
        _claims(ManagedIdentityCredential(client_id=b.client_id).get_token(ARM_SCOPE).token)["oid"]
        == b.principal_id
    )
    by_res = ManagedIdentityCredential(identity_config={"resource_id": a.id}).get_token(ARM_SCOPE)
    assert _claims(by_res.token)["oid"] == a.principal_id
    by_oid = ManagedIdentityCredential(identity_config={"object_id": b.principal_id}).get_token(
        ARM_SCOPE
    )
    assert _claims(by_oid.token)["oid"] == b.principal_id
    unknown = _imds(
        sbx,
        resource="https://management.azure.com/",
        client_id="00000000-0000-0000-0000-000000000009",
    )
    assert (
        unknown.status_code == 400 and unknown.json()["error_description"] == "Identity not found"
    )


def test_detached_identity_stops_working(
    sbx: Any, arm: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ManagedIdentityCredential

    u = arm["msi"].user_assigned_identities.create_or_update(
        "rg-identity", "id-imds-gone", {"location": "westus2"}
    )
    _set_vm_identities(arm, [u.id])
    _on_host(monkeypatch, sbx, "vm-vector")
    assert ManagedIdentityCredential(client_id=u.client_id).get_token(ARM_SCOPE).token
    _set_vm_identities(arm, [])
    with pytest.raises(ClientAuthenticationError, match="Identity not found"):
        ManagedIdentityCredential(client_id=u.client_id).get_token(ARM_SCOPE)
    r = _imds(sbx, resource="https://management.azure.com/", client_id=u.client_id)
    assert r.status_code == 400 and r.json()["error_description"] == "Identity not found"


def test_imds_unknown_resource_500011(sbx: Any, arm: dict[str, Any]) -> None:
    u = arm["msi"].user_assigned_identities.create_or_update(
        "rg-identity", "id-imds-res", {"location": "westus2"}
    )
    _set_vm_identities(arm, [u.id])
    r = _imds(sbx, resource="https://nothing-here.example.com")
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_resource"
    assert r.json()["error_description"].startswith("AADSTS500011:")


# ---- App Service / Automation ------------------------------------------------------------------
def test_automation_system_identity_via_app_service_protocol(
    sbx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.identity import ManagedIdentityCredential

    _on_host(monkeypatch, sbx, "aa-runbooks")
    c = _claims(ManagedIdentityCredential().get_token(ARM_SCOPE).token)
    host = sbx.info["hosts"]["aa-runbooks"]
    assert c["xms_mirid"] == host["resource_id"] and c["appidacr"] == "2"
    assert c["tid"] == host["tenant"] and c["oid"] == c["sub"]


def test_app_service_wire_format_and_refusals(sbx: Any) -> None:
    env = sbx.env(host="aa-runbooks")
    url, secret = env["IDENTITY_ENDPOINT"], env["IDENTITY_HEADER"]
    params = {"api-version": "2019-08-01", "resource": "https://management.azure.com"}
    ok = httpx.get(url, params=params, headers={"X-IDENTITY-HEADER": secret})
    assert ok.status_code == 200
    body = ok.json()
    assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    assert body["expires_on"].isdigit() and body["resource"] == "https://management.azure.com"
    bad = httpx.get(url, params=params, headers={"X-IDENTITY-HEADER": "wrong"})
    assert bad.status_code == 401
    none = httpx.get(
        url,
        params={**params, "client_id": "00000000-0000-0000-0000-000000000009"},
        headers={"X-IDENTITY-HEADER": secret},
    )
    assert none.status_code == 400 and none.json()["statusCode"] == 400
    assert "No User Assigned or Delegated Managed Identity found" in none.json()["message"]
    # a host's path answers only its own protocol
    imds_on_aa = url.replace("/msi/token", "/metadata/identity/oauth2/token")
    assert httpx.get(imds_on_aa, params=params, headers={"Metadata": "true"}).status_code == 404


def test_token_requests_logged_as_token_kind(sbx: Any) -> None:
    mark = sbx.mark()
    env = sbx.env(host="aa-runbooks")
    httpx.get(
        env["IDENTITY_ENDPOINT"],
        params={"api-version": "2019-08-01", "resource": "https://management.azure.com"},
        headers={"X-IDENTITY-HEADER": env["IDENTITY_HEADER"]},
    )
    e = [x for x in sbx.requests(mark) if x["service"] == "identity"][-1]
    assert e["kind"] == "token" and e["status"] == 200
    assert e["tenant"] == sbx.tenant("contoso")["tenant_id"]
