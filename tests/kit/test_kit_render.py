"""Rendering: golden files, determinism, and every script checked with its own tools."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import APP_IDS, IDENTITIES, REPO, SP_OBJECT_ID
from kit_helpers import (
    SHELLCHECK,
    UPDATE_GOLDEN,
    bicep_strings,
    parse_html,
    ps_single_quoted,
    tree,
)

from provisioning.kit import build_kit, render_all, render_kit, render_landing, templates_dir
from provisioning.kit.templating import csp_hash as _csp_hash

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, demo_config, public) -> Path:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("kits")
    render_all(demo_config, public, out, app_ids=APP_IDS, identities=IDENTITIES)
    return out


# --- golden files and determinism ---------------------------------------------------------


def test_golden_files(rendered: Path) -> None:
    if UPDATE_GOLDEN:
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(rendered, GOLDEN)
    want, got = tree(GOLDEN), tree(rendered)
    assert sorted(got) == sorted(want), "files differ: XTENANT_UPDATE_GOLDEN=1 pytest tests/kit"
    for name in want:
        assert got[name] == want[name], f"{name} differs from the golden file"


def test_golden_covers_both_customers_and_the_landing_page() -> None:
    files = set(tree(GOLDEN))
    for customer in ("litware", "fabrikam"):
        for f in (
            "index.html",
            "README.md",
            "kit.json",
            "assign-roles.sh",
            "assign-roles.ps1",
            "customer.bicep",
            "customer.parameters.json",
            "bicepconfig.json",
            "home/README.md",
            "home/workload.py",
        ):
            assert f"{customer}/{f}" in files
    assert "litware/home/vector.toml" in files
    assert "litware/modules/role-assignment-microsoft-insights-datacollectionrules.bicep" in files
    assert "fabrikam/home/vector.toml" not in files  # Graph only: no logs sink
    assert "landing/index.html" in files


def test_rendering_is_deterministic(tmp_path: Path, demo_config, public, rendered: Path) -> None:  # type: ignore[no-untyped-def]
    again = tmp_path / "again"
    render_all(demo_config, public, again, app_ids=APP_IDS, identities=IDENTITIES)
    assert tree(again) == tree(rendered)
    # Rendering over an existing folder gives the same bytes too.
    render_all(demo_config, public, again, app_ids=APP_IDS, identities=IDENTITIES)
    assert tree(again) == tree(rendered)


def test_render_kit_returns_what_it_wrote(tmp_path: Path, demo_config, public) -> None:  # type: ignore[no-untyped-def]
    kit = build_kit(
        demo_config, public, "litware", app_id=APP_IDS["logs"], home_identities=IDENTITIES
    )
    paths = render_kit(kit, tmp_path / "k")
    assert paths == sorted(paths)
    assert {p.relative_to(tmp_path / "k").as_posix() for p in paths} == set(tree(tmp_path / "k"))
    assert (tmp_path / "k" / "assign-roles.sh").stat().st_mode & 0o111
    # Without workload data (a kit read back from kit.json): no home/ folder.
    from provisioning.kit import kit_from_json

    bare = kit_from_json(kit.to_json())
    paths = render_kit(bare, tmp_path / "bare")
    assert not (tmp_path / "bare" / "home").exists()
    # Explicit workload data renders the home side, overriding the kit's.
    render_kit(
        bare,
        tmp_path / "w",
        workload={"identities": [{"name": "umi-x", **IDENTITIES["umi-vector"]}]},
    )
    assert "umi-x" in (tmp_path / "w" / "home" / "workload.py").read_text()


def test_render_all_selects_customers_and_requires_app_ids(
    tmp_path: Path, demo_config, public
) -> None:  # type: ignore[no-untyped-def]
    result = render_all(
        demo_config, public, tmp_path, app_ids=APP_IDS, identities={}, customers=["fabrikam"]
    )
    assert set(result) == {"fabrikam", "landing"}
    assert result["landing"] == [tmp_path / "landing" / "index.html"]
    with pytest.raises(KeyError, match="no appId for app 'logs'"):
        render_all(demo_config, public, tmp_path, app_ids={"m365": APP_IDS["m365"]}, identities={})


def test_landing_page_renders_alone(tmp_path: Path) -> None:
    path = render_landing(tmp_path, publisher="Contoso <Ltd>", contact="ops@contoso.example")
    text = path.read_text()
    assert "Contoso &lt;Ltd&gt;" in text and "ops@contoso.example" in text


# --- templates are found in a checkout and in an installed package -------------------------


def test_templates_dir_in_a_checkout() -> None:
    assert templates_dir() == REPO / "templates"


def test_templates_ship_in_the_wheel() -> None:
    text = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^"templates" = "provisioning/templates"$', text, re.M)


def test_templates_dir_in_an_installed_layout(tmp_path: Path) -> None:
    """As in a wheel: the templates inside the package, no repository around it."""
    site = tmp_path / "site"
    shutil.copytree(
        REPO / "provisioning",
        site / "provisioning",
        ignore=shutil.ignore_patterns("sandbox", "__pycache__"),
    )
    shutil.copytree(REPO / "templates", site / "provisioning" / "templates")
    code = (
        "import sys; from pathlib import Path; "
        "from provisioning.kit import templates_dir, render_landing; "
        "print(templates_dir()); render_landing(Path(sys.argv[1]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "out")],
        cwd=tmp_path,
        env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str(site / "provisioning" / "templates")
    assert (tmp_path / "out" / "index.html").is_file()


# --- the shell script --------------------------------------------------------------------


@pytest.mark.parametrize("customer", ["litware", "fabrikam"])
def test_shell_script_passes_bash_n_and_shellcheck(rendered: Path, customer: str) -> None:
    script = rendered / customer / "assign-roles.sh"
    assert script.read_text().startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in script.read_text()
    subprocess.run(["bash", "-n", str(script)], check=True)
    proc = subprocess.run([SHELLCHECK, "-x", str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_shell_script_assigns_each_role_once(rendered: Path, fake_az) -> None:  # type: ignore[no-untyped-def]
    kit = json.loads((rendered / "litware" / "kit.json").read_text())
    proc, calls = fake_az(rendered / "litware" / "assign-roles.sh")
    assert proc.returncode == 0, proc.stderr
    creates = [c for c in calls if c[:3] == ["role", "assignment", "create"]]
    [create] = creates
    role = kit["roles"][0]
    assert _opt(create, "--assignee-object-id") == SP_OBJECT_ID
    assert _opt(create, "--assignee-principal-type") == "ServicePrincipal"
    # the kit's definition id, under the scope's subscription: computed once, in kit/ids.py
    assert _opt(create, "--role") == role["role_definition_id"]
    assert role["role_definition_id"].startswith(f"/subscriptions/{role['scope'].split('/')[2]}/")
    assert _opt(create, "--scope") == role["scope"]
    assert _opt(create, "--name") == role["assignment_name"]
    assert [
        "ad",
        "sp",
        "show",
        "--id",
        kit["home"]["app"]["app_id"],
        "--query",
        "id",
        "-o",
        "tsv",
    ] in calls
    assert "(created)" in proc.stdout


def test_shell_script_is_idempotent(rendered: Path, fake_az) -> None:  # type: ignore[no-untyped-def]
    proc, calls = fake_az(rendered / "litware" / "assign-roles.sh", FAKE_AZ_EXISTING="some-name")
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in calls if c[:3] == ["role", "assignment", "create"]]
    assert "(present)" in proc.stdout


def test_shell_script_treats_an_existing_assignment_under_another_name_as_present(
    rendered: Path, fake_az
) -> None:  # type: ignore[no-untyped-def]
    proc, _ = fake_az(
        rendered / "litware" / "assign-roles.sh",
        FAKE_AZ_CREATE_ERROR="(RoleAssignmentExists) The role assignment already exists.",
    )
    assert proc.returncode == 0, proc.stderr
    assert "present under another name" in proc.stdout


def test_shell_script_retries_while_the_principal_replicates(rendered: Path, fake_az) -> None:  # type: ignore[no-untyped-def]
    proc, calls = fake_az(
        rendered / "litware" / "assign-roles.sh",
        FAKE_AZ_CREATE_ERROR="(PrincipalNotFound) Principal x does not exist in the directory.",
    )
    assert proc.returncode == 1
    assert len([c for c in calls if c[:3] == ["role", "assignment", "create"]]) == 6
    assert "wait a few minutes" in proc.stderr


def test_shell_script_stops_on_other_errors(rendered: Path, fake_az) -> None:  # type: ignore[no-untyped-def]
    proc, _ = fake_az(
        rendered / "litware" / "assign-roles.sh",
        FAKE_AZ_CREATE_ERROR="(AuthorizationFailed) The client does not have authorization.",
    )
    assert proc.returncode == 1
    assert "AuthorizationFailed" in proc.stderr


def test_shell_script_explains_missing_consent(rendered: Path, fake_az) -> None:  # type: ignore[no-untyped-def]
    proc, calls = fake_az(rendered / "litware" / "assign-roles.sh", FAKE_AZ_SP="")
    assert proc.returncode == 2
    assert "grant admin consent first" in proc.stderr
    assert not [c for c in calls if c[:2] == ["role", "assignment"]]


def test_shell_script_dry_run_changes_nothing(rendered: Path, fake_az) -> None:  # type: ignore[no-untyped-def]
    proc, calls = fake_az(rendered / "litware" / "assign-roles.sh", DRY_RUN="1")
    assert proc.returncode == 0, proc.stderr
    assert not [c for c in calls if c[:3] == ["role", "assignment", "create"]]
    assert "would be created" in proc.stdout and "nothing was changed" in proc.stdout


def test_shell_script_without_roles(rendered: Path, fake_az) -> None:  # type: ignore[no-untyped-def]
    proc, calls = fake_az(rendered / "fabrikam" / "assign-roles.sh")
    assert proc.returncode == 0, proc.stderr
    assert "nothing to do" in proc.stdout
    assert not [c for c in calls if c[:2] == ["role", "assignment"]]


def _opt(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


# --- PowerShell, Bicep, JSON, TOML, Python -------------------------------------------------


def test_powershell_script_is_balanced_and_uses_az_cmdlets(rendered: Path) -> None:
    """No PowerShell parser is available here (no pwsh): a tokenizer checks that every
    string is closed and that the values are the expected single-quoted literals."""
    raw = (rendered / "litware" / "assign-roles.ps1").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Windows PowerShell 5.1
    text = raw.decode("utf-8-sig")
    literals = ps_single_quoted(text)
    kit = json.loads((rendered / "litware" / "kit.json").read_text())
    role = kit["roles"][0]
    for value in (kit["home"]["app"]["app_id"], role["role_id"], role["scope"], role["role"]):
        assert value in literals
    for cmdlet in (
        "Get-AzADServicePrincipal -ApplicationId",
        "Get-AzRoleAssignment",
        "New-AzRoleAssignment",
    ):
        assert cmdlet in text
    assert "-ObjectType 'ServicePrincipal'" in text
    assert text.count("{") == text.count("}") and text.count("(") == text.count(")")


@pytest.mark.parametrize("customer", ["litware", "fabrikam"])
def test_bicep_strings_are_closed_and_never_interpolate(rendered: Path, customer: str) -> None:
    for path in [
        rendered / customer / "customer.bicep",
        *(rendered / customer).glob("modules/*.bicep"),
    ]:
        text = path.read_text()
        bicep_strings(text)
        assert text.count("{") == text.count("}")
    main = (rendered / customer / "customer.bicep").read_text()
    assert "extension microsoftGraphV1" in main
    assert "resource sp 'Microsoft.Graph/servicePrincipals@v1.0' = {\n  appId: appId\n}" in main
    config = json.loads((rendered / customer / "bicepconfig.json").read_text())
    assert config["extensions"]["microsoftGraphV1"].startswith(
        "br:mcr.microsoft.com/bicep/extensions/microsoftgraph/v1.0:"
    )
    params = json.loads((rendered / customer / "customer.parameters.json").read_text())
    kit = json.loads((rendered / customer / "kit.json").read_text())
    assert params["parameters"] == {"appId": {"value": kit["home"]["app"]["app_id"]}}


def test_bicep_role_assignments_are_deterministic_service_principal_assignments(
    rendered: Path,
) -> None:
    kit = json.loads((rendered / "litware" / "kit.json").read_text())
    main = (rendered / "litware" / "customer.bicep").read_text()
    for role in kit["roles"]:
        assert f"name: '{role['assignment_name']}'" in main
        assert f"roleDefinitionId: '{role['role_definition_id']}'" in main
    module = (
        rendered
        / "litware"
        / "modules"
        / "role-assignment-microsoft-insights-datacollectionrules.bicep"
    ).read_text()
    assert "resource target 'Microsoft.Insights/dataCollectionRules@2022-06-01' existing" in module
    assert "'Microsoft.Authorization/roleAssignments@2022-04-01'" in module
    assert "principalType: 'ServicePrincipal'" in module
    assert "scope: target" in module


def test_home_snippets(rendered: Path) -> None:
    vector = tomllib.loads((rendered / "litware" / "home" / "vector.toml").read_text())
    [(name, sink)] = vector["sinks"].items()
    assert name == "xtenant_litware"
    assert sink["type"] == "azure_logs_ingestion"
    assert sink["token_scope"] == "https://monitor.azure.com/.default"
    assert sink["auth"] == {
        "azure_credential_kind": "managed_identity_client_assertion",
        "user_assigned_managed_identity_id": IDENTITIES["umi-vector"]["client_id"],
        "client_assertion_tenant_id": "litware.onmicrosoft.com",
        "client_assertion_client_id": APP_IDS["logs"],
    }
    for customer, identity in (("litware", "umi-vector"), ("fabrikam", "umi-runbooks")):
        code = (rendered / customer / "home" / "workload.py").read_text()
        tree_ = ast.parse(code)
        consts = {
            t.id: n.value.value
            for n in tree_.body
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        assert consts["IDENTITY_CLIENT_ID"] == IDENTITIES[identity]["client_id"]
        assert consts["EXCHANGE_SCOPE"] == "api://AzureADTokenExchange/.default"
        assert consts["CUSTOMER_TENANT"] == f"{customer}.onmicrosoft.com"
        assert (
            "ClientAssertionCredential(" in code and "ManagedIdentityCredential(client_id=" in code
        )
        compile(code, "workload.py", "exec")


def test_vector_sink_uses_the_probe_target(tmp_path: Path, demo_config, public) -> None:  # type: ignore[no-untyped-def]
    data = demo_config.model_dump()
    data["customers"][0]["probe"] = {
        "logs_ingestion": {
            "endpoint": "https://dce-vector.westus2-1.ingest.monitor.azure.com",
            "dcr_immutable_id": "dcr-" + "0123456789abcdef" * 2,
            "stream": "Custom-vector_CL",
        }
    }
    config = type(demo_config).model_validate(data)
    kit = build_kit(config, public, "litware", app_id=APP_IDS["logs"], home_identities=IDENTITIES)
    render_kit(kit, tmp_path)
    sink = tomllib.loads((tmp_path / "home" / "vector.toml").read_text())["sinks"][
        "xtenant_litware"
    ]
    assert sink["endpoint"] == "https://dce-vector.westus2-1.ingest.monitor.azure.com"
    assert sink["dcr_immutable_id"] == "dcr-" + "0123456789abcdef" * 2
    assert sink["stream_name"] == "Custom-vector_CL"
    code = (tmp_path / "home" / "workload.py").read_text()
    assert "LogsIngestionClient(LOGS_ENDPOINT, cred, credential_scopes=[MONITOR_SCOPE])" in code


# --- HTML ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page", ["litware/index.html", "fabrikam/index.html", "landing/index.html"]
)
def test_pages_are_self_contained(rendered: Path, page: str) -> None:
    text = (rendered / page).read_text()
    parsed = parse_html(text)
    assert not [t for t, a in parsed.tags if t in ("link", "img", "iframe", "object", "embed")]
    assert not [a for _, a in parsed.tags if "src" in a]
    assert not [k for _, a in parsed.tags for k in a if k.startswith("on")]
    # One inline script, allowed by its hash in the page's Content-Security-Policy.
    assert [t for t, _ in parsed.tags].count("script") == 1
    [script] = parsed.scripts
    csp = next(
        a["content"]
        for t, a in parsed.tags
        if t == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert f"script-src {_csp_hash(script)};" in (csp or "")
    assert "default-src 'none'" in (csp or "")


def test_kit_page_content(rendered: Path) -> None:
    text = (rendered / "litware" / "index.html").read_text()
    kit = json.loads((rendered / "litware" / "kit.json").read_text())
    parsed = parse_html(text)
    consent = [a for t, a in parsed.tags if t == "a" and "button" in (a.get("class") or "")]
    assert [a["href"] for a in consent] == [kit["consent_url"]]
    for needle in (
        "Contoso Log Forwarder",
        kit["home"]["tenant_id"],
        kit["home"]["app"]["app_id"],
        "Ships your Linux syslog into your own Log Analytics workspace.",
        "Monitoring Metrics Publisher",
        "Vector publishes your logs to this data collection rule.",
        kit["roles"][0]["scope"],
        "az ad sp delete",
        "Remove-AzRoleAssignment",
        "xtenant customer apply --kit kit.json",
        "without <code>/v2.0</code>",
    ):
        assert needle in text, needle
    fab = (rendered / "fabrikam" / "index.html").read_text()
    assert "Sites.Selected" in fab and "Access selected site collections" in fab
    assert "v2.0 admin-consent endpoint" in fab


def test_a_custom_cloud(tmp_path: Path, demo_config) -> None:  # type: ignore[no-untyped-def]
    """A private or emulated cloud (the sandbox writes one): endpoints from the profile."""
    from provisioning.core.clouds import Cloud

    cloud = Cloud(
        name="sandbox",
        authority="https://127.0.0.1:8443",
        arm="https://127.0.0.1:8444",
        graph="https://127.0.0.1:8445",
        exchange_audience="api://AzureADTokenExchange",
        custom=True,
    )
    kit = build_kit(
        demo_config, cloud, "fabrikam", app_id=APP_IDS["m365"], home_identities=IDENTITIES
    )
    assert kit.consent_url.startswith("https://127.0.0.1:8443/fabrikam.onmicrosoft.com/v2.0/")
    render_kit(kit, tmp_path)
    assert "az cloud register" in (tmp_path / "README.md").read_text()
    assert "Add-AzEnvironment" in (tmp_path / "README.md").read_text()
    code = (tmp_path / "home" / "workload.py").read_text()
    assert "AUTHORITY = '127.0.0.1:8443'" in code
    assert "'https://127.0.0.1:8445/v1.0/sites?search=*&$top=5'" in code


def test_a_customer_named_landing_is_refused(tmp_path: Path, demo_config, public) -> None:  # type: ignore[no-untyped-def]
    data = demo_config.model_dump()
    data["customers"][0]["name"] = "landing"
    with pytest.raises(ValueError, match="landing page"):  # validation refuses it now (issue 12)
        config = type(demo_config).model_validate(data)
        render_all(config, public, tmp_path, app_ids=APP_IDS, identities={})


def test_usgov_kit_warns_that_vector_cannot_exchange_there(tmp_path: Path, demo_config) -> None:  # type: ignore[no-untyped-def]
    from provisioning.core import clouds

    kit = build_kit(
        demo_config, clouds.USGOV, "litware", app_id=APP_IDS["logs"], home_identities=IDENTITIES
    )
    render_kit(kit, tmp_path)
    vector = (tmp_path / "home" / "vector.toml").read_text()
    assert (
        "WARNING: Vector asks the managed identity for api://AzureADTokenExchange/.default"
        in vector
    )
    assert tomllib.loads(vector)["sinks"]["xtenant_litware"]["token_scope"] == (
        "https://monitor.azure.us/.default"
    )
    assert "az cloud set --name AzureUSGovernment" in (tmp_path / "README.md").read_text()
    assert "-Environment AzureUSGovernment" in (tmp_path / "assign-roles.ps1").read_text(
        "utf-8-sig"
    )


def test_shell_script_refuses_another_tenant_before_any_change(rendered: Path, fake_az) -> None:  # type: ignore[no-untyped-def]
    """Signed in to a tenant without the kit's verified domain: refused, nothing assigned."""
    proc, calls = fake_az(
        rendered / "litware" / "assign-roles.sh", FAKE_AZ_DOMAINS="fabrikam.onmicrosoft.com"
    )
    assert proc.returncode == 1
    assert "does not have the verified domain litware.onmicrosoft.com" in proc.stderr
    assert not [c for c in calls if c[:2] == ["role", "assignment"]]
    assert not [c for c in calls if c[:2] == ["ad", "sp"]]


