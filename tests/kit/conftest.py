"""Shared fixtures of the kit tests: the demo configuration, fixed fake ids, a fake az."""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from provisioning.config import Config, load_config
from provisioning.core import clouds

REPO = Path(__file__).resolve().parents[2]
SANDBOX_YAML = REPO / "examples" / "sandbox.yaml"

# Fixed fake ids: the golden files depend on them.
APP_IDS = {
    "logs": "0a1b2c3d-0000-4000-8000-00000000a001",
    "m365": "0a1b2c3d-0000-4000-8000-00000000a002",
}
IDENTITIES = {
    "umi-vector": {
        "client_id": "0a1b2c3d-0000-4000-8000-0000000c0001",
        "principal_id": "0a1b2c3d-0000-4000-8000-0000000b0001",
        "resource_id": "/subscriptions/8f3c2a10-4d5e-4f60-9a7b-0c0270500a01/resourceGroups/"
        "rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/umi-vector",
    },
    "umi-runbooks": {
        "client_id": "0a1b2c3d-0000-4000-8000-0000000c0002",
        "principal_id": "0a1b2c3d-0000-4000-8000-0000000b0002",
        "resource_id": "/subscriptions/8f3c2a10-4d5e-4f60-9a7b-0c0270500a01/resourceGroups/"
        "rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/umi-runbooks",
    },
}
SP_OBJECT_ID = "0a1b2c3d-0000-4000-8000-0000000d0001"


@pytest.fixture(scope="session")
def demo_config() -> Config:
    return load_config(SANDBOX_YAML).config


@pytest.fixture(scope="session")
def public() -> clouds.Cloud:
    return clouds.PUBLIC


FAKE_AZ = """#!{python}
# A stand-in for the az CLI: logs its arguments (one JSON list per line) and answers the
# few commands assign-roles.sh runs, as told by FAKE_AZ_* environment variables.
import json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_AZ_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
cmd = " ".join(a for a in args[:3] if not a.startswith("-"))
if cmd.startswith("account show"):
    print(os.environ.get("FAKE_AZ_TENANT", "5b1d7e20-6c3f-4a81-8b92-117a3e000002"))
elif cmd.startswith("ad sp show"):
    sp = os.environ.get("FAKE_AZ_SP", "")
    if not sp:
        sys.stderr.write("ERROR: Service principal '%s' doesn't exist\\n" % args[args.index("--id") + 1])
        sys.exit(3)
    print(sp)
elif cmd.startswith("cloud show"):
    query = args[args.index("--query") + 1]
    print("AzureCloud" if query == "name" else "https://graph.microsoft.com/")
elif cmd.startswith("rest"):
    print(os.environ.get("FAKE_AZ_DOMAINS", "litware.onmicrosoft.com\\nfabrikam.onmicrosoft.com"))
elif cmd.startswith("role assignment list"):
    query = args[args.index("--query") + 1]
    if "name==" in query:  # the principal of the assignment under the kit's name, if any
        named = os.environ.get("FAKE_AZ_NAMED", "")
        if named:
            print(named)
    else:
        existing = os.environ.get("FAKE_AZ_EXISTING", "")
        if existing:
            print(existing)
elif cmd.startswith("role assignment delete"):
    pass
elif cmd.startswith("role assignment create"):
    err = os.environ.get("FAKE_AZ_CREATE_ERROR", "")
    if err:
        sys.stderr.write(err + "\\n")
        sys.exit(1)
else:
    sys.stderr.write("fake az: unexpected command %r\\n" % (args,))
    sys.exit(9)
"""


@pytest.fixture()
def fake_az(tmp_path: Path) -> Callable[..., Any]:
    """Run a rendered assign-roles.sh with a fake az; returns (process, logged argv lists)."""
    import subprocess

    az = tmp_path / "fake-az"
    az.write_text(FAKE_AZ.format(python=sys.executable), encoding="utf-8")
    az.chmod(az.stat().st_mode | stat.S_IXUSR)

    def run(script: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
        log = tmp_path / "az.log"
        log.write_text("", encoding="utf-8")
        full_env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "AZ": str(az),
            "FAKE_AZ_LOG": str(log),
            "FAKE_AZ_SP": SP_OBJECT_ID,
            "RETRY_SECONDS": "0",
            **env,
        }
        proc = subprocess.run(
            ["bash", str(script)],
            cwd=tmp_path,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        calls = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
        return proc, calls

    return run
