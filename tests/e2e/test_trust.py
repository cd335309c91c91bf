"""The kit is a contract between two companies: each way it could be misapplied, redirected
or silently widened, tried through the CLI (separate processes, real SDKs, the sandbox's
request log for writes). Issue 10's nine defects, one test (or two) each."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_world import REPO, Raw, customer_sent_values, pipeline_identity

from provisioning.core.catalog import graph, roles
from provisioning.kit.ids import assignment_name, role_definition_id

pytestmark = pytest.mark.e2e

CREDENTIAL_VARS = (
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
)
OWNER = roles.lookup("Owner")
MMP = roles.lookup("Monitoring Metrics Publisher")
READER = roles.lookup("Reader")
ROLE_MGMT = graph.lookup("RoleManagement.ReadWrite.Directory")
LITWARE_SUB = "5b1d7e20-6c3f-4a81-8b92-117a3e000a02"
LITWARE_RG = f"/subscriptions/{LITWARE_SUB}/resourceGroups/rg-logs"
DCR = f"{LITWARE_RG}/providers/Microsoft.Insights/dataCollectionRules/dcr-vector"


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "provisioning", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


class World:
    """The demo home side applied through the CLI, kits rendered; each admin's environment."""

    def __init__(self, sb: Any, tmp: Path, config_text: str | None = None) -> None:
        self.sb = sb
        self.tmp = tmp
        self.base = {k: v for k, v in os.environ.items() if k not in CREDENTIAL_VARS}
        self.base.update(sb.env())
        self.base.update(customer_sent_values(sb.info))
        self.config = tmp / "xtenant.yaml"
        self.config.write_text(config_text or (REPO / "examples" / "sandbox.yaml").read_text())
        self.kits = tmp / "kits"
        applied = self.cli("contoso", "apply", "-c", str(self.config), "--yes")
        assert applied.returncode == 0, applied.stderr
        rendered = self.cli("contoso", "kit", "-c", str(self.config), "--out", str(self.kits))
        assert rendered.returncode == 0, rendered.stderr

    def env(self, admin: str | None) -> dict[str, str]:
        return {**self.base, **(self.sb.env(admin=admin) if admin else {})}

    def cli(self, admin: str | None, *args: str, env: dict[str, str] | None = None) -> Any:
        return run(list(args), env or self.env(admin), self.tmp)

    def kit(self, customer: str) -> dict[str, Any]:
        return json.loads((self.kits / customer / "kit.json").read_text())

    def tampered(self, customer: str, name: str, **change: Any) -> str:
        kit = self.kit(customer)
        for dotted, value in change.items():
            node = kit
            *path, last = dotted.split(".")
            for p in path:
                node = node[int(p)] if p.isdigit() else node[p]
            node[last] = value
        out = self.tmp / f"{name}.json"
        out.write_text(json.dumps(kit, indent=2))
        return str(out)


@pytest.fixture()
def world(fresh_sandbox: Any, tmp_path: Path) -> World:
    return World(fresh_sandbox, tmp_path)


class Listener:
    """A TCP listener that counts connections: where a kit would redirect requests to."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        self.sock.close()


@pytest.fixture()
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


# 1 --------------------------------------------------------------------------------------


def test_a_pull_request_plan_shows_every_grant_the_merge_would_make(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    """A managed customer gains Reader in a PR: the plan shows it (read from the config, not
    from the kit on disk), writes nothing, and the merge then grants exactly that."""
    sb = fresh_sandbox
    sb.add_tenants(["m1"], kind="logs")
    pipeline = pipeline_identity(sb, ["m1"])
    t = sb.info["tenants"]["m1"]
    home = (REPO / "examples" / "sandbox.yaml").read_text().split("\ncustomers")[0] + "\n"
    entry = f"""customers:
  - name: m1
    tenant: {t["domain"]}
    app: logs
    customer_side: managed
    roles:
      - role: Monitoring Metrics Publisher
        scope: {t["resources"]["dcr"]}
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
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["customers"][0]["next"] == "healthy"

    # the pull request: Reader on the same DCR
    config.write_text(
        home
        + entry
        + f"      - role: Reader\n        scope: {t['resources']['dcr']}\n"
        + "        why: read the rule's settings\n"
    )
    mark = sb.mark()
    plan = run(
        ["reconcile", "-c", str(config), "--kits", kits, "--plan-only", "-o", "json"],
        env,
        tmp_path,
    )
    assert plan.returncode == 0, plan.stderr
    assert sb.writes(mark) == []
    [row] = json.loads(plan.stdout)["customers"]
    assert row["roles"] != "ok"
    created = [c for c in row["changes"] if c["action"] == "create"]
    assert [c["address"] for c in created] == ["customer[m1].role[Reader @ dcr-vector]"]
    fields = {f["field"]: f["after"] for f in created[0]["fields"]}
    assert fields["role"] == f"Reader ({READER.id})" and fields["scope"] == t["resources"]["dcr"]
    assert row["next"] == "apply the customer-side changes (reconcile --yes)"
    status = run(["status", "-c", str(config), "--kits", kits, "-o", "json"], env, tmp_path)
    assert [c["address"] for c in json.loads(status.stdout)["customers"][0]["changes"]] == [
        "customer[m1].role[Reader @ dcr-vector]"
    ]

    merged = run(
        ["reconcile", "-c", str(config), "--kits", kits, "--yes", "-o", "json"], env, tmp_path
    )
    assert merged.returncode == 0, merged.stderr
    assert [c["address"] for c in json.loads(merged.stdout)["customers"][0]["applied"]] == [
        "customer[m1].role[Reader @ dcr-vector]"
    ]


