"""Hostile display names, descriptions and why-texts are escaped in every output.

Every free-text value of the configuration (and an ARM resource name, which may hold
almost anything) carries HTML, shell, PowerShell, Bicep and Python metacharacters; each
rendered file is then read back with its own language's rules and must give back exactly
the value, never run it.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from conftest import APP_IDS, IDENTITIES, SP_OBJECT_ID
from kit_helpers import SHELLCHECK, bicep_strings, parse_html, ps_tokens

from provisioning.config import Config
from provisioning.kit import build_kit, load_kit, render_kit

SUB = "5b1d7e20-6c3f-4a81-8b92-117a3e000a02"
EVIL = (
    "Evil <script>alert(1)</script><img src=x onerror=alert(2)> \"dq\" 'sq' \u2018curly\u2019 "
    "$(touch PWNED) ${x} `touch PWNED2` \\ back\\slash & amp; Remove-Item -Recurse C:\\ "
    '# not a comment */ /* --% @\' \'@ """ \u00dcn\u00efc\u00f6d\u00e9 \u2713'
)
# one line: config refuses control characters in display names (kit trust, item 6);
# the multi-line hostile text lives on in DESCRIPTION and WHY
NAME = EVIL + " second part"
DESCRIPTION = "What for: " + EVIL + "\n# Heading?\n```\nfence"
WHY = "Because " + EVIL + "\n\n- list?"
PUBLISHER = "Pub " + EVIL
CONTACT = "ops+" + EVIL
RG = "rg-$(touch${IFS}PWNED3)`x`${y}'q'\"d\""
# no whitespace: an ARM id holding any is refused before it gets here (kit trust, item 5)
DCR = "dcr-';Remove-Item(x);'${z}`$(touch${IFS}PWNED4)\"<b>"
SCOPE = (
    f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
    f"Microsoft.Insights/dataCollectionRules/{DCR}"
)
ENDPOINT = 'https://dce.example.com/$HOME/${HOME}/"q"'
MARKERS = ("PWNED", "Remove-Item", "alert(1)", "alert(2)")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, demo_config) -> Path:  # type: ignore[no-untyped-def]
    data = demo_config.model_dump()
    app = data["home"]["apps"][0]
    app.update(display_name=NAME, description=DESCRIPTION, publisher=PUBLISHER)
    customer = data["customers"][0]
    customer.update(
        contact=CONTACT,
        roles=[{"role": "Monitoring Metrics Publisher", "scope": SCOPE, "why": WHY}],
        probe={
            "logs_ingestion": {
                "endpoint": ENDPOINT,
                "dcr_immutable_id": "dcr-" + "ab" * 16,
                "stream": "Custom-vector_CL",
            }
        },
    )
    config = Config.model_validate(data)
    from provisioning.core import clouds

    kit = build_kit(
        config, clouds.PUBLIC, "litware", app_id=APP_IDS["logs"], home_identities=IDENTITIES
    )
    out = tmp_path_factory.mktemp("hostile")
    render_kit(kit, out)
    return out


def test_every_value_made_it_through_unchanged(hostile: Path) -> None:
    kit = load_kit(hostile / "kit.json")
    assert kit.home.app.display_name == NAME
    assert kit.home.app.description == DESCRIPTION
    assert kit.home.app.publisher == PUBLISHER
    assert kit.customer.contact == CONTACT
    assert kit.roles[0].why == WHY
    assert kit.roles[0].scope == SCOPE
    raw = json.loads((hostile / "kit.json").read_text(encoding="utf-8"))
    assert raw["home"]["app"]["display_name"] == NAME


@pytest.mark.parametrize("page", ["index.html"])
def test_html_escapes_everything(hostile: Path, page: str) -> None:
    text = (hostile / page).read_text(encoding="utf-8")
    parsed = parse_html(text)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("script") == 1  # ours only
    assert "img" not in tags and "b" not in tags
    assert not [k for _, a in parsed.tags for k in a if k.startswith("on")]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in text
    assert "<script>alert" not in text and "<img" not in text
    # Attribute values cannot be broken out of.
    for _, attrs in parsed.tags:
        for value in attrs.values():
            assert value is None or "alert" not in value


def _strip_markdown_code(text: str) -> str:
    """Markdown without its fenced blocks and code spans (a backslash-escaped backtick
    opens no code span)."""
    text = re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", text, flags=re.S | re.M)
    return re.sub(r"(?<![\\`])(`+)(?!`)(.+?)(?<!`)\1(?!`)", "", text)


