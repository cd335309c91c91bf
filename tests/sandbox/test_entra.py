"""Entra in the sandbox: discovery, the client-credentials flow (secret and federated
assertion), Entra's refusals with their AADSTS codes, and admin consent.

Every request goes over real HTTPS; clients are the unmodified azure-identity/MSAL
credentials (configured only through public knobs) or plain httpx where the exact
wire format is the point. The directory and ARM state the flow needs (a multi-tenant
app, its federated credentials, a user-assigned identity on vm-vector) is built through
the sandbox's Graph and ARM endpoints, as a customer would.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

EXCHANGE = "api://AzureADTokenExchange"
EXCHANGE_APP_ID = "fb60f99c-7a34-4190-8149-302f77469936"
ARM_SCOPE = "https://management.azure.com/.default"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
DIRECTORY_READ_ALL = "7ab1d382-f21e-4acd-a863-ba3e13f7da61"  # Graph app role id
REDIRECT = "https://localhost/xtenant/consent-done"


# ---- helpers --------------------------------------------------------------------------------
def _http(sb: Any) -> httpx.Client:
    return httpx.Client(verify=sb.info["ca_bundle"], timeout=30)


def _claims(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def _admin_token(sb: Any, tenant: str, scope: str) -> str:
    t = sb.tenant(tenant)
    with _http(sb) as h:
        r = h.post(
            f"{sb.info['authority']}/{t['tenant_id']}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": t["admin"]["client_id"],
                "client_secret": t["admin"]["client_secret"],
                "scope": scope,
            },
        )
    r.raise_for_status()
    return r.json()["access_token"]


def _graph(sb: Any, tenant: str, method: str, path: str, body: Any = None) -> httpx.Response:
    tok = _admin_token(sb, tenant, GRAPH_SCOPE)
    with _http(sb) as h:
        return h.request(
            method,
            f"{sb.info['graph']}/v1.0{path}",
            json=body,
            headers={"Authorization": f"Bearer {tok}"},
        )


def post_token(sb: Any, tenant: str, data: dict[str, str], *, v1: bool = False) -> httpx.Response:
    path = "oauth2/token" if v1 else "oauth2/v2.0/token"
    with _http(sb) as h:
        return h.post(f"{sb.info['authority']}/{tenant}/{path}", data=data)


def assert_aadsts(r: httpx.Response, status: int, error: str, code: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error, body
    assert body["error_codes"][0] == code, body
    assert body["error_description"].startswith(f"AADSTS{code}: "), body
    for k in ("timestamp", "trace_id", "correlation_id"):
        assert body[k]
    return body


def make_app(
    sb: Any,
    tenant: str,
    *,
    name: str | None = None,
    multi: bool = True,
    fic: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A (multi-tenant) app registered in ``tenant`` through Graph, with an optional FIC."""
    body = {
        "displayName": name or f"xt-{uuid.uuid4().hex[:8]}",
        "signInAudience": "AzureADMultipleOrgs" if multi else "AzureADMyOrg",
        "web": {"redirectUris": [REDIRECT]},
        "requiredResourceAccess": [
            {
                "resourceAppId": GRAPH_APP_ID,
                "resourceAccess": [{"id": DIRECTORY_READ_ALL, "type": "Role"}],
            }
        ],
    }
    r = _graph(sb, tenant, "POST", "/applications", body)
    assert r.status_code == 201, r.text
    app = r.json()
    if fic is not None:
        f = {"name": f"fic-{uuid.uuid4().hex[:8]}", **fic}
        r = _graph(sb, tenant, "POST", f"/applications/{app['id']}/federatedIdentityCredentials", f)
        assert r.status_code == 201, r.text
    return app


def consent(
    sb: Any,
    tenant_id: str,
    app_id: str,
    *,
    scope: str = GRAPH_SCOPE,
    decision: str = "accept",
    state: str = "st-1",
) -> httpx.Response:
    base = f"{sb.info['authority']}/{tenant_id}/v2.0/adminconsent"
    params = {"client_id": app_id, "redirect_uri": REDIRECT, "scope": scope, "state": state}
    with _http(sb) as h:
        page = h.get(base, params=params)
        assert page.status_code == 200 and 'id="accept"' in page.text, page.text
        return h.post(base, data={**params, "decision": decision})


