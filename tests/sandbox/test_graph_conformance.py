"""Graph responses against Microsoft's published schema and documentation.

* The CSDL slice the sandbox ships (``graph/csdl.json``) is re-extracted from the reference
  copy of Graph's v1.0 ``cleanMetadata.xml`` and must match it; the extraction must agree with
  the reference's own identity-subset summary.
* Live responses (applications, service principals — app, first-party and managed identity —,
  federated identity credentials, app role assignments, organization, sites, site permissions,
  password credentials) must carry every property the CSDL declares non-nullable, only declared
  properties, and values of the declared EDM types, recursively.
* The example responses of the API pages in the reference: every documented property that the
  CSDL declares must be in our response to the same operation, with a compatible JSON type.
* Error bodies follow ``concepts/errors.md``; ``$batch`` responses follow ``json-batching.md``.
"""

from __future__ import annotations

import json
import lzma
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from provisioning.sandbox.graph import csdl

REPO = Path(__file__).resolve().parents[2]
REF = REPO / "tests" / "reference" / "graph"  # vendored, see tests/reference/SOURCES.json

_GUID = re.compile(r"^[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
EXCHANGE = "api://AzureADTokenExchange"
_OPEN: list[Any] = []


def uid(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def fic_body(name: str, **kw: Any) -> dict[str, Any]:
    return {
        "name": name,
        "issuer": "https://issuer.example/v2.0",
        "subject": uid("sub"),
        "audiences": [EXCHANGE],
        **kw,
    }


class G:
    """Raw Graph calls as a tenant's admin (token from the sandbox's Entra via azure-identity)."""

    def __init__(self, sb: Any, tenant: str) -> None:
        cred = sb.admin_credential(tenant)
        self.token = cred.get_token("https://graph.microsoft.com/.default").token
        cred.close()
        self.http = httpx.Client(
            verify=sb.info["ca_bundle"], timeout=30, base_url=f"{sb.info['graph']}/v1.0"
        )
        _OPEN.append(self.http)

    def req(self, method: str, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        h = {"Authorization": f"Bearer {self.token}", **kw.pop("headers", {})}
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


@pytest.fixture(scope="module")
def types(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    xml = tmp_path_factory.mktemp("csdl") / "cleanMetadata.xml"
    xml.write_bytes(lzma.decompress((REF / "v1.0" / "cleanMetadata.xml.xz").read_bytes()))
    return csdl.extract(xml)


@pytest.fixture()
def sb(sandbox_env: Any) -> Any:
    yield sandbox_env
    while _OPEN:
        _OPEN.pop().close()


# ---- the schema itself ---------------------------------------------------------------------------
def test_shipped_schema_is_the_reference_extraction(types: dict[str, Any]) -> None:
    shipped = json.loads(csdl.SCHEMA_FILE.read_text())
    assert shipped["types"] == types
    assert (
        shipped["source"]["commit"]
        == json.loads((REF / "v1.0" / "csdl-identity-subset.summary.json").read_text())["source"][
            "commit"
        ]
    )


def test_extraction_agrees_with_reference_summary(types: dict[str, Any]) -> None:
    summary = json.loads((REF / "v1.0" / "csdl-identity-subset.summary.json").read_text())["types"]
    checked = 0
    for name, spec in summary.items():
        if spec["kind"] == "EnumType":
            assert types[name]["members"] == spec["members"], name
            continue
        if name not in types:
            continue  # a subset type not reachable from what we serve
        for prop, p in spec["properties"].items():
            assert types[name]["props"][prop] == [p["type"], p["nullable"]], (name, prop)
            checked += 1
    assert checked > 150


# ---- a validator over the reference types -----------------------------------------------------------
def problems(value: Any, edm: str, types: dict[str, Any], path: str = "$") -> list[str]:
    out: list[str] = []
    coll = edm.startswith("Collection(")
    t = edm[len("Collection(") : -1] if coll else edm
    t = t.split(".", 1)[1] if t.startswith("graph.") else t
    if coll:
        if not isinstance(value, list):
            return [f"{path}: expected a collection of {t}, got {type(value).__name__}"]
        for i, v in enumerate(value):
            out += (
                problems(v, t, types, f"{path}[{i}]") if v is not None else [f"{path}[{i}]: null"]
            )
        return out
    if value is None:
        return out
    simple = {
        "Edm.String": lambda v: isinstance(v, str),
        "Edm.Guid": lambda v: isinstance(v, str) and bool(_GUID.match(v)),
        "Edm.Boolean": lambda v: isinstance(v, bool),
        "Edm.Int32": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Edm.Int64": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Edm.DateTimeOffset": lambda v: isinstance(v, str) and bool(_DATE.match(v)),
        "Edm.Binary": lambda v: isinstance(v, str),
    }
    if t in simple:
        return [] if simple[t](value) else [f"{path}: {value!r} is not {t}"]
    spec = types[t]
    if spec["kind"] == "EnumType":
        return [] if value in spec["members"] else [f"{path}: {value!r} not in {t}"]
    if not isinstance(value, dict):
        return [f"{path}: expected {t} object"]
    for prop, (ptype, nullable) in spec["props"].items():
        if ptype == "Edm.Stream":
            continue
        if not nullable and value.get(prop) is None:
            out.append(f"{path}.{prop}: non-nullable {ptype} missing or null")
    for k, v in value.items():
        if k.startswith("@odata."):
            continue
        if k not in spec["props"]:
            out.append(f"{path}.{k}: not declared on {t}")
            continue
        out += problems(v, spec["props"][k][0], types, f"{path}.{k}")
    return out


def entity(body: dict[str, Any]) -> dict[str, Any]:
    assert body["@odata.context"].startswith("https://")
    return {k: v for k, v in body.items() if k != "@odata.context"}


def assert_conforms(value: dict[str, Any], type_name: str, types: dict[str, Any]) -> None:
    found = problems(value, type_name, types)
    assert not found, "\n".join(found)


def _populated_app(g: G) -> dict[str, Any]:
    graph_sp = g.ok(g.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')"))
    role = next(r for r in graph_sp["appRoles"] if r["value"] == "Sites.Read.All")
    return g.ok(
        g.post(
            "/applications",
            {
                "displayName": uid("conform"),
                "signInAudience": "AzureADMultipleOrgs",
                "uniqueName": uid("u"),
                "description": "conformance",
                "identifierUris": [f"api://{uuid.uuid4()}"],
                "tags": ["a", "b"],
                "web": {
                    "redirectUris": ["https://contoso.example/done"],
                    "homePageUrl": "https://contoso.example",
                },
                "spa": {"redirectUris": ["https://contoso.example/spa"]},
                "requiredResourceAccess": [
                    {
                        "resourceAppId": GRAPH_APP_ID,
                        "resourceAccess": [{"id": role["id"], "type": "Role"}],
                    }
                ],
                "appRoles": [
                    {
                        "allowedMemberTypes": ["Application"],
                        "description": "read",
                        "displayName": "Read",
                        "id": str(uuid.uuid4()),
                        "isEnabled": True,
                        "value": "Things.Read",
                    }
                ],
                "api": {
                    "requestedAccessTokenVersion": 2,
                    "oauth2PermissionScopes": [
                        {
                            "adminConsentDescription": "d",
                            "adminConsentDisplayName": "d",
                            "id": str(uuid.uuid4()),
                            "isEnabled": True,
                            "type": "Admin",
                            "value": "user_impersonation",
                        }
                    ],
                },
                "info": {"marketingUrl": "https://contoso.example/m"},
            },
        ),
        201,
    )


# ---- live responses ------------------------------------------------------------------------------------
def test_application_responses_conform(sb: Any, types: dict[str, Any]) -> None:
    g = G(sb, "contoso")
    created = _populated_app(g)
    assert_conforms(entity(created), "application", types)
    cred = g.ok(
        g.post(
            f"/applications/{created['id']}/addPassword",
            {"passwordCredential": {"displayName": "p"}},
        )
    )
    assert_conforms(entity(cred), "passwordCredential", types)
    got = g.ok(g.get(f"/applications/{created['id']}"))
    assert_conforms(entity(got), "application", types)
    assert got["passwordCredentials"][0]["secretText"] is None  # shown once, at creation
    for a in g.ok(g.get("/applications"))["value"]:
        assert_conforms(a, "application", types)
    upserted = g.ok(
        g.patch(
            f"/applications(uniqueName='{uid('up')}')",
            {"displayName": "u"},
            headers={"Prefer": "create-if-missing"},
        ),
        201,
    )
    assert_conforms(entity(upserted), "application", types)


def test_fic_and_assignment_responses_conform(sb: Any, types: dict[str, Any]) -> None:
    contoso, litware = G(sb, "contoso"), G(sb, "litware")
    app = _populated_app(contoso)
    fic = contoso.ok(
        contoso.post(
            f"/applications/{app['id']}/federatedIdentityCredentials",
            fic_body("conform", description="d"),
        ),
        201,
    )
    assert_conforms(entity(fic), "federatedIdentityCredential", types)
    for f in contoso.ok(contoso.get(f"/applications/{app['id']}/federatedIdentityCredentials"))[
        "value"
    ]:
        assert_conforms(f, "federatedIdentityCredential", types)
    sp = litware.ok(litware.post("/servicePrincipals", {"appId": app["appId"]}), 201)
    assert_conforms(entity(sp), "servicePrincipal", types)
    graph_sp = litware.ok(litware.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')"))
    assert_conforms(entity(graph_sp), "servicePrincipal", types)
    a = litware.ok(
        litware.post(
            f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
            {
                "principalId": sp["id"],
                "resourceId": graph_sp["id"],
                "appRoleId": app["requiredResourceAccess"][0]["resourceAccess"][0]["id"],
            },
        ),
        201,
    )
    assert_conforms(entity(a), "appRoleAssignment", types)
    for x in litware.ok(litware.get(f"/servicePrincipals/{sp['id']}/appRoleAssignments"))["value"]:
        assert_conforms(x, "appRoleAssignment", types)
    for s in litware.ok(litware.get("/servicePrincipals"))["value"]:
        assert_conforms(s, "servicePrincipal", types)


def test_managed_identity_sp_conforms(sb: Any, types: dict[str, Any]) -> None:
    g = G(sb, "contoso")
    mis = g.ok(
        g.get("/servicePrincipals", params={"$filter": "servicePrincipalType eq 'ManagedIdentity'"})
    )
    assert mis["value"], "the demo seed's automation account has a system-assigned identity"
    for s in mis["value"]:
        assert_conforms(s, "servicePrincipal", types)
        assert s["alternativeNames"][0] in ("isExplicit=True", "isExplicit=False")
        assert s["alternativeNames"][1].startswith("/subscriptions/")


def test_organization_and_sites_conform(sb: Any, types: dict[str, Any]) -> None:
    g = G(sb, "fabrikam")
    for o in g.ok(g.get("/organization"))["value"]:
        assert_conforms(o, "organization", types)
    sites = g.ok(g.get("/sites"))["value"]
    for s in sites:
        assert_conforms(s, "site", types)
    assert_conforms(entity(g.ok(g.get(f"/sites/{sites[0]['id']}"))), "site", types)
    perm = g.ok(
        g.post(
            f"/sites/{sites[0]['id']}/permissions",
            {
                "roles": ["write"],
                "grantedToIdentities": [
                    {"application": {"id": str(uuid.uuid4()), "displayName": "x"}}
                ],
            },
        ),
        201,
    )
    assert_conforms(entity(perm), "permission", types)
    assert g.delete(f"/sites/{sites[0]['id']}/permissions/{perm['id']}").status_code == 204


# ---- the API pages' example responses ----------------------------------------------------------------
def doc_examples(page: str) -> list[tuple[int, Any]]:
    """(status, JSON body) of each example response on an API page."""
    text = (REF / "v1.0" / "api" / page).read_text()
    out = []
    for block in re.findall(r"```\s*http\s*\n(HTTP/1\.1 (\d{3})[^\n]*\n.*?)```", text, re.S):
        status = int(block[1])
        body = block[0].split("\n\n", 1)[1].strip() if "\n\n" in block[0] else ""
        body = re.sub(r",\s*([}\]])", r"\1", body)  # the docs have trailing commas
        out.append((status, json.loads(body) if body else None))
    return out


def assert_documented_properties(
    ours: dict[str, Any], documented: dict[str, Any], type_name: str, types: dict[str, Any]
) -> None:
    declared = types[type_name]["props"]
    missing = [k for k in documented if k in declared and k not in ours]
    assert not missing, f"{type_name}: documented properties missing from our response: {missing}"
    for k, v in documented.items():
        if k in declared and v is not None and ours[k] is not None:
            assert type(ours[k]) is type(v) or (
                isinstance(v, (int, float)) and isinstance(ours[k], (int, float))
            ), (type_name, k, ours[k], v)
            if isinstance(v, dict):
                sub = csdl.element_type(declared[k][0])[0]
                if sub in types and types[sub]["kind"] == "ComplexType":
                    assert_documented_properties(ours[k], v, sub, types)


def test_documented_examples(sb: Any, types: dict[str, Any]) -> None:
    contoso, litware = G(sb, "contoso"), G(sb, "litware")
    pages = {}
    for page in (
        "application-post-applications.md",
        "application-upsert.md",
        "application-post-federatedidentitycredentials.md",
        "application-list-federatedidentitycredentials.md",
        "serviceprincipal-post-serviceprincipals.md",
        "serviceprincipal-upsert.md",
        "serviceprincipal-post-approleassignedto.md",
        "federatedidentitycredential-update.md",
    ):
        pages[page] = doc_examples(page)

    # create application (201 + body) and upsert (201 created, 204 updated)
    ((status, doc),) = pages["application-post-applications.md"]
    r = contoso.post("/applications", {"displayName": "Display name"})
    assert r.status_code == status == 201
    assert_documented_properties(r.json(), doc, "application", types)
    assert (
        r.json()["@odata.context"].rsplit("/v1.0/", 1)[1]
        == doc["@odata.context"].rsplit("/v1.0/", 1)[1]
    )
    (s1, created_doc), (s2, _none) = pages["application-upsert.md"]
    path = f"/applications(uniqueName='{uid('app')}')"
    r = contoso.patch(
        path, {"displayName": "Display name"}, headers={"Prefer": "create-if-missing"}
    )
    assert (r.status_code, s1) == (201, 201)
    assert_documented_properties(r.json(), created_doc, "application", types)
    r = contoso.patch(
        path, {"displayName": "Display name"}, headers={"Prefer": "create-if-missing"}
    )
    assert (r.status_code, s2, r.content) == (204, 204, b"")
    app = contoso.ok(contoso.get(path))

    # federated identity credentials
    ((status, doc),) = pages["application-post-federatedidentitycredentials.md"]
    r = contoso.post(
        f"/applications/{app['id']}/federatedIdentityCredentials/",
        {k: doc[k] for k in ("name", "issuer", "subject", "audiences")},
    )
    assert r.status_code == status
    assert_documented_properties(r.json(), doc, "federatedIdentityCredential", types)
    assert r.json()["@odata.context"].endswith(
        f"$metadata#applications('{app['id']}')/federatedIdentityCredentials/$entity"
    )
    ((status, doc),) = pages["application-list-federatedidentitycredentials.md"]
    r = contoso.get(f"/applications/{app['id']}/federatedIdentityCredentials/")
    assert r.status_code == status
    assert_documented_properties(
        r.json()["value"][0], doc["value"][0], "federatedIdentityCredential", types
    )
    ((status, _),) = pages["federatedidentitycredential-update.md"]
    r = contoso.patch(
        f"/applications/{app['id']}/federatedIdentityCredentials/{r.json()['value'][0]['id']}",
        {"description": "Updated description", "audiences": [EXCHANGE]},
    )
    assert r.status_code == status == 204

    # service principals: create, upsert, appRoleAssignedTo
    multi = contoso.ok(
        contoso.post(
            "/applications", {"displayName": "My App", "signInAudience": "AzureADMultipleOrgs"}
        ),
        201,
    )
    ((status, doc),) = pages["serviceprincipal-post-serviceprincipals.md"]
    r = litware.post("/servicePrincipals", {"appId": multi["appId"]})
    assert r.status_code == status
    assert_documented_properties(r.json(), doc, "servicePrincipal", types)
    multi2 = contoso.ok(
        contoso.post(
            "/applications", {"displayName": "My App", "signInAudience": "AzureADMultipleOrgs"}
        ),
        201,
    )
    (s1, doc), (s2, _) = pages["serviceprincipal-upsert.md"]
    path = f"/servicePrincipals(appId='{multi2['appId']}')"
    r = litware.patch(
        path, {"displayName": "My app instance"}, headers={"Prefer": "create-if-missing"}
    )
    assert r.status_code == s1
    assert_documented_properties(r.json(), doc, "servicePrincipal", types)
    assert (
        r.json()["displayName"] == doc["displayName"]
        and r.json()["appDisplayName"] == doc["appDisplayName"]
    )
    r = litware.patch(
        path, {"displayName": "My app instance"}, headers={"Prefer": "create-if-missing"}
    )
    assert r.status_code == s2
    ((status, doc),) = pages["serviceprincipal-post-approleassignedto.md"]
    graph_sp = litware.ok(litware.get(f"/servicePrincipals(appId='{GRAPH_APP_ID}')"))
    client_sp = litware.ok(litware.get(path))
    r = litware.post(
        f"/servicePrincipals/{graph_sp['id']}/appRoleAssignedTo",
        {
            "principalId": client_sp["id"],
            "resourceId": graph_sp["id"],
            "appRoleId": graph_sp["appRoles"][0]["id"],
        },
    )
    assert r.status_code == status
    assert_documented_properties(r.json(), doc, "appRoleAssignment", types)
    assert r.json()["@odata.context"].endswith(
        f"$metadata#servicePrincipals('{graph_sp['id']}')/appRoleAssignedTo/$entity"
    )


# ---- errors and batching ------------------------------------------------------------------------------
def test_error_bodies_follow_errors_md(sb: Any) -> None:
    text = (REF / "concepts" / "errors.md").read_text()
    example = json.loads(re.search(r'```json\s*\n(\{\s*"error".*?\n\})\s*```', text, re.S).group(1))
    g = G(sb, "contoso")
    for r in (
        g.get(f"/applications/{uuid.uuid4()}"),
        g.post("/applications", {"nope": 1}),
        g.http.get("/applications"),
        g.get("/nonsense"),
    ):
        body = r.json()
        assert set(body) == set(example) == {"error"}
        err = body["error"]
        assert isinstance(err["code"], str) and err["code"] and isinstance(err["message"], str)
        inner = err["innerError"]
        assert set(example["error"]["innerError"]) <= set(inner)
        assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", inner["date"])
        assert inner["request-id"] == r.headers["request-id"]


def test_batch_follows_json_batching_md(sb: Any) -> None:
    text = (REF / "concepts" / "json-batching.md").read_text()
    response_example = json.loads(
        re.search(r"```http\s*\nHTTP/1\.1 200 OK\n[^\n]*\n\n(\{.*?\n\})\s*```", text, re.S).group(1)
    )
    g = G(sb, "contoso")
    r = g.post(
        "/$batch",
        {
            "requests": [
                {"id": "1", "method": "GET", "url": "/organization"},
                {
                    "id": "2",
                    "method": "GET",
                    "url": "/applications?$select=id,displayName&$top=1&$count=true",
                    "headers": {"ConsistencyLevel": "eventual"},
                },
                {"id": "3", "method": "DELETE", "url": f"/applications/{uuid.uuid4()}"},
            ]
        },
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 200
    body = r.json()
    assert set(body) == set(response_example) == {"responses"}
    documented_keys = {k for x in response_example["responses"] for k in x}
    for x in body["responses"]:
        assert set(x) <= documented_keys and {"id", "status", "headers"} <= set(x)
        assert isinstance(x["status"], int) and isinstance(x["headers"], dict)
    out = {x["id"]: x for x in body["responses"]}
    assert out["2"]["body"]["@odata.context"].endswith("#applications(id,displayName)")
    assert isinstance(out["2"]["body"]["@odata.count"], int)
    assert out["3"]["status"] == 404 and set(out["3"]["body"]["error"]) >= {
        "code",
        "message",
        "innerError",
    }
    assert out["1"]["headers"]["Content-Type"].startswith("application/json")
