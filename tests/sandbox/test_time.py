"""Azure over time in the sandbox: role assignments that take a while to be honoured,
long-running operations that take several polls, and lists that come a page at a time."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from admin_rest import AdminRest
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
MMP = "3913510d-42f4-4e42-8a64-420c390055eb"  # Monitoring Metrics Publisher
RA_API = "2022-04-01"


@pytest.fixture()
def sb(fresh_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for k, v in fresh_sandbox.env().items():  # the SDKs find the CA bundle here
        monkeypatch.setenv(k, v)
    yield fresh_sandbox


def _principal(sb: Any, tenant: str) -> dict[str, str]:
    tid = sb.tenant(tenant)["tenant_id"]
    return sb.world.directory.create_admin(tid, f"p-{uuid.uuid4().hex[:6]}", graph_roles=())


def _assign(admin: AdminRest, scope: str, role: str, principal: str) -> dict[str, Any]:
    sub = scope.split("/")[2]
    body = {
        "properties": {
            "roleDefinitionId": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}",
            "principalId": principal,
            "principalType": "ServicePrincipal",
        }
    }
    path = f"{scope}/providers/Microsoft.Authorization/roleAssignments/{uuid.uuid4()}"
    r = admin.arm("PUT", path, RA_API, json=body)
    assert r.status_code == 201, r.text
    return r.json()


# ---- RBAC propagation ----------------------------------------------------------------------------
def test_a_role_assignment_is_listed_at_once_and_enforced_after_the_delay(sb: Any) -> None:
    sb.settings(rbac_propagation_s=60)
    admin = AdminRest(sb.info, "contoso")
    sub = sb.tenant("contoso")["subscription_id"]
    p = _principal(sb, "contoso")
    ra = _assign(admin, f"/subscriptions/{sub}", READER, p["principal_id"])
    listed = admin.arm(
        "GET",
        f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments",
        RA_API,
        params={"$filter": f"principalId eq '{p['principal_id']}'"},
    ).json()["value"]
    assert [x["name"] for x in listed] == [ra["name"]]  # listed at once
    cred = sb.secret_credential("contoso", p["client_id"], p["client_secret"])
    token = cred.get_token("https://management.azure.com/.default").token
    import httpx

    def read() -> int:
        return httpx.get(
            f"{sb.info['arm']}/subscriptions/{sub}/resourceGroups/rg-identity",
            params={"api-version": "2022-09-01"},
            headers={"Authorization": f"Bearer {token}"},
            verify=sb.info["ca_bundle"],
        ).status_code

    assert read() == 403  # not yet enforced
    sb.settings(clock_offset_s=61)
    assert read() == 200
    cred.close()


def test_data_plane_propagation_may_be_longer(sb: Any) -> None:
    """Azure Monitor documents up to 30 minutes for a new DCR permission."""
    sb.settings(rbac_propagation_s=0, rbac_data_propagation_s=1800)
    world = sb.world
    tid = sb.tenant("litware")["tenant_id"]
    p = _principal(sb, "litware")
    dcr = sb.tenant("litware")["resources"]["dcr"]
    _assign(AdminRest(sb.info, "litware"), dcr, MMP, p["principal_id"])
    action = "Microsoft.Insights/Telemetry/Write"
    assert not world.arm.has_permission(tid, p["principal_id"], dcr, action, data=True)
    assert (
        world.arm.has_permission(
            tid, p["principal_id"], dcr, "Microsoft.Insights/dataCollectionRules/read"
        )
        is False
    )  # MMP has no such action
    # ARM already lists the grant among the principal's own permissions (no role needed)
    cred = sb.secret_credential("litware", p["client_id"], p["client_secret"])
    import httpx

    mine = httpx.get(
        f"{sb.info['arm']}{dcr}/providers/Microsoft.Authorization/permissions",
        params={"api-version": "2022-04-01"},
        headers={
            "Authorization": f"Bearer {cred.get_token('https://management.azure.com/.default').token}"
        },
        verify=sb.info["ca_bundle"],
    )
    cred.close()
    assert mine.status_code == 200
    assert any(action in e["dataActions"] for e in mine.json()["value"])
    sb.settings(clock_offset_s=1801)
    assert world.arm.has_permission(tid, p["principal_id"], dcr, action, data=True)


# ---- long-running operations ---------------------------------------------------------------------
def test_a_long_running_operation_takes_several_polls_with_retry_after(sb: Any) -> None:
    admin = AdminRest(sb.info, "contoso")
    vm = sb.tenant("contoso")["resources"]["vm"]
    r = admin.arm("PATCH", vm, "2024-03-01", json={"tags": {"t": "1"}})
    assert r.status_code == 200 and r.headers["Retry-After"] == "1"
    status_url = r.headers["Azure-AsyncOperation"]
    import httpx

    token = admin.token("https://management.azure.com/.default")
    polls = []
    for _ in range(5):
        p = httpx.get(
            status_url, headers={"Authorization": f"Bearer {token}"}, verify=sb.info["ca_bundle"]
        )
        polls.append((p.json()["status"], p.headers.get("Retry-After")))
        if p.json()["status"] != "InProgress":
            break
    assert polls == [("InProgress", "1"), ("InProgress", "1"), ("Succeeded", None)]
    assert sb.settings()["lro_polls"] >= 3  # the default: at least two InProgress polls


# ---- paging ----------------------------------------------------------------------------------------
def test_arm_lists_come_a_page_at_a_time_and_the_sdks_follow(sb: Any) -> None:
    sb.settings(page_size=1)
    admin = AdminRest(sb.info, "contoso")
    sub = sb.tenant("contoso")["subscription_id"]
    base = f"/subscriptions/{sub}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
    names = sorted(f"umi-page-{i}" for i in range(3))
    for n in names:
        assert admin.arm("PUT", f"{base}/{n}", "2023-01-31", json={"location": "westus2"})
    first = admin.arm("GET", base, "2023-01-31").json()
    assert len(first["value"]) == 1 and "$skipToken=" in first["nextLink"]
    cred = sb.admin_credential("contoso")
    kw = {
        "base_url": sb.info["arm"],
        "credential_scopes": ["https://management.azure.com/.default"],
    }
    msi = ManagedServiceIdentityClient(cred, sub, **kw)
    got = sorted(i.name for i in msi.user_assigned_identities.list_by_resource_group("rg-identity"))
    assert set(names) <= set(got)
    for _ in range(2):
        _assign(admin, f"/subscriptions/{sub}", READER, _principal(sb, "contoso")["principal_id"])
    auth = AuthorizationManagementClient(cred, sub, **kw)
    everything = list(auth.role_assignments.list_for_subscription())
    sb.settings(page_size=0)
    assert len(everything) == len(list(auth.role_assignments.list_for_subscription())) >= 3
    msi.close()
    auth.close()
    cred.close()


def test_graph_lists_come_a_page_at_a_time(sb: Any) -> None:
    sb.settings(page_size=1)
    g = AdminRest(sb.info, "contoso")
    first = g.graph("GET", "servicePrincipals", params={"$top": "50"}).json()
    assert len(first["value"]) == 1 and "@odata.nextLink" in first  # $top is capped
    seen, link = [first["value"][0]["id"]], first["@odata.nextLink"]
    while link:
        page = g._call("GET", link, "https://graph.microsoft.com/.default").json()
        seen += [x["id"] for x in page["value"]]
        link = page.get("@odata.nextLink")
    sb.settings(page_size=0)
    assert seen == [x["id"] for x in g.graph("GET", "servicePrincipals").json()["value"]]
