"""The kit's data: build_kit, assignment names, kit.json, its schema and load_kit."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import APP_IDS, IDENTITIES
from kit_helpers import UPDATE_GOLDEN

from provisioning.core import clouds
from provisioning.kit import (
    ASSIGNMENT_NAMESPACE,
    KIT_SCHEMA_VERSION,
    SCHEMA_PATH,
    KitError,
    assignment_name,
    build_kit,
    kit_from_json,
    kit_json_schema,
    load_kit,
)
from provisioning.kit.model import dumps_schema

DCR = (
    "/subscriptions/5b1d7e20-6c3f-4a81-8b92-117a3e000a02/resourceGroups/rg-logs/providers/"
    "Microsoft.Insights/dataCollectionRules/dcr-vector"
)
MMP = "3913510d-42f4-4e42-8a64-420c390055eb"


def _kit(config, cloud, name):  # type: ignore[no-untyped-def]
    app = config.customer(name).app
    return build_kit(config, cloud, name, app_id=APP_IDS[app], home_identities=IDENTITIES)


# --- assignment names ------------------------------------------------------------------


def test_assignment_name_is_uuid5_of_scope_role_and_app_id() -> None:
    app = APP_IDS["logs"]
    expected = uuid.uuid5(ASSIGNMENT_NAMESPACE, f"{DCR.lower()}|{MMP}|{app}")
    assert assignment_name(DCR, MMP, app) == str(expected)


def test_assignment_name_ignores_case_and_spelling_of_the_scope() -> None:
    app = APP_IDS["logs"]
    a = assignment_name(DCR, MMP, app)
    assert assignment_name(DCR.upper(), MMP.upper(), app.upper()) == a
    assert assignment_name(DCR.replace("resourceGroups", "resourcegroups"), MMP, app) == a
    assert assignment_name(DCR, MMP, APP_IDS["m365"]) != a
    assert assignment_name(DCR + "-2", MMP, app) != a


def test_assignment_namespace_never_changes() -> None:
    # Every assignment already made is named from it: this value is frozen.
    assert str(ASSIGNMENT_NAMESPACE) == "6f0c5a4e-2b1d-5c8e-9a3f-7d4e1b2c6a90"
    assert assignment_name(DCR, MMP, APP_IDS["logs"]) == "ddb836de-545d-5216-a7f0-b74b01cd79c7"


# --- build_kit ---------------------------------------------------------------------------


def test_litware_kit(demo_config, public) -> None:  # type: ignore[no-untyped-def]
    kit = _kit(demo_config, public, "litware")
    assert kit.schema_version == KIT_SCHEMA_VERSION == 3
    assert kit.home.tenant_id == "8f3c2a10-4d5e-4f60-9a7b-0c0270500001"
    assert kit.home.app.app_id == APP_IDS["logs"]
    assert kit.home.app.redirect_uri == "https://contoso.example/onboarded"
    assert kit.customer.tenant == "litware.onmicrosoft.com"
    [role] = kit.roles
    assert role.role == "Monitoring Metrics Publisher"
    assert role.role_id == MMP
    sub = DCR.split("/")[2]
    assert role.role_definition_id == (
        f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{MMP}"
    )
    assert role.scope == DCR
    assert role.why == "Vector publishes your logs to this data collection rule."
    assert role.assignment_name == assignment_name(DCR, MMP, APP_IDS["logs"])
    assert kit.assignment_names == (role.assignment_name,)
    assert kit.graph_app_roles == () == kit.consent_graph_app_roles
    # No Graph permission: the v1 endpoint, no scope; a deterministic state.
    assert kit.consent_url == (
        "https://login.microsoftonline.com/litware.onmicrosoft.com/adminconsent"
        f"?client_id={APP_IDS['logs']}&redirect_uri=https%3A%2F%2Fcontoso.example%2Fonboarded"
        "&state=xtenant%3Alitware"
    )
    assert not kit.consent_v2
    # The trusted identity (and only it) feeds the home snippets; not kit.json.
    assert kit.workload is not None
    assert [i.name for i in kit.workload.identities] == ["umi-vector"]
    assert "umi-vector" not in kit.dumps()


def test_fabrikam_kit_uses_v2_consent_for_graph_permissions(demo_config, public) -> None:  # type: ignore[no-untyped-def]
    kit = _kit(demo_config, public, "fabrikam")
    assert kit.roles == ()
    assert [(g.value, g.id) for g in kit.graph_app_roles] == [
        ("Sites.Selected", "883ea226-0bf2-4a8f-9f9d-92c9162a727d")
    ]
    assert kit.graph_app_roles[0].display_name == "Access selected site collections"
    assert kit.consent_url.startswith(
        "https://login.microsoftonline.com/fabrikam.onmicrosoft.com/v2.0/adminconsent?"
    )
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in kit.consent_url
    assert "state=xtenant%3Afabrikam" in kit.consent_url
    assert kit.consent_v2


def test_consent_lists_what_the_app_asks_beyond_the_customer(demo_config, public) -> None:  # type: ignore[no-untyped-def]
    data = demo_config.model_dump()
    data["customers"][1]["graph_app_roles"] = []
    data["customers"][1]["site_permissions"] = []
    data["customers"][1]["roles"] = [
        {
            "role": "Reader",
            "scope": "/subscriptions/" + "1" * 8 + "-1111-1111-1111-111111111111/resourceGroups/rg",
        }
    ]
    config = type(demo_config).model_validate(data)
    kit = build_kit(config, public, "fabrikam", app_id=APP_IDS["m365"], home_identities={})
    assert kit.graph_app_roles == ()
    assert [g.value for g in kit.consent_graph_app_roles] == ["Sites.Selected"]
    assert kit.consent_v2  # the consent grants what the app registration requests


def test_sovereign_cloud_values(demo_config) -> None:  # type: ignore[no-untyped-def]
    kit = _kit(demo_config, clouds.USGOV, "litware")
    assert kit.cloud.name == "usgov"
    assert kit.cloud.exchange_audience == "api://AzureADTokenExchangeUSGov"
    assert kit.consent_url.startswith("https://login.microsoftonline.us/litware.onmicrosoft.com/")


def test_app_id_is_normalised_and_roles_deduplicated(demo_config, public) -> None:  # type: ignore[no-untyped-def]
    data = demo_config.model_dump()
    roles = data["customers"][0]["roles"]
    roles.append(
        {**roles[0], "scope": roles[0]["scope"].upper().replace("SUBSCRIPTIONS", "subscriptions")}
    )
    config = type(demo_config).model_validate(data)
    kit = build_kit(config, public, "litware", app_id=APP_IDS["logs"].upper(), home_identities={})
    assert kit.app_id == APP_IDS["logs"]
    assert len(kit.roles) == 1


def test_unknown_customer_is_a_clear_error(demo_config, public) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(LookupError, match="litwar"):
        build_kit(demo_config, public, "litwar", app_id=APP_IDS["logs"], home_identities={})


# --- kit.json and its schema -------------------------------------------------------------


def test_schema_file_is_current() -> None:
    if UPDATE_GOLDEN:
        SCHEMA_PATH.write_text(dumps_schema(), encoding="utf-8")
    assert json.loads(SCHEMA_PATH.read_text(encoding="utf-8")) == kit_json_schema(), (
        "kit.schema.json is stale: XTENANT_UPDATE_GOLDEN=1 pytest tests/kit"
    )
    jsonschema.Draft202012Validator.check_schema(kit_json_schema())


@pytest.mark.parametrize("name", ["litware", "fabrikam"])
def test_kit_json_validates_against_the_schema(demo_config, public, name) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(_kit(demo_config, public, name).dumps())
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)
    assert list(data) == [
        "schema_version",
        "cloud",
        "home",
        "customer",
        "roles",
        "graph_app_roles",
        "consent_graph_app_roles",
        "consent_url",
        "assignment_names",
        "site_permissions",
        "directory_roles",
        "exchange_roles",
    ]


def test_the_schema_rejects_what_load_kit_rejects(demo_config, public) -> None:  # type: ignore[no-untyped-def]
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    data = _kit(demo_config, public, "litware").to_json()
    data["roles"][0]["role_id"] = "not-a-guid"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


def test_load_kit_round_trip(tmp_path: Path, demo_config, public) -> None:  # type: ignore[no-untyped-def]
    kit = _kit(demo_config, public, "litware")
    path = tmp_path / "kit.json"
    path.write_text(kit.dumps(), encoding="utf-8")
    loaded = load_kit(path)
    assert loaded == kit
    assert loaded.dumps() == kit.dumps()
    assert loaded.workload is None  # home-side data never travels in kit.json


def _damage(kit_json: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    data = json.loads(json.dumps(kit_json))
    node: Any = data
    parts = path.replace("]", "").replace("[", ".").split(".")
    for p in parts[:-1]:
        node = node[int(p)] if p.isdigit() else node[p]
    last = parts[-1]
    key: Any = int(last) if last.isdigit() else last
    if value is _DELETE:
        del node[key]
    else:
        node[key] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "words"),
    [
        ("home.app.app_id", "not-a-guid", "home.app.app_id", "not a GUID"),
        ("roles[0].scope", "subscriptions/x", "roles[0].scope", "not an ARM resource id"),
        ("roles[0].role_id", _DELETE, "roles[0].role_id", "missing required field"),
        ("roles[0].colour", "blue", "roles[0].colour", "unknown field"),
        ("customer.tenant", "not a tenant!", "customer.tenant", "not a tenant"),
        ("graph_app_roles", "Sites.Read.All", "graph_app_roles", "expected a list"),
        ("consent_url", "http://evil.example/", "consent_url", "https"),
        ("schema_version", 4, "schema_version", "upgrade xtenant"),
        ("schema_version", _DELETE, "schema_version", "missing"),
        (
            "roles[0].scope",
            DCR.replace("dcr-vector", "dcr-other"),
            "roles[0].assignment_name",
            "deterministic name",
        ),
        ("assignment_names", [], "assignment_names", "same order"),
        (
            "roles[0].role_definition_id",
            "/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7",
            "roles[0].role_definition_id",
            "role_id",
        ),
        (
            "consent_url",
            "https://login.microsoftonline.com/other.onmicrosoft.com/adminconsent?client_id=x",
            "consent_url",
            "admin-consent link",
        ),
    ],
)
def test_load_kit_names_the_damaged_field(
    tmp_path: Path, demo_config, public, path, value, field, words
) -> None:  # type: ignore[no-untyped-def]
    data = _damage(_kit(demo_config, public, "litware").to_json(), path, value)
    file = tmp_path / "kit.json"
    file.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(KitError) as info:
        load_kit(file)
    assert field in info.value.paths, str(info.value)
    message = str(info.value)
    assert f"{field}:" in message and words in message
    assert str(file) in message


def test_load_kit_reports_bad_json_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "kit.json"
    bad.write_text('{"schema_version": 1,\n', encoding="utf-8")
    with pytest.raises(KitError, match="not valid JSON"):
        load_kit(bad)
    with pytest.raises(KitError, match="file not found"):
        load_kit(tmp_path / "missing.json")
    bad.write_text("[]", encoding="utf-8")
    with pytest.raises(KitError, match="JSON object"):
        load_kit(bad)


def test_kit_is_frozen(demo_config, public) -> None:  # type: ignore[no-untyped-def]
    kit = _kit(demo_config, public, "litware")
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        kit.consent_url = "https://example.com"  # type: ignore[misc]
    assert kit_from_json(kit.to_json()) == kit


def test_a_bad_app_id_is_a_kit_error(demo_config, public) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(KitError, match="app_id: not a GUID"):
        build_kit(demo_config, public, "litware", app_id="contoso", home_identities={})
