"""The sandbox's host resources and identity endpoints against what Microsoft publishes:
the spec excerpts and examples vendored in ``tests/reference/hosts/`` (Microsoft.Web
2023-12-01, Microsoft.App 2024-03-01, Microsoft.HybridCompute 2022-12-27, Microsoft.Compute
2024-03-01 scale sets; sources in its SOURCES.json) and the endpoints' documented wire
formats (the pages named in each test).

Each host's GET answer has the example's top-level shape and an ``identity`` block valid
against the provider's own schema (its enum of types included); each write answers with a
status the operation declares, long-running where the spec says so.
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from admin_rest import AdminRest

REF = Path(__file__).resolve().parents[1] / "reference" / "hosts"
R = "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/"

# kind -> (provider folder, api-version, spec file, path template, identity root, GET example)
KINDS: dict[str, tuple[str, str, str, str, str, str]] = {
    "appservice": (
        "Microsoft.Web",
        "2023-12-01",
        "specification/web/resource-manager/Microsoft.Web/stable/2023-12-01/WebApps.json",
        R + "Microsoft.Web/sites/{name}",
        "specification/web/resource-manager/Microsoft.Web/stable/2023-12-01/CommonDefinitions.json"
        "#/definitions/ManagedServiceIdentity",
        "examples/GetWebApp.json",
    ),
    "slot": (
        "Microsoft.Web",
        "2023-12-01",
        "specification/web/resource-manager/Microsoft.Web/stable/2023-12-01/WebApps.json",
        R + "Microsoft.Web/sites/{name}/slots/{slot}",
        "specification/web/resource-manager/Microsoft.Web/stable/2023-12-01/CommonDefinitions.json"
        "#/definitions/ManagedServiceIdentity",
        "examples/GetWebAppSlot.json",
    ),
    "containerapp": (
        "Microsoft.App",
        "2024-03-01",
        "specification/app/resource-manager/Microsoft.App/stable/2024-03-01/ContainerApps.json",
        R + "Microsoft.App/containerApps/{containerAppName}",
        "specification/app/resource-manager/Microsoft.App/stable/2024-03-01/ContainerApps.json"
        "#/definitions/ContainerApp/properties/identity",
        "examples/ContainerApps_Get.json",
    ),
    "arc": (
        "Microsoft.HybridCompute",
        "2022-12-27",
        "specification/hybridcompute/resource-manager/Microsoft.HybridCompute/stable/2022-12-27/"
        "HybridCompute.json",
        R + "Microsoft.HybridCompute/machines/{machineName}",
        "specification/hybridcompute/resource-manager/Microsoft.HybridCompute/stable/2022-12-27/"
        "HybridCompute.json#/definitions/Machine/properties/identity",
        "examples/Machines_Get.json",
    ),
    "vmss": (
        "Microsoft.Compute",
        "2024-03-01",
        "specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-03-01/"
        "virtualMachineScaleSet.json",
        R + "Microsoft.Compute/virtualMachineScaleSets/{vmScaleSetName}",
        "specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-03-01/"
        "virtualMachineScaleSet.json#/definitions/VirtualMachineScaleSetIdentity",
        "examples/virtualMachineScaleSetExamples/VirtualMachineScaleSet_Get.json",
    ),
}


def _excerpt(kind: str) -> dict[str, Any]:
    folder, version, *_ = KINDS[kind]
    return json.loads((REF / folder / version / "excerpt.json").read_text())


def _schema(kind: str) -> dict[str, Any]:
    """The identity block's schema, its ``$ref``s inlined from the excerpt (the excerpt keys
    its subtrees by "<spec path>#<pointer>", as the refs resolve from their own file)."""
    defs = _excerpt(kind)["definitions"]

    def inline(node: Any, base: str, depth: int = 0) -> Any:
        assert depth < 20
        if isinstance(node, dict):
            if "$ref" in node:
                f, _, ptr = node["$ref"].partition("#")
                target = (
                    posixpath.normpath(posixpath.join(posixpath.dirname(base), f)) if f else base
                )
                return inline(defs[f"{target}#{ptr}"], target, depth + 1)
            return {k: inline(v, base, depth) for k, v in node.items() if not k.startswith("x-")}
        if isinstance(node, list):
            return [inline(v, base, depth) for v in node]
        return node

    root = KINDS[kind][4]
    return inline(defs[root], root.split("#")[0])


def _operation(kind: str, method: str) -> dict[str, Any]:
    _f, _v, spec, path, *_ = KINDS[kind]
    key = f"{spec}#/paths/" + path.replace("~", "~0").replace("/", "~1")
    return _excerpt(kind)["paths"][key][method]


def _example(kind: str) -> dict[str, Any]:
    folder, version, *_rest, example = KINDS[kind]
    return json.loads((REF / folder / version / example).read_text())


@pytest.fixture(scope="module")
def sbx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp_path_factory.mktemp("hosts-conformance"), seed="demo")
    sb.add_host("appservice", "web-c", system_assigned=True)
    sb.add_host("slot", "stage", site="web-c")
    sb.add_host("containerapp", "ca-c", system_assigned=True)
    sb.add_host("arc", "arc-c")
    sb.add_host("vmss", "vmss-c")
    yield sb
    sb.stop()


NAMES = {
    "appservice": "web-c",
    "slot": "web-c-stage",
    "containerapp": "ca-c",
    "arc": "arc-c",
    "vmss": "vmss-c",
}


def _rid(sb: Any, kind: str) -> str:
    return str(sb.info["hosts"][NAMES[kind]]["resource_id"])


def _uami(raw: AdminRest, sb: Any, name: str) -> str:
    sub = sb.info["tenants"]["contoso"]["subscription_id"]
    rid = (
        f"/subscriptions/{sub}/resourceGroups/rg-identity/providers/"
        f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
    made = raw.arm("PUT", rid, "2023-01-31", json={"location": "westus2"})
    assert made.status_code in (200, 201), made.text
    return rid


@pytest.mark.parametrize("kind", list(KINDS))
def test_get_has_the_examples_shape_and_a_valid_identity(sbx: Any, kind: str) -> None:
    raw = AdminRest(sbx.info, "contoso")
    version = KINDS[kind][1]
    got = raw.arm("GET", _rid(sbx, kind), version)
    assert got.status_code == 200 and "200" in _operation(kind, "get")["responses"]
    body = got.json()
    example = _example(kind)["responses"]["200"]["body"]
    for key in ("id", "name", "type", "location", "properties"):
        assert key in body and key in example, key
    if "identity" in body:
        jsonschema.validate(body["identity"], _schema(kind))


@pytest.mark.parametrize("kind", ["appservice", "slot", "containerapp", "vmss"])
def test_patch_identity_as_the_spec_declares(sbx: Any, kind: str) -> None:
    """PATCH adds a user-assigned identity and keeps the system-assigned one; its status is
    one the operation declares (Container Apps: 202 + Location, polled to the resource;
    scale sets: long-running with Azure-AsyncOperation; App Service: 200)."""
    raw = AdminRest(sbx.info, "contoso")
    version = KINDS[kind][1]
    uami = _uami(raw, sbx, f"umi-conf-{kind}")
    rid = _rid(sbx, kind)
    body = {
        "identity": {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {uami: {}}}
    }
    op = _operation(kind, "patch")
    resp = raw.arm("PATCH", rid, version, json=body)
    assert str(resp.status_code) in op["responses"], (resp.status_code, resp.text)
    if kind == "containerapp":
        assert resp.status_code == 202 and "Location" in resp.headers
        assert "Location" in op["responses"]["202"]["headers"]
        done = raw._call("GET", resp.headers["Location"], "https://management.azure.com/.default")
        while done.status_code == 202:
            done = raw._call(
                "GET", done.headers["Location"], "https://management.azure.com/.default"
            )
        assert done.status_code == 200
    elif kind == "vmss":
        assert op.get("x-ms-long-running-operation") is True
        assert "Azure-AsyncOperation" in resp.headers
    else:
        assert resp.status_code == 200
    after = raw.arm("GET", rid, version).json()["identity"]
    jsonschema.validate(after, _schema(kind))
    assert [k.lower() for k in after["userAssignedIdentities"]] == [uami.lower()]
    assert after["principalId"]  # the system-assigned one is on, and reported
    spelled = {"containerapp": "SystemAssigned,UserAssigned"}.get(
        kind, "SystemAssigned, UserAssigned"
    )
    assert after["type"] == spelled  # as each provider's own enum spells it


def test_arc_takes_only_its_system_assigned_identity(sbx: Any) -> None:
    """common-types v3 ``Identity``: ``type`` has the one value SystemAssigned."""
    raw = AdminRest(sbx.info, "contoso")
    uami = _uami(raw, sbx, "umi-conf-arc")
    schema = _schema("arc")
    assert schema["properties"]["type"]["enum"] == ["SystemAssigned"]
    refused = raw.arm(
        "PATCH",
        _rid(sbx, "arc"),
        "2022-12-27",
        json={"identity": {"type": "UserAssigned", "userAssignedIdentities": {uami: {}}}},
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "InvalidParameter"
    body = raw.arm("GET", _rid(sbx, "arc"), "2022-12-27").json()
    jsonschema.validate(body["identity"], schema)
    assert body["identity"]["type"] == "SystemAssigned"


# ---- the identity endpoints, as documented -------------------------------------------------


def test_container_app_endpoint_is_the_app_service_protocol(sbx: Any) -> None:
    """https://learn.microsoft.com/azure/container-apps/managed-identity#rest-endpoint-reference:
    X-IDENTITY-HEADER, api-version 2019-08-01, the sample's fields; no header: refused."""
    env = sbx.info["hosts"]["ca-c"]["env"]
    params = {"api-version": "2019-08-01", "resource": "https://management.azure.com"}
    refused = httpx.get(env["IDENTITY_ENDPOINT"], params=params)
    assert refused.status_code == 401
    ok = httpx.get(
        env["IDENTITY_ENDPOINT"],
        params=params,
        headers={"x-identity-header": env["IDENTITY_HEADER"]},
    )
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert set(body) == {"access_token", "expires_on", "resource", "token_type", "client_id"}
    assert body["expires_on"].isdigit() and body["resource"] == "https://management.azure.com"


