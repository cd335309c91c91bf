"""Microsoft Graph v1.0 in the sandbox, driven by the unmodified msgraph-sdk and by plain
httpx where the exact wire format is the point.

Tokens always come from the sandbox's Entra through azure-identity's ClientSecretCredential
(a tenant's seeded admin, or a client app this test registers and grants Graph app roles
to through Graph itself), so authorization is exercised from real ``roles`` claims.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import httpx
import pytest

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE = "api://AzureADTokenExchange"
ERRORS_NEEDING_INNER = ("date", "request-id", "client-request-id")


def uid(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


_SDK: list[Any] = []  # GraphServiceClients made inside the running coroutine


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    async def main() -> Any:
        try:
            return await coro
        finally:  # close the SDK's connections on their own loop: idle TLS sockets delay the
            while _SDK:  # server's stop. Neither the adapter nor msgraph-core's AsyncGraphTransport
                http = _SDK.pop().request_adapter._http_client  # expose a public close, hence
                inner = getattr(http._transport, "transport", None)  # the private attributes
                await http.aclose()
                if inner is not None:
                    await inner.aclose()

    return asyncio.run(main())


_OPEN: list[
    Any
] = []  # clients to close after each test (keep-alive sockets slow the server's stop)


@pytest.fixture(autouse=True)
def _close_clients() -> Any:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture()
def sb(sandbox_env: Any) -> Any:
    """The session's demo sandbox, with the CA bundle and authority in the environment."""
    return sandbox_env


