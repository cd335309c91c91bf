"""The configuration model: the invalid/valid corpora, the CLI contract, schema and lint."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from provisioning import config as cfgmod
from provisioning.config import (
    ConfigError,
    Issue,
    UnknownNameError,
    json_schema,
    load_config,
    starter_yaml,
)

HERE = Path(__file__).parent
REPO = HERE.parent.parent
CORPUS = HERE / "corpus"
INVALID = sorted((CORPUS / "invalid").glob("*.yaml"))
VALID = sorted((CORPUS / "valid").glob("*.yaml"))
EXAMPLES = REPO / "examples"
MARKER = "# <-"
TEST_ENV = {
    "XTENANT_TEST_TENANT": "8f3c2a10-4d5e-4f60-9a7b-0c0270500001",
    "XTENANT_TEST_SUB": "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01",
    "XTENANT_TEST_ENV": "staging",
}


# --- corpus helpers ---------------------------------------------------------------------


def _headers(path: Path, key: str) -> list[str]:
    out = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        m = re.match(rf"#\s*{key}:\s*(.*)$", line)
        if m:
            out.append(m.group(1).strip())
    return out


def _expectation(path: Path) -> tuple[str, str, str | None]:
    """(field path or '' for the whole file, message fragment, file holding the issue)."""
    (expect,) = _headers(path, "expect")
    field_path, _, fragment = expect.partition(": ")
    files = _headers(path, "expect-file")
    return ("" if field_path == "-" else field_path), fragment, (files[0] if files else None)


def _marked_line(path: Path) -> int | None:
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.rstrip().endswith(MARKER) or f"{MARKER} " in line:
            return n
    return None


def _issue_file(case: Path, name: str | None) -> Path:
    if name is None:
        return case
    text = case.read_text()
    folder = re.search(r"^customers_dir:\s*(\S+)", text, re.M)
    assert folder, "expect-file needs customers_dir"
    return case.parent / folder.group(1) / name


def _load_errors(path: Path, environ: dict[str, str] | None = None) -> list[Issue]:
    with pytest.raises(ConfigError) as info:
        load_config(path, environ=environ if environ is not None else {})
    return info.value.issues


# --- the invalid corpus -------------------------------------------------------------------


def test_corpus_is_big_enough() -> None:
    assert len(INVALID) >= 45
    for path in INVALID:
        assert _headers(path, "expect"), f"{path.name}: missing '# expect:' header"


@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.stem)
def test_invalid_corpus(case: Path) -> None:
    field_path, fragment, file_name = _expectation(case)
    issues = _load_errors(case)
    matching = [i for i in issues if i.path == field_path and fragment in i.message]
    assert matching, f"no issue {field_path!r} ~ {fragment!r} in:\n" + "\n".join(map(str, issues))
    issue = matching[0]
    assert issue.severity == "error"
    assert issue.line is not None and issue.line >= 1
    where = _issue_file(case, file_name)
    assert issue.file is not None and Path(issue.file).resolve() == where.resolve()
    expected_line = _marked_line(where)
    if expected_line is not None:
        assert issue.line == expected_line, str(issue)
    text = str(issue)
    assert "\n" not in text
    assert text.startswith(f"{issue.file}:{issue.line}: ")


_MAIN = REPO / "provisioning" / "__main__.py"


@pytest.mark.skipif(
    not _MAIN.exists(),
    reason="provisioning/__main__.py does not exist yet (the CLI is being written by the lead)",
)
@pytest.mark.parametrize("case", INVALID, ids=lambda p: p.stem)
def test_invalid_corpus_cli(case: Path) -> None:
    field_path, fragment, _ = _expectation(case)
    env = {k: v for k, v in os.environ.items() if not k.startswith("XTENANT_")}
    proc = subprocess.run(
        [sys.executable, "-m", "provisioning", "validate", "-c", str(case)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=60,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, output
    assert "Traceback" not in output, output
    assert (field_path or fragment) in output, output


# --- the valid corpus ---------------------------------------------------------------------


@pytest.mark.parametrize("case", VALID, ids=lambda p: p.stem)
def test_valid_corpus(case: Path) -> None:
    loaded = load_config(case, environ=TEST_ENV)
    expected = [w.partition(": ") for w in _headers(case, "warn")]
    got = {(w.path, w.message) for w in loaded.warnings}
    for path, _, fragment in expected:
        assert any(p == path and fragment in m for p, m in got), (path, fragment, got)
    assert len(loaded.warnings) == len(expected), [str(w) for w in loaded.warnings]
    assert all(w.severity == "warning" for w in loaded.warnings)


def test_env_interpolation_values() -> None:
    loaded = load_config(CORPUS / "valid" / "env_interpolation.yaml", environ=TEST_ENV)
    cfg = loaded.config
    assert cfg.home.subscription_id == TEST_ENV["XTENANT_TEST_SUB"]
    assert cfg.home.identities[0].name == "umi-staging"
    assert cfg.home.apps[0].trusts == ["umi-staging"]
    assert cfg.home.apps[0].description == "Templates in the kit look like ${name}; costs $5."
    assert TEST_ENV["XTENANT_TEST_SUB"] in cfg.home.identities[0].attach_to[0]


def test_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in TEST_ENV.items():
        monkeypatch.setenv(k, v)
    loaded = load_config(CORPUS / "valid" / "env_interpolation.yaml")
    assert loaded.config.home.identities[0].name == "umi-staging"


def test_env_missing_names_variable_and_field() -> None:
    env = dict(TEST_ENV)
    del env["XTENANT_TEST_SUB"]
    issues = _load_errors(CORPUS / "valid" / "env_interpolation.yaml", env)
    errors = [i for i in issues if i.severity == "error"]
    paths = {i.path for i in errors}
    assert paths == {"home.subscription_id", "home.identities[0].attach_to[0]"}
    assert all("XTENANT_TEST_SUB is not set" in i.message for i in errors)


def test_custom_cloud_resolves_relative_to_config() -> None:
    loaded = load_config(CORPUS / "valid" / "custom_cloud.yaml")
    cloud = loaded.cloud()
    assert cloud.custom and cloud.authority == "https://login.local.test"


def test_customers_dir_order_and_names() -> None:
    loaded = load_config(CORPUS / "valid" / "customers_dir.yaml")
    names = [c.name for c in loaded.config.customers]
    assert names == ["litware", "adatum", "contoso-eu"]  # inline first, then files by name


def test_customers_dir_issue_points_into_its_file() -> None:
    issues = _load_errors(CORPUS / "invalid" / "dir_bad_scope.yaml")
    (issue,) = [i for i in issues if i.path == "customers[1].roles[0].scope"]
    assert issue.file is not None and issue.file.endswith("contoso-eu.yaml")
    assert issue.line == 5


def test_unparseable_customer_file_is_one_issue(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "bad.yaml").write_text("tenant: [a\n")
    (tmp_path / "c" / ".hidden.yaml").write_text("not: [even: yaml\n")
    (tmp_path / "c" / "notes.md").write_text("ignored")
    text = (EXAMPLES / "xtenant-dir.yaml").read_text()
    text = text.replace("customers_dir: customers", "customers_dir: c")
    issues = _load_errors(_write(tmp_path, text))
    assert [(i.path, Path(i.file or "").name) for i in issues] == [("customers[0]", "bad.yaml")]
    assert issues[0].message.startswith("YAML syntax error")


# --- examples, schema, starter ---------------------------------------------------------------


@pytest.mark.parametrize("name", ["xtenant.yaml", "xtenant-dir.yaml"])
def test_examples_load_without_warnings(name: str) -> None:
    loaded = load_config(EXAMPLES / name)
    assert loaded.warnings == []


def test_example_content() -> None:
    cfg = load_config(EXAMPLES / "xtenant.yaml").config
    vector = cfg.identity("umi-vector")
    assert vector.attach_ids[0].full_type == "Microsoft.Compute/virtualMachines"
    runbooks = cfg.identity("UMI-RUNBOOKS")
    assert runbooks.attach_ids[0].full_type == "Microsoft.Automation/automationAccounts"
    logs = cfg.app("logs")
    assert logs.unique_name == "contoso-log-forwarder"
    assert logs.redirect_uris == ["https://contoso.example/onboarded"]
    assert [c.name for c in cfg.customers_for_app("logs")] == ["litware"]
    litware = cfg.customer("litware")
    grant = litware.roles[0]
    assert grant.role_id == "3913510d-42f4-4e42-8a64-420c390055eb"
    assert grant.role_def is not None and grant.role_def.has_data_actions
    assert grant.scope_id.full_type == "Microsoft.Insights/dataCollectionRules"
    assert litware.probe is not None and litware.probe.logs_ingestion is not None
    assert not litware.tenant_is_guid
    fabrikam = cfg.customer("fabrikam")
    assert fabrikam.tenant_is_guid
    assert [r.id for r in fabrikam.graph_roles] == ["883ea226-0bf2-4a8f-9f9d-92c9162a727d"]


def test_lookup_helpers_say_did_you_mean() -> None:
    cfg = load_config(EXAMPLES / "xtenant.yaml").config
    with pytest.raises(UnknownNameError, match="unknown customer 'litwar'; did you mean 'litware'"):
        cfg.customer("litwar")
    with pytest.raises(LookupError, match="unknown app 'nope'"):
        cfg.app("nope")
    assert cfg.customers_for_app("nope") == []


def _yaml_as_json(path: Path) -> Any:
    return json.loads(json.dumps(YAML(typ="safe").load(path.read_text())))


@pytest.mark.parametrize("name", ["xtenant.yaml", "xtenant-dir.yaml"])
def test_json_schema_validates_examples(name: str) -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(_yaml_as_json(EXAMPLES / name), schema, cls=jsonschema.Draft202012Validator)


def test_json_schema_rejects_obvious_mistakes() -> None:
    schema = json_schema()
    doc = _yaml_as_json(EXAMPLES / "xtenant.yaml")
    validator = jsonschema.Draft202012Validator(schema)
    assert validator.is_valid(doc)
    typo = copy.deepcopy(doc)
    typo["customers"][0]["rolez"] = []
    assert not validator.is_valid(typo)
    bad_guid = copy.deepcopy(doc)
    bad_guid["home"]["tenant_id"] = "contoso"
    assert not validator.is_valid(bad_guid)
    no_home = copy.deepcopy(doc)
    del no_home["home"]
    assert not validator.is_valid(no_home)


def test_json_schema_is_json() -> None:
    schema = json_schema()
    assert schema["$schema"].startswith("https://json-schema.org/")
    assert json.loads(json.dumps(schema)) == schema
    assert "home" in schema["required"]


def test_starter_yaml_validates(tmp_path: Path) -> None:
    text = starter_yaml()
    assert text.startswith("#")
    path = tmp_path / "xtenant.yaml"
    path.write_text(text)
    loaded = load_config(path, environ={})
    assert loaded.warnings == []
    jsonschema.validate(_yaml_as_json(path), json_schema(), cls=jsonschema.Draft202012Validator)


# --- reporting: many errors at once, warnings vs errors ---------------------------------------


def _write(tmp_path: Path, text: str, name: str = "xtenant.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _example_text() -> str:
    return (EXAMPLES / "xtenant.yaml").read_text()


def test_bad_field_and_dangling_reference_are_both_reported(tmp_path: Path) -> None:
    text = _example_text().replace("    app: logs\n", "    app: log\n", 1)
    text = text.replace("dcr_immutable_id: dcr-5b1d", "dcr_immutable_id: dcr-XX5b1d", 1)
    text = text.replace("location: westus2", "location: West US", 1)
    text = text.replace("trusts: [umi-runbooks]", "trusts: [umi-runbook]", 1)
    issues = _load_errors(_write(tmp_path, text))
    paths = {i.path for i in issues if i.severity == "error"}
    assert {
        "customers[0].app",
        "customers[0].probe.logs_ingestion.dcr_immutable_id",
        "home.identities[0].location",
        "home.apps[1].trusts[0]",
    } <= paths
    lines = [i.line or 0 for i in issues]
    assert lines == sorted(lines)  # one file: reported in file order


def test_errors_and_warnings_together(tmp_path: Path) -> None:
    text = _example_text().replace("location: westus2", "location: westus9", 1)
    text = text.replace("    app: logs\n", "    app: log\n", 1)
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    err = info.value
    assert [i.path for i in err.errors] == ["customers[0].app"]
    assert [i.path for i in err.warnings] == ["home.identities[0].location"]
    lines = str(err).splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("warning: ") and "unknown Azure region" in lines[0]
    assert "customers[0].app" in lines[1] and not lines[1].startswith("warning")
    assert "1 error" in err.args[0]


def test_warnings_alone_do_not_fail(tmp_path: Path) -> None:
    text = _example_text().replace("location: westus2", "location: westus9", 1)
    loaded = load_config(_write(tmp_path, text))
    (warning,) = loaded.warnings
    assert warning.code == "unknown-region"
    assert "did you mean 'westus" in warning.message
    assert loaded.path == tmp_path / "xtenant.yaml"


def test_issue_str_and_json() -> None:
    issue = Issue(
        path="customers[3].roles[0].scope",
        message="not an ARM resource id",
        file="xtenant.yaml",
        line=42,
        found="/subscriptions/x",
        expected="/subscriptions/<guid>/...",
    )
    assert str(issue) == (
        "xtenant.yaml:42: customers[3].roles[0].scope: not an ARM resource id "
        "(found '/subscriptions/x'; expected /subscriptions/<guid>/...)"
    )
    data = issue.to_json()
    assert (
        data["severity"] == "error" and data["line"] == 42 and data["found"] == "/subscriptions/x"
    )
    assert json.loads(json.dumps(data)) == data
    bare = Issue(path="", message="file not found", file="x.yaml")
    assert str(bare) == "x.yaml: file not found"
    multiline = Issue(path="a", message="m", found="x\ny")
    assert "\n" not in str(multiline)


def test_missing_file_is_one_issue(tmp_path: Path) -> None:
    issues = _load_errors(tmp_path / "nope.yaml")
    assert len(issues) == 1 and issues[0].message == "file not found"
    issues = _load_errors(tmp_path)  # a directory
    assert len(issues) == 1 and "cannot read" in issues[0].message


def test_yaml_error_has_line(tmp_path: Path) -> None:
    issues = _load_errors(_write(tmp_path, "home:\n  tenant_id: [a\n  x: 1\n"))
    assert len(issues) == 1
    assert issues[0].message.startswith("YAML syntax error")
    assert issues[0].line is not None


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(b"home: \xff\xfe\n")
    (issue,) = _load_errors(path)
    assert "not UTF-8" in issue.message


# --- lint rules -----------------------------------------------------------------------------


LW = "/subscriptions/5b1d7e20-6c3f-4a81-8b92-117a3e000a02"


def _with_roles(tmp_path: Path, roles_yaml: str) -> Path:
    text = _example_text()
    start = text.index("    roles:\n")
    end = text.index("    probe:\n")
    return _write(tmp_path, text[:start] + "    roles:\n" + roles_yaml + text[end:])


@pytest.mark.parametrize(
    ("role", "scope", "code"),
    [
        ("Owner", LW, "privileged-role-broad-scope"),
        ("Contributor", "/", "privileged-role-broad-scope"),
        (
            "User Access Administrator",
            "/providers/Microsoft.Management/managementGroups/mg",
            "privileged-role-broad-scope",
        ),
        ("Role Based Access Control Administrator", LW, "privileged-role-broad-scope"),
    ],
)
def test_privileged_roles_at_broad_scope_are_errors(
    tmp_path: Path, role: str, scope: str, code: str
) -> None:
    path = _with_roles(tmp_path, f"      - role: {role}\n        scope: {scope}\n")
    issues = _load_errors(path)
    assert [i.code for i in issues if i.severity == "error"] == [code]
    waived = _with_roles(
        tmp_path,
        f"      - role: {role}\n        scope: {scope}\n        allow_privileged: audited\n",
    )
    assert load_config(waived).warnings == []


def test_privileged_role_at_resource_group_is_a_warning(tmp_path: Path) -> None:
    path = _with_roles(
        tmp_path, f"      - role: Owner\n        scope: {LW}/resourceGroups/rg-logs\n"
    )
    (warning,) = load_config(path).warnings
    assert warning.code == "privileged-role"


def test_data_actions_at_subscription_is_a_warning(tmp_path: Path) -> None:
    path = _with_roles(
        tmp_path, f"      - role: Monitoring Metrics Publisher\n        scope: {LW}\n"
    )
    (warning,) = load_config(path).warnings
    assert warning.code == "data-actions-broad-scope"
    assert warning.path == "customers[0].roles[0]"


def test_custom_role_guid_is_a_warning(tmp_path: Path) -> None:
    guid = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
    path = _with_roles(tmp_path, f"      - role: {guid}\n        scope: {LW}\n")
    loaded = load_config(path)
    (warning,) = loaded.warnings
    assert warning.code == "custom-role-unlinted"
    grant = loaded.config.customers[0].roles[0]
    assert grant.role_def is None and grant.role_id == guid


def test_lint_rules_are_data() -> None:
    codes = {r.code for r in cfgmod.ROLE_RULES} | {r.code for r in cfgmod.GRAPH_RULES}
    assert {
        "privileged-role-broad-scope",
        "data-actions-broad-scope",
        "privileged-graph-permission",
    } <= codes
    assert cfgmod.BROAD_SCOPE_KINDS == {"root", "management_group", "subscription"}


def test_fic_limit_is_twenty(tmp_path: Path) -> None:
    idents = "".join(
        f"    - name: umi-{n:02d}\n      resource_group: rg-identity\n      location: westus2\n"
        for n in range(21)
    )
    base = (
        "home:\n  tenant_id: 8f3c2a10-4d5e-4f60-9a7b-0c0270500001\n"
        "  subscription_id: 8f3c2a10-4d5e-4f60-9a7b-0c0270500a01\n"
        f"  identities:\n{idents}  apps:\n    - key: logs\n      display_name: L\n"
        "      unique_name: l\n      redirect_uri: https://x.example\n      trusts: [{trusts}]\n"
    )
    twenty = ", ".join(f"umi-{n:02d}" for n in range(20))
    load_config(_write(tmp_path, base.replace("{trusts}", twenty)))
    issues = _load_errors(_write(tmp_path, base.replace("{trusts}", twenty + ", umi-20")))
    assert [i.code for i in issues] == ["fic-limit"]


def test_graph_values_are_canonicalised(tmp_path: Path) -> None:
    text = _example_text().replace("[Sites.Selected, Organization", "[sites.selected, Organization")
    text = text.replace("graph_app_roles: [Sites.Selected]", "graph_app_roles: [SITES.SELECTED]")
    cfg = load_config(_write(tmp_path, text)).config
    assert cfg.app("m365").graph_app_roles[0] == "Sites.Selected"
    assert cfg.customer("fabrikam").graph_app_roles == ["Sites.Selected"]


def test_attach_to_is_canonical(tmp_path: Path) -> None:
    text = _example_text().replace("/resourceGroups/rg-vm/", "/resourcegroups/rg-vm/", 1)
    cfg = load_config(_write(tmp_path, text)).config
    assert "/resourceGroups/rg-vm/" in cfg.home.identities[0].attach_to[0]


# --- robustness: no traceback for any shape of input --------------------------------------------


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


@pytest.mark.parametrize("replacement", [None, 7, "", "x", [], {}, [None], {"a": 1}, True])
def test_any_shape_gives_issues_not_tracebacks(tmp_path: Path, replacement: Any) -> None:
    doc = YAML(typ="safe").load(_example_text())
    for n, path in enumerate(_paths(doc)):
        mutated = copy.deepcopy(doc)
        _set(mutated, path, replacement)
        target = tmp_path / f"m{n}.yaml"
        target.write_text(json.dumps(mutated))  # JSON is YAML
        try:
            load_config(target, environ={})
        except ConfigError as exc:
            assert exc.issues, path
            for issue in exc.issues:
                assert isinstance(issue.message, str) and "\n" not in str(issue)