# 2 --------------------------------------------------------------------------------------


def test_a_kit_is_refused_in_another_tenant_before_any_write(world: World) -> None:
    """Fabrikam's admin runs Litware's kit: refused (the tenant's verified domains do not
    include litware's), exit 1, zero requests that write."""
    litware_kit = str(world.kits / "litware" / "kit.json")
    for verb in (["plan"], ["apply", "--yes"], ["remove", "--yes"]):
        mark = world.sb.mark()
        out = world.cli("fabrikam", "customer", *verb, "--kit", litware_kit)
        assert out.returncode == 1, (verb, out.stdout, out.stderr)
        assert "litware.onmicrosoft.com" in out.stderr and "Nothing was changed" in out.stderr
        assert "Traceback" not in out.stderr
        assert world.sb.writes(mark) == [], verb


def test_a_guid_named_kit_is_refused_in_another_tenant(world: World) -> None:
    tid = world.sb.info["tenants"]["litware"]["tenant_id"]
    kit = world.kit("litware")
    consent = kit["consent_url"].replace("litware.onmicrosoft.com", tid)
    path = world.tampered("litware", "by-guid", **{"customer.tenant": tid, "consent_url": consent})
    mark = world.sb.mark()
    out = world.cli("fabrikam", "customer", "apply", "--kit", path, "--yes")
    assert out.returncode == 1 and f"is for tenant {tid}" in out.stderr, out.stderr
    assert world.sb.writes(mark) == []
    ok = world.cli("litware", "customer", "plan", "--kit", path)  # its own admin: fine
    assert ok.returncode == 0, ok.stderr


# 3 --------------------------------------------------------------------------------------


def test_a_kit_cannot_send_the_admins_token_elsewhere(world: World, listener: Listener) -> None:
    authority = world.kit("litware")["cloud"]["authority"]
    consent = world.kit("litware")["consent_url"].replace(authority, listener.url)
    for field in ("arm", "graph", "authority"):
        change = {f"cloud.{field}": listener.url}
        if field == "authority":  # a careful attacker keeps the kit self-consistent
            change["consent_url"] = consent
        path = world.tampered("litware", f"evil-{field}", **change)
        out = world.cli("litware", "customer", "plan", "--kit", path)
        assert out.returncode == 1, out.stdout
        assert f"cloud.{field}: differs from cloud 'sandbox'" in out.stderr + out.stdout
    assert listener.connections == 0


def test_a_kit_naming_a_known_cloud_gets_that_clouds_endpoints(
    world: World, listener: Listener
) -> None:
    """A kit that says "public" but carries other endpoints is refused without --cloud, and
    a custom cloud is never taken from the kit alone."""
    env = world.env("litware")
    env.pop("XTENANT_CLOUD")
    kit = world.kit("litware")
    consent = kit["consent_url"].replace(kit["cloud"]["authority"], listener.url)
    path = world.tampered(
        "litware",
        "fake-public",
        **{
            "cloud.name": "public",
            "cloud.arm": listener.url,
            "cloud.authority": listener.url,
            "consent_url": consent,
        },
    )
    out = world.cli(None, "customer", "plan", "--kit", path, env=env)
    assert out.returncode == 1
    assert "cloud.authority: differs from cloud 'public'" in out.stdout + out.stderr
    custom = world.cli(
        None, "customer", "plan", "--kit", str(world.kits / "litware" / "kit.json"), env=env
    )
    assert custom.returncode == 1 and "--cloud FILE" in custom.stdout + custom.stderr
    assert listener.connections == 0


