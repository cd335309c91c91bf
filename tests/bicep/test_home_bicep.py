"""bicep/home.bicep: parses, declares only types and api versions Microsoft publishes (checked
against tests/reference), matches the Python engine's conventions, and accepts the
parameter file `xtenant bicep params` renders."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from bicep_parse import BicepFile, Resource, interpolations, parse_bicep, string_value, text_of
from bicep_reference import arm_type, check_body, graph_type
from tree_sitter import Node

from provisioning.config import Config, load_config
from provisioning.core.clouds import PUBLIC, USGOV, load_cloud_file
from provisioning.home import bicep_params

REPO = Path(__file__).resolve().parents[2]
BICEP = REPO / "bicep"
HOME = BICEP / "home.bicep"
EXAMPLE = REPO / "examples" / "sandbox.yaml"


def _rel(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def _parse(path: Path) -> BicepFile:
    return parse_bicep(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def home() -> BicepFile:
    return _parse(HOME)


def _with_modules(path: Path) -> list[tuple[Path, BicepFile]]:
    """The file and every local module it uses, recursively."""
    out: list[tuple[Path, BicepFile]] = []
    todo = [path]
    while todo:
        p = todo.pop(0)
        if any(p == q for q, _ in out):
            continue
        f = _parse(p)
        out.append((p, f))
        todo.extend((p.parent / m.path).resolve() for m in f.modules if m.is_local)
    return out


def _all_resources() -> list[tuple[Path, Resource]]:
    return [(p, r) for p, f in _with_modules(HOME) for r in f.resources]


def _var_literal(f: BicepFile, node: Node | None) -> str | None:
    """A string literal, directly or through a variable holding one."""
    if node is None:
        return None
    if node.type == "identifier" and text_of(node) in f.variables:
        return string_value(f.variables[text_of(node)].value)
    return string_value(node)


# ---------------------------------------------------------------------------------------
# Syntax
# ---------------------------------------------------------------------------------------


def test_home_bicep_and_its_modules_parse_without_errors() -> None:
    files = _with_modules(HOME)
    assert len(files) >= 2, "home.bicep should use the identity module"
    for path, f in files:
        assert not f.errors, f"{_rel(path)}:\n" + "\n".join(map(str, f.errors))


def test_the_microsoft_graph_extension_is_declared_and_configured(home: BicepFile) -> None:
    assert home.target_scope == "subscription"
    names = [e.name for e in home.extensions]
    assert names == ["microsoftGraphV1"], names
    config = json.loads((BICEP / "bicepconfig.json").read_text())
    ref = config["extensions"]["microsoftGraphV1"]
    assert re.fullmatch(
        r"br:mcr\.microsoft\.com/bicep/extensions/microsoftgraph/v1\.0:\d+\.\d+\.\d+", ref
    ), ref


def test_local_modules_exist_and_receive_their_required_parameters(home: BicepFile) -> None:
    assert home.modules, "expected the identity module"
    for m in home.modules:
        assert m.is_local, m.path
        target = BICEP / m.path
        assert target.is_file(), f"module {m.symbol}: {m.path} not found"
        mod = _parse(target)
        given = set(m.params)
        unknown = given - set(mod.params)
        missing = {n for n, p in mod.params.items() if p.required} - given
        assert not unknown, f"module {m.symbol} passes unknown params {sorted(unknown)}"
        assert not missing, f"module {m.symbol} misses required params {sorted(missing)}"
        assert "scope" in m.properties, "identities go to their own resource groups"


# ---------------------------------------------------------------------------------------
# ARM resources: type@apiVersion exists in the published specs, with those properties
# ---------------------------------------------------------------------------------------


def test_every_arm_resource_type_and_api_version_is_in_the_reference() -> None:
    arm = [(p, r) for p, r in _all_resources() if r.namespace != "Microsoft.Graph"]
    assert any(r.type == "Microsoft.ManagedIdentity/userAssignedIdentities" for _, r in arm), (
        "the user-assigned identity must be declared (directly or in a module)"
    )
    problems = []
    for path, r in arm:
        where = f"{_rel(path)}:{r.line} resource {r.symbol}"
        try:
            found = arm_type(r.type, r.api_version)
        except LookupError as e:
            problems.append(f"{where}: {e}")
            continue
        if r.existing:
            continue
        problems.extend(f"{where}: {p}" for p in check_body(r.body, found.body))
    assert not problems, "\n".join(problems)


def test_identity_is_tagged_and_located_as_the_engine_does() -> None:
    (_path, r), *_ = [
        (p, r)
        for p, r in _all_resources()
        if r.type == "Microsoft.ManagedIdentity/userAssignedIdentities"
    ]
    assert r.api_version == "2023-01-31"
    assert {"name", "location", "tags"} <= set(r.properties)
    home = _parse(HOME)
    (module,) = home.modules
    tags = text_of(module.params["tags"])
    assert "managedByTag" in tags
    assert (
        text_of(home.variables["managedByTag"].value).replace(" ", "") == "{'managed-by':'xtenant'}"
    )


# ---------------------------------------------------------------------------------------
# Graph resources: v1.0 types with properties that exist on the entity
# ---------------------------------------------------------------------------------------


def test_graph_resources_use_v1_and_existing_properties(home: BicepFile) -> None:
    graph = [r for r in home.resources if r.namespace == "Microsoft.Graph"]
    refs = {r.type_ref for r in graph}
    assert "Microsoft.Graph/applications@v1.0" in refs
    assert "Microsoft.Graph/applications/federatedIdentityCredentials@v1.0" in refs
    problems = []
    for r in graph:
        where = f"home.bicep:{r.line} resource {r.symbol}"
        try:
            entity = graph_type(r.type, r.api_version)
        except LookupError as e:
            problems.append(f"{where}: {e}")
            continue
        problems.extend(
            f"{where}: {p}" for p in check_body(r.body, entity, meta=frozenset({"dependsOn"}))
        )
    assert not problems, "\n".join(problems)


def test_the_app_is_multi_tenant_with_unique_name_redirects_permissions_and_tag(
    home: BicepFile,
) -> None:
    (app,) = home.resources_of_type("Microsoft.Graph/applications")
    assert app.loop, "one app per entry of the apps parameter"
    props = app.properties
    for key in (
        "uniqueName",
        "displayName",
        "signInAudience",
        "web",
        "requiredResourceAccess",
        "tags",
    ):
        assert key in props, f"applications: {key} not set"
    assert _var_literal(home, props["signInAudience"]) == "AzureADMultipleOrgs"
    web = text_of(props["web"])
    assert "redirectUris" in web
    rra = text_of(props["requiredResourceAccess"])
    assert "graphAppId" in rra and "'Role'" in rra
    assert "appManagedTag" in text_of(props["tags"])


def test_constants_are_the_engines(home: BicepFile) -> None:
    from provisioning.core.catalog import GRAPH_APP_ID
    from provisioning.home import app as engine_app
    from provisioning.home import fic as engine_fic
    from provisioning.home import identity as engine_identity

    v = home.variables
    assert string_value(v["graphAppId"].value) == GRAPH_APP_ID
    assert string_value(v["appManagedTag"].value) == engine_app.MANAGED_TAG
    assert string_value(v["multiTenant"].value) == engine_app.MULTI_TENANT
    key, value = engine_identity.MANAGED_TAG
    assert text_of(v["managedByTag"].value).replace(" ", "") == f"{{'{key}':'{value}'}}"
    # FIC names: mi-<identity>, at most 120 characters, as engine_fic.fic_name
    specs = text_of(v["ficSpecs"].value)
    assert f"take('{engine_fic.PREFIX}${{t}}', 120)" in specs
    assert engine_fic.fic_name("x" * 200) == (engine_fic.PREFIX + "x" * 200)[:120]


def test_federated_credential_is_a_child_named_uniquename_slash_fic(home: BicepFile) -> None:
    (fic,) = home.resources_of_type("Microsoft.Graph/applications/federatedIdentityCredentials")
    (app,) = home.resources_of_type("Microsoft.Graph/applications")
    assert fic.name_node is not None and fic.name_node.type == "string"
    assert re.fullmatch(r"'\$\{[^}]*\.uniqueName\}/.+'", fic.name or ""), fic.name
    first = interpolations(fic.name_node)[0]
    assert first.startswith(f"{app.symbol}[") or first.startswith(f"{app.symbol}."), (
        f"the FIC name must read the app resource's uniqueName (dependency), got {first}"
    )
    props = fic.properties
    assert text_of(props["issuer"]) == "ficIssuer"
    subject = text_of(props["subject"])
    assert subject.endswith("principalId"), f"subject must be the principal id, got {subject}"
    assert "clientId" not in subject
    assert re.fullmatch(r"\[\s*exchangeAudience\s*\]", text_of(props["audiences"]))


def test_issuer_and_audience_defaults(home: BicepFile) -> None:
    issuer = home.params["ficIssuer"]
    assert (
        issuer.default_text
        == "'${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'"
    )
    assert string_value(home.params["exchangeAudience"].default) == PUBLIC.exchange_audience


def test_home_service_principal_is_optional(home: BicepFile) -> None:
    (sp,) = home.resources_of_type("Microsoft.Graph/servicePrincipals")
    assert sp.condition and sp.loop
    assert "appId" in sp.properties


def test_outputs_give_identity_ids_and_app_ids(home: BicepFile) -> None:
    ids = home.outputs["identityIds"].value_text
    for key in ("clientId", "principalId", "resourceId"):
        assert key in ids
    assert "appId" in home.outputs["appIds"].value_text


def test_attachments_are_documented_as_not_done_by_bicep() -> None:
    text = HOME.read_text()
    readme = (BICEP / "README.md").read_text()
    for doc in (text, readme):
        assert "az vm identity assign" in doc
        assert "xtenant apply" in doc
    assert "Microsoft.Compute/virtualMachines" not in {r.type for _, r in _all_resources()}


# ---------------------------------------------------------------------------------------
# The parameter file (`xtenant bicep params`)
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example() -> Config:
    return load_config(EXAMPLE).config


def test_parameter_file_matches_the_declared_parameters(home: BicepFile, example: Config) -> None:
    doc = bicep_params.home_parameters(example, PUBLIC)
    assert doc["$schema"] == (
        "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#"
    )
    assert doc["contentVersion"] == "1.0.0.0"
    given = doc["parameters"]
    undeclared = set(given) - set(home.params)
    assert not undeclared, f"not parameters of home.bicep: {sorted(undeclared)}"
    missing = {n for n, p in home.params.items() if p.required} - set(given)
    assert not missing, f"required by home.bicep but not rendered: {sorted(missing)}"
    problems = []
    for name, entry in given.items():
        assert set(entry) == {"value"}, name
        problems.extend(home.check_value(name, entry["value"]))
    assert not problems, "\n".join(problems)


def test_shape_check_is_not_vacuous(home: BicepFile, example: Config) -> None:
    doc = bicep_params.home_parameters(example, PUBLIC)["parameters"]
    apps = json.loads(json.dumps(doc["apps"]["value"]))
    apps[0]["redirectUri"] = apps[0].pop("redirectUris")
    apps[1]["graphAppRoles"] = ["Sites.Read.All"]
    problems = home.check_value("apps", apps)
    assert any("apps[0].redirectUris: missing" in p for p in problems), problems
    assert any("apps[0].redirectUri: not a property" in p for p in problems), problems
    assert any("apps[1].graphAppRoles[0]: expected an object" in p for p in problems), problems
    assert home.check_value("ficIssuer", 3) == ["ficIssuer: expected string, got int"]


def test_parameter_file_is_deterministic(example: Config) -> None:
    a = bicep_params.render_home_parameters(example, PUBLIC)
    b = bicep_params.render_home_parameters(load_config(EXAMPLE).config, PUBLIC)
    assert a == b
    assert a.endswith("}\n")
    assert json.loads(a) == bicep_params.home_parameters(example, PUBLIC)
    assert a == json.dumps(json.loads(a), indent=2, sort_keys=True) + "\n"


def test_parameter_file_carries_the_cloud_profiles_issuer_and_audience(
    example: Config, tmp_path: Path
) -> None:
    cloud_file = tmp_path / "cloud.json"
    cloud_file.write_text(
        json.dumps(
            {
                "name": "rehearsal",
                "authority": "https://login.rehearsal.example",
                "arm": "https://management.rehearsal.example",
                "graph": "https://graph.rehearsal.example",
                "exchange_audience": "api://AzureADTokenExchangeRehearsal",
            }
        )
    )
    tenant = example.home.tenant_id
    for cloud in (PUBLIC, USGOV, load_cloud_file(cloud_file)):
        params = bicep_params.home_parameters(example, cloud)["parameters"]
        assert params["ficIssuer"]["value"] == cloud.fic_issuer(tenant)
        assert params["ficIssuer"]["value"] == f"{cloud.authority}/{tenant}/v2.0"
        assert params["exchangeAudience"]["value"] == cloud.exchange_audience


def test_parameter_values_mirror_the_configuration(example: Config) -> None:
    params = bicep_params.home_parameters(example, PUBLIC)["parameters"]
    identities = params["identities"]["value"]
    assert [i["name"] for i in identities] == [i.name for i in example.home.identities]
    names = {i["name"] for i in identities}
    apps = {a["key"]: a for a in params["apps"]["value"]}
    for app in example.home.apps:
        got = apps[app.key]
        assert got["uniqueName"] == app.unique_name
        assert got["displayName"] == app.display_name
        assert set(got["trusts"]) <= names, "every trusted identity must be in identities"
        assert [r["id"] for r in got["graphAppRoles"]] == sorted(r.id for r in app.graph_roles)
    assert [r["value"] for r in apps["m365"]["graphAppRoles"]] == ["Sites.Selected"]


def test_attach_commands_cover_what_bicep_cannot(example: Config) -> None:
    cmds = bicep_params.attach_commands(example)
    vm = [c for c in cmds if c.startswith("az vm identity assign")]
    assert len(vm) == 1 and "/virtualMachines/vm-vector" in vm[0]
    assert "/userAssignedIdentities/umi-vector" in vm[0]
    assert any("automationAccounts/aa-runbooks" in c and "xtenant apply" in c for c in cmds)


def test_bicep_dir_finds_the_template() -> None:
    assert (bicep_params.bicep_dir() / "home.bicep").is_file()
