"""ARM in the sandbox, driven by the unmodified management SDKs (and raw HTTP where the SDKs
installed here have no client, e.g. resource groups and automation accounts).

Every client points at the sandbox through public knobs only: ``base_url``,
``credential_scopes``, the credential's ``authority`` and the CA bundle variables.
"""

from __future__ import annotations

import ssl
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.mgmt.authorization import AuthorizationManagementClient
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.msi import ManagedServiceIdentityClient

ARM_SCOPE = "https://management.azure.com/.default"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
VM_CONTRIBUTOR = "9980e02c-c2be-4d73-94e8-173b1dc7cf3c"
MI_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"
MI_CONTRIBUTOR = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59"
RA_API = "2022-04-01"


# ---- helpers ------------------------------------------------------------------------------------
class Arm:
    """A tenant principal's view of the sandbox ARM: SDK clients plus a raw HTTP client."""

    opened: list[
        Arm
    ] = []  # closed after each test (open keep-alive connections slow the sandbox's stop)

    def __init__(
        self, sb: Any, tenant: str, client_id: str | None = None, secret: str | None = None
    ) -> None:
        t = sb.tenant(tenant)
        self.sb = sb
        self.tid = t["tenant_id"]
        self.sub = t["subscription_id"]
        self.cred = sb.secret_credential(
            tenant, client_id or t["admin"]["client_id"], secret or t["admin"]["client_secret"]
        )
        kw = {"base_url": sb.info["arm"], "credential_scopes": [ARM_SCOPE]}
        self.msi = ManagedServiceIdentityClient(self.cred, self.sub, **kw)
        self.compute = ComputeManagementClient(self.cred, self.sub, polling_interval=0.01, **kw)
        self.auth = AuthorizationManagementClient(self.cred, self.sub, **kw)
        self.http = httpx.Client(
            base_url=sb.info["arm"],
            verify=ssl.create_default_context(cafile=sb.info["ca_bundle"]),
            timeout=30,
        )
        Arm.opened.append(self)

    def close(self) -> None:
        for c in (self.msi, self.compute, self.auth, self.http, self.cred):
            c.close()

    @classmethod
    def close_all(cls) -> None:
        while cls.opened:
            cls.opened.pop().close()

    def token(self) -> str:
        return self.cred.get_token(ARM_SCOPE).token

    def req(
        self,
        method: str,
        path: str,
        *,
        api: str | None = "2024-03-01",
        json: Any = None,
        token: str | None = "auto",
        params: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        headers = dict(kw.pop("headers", {}))
        if token == "auto":
            token = self.token()
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        q = dict(params or {})
        if api is not None:
            q["api-version"] = api
        return self.http.request(method, path, params=q, json=json, headers=headers, **kw)


def principal(sb: Any, tenant: str, name: str) -> dict[str, str]:
    """A new service principal (app + secret) in a tenant, without any role."""
    tid = sb.tenant(tenant)["tenant_id"]
    return sb.world.directory.create_admin(tid, f"{name}-{uuid.uuid4().hex[:6]}", graph_roles=())


def error(resp: httpx.Response) -> tuple[int, str, str]:
    body = resp.json()["error"]
    return resp.status_code, body["code"], body["message"]


@pytest.fixture()
def env(sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for k, v in sandbox.env().items():
        monkeypatch.setenv(k, v)
    yield sandbox
    Arm.close_all()


@pytest.fixture()
def fresh(fresh_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for k, v in fresh_sandbox.env().items():
        monkeypatch.setenv(k, v)
    yield fresh_sandbox
    Arm.close_all()


def _uami_id(sub: str, rg: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"


# ---- protocol: api-version, authentication, paths ------------------------------------------------
def test_api_version_is_required(env: Any) -> None:
    a = Arm(env, "contoso")
    r = a.req("GET", f"/subscriptions/{a.sub}/resourcegroups", api=None)
    assert error(r) == (
        400,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )
    r = a.req("GET", f"/subscriptions/{a.sub}/resourcegroups", api="latest")
    assert error(r)[:2] == (400, "InvalidApiVersionParameter")


def test_authentication_errors(env: Any) -> None:
    a = Arm(env, "contoso")
    path = f"/subscriptions/{a.sub}/resourcegroups"
    r = a.req("GET", path, token=None)
    assert error(r) == (
        401,
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
    )
    challenge = r.headers["WWW-Authenticate"]
    assert challenge.startswith(f'Bearer authorization_uri="{env.info["authority"]}/{a.tid}"')
    assert 'error="invalid_token"' in challenge
    assert error(a.req("GET", path, token="not-a-jwt"))[:2] == (401, "InvalidAuthenticationToken")
    w = env.world
    now = int(w.now())
    base = {
        "iss": f"{env.info['authority']}/{a.tid}/v2.0",
        "tid": a.tid,
        "oid": str(uuid.uuid4()),
        "appid": str(uuid.uuid4()),
        "aud": "https://management.azure.com",
        "iat": now - 7200,
        "nbf": now - 7200,
    }
    expired = w.signer.sign({**base, "exp": now - 3600})
    status, code, msg = error(a.req("GET", path, token=expired))
    assert (status, code) == (401, "ExpiredAuthenticationToken")
    assert (
        msg.startswith("The access token expiry UTC time '")
        and "is earlier than current UTC time" in msg
    )
    wrong_aud = w.signer.sign({**base, "exp": now + 3600, "aud": "https://graph.microsoft.com"})
    status, code, msg = error(a.req("GET", path, token=wrong_aud))
    assert (status, code) == (401, "InvalidAuthenticationTokenAudience")
    assert "'https://graph.microsoft.com'" in msg
    # a token from another tenant does not own this subscription
    other = Arm(env, "litware")
    status, code, msg = error(a.req("GET", path, token=other.token()))
    assert (status, code) == (401, "InvalidAuthenticationTokenTenant")
    assert msg.startswith("The access token is from the wrong issuer")
    assert f"/{a.tid}" in a.req("GET", path, token=other.token()).headers["WWW-Authenticate"]


def test_paths_are_case_insensitive_and_keep_casing(env: Any) -> None:
    a = Arm(env, "contoso")
    vm = env.tenant("contoso")["resources"]["vm"]
    for path in (vm, vm.lower(), vm.upper().replace(a.sub.upper(), a.sub)):
        r = a.req("GET", path)
        assert r.status_code == 200, r.text
        assert r.json()["id"] == vm
        assert r.json()["name"] == "vm-vector"
        assert r.json()["type"] == "Microsoft.Compute/virtualMachines"
    assert r.headers["x-ms-request-id"]


def test_metadata_endpoints(env: Any) -> None:
    with httpx.Client(verify=ssl.create_default_context(cafile=env.info["ca_bundle"])) as http:
        _check_metadata(env, http)


def _check_metadata(env: Any, http: httpx.Client) -> None:
    r = http.get(f"{env.info['arm']}/metadata/endpoints", params={"api-version": "2022-09-01"})
    assert r.status_code == 200
    cloud = r.json()  # one object from 2022-09-01 on (a list of clouds in 2019-05-01..2020-06-01)
    listed = http.get(
        f"{env.info['arm']}/metadata/endpoints", params={"api-version": "2020-06-01"}
    ).json()
    assert listed == [cloud]
    assert cloud["microsoftGraphResourceId"] == env.info["graph"] + "/"
    assert cloud["authentication"]["loginEndpoint"] == env.info["authority"]
    assert "https://management.azure.com/" in cloud["authentication"]["audiences"]
    assert cloud["resourceManager"] == env.info["arm"] + "/"
    legacy = http.get(
        f"{env.info['arm']}/metadata/endpoints", params={"api-version": "2015-01-01"}
    ).json()
    assert legacy["authentication"]["loginEndpoint"].startswith(env.info["authority"])
    assert legacy["authentication"]["audiences"][0] == "https://management.core.windows.net/"


# ---- subscriptions and resource groups --------------------------------------------------------------
def test_subscriptions_and_resource_groups(fresh: Any) -> None:
    fresh.settings(lro_polls=1)  # the group's deletion is read on its first poll below
    a = Arm(fresh, "contoso")
    subs = a.req("GET", "/subscriptions", api="2022-12-01").json()["value"]
    assert [s["subscriptionId"] for s in subs] == [a.sub]
    assert subs[0]["tenantId"] == a.tid and subs[0]["state"] == "Enabled"
    assert a.req("GET", f"/subscriptions/{a.sub}", api="2022-12-01").json()["tenantId"] == a.tid
    missing = str(uuid.uuid4())
    assert error(a.req("GET", f"/subscriptions/{missing}/resourcegroups")) == (
        404,
        "SubscriptionNotFound",
        f"The subscription '{missing}' could not be found.",
    )

    rg = f"rg-Test-{uuid.uuid4().hex[:6]}"
    path = f"/subscriptions/{a.sub}/resourcegroups/{rg}"
    r = a.req("PUT", path, json={"location": "West US 2", "tags": {"k": "v"}})
    assert r.status_code == 201, r.text
    assert r.json() == {
        "id": f"/subscriptions/{a.sub}/resourceGroups/{rg}",
        "name": rg,
        "type": "Microsoft.Resources/resourceGroups",
        "location": "westus2",
        "properties": {"provisioningState": "Succeeded"},
        "tags": {"k": "v"},
    }
    assert a.req("PUT", path, json={"location": "westus2"}).status_code == 200
    assert error(a.req("PUT", path, json={"location": "eastus"}))[:2] == (
        409,
        "InvalidResourceGroupLocation",
    )
    assert a.req("HEAD", path.upper().replace(a.sub.upper(), a.sub)).status_code == 204
    assert a.req("GET", path.lower()).json()["name"] == rg
    names = [
        g["name"] for g in a.req("GET", f"/subscriptions/{a.sub}/resourceGroups").json()["value"]
    ]
    assert {"rg-identity", "rg-vm", rg} <= set(names)
    r = a.req("DELETE", path)
    assert r.status_code == 202
    poll = a.http.get(r.headers["Location"], headers={"Authorization": f"Bearer {a.token()}"})
    assert poll.status_code == 200
    assert a.req("HEAD", path).status_code == 404
    assert error(a.req("GET", path)) == (
        404,
        "ResourceGroupNotFound",
        f"Resource group '{rg}' could not be found.",
    )


# ---- user-assigned managed identities ---------------------------------------------------------------
def test_user_assigned_identity_crud(env: Any) -> None:
    a = Arm(env, "contoso")
    name = f"umi-{uuid.uuid4().hex[:6]}"
    created = a.msi.user_assigned_identities.create_or_update(
        "rg-identity", name, {"location": "westus2", "tags": {"env": "test"}}
    )
    assert created.id == (
        f"/subscriptions/{a.sub}/resourcegroups/rg-identity/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
    assert created.tenant_id == a.tid and created.tags == {"env": "test"}
    uuid.UUID(created.principal_id)
    uuid.UUID(created.client_id)
    sp = env.world.directory.sp(a.tid, created.principal_id)
    assert (
        sp is not None
        and sp["servicePrincipalType"] == "ManagedIdentity"
        and sp["appId"] == created.client_id
    )
    # the principal is minted once: a second PUT keeps it
    again = a.msi.user_assigned_identities.create_or_update(
        "rg-identity", name, {"location": "westus2"}
    )
    assert (again.principal_id, again.client_id) == (created.principal_id, created.client_id)
    assert not again.tags
    patched = a.msi.user_assigned_identities.update("rg-identity", name, {"tags": {"x": "y"}})
    assert patched.tags == {"x": "y"} and patched.principal_id == created.principal_id
    got = a.msi.user_assigned_identities.get("RG-IDENTITY", name.upper())
    assert got.name == name and got.principal_id == created.principal_id
    assert name in [
        i.name for i in a.msi.user_assigned_identities.list_by_resource_group("rg-identity")
    ]
    assert name in [i.name for i in a.msi.user_assigned_identities.list_by_subscription()]
    # location is immutable
    r = a.req(
        "PUT", _uami_id(a.sub, "rg-identity", name), api="2023-01-31", json={"location": "eastus"}
    )
    status, code, msg = error(r)
    assert (status, code) == (409, "InvalidResourceLocation")
    assert msg == (
        f"The resource '{name}' already exists in location 'westus2' in resource group 'rg-identity'. "
        "A resource with the same name cannot be created in location 'eastus'. Please select a new "
        "resource name."
    )
    # delete: 200, then 204 when absent; the service principal goes with it
    r = a.req("DELETE", _uami_id(a.sub, "rg-identity", name), api="2023-01-31")
    assert r.status_code == 200
    assert (
        a.req("DELETE", _uami_id(a.sub, "rg-identity", name), api="2023-01-31").status_code == 204
    )
    assert env.world.directory.sp(a.tid, created.principal_id) is None
    with pytest.raises(ResourceNotFoundError) as exc:
        a.msi.user_assigned_identities.get("rg-identity", name)
    assert exc.value.error.code == "ResourceNotFound"
    assert error(
        a.req(
            "GET",
            f"/subscriptions/{a.sub}/resourceGroups/nope/providers/Microsoft.ManagedIdentity/"
            "userAssignedIdentities/x",
            api="2023-01-31",
        )
    )[:2] == (404, "ResourceGroupNotFound")


def test_federated_credentials_on_identity_are_stored(env: Any) -> None:
    a = Arm(env, "contoso")
    name = f"umi-{uuid.uuid4().hex[:6]}"
    a.msi.user_assigned_identities.create_or_update("rg-identity", name, {"location": "westus2"})
    fic = a.msi.federated_identity_credentials.create_or_update(
        "rg-identity",
        name,
        "fic1",
        {
            "issuer": "https://issuer.example",
            "subject": "sub",
            "audiences": ["api://AzureADTokenExchange"],
        },
    )
    assert fic.id.endswith(f"/userAssignedIdentities/{name}/federatedIdentityCredentials/fic1")
    assert [f.name for f in a.msi.federated_identity_credentials.list("rg-identity", name)] == [
        "fic1"
    ]
    a.msi.federated_identity_credentials.delete("rg-identity", name, "fic1")
    assert list(a.msi.federated_identity_credentials.list("rg-identity", name)) == []


# ---- virtual machines: identity changes are long-running ----------------------------------------------
def _new_vm(a: Arm, name: str) -> Any:
    return a.compute.virtual_machines.begin_create_or_update(
        "rg-vm",
        name,
        {
            "location": "westus2",
            "properties": {
                "hardwareProfile": {"vmSize": "Standard_B1s"},
                "storageProfile": {"osDisk": {"osType": "Linux", "createOption": "FromImage"}},
            },
        },
    ).result()


def test_vm_identity_update_is_a_long_running_operation(fresh: Any) -> None:
    fresh.settings(lro_polls=3)
    a = Arm(fresh, "contoso")
    uami = a.msi.user_assigned_identities.create_or_update(
        "rg-identity", "umi-lro", {"location": "westus2"}
    )
    mark = fresh.mark()
    poller = a.compute.virtual_machines.begin_update(
        "rg-vm",
        "vm-vector",
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uami.id: {}}}},
    )
    vm = poller.result()
    assert vm.provisioning_state == "Succeeded"
    assert vm.identity.type == "UserAssigned"
    ((key, value),) = vm.identity.user_assigned_identities.items()
    assert (
        key == uami.id
        and value.principal_id == uami.principal_id
        and value.client_id == uami.client_id
    )
    log = fresh.requests(mark)
    patch = [e for e in log if e["method"] == "PATCH"]
    assert len(patch) == 1 and patch[0]["status"] == 200
    polls = [e for e in log if "/operations/" in e["path"]]
    assert len(polls) == 3  # InProgress, InProgress, Succeeded
    # raw protocol: headers on the initial response, the status resource, and "Updating" meanwhile
    r = a.req(
        "PATCH",
        fresh.tenant("contoso")["resources"]["vm"],
        api="2026-04-01",
        json={"tags": {"t": "1"}},
    )
    assert r.status_code == 200 and r.json()["properties"]["provisioningState"] == "Updating"
    status_url, location = r.headers["Azure-AsyncOperation"], r.headers["Location"]
    assert "/providers/Microsoft.Compute/locations/westus2/operations/" in status_url
    auth = {"Authorization": f"Bearer {a.token()}"}
    first = a.http.get(location, headers=auth)
    assert first.status_code == 202
    assert (
        a.req("GET", fresh.tenant("contoso")["resources"]["vm"]).json()["properties"][
            "provisioningState"
        ]
        == "Updating"
    )
    assert a.http.get(status_url, headers=auth).json()["status"] == "InProgress"
    done = a.http.get(status_url, headers=auth).json()
    assert done["status"] == "Succeeded" and done["endTime"]
    assert a.http.get(location, headers=auth).json()["tags"] == {"t": "1"}


def test_vm_identity_merge_semantics(env: Any) -> None:
    a = Arm(env, "contoso")
    vm_name = f"vm-{uuid.uuid4().hex[:6]}"
    vm = _new_vm(a, vm_name)
    assert vm.provisioning_state == "Succeeded" and vm.identity is None
    ids = [
        a.msi.user_assigned_identities.create_or_update(
            "rg-identity", f"{vm_name}-{i}", {"location": "westus2"}
        )
        for i in range(2)
    ]
    upd = a.compute.virtual_machines.begin_update
    vm = upd(
        "rg-vm",
        vm_name,
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {ids[0].id: {}}}},
    ).result()
    vm = upd(
        "rg-vm",
        vm_name,
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {ids[1].id: {}}}},
    ).result()
    assert {k.lower() for k in vm.identity.user_assigned_identities} == {i.id.lower() for i in ids}
    # a null value removes one identity, the others stay
    vm = upd(
        "rg-vm",
        vm_name,
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {ids[0].id: None}}},
    ).result()
    assert list(vm.identity.user_assigned_identities) == [ids[1].id]
    # system-assigned: minted by the server, with its own service principal
    vm = upd("rg-vm", vm_name, {"identity": {"type": "SystemAssigned, UserAssigned"}}).result()
    assert vm.identity.type == "SystemAssigned, UserAssigned" and vm.identity.tenant_id == a.tid
    system_pid = vm.identity.principal_id
    assert env.world.directory.sp(a.tid, system_pid)["servicePrincipalType"] == "ManagedIdentity"
    served = env.world.arm.host_identities(vm.id)
    assert served["system"]["principal_id"] == system_pid and list(served["user"]) == [
        ids[1].id.lower()
    ]
    vm = upd("rg-vm", vm_name, {"identity": {"type": "UserAssigned"}}).result()
    assert vm.identity.principal_id is None
    assert env.world.directory.sp(a.tid, system_pid) is None
    vm = upd("rg-vm", vm_name, {"identity": {"type": "None"}}).result()
    assert vm.identity is None
    assert env.world.arm.host_identities(vm.id) == {"system": None, "user": {}}
    # an identity that does not exist
    with pytest.raises(HttpResponseError) as exc:
        upd(
            "rg-vm",
            vm_name,
            {
                "identity": {
                    "type": "UserAssigned",
                    "userAssignedIdentities": {_uami_id(a.sub, "rg-identity", "missing"): {}},
                }
            },
        ).result()
    assert exc.value.status_code == 400 and exc.value.error.code == "FailedIdentityOperation"
    # PUT replaces the identity block
    full = a.compute.virtual_machines.get("rg-vm", vm_name)
    full.identity = {"type": "UserAssigned", "userAssignedIdentities": {ids[0].id: {}}}
    vm = a.compute.virtual_machines.begin_create_or_update("rg-vm", vm_name, full).result()
    assert list(vm.identity.user_assigned_identities) == [ids[0].id]
    # deleting the VM takes its identities off the host; delete is long-running too
    a.compute.virtual_machines.begin_delete("rg-vm", vm_name).result()
    with pytest.raises(ResourceNotFoundError):
        a.compute.virtual_machines.get("rg-vm", vm_name)


