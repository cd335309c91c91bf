"""ARM details real traffic shows and the sandbox once lacked (issue 14), each pinned by what
Azure sends: the az CLI's recordings (``tests/recordings``) and the Compute spec
(``tests/reference``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from admin_rest import AdminRest

MSI = "2023-01-31"
COMPUTE = "2024-03-01"


@pytest.fixture()
def rest(sandbox: Any) -> Iterator[tuple[AdminRest, str]]:
    yield AdminRest(sandbox.info, "contoso"), sandbox.tenant("contoso")["subscription_id"]


def _uami(sub: str, name: str) -> str:
    return (
        f"/subscriptions/{sub}/resourceGroups/rg-identity/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )


def test_user_assigned_identity_without_tags_carries_an_empty_tags_object(
    rest: tuple[AdminRest, str],
) -> None:
    """``"tags":{}`` on PUT, GET and list (recording test_identity_management, 2023)."""
    a, sub = rest
    path = _uami(sub, f"umi-{uuid.uuid4().hex[:6]}")
    put = a.arm("PUT", path, MSI, json={"location": "westus2"})
    assert put.status_code == 201 and put.json()["tags"] == {}
    assert a.arm("GET", path, MSI).json()["tags"] == {}
    listed = a.arm("GET", path.rsplit("/", 1)[0], MSI).json()["value"]
    assert all(i["tags"] == {} or i["tags"] for i in listed) and all("tags" in i for i in listed)
    tagged = a.arm("PUT", path, MSI, json={"location": "westus2", "tags": {"k": "v"}})
    assert tagged.status_code == 200 and tagged.json()["tags"] == {"k": "v"}


def test_put_201_of_identity_and_fic_carries_location(rest: tuple[AdminRest, str]) -> None:
    """The MSI provider answers a creating PUT with ``Location: <the resource id>`` (recordings
    test_identity_management and test_federated_identity_credential); an update does not."""
    a, sub = rest
    path = _uami(sub, f"umi-{uuid.uuid4().hex[:6]}")
    put = a.arm("PUT", path, MSI, json={"location": "westus2"})
    assert put.status_code == 201 and put.headers["Location"] == put.json()["id"]
    fic = f"{path}/federatedIdentityCredentials/fic1"
    body = {
        "properties": {
            "issuer": "https://issuer.example/",
            "subject": "s1",
            "audiences": ["api://AzureADTokenExchange"],
        }
    }
    created = a.arm("PUT", fic, MSI, json=body)
    assert created.status_code == 201 and created.headers["Location"] == created.json()["id"]
    again = a.arm("PUT", fic, MSI, json=body)
    assert again.status_code == 200 and "Location" not in again.headers


def test_old_msi_api_version_answers_with_its_own_shape(rest: tuple[AdminRest, str]) -> None:
    """api-version 2015-08-31-preview carried ``clientSecretUrl`` (recording
    test_vm_explicit_msi); later versions do not."""
    a, sub = rest
    path = _uami(sub, f"umi-{uuid.uuid4().hex[:6]}")
    old = a.arm("PUT", path, "2015-08-31-preview", json={"location": "westus2"}).json()
    assert old["properties"]["clientSecretUrl"].startswith("http")
    assert "clientSecretUrl" not in a.arm("GET", path, MSI).json()["properties"]


def test_vm_has_an_etag_and_honours_if_match(rest: tuple[AdminRest, str], sandbox: Any) -> None:
    """Compute returns ``etag`` (a quoted counter, ``"\\"1\\""`` in VirtualMachine_Get.json)
    from api-version 2023-09-01 on, and refuses a write whose ``If-Match`` names another
    version with 412 PreconditionFailed (ARM RPC resource-api-reference.md: "412 (Precondition
    Failed) should be returned if the resource doesn't pass the condition specified by the
    If-Match header")."""
    a, _sub = rest
    vm = sandbox.tenant("contoso")["resources"]["vm"]
    got = a.arm("GET", vm, COMPUTE)
    etag = got.json()["etag"]
    assert etag.startswith('"') and etag.endswith('"') and got.headers["ETag"] == etag
    stale = a.arm("PATCH", vm, COMPUTE, json={"tags": {"t": "1"}}, headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    err = stale.json()["error"]
    assert err["code"] == "PreconditionFailed" and '"0"' in err["message"]
    ok = a.arm("PATCH", vm, COMPUTE, json={"tags": {"t": "2"}}, headers={"If-Match": etag})
    assert ok.status_code == 200 and ok.json()["etag"] != etag
    assert a.arm("GET", vm, COMPUTE).json()["etag"] == ok.json()["etag"]
    star = a.arm("PATCH", vm, COMPUTE, json={"tags": {"t": "3"}}, headers={"If-Match": "*"})
    assert star.status_code == 200
    exists = a.arm("PUT", vm, COMPUTE, json={"location": "westus2"}, headers={"If-None-Match": "*"})
    assert exists.status_code == 412
    assert "etag" not in a.arm("GET", vm, "2023-07-01").json()  # before etags existed


def test_list_associated_resources_of_an_identity(
    rest: tuple[AdminRest, str], sandbox: Any
) -> None:
    """``POST .../userAssignedIdentities/{name}/listAssociatedResources`` (2022-01-31-preview):
    ``{"totalCount": n, "value": [...]}`` (recording test_identity_management) with each
    resource's id, name, type, resourceGroup, subscriptionId and subscriptionDisplayName
    (learn.microsoft.com/entra/identity/managed-identities-azure-resources/
    how-to-view-associated-resources-for-an-identity)."""
    a, sub = rest
    path = _uami(sub, f"umi-{uuid.uuid4().hex[:6]}")
    uami = a.arm("PUT", path, MSI, json={"location": "westus2"}).json()
    api = "2022-01-31-preview"
    empty = a.arm("POST", f"{path}/listAssociatedResources", api)
    assert empty.status_code == 200 and empty.json() == {"totalCount": 0, "value": []}
    vm = sandbox.tenant("contoso")["resources"]["vm"]
    patch = {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uami["id"]: {}}}}
    assert a.arm("PATCH", vm, COMPUTE, json=patch).status_code == 200
    listed = a.arm("POST", f"{path}/listAssociatedResources", api).json()
    assert listed["totalCount"] == 1
    (item,) = listed["value"]
    assert item["id"].lower() == vm.lower() and item["name"] == "vm-vector"
    assert item["type"] == "microsoft.compute/virtualmachines"
    assert item["resourceGroup"] == "rg-vm" and item["subscriptionId"] == sub
    assert item["subscriptionDisplayName"]
    unpatch = {"identity": {"type": "UserAssigned", "userAssignedIdentities": {uami["id"]: None}}}
    a.arm("PATCH", vm, COMPUTE, json=unpatch)
    a.arm("DELETE", path, MSI)