def mi_token(sb: Any, client_id: str, resource: str = f"{EXCHANGE}/.default") -> str:
    """A managed-identity token on vm-vector, through the unmodified ManagedIdentityCredential."""
    from azure.identity import ManagedIdentityCredential

    with pytest.MonkeyPatch.context() as mp:
        for k in ("IDENTITY_ENDPOINT", "IDENTITY_HEADER", "MSI_ENDPOINT", "IMDS_ENDPOINT"):
            mp.delenv(k, raising=False)
        for k, v in sb.env(host="vm-vector").items():
            mp.setenv(k, v)
        return ManagedIdentityCredential(client_id=client_id).get_token(resource).token


def assertion_request(
    sb: Any, app_id: str, assertion: str, scope: str = ARM_SCOPE
) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_id": app_id,
        "scope": scope,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }


# ---- fixtures -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """This module's own demo sandbox (it attaches identities to vm-vector and moves settings)."""
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp_path_factory.mktemp("entra"), seed="demo")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in sb.env().items():
            mp.setenv(k, v)
        yield sb
    sb.stop()


@pytest.fixture(scope="module")
def chain(sbx: Any) -> dict[str, Any]:
    """contoso: a UAMI on vm-vector and a multi-tenant app trusting it; consented in litware."""
    from azure.mgmt.compute import ComputeManagementClient
    from azure.mgmt.msi import ManagedServiceIdentityClient

    c, lw = sbx.tenant("contoso"), sbx.tenant("litware")
    cred = sbx.admin_credential("contoso")
    kw = {"base_url": sbx.info["arm"], "credential_scopes": [ARM_SCOPE]}
    msi = ManagedServiceIdentityClient(cred, c["subscription_id"], **kw)
    uami = msi.user_assigned_identities.create_or_update(
        "rg-identity", "id-entra-tests", {"location": "westus2"}
    )
    compute = ComputeManagementClient(cred, c["subscription_id"], **kw)
    compute.virtual_machines.begin_update(
        "rg-vm",
        "vm-vector",
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uami.id: {}}}},
    ).result()
    issuer = f"{sbx.info['authority']}/{c['tenant_id']}/v2.0"
    fic = {"issuer": issuer, "subject": uami.principal_id, "audiences": [EXCHANGE]}
    app = make_app(sbx, "contoso", name="xt-entra-chain", fic=fic)
    r = consent(sbx, lw["tenant_id"], app["appId"])
    assert r.status_code == 302, r.text
    return {
        "uami": uami,
        "app": app,
        "issuer": issuer,
        "fic": fic,
        "contoso": c["tenant_id"],
        "litware": lw["tenant_id"],
    }


# ---- discovery ------------------------------------------------------------------------------
def test_openid_configuration_v2_by_guid_and_domain(sbx: Any) -> None:
    a = sbx.info["authority"]
    c = sbx.tenant("contoso")
    with _http(sbx) as h:
        for ref in (c["tenant_id"], c["domain"]):
            doc = h.get(f"{a}/{ref}/v2.0/.well-known/openid-configuration").json()
            assert doc["issuer"] == f"{a}/{c['tenant_id']}/v2.0"
            assert doc["token_endpoint"] == f"{a}/{c['tenant_id']}/oauth2/v2.0/token"
            assert doc["authorization_endpoint"] == f"{a}/{c['tenant_id']}/oauth2/v2.0/authorize"
            assert doc["jwks_uri"] == f"{a}/{c['tenant_id']}/discovery/v2.0/keys"
        org = h.get(f"{a}/organizations/v2.0/.well-known/openid-configuration").json()
        assert org["issuer"] == f"{a}/{{tenantid}}/v2.0"
        assert org["token_endpoint"] == f"{a}/organizations/oauth2/v2.0/token"
        v1 = h.get(f"{a}/{c['tenant_id']}/.well-known/openid-configuration").json()
        assert v1["token_endpoint"] == f"{a}/{c['tenant_id']}/oauth2/token"
        assert v1["issuer"] == f"https://sts.windows.net/{c['tenant_id']}/"
        assert v1["jwks_uri"] == f"{a}/common/discovery/keys"