def test_deleted_identity_stops_being_served(env: Any) -> None:
    a = Arm(env, "contoso")
    vm_name = f"vm-{uuid.uuid4().hex[:6]}"
    vm = _new_vm(a, vm_name)
    ident = a.msi.user_assigned_identities.create_or_update(
        "rg-identity", vm_name, {"location": "westus2"}
    )
    a.compute.virtual_machines.begin_update(
        "rg-vm",
        vm_name,
        {"identity": {"type": "UserAssigned", "userAssignedIdentities": {ident.id: {}}}},
    ).result()
    assert list(env.world.arm.host_identities(vm.id)["user"]) == [ident.id.lower()]
    a.msi.user_assigned_identities.delete("rg-identity", vm_name)
    assert env.world.arm.host_identities(vm.id)["user"] == {}
    assert vm_name in [h["name"] for h in env.world.arm.hosts()]


def test_automation_account_identity_is_synchronous(env: Any) -> None:
    a = Arm(env, "contoso")
    aa = env.tenant("contoso")["resources"]["automation"]
    before = a.req("GET", aa, api="2023-11-01").json()
    assert before["identity"]["type"] == "SystemAssigned"
    ident = a.msi.user_assigned_identities.create_or_update(
        "rg-identity", f"umi-aa-{uuid.uuid4().hex[:4]}", {"location": "westus2"}
    )
    r = a.req(
        "PATCH",
        aa,
        api="2023-11-01",
        json={
            "identity": {
                "type": "SystemAssigned, UserAssigned",
                "userAssignedIdentities": {ident.id: {}},
            }
        },
    )
    assert r.status_code == 200 and "Azure-AsyncOperation" not in r.headers
    body = r.json()
    assert body["identity"]["principalId"] == before["identity"]["principalId"]
    assert body["identity"]["userAssignedIdentities"][ident.id]["clientId"] == ident.client_id
    served = env.world.arm.host_identities(aa)
    assert (
        ident.id.lower() in served["user"]
        and served["system"]["principal_id"] == before["identity"]["principalId"]
    )
    r = a.req(
        "PATCH",
        aa,
        api="2023-11-01",
        json={"identity": {"type": "SystemAssigned", "userAssignedIdentities": None}},
    )
    assert r.status_code == 200 and "userAssignedIdentities" not in r.json()["identity"]


