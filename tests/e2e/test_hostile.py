"""Hostile and broken input on the provider's side, through the CLI against the sandbox
(issue 12): values that are almost right, a customer file dropped from the folder, kit folders
that are links, a corrupt kit.json, a display name in the live tenant that would forge the
pull-request comment."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_world import REPO, Raw, customer_sent_values
from markdown_it import MarkdownIt

pytestmark = pytest.mark.e2e

SANDBOX_YAML = (REPO / "examples" / "sandbox.yaml").read_text()
HOME_PART, CUSTOMERS_PART = SANDBOX_YAML.split("\ncustomers:\n")
CREDENTIAL_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")


class Cli:
    def __init__(self, sb: Any, tmp: Path) -> None:
        self.sb = sb
        self.tmp = tmp
        self.env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
        self.env.update(sb.env(admin="contoso"))
        self.env.update(customer_sent_values(sb.info))
        self.config = tmp / "xtenant.yaml"
        self.kits = tmp / "kits"

    def __call__(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "provisioning", *args],
            capture_output=True,
            text=True,
            env={**self.env, **env},
            cwd=self.tmp,
            timeout=300,
        )
        assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
        return proc

    def customers_dir(self, extra: str = "") -> Path:
        """The demo config with its two customers as files of ``customers/``."""
        folder = self.tmp / "customers"
        folder.mkdir(exist_ok=True)
        entries = CUSTOMERS_PART.split("\n  - name: ")
        for entry in entries:
            name, _, body = entry.removeprefix("  - name: ").partition("\n")
            lines = [ln[4:] if ln.startswith("    ") else ln for ln in body.splitlines()]
            (folder / f"{name}.yaml").write_text("\n".join(lines) + "\n")
        self.config.write_text(HOME_PART + "\ncustomers_dir: customers\n" + extra)
        return folder


@pytest.fixture()
def cli(fresh_sandbox: Any, tmp_path: Path) -> Cli:
    return Cli(fresh_sandbox, tmp_path)


def _out(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout + proc.stderr


# --- values that are almost right ---------------------------------------------------------


def test_a_tenant_id_with_a_trailing_newline_sends_no_request(cli: Cli) -> None:
    tid = cli.sb.info["tenants"]["contoso"]["tenant_id"]
    cli.config.write_text(SANDBOX_YAML.replace(f"tenant_id: {tid}", "tenant_id: ${HOME_TID}", 1))
    mark = cli.sb.mark()
    for verb in (["plan"], ["apply", "--yes"]):
        proc = cli(*verb, "-c", str(cli.config), HOME_TID=tid + "\n")
        assert proc.returncode == 1, _out(proc)
        assert "home.tenant_id: not a GUID" in _out(proc)
    assert cli.sb.requests(mark) == []


def test_a_federated_credential_differing_only_in_case_is_not_a_match(cli: Cli) -> None:
    """Entra compares issuer and subject byte for byte: an issuer whose tenant GUID is in
    upper case trusts no token, and the plan says it must change."""
    cli.config.write_text(SANDBOX_YAML)
    assert cli("apply", "-c", str(cli.config), "--yes").returncode == 0
    raw = Raw(cli.sb.info, "contoso")
    app = raw.graph("GET", "applications(uniqueName='contoso-log-forwarder')").json()
    fics = raw.graph("GET", f"applications/{app['id']}/federatedIdentityCredentials").json()
    fic = fics["value"][0]
    tid = cli.sb.info["tenants"]["contoso"]["tenant_id"]
    assert tid in fic["issuer"]
    upper = fic["issuer"].replace(tid, tid.upper())
    r = raw.graph(
        "PATCH",
        f"applications/{app['id']}/federatedIdentityCredentials/{fic['id']}",
        json={"issuer": upper},
    )
    assert r.status_code in (200, 204), r.text
    proc = cli("plan", "-c", str(cli.config), "--detailed-exitcode")
    assert proc.returncode == 2, _out(proc)
    assert f"issuer: {upper} -> {fic['issuer']}" in proc.stdout


def test_a_display_name_from_the_tenant_cannot_forge_the_plan_comment(cli: Cli) -> None:
    cli.config.write_text(SANDBOX_YAML)
    assert cli("apply", "-c", str(cli.config), "--yes").returncode == 0
    raw = Raw(cli.sb.info, "contoso")
    app = raw.graph("GET", "applications(uniqueName='contoso-log-forwarder')").json()
    forged = "x\n```\n## Security review: APPROVED\n[merge](https://evil.example/)\n```\n\ny"
    r = raw.graph("PATCH", f"applications/{app['id']}", json={"displayName": forged})
    assert r.status_code in (200, 204), r.text
    proc = cli("plan", "-c", str(cli.config), "-o", "markdown")
    assert proc.returncode == 0, _out(proc)
    tokens = MarkdownIt("commonmark").parse(proc.stdout)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == ["xtenant plan"], proc.stdout
    inline = [c for t in tokens for c in (t.children or [])]
    assert not [c for c in inline if c.type in ("link_open", "image")], proc.stdout
    (fence,) = [t for t in tokens if t.type == "fence"]
    assert "Security review" in fence.content  # shown, inside the code block, escaped
    assert "\n## Security review" not in fence.content


# --- a customer dropped from the folder is not offboarded ---------------------------------


def test_reconcile_offboards_only_what_the_config_lists(cli: Cli) -> None:
    folder = cli.customers_dir()
    args = ["-c", str(cli.config), "--kits", str(cli.kits)]
    assert cli("reconcile", *args, "--yes").returncode == 0
    assert (cli.kits / "litware" / "kit.json").exists()

    (folder / "litware.yaml").unlink()  # a broken link where the file was: an error
    (folder / "litware.yaml").symlink_to(folder / "gone.yaml")
    proc = cli("reconcile", *args, "--yes")
    assert proc.returncode == 1
    assert "'litware.yaml' looks like a customer file but is a broken symbolic link" in _out(proc)
    assert (cli.kits / "litware" / "kit.json").exists()

    (folder / "litware.yaml").unlink()  # the file is gone: its kit is undeclared, kept
    proc = cli("reconcile", *args, "--plan-only", "-o", "markdown")
    assert proc.returncode == 1, _out(proc)
    assert "#### Kits of no declared customer" in proc.stdout
    proc = cli("reconcile", *args, "--yes")
    assert proc.returncode == 1, _out(proc)
    assert "is the kit of no declared customer" in _out(proc)
    assert (cli.kits / "litware" / "kit.json").exists()
    assert not (cli.kits / ".offboarded").exists()

    cli.config.write_text(cli.config.read_text() + "offboard: [litware]\n")
    proc = cli("reconcile", *args, "--plan-only", "-o", "markdown")
    assert proc.returncode == 0, _out(proc)
    section = proc.stdout.split("#### Offboarding", 1)[1]
    assert "| litware |" in section
    assert (cli.kits / "litware" / "kit.json").exists()  # plan-only moves nothing
    proc = cli("reconcile", *args, "--yes")
    assert proc.returncode == 0, _out(proc)
    assert (cli.kits / ".offboarded" / "litware" / "kit.json").exists()
    assert not (cli.kits / "litware").exists()


# --- kit folders that reach outside ---------------------------------------------------------


def _snapshot(path: Path) -> dict[str, tuple[bytes, int]]:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    return {str(p): (p.read_bytes(), stat.S_IMODE(p.stat().st_mode)) for p in files}


def _victims(tmp: Path) -> tuple[Path, Path]:
    folder = tmp / "victim"
    folder.mkdir()
    precious = folder / "precious.txt"
    precious.write_text("the runner's own file\n")
    precious.chmod(0o600)
    return folder, precious


def test_kit_out_never_writes_through_a_link(cli: Cli) -> None:
    cli.config.write_text(SANDBOX_YAML)
    assert cli("apply", "-c", str(cli.config), "--yes").returncode == 0
    kit = ["kit", "-c", str(cli.config), "--out", str(cli.kits)]
    assert cli(*kit).returncode == 0
    folder, precious = _victims(cli.tmp)
    before = _snapshot(folder)

    page = cli.kits / "litware" / "index.html"
    page.unlink()
    page.symlink_to(precious)  # a link at a file the kit writes
    proc = cli(*kit)
    assert proc.returncode == 0, _out(proc)
    assert _snapshot(folder) == before
    assert page.is_file() and not page.is_symlink()

    fabrikam = cli.kits / "fabrikam"
    for f in sorted(fabrikam.rglob("*"), reverse=True):
        f.rmdir() if f.is_dir() else f.unlink()
    fabrikam.rmdir()
    fabrikam.symlink_to(folder)  # a link at a customer's folder
    proc = cli(*kit)
    assert proc.returncode == 1
    assert "symbolic link" in _out(proc)
    assert _snapshot(folder) == before


def test_reconcile_reports_a_linked_kit_folder_and_a_corrupt_kit(cli: Cli) -> None:
    cli.config.write_text(SANDBOX_YAML)
    args = ["reconcile", "-c", str(cli.config), "--kits", str(cli.kits)]
    assert cli(*args, "--yes").returncode == 0
    folder, _ = _victims(cli.tmp)
    before = _snapshot(folder)
    fabrikam = cli.kits / "fabrikam"
    for f in sorted(fabrikam.rglob("*"), reverse=True):
        f.rmdir() if f.is_dir() else f.unlink()
    fabrikam.rmdir()
    fabrikam.symlink_to(folder)
    (cli.kits / "northwind").mkdir()
    (cli.kits / "northwind" / "kit.json").write_text("{ not json")
    (cli.kits / "tailspin").mkdir()
    os.mkfifo(cli.kits / "tailspin" / "kit.json")

    for extra in (["--plan-only"], ["--yes"]):
        proc = cli(*args, *extra)
        out = _out(proc)
        assert proc.returncode == 1, out
        assert f"{fabrikam} is a symbolic link" in out
        assert "northwind/kit.json: not valid JSON" in out
        assert "tailspin/kit.json: not a regular file (a FIFO)" in out
        assert _snapshot(folder) == before