def test_verify_sends_a_customer_token_only_to_the_clouds_ingestion_endpoints(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    text = (REPO / "examples" / "sandbox.yaml").read_text()
    world = World(fresh_sandbox, tmp_path, config_text=text)
    assert (
        world.cli(
            "litware",
            "customer",
            "apply",
            "--kit",
            str(world.kits / "litware" / "kit.json"),
            "--yes",
        ).returncode
        == 0
    )
    env = world.env(None)
    env["LITWARE_DCE_ENDPOINT"] = "https://collector.evil.example/ingest"
    state = str(Path(world.sb.info["cloud_file"]).parent)
    out = world.cli(
        None,
        "verify",
        "-c",
        str(world.config),
        "--customer",
        "litware",
        "--probe",
        "--as",
        "vm-vector",
        "--state",
        state,
        "--kits",
        str(world.kits),
        "-o",
        "json",
        env=env,
    )
    [customer] = json.loads(out.stdout)["customers"]
    rows = {r["step"]: r for r in customer["steps"]}
    assert rows["probe:logs"]["status"] == "failed"
    assert "refused to send" in rows["probe:logs"]["detail"]


# 4 --------------------------------------------------------------------------------------


def test_a_kits_labels_cannot_lie_about_its_ids(world: World) -> None:
    app_id = world.kit("litware")["home"]["app"]["app_id"]
    lying_graph = world.tampered(
        "fabrikam",
        "lying-graph",
        **{
            "graph_app_roles": [
                {"value": "Sites.Read.All", "id": ROLE_MGMT.id, "display_name": "Read items"}
            ],
            "consent_graph_app_roles": [
                {"value": "Sites.Read.All", "id": ROLE_MGMT.id, "display_name": "Read items"}
            ],
        },
    )
    lying_role = world.tampered(
        "litware",
        "lying-role",
        **{
            "roles.0.role_id": OWNER.id,
            "roles.0.role_definition_id": role_definition_id(OWNER.id, DCR),
            "roles.0.assignment_name": assignment_name(DCR, OWNER.id, app_id),
            "assignment_names": [assignment_name(DCR, OWNER.id, app_id)],
        },
    )
    for admin, path, field in (
        ("fabrikam", lying_graph, "graph_app_roles[0].value"),
        ("litware", lying_role, "roles[0].role"),
    ):
        mark = world.sb.mark()
        out = world.cli(admin, "customer", "apply", "--kit", path, "--yes")
        assert out.returncode == 1
        assert field in out.stdout + out.stderr
        assert "RoleManagement.ReadWrite.Directory" in out.stdout + out.stderr or "Owner" in (
            out.stdout + out.stderr
        )
        assert world.sb.writes(mark) == []


def test_privileged_grants_are_shown_and_asked_for_again(
    fresh_sandbox: Any, tmp_path: Path
) -> None:
    text = (REPO / "examples" / "sandbox.yaml").read_text()
    marker = "        why: Vector publishes your logs to this data collection rule.\n"
    text = text.replace(
        marker,
        marker
        + f"      - role: Owner\n        scope: {LITWARE_RG}\n"
        + '        allow_privileged: "rotates the DCR keys during incidents"\n',
    )
    world = World(fresh_sandbox, tmp_path, config_text=text)
    kit = str(world.kits / "litware" / "kit.json")
    plan = world.cli("litware", "customer", "plan", "--kit", kit)
    assert plan.returncode == 0, plan.stderr
    assert "!! PRIVILEGED: Owner can change or grant anything" in plan.stdout
    assert "rotates the DCR keys during incidents" in plan.stdout
    mark = world.sb.mark()
    refused = world.cli("litware", "customer", "apply", "--kit", kit, "--yes")
    assert refused.returncode == 1 and "--yes-privileged" in refused.stderr
    assert world.sb.writes(mark) == []
    ok = world.cli("litware", "customer", "apply", "--kit", kit, "--yes", "--yes-privileged")
    assert ok.returncode == 0, ok.stderr + ok.stdout


# 5 --------------------------------------------------------------------------------------


def test_scopes_cannot_widen_themselves(world: World) -> None:
    text = world.config.read_text()
    widened = text.replace(
        f"scope: {DCR}\n", f"scope: /subscriptions/{LITWARE_SUB}/resourceGroups/..\n"
    ).replace("role: Monitoring Metrics Publisher", "role: Owner")
    bad = world.tmp / "widened.yaml"
    bad.write_text(widened)
    out = world.cli("contoso", "validate", "-c", str(bad))
    assert out.returncode == 1
    assert "customers[0].roles[0].scope" in out.stdout + out.stderr
    assert "'..'" in out.stdout + out.stderr
    for scope in (
        f"/subscriptions/{LITWARE_SUB}/resourceGroups/..",
        f"/subscriptions/{LITWARE_SUB}/resourceGroups/rg%2F..",
        f"/subscriptions/{LITWARE_SUB}/resourceGroups/rg-logs ",
    ):
        path = world.tampered("litware", "widened-kit", **{"roles.0.scope": scope})
        mark = world.sb.mark()
        out = world.cli("litware", "customer", "plan", "--kit", path)
        assert out.returncode == 1 and "roles[0].scope" in out.stdout + out.stderr, scope
        assert world.sb.requests(mark) == [], scope  # refused before any request


# 6 --------------------------------------------------------------------------------------


def test_terminal_text_from_a_kit_is_made_visible(world: World) -> None:
    path = world.tampered(
        "litware",
        "ansi",
        **{"roles.0.why": "\x1b[2K\r  + customer[litware].role[Monitoring Reader]\u202e"},
    )
    out = world.cli("litware", "customer", "plan", "--kit", path)
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\u202e" not in out.stdout and "\r" not in out.stdout
    assert "\\u001b[2K" in out.stdout and "\\u202e" in out.stdout
    text = world.config.read_text().replace(
        "display_name: Contoso Log Forwarder", 'display_name: "Contoso\\e[31m Log Forwarder"'
    )
    bad = world.tmp / "ansi.yaml"
    bad.write_text(text)
    refused = world.cli("contoso", "validate", "-c", str(bad))
    assert refused.returncode == 1 and "display_name" in refused.stdout + refused.stderr


# 7 --------------------------------------------------------------------------------------


def test_reonboarding_after_the_enterprise_app_was_deleted(world: World) -> None:
    kit = str(world.kits / "litware" / "kit.json")
    assert world.cli("litware", "customer", "apply", "--kit", kit, "--yes").returncode == 0
    raw = Raw(world.sb.info, "litware")
    app_id = world.kit("litware")["home"]["app"]["app_id"]
    [old] = raw.graph(
        "GET", "servicePrincipals", params={"$filter": f"appId eq '{app_id}'"}
    ).json()["value"]
    assert raw.graph("DELETE", f"servicePrincipals/{old['id']}").status_code == 204

    plan = world.cli("litware", "customer", "plan", "--kit", kit, "-o", "json")
    changes = {c["address"]: c for c in json.loads(plan.stdout)["changes"]}
    role = changes["customer[litware].role[Monitoring Metrics Publisher @ dcr-vector]"]
    assert role["action"] == "replace" and "deleted and made again" in role["note"]
    assert {f["field"]: f["before"] for f in role["fields"]}["principal"] == old["id"]
    text = world.cli("litware", "customer", "plan", "--kit", kit)
    assert "-/+ customer[litware].role[Monitoring Metrics Publisher @ dcr-vector]" in text.stdout

    applied = world.cli("litware", "customer", "apply", "--kit", kit, "--yes")
    assert applied.returncode == 0, applied.stderr + applied.stdout
    [new] = raw.graph(
        "GET", "servicePrincipals", params={"$filter": f"appId eq '{app_id}'"}
    ).json()["value"]
    name = world.kit("litware")["roles"][0]["assignment_name"]
    got = raw.arm(
        "GET", f"{DCR}/providers/Microsoft.Authorization/roleAssignments/{name}", "2022-04-01"
    )
    assert got.json()["properties"]["principalId"] == new["id"] != old["id"]
    again = world.cli("litware", "customer", "plan", "--kit", kit, "--detailed-exitcode")
    assert again.returncode == 0, again.stdout


# 9 --------------------------------------------------------------------------------------


def test_not_signed_in_is_one_message_and_no_plan(world: World, tmp_path: Path) -> None:
    env = world.env(None)
    env["HOME"] = str(tmp_path)  # no az CLI profile either
    env["PATH"] = os.path.dirname(sys.executable) + ":/usr/bin:/bin"
    out = world.cli(None, "plan", "-c", str(world.config), env=env)
    assert out.returncode == 1
    assert "+ create" not in out.stdout and "Plan:" not in out.stdout
    errors = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1, out.stderr
    assert "not signed in" in errors[0] and "az login --tenant" in errors[0]
    assert "EnvironmentCredential" in errors[0]


def test_a_stopped_sandbox_is_one_line_naming_the_endpoint(world: World) -> None:
    env = world.env("contoso")
    authority = world.sb.info["authority"]
    world.sb.stop()
    out = world.cli(None, "plan", "-c", str(world.config), env=env)
    assert out.returncode == 1
    errors = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and f"cannot reach {authority}" in errors[0], out.stderr
