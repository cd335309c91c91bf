"""``verify`` against the sandbox with the real SDKs: a healthy chain for two customers,
then each way the chain breaks — produced for real on the sandbox, behind xtenant's back —
and the cause ``verify`` names for it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_world import Home, Raw

from provisioning.chain.verify import Row, VerifyReport, render_table, verify
from provisioning.core.catalog import graph, roles
from provisioning.core.runner import customer_apply
from provisioning.kit.ids import assignment_name, role_definition_id
from provisioning.kit.model import Kit, KitRole, build_kit, graph_roles

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]

CONTOSO_SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
LITWARE_SUB = "5b1d7e20-6c3f-4a81-8b92-117a3e000a02"
VM = f"/subscriptions/{CONTOSO_SUB}/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-vector"
IDENTITY_RG = f"/subscriptions/{CONTOSO_SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
DCR = f"/subscriptions/{LITWARE_SUB}/resourceGroups/rg-logs/providers/Microsoft.Insights/dataCollectionRules/dcr-vector"
DCE = f"/subscriptions/{LITWARE_SUB}/resourceGroups/rg-logs/providers/Microsoft.Insights/dataCollectionEndpoints/dce-vector"
STREAM = "Custom-vector_CL"
MMP = roles.lookup("Monitoring Metrics Publisher")
MONITORING_READER = roles.lookup("Monitoring Reader")
SITES_READ_ALL = graph.lookup("Sites.Read.All")
JWT = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.")
HOST_VARS = ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "IDENTITY_ENDPOINT", "IDENTITY_HEADER")
ADMIN_VARS = ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID")
FIC_PATH = (
    "applications(uniqueName='contoso-log-forwarder')/federatedIdentityCredentials/mi-umi-vector"
)


def tenant_wide_sites(text: str) -> str:
    """The demo configuration with Fabrikam on the tenant-wide Sites.Read.All instead of
    Sites.Selected and a site grant: the scenarios here are about one Graph permission (the
    scoped grants' probes are exercised in test_scoped.py)."""
    out = re.sub(
        r"graph_app_roles: \[Sites\.Selected\][^\n]*", "graph_app_roles: [Sites.Read.All]", text
    )
    out = re.sub(r"\n    site_permissions:.*?(?=\n  - name: |\Z)", "", out, flags=re.S)
    assert "site_permissions" not in out and "Sites.Selected" not in out
    return out


class Chain:
    """The demo chain built on a fresh sandbox: contoso's home side through ``xtenant apply``,
    each customer's side through ``customer apply`` with their own admin."""

    def __init__(
        self,
        sb: Any,
        tmp: Path,
        monkeypatch: pytest.MonkeyPatch,
        extra_roles: str = "",
        roles_first: str = "",
    ) -> None:
        self.sb = sb
        self.mp = monkeypatch
        self.outputs: list[str] = []
        self.litware = Raw(sb.info, "litware")
        dce = self.litware.arm("GET", DCE, "2022-06-01").json()
        dcr = self.litware.arm("GET", DCR, "2022-06-01").json()
        self.dcr_immutable_id = dcr["properties"]["immutableId"]
        self.dce_endpoint = dce["properties"]["logsIngestion"]["endpoint"]
        text = tenant_wide_sites((REPO / "examples" / "sandbox.yaml").read_text())
        probe = (
            "    probe:\n"
            "      logs_ingestion:\n"
            f"        endpoint: {self.dce_endpoint}\n"
            f"        dcr_immutable_id: {self.dcr_immutable_id}\n"
            f"        stream: {STREAM}\n"
        )
        marker = "        why: Vector publishes your logs to this data collection rule.\n"
        assert marker in text
        if "logs_ingestion:" in text:  # the demo config asks for it (values from the env)
            probe = ""
        text = text.replace(marker, marker + extra_roles + probe)
        first = "      - role: Monitoring Metrics Publisher\n"
        text = text.replace(first, roles_first + first, 1)
        self.home = Home(sb, tmp, monkeypatch, config_text=text)
        self.raw = self.home.raw
        out = self.home.apply()
        assert out.ok, out.failures
        self.app_ids = {
            key: self.raw.graph("GET", f"applications(uniqueName='{u}')").json()["appId"]
            for key, u in (("logs", "contoso-log-forwarder"), ("m365", "contoso-m365-manager"))
        }
        self.uami = {
            n: self.raw.arm("GET", f"{IDENTITY_RG}/{n}", "2023-01-31").json()["properties"]
            for n in ("umi-vector", "umi-runbooks")
        }
        self.tid = {n: t["tenant_id"] for n, t in sb.info["tenants"].items()}

    # ---- the customer side, as each customer's admin -----------------------------------
    def spec(
        self, customer: str, *, roles_: tuple[Any, ...] | None = None, graph_: bool = True
    ) -> Kit:
        """The kit for ``customer``, with the grants narrowed to ``roles_`` / no Graph."""
        config = self.home.loaded().config
        app_id = self.app_ids[config.customer(customer).app]
        kit = build_kit(config, self.home.cloud, customer, app_id=app_id, home_identities={})
        if customer == "litware":
            grants = roles_ if roles_ is not None else ((MMP, DCR),)
            ordered = tuple(
                KitRole(
                    role=r.name,
                    role_id=r.id,
                    role_definition_id=role_definition_id(r.id, scope),
                    scope=scope,
                    why=None,
                    description=r.description,
                    assignment_name=assignment_name(scope, r.id, app_id),
                )
                for r, scope in grants
            )
            return kit.model_copy(
                update={
                    "roles": ordered,
                    "assignment_names": tuple(r.assignment_name for r in ordered),
                }
            )
        return kit.model_copy(
            update={"graph_app_roles": graph_roles([SITES_READ_ALL] if graph_ else [])}
        )

    def onboard(self, customer: str, **kw: Any) -> None:
        for k, v in self.sb.env(admin=customer).items():
            self.mp.setenv(k, v)
        out = customer_apply(self.spec(customer, **kw), self.home.cloud)
        assert out.ok, out.failures

    def as_home_admin(self) -> None:
        for k in HOST_VARS:
            self.mp.delenv(k, raising=False)
        for k, v in self.sb.env(admin="contoso").items():
            self.mp.setenv(k, v)

    # ---- "on the host" -------------------------------------------------------------------
    def home_credential(self) -> Any:
        return self.sb.admin_credential("contoso")

    def verify(
        self, customer: str | None, host: str, *, admin: bool = True, **kw: Any
    ) -> VerifyReport:
        for k in (*HOST_VARS, *ADMIN_VARS):
            self.mp.delenv(k, raising=False)
        for k, v in self.sb.env(host=host).items():
            self.mp.setenv(k, v)
        kw.setdefault("probe", True)
        kw.setdefault("home_credential", self.home_credential() if admin else None)
        report = verify(
            self.home.loaded(),
            self.home.cloud,
            customers=[customer] if customer else None,
            host=host,
            **kw,
        )
        self.outputs += [render_table(report), json.dumps(report.to_json()), report.dumps()]
        return report


@pytest.fixture()
def chain(fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Chain]:
    c = Chain(fresh_sandbox, tmp_path, monkeypatch)
    yield c
    for text in c.outputs:  # every test: nothing token-shaped in any output
        assert not JWT.search(text), JWT.search(text)


def _statuses(report: VerifyReport, customer: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for r in report.rows_for(customer):
        key = f"{r.step}[{r.target}]" if r.step == "probe:arm" else r.step
        out[key] = r.status
    return out


def _failed(report: VerifyReport, customer: str, step: str) -> Row:
    row = report.row(customer, step)
    assert row is not None, render_table(report)
    assert row.status == "failed", render_table(report)
    assert row.diagnosis is not None
    return row


# =====================================================================================
# Healthy
# =====================================================================================


def test_healthy_chain_verifies_for_both_customers(chain: Chain) -> None:
    chain.onboard("litware")
    chain.onboard("fabrikam")

    lw = chain.verify("litware", "vm-vector")
    assert lw.ok, render_table(lw)
    assert _statuses(lw, "litware") == {
        "mi_token": "ok",
        "home_exchange": "ok",
        "exchange:arm": "ok",
        "exchange:monitor": "ok",
        f"probe:arm[{DCR}]": "skipped",
        "probe:logs": "ok",
    }
    mi = lw.row("litware", "mi_token")
    assert mi is not None
    assert mi.data["endpoint_kind"] == "IMDS"
    assert mi.data["identity"] == "umi-vector"
    assert mi.data["claims"]["sub"] == chain.uami["umi-vector"]["principalId"]
    assert mi.data["checks"]["fic"] == "matches mi-umi-vector"
    home = lw.row("litware", "home_exchange")
    assert home is not None and home.note and home.diagnosis.code == "AADSTS7000229"
    skipped = lw.row("litware", "probe:arm")
    assert skipped is not None and "Monitoring Metrics Publisher cannot read" in skipped.detail
    records = [r["record"] for r in chain.sb.world.monitor.records(STREAM)]
    assert len(records) == 1 and records[0]["xtenant_probe"] is True

    fb = chain.verify("fabrikam", "aa-runbooks")
    assert fb.ok, render_table(fb)
    assert _statuses(fb, "fabrikam") == {
        "mi_token": "ok",
        "home_exchange": "ok",
        "exchange:graph": "ok",
        "probe:graph": "ok",
    }
    mi = fb.row("fabrikam", "mi_token")
    assert mi is not None and mi.data["endpoint_kind"] == "App Service / Automation"
    assert mi.data["claims"]["sub"] == chain.uami["umi-runbooks"]["principalId"]
    graph_row = fb.row("fabrikam", "exchange:graph")
    assert graph_row is not None and graph_row.data["claims"]["roles"] == ["Sites.Read.All"]

    table = render_table(fb)
    assert "fabrikam" in table and "probe:graph" in table
    doc = fb.to_json()
    assert doc["ok"] is True and doc["version"] == 1
    assert [s["step"] for s in doc["customers"][0]["steps"]] == [
        "mi_token",
        "home_exchange",
        "exchange:graph",
        "probe:graph",
    ]


# =====================================================================================
# Broken, for real
# =====================================================================================


def test_unconsented_customer(chain: Chain) -> None:
    report = chain.verify("litware", "vm-vector")  # litware's admin never onboarded
    assert not report.ok
    assert report.row("litware", "mi_token").status == "ok"
    for step in ("exchange:arm", "exchange:monitor"):
        d = _failed(report, "litware", step).diagnosis
        assert d.code == "AADSTS700016"
        assert "litware" in d.cause and "has not consented" in d.cause
        assert chain.app_ids["logs"] in d.cause
        assert f"/litware.onmicrosoft.com/adminconsent?client_id={chain.app_ids['logs']}" in d.fix
        assert "kits/litware/kit.json" in d.fix
    assert report.row("litware", "probe:logs").status == "skipped"


def _patch_fic(chain: Chain, body: dict[str, Any]) -> None:
    r = chain.raw.graph("PATCH", FIC_PATH, json=body)
    assert r.status_code == 204, r.text


def test_fic_subject_is_the_client_id(chain: Chain) -> None:
    chain.onboard("litware")
    client_id = chain.uami["umi-vector"]["clientId"]
    principal_id = chain.uami["umi-vector"]["principalId"]
    _patch_fic(chain, {"subject": client_id})
    report = chain.verify("litware", "vm-vector")
    mi = _failed(report, "litware", "mi_token")
    assert mi.data["checks"]["fic"] == "no FIC matches"
    row = _failed(report, "litware", "exchange:arm")
    d = row.diagnosis
    assert d.code == "AADSTS700213"
    assert (
        f"the subject is the identity's client id ({client_id}); it must be its principal id"
        in d.cause
    )
    assert principal_id in d.cause
    assert "xtenant apply" in d.fix
    assert any("subject ≠" in line and client_id in line for line in d.details)
    assert mi.diagnosis.cause == d.cause  # predicted from the claims before Entra said it


def test_fic_wrong_audience(chain: Chain) -> None:
    chain.onboard("litware")
    _patch_fic(chain, {"audiences": ["api://AzureADTokenExchangeUSGov"]})
    report = chain.verify("litware", "vm-vector")
    d = _failed(report, "litware", "exchange:arm").diagnosis
    assert d.code == "AADSTS700212"
    assert "api://AzureADTokenExchangeUSGov" in d.cause
    assert "do not include the exchange audience api://AzureADTokenExchange" in d.cause
    assert "audiences = [api://AzureADTokenExchange]" in d.fix


def test_fic_removed(chain: Chain) -> None:
    chain.onboard("litware")
    r = chain.raw.graph("DELETE", FIC_PATH)
    assert r.status_code == 204, r.text
    report = chain.verify("litware", "vm-vector")
    d = _failed(report, "litware", "exchange:arm").diagnosis
    assert d.code == "AADSTS70021"
    assert "has no federated identity credential at all" in d.cause
    assert "umi-vector" in d.cause
    assert "xtenant apply" in d.fix and "mi-umi-vector" in d.fix


def test_fic_just_recreated_is_still_propagating(chain: Chain) -> None:
    chain.onboard("litware")
    chain.sb.settings(fic_propagation_s=600)
    assert chain.raw.graph("DELETE", FIC_PATH).status_code == 204
    chain.as_home_admin()
    assert chain.home.apply().ok  # xtenant recreates it; Entra does not honour it yet
    report = chain.verify("litware", "vm-vector")
    assert report.row("litware", "mi_token").status == "ok"  # the FIC is right
    d = _failed(report, "litware", "exchange:arm").diagnosis
    assert d.code == "AADSTS70021"
    assert "matches the assertion exactly" in d.cause and "propagation" in d.cause
    assert "wait a few minutes" in d.fix


def test_identity_detached_from_the_vm(chain: Chain) -> None:
    chain.onboard("litware")
    r = chain.raw.arm("PATCH", VM, "2024-03-01", json={"identity": {"type": "None"}})
    assert r.status_code in (200, 202), r.text
    report = chain.verify("litware", "vm-vector")
    d = _failed(report, "litware", "mi_token").diagnosis
    assert d.code == "MI_IDENTITY_NOT_FOUND"
    assert "umi-vector" in d.cause and "vm-vector" in d.cause
    assert "ARM confirms it is not attached" in d.cause
    assert "`xtenant apply -c" in d.fix and "attaches umi-vector to vm-vector" in d.fix
    assert {r.status for r in report.rows_for("litware")} == {"failed", "skipped"}

    # without a home credential: the identity by client id, the config tells the rest
    report = chain.verify(
        "litware", "vm-vector", admin=False, identity=chain.uami["umi-vector"]["clientId"]
    )
    d = _failed(report, "litware", "mi_token").diagnosis
    assert d.code == "MI_IDENTITY_NOT_FOUND"
    assert "vm-vector" in d.cause and "attach_to declares it" in d.cause
    assert "xtenant apply" in d.fix


def test_several_identities_and_none_chosen(chain: Chain) -> None:
    chain.onboard("litware")
    extra = chain.raw.arm(
        "PUT", f"{IDENTITY_RG}/umi-extra", "2023-01-31", json={"location": "westus2"}
    ).json()
    vm = chain.raw.arm("GET", VM, "2024-03-01").json()
    users = {k: {} for k in vm["identity"]["userAssignedIdentities"]}
    users[extra["id"]] = {}
    r = chain.raw.arm(
        "PATCH",
        VM,
        "2024-03-01",
        json={"identity": {"type": "UserAssigned", "userAssignedIdentities": users}},
    )
    assert r.status_code in (200, 202), r.text
    report = chain.verify("litware", "vm-vector", admin=False)
    d = _failed(report, "litware", "mi_token").diagnosis
    assert d.code == "MI_MULTIPLE_IDENTITIES"
    assert "vm-vector" in d.cause and "none was chosen" in d.cause
    assert "--identity" in d.fix and "umi-vector" in d.fix
    # choosing it by client id is the fix (app ids given: no home credential to look them up)
    report = chain.verify(
        "litware",
        "vm-vector",
        admin=False,
        identity=chain.uami["umi-vector"]["clientId"],
        app_ids=chain.app_ids,
    )
    assert report.ok, render_table(report)


def test_role_missing_on_the_dcr(chain: Chain) -> None:
    chain.onboard("litware")
    name = assignment_name(DCR, MMP.id, chain.app_ids["logs"])
    r = chain.litware.arm(
        "DELETE", f"{DCR}/providers/Microsoft.Authorization/roleAssignments/{name}", "2022-04-01"
    )
    assert r.status_code == 200, r.text
    report = chain.verify("litware", "vm-vector")
    assert report.row("litware", "exchange:monitor").status == "ok"  # tokens still flow
    d = _failed(report, "litware", "probe:logs").diagnosis
    assert d.code == "LOGS_INGESTION_FORBIDDEN"
    assert "Monitoring Metrics Publisher" in d.cause and DCR in d.cause
    assert "xtenant customer apply --kit kits/litware/kit.json" in d.fix
    assert f'--role "Monitoring Metrics Publisher" --scope {DCR}' in d.fix
    assert chain.sb.world.monitor.records(STREAM) == []


def test_ingestion_denial_names_the_declared_role_that_carries_the_data_action(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Monitoring Reader (listed first) and Monitoring Metrics Publisher on one DCR, the
    latter not granted: the 403 is about Metrics Publisher, the role with Telemetry/Write."""
    reader = f"      - role: Monitoring Reader\n        scope: {DCR}\n"
    chain = Chain(fresh_sandbox, tmp_path, monkeypatch, roles_first=reader)
    chain.onboard("litware", roles_=((MONITORING_READER, DCR),))
    report = chain.verify("litware", "vm-vector")
    d = _failed(report, "litware", "probe:logs").diagnosis
    assert d.code == "LOGS_INGESTION_FORBIDDEN"
    assert "needs Monitoring Metrics Publisher" in d.cause and "Monitoring Reader" not in d.cause
    assert f'--role "Monitoring Metrics Publisher" --scope {DCR}' in d.fix


def test_arm_read_role_missing(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = f"      - role: Monitoring Reader\n        scope: {DCR}\n"
    chain = Chain(fresh_sandbox, tmp_path, monkeypatch, extra_roles=reader)
    chain.onboard("litware", roles_=((MMP, DCR),))  # the admin granted only one of the two
    report = chain.verify("litware", "vm-vector")
    rows = {r.data["role"]: r for r in report.rows_for("litware", "probe:arm")}
    assert rows["Monitoring Metrics Publisher"].status == "skipped"
    bad = rows["Monitoring Reader"]
    assert bad.status == "failed" and bad.diagnosis.code == "AuthorizationFailed"
    assert "Monitoring Reader is not assigned" in bad.diagnosis.cause
    assert "Microsoft.Insights/dataCollectionRules/read" in bad.diagnosis.cause
    assert f'--role "Monitoring Reader" --scope {DCR}' in bad.diagnosis.fix
    assert report.row("litware", "probe:logs").status == "ok"

    chain.onboard("litware", roles_=((MMP, DCR), (MONITORING_READER, DCR)))
    report = chain.verify("litware", "vm-vector")
    assert report.ok, render_table(report)
    rows = {r.data["role"]: r for r in report.rows_for("litware", "probe:arm")}
    assert rows["Monitoring Reader"].status == "ok"
    for text in chain.outputs:
        assert not JWT.search(text)


def test_graph_permission_not_granted(chain: Chain) -> None:
    chain.onboard("fabrikam", graph_=False)  # consented before Sites.Read.All was granted
    report = chain.verify("fabrikam", "aa-runbooks")
    ex = _failed(report, "fabrikam", "exchange:graph")
    assert ex.diagnosis.code == "GRAPH_ROLES_MISSING"
    probe = _failed(report, "fabrikam", "probe:graph")
    d = probe.diagnosis
    assert d.code == "accessDenied"
    for diag in (ex.diagnosis, d):
        assert "Sites.Read.All" in diag.cause and "fabrikam" in diag.cause
        assert "admin consent is needed again" in diag.fix
        assert "/fabrikam.onmicrosoft.com/v2.0/adminconsent" in diag.fix


def test_app_registered_in_the_customer_tenant(chain: Chain) -> None:
    lw = chain.litware
    app = lw.graph(
        "POST",
        "applications",
        json={
            "displayName": "Forwarder registered at Litware",
            "signInAudience": "AzureADMultipleOrgs",
        },
    ).json()
    r = lw.graph(
        "POST",
        f"applications/{app['id']}/federatedIdentityCredentials",
        json={
            "name": "contoso-umi-vector",
            "issuer": f"{chain.sb.info['authority']}/{chain.tid['contoso']}/v2.0",
            "subject": chain.uami["umi-vector"]["principalId"],
            "audiences": ["api://AzureADTokenExchange"],
        },
    )
    assert r.status_code == 201, r.text
    r = lw.graph("POST", "servicePrincipals", json={"appId": app["appId"]})
    assert r.status_code == 201, r.text

    report = chain.verify("litware", "vm-vector", app_ids={"logs": app["appId"]})
    home = _failed(report, "litware", "home_exchange").diagnosis
    assert home.code == "AADSTS700016"
    assert "not registered in the home tenant" in home.cause
    d = _failed(report, "litware", "exchange:arm").diagnosis
    assert d.code == "AADSTS700236"
    assert app["appId"] in d.cause and "registered in a tenant other than" in d.cause
    assert "does not find appId" in d.cause  # the home admin's Graph confirms it
    assert "register the app in the home tenant" in d.fix and "consent" in d.fix


def test_expired_assertion(chain: Chain) -> None:
    chain.onboard("litware")

    def after(row: Row) -> None:
        if row.step == "mi_token":  # the MI token is taken; now two hours pass for Entra
            chain.sb.settings(clock_offset_s=7200)

    report = chain.verify("litware", "vm-vector", on_step=after)
    assert report.row("litware", "mi_token").status == "ok"
    d = _failed(report, "litware", "exchange:arm").diagnosis
    assert d.code == "AADSTS700024"
    assert "outside its validity window" in d.cause
    assert "valid " in d.cause and "clock" in d.fix
    assert any("Entra's clock" in line for line in d.details)


def test_secret_on_the_host_is_reported(chain: Chain) -> None:
    chain.onboard("litware")
    chain.mp.setenv("AZURE_CLIENT_SECRET", "left-over-secret")
    report = verify(
        chain.home.loaded(),
        chain.home.cloud,
        customers=["litware"],
        host="vm-vector",
        environ={**chain.sb.env(host="vm-vector"), "AZURE_CLIENT_SECRET": "left-over-secret"},
    )
    assert any("AZURE_CLIENT_SECRET" in n for n in report.notes)
    text = render_table(report) + report.dumps()
    assert "left-over-secret" not in text


def test_no_token_in_any_output(chain: Chain) -> None:
    """Every report of a healthy and a broken run, table and JSON: nothing JWT-shaped."""
    chain.onboard("litware")
    chain.onboard("fabrikam")
    chain.verify("litware", "vm-vector")
    chain.verify("fabrikam", "aa-runbooks")
    _patch_fic(chain, {"subject": chain.uami["umi-vector"]["clientId"]})
    chain.verify("litware", "vm-vector")
    assert len(chain.outputs) == 9
    for text in chain.outputs:
        assert not JWT.search(text), JWT.search(text)
    # the scanner does catch a token
    from azure.identity import ManagedIdentityCredential

    token = ManagedIdentityCredential(client_id=chain.uami["umi-vector"]["clientId"]).get_token(
        "api://AzureADTokenExchange/.default"
    )
    assert JWT.search(token.token)


def test_home_credential_may_be_async(chain: Chain) -> None:
    chain.onboard("litware")
    cred = chain.sb.admin_credential("contoso", aio=True)
    report = chain.verify("litware", "vm-vector", home_credential=cred)
    assert report.ok, render_table(report)
    mi = report.row("litware", "mi_token")
    assert mi is not None and mi.data["checks"]["fic"] == "matches mi-umi-vector"


def test_all_customers_from_one_host(chain: Chain) -> None:
    chain.onboard("litware")
    chain.onboard("fabrikam")
    report = chain.verify(None, "vm-vector")  # every customer, from the VM
    assert report.ok, render_table(report)
    assert report.row("litware", "probe:logs").status == "ok"
    away = report.row("fabrikam", "mi_token")
    assert away is not None and away.status == "skipped"
    assert "aa-runbooks" in away.detail and "run verify there" in away.detail
    assert [r.step for r in report.rows_for("fabrikam")] == ["mi_token"]
    # asked for by name, it is tried, and the diagnosis says where to run it
    report = chain.verify("fabrikam", "vm-vector")
    d = _failed(report, "fabrikam", "mi_token").diagnosis
    assert d.code == "MI_IDENTITY_NOT_FOUND"
    assert "declared on aa-runbooks, not on vm-vector" in d.cause
    assert "run verify on aa-runbooks" in d.fix


def test_system_assigned_identity_answers_when_none_is_chosen(chain: Chain) -> None:
    """aa-runbooks has a system-assigned identity too: with no identity chosen, its endpoint
    answers with that one, which no FIC trusts. verify must name it and the fix."""
    chain.onboard("fabrikam")
    report = chain.verify("fabrikam", "aa-runbooks", admin=False, app_ids=chain.app_ids)
    row = _failed(report, "fabrikam", "mi_token")
    assert "system-assigned identity of aa-runbooks" in row.detail
    d = row.diagnosis
    assert d.code == "MI_WRONG_IDENTITY"
    assert "umi-runbooks" in d.cause and "--identity" in d.fix
    report = chain.verify(
        "fabrikam",
        "aa-runbooks",
        admin=False,
        app_ids=chain.app_ids,
        identity=chain.uami["umi-runbooks"]["clientId"],
    )
    assert report.ok, render_table(report)
