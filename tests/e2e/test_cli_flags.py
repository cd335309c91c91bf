"""Global options anywhere on the command line (issue 17): ``xtenant plan -c FILE -v`` and
``xtenant plan --cloud X`` work as ``xtenant -v plan`` does; ``-v`` says what xtenant does,
the SDKs' HTTP logs come only with ``--debug`` (and never carry a secret or a token)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_world import REPO, customer_sent_values

pytestmark = pytest.mark.e2e
CONFIG = str(REPO / "examples" / "sandbox.yaml")
# A log line of a logger other than xtenant's own (azure.*, msal.*, httpx, kiota_*, ...).
SDK_LINE = re.compile(r"^(?:DEBUG|INFO|WARNING) (?!xtenant\b)[\w.]+: ", re.M)


def _env(sb: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AZURE_")}
    env.update(sb.env(admin="contoso"))
    env.update(customer_sent_values(sb.info))
    # A cloud that cannot be loaded: only a --cloud given on the command line can win.
    env["XTENANT_CLOUD"] = str(REPO / "no-such-cloud.json")
    return env


def _xtenant(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioning", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_global_options_after_the_command(sandbox: Any, tmp_path: Path) -> None:
    env, cloud = _env(sandbox), sandbox.info["cloud_file"]

    # the environment's cloud is unusable: without --cloud the plan stops before any request
    bad = _xtenant(["plan", "-c", CONFIG], env, tmp_path)
    assert bad.returncode == 1 and "--cloud: " in bad.stderr, bad.stderr

    after = _xtenant(["plan", "-c", CONFIG, "-v", "--cloud", cloud], env, tmp_path)
    assert after.returncode == 0, after.stderr
    assert "No such option" not in after.stderr
    assert "INFO xtenant: observing home.app[logs]" in after.stderr
    assert not SDK_LINE.findall(after.stderr), after.stderr[:2000]

    before = _xtenant(["-v", "--cloud", cloud, "plan", "-c", CONFIG], env, tmp_path)
    assert before.returncode == 0, before.stderr
    assert "INFO xtenant: observing home.app[logs]" in before.stderr

    quiet = _xtenant(["plan", "-c", CONFIG, "--cloud", cloud], env, tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr[:2000]


def test_debug_shows_the_sdk_http_logs_without_secrets(sandbox: Any, tmp_path: Path) -> None:
    env, cloud = _env(sandbox), sandbox.info["cloud_file"]
    debug = _xtenant(["plan", "-c", CONFIG, "--debug", "--cloud", cloud], env, tmp_path)
    assert debug.returncode == 0, debug.stderr[-2000:]
    assert "azure.core.pipeline.policies.http_logging_policy: Request URL" in debug.stderr
    assert SDK_LINE.findall(debug.stderr)  # what test_global_options_after_the_command rules out
    assert env["AZURE_CLIENT_SECRET"] not in debug.stderr
    assert not re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}", debug.stderr)  # no JWT, not even part
