"""The command line end to end, as a user runs it: separate processes, environment only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_world import REPO, customer_sent_values

pytestmark = pytest.mark.e2e
ADMIN = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioning", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_the_whole_chain_through_the_cli(fresh_sandbox: Any, tmp_path: Path) -> None:
    sb = fresh_sandbox
    base = {k: v for k, v in os.environ.items() if k not in ADMIN}
    base.update(sb.env())
    base.update(customer_sent_values(sb.info))
    config = str(REPO / "examples" / "sandbox.yaml")
    contoso = {**base, **sb.env(admin="contoso")}

    plan = _run(["plan", "-c", config, "--detailed-exitcode", "-o", "json"], contoso, tmp_path)
    assert plan.returncode == 2, plan.stderr
    assert json.loads(plan.stdout)["summary"]["create"] == 6

    refused = _run(["apply", "-c", config], contoso, tmp_path)  # no TTY, no --yes
    assert refused.returncode == 1 and "--yes" in refused.stderr

    applied = _run(["apply", "-c", config, "--yes", "-o", "json"], contoso, tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert len(json.loads(applied.stdout)["applied"]) == 8
    assert _run(["plan", "-c", config, "--detailed-exitcode"], contoso, tmp_path).returncode == 0

    kits = tmp_path / "kits"
    kit = _run(["kit", "-c", config, "--out", str(kits)], contoso, tmp_path)
    assert kit.returncode == 0, kit.stderr
    assert (kits / "litware" / "kit.json").exists() and (kits / "landing" / "index.html").exists()

    litware = {**base, **sb.env(admin="litware")}
    kit_json = str(kits / "litware" / "kit.json")
    cplan = _run(
        ["customer", "plan", "--kit", kit_json, "--detailed-exitcode", "-o", "json"],
        litware,
        tmp_path,
    )
    assert cplan.returncode == 2, cplan.stderr
    assert {c["kind"] for c in json.loads(cplan.stdout)["changes"]} == {
        "service principal",
        "role assignment",
    }
    capply = _run(["customer", "apply", "--kit", kit_json, "--yes"], litware, tmp_path)
    assert capply.returncode == 0, capply.stderr

    state = str(Path(sb.info["cloud_file"]).parent)
    ok = _run(
        [
            "verify",
            "-c",
            config,
            "--customer",
            "litware",
            "--probe",
            "--as",
            "vm-vector",
            "--state",
            state,
            "--kits",
            str(kits),
            "-o",
            "json",
        ],
        base,
        tmp_path,
    )
    assert ok.returncode == 0, ok.stdout[-2000:]
    bad = _run(
        [
            "verify",
            "-c",
            config,
            "--customer",
            "fabrikam",
            "--as",
            "aa-runbooks",
            "--state",
            state,
            "--kits",
            str(kits),
        ],
        base,
        tmp_path,
    )
    assert bad.returncode == 3  # fabrikam never consented (and no identity was chosen)
    assert "AADSTS" in bad.stdout or "MI_WRONG_IDENTITY" in bad.stdout

    status = _run(["status", "-c", config, "--kits", str(kits), "-o", "json"], contoso, tmp_path)
    assert status.returncode == 0, status.stderr
    assert {c["name"]: c["kit"] for c in json.loads(status.stdout)["customers"]} == {
        "fabrikam": "current",
        "litware": "current",
    }

    removed = _run(["customer", "remove", "--kit", kit_json, "--yes"], litware, tmp_path)
    assert removed.returncode == 0, removed.stderr
    again = _run(["customer", "plan", "--kit", kit_json, "--detailed-exitcode"], litware, tmp_path)
    assert again.returncode == 2  # everything is to be granted again
