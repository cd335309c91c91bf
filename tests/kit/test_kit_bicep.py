"""The kit's Bicep, parsed with tree-sitter-bicep through the shared ``tests/bicep_parse.py``
(Bicep itself cannot be compiled here)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import APP_IDS, IDENTITIES

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
bicep_parse = pytest.importorskip("bicep_parse", reason="tests/bicep_parse.py is not there yet")

from provisioning.kit import build_kit, render_all, render_kit  # noqa: E402


@pytest.fixture(scope="module")
def kits(tmp_path_factory: pytest.TempPathFactory, demo_config, public) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("kits")
    render_all(demo_config, public, out, app_ids=APP_IDS, identities=IDENTITIES)
    return out


def _parse(path: Path):  # type: ignore[no-untyped-def]
    f = bicep_parse.parse_bicep(path.read_text(encoding="utf-8"))
    assert not f.errors, f"{path.name}: " + "\n".join(map(str, f.errors))
    return f


def _types(f) -> set[tuple[str, str, bool]]:  # type: ignore[no-untyped-def]
    return {(r.type, r.api_version, r.existing) for r in f.resources}


def test_litware_bicep(kits: Path) -> None:
    kit = json.loads((kits / "litware" / "kit.json").read_text())
    main = _parse(kits / "litware" / "customer.bicep")
    assert main.target_scope == "subscription"
    assert [e.name for e in main.extensions] == ["microsoftGraphV1"]
    assert _types(main) == {("Microsoft.Graph/servicePrincipals", "v1.0", False)}
    sp = main.resource("sp")
    assert bicep_parse.text_of(sp.properties["appId"]) == "appId"
    assert main.params["appId"].required
    params = json.loads((kits / "litware" / "customer.parameters.json").read_text())
    assert main.check_value("appId", params["parameters"]["appId"]["value"]) == []
    [module] = main.modules
    role = kit["roles"][0]
    assert module.path == "modules/role-assignment-microsoft-insights-datacollectionrules.bicep"
    p = module.params
    assert bicep_parse.string_value(p["name"]) == role["assignment_name"]
    # the definition id is the kit's (computed once, in kit/ids.py), not rebuilt in Bicep
    assert bicep_parse.string_value(p["roleDefinitionId"]) == role["role_definition_id"]
    assert bicep_parse.string_value(p["resourceName"]) == "dcr-vector"
    assert bicep_parse.text_of(p["principalId"]) == "sp.id"
    assert bicep_parse.text_of(module.properties["scope"]) == (
        "resourceGroup('5b1d7e20-6c3f-4a81-8b92-117a3e000a02', 'rg-logs')"
    )

    mod = _parse(kits / "litware" / module.path)
    assert _types(mod) == {
        ("Microsoft.Insights/dataCollectionRules", "2022-06-01", True),
        ("Microsoft.Authorization/roleAssignments", "2022-04-01", False),
    }
    assignment = mod.resource("assignment")
    assert bicep_parse.text_of(assignment.properties["scope"]) == "target"
    props = bicep_parse.object_properties(assignment.properties["properties"])
    assert bicep_parse.string_value(props["principalType"]) == "ServicePrincipal"
    assert set(mod.params) == {"name", "principalId", "roleDefinitionId", "resourceName"}
    assert set(p) == set(mod.params)  # every module parameter is given


def test_fabrikam_bicep_grants_the_graph_permission(kits: Path) -> None:
    main = _parse(kits / "fabrikam" / "customer.bicep")
    assert _types(main) == {
        ("Microsoft.Graph/servicePrincipals", "v1.0", False),
        ("Microsoft.Graph/servicePrincipals", "v1.0", True),
        ("Microsoft.Graph/appRoleAssignedTo", "v1.0", False),
    }
    assert bicep_parse.string_value(main.resource("msGraph").properties["appId"]) == (
        "00000003-0000-0000-c000-000000000000"
    )
    grant = main.resource("graphPermission0").properties
    # Sites.Selected: the demo's Fabrikam grants one site, not every site (Sites.Read.All)
    assert bicep_parse.string_value(grant["appRoleId"]) == "883ea226-0bf2-4a8f-9f9d-92c9162a727d"
    assert bicep_parse.text_of(grant["principalId"]) == "sp.id"
    assert bicep_parse.text_of(grant["resourceId"]) == "msGraph.id"
    assert main.modules == []


def test_every_kind_of_scope(tmp_path: Path, demo_config, public) -> None:  # type: ignore[no-untyped-def]
    sub = "5b1d7e20-6c3f-4a81-8b92-117a3e000a02"
    data = demo_config.model_dump()
    data["customers"][0]["roles"] = [
        {"role": "Reader", "scope": f"/subscriptions/{sub}"},
        {"role": "Reader", "scope": f"/subscriptions/{sub}/resourceGroups/rg-logs"},
        {
            "role": "Storage Blob Data Contributor",
            "scope": f"/subscriptions/{sub}/resourceGroups/rg-logs/providers/"
            "Microsoft.Storage/storageAccounts/st1/blobServices/default/containers/logs",
        },
        {"role": "Reader", "scope": "/providers/Microsoft.Management/managementGroups/mg1"},
    ]
    config = type(demo_config).model_validate(data)
    kit = build_kit(config, public, "litware", app_id=APP_IDS["logs"], home_identities={})
    render_kit(kit, tmp_path)
    main = _parse(tmp_path / "customer.bicep")
    paths = sorted(m.path for m in main.modules)
    assert paths == [
        "modules/role-assignment-microsoft-storage-storageaccounts-blobservices-containers.bicep",
        "modules/role-assignment-resource-group.bicep",
        "modules/role-assignment-subscription.bicep",
    ]
    # The management group cannot be reached from a subscription deployment: said so.
    assert (
        "NOT HERE: Reader on /providers/Microsoft.Management/managementGroups/mg1"
        in (tmp_path / "customer.bicep").read_text()
    )
    for m in main.modules:
        f = _parse(tmp_path / m.path)
        assert ("Microsoft.Authorization/roleAssignments", "2022-04-01", False) in _types(f)
        assert set(m.params) == set(f.params)
    container = next(m for m in main.modules if "containers" in m.path)
    assert bicep_parse.string_value(container.params["resourceName"]) == "st1/default/logs"
    assert (
        _parse(tmp_path / "modules/role-assignment-subscription.bicep").target_scope
        == "subscription"
    )
