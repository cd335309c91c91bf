"""The az CLI, a second client that shares no code with ours, against the sandbox.

az is configured the way an Azure Stack or national-cloud user configures it (a registered cloud
read from ``/metadata/endpoints``, a CA bundle, az's own ``core.instance_discovery`` setting) and
every answer it prints is checked against the sandbox's state, read over REST without az.
"""

from __future__ import annotations

import base64
import json
import ssl
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from azcli_env import AzSession, Rest, az_login, az_session, login

pytestmark = pytest.mark.azcli

IDENTITY_API = "2023-01-31"
AUTHZ_API = "2022-04-01"
MONITORING_METRICS_PUBLISHER = "3913510d-42f4-4e42-8a64-420c390055eb"


def _claims(info: dict[str, Any], token: str) -> dict[str, Any]:
    """The token's claims, after checking it is signed with the sandbox's published keys."""
    tid = json.loads(_b64(token.split(".")[1]))["tid"]
    jwks = httpx.get(
        f"{info['authority']}/{tid}/discovery/v2.0/keys",
        verify=ssl.create_default_context(cafile=info["ca_bundle"]),
    ).json()
    kid = jwt.get_unverified_header(token)["kid"]
    (key,) = [k for k in jwks["keys"] if k["kid"] == kid]
    return jwt.decode(
        token, jwt.PyJWK(key).key, algorithms=["RS256"], options={"verify_aud": False}
    )


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _ok(r: Any) -> Any:
    assert r.status_code < 300, f"{r.status_code} {r.text}"
    return r.json() if r.content else None


def _multi_tenant_app(rest: Rest, name: str) -> dict[str, Any]:
    """An app registered by the contoso admin through Graph, without az."""
    return _ok(
        rest.graph(
            "POST",
            "applications",
            json={"displayName": name, "signInAudience": "AzureADMultipleOrgs"},
        )
    )


# ---- cloud registration and sign-in ----------------------------------------------------------------
def test_cloud_register_from_metadata_and_login(
    az_bin: Path, fresh_sandbox: Any, tmp_path: Path
) -> None:
    sb, info = fresh_sandbox, fresh_sandbox.info
    az = az_session(sb, tmp_path / "az")

    # every endpoint az needs came from the sandbox's /metadata/endpoints
    cloud = az("cloud", "show")
    assert cloud["name"] == "xtenant-sandbox" and cloud["isActive"] is True
    ep = cloud["endpoints"]
    assert ep["activeDirectory"].rstrip("/") == info["authority"]
    assert ep["resourceManager"].rstrip("/") == info["arm"]
    assert ep["microsoftGraphResourceId"].rstrip("/") == info["graph"]
    assert ep["activeDirectoryResourceId"] == "https://management.core.windows.net/"

    subs = login(az, sb, "contoso")
    contoso = info["tenants"]["contoso"]
    want = _ok(
        Rest(info, "contoso").arm(
            "GET", f"/subscriptions/{contoso['subscription_id']}", "2022-12-01"
        )
    )
    assert [(s["id"], s["tenantId"], s["name"], s["state"]) for s in subs] == [
        (want["subscriptionId"], want["tenantId"], want["displayName"], want["state"])
    ]

    account = az("account", "show")
    assert account["id"] == contoso["subscription_id"]
    assert account["tenantId"] == account["homeTenantId"] == contoso["tenant_id"]
    assert account["environmentName"] == "xtenant-sandbox"
    assert account["user"] == {"name": contoso["admin"]["client_id"], "type": "servicePrincipal"}

    # the tokens az holds are the sandbox's, for the admin, with the audiences az asked for
    arm = _claims(info, az("account", "get-access-token")["accessToken"])
    assert arm["tid"] == contoso["tenant_id"] and arm["appid"] == contoso["admin"]["client_id"]
    assert arm["aud"].rstrip("/") == "https://management.core.windows.net"
    assert arm["iss"] == f"https://sts.windows.net/{contoso['tenant_id']}/"  # Entra's v1 issuer
    token = az("account", "get-access-token", "--resource-type", "ms-graph")["accessToken"]
    graph = _claims(info, token)
    assert graph["aud"].rstrip("/") == info["graph"]
    assert "Application.ReadWrite.All" in graph["roles"]


def test_login_to_a_tenant_without_subscription(
    az_bin: Path, fresh_sandbox: Any, tmp_path: Path
) -> None:
    az = az_login(fresh_sandbox, "fabrikam", tmp_path / "az")
    fabrikam = fresh_sandbox.info["tenants"]["fabrikam"]
    account = az("account", "show")
    assert account["tenantId"] == fabrikam["tenant_id"]
    assert account["id"] == fabrikam["tenant_id"]  # az's stand-in for "no subscription"