# ---- RBAC -------------------------------------------------------------------------------------------------
def test_reader_cannot_write(env: Any) -> None:
    p = principal(env, "contoso", "reader")
    sub = env.tenant("contoso")["subscription_id"]
    env.world.arm.assign_role(
        f"/subscriptions/{sub}", READER, p["principal_id"], "ServicePrincipal"
    )
    a = Arm(env, "contoso", p["client_id"], p["client_secret"])
    assert a.compute.virtual_machines.get("rg-vm", "vm-vector").name == "vm-vector"
    listed = [i.name for i in a.msi.user_assigned_identities.list_by_resource_group("rg-identity")]
    assert isinstance(listed, list)
    with pytest.raises(HttpResponseError) as exc:
        a.compute.virtual_machines.begin_update("rg-vm", "vm-vector", {"tags": {"a": "b"}})
    vm_id = env.tenant("contoso")["resources"]["vm"]
    assert exc.value.status_code == 403 and exc.value.error.code == "AuthorizationFailed"
    assert exc.value.error.message == (
        f"The client '{p['client_id']}' with object id '{p['principal_id']}' does not have authorization to perform "
        f"action 'Microsoft.Compute/virtualMachines/write' over scope '{vm_id}' or the scope is invalid. If access "
        "was recently granted, please refresh your credentials."
    )
    with pytest.raises(HttpResponseError) as exc:
        a.msi.user_assigned_identities.create_or_update(
            "rg-identity", "nope", {"location": "westus2"}
        )
    assert exc.value.status_code == 403
    assert "'Microsoft.ManagedIdentity/userAssignedIdentities/write'" in exc.value.error.message
    with pytest.raises(HttpResponseError) as exc:
        a.auth.role_assignments.create(
            f"/subscriptions/{sub}",
            str(uuid.uuid4()),
            {
                "role_definition_id": f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
                "principal_id": p["principal_id"],
            },
        )
    assert exc.value.status_code == 403
    assert "'Microsoft.Authorization/roleAssignments/write'" in exc.value.error.message


