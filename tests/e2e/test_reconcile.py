"""Reconcile from CI on a 50-customer sandbox world (issue 7)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e2e_world import REPO, Raw, pipeline_identity

from provisioning.config import load_config
from provisioning.core import clouds
from provisioning.reconcile import Report, in_shard, merge, reconcile

pytestmark = pytest.mark.e2e
N = 50
MMP = "3913510d-42f4-4e42-8a64-420c390055eb"


def _config(sb: Any, names: list[str]) -> str:
    home = (REPO / "examples" / "sandbox.yaml").read_text().split("\ncustomers")[0] + "\n"
    out = [home, "customers:\n"]
    for n in names:
        t = sb.info["tenants"][n]
        out.append(f"""  - name: {n}
    tenant: {t["domain"]}
    app: logs
    customer_side: managed
    roles:
      - role: Monitoring Metrics Publisher
        scope: {t["resources"]["dcr"]}
""")
    return "".join(out)


class World:
    def __init__(self, sb: Any, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sb = sb
        self.names = [f"c{i:02d}" for i in range(N)]
        sb.add_tenants(self.names, kind="logs")
        pipeline = pipeline_identity(sb, self.names)
        for k, v in sb.env().items():
            monkeypatch.setenv(k, v)
        monkeypatch.setenv("AZURE_TENANT_ID", sb.info["tenants"]["contoso"]["tenant_id"])
        monkeypatch.setenv("AZURE_CLIENT_ID", pipeline["client_id"])
        monkeypatch.setenv("AZURE_CLIENT_SECRET", pipeline["client_secret"])
        self.path = tmp / "xtenant.yaml"
        self.path.write_text(_config(sb, self.names))
        self.kits = tmp / "kits"
        self.cloud = clouds.load_cloud_file(sb.info["cloud_file"])

    def run(self, **kw: Any) -> Report:
        return reconcile(load_config(self.path), self.cloud, kits=self.kits, **kw)


@pytest.fixture()
def world(fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    return World(fresh_sandbox, tmp_path, monkeypatch)


def test_fifty_customers_from_empty_to_healthy_then_noop_then_drift(world: World) -> None:
    first = world.run(plan_only=False)
    assert first.ok, (first.errors, [c.errors for c in first.customers if c.errors][:3])
    assert len(first.customers) == N
    assert {c.kit for c in first.customers} == {"written"}
    assert all(c.consent == "yes" and c.roles == "ok" for c in first.customers)

    mark = world.sb.mark()
    again = world.run(plan_only=False)
    assert again.ok and not again.has_changes
    assert {c.next for c in again.customers} == {"healthy"}
    assert world.sb.writes(mark) == []  # a no-op reconcile only reads
    stats = world.sb.stats(mark)
    per_customer = stats["read"] / N
    assert per_customer < 6, stats  # linear with a small constant (measured in benchmarks)

    drifted = world.names[3:8]
    for n in drifted:  # each customer's admin removes the role behind our back
        raw = Raw(world.sb.info, n)
        scope = world.sb.info["tenants"][n]["resources"]["dcr"]
        listed = raw.arm(
            "GET", f"{scope}/providers/Microsoft.Authorization/roleAssignments", "2022-04-01"
        ).json()
        for a in listed["value"]:
            if a["properties"]["roleDefinitionId"].endswith(MMP):
                assert raw.arm("DELETE", a["id"], "2022-04-01").status_code == 200
    plan = world.run(plan_only=True)
    assert plan.ok
    assert sorted(c.name for c in plan.customers if c.changes) == drifted
    assert all(
        c.next == "apply the customer-side changes (reconcile --yes)"
        for c in plan.customers
        if c.name in drifted
    )


def test_shards_cover_every_customer_once_and_merge(world: World, tmp_path: Path) -> None:
    world.run(plan_only=False)
    reports = []
    for i in (1, 2, 3):
        r = world.run(plan_only=True, shard=(i, 3))
        assert (r.home is not None) == (i == 1)  # only shard 1 owns the shared home side
        reports.append(r)
    names = [c.name for r in reports for c in r.customers]
    assert sorted(names) == sorted(world.names) and len(names) == len(set(names))
    for r in reports:
        i = int(r.shard.split("/")[0])
        assert all(in_shard(c.name, (i, 3)) for c in r.customers)
    files = []
    for k, r in enumerate(reports):
        f = tmp_path / f"report-{k}.json"
        f.write_text(json.dumps(r.to_json()))
        files.append(str(f))
    merged = merge([Report.from_json(json.loads(Path(f).read_text())) for f in files])
    assert [c.name for c in merged.customers] == sorted(world.names)
    out = subprocess.run(
        [sys.executable, "-m", "provisioning", "status", "--merge", *files, "-o", "json"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert out.returncode == 0, out.stderr
    assert [c["name"] for c in json.loads(out.stdout)["customers"]] == sorted(world.names)


def test_offboarding_keeps_flagging_until_consent_is_gone(world: World) -> None:
    assert world.run(plan_only=False).ok
    gone = world.names[0]
    text = world.path.read_text()
    start = text.index(f"  - name: {gone}\n")
    end = text.index("  - name: ", start + 1)
    # removed AND listed under offboard: (a customer merely missing is never offboarded)
    world.path.write_text(text[:start] + text[end:] + f"offboard: [{gone}]\n")
    plan = world.run(plan_only=True)
    assert [c.name for c in plan.offboarded] == [gone]
    assert "enterprise app" in plan.offboarded[0].next
    assert (world.kits / gone).exists()  # plan-only moves nothing
    applied = world.run(plan_only=False)
    assert [c.name for c in applied.offboarded] == [gone]
    assert (
        not (world.kits / gone).exists()
        and (world.kits / ".offboarded" / gone / "kit.json").exists()
    )
    assert [c.name for c in world.run(plan_only=True).offboarded] == [gone]  # still flagged


def test_status_live_takes_consent_and_grants_from_verify(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On the VM: litware consented with its role → healthy; fabrikam (another host's
    identity) stays unknown; then litware's role is removed → status names it."""
    from e2e_world import Home

    from provisioning.chain.verify import verify
    from provisioning.core.runner import Options, customer_apply
    from provisioning.status import fold_verify

    home = Home(fresh_sandbox, tmp_path, monkeypatch)
    assert home.apply().ok
    kits = tmp_path / "kits"
    loaded = home.loaded()
    first = reconcile(loaded, home.cloud, kits=kits, plan_only=False)
    assert first.ok
    from provisioning.kit.model import load_kit

    spec = load_kit(kits / "litware" / "kit.json")
    for k, v in fresh_sandbox.env(admin="litware").items():
        monkeypatch.setenv(k, v)
    assert customer_apply(spec, home.cloud, Options()).ok
    for k in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(k, raising=False)
    for k, v in fresh_sandbox.env(host="vm-vector").items():
        monkeypatch.setenv(k, v)
    app_ids = {"logs": spec.app_id}
    checked = verify(
        loaded, home.cloud, probe=True, app_ids=app_ids, host="vm-vector", kit_dir=str(kits)
    )
    fold_verify(first, checked, at="2026-11-24T12:00:00Z")
    rows = {c.name: c for c in first.customers}
    assert (rows["litware"].consent, rows["litware"].roles, rows["litware"].next) == (
        "yes",
        "ok",
        "healthy",
    )
    assert rows["litware"].verified_at == "2026-11-24T12:00:00Z"
    assert rows["fabrikam"].consent == "unknown"
