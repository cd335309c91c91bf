"""Conformance of the sandbox's ARM with Microsoft's own API descriptions.

Every ``x-ms-examples`` entry in ``tests/reference/arm`` whose operation the sandbox
implements is replayed against a sandbox: the example's parameters are substituted into our
world (its subscription becomes a seeded one, its resource groups and any resource the operation
needs are created first), the request is sent with a tenant admin's real token, and the answer
must carry one of the example's status codes and validate against the spec's response schema
(``$ref``s resolved across files with the original repository layout, see tests/reference/README.md).

Schema dialect: Swagger 2.0 schemas are validated as JSON Schema draft 4, with two adaptations
that autorest-generated clients make too: an optional property may be ``null``, and an enum
marked ``x-ms-enum.modelAsString`` is open (any string).
"""

from __future__ import annotations

import copy
import json
import os
import re
import ssl
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import jsonschema
import pytest
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

REF = Path(__file__).resolve().parents[1] / "reference"  # vendored, see its SOURCES.json
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"

# operations the sandbox implements (the others are listed by test_coverage_is_explicit)
IMPLEMENTED = {
    "UserAssignedIdentities_CreateOrUpdate",
    "UserAssignedIdentities_Update",
    "UserAssignedIdentities_Get",
    "UserAssignedIdentities_Delete",
    "UserAssignedIdentities_ListByResourceGroup",
    "UserAssignedIdentities_ListBySubscription",
    "SystemAssignedIdentities_GetByScope",
    "FederatedIdentityCredentials_CreateOrUpdate",
    "FederatedIdentityCredentials_Get",
    "FederatedIdentityCredentials_List",
    "FederatedIdentityCredentials_Delete",
    "VirtualMachines_CreateOrUpdate",
    "VirtualMachines_Get",
    "VirtualMachines_Update",
    "VirtualMachines_Delete",
    "VirtualMachines_List",
    "VirtualMachines_ListAll",
    "ResourceGroups_CreateOrUpdate",
    "ResourceGroups_Delete",
    "DataCollectionRules_Create",
    "DataCollectionRules_Get",
    "DataCollectionRules_Update",
    "DataCollectionRules_Delete",
    "RoleAssignments_Create",
    "RoleAssignments_CreateById",
    "RoleAssignments_Get",
    "RoleAssignments_GetById",
    "RoleAssignments_Delete",
    "RoleAssignments_DeleteById",
    "RoleAssignments_ListForScope",
    "RoleAssignments_ListForSubscription",
    "RoleAssignments_ListForResourceGroup",
    "RoleAssignments_ListForResource",
    "RoleDefinitions_Get",
    "RoleDefinitions_GetById",
    "RoleDefinitions_List",
    "Permissions_ListForResourceGroup",
    "Permissions_ListForResource",
}
NOT_IMPLEMENTED = {
    "Operations_List": "static operation catalogue of the MSI provider",
    "RoleDefinitions_CreateOrUpdate": "custom roles",
    "RoleDefinitions_Delete": "custom roles",
}


# ---- the specs, with $refs resolved in the original repository layout --------------------------
def _sources() -> list[dict[str, Any]]:
    return json.loads((REF / "SOURCES.json").read_text())["files"]


