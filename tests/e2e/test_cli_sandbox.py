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


def test_a_restart_on_the_same_state_keeps_its_ports(tmp_path: Path) -> None:
    """Issuers (``https://127.0.0.1:{port}/{tenant}/v2.0``) are named by federated credentials
    and kits: a restart must not move them."""
    from provisioning.sandbox import Sandbox

    state = tmp_path / "sbx"
    first = Sandbox.start(state, seed="empty")
    urls = {k: first.info[k] for k in ("authority", "arm", "graph", "monitor", "identity")}
    first.stop()
    second = Sandbox.start(state, seed="empty")
    try:
        assert {k: second.info[k] for k in urls} == urls
    finally:
        second.stop()


def test_a_second_up_on_a_running_state_refuses_with_the_pid(tmp_path: Path) -> None:
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
        again = subprocess.run(
            [*XTENANT, "sandbox", "up", "--state", str(state)], capture_output=True, text=True
        )
        assert again.returncode == 1
        assert f"already running on {state} (pid {up.pid})" in again.stderr
        assert "Traceback" not in again.stderr
        assert up.poll() is None  # the first one is untouched
    finally:
        up.terminate()
        up.wait(timeout=10)


def test_tenants_added_through_the_control_api_are_in_sandbox_json_at_once(
    tmp_path: Path,
) -> None:
    import httpx

    from provisioning.sandbox import Sandbox

    state = tmp_path / "sbx"
    sb = Sandbox.start(state, seed="empty")
    try:
        r = httpx.post(
            f"{sb.info['control']}/tenants",
            json={"names": ["northwind"], "kind": "logs"},
            verify=sb.info["ca_bundle"],
        )
        assert r.status_code == 201
        on_disk = json.loads((state / "sandbox.json").read_text())
        assert on_disk["tenants"]["northwind"]["tenant_id"] == r.json()["created"][0]
        env = subprocess.run(
            [*XTENANT, "sandbox", "env", "--state", str(state), "--admin", "northwind"],
            capture_output=True,
            text=True,
        )
        assert env.returncode == 0, env.stderr
        assert f"AZURE_TENANT_ID={r.json()['created'][0]}" in env.stdout
    finally:
        sb.stop()