def test_app_service_2017_protocol_dates_its_expiry(sbx: Any) -> None:
    """overview-managed-identity: the 2017-09-01 protocol takes the ``secret`` header and
    ``clientid`` and "returned the expires_on in a timestamp format"."""
    env = sbx.info["hosts"]["web-c"]["env"]
    ok = httpx.get(
        env["IDENTITY_ENDPOINT"],
        params={"api-version": "2017-09-01", "resource": "https://management.azure.com"},
        headers={"secret": env["IDENTITY_HEADER"]},
    )
    assert ok.status_code == 200, ok.text
    expires = ok.json()["expires_on"]
    assert not expires.isdigit() and expires.endswith("+00:00")


def test_arc_challenge_as_documented(sbx: Any, tmp_path: Path) -> None:
    """https://learn.microsoft.com/azure/azure-arc/servers/managed-identity-authentication:
    without a secret, 401 with ``WWW-Authenticate: Basic realm=<key file>``; the file's
    content as ``Authorization: Basic`` gets the token; a key is good once, a wrong one is
    challenged again. (Plain httpx: the key directory is the sandbox's own here.)"""
    sbx.settings(arc_key_dir=str(tmp_path / "tokens"))
    env = sbx.info["hosts"]["arc-c"]["env"]
    assert set(env) == {"IDENTITY_ENDPOINT", "IMDS_ENDPOINT"}
    url = env["IDENTITY_ENDPOINT"]
    params = {"api-version": "2020-06-01", "resource": "https://management.azure.com"}
    first = httpx.get(url, params=params, headers={"Metadata": "true"})
    assert first.status_code == 401
    scheme, _, path = first.headers["WWW-Authenticate"].partition(" realm=")
    assert scheme == "Basic" and path.endswith(".key")
    key = Path(path)
    assert key.parent == tmp_path / "tokens"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600  # for its owner (the agent's group) only
    wrong = httpx.get(
        url, params=params, headers={"Metadata": "true", "Authorization": "Basic nope"}
    )
    assert (
        wrong.status_code == 401
        and wrong.headers["WWW-Authenticate"] != first.headers["WWW-Authenticate"]
    )
    secret = key.read_text()
    ok = httpx.get(
        url, params=params, headers={"Metadata": "true", "Authorization": f"Basic {secret}"}
    )
    assert ok.status_code == 200, ok.text
    assert set(ok.json()) >= {"access_token", "expires_in", "expires_on", "resource", "token_type"}
    assert not key.exists()  # used: gone
    again = httpx.get(
        url, params=params, headers={"Metadata": "true", "Authorization": f"Basic {secret}"}
    )
    assert again.status_code == 401
    no_metadata = httpx.get(url, params=params)
    assert no_metadata.status_code == 400
    sbx.settings(arc_key_dir="")
