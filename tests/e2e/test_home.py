"""The home engine against the sandbox with the real SDKs over HTTPS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_world import Home

from provisioning.core.plan import Action

pytestmark = pytest.mark.e2e

IDENTITY_API = "2023-01-31"
VM_API = "2024-03-01"
CONTOSO_SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
VM = f"/subscriptions/{CONTOSO_SUB}/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-vector"
UAMI = (
    f"/subscriptions/{CONTOSO_SUB}/resourceGroups/rg-identity/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/umi-vector"
)


@pytest.fixture()
def home(fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    return Home(fresh_sandbox, tmp_path, monkeypatch)


def _by_address(outcome: Any) -> dict[str, Any]:
    return {c.address: c for c in outcome.plan.pending}


def _apps_named(home: Home, unique_name: str) -> list[dict[str, Any]]:
    r = home.raw.graph("GET", "applications", params={"$filter": f"uniqueName eq '{unique_name}'"})
    assert r.status_code == 200, r.text
    return r.json()["value"]


def _fics(home: Home, unique_name: str) -> list[dict[str, Any]]:
    r = home.raw.graph(
        "GET", f"applications(uniqueName='{unique_name}')/federatedIdentityCredentials"
    )
    assert r.status_code == 200, r.text
    return r.json()["value"]


def _assert_converged(home: Home) -> None:
    """Exactly one of everything, and a plan with nothing to do."""
    for name in ("contoso-log-forwarder", "contoso-m365-manager"):
        assert len(_apps_named(home, name)) == 1
        assert len(_fics(home, name)) == 1
    r = home.raw.arm(
        "GET",
        f"/subscriptions/{CONTOSO_SUB}/resourceGroups/rg-identity/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities",
        IDENTITY_API,
    )
    assert sorted(i["name"] for i in r.json()["value"]) == ["umi-runbooks", "umi-vector"]
    vm = home.raw.arm("GET", VM, VM_API).json()
    assert [k.lower() for k in vm["identity"]["userAssignedIdentities"]] == [UAMI.lower()]
    outcome = home.plan()
    assert outcome.ok, outcome.failures
    assert not outcome.plan.has_changes, outcome.plan.pending


def test_fresh_tenant_apply_then_second_apply_writes_nothing(home: Home) -> None:
    first = home.plan()
    assert first.ok, first.failures
    assert {c.action for c in first.plan.pending} == {Action.CREATE, Action.UPDATE}
    mark = home.sb.mark()
    assert home.sb.writes(mark) == []  # plan never writes

    out = home.apply()
    assert out.ok, out.failures
    assert len(out.applied) == 8
    assert home.sb.writes(mark), "apply should have written"
    _assert_converged(home)

    mark = home.sb.mark()
    again = home.apply()
    assert again.ok and again.applied == []
    assert home.sb.writes(mark) == []


def test_noop_plan_request_count(home: Home) -> None:
    assert home.apply().ok
    mark = home.sb.mark()
    assert not home.plan().plan.has_changes
    stats = home.sb.stats(mark)
    # 2 identities + 2 attachments (ARM), 2 apps + 2 FIC lists (Graph): one read each
    assert stats["write"] == 0
    assert stats["read"] == 8
    assert stats["by_service"]["arm"]["read"] == 4 and stats["by_service"]["graph"]["read"] == 4


def test_drift_fic_subject_set_to_client_id(home: Home) -> None:
    assert home.apply().ok
    uami = home.raw.arm("GET", UAMI, IDENTITY_API).json()["properties"]
    r = home.raw.graph(
        "PATCH",
        "applications(uniqueName='contoso-log-forwarder')/"
        "federatedIdentityCredentials/mi-umi-vector",
        json={"subject": uami["clientId"]},
    )
    assert r.status_code == 204, r.text
    pending = _by_address(home.plan())
    change = pending["home.app[logs].fic[mi-umi-vector]"]
    assert change.action is Action.UPDATE
    assert [(f.field, f.before, f.after) for f in change.fields] == [
        ("subject", uami["clientId"], uami["principalId"])
    ]
    assert len(pending) == 1
    assert home.apply().ok
    _assert_converged(home)


def test_drift_identity_removed_from_vm(home: Home) -> None:
    assert home.apply().ok
    r = home.raw.arm("PATCH", VM, VM_API, json={"identity": {"type": "None"}})
    assert r.status_code in (200, 202), r.text
    pending = _by_address(home.plan())
    assert list(pending) == ["home.identity[umi-vector].attach[vm-vector]"]
    assert home.apply().ok
    _assert_converged(home)


def test_drift_app_renamed(home: Home) -> None:
    assert home.apply().ok
    r = home.raw.graph(
        "PATCH",
        "applications(uniqueName='contoso-log-forwarder')",
        json={"displayName": "Renamed by someone"},
    )
    assert r.status_code == 204, r.text
    pending = _by_address(home.plan())
    assert list(pending) == ["home.app[logs]"]
    assert [(f.field, f.before, f.after) for f in pending["home.app[logs]"].fields] == [
        ("displayName", "Renamed by someone", "Contoso Log Forwarder")
    ]
    assert home.apply().ok
    _assert_converged(home)


def test_lost_response_after_each_write_converges_without_duplicates(home: Home) -> None:
    home.sb.fault("lose_response", method="PUT|PATCH|POST|DELETE", service="arm", per_path=True)
    home.sb.fault("lose_response", method="PUT|PATCH|POST|DELETE", service="graph", per_path=True)
    out = home.apply()
    assert out.ok, out.failures
    lost = [e for e in home.sb.requests() if e["fault"] == "lose_response"]
    assert len(lost) >= 6  # every distinct write lost its response once
    home.sb.clear_faults()
    _assert_converged(home)


def test_throttling_20_percent_is_honoured(home: Home) -> None:
    home.sb.fault("throttle", service="arm", probability=0.2, retry_after=1)
    home.sb.fault("throttle", service="graph", probability=0.2, retry_after=1)
    out = home.apply()
    assert out.ok, out.failures
    assert any(e["status"] == 429 for e in home.sb.requests())
    home.sb.clear_faults()
    _assert_converged(home)


def test_5xx_bursts(home: Home) -> None:
    home.sb.fault("error", service="arm", status=503, count=3)
    home.sb.fault("error", service="graph", status=503, count=3)
    out = home.apply()
    assert out.ok, out.failures
    assert sum(1 for e in home.sb.requests() if e["status"] == 503) == 6
    home.sb.clear_faults()
    _assert_converged(home)


def _limited_admin(sb: Any, monkeypatch: pytest.MonkeyPatch, roles: list[tuple[str, str]]) -> None:
    """A second contoso principal with only the given (role id, scope) assignments."""
    tid = sb.info["tenants"]["contoso"]["tenant_id"]
    admin = sb.world.directory.create_admin(
        tid, "limited-admin", graph_roles=("Application.ReadWrite.All",)
    )
    for role_id, scope in roles:
        sb.world.arm.assign_role(scope, role_id, admin["principal_id"], "ServicePrincipal")
    monkeypatch.setenv("AZURE_CLIENT_ID", admin["client_id"])
    monkeypatch.setenv("AZURE_CLIENT_SECRET", admin["client_secret"])


READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
MI_CONTRIBUTOR = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59"
MI_OPERATOR = "f1a07417-d97a-45cb-824c-7a7467783830"


def test_missing_identity_permission_names_role_and_scope(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limited_admin(home.sb, monkeypatch, [(READER, f"/subscriptions/{CONTOSO_SUB}")])
    out = home.apply()
    msgs = {f.address: f.message for f in out.failures}
    assert "home.identity[umi-vector]" in msgs, msgs
    assert "Managed Identity Contributor" in msgs["home.identity[umi-vector]"]
    assert "rg-identity" in msgs["home.identity[umi-vector]"]


def test_missing_vm_permission_names_both_roles(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limited_admin(
        home.sb,
        monkeypatch,
        [
            (READER, f"/subscriptions/{CONTOSO_SUB}"),
            (MI_CONTRIBUTOR, f"/subscriptions/{CONTOSO_SUB}/resourceGroups/rg-identity"),
        ],
    )
    out = home.apply()
    msgs = {f.address: f.message for f in out.failures}
    attach = msgs.get("home.identity[umi-vector].attach[vm-vector]", "")
    assert "Virtual Machine Contributor" in attach and "Managed Identity Operator" in attach, msgs
    # the identities themselves were created and are reported, not left half-done silently
    assert not any(
        a.startswith("home.identity[umi-vector]") and a.endswith("]") and "attach" not in a
        for a in msgs
    )


def test_chain_works_afterwards_from_the_vm(home: Home, monkeypatch: pytest.MonkeyPatch) -> None:
    text = home.path.read_text().replace(
        "      trusts: [umi-vector]\n",
        "      trusts: [umi-vector]\n      service_principal: true\n",
    )
    home.path.write_text(text)
    out = home.apply()
    assert out.ok, out.failures
    from azure.identity import ClientAssertionCredential, ManagedIdentityCredential

    uami = home.raw.arm("GET", UAMI, IDENTITY_API).json()["properties"]
    app_id = _apps_named(home, "contoso-log-forwarder")[0]["appId"]
    for k, v in home.sb.env(host="vm-vector").items():
        monkeypatch.setenv(k, v)
    mi = ManagedIdentityCredential(client_id=uami["clientId"])
    cred = ClientAssertionCredential(
        home.sb.info["tenants"]["contoso"]["tenant_id"],
        app_id,
        lambda: mi.get_token("api://AzureADTokenExchange/.default").token,
        authority=home.sb.info["authority"],
        disable_instance_discovery=True,
    )
    token = cred.get_token("https://management.azure.com/.default")
    from provisioning.chain.claims import decode

    claims = decode(token.token)["claims"]
    assert claims["appid"] == app_id
    assert claims["tid"] == home.sb.info["tenants"]["contoso"]["tenant_id"]


def test_revoke_removes_every_credential_and_the_chain_stops(
    home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    from provisioning.core.runner import revoke_apply, revoke_plan

    assert home.apply().ok
    planned = revoke_plan(home.loaded(), home.cloud, "logs")
    assert [c.address for c in planned.plan.pending] == ["home.app[logs].fic[mi-umi-vector]"]
    mark = home.sb.mark()
    assert home.sb.writes(mark) == []
    out = revoke_apply(home.loaded(), home.cloud, "logs")
    assert out.ok, out.failures
    assert _fics(home, "contoso-log-forwarder") == []
    assert len(_fics(home, "contoso-m365-manager")) == 1  # other apps untouched
    pending = _by_address(home.plan())
    assert list(pending) == ["home.app[logs].fic[mi-umi-vector]"]  # apply would restore it
