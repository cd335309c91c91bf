"""The home side of a kit names each host the app's identities run on, by the host
registry: its identity endpoint and variables, the role attaching needs, and the snippet of
its kind (a Functions app's cross-tenant connection settings, an Automation runbook's
request, ...); a host's system-assigned identity is said to be one, with Microsoft's word on
it, and the workload asks for it by naming no identity."""

from __future__ import annotations

import ast
from pathlib import Path

from provisioning.config import load_config
from provisioning.core import clouds
from provisioning.kit.model import build_kit
from provisioning.kit.render import render_kit

REPO = Path(__file__).resolve().parents[2]
SUB = "8f3c2a10-4d5e-4f60-9a7b-0c0270500a01"
APP_ID = "0a1b2c3d-0000-4000-8000-00000000a003"
IDENTITIES = {
    "umi-reports": {
        "client_id": "0a1b2c3d-0000-4000-8000-0000000c0003",
        "principal_id": "0a1b2c3d-0000-4000-8000-0000000b0003",
        "resource_id": f"/subscriptions/{SUB}/resourceGroups/rg-identity/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/umi-reports",
    },
    "aa-runbooks-system": {
        "client_id": "",  # not read: no workload needs it
        "principal_id": "0a1b2c3d-0000-4000-8000-0000000b0004",
        "resource_id": f"/subscriptions/{SUB}/resourceGroups/rg-identity/providers/"
        "Microsoft.Automation/automationAccounts/aa-runbooks",
    },
}


def _home(tmp_path: Path) -> Path:
    loaded = load_config(REPO / "examples" / "sandbox-hosts.yaml")
    kit = build_kit(
        loaded.config,
        clouds.PUBLIC,
        "fabrikam-reports",
        app_id=APP_ID,
        home_identities=IDENTITIES,
    )
    render_kit(kit, tmp_path / "kit")
    return tmp_path / "kit" / "home"


def test_hosts_page_per_host_kind(tmp_path: Path) -> None:
    text = (_home(tmp_path) / "hosts.md").read_text()
    assert "## App Service \\/ Functions app func\\-reports" in text
    assert "## Automation account aa\\-runbooks" in text
    # the Functions runtime's own cross-tenant connection, as Microsoft documents it
    assert "`CUSTOMER__credential` | `managedidentityasfederatedidentity`" in text
    assert f"`CUSTOMER__clientId` | `{APP_ID}`" in text
    assert "`CUSTOMER__managedIdentityClientId` | `0a1b2c3d-0000-4000-8000-0000000c0003`" in text
    assert "`CUSTOMER__azureCloud` | `public`" in text
    assert "functions-reference#connecting-to-a-resource-in-another-tenant" in text
    # the roles attaching needs, from the registry
    assert "Website Contributor on the App Service" in text
    assert "Automation Contributor on the Automation account" in text
    # the system-assigned identity: said so, with Microsoft's word and the way out
    assert "**system-assigned** identity" in text
    assert "workload-identity-federation-config-app-trust-managed-identity" in text
    assert "no client_id: the account's system-assigned identity" in text


def test_workload_names_no_identity_for_a_system_assigned_one(tmp_path: Path) -> None:
    source = (_home(tmp_path) / "workload.py").read_text()
    tree = ast.parse(source)
    table = next(
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "IDENTITIES"
    )
    assert isinstance(table, ast.Dict)
    pairs = zip(table.keys, table.values, strict=True)
    values = {ast.literal_eval(k): ast.literal_eval(v) for k, v in pairs}  # type: ignore[arg-type]
    assert values == {
        "aa-runbooks-system": None,
        "umi-reports": "0a1b2c3d-0000-4000-8000-0000000c0003",
    }
