"""Scoped grants end to end on the sandbox, real SDKs: a SharePoint site permission
(Sites.Selected) and a Microsoft Entra directory role, from the configuration through the
kit and ``customer apply`` to the runbook host that reads the granted site, and back out
with ``customer remove``. Exchange Online application roles are PowerShell only: the kit's
commands are tested in ``tests/kit``; here, that ``customer plan|apply`` say so."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from test_customer import Onboarding, _sps
from test_trust import World

from provisioning.chain import CrossTenantCredential
from provisioning.core.plan import Action

pytestmark = pytest.mark.e2e

SITE = "https://fabrikam.sharepoint.com/sites/Marketing"
SITE_PATH = "sites/fabrikam.sharepoint.com:/sites/Marketing"
DIRECTORY_READERS = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
ADDR_SITE = "customer[fabrikam].site[Marketing]"
ADDR_ROLE = "customer[fabrikam].directory_role[Directory Readers @ tenant]"
EXCHANGE = """    exchange_roles:
      - role: Application Mail.Read
        recipient_filter: "CustomAttribute1 -eq 'reports'"
        why: read the reports mailbox
"""


@pytest.fixture()
def onboarding(fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Onboarding:
    return Onboarding(fresh_sandbox, tmp_path, monkeypatch)


def _site_grants(raw: Any, app_id: str) -> list[dict[str, Any]]:
    site = raw.graph("GET", SITE_PATH).json()["id"]
    perms = raw.graph("GET", f"sites/{site}/permissions").json()["value"]
    return [
        p
        for p in perms
        if any(i["application"]["id"] == app_id for i in p.get("grantedToIdentitiesV2") or [])
    ]


def _directory_roles(raw: Any, sp: str) -> list[dict[str, Any]]:
    r = raw.graph(
        "GET",
        "roleManagement/directory/roleAssignments",
        params={"$filter": f"principalId eq '{sp}'"},
    )
    assert r.status_code == 200, r.text
    return r.json()["value"]


def test_plan_apply_read_the_site_noop_remove(
    onboarding: Onboarding, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = onboarding.spec("fabrikam")
    assert [p.site for p in spec.site_permissions] == [SITE]
    raw = onboarding.as_admin("fabrikam")

    mark = onboarding.sb.mark()
    planned = onboarding.plan(spec)
    assert planned.ok, planned.failures
    assert onboarding.sb.writes(mark) == []
    pending = {c.address: c for c in planned.plan.pending}
    assert pending[ADDR_SITE].action is Action.CREATE
    assert {f.field: f.after for f in pending[ADDR_SITE].fields}["role"] == "read"
    assert pending[ADDR_ROLE].action is Action.CREATE
    assert pending[ADDR_ROLE].privileged is None  # Directory Readers is not privileged

    out = onboarding.apply(spec)
    assert out.ok, out.failures
    sp = _sps(raw, spec.app_id)[0]["id"]
    grants = _site_grants(raw, spec.app_id)
    assert [g["roles"] for g in grants] == [["read"]]
    assigned = _directory_roles(raw, sp)
    assert [(a["roleDefinitionId"], a["directoryScopeId"]) for a in assigned] == [
        (DIRECTORY_READERS, "/")
    ]

    mark = onboarding.sb.mark()
    again = onboarding.apply(spec)
    assert again.ok and again.applied == []
    assert onboarding.sb.writes(mark) == []

    # the runbook host, secret-less: reads the granted site, is refused another
    for k in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(k, raising=False)
    for k, v in onboarding.sb.env(host="aa-runbooks").items():
        monkeypatch.setenv(k, v)
    cloud = onboarding.home.cloud
    cred = CrossTenantCredential(
        spec.app_id,
        spec.customer.tenant,
        cloud=cloud,
        managed_identity=onboarding.identities["umi-runbooks"]["client_id"],
    )
    token = cred.get_token(cloud.graph_scope).token
    with httpx.Client(verify=cloud.ca_bundle, headers={"Authorization": f"Bearer {token}"}) as h:
        assert h.get(f"{cloud.graph_v1}/{SITE_PATH}").status_code == 200
        finance = h.get(f"{cloud.graph_v1}/sites/fabrikam.sharepoint.com:/sites/Finance")
        assert finance.status_code == 403 and finance.json()["error"]["code"] == "accessDenied"
        assert h.get(f"{cloud.graph_v1}/organization").status_code == 200  # Directory Readers
    for k, v in onboarding.sb.env(admin="fabrikam").items():
        monkeypatch.setenv(k, v)

    mark = onboarding.sb.mark()
    gone = onboarding.apply(spec, remove=True)
    assert gone.ok, gone.failures
    assert _site_grants(raw, spec.app_id) == []
    assert _directory_roles(raw, sp) == []
    assert _sps(raw, spec.app_id) == []
    deletes = [w["path"] for w in onboarding.sb.writes(mark) if w["method"] == "DELETE"]
    sp_delete = next(i for i, p in enumerate(deletes) if p.endswith(f"servicePrincipals/{sp}"))
    assert sp_delete == len(deletes) - 1, deletes  # the grants go before the principal


def test_lost_responses_converge_without_duplicates(onboarding: Onboarding) -> None:
    spec = onboarding.spec("fabrikam")
    raw = onboarding.as_admin("fabrikam")
    onboarding.sb.settings(replication_delay_s=2)
    onboarding.sb.fault("lose_response", method="PUT|PATCH|POST", service="graph", per_path=True)
    out = onboarding.apply(spec)
    assert out.ok, out.failures
    lost = [e for e in onboarding.sb.requests() if e["fault"] == "lose_response"]
    assert any("permissions" in e["path"] for e in lost)
    assert any("roleAssignments" in e["path"] for e in lost)
    onboarding.sb.clear_faults()
    sp = _sps(raw, spec.app_id)[0]["id"]
    assert len(_site_grants(raw, spec.app_id)) == 1
    assert len(_directory_roles(raw, sp)) == 1
    assert not onboarding.plan(spec).plan.has_changes


def test_a_site_permission_with_another_role_is_set_to_the_kits(onboarding: Onboarding) -> None:
    spec = onboarding.spec("fabrikam")
    raw = onboarding.as_admin("fabrikam")
    assert onboarding.apply(spec).ok
    site = raw.graph("GET", SITE_PATH).json()["id"]
    (grant,) = _site_grants(raw, spec.app_id)
    r = raw.graph("PATCH", f"sites/{site}/permissions/{grant['id']}", json={"roles": ["write"]})
    assert r.status_code == 200, r.text
    planned = onboarding.plan(spec)
    (change,) = planned.plan.pending
    assert change.address == ADDR_SITE and change.action is Action.UPDATE
    assert {f.field: (f.before, f.after) for f in change.fields}["role"] == ("write", "read")
    assert onboarding.apply(spec).ok
    assert [g["roles"] for g in _site_grants(raw, spec.app_id)] == [["read"]]


def test_the_cli_plans_every_scoped_grant_and_leaves_exchange_to_the_admin(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    from e2e_world import REPO

    text = (REPO / "examples" / "sandbox.yaml").read_text()
    anchor = "        why: the report names the site's owners\n"
    assert anchor in text
    world = World(fresh_sandbox, tmp_path, config_text=text.replace(anchor, anchor + EXCHANGE))
    kit = str(world.kits / "fabrikam" / "kit.json")
    mark = fresh_sandbox.mark()
    plan = world.cli("fabrikam", "customer", "plan", "--kit", kit)
    assert plan.returncode == 0, plan.stderr
    assert fresh_sandbox.writes(mark) == []
    assert f"+ {ADDR_SITE}" in plan.stdout and f"+ {ADDR_ROLE}" in plan.stdout
    assert "site = https://fabrikam.sharepoint.com/sites/Marketing" in plan.stdout
    assert "Application Mail.Read" in plan.stdout and "exchange-rbac.ps1" in plan.stdout

    applied = world.cli("fabrikam", "customer", "apply", "--kit", kit, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "not done by xtenant" in applied.stdout
    assert applied.stdout.rstrip().splitlines()[-1].startswith("note: not done by xtenant")

    removed = world.cli("fabrikam", "customer", "remove", "--kit", kit, "--yes")
    assert removed.returncode == 0, removed.stderr
    assert "exchange-rbac.ps1 -Remove" in removed.stdout
    raw_env = world.env("fabrikam")
    assert raw_env  # the admin's environment was used; nothing of the app is left:
    from e2e_world import Raw

    raw = Raw(fresh_sandbox.info, "fabrikam")
    assert _sps(raw, world.kit("fabrikam")["home"]["app"]["app_id"]) == []


def test_verify_probe_reads_the_granted_site_and_names_a_missing_grant(
    onboarding: Onboarding, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provisioning.chain.verify import render_table, verify
    from provisioning.config import ExchangeRoleGrant

    spec = onboarding.spec("fabrikam")
    raw = onboarding.as_admin("fabrikam")
    assert onboarding.apply(spec).ok
    config = onboarding.home.loaded().config
    fabrikam = config.customer("fabrikam")
    exo = ExchangeRoleGrant(role="Application Mail.Read", recipient_filter="Department -eq 'x'")
    fabrikam.exchange_roles.append(exo)  # asked of the customer's Exchange admin, not probed

    for k in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(k, raising=False)
    for k, v in onboarding.sb.env(host="aa-runbooks").items():
        monkeypatch.setenv(k, v)

    def run() -> Any:
        return verify(
            config,
            onboarding.home.cloud,
            customers=["fabrikam"],
            probe=True,
            host="aa-runbooks",
            app_ids=onboarding.app_ids,
            identities={n: v["client_id"] for n, v in onboarding.identities.items()},
        )

    report = run()
    assert report.ok, render_table(report)
    site = report.rows_for("fabrikam", "probe:site")
    assert [(r.status, r.target) for r in site] == [("ok", SITE)]
    assert f"GET /{SITE_PATH} -> 200" in site[0].detail
    [role] = report.rows_for("fabrikam", "probe:directory_role")
    assert role.status == "ok" and "GET /organization -> 200" in role.detail
    [exchange] = report.rows_for("fabrikam", "probe:exchange")
    assert exchange.status == "skipped" and "Test-ServicePrincipalAuthorization" in exchange.detail
    assert "probe:site" in render_table(report)

    # behind xtenant's back: the site's permission goes, the role assignment goes
    site_id = raw.graph("GET", SITE_PATH).json()["id"]
    (grant,) = _site_grants(raw, spec.app_id)
    assert raw.graph("DELETE", f"sites/{site_id}/permissions/{grant['id']}").status_code == 204
    sp = _sps(raw, spec.app_id)[0]["id"]
    (assignment,) = _directory_roles(raw, sp)
    r = raw.graph("DELETE", f"roleManagement/directory/roleAssignments/{assignment['id']}")
    assert r.status_code == 204
    broken = run()
    assert not broken.ok
    [site_row] = broken.rows_for("fabrikam", "probe:site")
    assert site_row.status == "failed" and site_row.diagnosis is not None
    assert site_row.diagnosis.code == "SITE_NOT_GRANTED"
    assert "customer apply --kit kits/fabrikam/kit.json" in site_row.diagnosis.fix
    [role_row] = broken.rows_for("fabrikam", "probe:directory_role")
    assert role_row.diagnosis is not None and role_row.diagnosis.code == "DIRECTORY_ROLE_MISSING"


def test_reconcile_plan_only_shows_every_scoped_grant_of_a_managed_customer(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """A managed customer's scoped grants are planned from the kit built in memory (never a
    kit file): --plan-only lists them and writes nothing; the merge grants them."""
    import json
    import os

    from e2e_world import REPO, pipeline_identity
    from test_trust import CREDENTIAL_VARS, run

    sb = fresh_sandbox
    sb.add_tenants(["m1"], kind="m365")
    pipeline = pipeline_identity(
        sb, ["m1"], ("Sites.FullControl.All", "RoleManagement.ReadWrite.Directory")
    )
    t = sb.info["tenants"]["m1"]
    host = f"{t['domain'].split('.')[0]}.sharepoint.com"
    home = (REPO / "examples" / "sandbox.yaml").read_text().split("\ncustomers")[0] + "\n"
    entry = f"""customers:
  - name: m1
    tenant: {t["domain"]}
    app: m365
    customer_side: managed
    graph_app_roles: [Sites.Selected]
    site_permissions:
      - site: https://{host}/sites/Marketing
