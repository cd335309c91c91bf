"""Every host kind and both identity kinds, end to end on the sandbox with the unmodified SDKs:
plan/apply (nothing written on a re-apply), a customer token from each host through
``CrossTenantCredential``, ``verify`` green naming the host kind and the endpoint that
answered, and the 403 that names the role to grant.

The hosts are made through the sandbox's control API (``POST /_sandbox/hosts``) and entered
with the variables ``sandbox env --as HOST`` prints. Arc: azure-identity reads the challenge's
key file only from the agent's directory ``/var/opt/azcmagent/tokens`` (it checks the
realm's directory), so the Arc cases create that directory, which needs root (CI runs as
root); elsewhere they are skipped, saying so.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_world import Raw

from provisioning.chain import CrossTenantCredential
from provisioning.chain.verify import verify
from provisioning.config import load_config
from provisioning.core import clouds
from provisioning.core.runner import Options, customer_apply, home_apply, home_plan
from provisioning.kit.model import build_kit

pytestmark = pytest.mark.e2e

AGENT_KEYS = Path("/var/opt/azcmagent/tokens")
ADMIN_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")
HOST_VARS = (
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IDENTITY_ENDPOINT",
    "IDENTITY_HEADER",
    "IMDS_ENDPOINT",
)
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
MI_CONTRIBUTOR = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59"
MI_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"

# host name -> (sandbox kind, extra spec, label of the kind in the registry)
HOSTS: dict[str, tuple[str, dict[str, Any], str]] = {
    "vm-vector": ("vm", {}, "virtual machine"),  # the demo seed's
    "vmss-shipper": ("vmss", {}, "VM scale set"),
    "web-portal": ("appservice", {}, "App Service / Functions app"),
    "func-reports": ("functionapp", {}, "App Service / Functions app"),  # the demo seed's
    # a slot: host name <app>-<slot>, as its default host name reads
    "func-reports-staging": ("slot", {"site": "func-reports"}, "App Service deployment slot"),
    "ca-shipper": ("containerapp", {}, "Container App"),
    "aa-runbooks": ("automation", {}, "Automation account"),  # the demo seed's
    "arc-onprem": ("arc", {}, "Arc-enabled server"),
}
SEEDED = ("vm-vector", "func-reports", "aa-runbooks")
USER_HOSTS = [h for h in HOSTS if HOSTS[h][0] != "arc"]  # Arc takes no user-assigned identity
ROLE = {
    "vm": "Virtual Machine Contributor",
    "vmss": "Virtual Machine Contributor",
    "appservice": "Website Contributor",
    "functionapp": "Website Contributor",
    "slot": "Website Contributor",
    "containerapp": "Container Apps Contributor",
    "automation": "Automation Contributor",
    "arc": "Azure Connected Machine Resource Administrator",
}


def _system(host: str) -> str:
    return f"sys-{host}"


def _arc_ready() -> str | None:
    """Why the Arc cases cannot run here (``None``: they can)."""
    if AGENT_KEYS.is_dir() and os.access(AGENT_KEYS, os.W_OK):
        return None
    if os.geteuid() != 0:
        return (
            f"azure-identity reads Arc's key file only from {AGENT_KEYS}, which only root can "
            "create (CI runs as root)"
        )
    AGENT_KEYS.mkdir(parents=True, exist_ok=True)
    return None


def _config(info: dict[str, Any]) -> str:
    hosts = info["hosts"]
    t = info["tenants"]["contoso"]
    lines = [
        "cloud: public",
        "home:",
        f"  tenant_id: {t['tenant_id']}",
        f"  subscription_id: {t['subscription_id']}",
        "  identities:",
        "    - name: umi-hosts",
        "      resource_group: rg-identity",
        "      location: westus2",
        "      attach_to:",
        *(f"        - {hosts[h]['resource_id']}" for h in USER_HOSTS),
    ]
    for h in HOSTS:
        lines += [
            f"    - name: {_system(h)}",
            f"      system_assigned_of: {hosts[h]['resource_id']}",
        ]
    lines += [
        "  apps:",
        "    - key: userapp",
        "      display_name: Contoso Reports (user-assigned)",
        "      unique_name: contoso-reports-user",
        "      redirect_uri: https://contoso.example/onboarded",
        "      trusts: [umi-hosts]",
        "      graph_app_roles: [Sites.Read.All]",
        "    - key: sysapp",
        "      display_name: Contoso Reports (system-assigned)",
        "      unique_name: contoso-reports-system",
        "      redirect_uri: https://contoso.example/onboarded",
        f"      trusts: [{', '.join(_system(h) for h in HOSTS)}]",
        "      graph_app_roles: [Sites.Read.All]",
        "customers:",
        "  - name: fabrikam",
        "    tenant: fabrikam.onmicrosoft.com",
        "    app: userapp",
        "    graph_app_roles: [Sites.Read.All]",
        "  - name: tailspin",
        "    tenant: tailspin.onmicrosoft.com",
        "    app: sysapp",
        "    graph_app_roles: [Sites.Read.All]",
    ]
    return "\n".join(lines) + "\n"


class World:
    """One sandbox with a host of every kind, the home side applied and both customers
    onboarded (each through its own kit, as its own admin)."""

    def __init__(self, sb: Any, tmp: Path) -> None:
        self.sb = sb
        self.arc_skip = _arc_ready()
        if self.arc_skip is None:
            sb.settings(arc_key_dir=str(AGENT_KEYS))
        for name, (kind, spec, _label) in HOSTS.items():
            if name not in SEEDED:
                slot = name.removeprefix(f"{spec['site']}-") if "site" in spec else name
                sb.add_host(kind, slot, **spec)
        sb.add_tenants(["tailspin"], kind="m365")
        self.path = tmp / "xtenant.yaml"
        self.path.write_text(_config(sb.info))
        self.cloud = clouds.load_cloud_file(sb.info["cloud_file"])
        self.raw = Raw(sb.info, "contoso")

    def loaded(self) -> Any:
        return load_config(self.path)

    def env(self, **kw: Any) -> dict[str, str]:
        return self.sb.env(**kw)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    from provisioning.sandbox import Sandbox

    tmp = tmp_path_factory.mktemp("hosts")
    sb = Sandbox.start(tmp / "sandbox", seed="demo")
    try:
        w = World(sb, tmp)
        with pytest.MonkeyPatch.context() as mp:
            for k, v in w.env(admin="contoso").items():
                mp.setenv(k, v)
            w.first_plan = home_plan(w.loaded(), w.cloud, Options())
            out = home_apply(w.loaded(), w.cloud, Options())
            assert out.ok, out.failures
            mark = sb.mark()
            w.again = home_apply(w.loaded(), w.cloud, Options())
            w.writes_on_reapply = sb.writes(mark)
            w.app_ids = {
                key: w.raw.graph("GET", f"applications(uniqueName='{u}')").json()["appId"]
                for key, u in (
                    ("userapp", "contoso-reports-user"),
                    ("sysapp", "contoso-reports-system"),
                )
            }
        config = w.loaded().config
        for customer in ("fabrikam", "tailspin"):
            kit = build_kit(
                config,
                w.cloud,
                customer,
                app_id=w.app_ids[config.customer(customer).app],
                home_identities={},
            )
            with pytest.MonkeyPatch.context() as mp:
                for k, v in w.env(admin=customer).items():
                    mp.setenv(k, v)
                res = customer_apply(kit, w.cloud, Options())
            assert res.ok, res.failures
        yield w
    finally:
        sb.stop()


def _on_host(mp: pytest.MonkeyPatch, w: World, host: str) -> dict[str, str]:
    """The environment of a workload on ``host``: the sandbox's variables for it (what
    ``sandbox env --as HOST`` prints), no admin secret."""
    for k in (*ADMIN_VARS, *HOST_VARS):
        mp.delenv(k, raising=False)
    env = w.env(host=host)
    for k, v in env.items():
        mp.setenv(k, v)
    return dict(os.environ)


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _skip_arc(w: World, host: str) -> None:
    if HOSTS[host][0] == "arc" and w.arc_skip:
        pytest.skip(w.arc_skip)


# ---- plan / apply --------------------------------------------------------------------------


def test_plan_shows_each_host_change_and_reapply_writes_nothing(world: World) -> None:
    plan = {c.address: c for c in world.first_plan.plan.changes}
    assert not world.first_plan.failures
    for host in USER_HOSTS:
        label = "func-reports/staging" if host == "func-reports-staging" else host
        assert plan[f"home.identity[umi-hosts].attach[{label}]"].action.value == "update"
    # the system-assigned identities that are off are enabled, and the plan says so
    for host in HOSTS:
        change = plan[f"home.identity[{_system(host)}]"]
        if host in ("aa-runbooks", "arc-onprem"):  # on from the start (seed, Arc onboarding)
            assert change.action.value == "no-op", host
        else:
            assert change.action.value == "update", host
            assert "enables the system-assigned identity" in (change.note or "")
    vmss = plan["home.identity[umi-hosts].attach[vmss-shipper]"]
    assert "upgrade policy (Manual)" in (vmss.note or "")
    assert world.again.ok and not world.again.plan.has_changes
    assert world.writes_on_reapply == []


# ---- the chain from each host ----------------------------------------------------------------


CASES = [(h, "user-assigned") for h in USER_HOSTS] + [(h, "system-assigned") for h in HOSTS]


@pytest.mark.parametrize(("host", "identity"), CASES, ids=lambda v: str(v))
def test_customer_token_and_verify_from_each_host(
    world: World, monkeypatch: pytest.MonkeyPatch, host: str, identity: str
) -> None:
    _skip_arc(world, host)
    user = identity == "user-assigned"
    customer, app = ("fabrikam", "userapp") if user else ("tailspin", "sysapp")
    tid = world.sb.info["tenants"][customer]["tenant_id"]
    uami = world.raw.arm(
        "GET",
        f"/subscriptions/{world.sb.info['tenants']['contoso']['subscription_id']}/resourceGroups"
        "/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities/umi-hosts",
        "2023-01-31",
    ).json()["properties"]
    environ = _on_host(monkeypatch, world, host)
    # the workload's own credential: the user-assigned identity by its client id, the
    # system-assigned one by naming none
    cred = CrossTenantCredential(
        world.app_ids[app],
        tid,
        cloud=world.cloud,
        managed_identity=uami["clientId"] if user else None,
    )
    try:
        token = cred.get_token(world.cloud.graph_scope).token
        mi = _claims(cred.assertion())
    finally:
        cred.close()
    claims = _claims(token)
    assert claims["tid"] == tid and claims["appid"] == world.app_ids[app]
    assert "Sites.Read.All" in claims["roles"]
    host_id = world.sb.info["hosts"][host]["resource_id"]
    if user:
        assert mi["oid"] == uami["principalId"] and mi["xms_mirid"].endswith("/umi-hosts")
    else:
        assert mi["xms_mirid"].lower() == host_id.lower()  # the host's own identity

    report = verify(
        world.loaded(),
        world.cloud,
        customers=[customer],
        host=host,
        app_ids=world.app_ids,
        identities={"umi-hosts": uami["clientId"]} if user else {},
        environ=environ,
    )
    assert report.ok, [(r.step, r.status, r.detail) for r in report.rows]
    label = HOSTS[host][2]
    assert report.host["kind"] and report.host["kind"].startswith(label)
    mi_row = next(r for r in report.rows if r.step == "mi_token")
    assert mi_row.detail.startswith(label)
    assert mi_row.data["endpoint"] == environ.get("IDENTITY_ENDPOINT") or mi_row.data[
        "endpoint"
    ].startswith(environ.get("AZURE_POD_IDENTITY_AUTHORITY_HOST", "-"))
    expected_identity = "umi-hosts" if user else _system(host)
    assert mi_row.data["identity"] == expected_identity


# ---- 403: the role to grant is named ------------------------------------------------------


def _limited(w: World, mp: pytest.MonkeyPatch, roles: list[tuple[str, str]]) -> None:
    tid = w.sb.info["tenants"]["contoso"]["tenant_id"]
    admin = w.sb.world.directory.create_admin(
        tid, "hosts-limited-admin", graph_roles=("Application.ReadWrite.All",)
    )
    for role_id, scope in roles:
        w.sb.world.arm.assign_role(scope, role_id, admin["principal_id"], "ServicePrincipal")
    for k, v in w.env(admin="contoso").items():
        mp.setenv(k, v)
    mp.setenv("AZURE_CLIENT_ID", admin["client_id"])
    mp.setenv("AZURE_CLIENT_SECRET", admin["client_secret"])


@pytest.mark.parametrize("host", list(HOSTS))
def test_403_names_the_role_to_grant(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, host: str
) -> None:
    """A new host of each kind, an admin who may read it but not change it: the failure
    names the host kind's role (and, for a user-assigned identity, Managed Identity
    Operator)."""
    kind = HOSTS[host][0]
    name = f"deny-{kind}"
    spec = dict(HOSTS[host][1])
    made = world.sb.add_host(kind, name, **spec)
    sub = world.sb.info["tenants"]["contoso"]["subscription_id"]
    if kind == "arc":  # on from onboarding: turned off behind xtenant's back, to be enabled
        off = world.raw.arm(
            "PATCH", made["resource_id"], "2022-12-27", json={"identity": {"type": "None"}}
        )
        assert off.status_code == 200, off.text
    _limited(
        world,
        monkeypatch,
        [
            (READER, f"/subscriptions/{sub}"),
            (MI_CONTRIBUTOR, f"/subscriptions/{sub}/resourceGroups/rg-identity"),
            (MI_OPERATOR, f"/subscriptions/{sub}/resourceGroups/rg-identity"),
        ],
    )
    text = world.path.read_text()
    head = text.split("  apps:")[0]
    if kind == "arc":  # only its system-assigned identity exists
        ident = f"    - name: sys-{name}\n      system_assigned_of: {made['resource_id']}\n"
        app_trusts = f"sys-{name}"
    else:
        ident = (
            f"    - name: umi-{name}\n      resource_group: rg-identity\n      location: westus2\n"
            f"      attach_to:\n        - {made['resource_id']}\n"
        )
        app_trusts = f"umi-{name}"
    head = head.split("  identities:")[0] + "  identities:\n" + ident
    config = tmp_path / "x.yaml"
    config.write_text(
        head + "  apps:\n    - key: denied\n      display_name: Denied\n      unique_name: "
        f"contoso-denied-{kind}\n      redirect_uri: https://contoso.example/onboarded\n"
        f"      trusts: [{app_trusts}]\n"
    )
    out = home_apply(load_config(config), world.cloud, Options())
    messages = {f.address: f.message for f in out.failures}
    role = ROLE[kind]
    assert any(role in m for m in messages.values()), (messages, [c.address for c in out.applied])
    if kind == "arc":
        assert messages[f"home.identity[sys-{name}]"].startswith("no permission to change")
    else:
        label = f"{spec['site']}/{name}" if "site" in spec else name
        msg = messages[f"home.identity[umi-{name}].attach[{label}]"]
        assert role in msg and "Managed Identity Operator" in msg


# ---- a system-assigned identity turned off; a re-created host ----------------------------


def _one_host_config(w: World, tmp: Path, name: str, host_id: str) -> Path:
    t = w.sb.info["tenants"]["contoso"]
    path = tmp / f"{name}.yaml"
    path.write_text(
        "cloud: public\nhome:\n"
        f"  tenant_id: {t['tenant_id']}\n  subscription_id: {t['subscription_id']}\n"
        f"  identities:\n    - name: sys-{name}\n      system_assigned_of: {host_id}\n"
        f"  apps:\n    - key: {name}\n      display_name: Contoso {name}\n"
        f"      unique_name: contoso-{name}\n      redirect_uri: https://contoso.example/onboarded\n"
        f"      trusts: [sys-{name}]\n"
        "customers:\n  - name: tailspin\n    tenant: tailspin.onmicrosoft.com\n"
        f"    app: {name}\n"
    )
    return path


def _applied(w: World, mp: pytest.MonkeyPatch, path: Path) -> None:
    for k, v in w.env(admin="contoso").items():
        mp.setenv(k, v)
    out = home_apply(load_config(path), w.cloud, Options())
    assert out.ok, out.failures


def _verify_here(w: World, mp: pytest.MonkeyPatch, path: Path, host: str) -> Any:
    environ = _on_host(mp, w, host)
    return verify(
        load_config(path),
        w.cloud,
        customers=["tailspin"],
        host=host,
        home_credential=w.sb.admin_credential("contoso"),
        environ=environ,
    )


def test_system_identity_turned_off(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    host = world.sb.add_host("appservice", "web-off", system_assigned=True)
    path = _one_host_config(world, tmp_path, "web-off", host["resource_id"])
    _applied(world, monkeypatch, path)
    off = world.raw.arm(
        "PATCH", host["resource_id"], "2023-12-01", json={"identity": {"type": "None"}}
    )
    assert off.status_code == 200, off.text

    report = _verify_here(world, monkeypatch, path, "web-off")
    mi = next(r for r in report.rows if r.step == "mi_token")
    assert mi.status == "failed" and mi.diagnosis is not None
    assert "system-assigned identity of web-off is off" in mi.diagnosis.cause
    assert "ARM confirms it" in mi.diagnosis.cause
    assert "xtenant apply" in mi.diagnosis.fix

    for k, v in world.env(admin="contoso").items():
        monkeypatch.setenv(k, v)
    plan = {c.address: c for c in home_plan(load_config(path), world.cloud, Options()).plan.changes}
    enable = plan["home.identity[sys-web-off]"]
    assert enable.action.value == "update" and "enables" in (enable.note or "")
    fic = plan["home.app[web-off].fic[mi-sys-web-off]"]
    assert fic.action.value == "update" and "is off" in (fic.note or "")


def test_recreated_host_new_principal(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    host = world.sb.add_host("containerapp", "ca-recreated", system_assigned=True)
    path = _one_host_config(world, tmp_path, "ca-recreated", host["resource_id"])
    _applied(world, monkeypatch, path)
    before = world.raw.arm("GET", host["resource_id"], "2024-03-01").json()["identity"][
        "principalId"
    ]
    # deleted and made again (as a redeployment does): the same id, a new principal
    gone = world.raw.arm("DELETE", host["resource_id"], "2024-03-01")
    assert gone.status_code in (200, 202, 204), gone.text
    world.sb.add_host("containerapp", "ca-recreated", system_assigned=True)
    after = world.raw.arm("GET", host["resource_id"], "2024-03-01").json()["identity"][
        "principalId"
    ]
    assert after != before

    report = _verify_here(world, monkeypatch, path, "ca-recreated")
    mi = next(r for r in report.rows if r.step == "mi_token")
    assert mi.status == "failed" and mi.diagnosis is not None, mi
    assert "re-created" in mi.diagnosis.cause and before in mi.diagnosis.cause

    for k, v in world.env(admin="contoso").items():
        monkeypatch.setenv(k, v)
    plan = {c.address: c for c in home_plan(load_config(path), world.cloud, Options()).plan.changes}
    fic = plan["home.app[ca-recreated].fic[mi-sys-ca-recreated]"]
    assert fic.action.value == "update"
    assert [(f.field, f.before, f.after) for f in fic.fields] == [("subject", before, after)]
    assert "re-created" in (fic.note or "")


def test_arc_with_async_azure_identity(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """azure-identity's async AzureArcCredential reads the challenge itself (not MSAL's path)
    and checks that the key file lies in the agent's directory, is a .key and at most 4 KiB."""
    import asyncio

    from azure.identity.aio import ManagedIdentityCredential

    _skip_arc(world, "arc-onprem")
    _on_host(monkeypatch, world, "arc-onprem")

    async def token() -> str:
        async with ManagedIdentityCredential() as cred:
            return (await cred.get_token(world.cloud.exchange_scope)).token

    claims = _claims(asyncio.run(token()))
    assert (
        claims["xms_mirid"].lower() == world.sb.info["hosts"]["arc-onprem"]["resource_id"].lower()
    )