def test_jwks_verifies_issued_tokens(sbx: Any) -> None:
    tok = _admin_token(sbx, "contoso", ARM_SCOPE)
    kid = jwt.get_unverified_header(tok)["kid"]
    with _http(sbx) as h:
        for path in (
            f"{sbx.tenant('contoso')['tenant_id']}/discovery/v2.0/keys",
            "common/discovery/keys",
        ):
            keys = h.get(f"{sbx.info['authority']}/{path}").json()["keys"]
            key = next(k for k in keys if k["kid"] == kid)
            pub = jwt.PyJWK(key).key
            claims = jwt.decode(
                tok, pub, algorithms=["RS256"], audience="https://management.azure.com"
            )
            assert claims["tid"] == sbx.tenant("contoso")["tenant_id"]


def test_instance_discovery(sbx: Any) -> None:
    a = sbx.info["authority"]
    c = sbx.tenant("contoso")["tenant_id"]
    with _http(sbx) as h:
        r = h.get(
            f"{a}/common/discovery/instance",
            params={
                "api-version": "1.1",
                "authorization_endpoint": f"{a}/{c}/oauth2/v2.0/authorize",
            },
        )
        assert r.status_code == 200
        body = r.json()
        assert body["tenant_discovery_endpoint"] == f"{a}/{c}/v2.0/.well-known/openid-configuration"
        host = urlsplit(a).netloc
        assert host in body["metadata"][0]["aliases"]
        bad = h.get(
            f"{a}/common/discovery/instance",
            params={
                "api-version": "1.1",
                "authorization_endpoint": "https://elsewhere.example/x/oauth2/authorize",
            },
        )
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_instance"


def test_raw_msal_runs_instance_discovery_against_the_sandbox(sbx: Any) -> None:
    """MSAL's instance discovery, aimed at the sandbox (azure-identity can only turn it off)."""
    import msal

    c = sbx.tenant("contoso")
    a = sbx.info["authority"]
    mark = sbx.mark()
    app = msal.ConfidentialClientApplication(
        c["admin"]["client_id"],
        client_credential=c["admin"]["client_secret"],
        authority=f"{a}/{c['tenant_id']}",
        instance_discovery=f"{a}/common/discovery/instance",
    )
    result = app.acquire_token_for_client(["https://management.azure.com/.default"])
    assert "access_token" in result, result
    paths = [e["path"] for e in sbx.requests(mark)]
    assert paths[:2] == [
        "/common/discovery/instance",
        f"/{c['tenant_id']}/v2.0/.well-known/openid-configuration",
    ]


def test_discovery_unknown_tenant_is_90002(sbx: Any) -> None:
    with _http(sbx) as h:
        r = h.get(f"{sbx.info['authority']}/{uuid.uuid4()}/v2.0/.well-known/openid-configuration")
    assert_aadsts(r, 400, "invalid_tenant", 90002)


# ---- client secret ----------------------------------------------------------------------------
def test_client_secret_credential_arm_and_graph_tokens(sbx: Any) -> None:
    c = sbx.tenant("contoso")
    cred = sbx.admin_credential("contoso")
    arm = _claims(cred.get_token(ARM_SCOPE).token)
    assert arm["aud"] == "https://management.azure.com"
    assert arm["iss"] == f"https://sts.windows.net/{c['tenant_id']}/"
    assert arm["tid"] == c["tenant_id"] and arm["appid"] == c["admin"]["client_id"]
    assert arm["appidacr"] == "1" and arm["idtyp"] == "app" and arm["ver"] == "1.0"
    assert arm["oid"] == arm["sub"]
    assert arm["nbf"] <= arm["iat"] < arm["exp"]
    assert "roles" not in arm
    graph = _claims(cred.get_token(GRAPH_SCOPE).token)
    assert graph["aud"] == "https://graph.microsoft.com"
    assert {"Application.ReadWrite.All", "AppRoleAssignment.ReadWrite.All"} <= set(graph["roles"])
    assert graph["oid"] == arm["oid"]