def test_markdown_escapes_everything(hostile: Path) -> None:
    for name in ("README.md", "home/README.md"):
        text = (hostile / name).read_text(encoding="utf-8")
        prose = _strip_markdown_code(text)
        # Every < > & outside code is backslash-escaped, so none can open HTML.
        assert not re.search(r"(?<!\\)[<>&]", prose), re.search(r".{20}(?<!\\)[<>&].{20}", prose)
        assert "\\<script\\>alert\\(1\\)" in prose or name == "home/README.md"
        headings = [line for line in text.splitlines() if line.startswith("#")]
        assert all(not h.startswith("# Heading") for h in headings)
    readme = (hostile / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[0].startswith("# Evil \\<script\\>")  # one-line title


def test_shell_script_quotes_everything(hostile: Path, fake_az, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    script = hostile / "assign-roles.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    proc = subprocess.run([SHELLCHECK, str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    proc, calls = fake_az(script)
    assert proc.returncode == 0, proc.stderr
    [create] = [c for c in calls if c[:3] == ["role", "assignment", "create"]]
    assert create[create.index("--scope") + 1] == SCOPE
    assert create[create.index("--assignee-object-id") + 1] == SP_OBJECT_ID
    # (text mode reads \r\n as \n)
    assert f"Service principal of {NAME}: {SP_OBJECT_ID}".replace("\r\n", "\n") in proc.stdout
    # Nothing in the values ran: no file was touched.
    assert not list(tmp_path.rglob("PWNED*"))
    assert not list(Path.cwd().glob("PWNED*"))


def test_shell_snippets_quote_everything(hostile: Path) -> None:
    """The commands shown in the page and README (not files) are valid bash too."""
    from provisioning.kit.render import _context
    from provisioning.kit.templating import render as _render

    kit = load_kit(hostile / "kit.json")
    ctx = _context(kit)
    for name in ("run-az.sh", "run-bicep.sh", "verify-az.sh", "revoke-az.sh"):
        text = _render(f"kit/snippets/{name}.j2", **ctx)
        subprocess.run(["bash", "-n"], input=text, text=True, check=True)
        if SCOPE in kit.roles[0].scope and name == "revoke-az.sh":
            argv = subprocess.run(
                ["bash", "-c", 'az() { printf "%s\\0" "$@"; }; ' + text],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split("\0")
            assert SCOPE in argv


def test_powershell_quotes_everything(hostile: Path) -> None:
    """No PowerShell parser is available (no pwsh): a tokenizer checks that every string is
    closed, that the values come back exactly from single-quoted literals, and that none of
    them leaks into code."""
    text = (hostile / "assign-roles.ps1").read_bytes().decode("utf-8-sig")
    literals, code = ps_tokens(text)
    assert NAME in literals
    assert SCOPE in literals
    for marker in MARKERS:
        assert marker not in code, marker
    for name in ("verify-ps.ps1", "revoke-ps.ps1", "run-ps.ps1"):
        from provisioning.kit.render import _context
        from provisioning.kit.templating import render as _render

        snippet = _render(f"kit/snippets/{name}.j2", **_context(load_kit(hostile / "kit.json")))
        literals, code = ps_tokens(snippet)
        for marker in MARKERS:
            assert marker not in code, (name, marker)
    _, code = ps_tokens((hostile / "assign-roles.ps1").read_bytes().decode("utf-8-sig"))
    assert code.count("{") == code.count("}") and code.count("(") == code.count(")")


def test_bicep_quotes_everything(hostile: Path) -> None:
    main = (hostile / "customer.bicep").read_text(encoding="utf-8")
    strings = bicep_strings(main)  # raises on an unclosed string or an interpolation
    assert any(NAME in s for s in strings)
    assert DCR in strings and RG in strings
    for module in hostile.glob("modules/*.bicep"):
        bicep_strings(module.read_text(encoding="utf-8"))
    for line in main.splitlines():
        if line.lstrip().startswith("//"):
            continue
        for marker in MARKERS:
            if marker in line:
                assert line.count("'") - line.count("\\'") >= 2, line


def test_bicep_parses_with_tree_sitter(hostile: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    bicep_parse = pytest.importorskip("bicep_parse")
    f = bicep_parse.parse_bicep((hostile / "customer.bicep").read_text(encoding="utf-8"))
    assert not f.errors, "\n".join(map(str, f.errors))
    [module] = f.modules
    assert bicep_parse.interpolations(module.params["resourceName"]) == []
    assert f.params["appId"].description is not None


def test_json_toml_and_python_round_trip(hostile: Path) -> None:
    params = json.loads((hostile / "customer.parameters.json").read_text(encoding="utf-8"))
    assert params["parameters"]["appId"]["value"] == APP_IDS["logs"]
    sink = tomllib.loads((hostile / "home" / "vector.toml").read_text(encoding="utf-8"))
    [(_, s)] = sink["sinks"].items()
    # Vector reads `$$` as `$` (and would interpolate a single `$`).
    assert s["endpoint"] == ENDPOINT.replace("$", "$$")
    code = (hostile / "home" / "workload.py").read_text(encoding="utf-8")
    tree = ast.parse(code)
    consts = {
        t.id: n.value.value
        for n in tree.body
        if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant)
        for t in n.targets
        if isinstance(t, ast.Name)
    }
    assert consts["LOGS_ENDPOINT"] == ENDPOINT
    assert ast.get_docstring(tree) is not None and "Evil" not in ast.get_docstring(tree)


def test_comments_cannot_be_broken_out_of(hostile: Path) -> None:
    """Free text lands in comments (and in Bicep, TOML and Python strings) as one line: a
    newline in a value never starts a line of code.  (In bash and PowerShell a newline
    inside a single-quoted string is literal: the tests above read those values back.)"""
    for name in ("customer.bicep", "home/vector.toml", "home/workload.py", "home/README.md"):
        for line in (hostile / name).read_text(encoding="utf-8").splitlines():
            assert not line.lstrip().startswith(("second line", "third", "# Heading", "- list")), (
                name,
                line,
            )


# --- scoped grants: a hostile site URL, filter and why in every language -------------------

SITE_SEGMENT = "Evil'$(touch${IFS}PWNED5)`touch${IFS}PWNED6`\"<b>;&{y}|Remove-Item%27"
SITE = f"https://fabrikam.sharepoint.com/sites/{SITE_SEGMENT}"
FILTER = "CustomAttribute1 -eq 'x'); Remove-Item C:\\ $(touch PWNED7) \"dq\" `bt` <b>"
AU = "5d107bba-d8e2-4e13-b6ae-884be90e5d1a"

FAKE_GRAPH_AZ = """#!{python}
# A stand-in for the az CLI for scoped-grants.sh: logs its arguments, answers as Graph would
# for a site with no permission of the app yet and a service principal without roles.
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_AZ_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
cmd = " ".join(a for a in args[:3] if not a.startswith("-"))
if cmd.startswith("account show"):
    print("a4e2f630-7d4a-4b92-9ca3-fab41c000003")
elif cmd.startswith("cloud show"):
    query = args[args.index("--query") + 1]
    print("AzureCloud" if query == "name" else "https://graph.microsoft.com/")
elif cmd.startswith("ad sp show"):
    print(os.environ["FAKE_AZ_SP"])
elif cmd.startswith("rest"):
    method = args[args.index("--method") + 1]
    url = args[args.index("--url") + 1]
    if method == "get" and url.endswith("/organization"):
        print("fabrikam.onmicrosoft.com")
    elif method == "get" and "/permissions" not in url and "roleManagement" not in url:
        print("fabrikam.sharepoint.com,site-1,web-1")
else:
    sys.stderr.write("fake az: unexpected command %r\\n" % (args,))
    sys.exit(9)
"""


@pytest.fixture(scope="module")
def hostile_scoped(tmp_path_factory: pytest.TempPathFactory, demo_config) -> Path:  # type: ignore[no-untyped-def]
    data = demo_config.model_dump()
    app = data["home"]["apps"][1]
    app.update(display_name=NAME, description=DESCRIPTION, publisher=PUBLISHER)
    customer = data["customers"][1]
    customer.update(
        contact=CONTACT,
        site_permissions=[{"site": SITE, "role": "write", "why": WHY}],
        directory_roles=[
            {"role": "Directory Readers", "scope": f"/administrativeUnits/{AU}", "why": WHY}
        ],
        exchange_roles=[
            {"role": "Application Mail.Read", "recipient_filter": FILTER, "why": WHY},
            {"role": "Application Calendars.Read", "administrative_unit": AU},
        ],
    )
    config = Config.model_validate(data)
    from provisioning.core import clouds

    kit = build_kit(
        config, clouds.PUBLIC, "fabrikam", app_id=APP_IDS["m365"], home_identities=IDENTITIES
    )
    out = tmp_path_factory.mktemp("hostile-scoped")
    render_kit(kit, out)
    return out


def test_scoped_values_made_it_through_unchanged(hostile_scoped: Path) -> None:
    kit = load_kit(hostile_scoped / "kit.json")
    assert [p.site for p in kit.site_permissions] == [SITE]
    assert kit.site_permissions[0].ref.segments == ("sites", SITE_SEGMENT.replace("%27", "'"))
    assert kit.exchange_roles[1].recipient_filter == FILTER  # sorted by role
    assert kit.directory_roles[0].why == WHY
    assert {p.name for p in hostile_scoped.iterdir()} >= {
        "scoped-grants.sh",
        "scoped-grants.ps1",
        "exchange-rbac.ps1",
    }


def test_scoped_html_and_markdown_escape_everything(hostile_scoped: Path) -> None:
    text = (hostile_scoped / "index.html").read_text(encoding="utf-8")
    parsed = parse_html(text)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("script") == 1 and "b" not in tags and "img" not in tags
    assert "sites/Evil&#39;$(touch${IFS}PWNED5)" in text
    readme = (hostile_scoped / "README.md").read_text(encoding="utf-8")
    prose = _strip_markdown_code(readme)
    assert not re.search(r"(?<!\\)[<>&]", prose), re.search(r".{20}(?<!\\)[<>&].{20}", prose)
    assert f"`{SITE}`" in readme  # the site, as a code span (it holds no backtick run of 2)


def test_scoped_shell_script_quotes_everything(hostile_scoped: Path, tmp_path: Path) -> None:
    import os
    import stat

    script = hostile_scoped / "scoped-grants.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    proc = subprocess.run([SHELLCHECK, str(script)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout
    az = tmp_path / "fake-az"
    az.write_text(FAKE_GRAPH_AZ.format(python=sys.executable), encoding="utf-8")
    az.chmod(az.stat().st_mode | stat.S_IXUSR)
    log = tmp_path / "az.log"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AZ": str(az),
        "FAKE_AZ_LOG": str(log),
        "FAKE_AZ_SP": SP_OBJECT_ID,
    }
    run = subprocess.run(
        ["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    kit = load_kit(hostile_scoped / "kit.json")
    graph = "https://graph.microsoft.com/v1.0"
    urls = [c[c.index("--url") + 1] for c in calls if c[0] == "rest"]
    assert f"{graph}/{kit.site_permissions[0].ref.graph_path}" in urls  # escaped once, exactly
    [grant] = [
        c
        for c in calls
        if c[:1] == ["rest"]
        and c[c.index("--method") + 1] == "post"
        and c[c.index("--url") + 1].endswith("/permissions")
    ]
    body = json.loads(grant[grant.index("--body") + 1])
    assert body == {
        "roles": ["write"],
        "grantedToIdentities": [{"application": {"id": APP_IDS["m365"], "displayName": NAME}}],
    }
    [role] = [
        c
        for c in calls
        if c[:1] == ["rest"]
        and "roleAssignments" in c[c.index("--url") + 1]
        and c[c.index("--method") + 1] == "post"
    ]
    assert json.loads(role[role.index("--body") + 1]) == {
        "principalId": SP_OBJECT_ID,
        "roleDefinitionId": "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
        "directoryScopeId": f"/administrativeUnits/{AU}",
    }
    assert not list(tmp_path.rglob("PWNED*")) and not list(Path.cwd().glob("PWNED*"))


def test_scoped_snippets_are_valid_and_quote_everything(hostile_scoped: Path) -> None:
    from provisioning.kit.render import _context
    from provisioning.kit.scoped import SCOPED_SNIPPETS
    from provisioning.kit.templating import render as _render

    ctx = _context(load_kit(hostile_scoped / "kit.json"))
    for name in SCOPED_SNIPPETS:
        text = _render(f"kit/snippets/{name}.j2", **ctx)
        if name.endswith(".sh"):
            subprocess.run(["bash", "-n"], input=text, text=True, check=True)
            proc = subprocess.run(
                [SHELLCHECK, "-s", "bash", "-"], input=text, capture_output=True, text=True
            )
            assert proc.returncode == 0, (name, proc.stdout)
        else:
            _, code = ps_tokens(text)
            for marker in (*MARKERS, "PWNED"):
                assert marker not in code, (name, marker)


@pytest.mark.parametrize("name", ["scoped-grants.ps1", "exchange-rbac.ps1"])
def test_scoped_powershell_quotes_everything(hostile_scoped: Path, name: str) -> None:
    raw = (hostile_scoped / name).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Windows PowerShell 5.1 reads it as UTF-8
    literals, code = ps_tokens(raw.decode("utf-8-sig"))
    kit = load_kit(hostile_scoped / "kit.json")
    assert NAME in literals
    if name == "scoped-grants.ps1":
        assert SITE in literals and kit.site_permissions[0].ref.graph_path in literals
    else:
        assert FILTER in literals
        assert {x.assignment_name for x in kit.exchange_roles} <= set(literals)
        assert kit.exchange_roles[1].scope_name in literals
    for marker in (*MARKERS, "PWNED"):
        assert marker not in code, marker
    assert code.count("{") == code.count("}") and code.count("(") == code.count(")")
