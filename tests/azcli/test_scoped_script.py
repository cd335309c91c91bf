"""The kit's ``scoped-grants.sh`` actually runs: the real az CLI (``az rest`` against the
sandbox's Microsoft Graph), signed in as Fabrikam's admin, after consent. It grants exactly
what ``xtenant customer apply`` grants (the site permission, the directory role), a second
run changes nothing, and each tool sees the other's work as its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from azcli_env import Rest, run_kit_script
from e2e_world import Home
from test_kit_script import _consent

from provisioning.core.runner import Options, customer_apply, customer_plan, home_state
from provisioning.kit.model import load_kit
from provisioning.kit.render import render_all

pytestmark = [pytest.mark.azcli, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
SITE_PATH = "sites/fabrikam.sharepoint.com:/sites/Marketing"


def _state(rest: Rest, app_id: str, sp: str) -> tuple[list[list[str]], list[tuple[str, str]]]:
    site = rest.graph("GET", SITE_PATH).json()["id"]
    perms = rest.graph("GET", f"sites/{site}/permissions").json()["value"]
    ours = [
        p["roles"]
        for p in perms
        if any(i["application"]["id"] == app_id for i in p.get("grantedToIdentitiesV2") or [])
    ]
    r = rest.graph(
        "GET",
        "roleManagement/directory/roleAssignments",
        params={"$filter": f"principalId eq '{sp}'"},
    )
    roles = [(a["roleDefinitionId"], a["directoryScopeId"]) for a in r.json()["value"]]
    return ours, roles


def test_scoped_grants_script_grants_what_customer_apply_grants(
    az_bin: Path, fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = fresh_sandbox
    home = Home(sb, tmp_path, monkeypatch)
    assert home.apply().ok
    loaded = home.loaded()
    state = home_state(loaded, home.cloud)
    assert not state.problems, state.problems
    render_all(
        loaded.config,
        home.cloud,
        tmp_path / "kits",
        app_ids=state.app_ids(),
        identities=state.identity_ids(),
    )
    kit_dir = tmp_path / "kits" / "fabrikam"
    script = kit_dir / "scoped-grants.sh"
    spec = load_kit(kit_dir / "kit.json")
    rest = Rest(sb.info, "fabrikam")
    for k, v in sb.env(admin="fabrikam").items():
        monkeypatch.setenv(k, v)

    _consent(sb.info, spec.consent_url)
    sp = rest.graph("GET", f"servicePrincipals(appId='{spec.app_id}')").json()["id"]
    assert _state(rest, spec.app_id, sp) == ([], [])

    mark = sb.mark()
    dry = run_kit_script(sb, script, "fabrikam", env={"DRY_RUN": "1"})
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "+ read on site https://fabrikam.sharepoint.com/sites/Marketing (would be granted)" in (
        dry.stdout
    )
    assert "+ Directory Readers at / (would be assigned)" in dry.stdout
    assert sb.writes(mark) == []

    mark = sb.mark()
    run = run_kit_script(sb, script, "fabrikam")
    assert run.returncode == 0, run.stdout + run.stderr
    writes = [(w["method"], w["status"]) for w in sb.writes(mark)]
    assert writes == [("POST", 201), ("POST", 201)], writes
    by_script = _state(rest, spec.app_id, sp)
    assert by_script == ([["read"]], [("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "/")])

    mark = sb.mark()
    again = run_kit_script(sb, script, "fabrikam")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.count("(present)") == 2 and "(granted)" not in again.stdout
    assert sb.writes(mark) == []

    # `xtenant customer plan|apply` sees the script's work as its own
    plan = customer_plan(spec, home.cloud, Options())
    assert plan.ok, plan.failures
    assert [c.address for c in plan.plan.pending] == []
    mark = sb.mark()
    assert customer_apply(spec, home.cloud, Options()).ok
    assert sb.writes(mark) == []
    assert _state(rest, spec.app_id, sp) == by_script

    # a permission with another role is set back to the kit's, in place (one PATCH)
    site = rest.graph("GET", SITE_PATH).json()["id"]
    perms = rest.graph("GET", f"sites/{site}/permissions").json()["value"]
    (ours,) = [
        p for p in perms if p["grantedToIdentitiesV2"][0]["application"]["id"] == spec.app_id
    ]
    changed = rest.graph(
        "PATCH", f"sites/{site}/permissions/{ours['id']}", json={"roles": ["write"]}
    )
    assert changed.status_code == 200, changed.text
    mark = sb.mark()
    fixed = run_kit_script(sb, script, "fabrikam")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "~ read on site https://fabrikam.sharepoint.com/sites/Marketing (was write)" in (
        fixed.stdout
    )
    assert [(w["method"], w["status"]) for w in sb.writes(mark)] == [("PATCH", 200)]
    assert _state(rest, spec.app_id, sp) == by_script
