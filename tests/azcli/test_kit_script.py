"""The kit's ``assign-roles.sh`` actually runs: the real az CLI, signed in as Litware's admin,
against the sandbox, after the home side was applied and the admin consented.

What it grants must be exactly what ``xtenant customer apply`` grants (same assignment name,
role, scope and principal), re-running it must change nothing, and each tool must see the
other's work as its own.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from azcli_env import Rest, run_kit_script
from e2e_world import Home

from provisioning.core.runner import (
    Options,
    customer_apply,
    customer_plan,
    home_state,
)
from provisioning.kit.model import load_kit
from provisioning.kit.render import render_all

pytestmark = [pytest.mark.azcli, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
AUTHZ_API = "2022-04-01"


def _assignments(rest: Rest, scope: str, principal: str) -> list[tuple[str, ...]]:
    r = rest.arm(
        "GET",
        f"{scope}/providers/Microsoft.Authorization/roleAssignments",
        AUTHZ_API,
        params={"$filter": f"principalId eq '{principal}'"},
    )
    assert r.status_code == 200, r.text
    return sorted(
        (
            a["name"],
            a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1],
            a["properties"]["scope"],
            a["properties"]["principalId"],
            a["properties"]["principalType"],
        )
        for a in r.json()["value"]
        if a["properties"]["scope"].lower() == scope.lower()
    )


def _consent(info: dict[str, Any], consent_url: str) -> None:
    """What the admin's browser does on the sandbox's consent page: open it, press Accept."""
    tls = ssl.create_default_context(cafile=info["ca_bundle"])
    page = httpx.get(consent_url, verify=tls)
    assert page.status_code == 200 and 'value="accept"' in page.text, page.text[:500]
    url = urlsplit(consent_url)
    form = {k: v[0] for k, v in parse_qs(url.query).items()}
    r = httpx.post(
        f"{url.scheme}://{url.netloc}{url.path}", data={**form, "decision": "accept"}, verify=tls
    )
    assert r.status_code == 302, r.text
    assert "admin_consent=True" in r.headers["location"]


@pytest.fixture()
def litware_kit(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Home]:
    """The home side applied on a fresh sandbox, and Litware's kit rendered from it."""
    home = Home(
        fresh_sandbox,
        tmp_path,
        monkeypatch,
        config_text=(REPO / "examples" / "sandbox.yaml").read_text(),
    )
    out = home.apply()
    assert out.ok, out.failures
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
    kit_dir = tmp_path / "kits" / "litware"
    assert (kit_dir / "assign-roles.sh").is_file()
    return kit_dir, home


def test_assign_roles_script_grants_what_customer_apply_grants(
    az_bin: Path,
    fresh_sandbox: Any,
    litware_kit: tuple[Path, Home],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sb, info = fresh_sandbox, fresh_sandbox.info
    kit_dir, home = litware_kit
    script = kit_dir / "assign-roles.sh"
    kit = json.loads((kit_dir / "kit.json").read_text())
    spec = load_kit(kit_dir / "kit.json")
    app_id = kit["home"]["app"]["app_id"]
    (role,) = kit["roles"]
    rest = Rest(info, "litware")
    # the customer-side engine runs with the litware admin's credentials, as `customer apply`
    for k, v in sb.env(admin="litware").items():
        monkeypatch.setenv(k, v)

    # before consent: the script stops, says what to do, and writes nothing
    mark = sb.mark()
    before = run_kit_script(sb, script, "litware")
    assert before.returncode == 2, before.stdout + before.stderr
    assert "grant admin consent first" in before.stderr
    assert sb.writes(mark) == []

    _consent(info, kit["consent_url"])
    sp = rest.graph("GET", f"servicePrincipals(appId='{app_id}')").json()["id"]
    assert _assignments(rest, role["scope"], sp) == []

    # a dry run shows the assignment and writes nothing
    mark = sb.mark()
    dry = run_kit_script(sb, script, "litware", env={"DRY_RUN": "1"})
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert f"would be created as {role['assignment_name']}" in dry.stdout
    assert sb.writes(mark) == []

    # the real run: one write, the kit's assignment
    mark = sb.mark()
    run = run_kit_script(sb, script, "litware")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "(created)" in run.stdout
    writes = sb.writes(mark)
    assert [(w["method"], w["status"]) for w in writes] == [("PUT", 201)], writes
    by_script = _assignments(rest, role["scope"], sp)
    assert by_script == [
        (role["assignment_name"], role["role_id"], role["scope"], sp, "ServicePrincipal")
    ]

    # twice: a no-op
    mark = sb.mark()
    again = run_kit_script(sb, script, "litware")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "(present)" in again.stdout and "(created)" not in again.stdout
    assert sb.writes(mark) == []
    assert _assignments(rest, role["scope"], sp) == by_script

    # `xtenant customer plan|apply` sees the script's work as its own: nothing to do
    plan = customer_plan(spec, home.cloud, Options())
    assert plan.ok, plan.failures
    assert [c.address for c in plan.plan.pending] == []
    mark = sb.mark()
    assert customer_apply(spec, home.cloud, Options()).ok
    assert sb.writes(mark) == []

    # and what `customer apply` creates on its own is the very same assignment
    (name, *_rest) = by_script[0]
    deleted = rest.arm(
        "DELETE",
        f"{role['scope']}/providers/Microsoft.Authorization/roleAssignments/{name}",
        AUTHZ_API,
    )
    assert deleted.status_code == 200, deleted.text
    assert _assignments(rest, role["scope"], sp) == []
    applied = customer_apply(spec, home.cloud, Options())
    assert applied.ok, applied.failures
    assert _assignments(rest, role["scope"], sp) == by_script

    # ... which the script, in turn, finds present
    mark = sb.mark()
    last = run_kit_script(sb, script, "litware")
    assert last.returncode == 0 and "(present)" in last.stdout, last.stdout + last.stderr
    assert sb.writes(mark) == []
