"""The least-privilege lint over scoped grants: the warnings (the errors are corpus cases in
``corpus/invalid``), each with its rule code, and that a clean scoped configuration is clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.config import ConfigError, load_config

HEAD = """home:
  tenant_id: 8f3c2a10-4d5e-4f60-9a7b-0c0270500001
  subscription_id: 8f3c2a10-4d5e-4f60-9a7b-0c0270500a01
  identities:
    - name: umi-runbooks
      resource_group: rg-identity
      location: westus2
  apps:
    - key: m365
      display_name: Contoso Site Reporter
      unique_name: contoso-site-reporter
      redirect_uri: https://contoso.example/onboarded
      trusts: [umi-runbooks]
      graph_app_roles: [Sites.Selected, Sites.Read.All, Mail.Read]
customers:
  - name: fabrikam
    tenant: fabrikam.onmicrosoft.com
    app: m365
"""
SITE = "      - site: https://fabrikam.sharepoint.com/sites/Marketing\n"


def _warnings(tmp_path: Path, body: str) -> dict[str, str]:
    path = tmp_path / "xtenant.yaml"
    path.write_text(HEAD + body)
    loaded = load_config(path)
    return {w.code or "": f"{w.path}: {w.message}" for w in loaded.warnings}


def test_tenant_wide_sites_beside_specific_sites_suggests_sites_selected(tmp_path: Path) -> None:
    body = "    graph_app_roles: [Sites.Selected, Sites.Read.All]\n    site_permissions:\n" + SITE
    found = _warnings(tmp_path, body)
    text = found["tenant-wide-sites-permission"]
    assert text.startswith("customers[0].graph_app_roles: Sites.Read.All reaches every site")
    assert "ask for Sites.Selected instead and grant those sites (site_permissions)" in text


def test_an_exchange_role_for_every_mailbox_is_a_warning(tmp_path: Path) -> None:
    found = _warnings(tmp_path, "    exchange_roles:\n      - role: Application Mail.Read\n")
    assert found["exchange-role-every-mailbox"] == (
        "customers[0].exchange_roles[0]: Application Mail.Read with no recipient_filter or "
        "administrative_unit applies to every mailbox of the organization; limit it to the "
        "mailboxes the app needs"
    )


def test_an_exchange_role_also_granted_in_entra_narrows_nothing(tmp_path: Path) -> None:
    body = (
        "    graph_app_roles: [Mail.Read]\n    exchange_roles:\n"
        "      - role: application mail.read\n"
        "        administrative_unit: 5d107bba-d8e2-4e13-b6ae-884be90e5d1a\n"
    )
    found = _warnings(tmp_path, body)
    assert "Mail.Read is also among graph_app_roles" in found["exchange-role-also-in-entra"]
    assert "exchange-role-every-mailbox" not in found


def test_privileged_scoped_grants_pass_with_a_reason(tmp_path: Path) -> None:
    body = (
        "    graph_app_roles: [Sites.Selected]\n    site_permissions:\n"
        + SITE
        + "        role: fullcontrol\n        allow_privileged: creates the report library\n"
        "    directory_roles:\n      - role: User Administrator\n"
        "        allow_privileged: provisions the customer's report readers\n"
        "    exchange_roles:\n      - role: Application Mail.Send\n"
        "        recipient_filter: \"CustomAttribute1 -eq 'reports'\"\n"
        "        allow_privileged: sends the weekly report from the reports mailbox\n"
    )
    assert _warnings(tmp_path, body) == {}


def test_a_clean_scoped_configuration_is_clean(tmp_path: Path) -> None:
    body = (
        "    graph_app_roles: [Sites.Selected]\n    site_permissions:\n"
        + SITE
        + "    directory_roles:\n      - role: 88d8e3e3-8f55-4a1e-953a-9b9898b8876b\n"
    )
    assert _warnings(tmp_path, body) == {}
    loaded = load_config(tmp_path / "xtenant.yaml").config.customers[0]
    assert loaded.directory_roles[0].role_def is not None
    assert loaded.directory_roles[0].role_def.name == "Directory Readers"


def test_a_customer_with_only_scoped_grants_grants_something(tmp_path: Path) -> None:
    found = _warnings(tmp_path, "    directory_roles:\n      - role: Directory Readers\n")
    assert "grants-nothing" not in found
    assert "no scoped grants" in _warnings(tmp_path, "")["grants-nothing"]


def test_sites_selected_alone_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="the app would read nothing"):
        _warnings(tmp_path, "    graph_app_roles: [Sites.Selected]\n")
