"""Granted but not yet honoured, from the command line: with RBAC propagation on the sandbox,
``customer apply`` then ``verify --probe`` says "propagating, expected within ..." and exits 3,
and ``verify --wait`` goes green on its own once the grant is honoured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_world import REPO, customer_sent_values

pytestmark = pytest.mark.e2e

CREDENTIAL_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")
PROPAGATION_S = 20


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioning", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_verify_waits_for_a_propagating_role_assignment(fresh_sandbox: Any, tmp_path: Path) -> None:
    sb = fresh_sandbox
    state = str(Path(sb.info["cloud_file"]).parent)
    base = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    base.update(sb.env())
    base.update(customer_sent_values(sb.info))
    config = tmp_path / "xtenant.yaml"
    config.write_text((REPO / "examples" / "sandbox.yaml").read_text())

    def cli(admin: str | None, *args: str) -> subprocess.CompletedProcess[str]:
        return _run(list(args), {**base, **(sb.env(admin=admin) if admin else {})}, tmp_path)

    assert cli("contoso", "apply", "-c", str(config), "--yes").returncode == 0
    assert cli("contoso", "kit", "-c", str(config), "--out", "kits").returncode == 0
    sb.settings(rbac_propagation_s=PROPAGATION_S)
    applied = cli("litware", "customer", "apply", "--kit", "kits/litware/kit.json", "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "propagat" in applied.stdout and "30 min" in applied.stdout  # how long to expect

    verify = ["verify", "-c", str(config), "--customer", "litware", "--as", "vm-vector"]
    verify += ["--state", state, "--probe"]
    now = cli(None, *verify)
    assert now.returncode == 3, now.stdout + now.stderr
    assert "propagating, expected within 30 min" in now.stdout
    assert "missing" not in now.stdout.lower() and "FAILED" not in now.stdout

    waited = cli(None, *verify, "--wait", "2m", "--poll", "2")
    assert waited.returncode == 0, waited.stdout + waited.stderr
    assert "waiting (" in waited.stderr and "probe:logs: propagating" in waited.stderr
    assert "verify: all steps ok" in waited.stdout

    bad = cli(None, *verify, "--wait", "soon")
    assert bad.returncode == 1 and "--wait" in bad.stderr and "Traceback" not in bad.stderr