def test_default_azure_credential_from_environment(
    sbx: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from azure.identity import DefaultAzureCredential

    for k, v in sbx.env(admin="litware").items():
        monkeypatch.setenv(k, v)
    cred = DefaultAzureCredential(disable_instance_discovery=True)
    claims = _claims(cred.get_token(ARM_SCOPE).token)
    assert claims["tid"] == sbx.tenant("litware")["tenant_id"]
    assert claims["appid"] == sbx.tenant("litware")["admin"]["client_id"]


def test_token_response_shape_v2_and_v1(sbx: Any) -> None:
    t = sbx.tenant("contoso")
    base = {
        "grant_type": "client_credentials",
        "client_id": t["admin"]["client_id"],
        "client_secret": t["admin"]["client_secret"],
    }
    r = post_token(sbx, t["domain"], {**base, "scope": ARM_SCOPE})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"token_type", "expires_in", "ext_expires_in", "access_token"}
    assert body["token_type"] == "Bearer" and isinstance(body["expires_in"], int)
    assert r.headers["cache-control"].startswith("no-store")
    r1 = post_token(
        sbx, t["tenant_id"], {**base, "resource": "https://management.core.windows.net/"}, v1=True
    )
    assert r1.status_code == 200, r1.text
    b1 = r1.json()
    assert b1["resource"] == "https://management.core.windows.net/"
    assert all(isinstance(b1[k], str) for k in ("expires_in", "expires_on", "not_before"))
    assert _claims(b1["access_token"])["aud"] == "https://management.core.windows.net/"


def test_client_secret_in_basic_auth_header(sbx: Any) -> None:
    t = sbx.tenant("contoso")
    basic = base64.b64encode(
        f"{t['admin']['client_id']}:{t['admin']['client_secret']}".encode()
    ).decode()
    with _http(sbx) as h:
        r = h.post(
            f"{sbx.info['authority']}/{t['tenant_id']}/oauth2/v2.0/token",
            data={"grant_type": "client_credentials", "scope": ARM_SCOPE},
            headers={"Authorization": f"Basic {basic}"},
        )
    assert r.status_code == 200, r.text


# ---- refusals (secret flow) -------------------------------------------------------------------
def test_unknown_tenant_90002(sbx: Any) -> None:
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    t = sbx.tenant("contoso")
    r = post_token(
        sbx,
        "nosuchtenant.onmicrosoft.com",
        {
            "grant_type": "client_credentials",
            "client_id": t["admin"]["client_id"],
            "client_secret": t["admin"]["client_secret"],
            "scope": ARM_SCOPE,
        },
    )
    body = assert_aadsts(r, 400, "invalid_request", 90002)
    assert "Tenant 'nosuchtenant.onmicrosoft.com' not found" in body["error_description"]
    cred = ClientSecretCredential(
        str(uuid.uuid4()),
        t["admin"]["client_id"],
        t["admin"]["client_secret"],
        authority=sbx.info["authority"],
        disable_instance_discovery=True,
    )
    with pytest.raises((ClientAuthenticationError, ValueError)):
        cred.get_token(ARM_SCOPE)  # MSAL stops at OIDC discovery (400 AADSTS90002)


def test_unknown_app_700016(sbx: Any) -> None:
    lw = sbx.tenant("litware")
    r = post_token(
        sbx,
        lw["tenant_id"],
        {
            "grant_type": "client_credentials",
            "client_id": str(uuid.uuid4()),
            "client_secret": "x",
            "scope": ARM_SCOPE,
        },
    )
    body = assert_aadsts(r, 400, "unauthorized_client", 700016)
    assert "was not found in the directory 'Litware'" in body["error_description"]


def test_app_not_consented_in_tenant_700016(sbx: Any) -> None:
    """contoso's admin app (single-tenant, no SP in litware) asks litware for a token."""
    c, lw = sbx.tenant("contoso"), sbx.tenant("litware")
    r = post_token(
        sbx,
        lw["tenant_id"],
        {
            "grant_type": "client_credentials",
            "client_id": c["admin"]["client_id"],
            "client_secret": c["admin"]["client_secret"],
            "scope": ARM_SCOPE,
        },
    )
    assert_aadsts(r, 400, "unauthorized_client", 700016)