def test_no_role_means_403_on_reads(env: Any) -> None:
    p = principal(env, "contoso", "nobody")
    a = Arm(env, "contoso", p["client_id"], p["client_secret"])
    with pytest.raises(HttpResponseError) as exc:
        a.compute.virtual_machines.get("rg-vm", "vm-vector")
    assert (
        exc.value.status_code == 403
        and "Microsoft.Compute/virtualMachines/read" in exc.value.error.message
    )
    assert a.req("GET", "/subscriptions", api="2022-12-01").json()["value"] == []


def test_collections_are_filtered_to_what_the_caller_can_read(env: Any) -> None:
    admin = Arm(env, "contoso")
    names = [f"umi-f-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    idents = [
        admin.msi.user_assigned_identities.create_or_update(
            "rg-identity", n, {"location": "westus2"}
        )
        for n in names
    ]
    p = principal(env, "contoso", "one-identity")
    env.world.arm.assign_role(idents[0].id, MI_OPERATOR, p["principal_id"], "ServicePrincipal")
    a = Arm(env, "contoso", p["client_id"], p["client_secret"])
    assert [i.name for i in a.msi.user_assigned_identities.list_by_subscription()] == [names[0]]
    assert [
        i.name for i in a.msi.user_assigned_identities.list_by_resource_group("rg-identity")
    ] == [names[0]]