def _adapt(node: Any) -> Any:
    """Optional properties may be null; modelAsString enums are open."""
    if isinstance(node, list):
        return [_adapt(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: _adapt(v) for k, v in node.items()}
    if (
        isinstance(out.get("x-ms-enum"), dict)
        and out["x-ms-enum"].get("modelAsString")
        and "enum" in out
    ):
        out.pop("enum")
    props = out.get("properties")
    if isinstance(props, dict) and props and all(isinstance(v, dict) for v in props.values()):
        required = set(out.get("required") or [])
        out["properties"] = {
            k: (v if k in required else {"anyOf": [v, {"type": "null"}]}) for k, v in props.items()
        }
    return out


@dataclass
class Example:
    name: str  # the example's title in x-ms-examples
    file: Path
    spec_uri: str
    path: str  # path template
    section: str  # "paths" or "x-ms-paths"
    method: str
    op_id: str
    op: dict[str, Any]

    @property
    def id(self) -> str:
        return f"{self.op_id}:{self.file.stem}"

    def data(self) -> dict[str, Any]:
        return json.loads(self.file.read_text())


def _load() -> tuple[Registry, list[Example]]:
    resources = []
    examples: list[Example] = []
    for f in _sources():
        if (
            not f["local"].startswith("arm/")
            or "/examples/" in f["local"]
            or not f["local"].endswith(".json")
        ):
            continue
        local = REF / f["local"]
        doc = json.loads(local.read_text())
        if not isinstance(doc, dict) or ("definitions" not in doc and "paths" not in doc):
            continue
        uri = f"file:///{f['source_path']}"
        resources.append((uri, Resource.from_contents(_adapt(doc), default_specification=DRAFT4)))
        all_paths = [
            (sec, p, o) for sec in ("paths", "x-ms-paths") for p, o in (doc.get(sec) or {}).items()
        ]
        for section, path, ops in all_paths:
            for method, op in ops.items():
                if method == "parameters" or not isinstance(op, dict):
                    continue
                for title, ref in (op.get("x-ms-examples") or {}).items():
                    file = (local.parent / ref["$ref"]).resolve()
                    if file.exists():  # the reference keeps a selection of each spec's examples
                        examples.append(
                            Example(
                                title,
                                file,
                                uri,
                                path,
                                section,
                                method.upper(),
                                op["operationId"],
                                op,
                            )
                        )
    return Registry().with_resources(resources), examples


REGISTRY, EXAMPLES = _load()
SELECTED = [e for e in EXAMPLES if e.op_id in IMPLEMENTED]


def _pointer(*parts: str) -> str:
    return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)


def _lookup(spec_uri: str, ref_or_obj: Any) -> Any:
    if isinstance(ref_or_obj, dict) and "$ref" in ref_or_obj:
        return REGISTRY.resolver(spec_uri).lookup(ref_or_obj["$ref"]).contents
    return ref_or_obj


def _validate(ex: Example, status: str, body: Any) -> None:
    resp = ex.op["responses"].get(status)
    if resp is None or "schema" not in resp:
        return
    pointer = "#/" + quote(
        _pointer(ex.section, ex.path, ex.method.lower(), "responses", status, "schema"), safe="/~"
    )
    schema = {"$ref": ex.spec_uri + pointer}
    validator = jsonschema.Draft4Validator(schema, registry=REGISTRY)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])


# ---- the sandbox, and substituting an example into it ------------------------------------------
@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp_path_factory.mktemp("conformance"), seed="demo")
    old = {k: os.environ.get(k) for k in sb.env()}
    os.environ.update(sb.env())
    t = sb.tenant("contoso")
    cred = sb.admin_credential("contoso")
    http = httpx.Client(
        base_url=sb.info["arm"],
        verify=ssl.create_default_context(cafile=sb.info["ca_bundle"]),
        timeout=30,
    )
    yield {"sb": sb, "sub": t["subscription_id"], "tid": t["tenant_id"], "cred": cred, "http": http}
    http.close()
    cred.close()
    sb.stop()
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


GUID_AFTER_SUB = re.compile(r"(subscriptions/)([^/\"]+)", re.IGNORECASE)
EXAMPLE_ROLE = "0b5fe924-9a61-425c-96af-cfe6e287ca2d"  # not a built-in role: replaced by Reader


def _substitute(params: dict[str, Any], sub: str) -> dict[str, Any]:
    text = json.dumps(params)
    if "subscriptionId" in params:
        text = text.replace(json.dumps(params["subscriptionId"])[1:-1], sub)
    text = GUID_AFTER_SUB.sub(lambda m: m.group(1) + sub, text)
    text = text.replace(EXAMPLE_ROLE, READER).replace("{subscription-id}", sub)
    out = json.loads(text)
    # placeholder scopes / role ids of the role-definition examples
    if out.get("scope") == "scope":
        out["scope"] = f"subscriptions/{sub}"
    if out.get("roleDefinitionId") == "roleDefinitionId":
        out["roleDefinitionId"] = READER
    if out.get("roleId") == "roleDefinitionId":
        out["roleId"] = (
            f"subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{READER}"
        )
    return out


def _params(ex: Example) -> list[dict[str, Any]]:
    out = []
    for p in ex.op.get("parameters") or []:
        out.append(_lookup(ex.spec_uri, p))
    return out


