"""The product against Azure's edges: objects waiting in Entra's deleted items, and lists that
come a page at a time (the sandbox's ``page_size``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_world import REPO, Home, Raw

from provisioning.core.plan import Action
from provisioning.core.runner import Options, customer_apply, customer_plan
from provisioning.kit.model import build_kit

pytestmark = pytest.mark.e2e

IDENTITY_API = "2023-01-31"
CONTOSO_SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
IDENTITIES = f"/subscriptions/{CONTOSO_SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
UNIQUE = {"logs": "contoso-log-forwarder", "m365": "contoso-m365-manager"}


def _kit(home: Home, customer: str) -> Any:
    config = home.loaded().config
    identities = {}
    for name in ("umi-vector", "umi-runbooks"):
        p = home.raw.arm("GET", f"{IDENTITIES}/{name}", IDENTITY_API).json()
        identities[name] = {
            "client_id": p["properties"]["clientId"],
            "principal_id": p["properties"]["principalId"],
            "resource_id": p["id"],
        }
    key = config.customer(customer).app
    app_id = home.raw.graph("GET", f"applications(uniqueName='{UNIQUE[key]}')").json()["appId"]
    return build_kit(config, home.cloud, customer, app_id=app_id, home_identities=identities)


def _as_admin(sb: Any, tenant: str, monkeypatch: pytest.MonkeyPatch) -> Raw:
    for k, v in sb.env(admin=tenant).items():
        monkeypatch.setenv(k, v)
    return Raw(sb.info, tenant)


def _pending(outcome: Any) -> list[tuple[str, Action]]:
    return [(c.address, c.action) for c in outcome.plan.pending]


# ---- deleted items -------------------------------------------------------------------------------
def test_a_deleted_app_is_restored_not_made_again(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Home(fresh_sandbox, tmp_path, monkeypatch)
    assert home.apply().ok
    before = home.raw.graph("GET", f"applications(uniqueName='{UNIQUE['logs']}')").json()
    assert home.raw.graph("DELETE", f"applications/{before['id']}").status_code == 204
    plan = home.plan()
    (change,) = [c for c in plan.plan.pending if c.address == "home.app[logs]"]
    assert change.action is Action.RESTORE
    assert "deleted items" in (change.note or "") and before["id"] in (change.note or "")
    assert [f.after for f in change.fields if f.field == "appId"] == [before["appId"]]
    out = home.apply()
    assert out.ok, out.failures
    after = home.raw.graph("GET", f"applications(uniqueName='{UNIQUE['logs']}')").json()
    assert (after["id"], after["appId"]) == (before["id"], before["appId"])
    gone = home.raw.graph("GET", "directory/deletedItems/microsoft.graph.application").json()
    assert gone["value"] == []  # nothing left behind, no second app
    assert not home.plan().plan.has_changes


def test_a_deleted_service_principal_is_named_with_its_restore(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Re-onboarding makes a new service principal (tests/e2e/test_trust.py), but never
    silently: the plan names the one in deleted items and how to restore it instead."""
    home = Home(fresh_sandbox, tmp_path, monkeypatch)
    assert home.apply().ok
    kit = _kit(home, "litware")
    raw = _as_admin(fresh_sandbox, "litware", monkeypatch)
    assert customer_apply(kit, home.cloud, Options()).ok
    sp = raw.graph("GET", f"servicePrincipals(appId='{kit.app_id}')").json()
    assert raw.graph("DELETE", f"servicePrincipals/{sp['id']}").status_code == 204
    plan = customer_plan(kit, home.cloud, Options())
    (change,) = [c for c in plan.plan.pending if c.address.endswith(".service_principal")]
    assert change.action is Action.CREATE
    note = change.note or ""
    assert "deleted items" in note and sp["id"] in note and "makes a new one" in note
    restore = f"directory/deletedItems/{sp['id']}/restore"
    assert restore in note
    assert raw.graph("POST", restore).status_code == 200  # the recovery the plan offers
    again = customer_plan(kit, home.cloud, Options())
    assert not again.plan.has_changes  # the restored principal holds its role again
    listed = raw.graph("GET", "servicePrincipals", params={"$filter": f"appId eq '{kit.app_id}'"})
    assert [x["id"] for x in listed.json()["value"]] == [sp["id"]]


# ---- paging ----------------------------------------------------------------------------------------
def test_the_product_follows_every_page(
    fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With one item a page, a second apply still finds everything the first made: the app's
    two credentials, the customer's two Graph permissions, the role assignments."""
    fresh_sandbox.settings(page_size=1)
    text = (REPO / "examples" / "sandbox.yaml").read_text()
    text = text.replace("trusts: [umi-vector]", "trusts: [umi-vector, umi-runbooks]")
    text = text.replace(
        "      graph_app_roles: [Sites.Read.All]\n      description",
        "      graph_app_roles: [Sites.Read.All, User.Read.All]\n      description",
    )
    text = text.replace(
        "    app: m365\n    graph_app_roles: [Sites.Read.All]",
        "    app: m365\n    graph_app_roles: [Sites.Read.All, User.Read.All]",
    )
    home = Home(fresh_sandbox, tmp_path, monkeypatch, config_text=text)
    out = home.apply()
    assert out.ok, out.failures
    app = home.raw.graph("GET", f"applications(uniqueName='{UNIQUE['logs']}')").json()
    fics = home.raw.graph("GET", f"applications/{app['id']}/federatedIdentityCredentials").json()
    assert len(fics["value"]) == 1 and "@odata.nextLink" in fics  # really paged
    mark = fresh_sandbox.mark()
    assert _pending(home.plan()) == []
    assert fresh_sandbox.writes(mark) == []
    for customer in ("litware", "fabrikam"):
        kit = _kit(home, customer)
        _as_admin(fresh_sandbox, customer, monkeypatch)
        assert customer_apply(kit, home.cloud, Options()).ok
        mark = fresh_sandbox.mark()
        again = customer_apply(kit, home.cloud, Options())
        assert again.ok and again.applied == [], customer
        assert fresh_sandbox.writes(mark) == []