def test_attaching_an_identity_needs_assign_action(env: Any) -> None:
    sub = env.tenant("contoso")["subscription_id"]
    admin = Arm(env, "contoso")
    vm_name = f"vm-{uuid.uuid4().hex[:6]}"
    _new_vm(admin, vm_name)
    ident = admin.msi.user_assigned_identities.create_or_update(
        "rg-identity", vm_name, {"location": "westus2"}
    )
    p = principal(env, "contoso", "vmop")
    env.world.arm.assign_role(
        f"/subscriptions/{sub}/resourceGroups/rg-vm",
        VM_CONTRIBUTOR,
        p["principal_id"],
        "ServicePrincipal",
    )
    a = Arm(env, "contoso", p["client_id"], p["client_secret"])
    body = {"identity": {"type": "UserAssigned", "userAssignedIdentities": {ident.id: {}}}}
    with pytest.raises(HttpResponseError) as exc:
        a.compute.virtual_machines.begin_update("rg-vm", vm_name, body)
    vm_id = f"/subscriptions/{sub}/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/{vm_name}"
    assert exc.value.status_code == 403 and exc.value.error.code == "LinkedAuthorizationFailed"
    assert exc.value.error.message == (
        f"The client '{p['client_id']}' with object id '{p['principal_id']}' has permission to perform action "
        f"'Microsoft.Compute/virtualMachines/write' on scope '{vm_id}'; however, it does not have permission to "
        "perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) "
        f"'{ident.id}' or the linked scope(s) are invalid."
    )
    # Managed Identity Operator on the identity grants userAssignedIdentities/*/assign/action
    env.world.arm.assign_role(ident.id, MI_OPERATOR, p["principal_id"], "ServicePrincipal")
    vm = a.compute.virtual_machines.begin_update("rg-vm", vm_name, body).result()
    assert list(vm.identity.user_assigned_identities) == [ident.id]
    # detaching needs no assign action; tags-only updates do not either
    a.compute.virtual_machines.begin_update("rg-vm", vm_name, {"tags": {"x": "1"}}).result()


