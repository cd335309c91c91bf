"""What a no-op run costs, counted on the sandbox: one token per tenant and resource, one
read per object, and Graph read as JSON (msgraph's model tree is never imported on a read).

The runs go in a child process so that its ``sys.modules`` says what the run imported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_world import Home

from provisioning.kit.model import build_kit

pytestmark = pytest.mark.e2e

MODELS = (
    "msgraph.generated.models.application",
    "msgraph.generated.models.service_principal",
    "msgraph.generated.models.federated_identity_credential",
    "msgraph.generated.models.app_role_assignment",
    "msgraph.generated.models.organization",
)

CHILD = """
import json, os, sys
from pathlib import Path
from provisioning.config import load_config
from provisioning.core import clouds
from provisioning.core.runner import customer_plan, home_plan, load_customer_kit
cloud = clouds.load_cloud_file(os.environ["XTENANT_CLOUD"])
if sys.argv[1] == "home":
    out = home_plan(load_config(Path(sys.argv[2])), cloud)
else:
    kit, cloud = load_customer_kit(Path(sys.argv[2]), os.environ["XTENANT_CLOUD"])
    out = customer_plan(kit, cloud)
print(json.dumps({
    "ok": out.ok,
    "pending": [c.address for c in out.plan.pending],
    "models": sorted(m for m in sys.modules if m.startswith("msgraph.generated.models")),
}))
"""


def _child(home: Home, *args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *args],
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return dict(json.loads(proc.stdout.splitlines()[-1]))


@pytest.fixture()
def home(fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    return Home(fresh_sandbox, tmp_path, monkeypatch)


def test_noop_home_plan_one_token_per_resource_graph_as_json(home: Home) -> None:
    assert home.apply().ok
    mark = home.sb.mark()
    got = _child(home, "home", str(home.path))
    assert got["ok"] and got["pending"] == []
    stats = home.sb.stats(mark)
    # one ARM token (taken at sign-in, reused by the ARM clients) and one Graph token:
    # before, two concurrent Graph reads each asked for one (3 tokens)
    assert stats["token"] == 2, stats
    assert stats["read"] == 8 and stats["write"] == 0
    assert [m for m in MODELS if m in got["models"]] == []
    assert got["models"] == [], got["models"]  # not even the error models: no Graph error


def test_noop_customer_plan_one_token_per_resource_graph_as_json(
    home: Home, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provisioning.core.runner import customer_apply, home_state

    assert home.apply().ok
    state = home_state(home.loaded(), home.cloud)
    kit = build_kit(
        home.loaded().config,
        home.cloud,
        "litware",
        app_id=state.apps["logs"].app_id,
        home_identities=state.identity_ids(),
    )
    path = tmp_path / "kit.json"
    path.write_text(kit.dumps())
    for k, v in home.sb.env(admin="litware").items():
        monkeypatch.setenv(k, v)
    assert customer_apply(kit, home.cloud).ok
    mark = home.sb.mark()
    got = _child(home, "customer", str(path))
    assert got["ok"] and got["pending"] == [], got
    stats = home.sb.stats(mark)
    assert stats["token"] == 2, stats  # ARM (sign-in, reused) and Graph
    # the tenant's verified domains (the kit names litware by domain), our service
    # principal, the role assignment under its deterministic name
    assert stats["read"] == 3 and stats["write"] == 0, stats
    assert got["models"] == [], got["models"]


def test_graph_lists_are_read_page_after_page(home: Home) -> None:
    """``GraphReader.list`` follows ``@odata.nextLink`` to the last page."""
    import asyncio

    from provisioning.core.clients import Clients

    tid = home.sb.info["tenants"]["contoso"]["tenant_id"]
    everything = home.raw.graph("GET", "servicePrincipals", params={"$top": "999"}).json()
    assert "@odata.nextLink" not in everything
    want = sorted(sp["id"] for sp in everything["value"])
    assert len(want) > 2

    async def read() -> tuple[list[str], int]:
        clients = Clients.for_admin(home.cloud, tid)
        try:
            reader = clients.graph_reader
            first = f"{home.cloud.graph_v1}/servicePrincipals?$top=2"
            pages = await reader.list(clients.graph.service_principals.with_url(first))
            return sorted(sp["id"] for sp in pages), clients.credential.requests
        finally:
            await clients.close()

    mark = home.sb.mark()
    got, tokens = asyncio.run(read())
    assert got == want
    assert home.sb.stats(mark)["read"] == (len(want) + 1) // 2  # one GET per page of two
    assert tokens == 1