def test_home_tenant_without_service_principal_7000229(sbx: Any) -> None:
    app = make_app(sbx, "contoso")  # Graph creates no service principal for it
    r = post_token(
        sbx,
        sbx.tenant("contoso")["tenant_id"],
        {
            "grant_type": "client_credentials",
            "client_id": app["appId"],
            "client_secret": "x",
            "scope": ARM_SCOPE,
        },
    )
    assert_aadsts(r, 401, "invalid_client", 7000229)


def test_disabled_service_principal_7000112(sbx: Any, chain: dict[str, Any]) -> None:
    app = make_app(sbx, "contoso", fic=chain["fic"])
    consent(sbx, chain["litware"], app["appId"])
    sp = _graph(sbx, "litware", "GET", f"/servicePrincipals(appId='{app['appId']}')").json()
    r = _graph(sbx, "litware", "PATCH", f"/servicePrincipals/{sp['id']}", {"accountEnabled": False})
    assert r.status_code == 204, r.text
    req = assertion_request(sbx, app["appId"], mi_token(sbx, chain["uami"].client_id))
    assert_aadsts(post_token(sbx, chain["litware"], req), 400, "unauthorized_client", 7000112)


def test_bad_secret_7000215(sbx: Any) -> None:
    from azure.core.exceptions import ClientAuthenticationError
    from azure.identity import ClientSecretCredential

    c = sbx.tenant("contoso")
    r = post_token(
        sbx,
        c["tenant_id"],
        {
            "grant_type": "client_credentials",
            "client_id": c["admin"]["client_id"],
            "client_secret": "not-the-secret",
            "scope": ARM_SCOPE,
        },
    )
    assert_aadsts(r, 401, "invalid_client", 7000215)
    cred = ClientSecretCredential(
        c["tenant_id"],
        c["admin"]["client_id"],
        "not-the-secret",
        authority=sbx.info["authority"],
        disable_instance_discovery=True,
    )
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        cred.get_token(ARM_SCOPE)


def test_no_credential_7000218(sbx: Any) -> None:
    c = sbx.tenant("contoso")
    r = post_token(
        sbx,
        c["tenant_id"],
        {
            "grant_type": "client_credentials",
            "client_id": c["admin"]["client_id"],
            "scope": ARM_SCOPE,
        },
    )
    assert_aadsts(r, 401, "invalid_client", 7000218)


def test_unknown_resource_500011(sbx: Any) -> None:
    from azure.core.exceptions import ClientAuthenticationError

    c = sbx.tenant("contoso")
    r = post_token(
        sbx,
        c["tenant_id"],
        {
            "grant_type": "client_credentials",
            "client_id": c["admin"]["client_id"],
            "client_secret": c["admin"]["client_secret"],
            "scope": "https://nothing-here.example.com/.default",
        },
    )
    body = assert_aadsts(r, 400, "invalid_resource", 500011)
    assert "https://nothing-here.example.com" in body["error_description"]
    with pytest.raises(ClientAuthenticationError, match="AADSTS500011"):
        sbx.admin_credential("contoso").get_token("https://nothing-here.example.com/.default")


def test_scope_rules(sbx: Any) -> None:
    c = sbx.tenant("contoso")
    base = {
        "grant_type": "client_credentials",
        "client_id": c["admin"]["client_id"],
        "client_secret": c["admin"]["client_secret"],
    }
    assert_aadsts(
        post_token(sbx, c["tenant_id"], {**base, "scope": "https://graph.microsoft.com/User.Read"}),
        400,
        "invalid_scope",
        1002012,
    )
    assert_aadsts(
        post_token(sbx, c["tenant_id"], {**base, "scope": f"{ARM_SCOPE} {GRAPH_SCOPE}"}),
        400,
        "invalid_scope",
        700022,
    )
    assert_aadsts(post_token(sbx, c["tenant_id"], base), 400, "invalid_request", 900144)
    assert_aadsts(
        post_token(sbx, c["tenant_id"], {**base, "scope": ARM_SCOPE, "grant_type": "password"}),
        400,
        "unsupported_grant_type",
        70003,
    )
    assert_aadsts(
        post_token(sbx, "organizations", {**base, "scope": ARM_SCOPE}),
        400,
        "invalid_request",
        50059,
    )