def test_rbac_wildcards_and_not_actions(env: Any) -> None:
    arm = env.world.arm
    tid = env.tenant("contoso")["tenant_id"]
    sub = env.tenant("contoso")["subscription_id"]
    p = principal(env, "contoso", "contrib")
    arm.assign_role(
        f"/subscriptions/{sub}/resourceGroups/rg-vm",
        "b24988ac-6180-42a0-ab88-20f7382dd24c",
        p["principal_id"],
        "ServicePrincipal",
    )
    vm = f"/subscriptions/{sub}/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-vector"
    assert arm.has_permission(tid, p["principal_id"], vm, "Microsoft.Compute/virtualMachines/write")
    assert arm.has_permission(
        tid, p["principal_id"], vm.upper(), "microsoft.compute/VIRTUALMACHINES/write"
    )
    assert not arm.has_permission(
        tid, p["principal_id"], vm, "Microsoft.Authorization/roleAssignments/write"
    )
    assert not arm.has_permission(
        tid,
        p["principal_id"],
        f"/subscriptions/{sub}/resourceGroups/rg-identity",
        "Microsoft.Resources/subscriptions/resourceGroups/read",
    )
    assert not arm.has_permission(
        tid,
        p["principal_id"],
        f"/subscriptions/{sub}/resourceGroups/rg-vmx",
        "Microsoft.Resources/subscriptions/resourceGroups/read",
    )
    assert not arm.has_permission(
        tid, p["principal_id"], vm, "Microsoft.Insights/Telemetry/Write", data=True
    )