def _request(ex: Example, params: dict[str, Any]) -> tuple[str, dict[str, str], Any]:
    path = ex.path.split("?", 1)[0]  # x-ms-paths disambiguate with a dummy query
    query: dict[str, str] = {}
    body = None
    for p in _params(ex):
        name, where = p.get("name"), p.get("in")
        if name not in params:
            continue
        if where == "path":
            path = path.replace("{" + name + "}", str(params[name]))
        elif where == "query":
            query[name] = str(params[name])
        elif where == "body":
            body = params[name]
    return path, query, body


def _strip_readonly_envelope(doc: dict[str, Any]) -> dict[str, Any]:
    body = {
        k: v
        for k, v in copy.deepcopy(doc).items()
        if k not in ("id", "name", "type", "etag", "systemData")
    }
    props = body.get("properties") or {}
    for k in ("provisioningState", "immutableId", "vmId", "instanceView", "timeCreated"):
        props.pop(k, None)
    return body


def _setup(w: dict[str, Any], ex: Example, params: dict[str, Any]) -> None:
    """Create what the example presupposes (resource group, the resource itself, ...)."""
    arm = w["sb"].world.arm
    sub = w["sub"]
    data = ex.data()
    rg = params.get("resourceGroupName")
    if ex.op_id == "ResourceGroups_CreateOrUpdate":
        return
    if rg and arm.resource_group(sub, rg) is None:
        arm.put_resource_group(sub, rg, "westus")
    if ex.op_id.startswith("RoleAssignments_"):
        principal = (
            data["parameters"].get("parameters", {}).get("properties", {}).get("principalId")
            or "ce2ce14e-85d7-4629-bdbc-454d0519d987"
        )
        for ra in list(arm.store.all("arm_roleAssignments")):
            if ra["properties"]["principalId"] == principal:
                arm.delete_role_assignment(ra["properties"]["scope"], ra["name"])
        scope = f"/subscriptions/{sub}"
        if "scope" in params:
            scope = "/" + params["scope"].strip("/")
        elif "roleAssignmentId" in params:
            scope = "/" + params["roleAssignmentId"].split("/providers/Microsoft.Authorization/")[
                0
            ].strip("/")
        elif "resourceName" in params:
            scope = (
                f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{params['resourceProviderNamespace']}/"
                f"{params['resourceType']}/{params['resourceName']}"
            )
        elif rg:
            scope = f"/subscriptions/{sub}/resourceGroups/{rg}"
        r = re.match(r"/subscriptions/[^/]+/resourceGroups/([^/]+)", scope, re.IGNORECASE)
        if r and arm.resource_group(sub, r.group(1)) is None:
            arm.put_resource_group(sub, r.group(1), "westus")
        if "/providers/" in scope and arm.resource(scope) is None:
            arm.seed_resource(scope, {"location": "westus"})
        if ex.method in ("GET", "DELETE"):
            name = (
                params.get("roleAssignmentName")
                or (params.get("roleAssignmentId") or "").rsplit("/", 1)[-1]
            )
            if ex.op_id.startswith("RoleAssignments_List"):
                name = str(uuid.uuid4())
            arm.put_role_assignment(
                scope,
                name,
                {
                    "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{READER}",
                    "principalId": principal,
                    "principalType": "User",
                },
                caller=None,
                check_principal=False,
            )
        return
    if ex.op_id.startswith(("UserAssignedIdentities_", "FederatedIdentityCredentials_")):
        uami = (
            f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/"
            f"userAssignedIdentities/{params.get('resourceName', 'identityName')}"
        )
        if ex.method != "PUT" or ex.op_id.startswith("Federated"):
            if arm.resource(uami) is None:
                arm.seed_resource(uami, {"location": "eastus", "tags": {"key1": "value1"}})
        if ex.op_id.startswith("Federated") and ex.method in ("GET", "DELETE"):
            fic = f"{uami}/federatedIdentityCredentials/{params.get('federatedIdentityCredentialResourceName', 'fic')}"
            if arm.resource(fic) is None:
                arm.seed_resource(
                    fic,
                    {
                        "properties": {
                            "issuer": "https://issuer.example",
                            "subject": "s",
                            "audiences": ["api://AzureADTokenExchange"],
                        }
                    },
                )
        return
    if ex.op_id == "SystemAssignedIdentities_GetByScope":
        site = f"/subscriptions/{sub}/resourceGroups/rg-identity/providers/Microsoft.Web/sites/conformance-site"
        if arm.resource(site) is None:
            arm.seed_resource(
                site,
                {"location": "westus", "identity": {"type": "SystemAssigned"}, "properties": {}},
            )
        params["scope"] = site.lstrip("/")
        return
    if ex.op_id.startswith("VirtualMachines_"):
        vm_get = next(e for e in EXAMPLES if e.file.name == "VirtualMachine_Get.json")
        seed = _strip_readonly_envelope(_substitute(vm_get.data(), sub)["responses"]["200"]["body"])
        name = params.get("vmName", "myVM")
        target_rg = rg or "myResourceGroup"
        if arm.resource_group(sub, target_rg) is None:
            arm.put_resource_group(sub, target_rg, "westus")
        # every identity the example references
        for m in re.finditer(
            r"/subscriptions/[^\"]+?/userAssignedIdentities/[^\"/]+", json.dumps(params)
        ):
            if arm.resource(m.group(0)) is None:
                ident_rg = m.group(0).split("/")[4]
                if arm.resource_group(sub, ident_rg) is None:
                    arm.put_resource_group(sub, ident_rg, "westus")
                arm.seed_resource(m.group(0), {"location": "westus"})
        if ex.method != "PUT":
            vm = f"/subscriptions/{sub}/resourceGroups/{target_rg}/providers/Microsoft.Compute/virtualMachines/{name}"
            if arm.resource(vm) is None:
                arm.seed_resource(vm, seed)
        return
    if ex.op_id.startswith("DataCollectionRules_") and ex.method != "PUT":
        create = next(e for e in EXAMPLES if e.op_id == "DataCollectionRules_Create")
        body = _substitute(create.data()["parameters"], sub)["body"]
        dcr = (
            f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Insights/dataCollectionRules/"
            f"{params['dataCollectionRuleName']}"
        )
        if arm.resource(dcr) is None:
            arm.seed_resource(dcr, body)


