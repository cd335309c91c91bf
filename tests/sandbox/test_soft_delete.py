"""Graph's soft delete of applications and service principals (``directory/deletedItems``) and
what a deleted object means for making another.

Microsoft's documentation: "When deleted, apps are moved to a temporary container and can be
restored within 30 days" (graph/api/application-delete); "restoring an application doesn't
restore the associated service principal automatically" and "A recently deleted item remains
available for up to 30 days" (graph/api/directory-deleteditems-restore); "If you deleted an
application registration in its home tenant ..., the enterprise application, which is its
corresponding service principal also got deleted" (entra/identity/enterprise-apps/
restore-application). Permanent deletion is ``DELETE /directory/deletedItems/{id}`` (az CLI
recording test_app_permission, 2022: 204)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from admin_rest import AdminRest


@pytest.fixture()
def g(fresh_sandbox: Any) -> Iterator[AdminRest]:
    yield AdminRest(fresh_sandbox.info, "contoso")


def _app(g: AdminRest, **kw: Any) -> dict[str, Any]:
    r = g.graph("POST", "applications", json={"displayName": f"app-{uuid.uuid4().hex[:6]}", **kw})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_new_application_shows_an_empty_verified_publisher(g: AdminRest) -> None:
    """Graph answers an unverified app's ``verifiedPublisher`` as an object of nulls (az CLI
    recordings test_service_principal_scenario and test_app_federated_credential, 2022)."""
    app = _app(g)
    empty = {"displayName": None, "verifiedPublisherId": None, "addedDateTime": None}
    assert app["verifiedPublisher"] == empty
    assert g.graph("GET", f"applications/{app['id']}").json()["verifiedPublisher"] == empty


def test_deleted_application_goes_to_deleted_items_and_comes_back(g: AdminRest) -> None:
    app = _app(g)
    fic = {
        "name": "fic-1",
        "issuer": "https://issuer.example/",
        "subject": "s1",
        "audiences": ["api://AzureADTokenExchange"],
    }
    made = g.graph("POST", f"applications/{app['id']}/federatedIdentityCredentials", json=fic)
    assert made.status_code == 201, made.text
    sp = g.graph("POST", "servicePrincipals", json={"appId": app["appId"]}).json()
    assert g.graph("DELETE", f"applications/{app['id']}").status_code == 204
    assert g.graph("GET", f"applications/{app['id']}").status_code == 404
    assert g.graph("GET", f"servicePrincipals/{sp['id']}").status_code == 404  # the home SP too
    for cast in ("microsoft.graph.application", "graph.application"):
        listed = g.graph("GET", f"directory/deletedItems/{cast}").json()["value"]
        assert [a["id"] for a in listed] == [app["id"]]
        assert listed[0]["deletedDateTime"]
    item = g.graph("GET", f"directory/deletedItems/{app['id']}").json()
    assert item["@odata.type"] == "#microsoft.graph.application" and item["appId"] == app["appId"]
    sps = g.graph("GET", "directory/deletedItems/microsoft.graph.servicePrincipal").json()["value"]
    assert sp["id"] in [s["id"] for s in sps]
    restored = g.graph("POST", f"directory/deletedItems/{app['id']}/restore")
    assert restored.status_code == 200 and restored.json()["id"] == app["id"]
    assert restored.json()["deletedDateTime"] is None
    back = g.graph("GET", f"applications/{app['id']}").json()
    assert back["appId"] == app["appId"]
    fics = g.graph("GET", f"applications/{app['id']}/federatedIdentityCredentials").json()
    assert [f["name"] for f in fics["value"]] == ["fic-1"]  # restored with the app
    # "restoring an application doesn't restore the associated service principal"
    assert g.graph("GET", f"servicePrincipals/{sp['id']}").status_code == 404
    assert g.graph("POST", f"directory/deletedItems/{sp['id']}/restore").status_code == 200
    assert g.graph("GET", f"servicePrincipals/{sp['id']}").status_code == 200


def test_a_deleted_application_keeps_its_unique_name(g: AdminRest) -> None:
    """A soft-deleted app still holds its ``uniqueName``: an upsert on it is refused like a
    duplicate until the app is restored or permanently deleted."""
    name = f"un-{uuid.uuid4().hex[:8]}"
    upsert = {"headers": {"Prefer": "create-if-missing"}, "json": {"displayName": "first"}}
    first = g.graph("PATCH", f"applications(uniqueName='{name}')", **upsert)
    assert first.status_code == 201
    assert g.graph("DELETE", f"applications/{first.json()['id']}").status_code == 204
    again = g.graph("PATCH", f"applications(uniqueName='{name}')", **upsert)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "Request_MultipleObjectsWithSameKeyValue"
    gone = g.graph("DELETE", f"directory/deletedItems/{first.json()['id']}")
    assert gone.status_code == 204
    assert g.graph("GET", f"directory/deletedItems/{first.json()['id']}").status_code == 404
    assert g.graph("PATCH", f"applications(uniqueName='{name}')", **upsert).status_code == 201


def test_a_deleted_service_principal_and_a_new_one_for_the_same_app(g: AdminRest) -> None:
    """A new service principal may be made while the old one is in deleted items; restoring
    the old one then fails: Entra's "The service principal cannot be created, updated, or
    restored because the service principal name {appId} is already in use"."""
    app = _app(g, signInAudience="AzureADMultipleOrgs")
    old = g.graph("POST", "servicePrincipals", json={"appId": app["appId"]}).json()
    assert g.graph("DELETE", f"servicePrincipals/{old['id']}").status_code == 204
    assert g.graph("GET", f"servicePrincipals(appId='{app['appId']}')").status_code == 404
    new = g.graph("POST", "servicePrincipals", json={"appId": app["appId"]})
    assert new.status_code == 201 and new.json()["id"] != old["id"]
    clash = g.graph("POST", f"directory/deletedItems/{old['id']}/restore")
    assert clash.status_code == 409
    assert "already in use" in clash.json()["error"]["message"]


def test_deleted_items_expire_after_30_days(g: AdminRest, fresh_sandbox: Any) -> None:
    app = _app(g)
    assert g.graph("DELETE", f"applications/{app['id']}").status_code == 204
    fresh_sandbox.settings(clock_offset_s=31 * 86400)
    g = AdminRest(fresh_sandbox.info, "contoso")  # a token from the sandbox's new "now"
    assert g.graph("GET", f"directory/deletedItems/{app['id']}").status_code == 404
    assert g.graph("POST", f"directory/deletedItems/{app['id']}/restore").status_code == 404


def test_deleted_items_need_application_permissions(fresh_sandbox: Any) -> None:
    tid = fresh_sandbox.tenant("contoso")["tenant_id"]
    weak = fresh_sandbox.world.directory.create_admin(tid, "no-roles", graph_roles=())
    cred = fresh_sandbox.secret_credential("contoso", weak["client_id"], weak["client_secret"])
    token = cred.get_token("https://graph.microsoft.com/.default").token
    cred.close()
    import httpx

    r = httpx.get(
        f"{fresh_sandbox.info['graph']}/v1.0/directory/deletedItems/microsoft.graph.application",
        headers={"Authorization": f"Bearer {token}"},
        verify=fresh_sandbox.info["ca_bundle"],
    )
    assert r.status_code == 403