# ---- role definitions and assignments ------------------------------------------------------------------
def test_role_definitions(env: Any) -> None:
    a = Arm(env, "contoso")
    scope = f"/subscriptions/{a.sub}"
    (reader,) = list(a.auth.role_definitions.list(scope, filter="roleName eq 'Reader'"))
    assert reader.id == f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    assert reader.role_type == "BuiltInRole" and reader.permissions[0].actions == ["*/read"]
    builtins = list(a.auth.role_definitions.list(scope, filter="type eq 'BuiltInRole'"))
    assert len(builtins) >= 20
    mmp = a.auth.role_definitions.get_by_id(
        "/providers/Microsoft.Authorization/roleDefinitions/3913510d-42f4-4e42-8a64-420c390055eb"
    )
    assert mmp.role_name == "Monitoring Metrics Publisher"
    assert "Microsoft.Insights/Telemetry/Write" in mmp.permissions[0].data_actions
    assert (
        a.auth.role_definitions.get(f"{scope}/resourceGroups/rg-vm", READER).role_name == "Reader"
    )
    with pytest.raises(ResourceNotFoundError):
        a.auth.role_definitions.get(scope, str(uuid.uuid4()))


def test_role_assignment_rules(env: Any) -> None:
    a = Arm(env, "contoso")
    scope = f"/subscriptions/{a.sub}/resourceGroups/rg-identity"
    target = principal(env, "contoso", "target")
    reader = f"/subscriptions/{a.sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
    name = str(uuid.uuid4())
    params = {"role_definition_id": reader, "principal_id": target["principal_id"]}
    created = a.auth.role_assignments.create(scope, name, params)
    assert created.principal_type == "ServicePrincipal" and created.scope == scope
    assert created.id == f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}"
    # same name and properties: idempotent
    r = a.req(
        "PUT",
        created.id,
        api=RA_API,
        json={"properties": {"roleDefinitionId": reader, "principalId": target["principal_id"]}},
    )
    assert r.status_code == 200 and r.json()["name"] == name
    # the same (scope, role, principal) under another name
    with pytest.raises(HttpResponseError) as exc:
        a.auth.role_assignments.create(scope, str(uuid.uuid4()), params)
    assert exc.value.status_code == 409 and exc.value.error.code == "RoleAssignmentExists"
    assert exc.value.error.message == "The role assignment already exists."
    # changing an existing assignment
    with pytest.raises(HttpResponseError) as exc:
        a.auth.role_assignments.create(
            scope, name, {**params, "role_definition_id": reader.replace(READER, OWNER)}
        )
    assert (
        exc.value.status_code == 400 and exc.value.error.code == "RoleAssignmentUpdateNotPermitted"
    )
    assert exc.value.error.message == (
        "Tenant ID, application ID, principal ID, and scope are not allowed to be updated."
    )
    # an unknown principal
    ghost = str(uuid.uuid4())
    with pytest.raises(HttpResponseError) as exc:
        a.auth.role_assignments.create(
            scope, str(uuid.uuid4()), {"role_definition_id": reader, "principal_id": ghost}
        )
    assert exc.value.status_code == 400 and exc.value.error.code == "PrincipalNotFound"
    assert exc.value.error.message.startswith(
        f"Principal {ghost.replace('-', '')} does not exist in the directory "
        f"{a.tid}. Check that you have the correct principal ID."
    )
    # listing: at scope, filters
    sub_scope = f"/subscriptions/{a.sub}"
    listed = list(
        a.auth.role_assignments.list_for_scope(
            sub_scope, filter=f"principalId eq '{target['principal_id']}'"
        )
    )
    assert [x.name for x in listed] == [name]
    assert name not in [
        x.name for x in a.auth.role_assignments.list_for_scope(sub_scope, filter="atScope()")
    ]
    assert name in [
        x.name for x in a.auth.role_assignments.list_for_scope(scope, filter="atScope()")
    ]
    assigned = list(
        a.auth.role_assignments.list_for_scope(
            sub_scope, filter=f"assignedTo('{target['principal_id']}')"
        )
    )
    assert [x.name for x in assigned] == [name]
    assert name in [x.name for x in a.auth.role_assignments.list_for_resource_group("rg-identity")]
    assert name in [x.name for x in a.auth.role_assignments.list_for_subscription()]
    owners = [
        x
        for x in a.auth.role_assignments.list_for_scope(scope)
        if x.role_definition_id.endswith(OWNER)
    ]
    assert owners and owners[0].scope == sub_scope  # inherited from above
    # get, delete (200 with the body, then 204)
    assert a.auth.role_assignments.get(scope, name).principal_id == target["principal_id"]
    assert a.auth.role_assignments.get_by_id(created.id).name == name
    r = a.req("DELETE", created.id, api=RA_API)
    assert r.status_code == 200 and r.json()["name"] == name
    assert a.req("DELETE", created.id, api=RA_API).status_code == 204
    assert error(a.req("GET", created.id, api=RA_API)) == (
        404,
        "RoleAssignmentNotFound",
        f"The role assignment '{name}' is not found.",
    )
    assert error(
        a.req(
            "PUT",
            f"{scope}/providers/Microsoft.Authorization/roleAssignments/not-a-guid",
            api=RA_API,
            json={"properties": params},
        )
    )[:2] == (400, "InvalidRoleAssignmentId")


