"""``xtenant sandbox up`` / ``stop``, as a user runs them from two shells."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e
XTENANT = [sys.executable, "-m", "provisioning"]


def test_sandbox_stop_ends_the_foreground_sandbox(tmp_path: Path) -> None:
    state = tmp_path / "sbx"
    up = subprocess.Popen(
        [*XTENANT, "sandbox", "up", "--state", str(state), "--seed", "empty"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not (state / "sandbox.json").exists():
            assert up.poll() is None and time.monotonic() < deadline, "sandbox did not start"
            time.sleep(0.2)
        assert json.loads((state / "sandbox.json").read_text())["pid"] == up.pid
        stop = subprocess.run(
            [*XTENANT, "sandbox", "stop", "--state", str(state)], capture_output=True, text=True
        )
        assert stop.returncode == 0, stop.stderr
        assert f"pid {up.pid}" in stop.stdout
        assert up.wait(timeout=10) == 0
        again = subprocess.run(
            [*XTENANT, "sandbox", "stop", "--state", str(state)], capture_output=True, text=True
        )
        assert again.returncode == 0 and "no sandbox is running" in again.stdout
    finally:
        if up.poll() is None:
            up.kill()
            up.wait()


def test_sandbox_stop_leaves_a_sandbox_inside_another_process_alone(sandbox: Any) -> None:
    """The session's sandbox runs inside this test process, whose pid its sandbox.json
    records: stop must not signal it."""
    state = Path(sandbox.info["cloud_file"]).parent
    stop = subprocess.run(
        [*XTENANT, "sandbox", "stop", "--state", str(state)], capture_output=True, text=True
    )
    assert stop.returncode == 0 and "no sandbox is running" in stop.stdout, stop.stderr
    assert sandbox.mark() >= 0  # still serving