# ---- the federated exchange ----------------------------------------------------------------
def test_managed_identity_token_for_exchange(sbx: Any, chain: dict[str, Any]) -> None:
    uami = chain["uami"]
    claims = _claims(mi_token(sbx, uami.client_id))
    assert claims["aud"] == EXCHANGE_APP_ID
    assert claims["iss"] == chain["issuer"]
    assert claims["sub"] == claims["oid"] == uami.principal_id
    assert claims["azp"] == uami.client_id and claims["tid"] == chain["contoso"]
    assert claims["idtyp"] == "app" and claims["ver"] == "2.0"
    assert claims["xms_mirid"].lower() == uami.id.lower()


def test_fic_exchange_gives_customer_tenant_token(sbx: Any, chain: dict[str, Any]) -> None:
    from azure.identity import ClientAssertionCredential

    uami, app = chain["uami"], chain["app"]
    cred = ClientAssertionCredential(
        chain["litware"],
        app["appId"],
        lambda: mi_token(sbx, uami.client_id),
        authority=sbx.info["authority"],
    )
    arm = _claims(cred.get_token(ARM_SCOPE).token)
    assert arm["tid"] == chain["litware"] and arm["appid"] == app["appId"]
    assert arm["appidacr"] == "2" and arm["iss"] == f"https://sts.windows.net/{chain['litware']}/"
    sp = _graph(sbx, "litware", "GET", f"/servicePrincipals(appId='{app['appId']}')").json()
    assert arm["oid"] == arm["sub"] == sp["id"]
    graph = _claims(cred.get_token(GRAPH_SCOPE).token)
    assert graph["roles"] == ["Directory.Read.All"]  # granted by the admin consent


def test_no_federated_credential_70021(sbx: Any, chain: dict[str, Any]) -> None:
    app = make_app(sbx, "contoso")  # no FIC at all
    consent(sbx, chain["litware"], app["appId"])
    r = post_token(
        sbx,
        chain["litware"],
        assertion_request(sbx, app["appId"], mi_token(sbx, chain["uami"].client_id)),
    )
    body = assert_aadsts(r, 400, "invalid_request", 70021)
    assert f"Assertion Issuer: '{chain['issuer']}'" in body["error_description"]


def test_fic_propagation_delay_70021(sbx: Any, chain: dict[str, Any]) -> None:
    sbx.settings(fic_propagation_s=3600)
    try:
        app = make_app(sbx, "contoso", fic=chain["fic"])
        consent(sbx, chain["litware"], app["appId"])
        req = assertion_request(sbx, app["appId"], mi_token(sbx, chain["uami"].client_id))
        assert_aadsts(post_token(sbx, chain["litware"], req), 400, "invalid_request", 70021)
    finally:
        sbx.settings(fic_propagation_s=0)
    assert post_token(sbx, chain["litware"], req).status_code == 200


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"issuer": "https://token.actions.githubusercontent.com"}, 700211),
        ({"subject": "00000000-0000-0000-0000-000000000001"}, 700213),
        ({"audiences": ["api://SomethingElse"]}, 700212),
    ],
)
def test_fic_mismatch(sbx: Any, chain: dict[str, Any], change: dict[str, Any], code: int) -> None:
    app = make_app(sbx, "contoso", fic={**chain["fic"], **change})
    consent(sbx, chain["litware"], app["appId"])
    r = post_token(
        sbx,
        chain["litware"],
        assertion_request(sbx, app["appId"], mi_token(sbx, chain["uami"].client_id)),
    )
    body = assert_aadsts(r, 401, "invalid_client", code)
    assert "No matching federated identity record found" in body["error_description"]


def test_assertion_for_app_registered_in_another_tenant_700236(
    sbx: Any, chain: dict[str, Any]
) -> None:
    """The app lives in litware; the managed identity (and its token) in contoso."""
    app = make_app(sbx, "litware", fic=chain["fic"])
    consent(sbx, chain["litware"], app["appId"])  # its SP in its home tenant
    r = post_token(
        sbx,
        chain["litware"],
        assertion_request(sbx, app["appId"], mi_token(sbx, chain["uami"].client_id)),
    )
    body = assert_aadsts(r, 401, "invalid_client", 700236)
    assert chain["issuer"] in body["error_description"]