def test_principal_not_found_until_replicated(fresh: Any) -> None:
    fresh.settings(replication_delay_s=3600)
    a = Arm(fresh, "contoso")
    scope = f"/subscriptions/{a.sub}/resourceGroups/rg-vm"
    role = f"/subscriptions/{a.sub}/providers/Microsoft.Authorization/roleDefinitions/{{}}"
    # a new managed identity is a new principal, invisible to ARM until replicated
    ident = a.msi.user_assigned_identities.create_or_update(
        "rg-identity", "umi-new", {"location": "westus2"}
    )
    with pytest.raises(HttpResponseError) as exc:
        a.auth.role_assignments.create(
            scope,
            str(uuid.uuid4()),
            {"role_definition_id": role.format(READER), "principal_id": ident.principal_id},
        )
    assert exc.value.status_code == 400 and exc.value.error.code == "PrincipalNotFound"
    assert "this error might be related to a replication delay" in exc.value.error.message
    # with principalType ARM skips the directory lookup, as documented
    ok = a.auth.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        {
            "role_definition_id": role.format(READER),
            "principal_id": ident.principal_id,
            "principal_type": "ServicePrincipal",
        },
    )
    assert ok.principal_type == "ServicePrincipal"
    fresh.settings(replication_delay_s=0)
    ok = a.auth.role_assignments.create(
        scope,
        str(uuid.uuid4()),
        {"role_definition_id": role.format(MI_OPERATOR), "principal_id": ident.principal_id},
    )
    assert ok.principal_type == "ServicePrincipal"
    with pytest.raises(HttpResponseError) as exc:
        a.auth.role_assignments.create(
            scope,
            str(uuid.uuid4()),
            {
                "role_definition_id": role.format(MI_CONTRIBUTOR),
                "principal_id": ident.principal_id,
                "principal_type": "User",
            },
        )
    assert exc.value.status_code == 400 and exc.value.error.code == "UnmatchedPrincipalType"


# ---- monitor resources ---------------------------------------------------------------------------------
def test_data_collection_rule_and_endpoint(env: Any) -> None:
    a = Arm(env, "litware")
    res = env.tenant("litware")["resources"]
    dcr = a.req("GET", res["dcr"], api="2022-06-01").json()
    immutable = dcr["properties"]["immutableId"]
    assert immutable.startswith("dcr-") and len(immutable) == 36 and int(immutable[4:], 16) >= 0
    assert dcr["properties"]["provisioningState"] == "Succeeded"
    assert env.world.arm.dcr_by_immutable_id(immutable)["id"] == res["dcr"]
    dce = a.req("GET", res["dce"], api="2022-06-01").json()
    assert dce["properties"]["logsIngestion"]["endpoint"].startswith(env.info["monitor"] + "/")
    assert dce["properties"]["configurationAccess"]["endpoint"]
    assert dce["properties"]["immutableId"].startswith("dce-")
    listed = a.req(
        "GET",
        f"/subscriptions/{a.sub}/providers/Microsoft.Insights/dataCollectionRules",
        api="2022-06-01",
    ).json()["value"]
    assert [d["name"] for d in listed] == ["dcr-vector"]


def test_arm_state_survives_restart(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp_path / "s", seed="demo")
    try:
        for k, v in sb.env().items():
            monkeypatch.setenv(k, v)
        a = Arm(sb, "contoso")
        ident = a.msi.user_assigned_identities.create_or_update(
            "rg-identity", "umi-keep", {"location": "westus2"}
        )
    finally:
        Arm.close_all()
        sb.stop()
    time.sleep(0.1)
    sb = Sandbox.start(tmp_path / "s", seed="demo")
    try:
        for k, v in sb.env().items():
            monkeypatch.setenv(k, v)
        again = Arm(sb, "contoso").msi.user_assigned_identities.get("rg-identity", "umi-keep")
        assert again.principal_id == ident.principal_id
    finally:
        Arm.close_all()
        sb.stop()