def _token(w: dict[str, Any]) -> str:
    return w["cred"].get_token("https://management.azure.com/.default").token


@pytest.mark.parametrize("ex", SELECTED, ids=[e.id for e in SELECTED])
def test_replay_example(world: dict[str, Any], ex: Example) -> None:
    data = ex.data()
    params = _substitute(data["parameters"], world["sub"])
    _setup(world, ex, params)
    path, query, body = _request(ex, params)
    query["api-version"] = str(params.get("api-version"))
    resp = world["http"].request(
        ex.method,
        "/" + path.lstrip("/"),
        params=query,
        json=body,
        headers={"Authorization": f"Bearer {_token(world)}"},
    )
    expected = set(data["responses"])
    assert str(resp.status_code) in expected, (
        f"{resp.status_code} not in {expected}: {resp.text[:500]}"
    )
    status = str(resp.status_code)
    if resp.content and resp.headers.get("content-type", "").startswith("application/json"):
        got = resp.json()
        _validate(ex, status, got)
        want = (data["responses"].get(status) or {}).get("body")
        if isinstance(want, dict) and isinstance(got, dict):
            # same resource type, and the same envelope a client reads
            if (
                "/" in str(want.get("type", "")) and "type" in got
            ):  # (some examples use a placeholder)
                assert got["type"].lower() == want["type"].lower()
            if "value" in want:
                assert isinstance(got.get("value"), list) and got["value"], (
                    "expected a non-empty list"
                )
                if want["value"] and "type" in want["value"][0]:
                    assert {v["type"].lower() for v in got["value"]} == {
                        want["value"][0]["type"].lower()
                    }
            for key in ("properties", "identity", "tags", "location"):
                if key in want and key not in ("tags",) and want[key]:
                    assert key in got, f"'{key}' missing from {sorted(got)}"


def test_coverage_is_explicit() -> None:
    """Every operation with an example is either replayed or named here as not implemented."""
    ops = {e.op_id for e in EXAMPLES}
    assert ops - IMPLEMENTED - set(NOT_IMPLEMENTED) == set()
    assert IMPLEMENTED <= ops
    replayed = sorted(e.id for e in SELECTED)
    skipped = sorted(e.id for e in EXAMPLES if e.op_id not in IMPLEMENTED)
    (Path(os.environ.get("XTENANT_CONFORMANCE_REPORT", "/dev/null"))).write_text(
        json.dumps({"replayed": replayed, "not_implemented": skipped}, indent=2)
    )