def test_expired_assertion_700024(sbx: Any, chain: dict[str, Any]) -> None:
    assertion = mi_token(sbx, chain["uami"].client_id)
    sbx.settings(clock_offset_s=2 * 3600)
    try:
        r = post_token(
            sbx, chain["litware"], assertion_request(sbx, chain["app"]["appId"], assertion)
        )
        body = assert_aadsts(r, 401, "invalid_client", 700024)
        assert "not within its valid time range" in body["error_description"]
    finally:
        sbx.settings(clock_offset_s=0)


def test_bad_signature_50013_and_unknown_key_7000272(sbx: Any, chain: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    good = mi_token(sbx, chain["uami"].client_id)
    head, _payload, sig = good.split(".")
    forged_payload = dict(_claims(good), exp=_claims(good)["exp"] + 1)
    tampered = ".".join(
        [
            head,
            base64.urlsafe_b64encode(json.dumps(forged_payload).encode()).rstrip(b"=").decode(),
            sig,
        ]
    )
    r = post_token(sbx, chain["litware"], assertion_request(sbx, chain["app"]["appId"], tampered))
    assert_aadsts(r, 401, "invalid_client", 50013)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    foreign = jwt.encode(_claims(good), other, algorithm="RS256", headers={"kid": "someone-else"})
    r = post_token(sbx, chain["litware"], assertion_request(sbx, chain["app"]["appId"], foreign))
    assert_aadsts(r, 401, "invalid_client", 7000272)


def test_app_token_is_not_a_federated_credential_700226(sbx: Any, chain: dict[str, Any]) -> None:
    app_token = _admin_token(
        sbx, "contoso", f"{EXCHANGE}/.default"
    )  # Entra-issued, not an MSI token
    r = post_token(sbx, chain["litware"], assertion_request(sbx, chain["app"]["appId"], app_token))
    assert_aadsts(r, 401, "invalid_client", 700226)


def test_malformed_assertion(sbx: Any, chain: dict[str, Any]) -> None:
    r = post_token(
        sbx, chain["litware"], assertion_request(sbx, chain["app"]["appId"], "not-a-jwt")
    )
    assert_aadsts(r, 400, "invalid_request", 50027)


# ---- admin consent ----------------------------------------------------------------------------
def test_admin_consent_page_accept_creates_sp_and_grants_roles(sbx: Any) -> None:
    fb = sbx.tenant("fabrikam")
    app = make_app(sbx, "contoso", name="xt-consent-demo")
    base = f"{sbx.info['authority']}/{fb['tenant_id']}/v2.0/adminconsent"
    params = {
        "client_id": app["appId"],
        "redirect_uri": REDIRECT,
        "scope": GRAPH_SCOPE,
        "state": "s 1",
    }
    with _http(sbx) as h:
        page = h.get(base, params=params)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        for text in (
            "xt-consent-demo",
            "Read directory data",
            "Directory.Read.All",
            "Contoso",
            'id="accept"',
            'id="cancel"',
            "<form",
        ):
            assert text in page.text
        before = _graph(sbx, "fabrikam", "GET", f"/servicePrincipals(appId='{app['appId']}')")
        assert before.status_code == 404
        r = h.post(base, data={**params, "decision": "accept"})
    assert r.status_code == 302
    loc = urlsplit(r.headers["location"])
    assert f"{loc.scheme}://{loc.netloc}{loc.path}" == REDIRECT
    q = parse_qs(loc.query)
    assert q == {
        "admin_consent": ["True"],
        "tenant": [fb["tenant_id"]],
        "scope": [GRAPH_SCOPE],
        "state": ["s 1"],
    }
    sp = _graph(sbx, "fabrikam", "GET", f"/servicePrincipals(appId='{app['appId']}')")
    assert sp.status_code == 200, sp.text
    grants = _graph(
        sbx, "fabrikam", "GET", f"/servicePrincipals/{sp.json()['id']}/appRoleAssignments"
    )
    assert [g["appRoleId"] for g in grants.json()["value"]] == [DIRECTORY_READ_ALL]


def test_admin_consent_cancel_redirects_with_error(sbx: Any) -> None:
    app = make_app(sbx, "contoso")
    r = consent(sbx, sbx.tenant("fabrikam")["tenant_id"], app["appId"], decision="cancel")
    assert r.status_code == 302
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q["error"] == ["access_denied"] and q["admin_consent"] == ["True"]
    assert q["state"] == ["st-1"] and q["error_description"][0].startswith("AADSTS65004:")
    sp = _graph(sbx, "fabrikam", "GET", f"/servicePrincipals(appId='{app['appId']}')")
    assert sp.status_code == 404


def test_admin_consent_unregistered_redirect_uri_50011(sbx: Any) -> None:
    app = make_app(sbx, "contoso")
    with _http(sbx) as h:
        r = h.get(
            f"{sbx.info['authority']}/{sbx.tenant('litware')['tenant_id']}/v2.0/adminconsent",
            params={
                "client_id": app["appId"],
                "redirect_uri": "https://evil.example/cb",
                "scope": GRAPH_SCOPE,
            },
        )
    assert "location" not in r.headers
    assert "AADSTS50011" in r.text and "https://evil.example/cb" in r.text


def test_admin_consent_unknown_or_single_tenant_app_700016(sbx: Any) -> None:
    lw = sbx.tenant("litware")["tenant_id"]
    single = make_app(sbx, "contoso", multi=False)
    with _http(sbx) as h:
        for cid in (str(uuid.uuid4()), single["appId"]):
            r = h.get(
                f"{sbx.info['authority']}/{lw}/v2.0/adminconsent",
                params={"client_id": cid, "redirect_uri": REDIRECT, "scope": GRAPH_SCOPE},
            )
            assert "location" not in r.headers and "AADSTS700016" in r.text


def test_admin_consent_v1_endpoint(sbx: Any) -> None:
    app = make_app(sbx, "contoso")
    fb = sbx.tenant("fabrikam")["tenant_id"]
    base = f"{sbx.info['authority']}/{fb}/adminconsent"
    params = {"client_id": app["appId"], "redirect_uri": REDIRECT, "state": "v1"}
    with _http(sbx) as h:
        assert h.get(base, params=params).status_code == 200
        r = h.post(base, data={**params, "decision": "accept"})
    assert r.status_code == 302
    q = parse_qs(urlsplit(r.headers["location"]).query)
    assert q == {"tenant": [fb], "state": ["v1"], "admin_consent": ["True"]}


def test_token_requests_are_logged_without_secrets(sbx: Any) -> None:
    mark = sbx.mark()
    c = sbx.tenant("contoso")
    _admin_token(sbx, "contoso", ARM_SCOPE)
    entries = [e for e in sbx.requests(mark) if e["service"] == "entra"]
    assert entries and entries[-1]["kind"] == "token"
    assert (
        entries[-1]["tenant"] == c["tenant_id"] and entries[-1]["caller"] == c["admin"]["client_id"]
    )
    assert c["admin"]["client_secret"] not in json.dumps(entries)


def test_admin_consent_organizations_lets_the_admin_pick_the_directory(sbx: Any) -> None:
    app = make_app(sbx, "contoso")
    lw = sbx.tenant("litware")["tenant_id"]
    base = f"{sbx.info['authority']}/organizations/v2.0/adminconsent"
    params = {
        "client_id": app["appId"],
        "redirect_uri": REDIRECT,
        "scope": GRAPH_SCOPE,
        "state": "o",
    }
    with _http(sbx) as h:
        page = h.get(base, params=params)
        assert page.status_code == 200 and '<select name="tenant"' in page.text and lw in page.text
        r = h.post(base, data={**params, "tenant": lw, "decision": "accept"})
    assert r.status_code == 302
    assert parse_qs(urlsplit(r.headers["location"]).query)["tenant"] == [lw]
    sp = _graph(sbx, "litware", "GET", f"/servicePrincipals(appId='{app['appId']}')")
    assert sp.status_code == 200
