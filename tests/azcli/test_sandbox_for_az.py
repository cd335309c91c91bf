"""The sandbox behaviours the az CLI relies on, checked over plain REST (no az needed):

* ``/metadata/endpoints``: a list of clouds up to api-version 2020-06-01, one cloud object from
  2022-09-01 (the version ``az cloud register`` asks for), naming the sandbox's own Graph root
  as ``microsoftGraphResourceId``;
* the sandbox's Graph root is a Microsoft Graph resource identifier, as a national cloud's is
  (``https://graph.microsoft.us/.default``): a token asked for ``{graph}/.default`` is accepted
  by Graph, and a production-audience token still is;
* ``POST /directoryObjects/getByIds`` (what az uses to resolve ``--assignee`` and fill
  ``principalName``).
"""

from __future__ import annotations

import ssl
import uuid
from typing import Any

import httpx
import jwt
import pytest

from provisioning.sandbox.credentials import secret_credential

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"


def _tls(info: dict[str, Any]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=info["ca_bundle"])


def _token(info: dict[str, Any], tenant: str, client_id: str, secret: str, scope: str) -> str:
    return secret_credential(info, tenant, client_id, secret).get_token(scope).token


def _admin_token(info: dict[str, Any], name: str, scope: str) -> str:
    t = info["tenants"][name]
    return _token(info, t["tenant_id"], t["admin"]["client_id"], t["admin"]["client_secret"], scope)


def _graph(info: dict[str, Any], token: str, method: str, path: str, **kw: Any) -> httpx.Response:
    return httpx.request(
        method,
        f"{info['graph']}/v1.0/{path}",
        headers={"Authorization": f"Bearer {token}"},
        verify=_tls(info),
        **kw,
    )


@pytest.mark.parametrize(
    ("api_version", "shape"),
    [("2015-01-01", "legacy"), ("2019-05-01", list), ("2020-06-01", list), ("2022-09-01", dict)],
)
def test_metadata_endpoints_shape_by_api_version(
    sandbox: Any, api_version: str, shape: Any
) -> None:
    info = sandbox.info
    r = httpx.get(
        f"{info['arm']}/metadata/endpoints", params={"api-version": api_version}, verify=_tls(info)
    )
    assert r.status_code == 200, r.text
    body = r.json()
    if shape == "legacy":
        assert body["authentication"]["loginEndpoint"].rstrip("/") == info["authority"]
        return
    assert isinstance(body, shape)
    cloud = body[0] if isinstance(body, list) else body
    assert cloud["authentication"]["loginEndpoint"] == info["authority"]
    assert cloud["authentication"]["audiences"][0] == "https://management.core.windows.net/"
    assert cloud["resourceManager"] == f"{info['arm']}/"
    assert cloud["microsoftGraphResourceId"] == f"{info['graph']}/"


@pytest.mark.parametrize("form", ["{graph}/.default", "{graph}//.default"])
def test_graph_root_is_a_graph_resource(sandbox: Any, form: str) -> None:
    info = sandbox.info
    token = _admin_token(info, "contoso", form.format(graph=info["graph"]))
    r = _graph(info, token, "GET", "organization")
    assert r.status_code == 200, r.text
    # Microsoft Graph's app roles granted to the admin, whatever name Graph was asked by
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"].rstrip("/") == info["graph"]
    assert "Application.ReadWrite.All" in claims["roles"]


def test_other_resources_are_not_graph(sandbox: Any) -> None:
    info = sandbox.info
    arm_token = _admin_token(info, "contoso", "https://management.azure.com/.default")
    r = _graph(info, arm_token, "GET", "organization")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "InvalidAuthenticationToken"


def test_get_by_ids(sandbox: Any) -> None:
    info = sandbox.info
    lw = info["tenants"]["litware"]
    token = _admin_token(info, "litware", "https://graph.microsoft.com/.default")
    graph_sp = _graph(info, token, "GET", f"servicePrincipals(appId='{GRAPH_APP_ID}')").json()
    admin_sp = _graph(
        info, token, "GET", f"servicePrincipals(appId='{lw['admin']['client_id']}')"
    ).json()
    admin_app = _graph(
        info, token, "GET", f"applications(appId='{lw['admin']['client_id']}')"
    ).json()
    unknown = str(uuid.uuid4())

    r = _graph(
        info, token, "POST", "directoryObjects/getByIds",
        json={"ids": [graph_sp["id"], unknown, admin_sp["id"], admin_app["id"]]},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["@odata.context"] == f"{info['graph']}/v1.0/$metadata#directoryObjects"
    assert [(o["@odata.type"], o["id"]) for o in body["value"]] == [
        ("#microsoft.graph.servicePrincipal", graph_sp["id"]),
        ("#microsoft.graph.servicePrincipal", admin_sp["id"]),
        ("#microsoft.graph.application", admin_app["id"]),
    ]
    assert body["value"][1]["appId"] == lw["admin"]["client_id"]

    # types narrow the search, case-insensitively
    r = _graph(
        info, token, "POST", "directoryObjects/getByIds",
        json={"ids": [admin_sp["id"], admin_app["id"]], "types": ["ServicePrincipal", "user"]},
    )  # fmt: skip
    assert [o["id"] for o in r.json()["value"]] == [admin_sp["id"]]

    # another tenant's objects are not in this directory
    contoso = _admin_token(info, "contoso", "https://graph.microsoft.com/.default")
    r = _graph(info, contoso, "POST", "directoryObjects/getByIds", json={"ids": [admin_sp["id"]]})
    assert r.status_code == 200 and r.json()["value"] == []

    bad = _graph(info, token, "POST", "directoryObjects/getByIds", json={"types": ["user"]})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "Request_BadRequest"
    many = [str(uuid.uuid4()) for _ in range(1001)]
    assert (
        _graph(info, token, "POST", "directoryObjects/getByIds", json={"ids": many}).status_code
        == 400
    )
    assert _graph(info, token, "GET", "directoryObjects/getByIds").status_code == 405


def test_get_by_ids_needs_directory_read_all(sandbox: Any) -> None:
    info = sandbox.info
    tid = info["tenants"]["litware"]["tenant_id"]
    reader = sandbox.world.directory.create_admin(
        tid, f"app-reader-{uuid.uuid4().hex[:6]}", graph_roles=("Application.Read.All",)
    )
    token = _token(
        info,
        tid,
        reader["client_id"],
        reader["client_secret"],
        "https://graph.microsoft.com/.default",
    )
    assert _graph(info, token, "GET", "servicePrincipals").status_code == 200
    r = _graph(
        info, token, "POST", "directoryObjects/getByIds", json={"ids": [reader["principal_id"]]}
    )
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "Authorization_RequestDenied"