"""
    config = tmp_path / "xtenant.yaml"
    config.write_text(home + entry)
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env.update(sb.env())
    env.update(
        AZURE_TENANT_ID=sb.info["tenants"]["contoso"]["tenant_id"],
        AZURE_CLIENT_ID=pipeline["client_id"],
        AZURE_CLIENT_SECRET=pipeline["client_secret"],
    )
    kits = str(tmp_path / "kits")
    first = run(
        ["reconcile", "-c", str(config), "--kits", kits, "--yes", "-o", "json"], env, tmp_path
    )
    assert first.returncode == 0, first.stderr + first.stdout
    assert json.loads(first.stdout)["customers"][0]["next"] == "healthy"

    # the pull request: a directory role and a second site
    config.write_text(
        home
        + entry
        + f"      - site: https://{host}/sites/Finance\n        role: write\n"
        + "    directory_roles:\n      - role: Directory Readers\n"
    )
    mark = sb.mark()
    plan = run(
        ["reconcile", "-c", str(config), "--kits", kits, "--plan-only", "-o", "json"], env, tmp_path
    )
    assert plan.returncode == 0, plan.stderr
    assert sb.writes(mark) == []
    [row] = json.loads(plan.stdout)["customers"]
    created = sorted(c["address"] for c in row["changes"] if c["action"] == "create")
    assert created == [
        "customer[m1].directory_role[Directory Readers @ tenant]",
        "customer[m1].site[Finance]",
    ]
    merged = run(
        ["reconcile", "-c", str(config), "--kits", kits, "--yes", "-o", "json"], env, tmp_path
    )
    assert merged.returncode == 0, merged.stderr
    applied = json.loads(merged.stdout)["customers"][0]["applied"]
    assert sorted(c["address"] for c in applied) == created


def test_a_privileged_directory_role_is_marked_and_asked_for_again(
    onboarding: Onboarding, tmp_path: Path
) -> None:
    import os

    from test_trust import CREDENTIAL_VARS, run

    from provisioning.config import Config
    from provisioning.kit.model import build_kit

    data = onboarding.home.loaded().config.model_dump()
    data["customers"][1]["directory_roles"] = [
        {"role": "User Administrator", "allow_privileged": "creates the report readers' accounts"}
    ]
    config = Config.model_validate(data)
    kit = build_kit(
        config,
        onboarding.home.cloud,
        "fabrikam",
        app_id=onboarding.app_ids["m365"],
        home_identities={},
    )
    onboarding.as_admin("fabrikam")
    [role] = [c for c in onboarding.plan(kit).plan.pending if "directory_role" in c.address]
    assert role.privileged == (
        "PRIVILEGED: User Administrator is a privileged Microsoft Entra role, over the whole "
        "tenant; the provider's reason: creates the report readers' accounts"
    )

    path = tmp_path / "kit.json"
    path.write_text(kit.dumps(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
    env.update(onboarding.sb.env(admin="fabrikam"))
    mark = onboarding.sb.mark()
    refused = run(["customer", "apply", "--kit", str(path), "--yes"], env, tmp_path)
    assert refused.returncode == 1, refused.stdout
    assert "--yes-privileged" in refused.stderr and "User Administrator" in refused.stderr
    assert onboarding.sb.writes(mark) == []
    granted = run(
        ["customer", "apply", "--kit", str(path), "--yes", "--yes-privileged"], env, tmp_path
    )
    assert granted.returncode == 0, granted.stderr


def test_done_means_on_the_sandbox(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 15's "done": from a config with a site permission and a directory role, through
    the CLI: kit rendered → customer apply → the runbook host reads the granted site through
    CrossTenantCredential and is refused another → verify --probe green → customer remove
    leaves nothing."""
    import json

    from e2e_world import Raw

    sb = fresh_sandbox
    world = World(sb, tmp_path)  # xtenant apply, then xtenant kit, as contoso's admin
    kit = world.kit("fabrikam")
    assert [p["site"] for p in kit["site_permissions"]] == [SITE]
    assert [d["role"] for d in kit["directory_roles"]] == ["Directory Readers"]
    kit_path = str(world.kits / "fabrikam" / "kit.json")
    applied = world.cli("fabrikam", "customer", "apply", "--kit", kit_path, "--yes")
    assert applied.returncode == 0, applied.stderr

    raw = Raw(sb.info, "fabrikam")
    app_id = kit["home"]["app"]["app_id"]
    sp = _sps(raw, app_id)[0]["id"]
    uami = Raw(sb.info, "contoso").arm(
        "GET",
        "/subscriptions/8f3c2a10-4d5e-4f60-9a7b-0c0270500a01/resourceGroups/rg-identity/"
        "providers/Microsoft.ManagedIdentity/userAssignedIdentities/umi-runbooks",
        "2023-01-31",
    )
    for k in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(k, raising=False)
    for k, v in sb.env(host="aa-runbooks").items():
        monkeypatch.setenv(k, v)
    from provisioning.core import clouds

    cloud = clouds.load_cloud_file(sb.info["cloud_file"])
    cred = CrossTenantCredential(
        app_id,
        kit["customer"]["tenant"],
        cloud=cloud,
        managed_identity=uami.json()["properties"]["clientId"],
    )
    token = cred.get_token(cloud.graph_scope).token
    with httpx.Client(verify=cloud.ca_bundle, headers={"Authorization": f"Bearer {token}"}) as h:
        assert h.get(f"{cloud.graph_v1}/{SITE_PATH}").status_code == 200
        other = h.get(f"{cloud.graph_v1}/sites/fabrikam.sharepoint.com:/sites/Projects")
        assert other.status_code == 403

    state = str(Path(sb.info["cloud_file"]).parent)
    verified = world.cli(
        None,
        "verify",
        "-c",
        str(world.config),
        "--customer",
        "fabrikam",
        "--probe",
        "--as",
        "aa-runbooks",
        "--identity",
        uami.json()["properties"]["clientId"],  # the host also has a system-assigned identity
        "--state",
        state,
        "--kits",
        str(world.kits),
        "-o",
        "json",
    )
    assert verified.returncode == 0, verified.stdout[-3000:]
    [customer] = json.loads(verified.stdout)["customers"]
    steps = {s["step"]: s["status"] for s in customer["steps"]}
    assert steps["probe:site"] == steps["probe:directory_role"] == "ok"

    removed = world.cli("fabrikam", "customer", "remove", "--kit", kit_path, "--yes")
    assert removed.returncode == 0, removed.stderr
    assert _sps(raw, app_id) == []
    assert _site_grants(raw, app_id) == []
    assert _directory_roles(raw, sp) == []