@pytest.fixture()
def fresh(fresh_sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A sandbox of the test's own (settings change); clients are closed before it stops."""
    for k, v in fresh_sandbox.env().items():
        monkeypatch.setenv(k, v)
    yield fresh_sandbox
    while _OPEN:
        _OPEN.pop().close()


def credential(
    sb: Any, tenant: str, client_id: str | None = None, secret: str | None = None
) -> Any:
    t = sb.tenant(tenant)
    cred = sb.secret_credential(
        tenant, client_id or t["admin"]["client_id"], secret or t["admin"]["client_secret"]
    )
    _OPEN.append(cred)
    return cred


def sdk(sb: Any, cred: Any) -> Any:
    """The unmodified GraphServiceClient; only the request adapter's base_url points here."""
    from msgraph import GraphServiceClient

    client = GraphServiceClient(cred, scopes=[GRAPH_SCOPE])
    client.request_adapter.base_url = f"{sb.info['graph']}/v1.0"
    _SDK.append(client)
    return client


def prefer_upsert() -> Any:
    from kiota_abstractions.base_request_configuration import RequestConfiguration

    cfg = RequestConfiguration()
    cfg.headers.add("Prefer", "create-if-missing")
    return cfg


async def odata_error(fn: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    from msgraph.generated.models.o_data_errors.o_data_error import ODataError

    with pytest.raises(ODataError) as ei:
        await fn()
    return ei.value


class G:
    """Raw Graph calls with a real bearer token."""

    def __init__(
        self,
        sb: Any,
        tenant: str,
        client_id: str | None = None,
        secret: str | None = None,
        token: str | None = None,
    ) -> None:
        self.sb = sb
        self.tid = sb.tenant(tenant)["tenant_id"]
        self.token = token or credential(sb, tenant, client_id, secret).get_token(GRAPH_SCOPE).token
        self.http = httpx.Client(
            verify=sb.info["ca_bundle"], timeout=30, base_url=f"{sb.info['graph']}/v1.0"
        )
        _OPEN.append(self.http)

    def req(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
        **kw: Any,
    ) -> httpx.Response:
        h = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        return self.http.request(method, path, json=body, headers=h, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.req("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.req("POST", path, body, **kw)

    def patch(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return self.req("PATCH", path, body, **kw)

    def delete(self, path: str, **kw: Any) -> httpx.Response:
        return self.req("DELETE", path, **kw)

    def ok(self, r: httpx.Response, status: int = 200) -> Any:
        assert r.status_code == status, (
            f"{r.request.method} {r.request.url} -> {r.status_code} {r.text}"
        )
        return r.json() if r.content else None


def assert_error(r: httpx.Response, status: int, code: str, contains: str = "") -> dict[str, Any]:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    assert contains in err["message"], err
    for k in ERRORS_NEEDING_INNER:
        assert err["innerError"][k], err
    assert r.headers["request-id"]
    return err


def make_client(
    sb: Any, tenant: str, roles: list[str], *, audience: str = "AzureADMyOrg"
) -> dict[str, Any]:
    """Register an app + SP in ``tenant`` (as its admin) and grant it these Graph app roles."""
    admin = G(sb, tenant)
    app = admin.ok(
        admin.post("/applications", {"displayName": uid("client"), "signInAudience": audience}), 201
    )
    secret = admin.ok(
        admin.post(
            f"/applications/{app['id']}/addPassword",
            {"passwordCredential": {"displayName": "test"}},
        )
    )["secretText"]
    sp = admin.ok(admin.post("/servicePrincipals", {"appId": app["appId"]}), 201)
    graph_sp = admin.ok(admin.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')"))
    ids = {r["value"]: r["id"] for r in graph_sp["appRoles"]}
    for role in roles:
        admin.ok(
            admin.post(
                f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
                {"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": ids[role]},
            ),
            201,
        )
    return {
        "app": app,
        "sp": sp,
        "secret": secret,
        "g": lambda: G(sb, tenant, app["appId"], secret),
    }


def fic_body(name: str, subject: str | None = None, **kw: Any) -> dict[str, Any]:
    return {
        "name": name,
        "issuer": "https://issuer.example/v2.0",
        "subject": subject or uid("sub"),
        "audiences": [EXCHANGE],
        **kw,
    }


# ---- applications through the SDK -------------------------------------------------------------
def test_sdk_application_lifecycle(sb: Any) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.applications.applications_request_builder import (
        ApplicationsRequestBuilder,
    )
    from msgraph.generated.models.application import Application
    from msgraph.generated.models.web_application import WebApplication

    name = uid("lifecycle")

    async def main() -> None:
        client = sdk(sb, credential(sb, "contoso"))
        app = await client.applications.post(
            Application(
                display_name=name,
                sign_in_audience="AzureADMultipleOrgs",
                web=WebApplication(redirect_uris=["https://contoso.example/done"]),
                tags=["xtenant"],
            )
        )
        assert app.id and app.app_id and app.id != app.app_id
        assert app.publisher_domain == "contoso.onmicrosoft.com"
        assert app.created_date_time is not None
        assert app.sign_in_audience == "AzureADMultipleOrgs"
        assert app.web.redirect_uris == ["https://contoso.example/done"]
        assert app.web.implicit_grant_settings.enable_id_token_issuance is False

        by_id = await client.applications.by_application_id(app.id).get()
        by_app_id = await client.applications_with_app_id(app.app_id).get()
        assert by_id.app_id == by_app_id.app_id == app.app_id

        q = ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters(
            filter=f"appId eq '{app.app_id}'", select=["id", "displayName"]
        )
        cfg = RequestConfiguration(query_parameters=q)
        listed = await client.applications.get(request_configuration=cfg)
        assert [(a.id, a.display_name, a.app_id) for a in listed.value] == [(app.id, name, None)]

        await client.applications.by_application_id(app.id).patch(
            Application(display_name=name + "-2", notes="patched")
        )
        again = await client.applications.by_application_id(app.id).get()
        assert (again.display_name, again.notes) == (name + "-2", "patched")
        assert again.web.redirect_uris == ["https://contoso.example/done"]  # complex values merge

        await client.applications.by_application_id(app.id).delete()
        err = await odata_error(lambda: client.applications.by_application_id(app.id).get())
        assert err.response_status_code == 404
        assert err.error.code == "Request_ResourceNotFound"

    run(main())


def test_application_defaults_and_wire_shape(sb: Any) -> None:
    g = G(sb, "contoso")
    r = g.post("/applications", {"displayName": uid("shape")})
    app = g.ok(r, 201)
    assert r.headers["location"].endswith(f"/v1.0/applications/{app['id']}")
    assert app["@odata.context"].endswith("/v1.0/$metadata#applications/$entity")
    assert app["signInAudience"] == "AzureADMyOrg"
    assert app["uniqueName"] is None
    for k in (
        "identifierUris",
        "tags",
        "appRoles",
        "keyCredentials",
        "passwordCredentials",
        "requiredResourceAccess",
        "addIns",
    ):
        assert app[k] == [], k
    assert r.headers["content-type"].startswith("application/json;odata.metadata=minimal")
    assert r.headers["odata-version"] == "4.0"
    got = g.ok(g.get(f"/applications/{app['id']}", params={"$select": "displayName,appId"}))
    assert got == {
        "@odata.context": got["@odata.context"],
        "displayName": app["displayName"],
        "appId": app["appId"],
    }
    assert got["@odata.context"].endswith("#applications(displayName,appId)/$entity")


def test_application_validation(sb: Any) -> None:
    g = G(sb, "contoso")
    assert_error(
        g.post("/applications", {"displayName": "x", "bogusProperty": 1}),
        400,
        "Request_BadRequest",
        "bogusProperty",
    )
    assert_error(
        g.post("/applications", {"displayName": "x", "tags": "not-a-list"}), 400, "BadRequest"
    )
    assert_error(
        g.post("/applications", {"notes": "no display name"}),
        400,
        "Request_BadRequest",
        "displayName",
    )
    assert_error(
        g.post("/applications", {"displayName": "x", "signInAudience": "Everyone"}),
        400,
        "Request_BadRequest",
        "signInAudience",
    )
    assert_error(
        g.post("/applications", {"displayName": "x", "appId": str(uuid.uuid4())}),
        400,
        "Request_BadRequest",
        "appId",
    )
    r = g.req(
        "POST", "/applications", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(r, 400, "BadRequest", "Unable to read JSON request payload")
    uri = f"api://{uid('uri')}"
    g.ok(g.post("/applications", {"displayName": "a", "identifierUris": [uri]}), 201)
    assert_error(
        g.post("/applications", {"displayName": "b", "identifierUris": [uri]}),
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        "identifierUris",
    )


def test_unknown_segment_and_method(sb: Any) -> None:
    g = G(sb, "contoso")
    assert_error(
        g.get("/nonsense"), 400, "BadRequest", "Resource not found for the segment 'nonsense'"
    )
    assert_error(g.req("PUT", "/applications"), 405, "Request_BadRequest", "not allowed")
    assert_error(
        g.get(f"/applications/{uuid.uuid4()}"), 404, "Request_ResourceNotFound", "does not exist"
    )


# ---- upsert by alternate key ----------------------------------------------------------------------
def test_upsert_application_by_unique_name_sdk(sb: Any) -> None:
    from msgraph.generated.models.application import Application

    un = uid("uniq")

    async def main() -> None:
        client = sdk(sb, credential(sb, "contoso"))
        created = await client.applications_with_unique_name(un).patch(
            Application(display_name="first"), request_configuration=prefer_upsert()
        )
        assert created is not None and created.unique_name == un and created.display_name == "first"
        updated = await client.applications_with_unique_name(un).patch(
            Application(display_name="second"), request_configuration=prefer_upsert()
        )
        assert updated is None  # 204 No Content
        got = await client.applications_with_unique_name(un).get()
        assert (got.id, got.display_name) == (created.id, "second")
        err = await odata_error(
            lambda: client.applications_with_unique_name(uid("missing")).patch(
                Application(display_name="nope")
            )
        )
        assert err.response_status_code == 404

    run(main())


def test_upsert_wire_codes_and_unique_name_rules(sb: Any) -> None:
    g = G(sb, "contoso")
    un = uid("wire")
    path = f"/applications(uniqueName='{un}')"
    r = g.patch(path, {"displayName": "one"}, headers={"Prefer": "create-if-missing"})
    created = g.ok(r, 201)
    assert r.headers["location"].endswith(f"/applications/{created['id']}")
    assert created["@odata.context"].endswith("#applications/$entity")
    r = g.patch(path, {"displayName": "two"}, headers={"Prefer": "create-if-missing"})
    assert r.status_code == 204 and r.content == b""
    assert g.patch(path, {"displayName": "three"}).status_code == 204  # exists: plain update
    missing = f"/applications(uniqueName='{uid('nope')}')"
    assert_error(g.patch(missing, {"displayName": "x"}), 404, "Request_ResourceNotFound")
    assert g.get(missing).status_code == 404
    # uniqueName is immutable once set, and unique in the tenant
    assert_error(
        g.patch(f"/applications/{created['id']}", {"uniqueName": uid("other")}),
        400,
        "Request_BadRequest",
        "uniqueName",
    )
    assert_error(
        g.post("/applications", {"displayName": "dup", "uniqueName": un}),
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        "uniqueName",
    )
    # the alternate key works for navigation too
    fics = g.ok(g.get(f"{path}/federatedIdentityCredentials"))
    assert fics["value"] == []


# ---- federated identity credentials ------------------------------------------------------------------
def test_fic_crud_sdk(sb: Any) -> None:
    from msgraph.generated.models.application import Application
    from msgraph.generated.models.federated_identity_credential import FederatedIdentityCredential

    async def main() -> None:
        client = sdk(sb, credential(sb, "contoso"))
        app = await client.applications.post(Application(display_name=uid("fic-sdk")))
        fics = client.applications.by_application_id(app.id).federated_identity_credentials
        created = await fics.post(
            FederatedIdentityCredential(
                name="vm-vector",
                issuer="https://login.example/t/v2.0",
                subject="obj-1",
                audiences=[EXCHANGE],
            )
        )
        assert created.id and created.name == "vm-vector" and created.description is None
        listed = await fics.get()
        assert [f.id for f in listed.value] == [created.id]
        assert (await fics.by_federated_identity_credential_id(created.id).get()).subject == "obj-1"
        # by name, as the API page allows
        assert (await fics.by_federated_identity_credential_id("vm-vector").get()).id == created.id
        by_name = client.applications.by_application_id(
            app.id
        ).federated_identity_credentials_with_name("vm-vector")
        assert (await by_name.get()).id == created.id
        await fics.by_federated_identity_credential_id(created.id).patch(
            FederatedIdentityCredential(description="updated", subject="obj-2")
        )
        got = await fics.by_federated_identity_credential_id(created.id).get()
        assert (got.description, got.subject) == ("updated", "obj-2")
        await fics.by_federated_identity_credential_id("vm-vector").delete()
        assert (await fics.get()).value == []
        err = await odata_error(lambda: fics.by_federated_identity_credential_id(created.id).get())
        assert err.response_status_code == 404

    run(main())


def test_fic_addressing_by_app_id_and_upsert(sb: Any) -> None:
    g = G(sb, "contoso")
    app = g.ok(g.post("/applications", {"displayName": uid("fic-appid")}), 201)
    base = f"/applications(appId='{app['appId']}')/federatedIdentityCredentials"
    r = g.post(base, fic_body("first"))
    fic = g.ok(r, 201)
    assert fic["@odata.context"].endswith(
        f"#applications('{app['id']}')/federatedIdentityCredentials/$entity"
    )
    assert g.ok(g.get(f"{base}/first"))["id"] == fic["id"]
    upsert = f"/applications/{app['id']}/federatedIdentityCredentials(name='second')"
    assert_error(g.patch(upsert, fic_body("second")), 404, "Request_ResourceNotFound")
    created = g.ok(
        g.patch(upsert, fic_body("second"), headers={"Prefer": "create-if-missing"}), 201
    )
    assert created["name"] == "second"
    assert (
        g.patch(upsert, {"description": "d"}, headers={"Prefer": "create-if-missing"}).status_code
        == 204
    )
    assert g.ok(g.get(upsert))["description"] == "d"
    assert g.delete(upsert).status_code == 204
    assert [f["name"] for f in g.ok(g.get(base))["value"]] == ["first"]
    # filter on subject
    listed = g.ok(g.get(base, params={"$filter": f"subject eq '{fic['subject']}'"}))
    assert [f["id"] for f in listed["value"]] == [fic["id"]]


@pytest.mark.parametrize("name", ["ab", "a b c", "-leading", "x" * 121, "name/slash", "é-accent"])
def test_fic_name_rules(sb: Any, name: str) -> None:
    g = G(sb, "contoso")
    app = g.ok(g.post("/applications", {"displayName": uid("fic-name")}), 201)
    assert_error(
        g.post(f"/applications/{app['id']}/federatedIdentityCredentials", fic_body(name)),
        400,
        "Request_BadRequest",
        "'name'",
    )


def test_fic_rules(sb: Any) -> None:
    g = G(sb, "contoso")
    app = g.ok(g.post("/applications", {"displayName": uid("fic-rules")}), 201)
    base = f"/applications/{app['id']}/federatedIdentityCredentials"
    g.ok(g.post(base, fic_body("abc", subject="s-0")), 201)  # 3 chars: the minimum
    g.ok(g.post(base, fic_body("A" * 120)), 201)  # 120 chars: the maximum
    assert_error(
        g.post(base, fic_body("ABC")),
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        "FederatedIdentityCredential with name ABC already exists.",
    )
    assert_error(
        g.post(base, fic_body("other", subject="s-0")),
        400,
        "InvalidFederatedIdentityCredentialValue",
        "combination of issuer and subject must be unique",
    )
    assert_error(
        g.post(base, fic_body("two-auds", audiences=[EXCHANGE, "api://other"])),
        400,
        "Request_BadRequest",
        "'audiences'",
    )
    assert_error(
        g.post(base, fic_body("no-auds", audiences=[])), 400, "Request_BadRequest", "'audiences'"
    )
    body = fic_body("no-issuer")
    del body["issuer"]
    assert_error(g.post(base, body), 400, "Request_BadRequest", "'issuer'")
    body = fic_body("no-subject")
    del body["subject"]
    assert_error(g.post(base, body), 400, "Request_BadRequest", "'subject'")
    assert_error(
        g.post(base, fic_body("long-subject", subject="s" * 601)),
        400,
        "Request_BadRequest",
        "'subject'",
    )
    assert_error(g.patch(f"{base}/abc", {"name": "renamed"}), 400, "Request_BadRequest", "name")


def test_fic_limit_of_20(sb: Any) -> None:
    g = G(sb, "contoso")
    app = g.ok(g.post("/applications", {"displayName": uid("fic-limit")}), 201)
    base = f"/applications/{app['id']}/federatedIdentityCredentials"
    for i in range(20):
        g.ok(g.post(base, fic_body(f"fic-{i:02d}")), 201)
    assert_error(g.post(base, fic_body("fic-20")), 400, "Request_BadRequest", "maximum")
    assert len(g.ok(g.get(base))["value"]) == 20
    assert g.delete(f"{base}/fic-00").status_code == 204
    g.ok(g.post(base, fic_body("fic-20")), 201)


# ---- service principals ----------------------------------------------------------------------------
def test_service_principal_creation_rules(sb: Any) -> None:
    contoso, litware = G(sb, "contoso"), G(sb, "litware")
    multi = contoso.ok(
        contoso.post(
            "/applications",
            {
                "displayName": uid("multi"),
                "signInAudience": "AzureADMultipleOrgs",
                "appRoles": [
                    {
                        "allowedMemberTypes": ["Application"],
                        "description": "d",
                        "displayName": "Reader",
                        "id": str(uuid.uuid4()),
                        "isEnabled": True,
                        "value": "Things.Read",
                    }
                ],
            },
        ),
        201,
    )
    single = contoso.ok(contoso.post("/applications", {"displayName": uid("single")}), 201)

    # a multi-tenant app from another tenant: allowed
    r = litware.post("/servicePrincipals", {"appId": multi["appId"]})
    sp = litware.ok(r, 201)
    assert r.headers["location"].endswith(f"/servicePrincipals/{sp['id']}")
    assert sp["appOwnerOrganizationId"] == contoso.tid
    assert sp["appId"] == multi["appId"] and sp["appDisplayName"] == multi["displayName"]
    assert sp["appRoles"] == multi["appRoles"]
    assert sp["servicePrincipalType"] == "Application" and sp["accountEnabled"] is True
    assert multi["appId"] in sp["servicePrincipalNames"]
    assert sp["@odata.context"].endswith("#servicePrincipals/$entity")
    # twice: conflict
    assert_error(
        litware.post("/servicePrincipals", {"appId": multi["appId"]}),
        409,
        "Request_MultipleObjectsWithSameKeyValue",
        "already in use",
    )
    # a single-tenant app from another tenant: refused; in its home tenant: fine
    assert_error(
        litware.post("/servicePrincipals", {"appId": single["appId"]}),
        400,
        "Request_BadRequest",
        "does not reference a valid application object",
    )
    contoso.ok(contoso.post("/servicePrincipals", {"appId": single["appId"]}), 201)
    assert_error(
        litware.post("/servicePrincipals", {"appId": str(uuid.uuid4())}),
        400,
        "Request_BadRequest",
        "does not reference a valid application object",
    )
    assert_error(litware.post("/servicePrincipals", {}), 400, "Request_BadRequest", "appId")
    # lookups and filters
    assert (
        litware.ok(litware.get(f"/servicePrincipals(appId='{multi['appId']}')"))["id"] == sp["id"]
    )
    assert litware.ok(litware.get(f"/servicePrincipals/{sp['id']}"))["appId"] == multi["appId"]
    listed = litware.ok(
        litware.get("/servicePrincipals", params={"$filter": f"appId eq '{multi['appId']}'"})
    )
    assert [s["id"] for s in listed["value"]] == [sp["id"]]
    assert contoso.get(f"/servicePrincipals/{sp['id']}").status_code == 404  # other tenant's object
    # the app's published roles follow later edits
    new_role = {
        "allowedMemberTypes": ["Application"],
        "description": "w",
        "displayName": "Writer",
        "id": str(uuid.uuid4()),
        "isEnabled": True,
        "value": "Things.Write",
    }
    assert (
        contoso.patch(
            f"/applications/{multi['id']}", {"appRoles": [*multi["appRoles"], new_role]}
        ).status_code
        == 204
    )
    assert {
        r["value"] for r in litware.ok(litware.get(f"/servicePrincipals/{sp['id']}"))["appRoles"]
    } == {"Things.Read", "Things.Write"}
    # delete
    assert litware.delete(f"/servicePrincipals/{sp['id']}").status_code == 204
    assert litware.get(f"/servicePrincipals/{sp['id']}").status_code == 404


def test_service_principal_upsert(sb: Any) -> None:
    from msgraph.generated.models.service_principal import ServicePrincipal

    contoso = G(sb, "contoso")
    app = contoso.ok(
        contoso.post(
            "/applications",
            {"displayName": uid("sp-upsert"), "signInAudience": "AzureADMultipleOrgs"},
        ),
        201,
    )

    async def main() -> None:
        client = sdk(sb, credential(sb, "litware"))
        builder = client.service_principals_with_app_id(app["appId"])
        err = await odata_error(lambda: builder.patch(ServicePrincipal(display_name="instance")))
        assert err.response_status_code == 404
        created = await builder.patch(
            ServicePrincipal(display_name="instance"), request_configuration=prefer_upsert()
        )
        assert created.app_id == app["appId"] and created.display_name == "instance"
        assert str(created.app_owner_organization_id) == contoso.tid
        assert (
            await builder.patch(ServicePrincipal(tags=["x"]), request_configuration=prefer_upsert())
            is None
        )
        got = await builder.get()
        assert got.id == created.id and got.tags == ["x"]
        await builder.delete()
        err = await odata_error(lambda: builder.get())
        assert err.response_status_code == 404

    run(main())


def test_first_party_service_principals(sb: Any) -> None:
    data = json.loads(
        (
            __import__("pathlib").Path(__file__).resolve().parents[2]
            / "provisioning/sandbox/data/graph_app_roles.json"
        ).read_text()
    )
    for tenant in ("contoso", "litware", "fabrikam"):
        g = G(sb, tenant)
        graph_sp = g.ok(g.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')"))
        assert graph_sp["displayName"] == "Microsoft Graph"
        assert "https://graph.microsoft.com" in graph_sp["servicePrincipalNames"]
        assert {(r["value"], r["id"]) for r in graph_sp["appRoles"]} == {
            (d["value"], d["id"]) for d in data
        }
        assert all(
            r["allowedMemberTypes"] == ["Application"] and r["isEnabled"]
            for r in graph_sp["appRoles"]
        )
        arm = g.ok(g.get("/servicePrincipals(appId='797f4846-ba00-4fd7-ba43-dac1f8f63013')"))
        assert "https://management.azure.com/" in arm["servicePrincipalNames"]
        exchange = g.ok(
            g.get(
                "/servicePrincipals",
                params={
                    "$filter": "servicePrincipalNames/any(n:n eq 'api://AzureADTokenExchange')"
                },
            )
        )
        assert [s["appId"] for s in exchange["value"]] == ["fb60f99c-7a34-4190-8149-302f77469936"]


# ---- app role assignments --------------------------------------------------------------------------
def test_app_role_assignments_and_token_roles(sb: Any) -> None:
    contoso, litware = G(sb, "contoso"), G(sb, "litware")
    app = contoso.ok(
        contoso.post(
            "/applications", {"displayName": uid("ara"), "signInAudience": "AzureADMultipleOrgs"}
        ),
        201,
    )
    secret = contoso.ok(contoso.post(f"/applications/{app['id']}/addPassword", {}))["secretText"]
    sp = litware.ok(litware.post("/servicePrincipals", {"appId": app["appId"]}), 201)
    graph_sp = litware.ok(litware.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')"))
    role = next(r for r in graph_sp["appRoles"] if r["value"] == "Sites.Read.All")
    body = {"principalId": sp["id"], "resourceId": graph_sp["id"], "appRoleId": role["id"]}
    r = litware.post(f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo", body)
    a = litware.ok(r, 201)
    assert a["@odata.context"].endswith(
        f"#servicePrincipals('{graph_sp['id']}')/appRoleAssignedTo/$entity"
    )
    assert (a["principalId"], a["resourceId"], a["appRoleId"]) == (
        sp["id"],
        graph_sp["id"],
        role["id"],
    )
    assert (
        a["principalType"] == "ServicePrincipal" and a["resourceDisplayName"] == "Microsoft Graph"
    )
    assert a["principalDisplayName"] == app["displayName"] and a["id"] and a["createdDateTime"]
    assert_error(
        litware.post(f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo", body),
        400,
        "Request_BadRequest",
        "Permission being assigned already exists on the object",
    )
    assert_error(
        litware.post(
            f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
            {**body, "appRoleId": str(uuid.uuid4())},
        ),
        400,
        "Request_BadRequest",
        "Permission being assigned was not found on application",
    )
    assert_error(
        litware.post(
            f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
            {**body, "principalId": str(uuid.uuid4())},
        ),
        404,
        "Request_ResourceNotFound",
    )
    assigned_to = litware.ok(
        litware.get(
            f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
            params={"$filter": f"principalId eq '{sp['id']}'"},
        )
    )
    assert [x["id"] for x in assigned_to["value"]] == [a["id"]]
    mine = litware.ok(litware.get(f"/servicePrincipals/{sp['id']}/appRoleAssignments"))
    assert [x["id"] for x in mine["value"]] == [a["id"]]
    # the grant shows in the app's token for litware's Graph
    token = credential(sb, "litware", app["appId"], secret).get_token(GRAPH_SCOPE).token
    import jwt

    assert jwt.decode(token, options={"verify_signature": False}).get("roles") == ["Sites.Read.All"]
    # revoke
    assert (
        litware.delete(
            f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo/{a['id']}"
        ).status_code
        == 204
    )
    assert (
        litware.ok(litware.get(f"/servicePrincipals/{sp['id']}/appRoleAssignments"))["value"] == []
    )
    assert_error(
        litware.delete(f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo/{a['id']}"),
        404,
        "Request_ResourceNotFound",
    )
    # the other direction: POST .../appRoleAssignments on the client SP
    a2 = litware.ok(litware.post(f"/servicePrincipals/{sp['id']}/appRoleAssignments", body), 201)
    assert a2["@odata.context"].endswith(
        f"#servicePrincipals('{sp['id']}')/appRoleAssignments/$entity"
    )


def test_app_role_assignment_sdk(sb: Any) -> None:
    from msgraph.generated.models.app_role_assignment import AppRoleAssignment
    from msgraph.generated.models.application import Application
    from msgraph.generated.models.service_principal import ServicePrincipal

    async def main() -> None:
        client = sdk(sb, credential(sb, "contoso"))
        app = await client.applications.post(Application(display_name=uid("ara-sdk")))
        sp = await client.service_principals.post(ServicePrincipal(app_id=app.app_id))
        graph_sp = await client.service_principals_with_app_id(GRAPH_APP_ID).get()
        role = next(r for r in graph_sp.app_roles if r.value == "Directory.Read.All")
        a = await client.service_principals.by_service_principal_id(
            graph_sp.id
        ).app_role_assigned_to.post(
            AppRoleAssignment(
                principal_id=uuid.UUID(sp.id),
                resource_id=uuid.UUID(graph_sp.id),
                app_role_id=role.id,
            )
        )
        assert str(a.app_role_id) == str(role.id) and str(a.principal_id) == sp.id
        listed = await client.service_principals.by_service_principal_id(
            sp.id
        ).app_role_assignments.get()
        assert [x.id for x in listed.value] == [a.id]
        err = await odata_error(
            lambda: client.service_principals.by_service_principal_id(
                graph_sp.id
            ).app_role_assigned_to.post(
                AppRoleAssignment(
                    principal_id=uuid.UUID(sp.id),
                    resource_id=uuid.UUID(graph_sp.id),
                    app_role_id=role.id,
                )
            )
        )
        assert err.response_status_code == 400
        assert err.error.message == "Permission being assigned already exists on the object."

    run(main())


# ---- $batch -----------------------------------------------------------------------------------------
def test_batch_depends_on_and_request_kinds(sb: Any) -> None:
    g = G(sb, "contoso")
    un = uid("batch")
    mark = sb.mark()
    r = g.post(
        "/$batch",
        {
            "requests": [
                {
                    "id": "3",
                    "method": "GET",
                    "url": f"/applications(uniqueName='{un}')",
                    "dependsOn": ["2"],
                },
                {
                    "id": "1",
                    "method": "PATCH",
                    "url": f"/applications(uniqueName='{un}')",
                    "headers": {"Content-Type": "application/json", "Prefer": "create-if-missing"},
                    "body": {"displayName": "made in a batch"},
                },
                {
                    "id": "2",
                    "method": "PATCH",
                    "url": f"/applications(uniqueName='{un}')",
                    "dependsOn": ["1"],
                    "headers": {"Content-Type": "application/json"},
                    "body": {"notes": "second"},
                },
                {
                    "id": "4",
                    "method": "GET",
                    "url": "https://graph.microsoft.com/v1.0/organization?$select=id",
                },
            ]
        },
    )
    out = {x["id"]: x for x in g.ok(r)["responses"]}
    assert [x["id"] for x in r.json()["responses"]] == ["3", "1", "2", "4"]
    assert out["1"]["status"] == 201 and out["1"]["body"]["uniqueName"] == un
    assert out["1"]["headers"]["Location"]
    assert out["2"]["status"] == 204 and "body" not in out["2"]
    assert out["3"]["status"] == 200 and out["3"]["body"]["notes"] == "second"
    assert out["4"]["body"]["value"] == [{"id": g.tid}]
    writes = [e for e in sb.requests(mark) if e["path"].endswith("$batch")]
    assert [e["kind"] for e in writes] == ["write"]

    # a failed request fails its dependants with 424
    r = g.post(
        "/$batch",
        {
            "requests": [
                {"id": "a", "method": "GET", "url": f"/applications/{uuid.uuid4()}"},
                {"id": "b", "method": "GET", "url": "/organization", "dependsOn": ["a"]},
                {"id": "c", "method": "GET", "url": "/organization"},
            ]
        },
    )
    out = {x["id"]: x for x in g.ok(r)["responses"]}
    assert (
        out["a"]["status"] == 404
        and out["a"]["body"]["error"]["code"] == "Request_ResourceNotFound"
    )
    assert out["b"]["status"] == 424
    assert out["c"]["status"] == 200
    assert [e["kind"] for e in sb.requests(mark) if e["path"].endswith("$batch")][-1] == "read"


def test_batch_limits_and_authorization(sb: Any) -> None:
    g = G(sb, "contoso")
    many = [{"id": str(i), "method": "GET", "url": "/organization"} for i in range(21)]
    assert_error(g.post("/$batch", {"requests": many}), 400, "BadRequest", "20")
    assert g.ok(g.post("/$batch", {"requests": many[:20]}))["responses"][19]["status"] == 200
    assert_error(g.post("/$batch", {"requests": [many[0], many[0]]}), 400, "BadRequest")
    assert_error(
        g.post(
            "/$batch",
            {
                "requests": [
                    {"id": "1", "method": "GET", "url": "/organization", "dependsOn": ["9"]}
                ]
            },
        ),
        400,
        "BadRequest",
    )
    assert_error(g.post("/$batch", {"nope": []}), 400, "BadRequest")
    # inner requests are authorized like direct ones
    reader = make_client(sb, "contoso", ["Application.Read.All"])["g"]()
    out = reader.ok(
        reader.post(
            "/$batch",
            {
                "requests": [
                    {"id": "1", "method": "GET", "url": "/applications?$top=1"},
                    {
                        "id": "2",
                        "method": "POST",
                        "url": "/applications",
                        "headers": {"Content-Type": "application/json"},
                        "body": {"displayName": "denied"},
                    },
                ]
            },
        )
    )["responses"]
    assert [x["status"] for x in out] == [200, 403]
    assert out[1]["body"]["error"]["code"] == "Authorization_RequestDenied"


# ---- paging, filters, select, count -----------------------------------------------------------------
def test_paging_with_next_link(sb: Any) -> None:
    from kiota_abstractions.base_request_configuration import RequestConfiguration
    from msgraph.generated.applications.applications_request_builder import (
        ApplicationsRequestBuilder,
    )

    g = G(sb, "contoso")
    prefix = uid("page")
    ids = {
        g.ok(g.post("/applications", {"displayName": f"{prefix}-{i}"}), 201)["id"] for i in range(5)
    }
    # raw: follow @odata.nextLink
    seen, url, pages = [], f"/applications?$filter=startswith(displayName,'{prefix}')&$top=2", 0
    while url:
        body = g.ok(g.get(url))
        pages += 1
        seen += [a["id"] for a in body["value"]]
        url = body.get("@odata.nextLink")
        if url:
            assert url.startswith(sb.info["graph"] + "/v1.0/applications?")
            assert "$top=2" in url and "$skiptoken=" in url
    assert pages == 3 and len(seen) == 5 and set(seen) == ids

    async def main() -> None:
        client = sdk(sb, credential(sb, "contoso"))
        q = ApplicationsRequestBuilder.ApplicationsRequestBuilderGetQueryParameters(
            filter=f"startswith(displayName,'{prefix}')", top=2
        )
        cfg = RequestConfiguration(query_parameters=q)
        page = await client.applications.get(request_configuration=cfg)
        got = [a.id for a in page.value]
        while page.odata_next_link:
            page = await client.applications.with_url(page.odata_next_link).get()
            got += [a.id for a in page.value]
        assert set(got) == ids and len(got) == 5

    run(main())


def test_query_options(sb: Any) -> None:
    g = G(sb, "contoso")
    prefix = uid("q")
    a = g.ok(g.post("/applications", {"displayName": f"{prefix} alpha", "tags": ["t1"]}), 201)
    b = g.ok(
        g.post(
            "/applications",
            {"displayName": f"{prefix} beta", "signInAudience": "AzureADMultipleOrgs"},
        ),
        201,
    )
    flt = f"startswith(displayName,'{prefix}')"

    def names(params: dict[str, str], **kw: Any) -> list[str]:
        return [
            x["displayName"] for x in g.ok(g.get("/applications", params=params, **kw))["value"]
        ]

    assert names({"$filter": f"{flt} and signInAudience eq 'AzureADMultipleOrgs'"}) == [
        b["displayName"]
    ]
    assert names({"$filter": f"{flt} and tags/any(t:t eq 't1')"}) == [a["displayName"]]
    assert names({"$filter": f"displayName eq '{prefix.upper()} ALPHA'"}) == [a["displayName"]]
    assert names({"$filter": f"{flt} and not (appId eq '{a['appId']}')"}) == [b["displayName"]]
    assert names({"$filter": flt, "$orderby": "displayName desc"}) == [
        b["displayName"],
        a["displayName"],
    ]
    assert_error(
        g.get("/applications", params={"$filter": "nonsense eq 'x'"}),
        400,
        "Request_UnsupportedQuery",
        "does not exist as a declared property",
    )
    assert_error(
        g.get("/applications", params={"$filter": "isFallbackPublicClient eq true"}),
        400,
        "Request_UnsupportedQuery",
        "Unsupported or invalid query filter clause",
    )
    assert_error(g.get("/applications", params={"$filter": "displayName eq"}), 400, "BadRequest")
    assert_error(
        g.get("/applications", params={"$select": "id,publisherName"}),
        400,
        "Request_UnsupportedQuery",
        "Property 'publisherName' does not exist",
    )
    assert_error(
        g.get("/applications", params={"$top": "0"}), 400, "Request_UnsupportedQuery", "page size"
    )
    # $count and $search need ConsistencyLevel: eventual
    assert_error(g.get("/applications", params={"$count": "true"}), 400, "Request_BadRequest")
    body = g.ok(
        g.get(
            "/applications",
            params={"$count": "true", "$filter": flt},
            headers={"ConsistencyLevel": "eventual"},
        )
    )
    assert body["@odata.count"] == 2
    r = g.get("/applications/$count", headers={"ConsistencyLevel": "eventual"})
    assert r.status_code == 200 and int(r.text) >= 2
    assert_error(
        g.get("/applications", params={"$search": f'"displayName:{prefix}"'}),
        400,
        "Request_UnsupportedQuery",
        "ConsistencyLevel",
    )
    assert (
        len(names({"$search": f'"displayName:{prefix}"'}, headers={"ConsistencyLevel": "eventual"}))
        == 2
    )


# ---- authentication and authorization ----------------------------------------------------------------
def test_401_invalid_authentication_token(sb: Any) -> None:
    g = G(sb, "contoso")
    r = g.http.get("/applications")
    err = assert_error(r, 401, "InvalidAuthenticationToken")
    assert "Bearer" in r.headers["www-authenticate"]
    assert err["message"] == "Access token is empty."
    r = g.http.get("/applications", headers={"Authorization": "Bearer not.a.jwt"})
    assert_error(r, 401, "InvalidAuthenticationToken")
    arm_token = credential(sb, "contoso").get_token("https://management.azure.com/.default").token
    r = g.http.get("/applications", headers={"Authorization": f"Bearer {arm_token}"})
    assert_error(r, 401, "InvalidAuthenticationToken", "Invalid audience")


def test_401_expired_token(fresh: Any) -> None:
    sb = fresh
    g = G(sb, "contoso")
    assert g.get("/organization").status_code == 200
    sb.settings(clock_offset_s=2 * 3600)
    assert_error(g.get("/organization"), 401, "InvalidAuthenticationToken", "expired")


def test_403_by_permission(sb: Any) -> None:
    admin = G(sb, "contoso")
    target = admin.ok(admin.post("/applications", {"displayName": uid("target")}), 201)

    reader = make_client(sb, "contoso", ["Application.Read.All"])["g"]()
    assert reader.ok(reader.get(f"/applications/{target['id']}"))["id"] == target["id"]
    assert_error(
        reader.post("/applications", {"displayName": "x"}),
        403,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
    )
    assert_error(
        reader.patch(f"/applications/{target['id']}", {"notes": "x"}),
        403,
        "Authorization_RequestDenied",
    )
    assert_error(
        reader.post(
            f"/applications/{target['id']}/federatedIdentityCredentials", fic_body("x-y-z")
        ),
        403,
        "Authorization_RequestDenied",
    )
    assert_error(
        reader.post("/servicePrincipals", {"appId": target["appId"]}),
        403,
        "Authorization_RequestDenied",
    )

    nothing = make_client(sb, "contoso", [])["g"]()
    assert_error(nothing.get("/applications"), 403, "Authorization_RequestDenied")
    assert_error(nothing.get("/servicePrincipals"), 403, "Authorization_RequestDenied")
    assert_error(nothing.get("/organization"), 403, "Authorization_RequestDenied")
    assert_error(nothing.get("/sites"), 403, "accessDenied")

    # AppRoleAssignment.ReadWrite.All alone is not enough to write (the page lists it paired
    # with Application.Read.All or Directory.Read.All)
    graph_sp = admin.ok(admin.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')"))
    role = graph_sp["appRoles"][0]["id"]
    ara_only = make_client(sb, "contoso", ["AppRoleAssignment.ReadWrite.All"])
    body = {"principalId": ara_only["sp"]["id"], "resourceId": graph_sp["id"], "appRoleId": role}
    g = ara_only["g"]()
    assert_error(
        g.post(f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo", body),
        403,
        "Authorization_RequestDenied",
    )
    paired = make_client(sb, "contoso", ["AppRoleAssignment.ReadWrite.All", "Application.Read.All"])
    g = paired["g"]()
    g.ok(g.post(f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo", body), 201)


def test_owned_by_permission(sb: Any) -> None:
    admin = G(sb, "contoso")
    foreign = admin.ok(admin.post("/applications", {"displayName": uid("not-mine")}), 201)
    owner = make_client(sb, "contoso", ["Application.ReadWrite.OwnedBy"])
    g = owner["g"]()
    mine = g.ok(
        g.post(
            "/applications", {"displayName": uid("mine"), "signInAudience": "AzureADMultipleOrgs"}
        ),
        201,
    )
    assert g.patch(f"/applications/{mine['id']}", {"notes": "mine"}).status_code == 204
    g.ok(g.post(f"/applications/{mine['id']}/federatedIdentityCredentials", fic_body("owned")), 201)
    owners = g.ok(g.get(f"/applications/{mine['id']}/owners"))["value"]
    assert [(o["@odata.type"], o["id"]) for o in owners] == [
        ("#microsoft.graph.servicePrincipal", owner["sp"]["id"])
    ]
    assert_error(
        g.patch(f"/applications/{foreign['id']}", {"notes": "x"}),
        403,
        "Authorization_RequestDenied",
    )
    assert g.get(f"/applications/{foreign['id']}").status_code == 404  # only owned apps are visible
    assert [a["id"] for a in g.ok(g.get("/applications"))["value"]] == [mine["id"]]
    g.ok(g.post("/servicePrincipals", {"appId": mine["appId"]}), 201)
    assert_error(
        g.post("/servicePrincipals", {"appId": foreign["appId"]}),
        403,
        "Authorization_RequestDenied",
    )
    # an app of another tenant cannot be instantiated under OwnedBy
    lw = make_client(sb, "litware", ["Application.ReadWrite.OwnedBy"])["g"]()
    assert_error(
        lw.post("/servicePrincipals", {"appId": mine["appId"]}),
        403,
        "Authorization_RequestDenied",
        "backing application of the service principal being created must in the local tenant",
    )
    # adding an owner through $ref makes the foreign app manageable
    ref = {"@odata.id": f"{sb.info['graph']}/v1.0/directoryObjects/{owner['sp']['id']}"}
    assert admin.post(f"/applications/{foreign['id']}/owners/$ref", ref).status_code == 204
    assert_error(
        admin.post(f"/applications/{foreign['id']}/owners/$ref", ref),
        400,
        "Request_BadRequest",
        "already exist",
    )
    assert g.patch(f"/applications/{foreign['id']}", {"notes": "now mine"}).status_code == 204


def test_tenant_isolation(sb: Any) -> None:
    contoso, litware = G(sb, "contoso"), G(sb, "litware")
    app = contoso.ok(contoso.post("/applications", {"displayName": uid("iso")}), 201)
    assert litware.get(f"/applications/{app['id']}").status_code == 404
    assert litware.get(f"/applications(appId='{app['appId']}')").status_code == 404
    assert app["id"] not in [a["id"] for a in litware.ok(litware.get("/applications"))["value"]]
    assert litware.delete(f"/applications/{app['id']}").status_code == 404


def test_delete_application_removes_home_sp_and_fics(sb: Any) -> None:
    g = G(sb, "contoso")
    app = g.ok(g.post("/applications", {"displayName": uid("del")}), 201)
    g.ok(g.post(f"/applications/{app['id']}/federatedIdentityCredentials", fic_body("gone")), 201)
    sp = g.ok(g.post("/servicePrincipals", {"appId": app["appId"]}), 201)
    assert g.delete(f"/applications/{app['id']}").status_code == 204
    assert g.get(f"/servicePrincipals/{sp['id']}").status_code == 404
    assert sb.world.directory.fics(app["id"]) == []


# ---- organization and sites ----------------------------------------------------------------------------
def test_organization_sdk(sb: Any) -> None:

    async def main() -> None:
        client = sdk(sb, credential(sb, "litware"))
        orgs = await client.organization.get()
        assert len(orgs.value) == 1
        org = orgs.value[0]
        assert org.id == sb.tenant("litware")["tenant_id"] and org.display_name == "Litware"
        assert [d.name for d in org.verified_domains] == ["litware.onmicrosoft.com"]
        assert org.verified_domains[0].is_initial is True
        one = await client.organization.by_organization_id(org.id).get()
        assert one.id == org.id

    run(main())


def test_sites_and_sites_selected(sb: Any) -> None:
    admin = G(sb, "fabrikam")
    sites = admin.ok(admin.get("/sites"))["value"]
    assert sorted(s["displayName"] for s in sites) == ["Finance", "Marketing", "Projects"]
    assert all(
        s["id"].startswith("fabrikam.sharepoint.com,")
        and s["webUrl"].startswith("https://fabrikam.sharepoint.com/sites/")
        for s in sites
    )
    found = admin.ok(admin.get("/sites", params={"search": "Fin"}))["value"]
    assert [s["name"] for s in found] == ["Finance"]
    fin = found[0]
    assert admin.ok(admin.get(f"/sites/{fin['id']}"))["@odata.context"].endswith("#sites/$entity")
    assert_error(
        admin.get("/sites/fabrikam.sharepoint.com,00000000-0000-0000-0000-000000000000,x"),
        404,
        "itemNotFound",
    )

    selected = make_client(sb, "fabrikam", ["Sites.Selected"])
    g = selected["g"]()
    assert g.ok(g.get("/sites"))["value"] == []
    assert_error(g.get(f"/sites/{fin['id']}"), 403, "accessDenied")
    perm = admin.ok(
        admin.post(
            f"/sites/{fin['id']}/permissions",
            {
                "roles": ["read"],
                "grantedToIdentities": [
                    {"application": {"id": selected["app"]["appId"], "displayName": "selected"}}
                ],
            },
        ),
        201,
    )
    assert perm["roles"] == ["read"]
    assert [s["id"] for s in g.ok(g.get("/sites"))["value"]] == [fin["id"]]
    assert g.ok(g.get(f"/sites/{fin['id']}"))["displayName"] == "Finance"
    assert_error(g.get(f"/sites/{fin['id']}/permissions"), 403, "accessDenied")
    assert admin.delete(f"/sites/{fin['id']}/permissions/{perm['id']}").status_code == 204
    assert g.ok(g.get("/sites"))["value"] == []

    reader = make_client(sb, "fabrikam", ["Sites.Read.All"])["g"]()
    assert len(reader.ok(reader.get("/sites"))["value"]) == 3

    async def main() -> None:
        client = sdk(sb, credential(sb, "fabrikam"))
        page = await client.sites.get()
        assert len(page.value) == 3

    run(main())


# ---- the model interface other services use (white-box) -----------------------------------------------
def test_directory_contract(fresh: Any) -> None:
    sb = fresh
    d = sb.world.directory
    contoso = sb.tenant("contoso")["tenant_id"]
    litware = sb.tenant("litware")["tenant_id"]

    # first-party SPs, resources by URI (trailing-slash insensitive) or appId
    assert d.sp_for_resource(contoso, "https://graph.microsoft.com/")["appId"] == GRAPH_APP_ID
    assert (
        d.sp_for_resource(contoso, "https://management.azure.com")["appId"]
        == "797f4846-ba00-4fd7-ba43-dac1f8f63013"
    )
    assert (
        d.sp_for_resource(contoso, "https://monitor.azure.com")["appId"]
        == "e933bd07-d2ee-4f1d-933c-3752b819567b"
    )
    assert (
        d.sp_for_resource(contoso, "api://AzureADTokenExchange")["appId"]
        == "fb60f99c-7a34-4190-8149-302f77469936"
    )
    assert d.sp_for_resource(contoso, "https://unknown.example") is None
    d.ensure_first_party(contoso)  # idempotent
    assert len([s for s in d.sps(contoso) if s["appId"] == GRAPH_APP_ID]) == 1

    # admin: secret hashed, roles granted
    admin = d.create_admin(litware, "extra-admin", ["Directory.Read.All"])
    app = d.app_by_app_id(admin["client_id"])
    assert app["_tenant"] == litware and app["id"] == admin["app_object_id"]
    assert admin["client_secret"] not in json.dumps(app)
    assert d.check_secret(app, admin["client_secret"]) and not d.check_secret(app, "wrong")
    graph_sp = d.sp_by_app_id(litware, GRAPH_APP_ID)
    assert d.app_roles_granted(litware, admin["principal_id"], graph_sp["id"]) == [
        "Directory.Read.All"
    ]

    # replication delay
    sb.settings(replication_delay_s=30)
    mi = d.create_managed_identity_sp(
        contoso,
        principal_id=str(uuid.uuid4()),
        client_id=str(uuid.uuid4()),
        display_name="umi-x",
        resource_id="/subscriptions/s/resourceGroups/rg/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/umi-x",
    )
    assert (
        mi["servicePrincipalType"] == "ManagedIdentity"
        and mi["alternativeNames"][0] == "isExplicit=True"
    )
    assert d.sp(contoso, mi["id"])["appId"] == mi["appId"]
    assert not d.principal_visible_to_arm(contoso, mi["id"])
    sb.settings(clock_offset_s=31)
    assert d.principal_visible_to_arm(contoso, mi["id"])
    assert not d.principal_visible_to_arm(litware, mi["id"])
    assert d.delete_sp(contoso, mi["id"]) and d.sp(contoso, mi["id"]) is None

    # FIC propagation
    sb.settings(fic_propagation_s=60)
    multi = d.create_app(
        contoso,
        {
            "displayName": "consent-me",
            "signInAudience": "AzureADMultipleOrgs",
            "requiredResourceAccess": [
                {
                    "resourceAppId": GRAPH_APP_ID,
                    "resourceAccess": [
                        {
                            "id": next(
                                r["id"]
                                for r in graph_sp["appRoles"]
                                if r["value"] == "Sites.Read.All"
                            ),
                            "type": "Role",
                        }
                    ],
                }
            ],
        },
    )
    fic = d.create_fic(multi, fic_body("prop"))
    (got,) = d.fics(multi["id"])
    assert got["id"] == fic["id"] and got["_effective_at"] == pytest.approx(fic["_updated"] + 60)

    # admin consent: SP created in the customer tenant, requiredResourceAccess roles granted
    sp = d.consent(litware, multi["appId"], scope="https://graph.microsoft.com/.default")
    assert sp["appOwnerOrganizationId"] == contoso
    assert d.app_roles_granted(litware, sp["id"], graph_sp["id"]) == ["Sites.Read.All"]
    assert d.consent(litware, multi["appId"], scope=None)["id"] == sp["id"]  # idempotent
    single = d.create_app(contoso, {"displayName": "single"})
    from provisioning.sandbox.graph.models import GraphError

    with pytest.raises(GraphError):
        d.consent(litware, single["appId"], scope=None)

    # sites
    site = d.create_site(sb.tenant("fabrikam")["tenant_id"], "Legal")
    assert site["id"].startswith("fabrikam.sharepoint.com,") and len(site["id"].split(",")) == 3