def test_wrong_secret_is_entra_error(az_bin: Path, fresh_sandbox: Any, tmp_path: Path) -> None:
    az = az_session(fresh_sandbox, tmp_path / "az")
    t = fresh_sandbox.info["tenants"]["litware"]
    p = az.run(
        "login", "--service-principal", "-u", t["admin"]["client_id"], "-p", "not-the-secret",
        "--tenant", t["tenant_id"],
    )  # fmt: skip
    assert p.returncode != 0
    assert "AADSTS7000215" in p.stderr


# ---- ARM: managed identities -------------------------------------------------------------------------
def test_identity_create_and_show(az_bin: Path, fresh_sandbox: Any, tmp_path: Path) -> None:
    info = fresh_sandbox.info
    az = az_login(fresh_sandbox, "contoso", tmp_path / "az")
    rest = Rest(info, "contoso")
    name = f"umi-az-{uuid.uuid4().hex[:8]}"

    created = az("identity", "create", "-g", "rg-identity", "-n", name, "-l", "westus2")
    shown = az("identity", "show", "-g", "rg-identity", "-n", name)
    sub = info["tenants"]["contoso"]["subscription_id"]
    path = (
        f"/subscriptions/{sub}/resourceGroups/rg-identity/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
    state = _ok(rest.arm("GET", path, IDENTITY_API))
    for out in (created, shown):
        assert out["id"].lower() == state["id"].lower() == path.lower()
        assert out["name"] == name and out["resourceGroup"] == "rg-identity"
        assert out["location"] == state["location"] == "westus2"
        assert out["clientId"] == state["properties"]["clientId"]
        assert out["principalId"] == state["properties"]["principalId"]
        assert (
            out["tenantId"]
            == state["properties"]["tenantId"]
            == info["tenants"]["contoso"]["tenant_id"]
        )
        assert out["type"] == "Microsoft.ManagedIdentity/userAssignedIdentities"

    # the identity's service principal, as Graph shows it
    sp = _ok(rest.graph("GET", f"servicePrincipals/{shown['principalId']}"))
    assert sp["servicePrincipalType"] == "ManagedIdentity"
    assert sp["appId"] == shown["clientId"]

    listed = az("identity", "list", "-g", "rg-identity")
    assert name in [i["name"] for i in listed]

    missing = az.run("identity", "show", "-g", "rg-identity", "-n", f"{name}-nope")
    assert missing.returncode == 3 and "ResourceNotFound" in missing.stderr


# ---- Graph: applications and service principals ------------------------------------------------------
def test_ad_app_list_and_sp_show(az_bin: Path, fresh_sandbox: Any, tmp_path: Path) -> None:
    info = fresh_sandbox.info
    contoso, litware = info["tenants"]["contoso"], info["tenants"]["litware"]
    rest_home, rest_customer = Rest(info, "contoso"), Rest(info, "litware")
    tag = uuid.uuid4().hex[:8]

    az = az_login(fresh_sandbox, "contoso", tmp_path / "az-contoso")
    # one app written by another client, one by az: az lists both as Graph holds them
    by_rest = _multi_tenant_app(rest_home, f"xtenant rest {tag}")
    by_az = az(
        "ad", "app", "create", "--display-name", f"xtenant az {tag}",
        "--sign-in-audience", "AzureADMultipleOrgs",
    )  # fmt: skip
    for name, app in ((f"xtenant rest {tag}", by_rest), (f"xtenant az {tag}", by_az)):
        listed = az("ad", "app", "list", "--filter", f"displayName eq '{name}'")
        state = _ok(
            rest_home.graph("GET", "applications", params={"$filter": f"displayName eq '{name}'"})
        )["value"]
        assert [(a["id"], a["appId"]) for a in listed] == [(s["id"], s["appId"]) for s in state]
        assert [a["appId"] for a in listed] == [app["appId"]]
        assert listed[0]["signInAudience"] == "AzureADMultipleOrgs"
        assert listed[0]["displayName"] == name
    assert az("ad", "app", "show", "--id", by_rest["appId"])["id"] == by_rest["id"]
    assert az("ad", "app", "list", "--filter", f"displayName eq 'no such app {tag}'") == []

    # the customer admin: the app's service principal in litware, then az ad sp show --id appId
    azc = az_login(fresh_sandbox, "litware", tmp_path / "az-litware")
    absent = azc.run("ad", "sp", "show", "--id", by_rest["appId"])
    assert absent.returncode == 3 and "does not exist" in absent.stderr
    created = _ok(
        rest_customer.graph("POST", "servicePrincipals", json={"appId": by_rest["appId"]})
    )
    sp = azc("ad", "sp", "show", "--id", by_rest["appId"])
    state = _ok(rest_customer.graph("GET", f"servicePrincipals(appId='{by_rest['appId']}')"))
    assert sp["id"] == state["id"] == created["id"]
    assert sp["appId"] == by_rest["appId"]
    assert sp["appOwnerOrganizationId"] == contoso["tenant_id"]
    assert sp["appOwnerOrganizationId"] != litware["tenant_id"]
    assert sp["servicePrincipalType"] == "Application"
    # an SP made by az (as a customer admin may do instead of the consent page)
    made = azc("ad", "sp", "create", "--id", by_az["appId"])
    assert (
        _ok(rest_customer.graph("GET", f"servicePrincipals/{made['id']}"))["appId"]
        == by_az["appId"]
    )
    assert azc("ad", "sp", "show", "--id", by_az["appId"])["id"] == made["id"]


# ---- RBAC: the customer admin's role assignment --------------------------------------------------------
def _assignments_at(rest: Rest, scope: str, principal: str) -> list[dict[str, Any]]:
    r = rest.arm(
        "GET",
        f"{scope}/providers/Microsoft.Authorization/roleAssignments",
        AUTHZ_API,
        params={"$filter": f"principalId eq '{principal}'"},
    )
    return [a for a in _ok(r)["value"] if a["properties"]["scope"].lower() == scope.lower()]


def test_role_assignment_create_and_list(az_bin: Path, fresh_sandbox: Any, tmp_path: Path) -> None:
    info = fresh_sandbox.info
    litware = info["tenants"]["litware"]
    dcr = litware["resources"]["dcr"]
    app = _multi_tenant_app(Rest(info, "contoso"), f"xtenant rbac {uuid.uuid4().hex[:8]}")
    rest = Rest(info, "litware")
    sp = _ok(rest.graph("POST", "servicePrincipals", json={"appId": app["appId"]}))["id"]

    az: AzSession = az_login(fresh_sandbox, "litware", tmp_path / "az")
    assert _assignments_at(rest, dcr, sp) == []
    created = az(
        "role", "assignment", "create", "--assignee-object-id", sp,
        "--assignee-principal-type", "ServicePrincipal",
        "--role", "Monitoring Metrics Publisher", "--scope", dcr,
    )  # fmt: skip
    (state,) = _assignments_at(rest, dcr, sp)
    assert created["id"] == state["id"] and created["name"] == state["name"]
    assert created["principalId"] == state["properties"]["principalId"] == sp
    assert created["principalType"] == state["properties"]["principalType"] == "ServicePrincipal"
    assert created["roleDefinitionId"] == state["properties"]["roleDefinitionId"]
    assert created["roleDefinitionId"].endswith(f"/roleDefinitions/{MONITORING_METRICS_PUBLISHER}")
    assert created["scope"] == state["properties"]["scope"] == dcr

    # az names a new assignment with a fresh GUID: ARM's 409 RoleAssignmentExists makes az
    # return the existing one, and nothing is duplicated
    again = az(
        "role", "assignment", "create", "--assignee-object-id", sp,
        "--assignee-principal-type", "ServicePrincipal",
        "--role", "Monitoring Metrics Publisher", "--scope", dcr,
    )  # fmt: skip
    assert again["name"] == created["name"]
    assert [a["name"] for a in _assignments_at(rest, dcr, sp)] == [created["name"]]

    # --assignee resolves through Graph (servicePrincipalNames, then directoryObjects/getByIds)
    p = az.run("role", "assignment", "list", "--assignee", sp, "--scope", dcr, "-o", "json")
    assert p.returncode == 0, p.stderr
    assert "Failed to query" not in p.stderr, p.stderr
    listed = json.loads(p.stdout)
    assert [(a["name"], a["principalId"], a["scope"]) for a in listed] == [(state["name"], sp, dcr)]
    assert listed[0]["roleDefinitionName"] == "Monitoring Metrics Publisher"
    assert listed[0]["principalName"] == app["appId"]  # the SP's first servicePrincipalName
    # by appId too (az looks it up by servicePrincipalNames)
    by_app = az("role", "assignment", "list", "--assignee", app["appId"], "--scope", dcr)
    assert [a["name"] for a in by_app] == [state["name"]]

    az("role", "assignment", "delete", "--ids", created["id"])
    assert _assignments_at(rest, dcr, sp) == []
