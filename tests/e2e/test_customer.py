"""Customer-side tasks from a kit, against the sandbox with the real SDKs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_world import Home, Raw

from provisioning.chain import CrossTenantCredential, ManagedIdentityAssertion
from provisioning.core.plan import Action
from provisioning.core.runner import Options, customer_apply, customer_plan
from provisioning.kit.model import Kit, build_kit

pytestmark = pytest.mark.e2e

IDENTITY_API = "2023-01-31"
CONTOSO_SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
IDENTITIES = f"/subscriptions/{CONTOSO_SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities"


class Onboarding:
    """A home side applied on a fresh sandbox, and the kits it produces."""

    def __init__(self, sb: Any, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sb = sb
        self.mp = monkeypatch
        self.home = Home(sb, tmp, monkeypatch)
        out = self.home.apply()
        assert out.ok, out.failures
        self.identities = {}
        for name in ("umi-vector", "umi-runbooks"):
            p = self.home.raw.arm("GET", f"{IDENTITIES}/{name}", IDENTITY_API).json()
            self.identities[name] = {
                "client_id": p["properties"]["clientId"],
                "principal_id": p["properties"]["principalId"],
                "resource_id": p["id"],
            }
        self.app_ids = {}
        for key, unique in (("logs", "contoso-log-forwarder"), ("m365", "contoso-m365-manager")):
            self.app_ids[key] = self.home.raw.graph(
                "GET", f"applications(uniqueName='{unique}')"
            ).json()["appId"]

    def spec(self, customer: str) -> Kit:
        config = self.home.loaded().config
        kit = build_kit(
            config,
            self.home.cloud,
            customer,
            app_id=self.app_ids[config.customer(customer).app],
            home_identities=self.identities,
        )
        return kit

    def as_admin(self, tenant: str) -> Raw:
        for k, v in self.sb.env(admin=tenant).items():
            self.mp.setenv(k, v)
        return Raw(self.sb.info, tenant)

    def plan(self, spec: Kit, **kw: Any) -> Any:
        return customer_plan(spec, self.home.cloud, Options(), **kw)

    def apply(self, spec: Kit, **kw: Any) -> Any:
        return customer_apply(spec, self.home.cloud, Options(), **kw)


@pytest.fixture()
def onboarding(fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Onboarding:
    return Onboarding(fresh_sandbox, tmp_path, monkeypatch)


def _sps(raw: Raw, app_id: str) -> list[dict[str, Any]]:
    r = raw.graph("GET", "servicePrincipals", params={"$filter": f"appId eq '{app_id}'"})
    assert r.status_code == 200, r.text
    return r.json()["value"]


def _assignments(raw: Raw, scope: str, principal: str) -> list[dict[str, Any]]:
    r = raw.arm(
        "GET",
        f"{scope}/providers/Microsoft.Authorization/roleAssignments",
        "2022-04-01",
        params={"$filter": f"principalId eq '{principal}'"},
    )
    assert r.status_code == 200, r.text
    return r.json()["value"]


def test_customer_plan_shows_exactly_what_will_be_granted(onboarding: Onboarding) -> None:
    spec = onboarding.spec("litware")
    onboarding.as_admin("litware")
    mark = onboarding.sb.mark()
    out = onboarding.plan(spec)
    assert out.ok, out.failures
    assert onboarding.sb.writes(mark) == []
    pending = {c.address: c for c in out.plan.pending}
    assert set(pending) == {
        "customer[litware].service_principal",
        "customer[litware].role[Monitoring Metrics Publisher @ dcr-vector]",
    }
    role = pending["customer[litware].role[Monitoring Metrics Publisher @ dcr-vector]"]
    assert role.action is Action.CREATE
    assert {f.field: f.after for f in role.fields}["scope"] == spec.roles[0].scope


def test_customer_apply_then_noop_then_remove(onboarding: Onboarding) -> None:
    spec = onboarding.spec("litware")
    raw = onboarding.as_admin("litware")
    out = onboarding.apply(spec)
    assert out.ok, out.failures
    sps = _sps(raw, spec.app_id)
    assert len(sps) == 1
    assigned = _assignments(raw, spec.roles[0].scope, sps[0]["id"])
    assert [(a["name"], a["properties"]["principalType"]) for a in assigned] == [
        (spec.roles[0].assignment_name, "ServicePrincipal")
    ]

    mark = onboarding.sb.mark()
    again = onboarding.apply(spec)
    assert again.ok and again.applied == []
    assert onboarding.sb.writes(mark) == []

    gone = onboarding.apply(spec, remove=True)
    assert gone.ok, gone.failures
    assert _sps(raw, spec.app_id) == []
    assert _assignments(raw, spec.roles[0].scope, sps[0]["id"]) == []


def test_replication_delay_and_lost_responses_converge_without_duplicates(
    onboarding: Onboarding,
) -> None:
    spec = onboarding.spec("litware")
    raw = onboarding.as_admin("litware")
    onboarding.sb.settings(replication_delay_s=3)
    onboarding.sb.fault("lose_response", method="PUT|PATCH|POST", service="arm", per_path=True)
    onboarding.sb.fault("lose_response", method="PUT|PATCH|POST", service="graph", per_path=True)
    out = onboarding.apply(spec)
    assert out.ok, out.failures
    onboarding.sb.clear_faults()
    sps = _sps(raw, spec.app_id)
    assert len(sps) == 1
    assert len(_assignments(raw, spec.roles[0].scope, sps[0]["id"])) == 1
    assert not onboarding.plan(spec).plan.has_changes


def test_existing_assignment_under_another_name_counts_as_present(onboarding: Onboarding) -> None:
    spec = onboarding.spec("litware")
    raw = onboarding.as_admin("litware")
    assert onboarding.apply(spec).ok
    sp = _sps(raw, spec.app_id)[0]["id"]
    scope = spec.roles[0].scope
    r = raw.arm(
        "DELETE",
        f"{scope}/providers/Microsoft.Authorization/roleAssignments/{spec.roles[0].assignment_name}",
        "2022-04-01",
    )
    assert r.status_code == 200, r.text
    other = "0b7a8b8e-1111-4c2a-9d3e-5f6a7b8c9d0e"
    r = raw.arm(
        "PUT",
        f"{scope}/providers/Microsoft.Authorization/roleAssignments/{other}",
        "2022-04-01",
        json={
            "properties": {
                "roleDefinitionId": f"/providers/Microsoft.Authorization/roleDefinitions/{spec.roles[0].role_id}",
                "principalId": sp,
                "principalType": "ServicePrincipal",
            }
        },
    )
    assert r.status_code == 201, r.text
    mark = onboarding.sb.mark()
    out = onboarding.plan(spec)
    assert not out.plan.has_changes
    assert onboarding.sb.writes(mark) == []


def test_graph_permissions_for_the_m365_customer(onboarding: Onboarding) -> None:
    spec = onboarding.spec("fabrikam")
    raw = onboarding.as_admin("fabrikam")
    out = onboarding.apply(spec)
    assert out.ok, out.failures
    sp = _sps(raw, spec.app_id)[0]["id"]
    r = raw.graph("GET", f"servicePrincipals/{sp}/appRoleAssignments")
    granted = {a["appRoleId"] for a in r.json()["value"]}
    assert granted == {g.id for g in spec.graph_app_roles}
    assert onboarding.apply(spec, remove=True).ok
    assert _sps(raw, spec.app_id) == []


def test_logs_flow_from_the_vm_into_the_customer_dcr(
    onboarding: Onboarding, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The seed's Vector scenario: VM → MI token → litware token → Logs Ingestion upload."""
    spec = onboarding.spec("litware")
    raw = onboarding.as_admin("litware")
    assert onboarding.apply(spec).ok
    dcr = raw.arm("GET", spec.roles[0].scope, "2022-06-01").json()
    dce = raw.arm("GET", dcr["properties"]["dataCollectionEndpointId"], "2022-06-01").json()
    for k in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"):
        monkeypatch.delenv(k, raising=False)
    for k, v in onboarding.sb.env(host="vm-vector").items():
        monkeypatch.setenv(k, v)
    from azure.monitor.ingestion import LogsIngestionClient

    assertion = ManagedIdentityAssertion(
        onboarding.home.cloud, onboarding.identities["umi-vector"]["client_id"]
    )
    cred = CrossTenantCredential(
        spec.app_id, "litware.onmicrosoft.com", cloud=onboarding.home.cloud, assertion=assertion
    )
    client = LogsIngestionClient(dce["properties"]["logsIngestion"]["endpoint"], credential=cred)
    client.upload(
        rule_id=dcr["properties"]["immutableId"],
        stream_name="Custom-vector_CL",
        logs=[
            {
                "TimeGenerated": "2026-11-24T12:00:00Z",
                "message": "hello litware",
                "host": "vm-vector",
            }
        ],
    )
    records = onboarding.sb.ingested("Custom-vector_CL")
    assert any(r.get("record", r).get("message") == "hello litware" for r in records), records
    # other scopes and other tenants reuse the one MI token (the assertion is shared)
    cred.get_token("https://management.azure.com/.default")
    fabrikam = CrossTenantCredential(
        spec.app_id, "fabrikam.onmicrosoft.com", cloud=onboarding.home.cloud, assertion=assertion
    )
    from azure.core.exceptions import ClientAuthenticationError

    with pytest.raises(ClientAuthenticationError, match="AADSTS700016"):  # fabrikam never consented
        fabrikam.get_token("https://management.azure.com/.default")
    assert assertion.fetches == 1