def test_shell_script_refuses_another_cloud(rendered: Path, fake_az, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The kit is for public Azure; az set to another cloud is refused before sign-in."""
    script = (rendered / "litware" / "assign-roles.sh").read_text()
    other = tmp_path / "other-cloud.sh"
    other.write_text(script.replace("!= AzureCloud ]", "!= AzureUSGovernment ]"))
    proc, calls = fake_az(other)
    assert proc.returncode == 1 and "az cloud set" in proc.stderr
    assert not [c for c in calls if c[:2] == ["account", "show"]]


def test_shell_script_replaces_a_stale_assignment(rendered: Path, fake_az) -> None:  # type: ignore[no-untyped-def]
    """Our assignment name held by a deleted principal: deleted, then made for the new one."""
    kit = json.loads((rendered / "litware" / "kit.json").read_text())
    role = kit["roles"][0]
    proc, calls = fake_az(
        rendered / "litware" / "assign-roles.sh",
        FAKE_AZ_NAMED="0b5c7e2a-0000-4000-8000-00000000dead",
    )
    assert proc.returncode == 0, proc.stderr
    deletes = [c for c in calls if c[:3] == ["role", "assignment", "delete"]]
    assert [_opt(d, "--ids") for d in deletes] == [
        f"{role['scope']}/providers/Microsoft.Authorization/roleAssignments/{role['assignment_name']}"
    ]
    creates = [c for c in calls if c[:3] == ["role", "assignment", "create"]]
    assert len(creates) == 1 and calls.index(deletes[0]) < calls.index(creates[0])
    assert "stale assignment" in proc.stdout
