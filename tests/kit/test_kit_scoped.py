"""The kit's scoped grants: what ``build_kit`` derives (names, template ids, one grant per
site), what ``load_kit`` refuses (labels that lie, edited names, site permissions without
Sites.Selected), and older kits read in version 3's shape."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import APP_IDS, IDENTITIES

from provisioning.config import Config
from provisioning.core import clouds
from provisioning.kit import KitError, build_kit, kit_from_json, load_kit
from provisioning.kit.ids import EXCHANGE_NAMESPACE, exchange_assignment_name, exchange_scope_name
from provisioning.kit.scoped import scoped_files

SITE = "https://fabrikam.sharepoint.com/sites/Marketing"
AU = "5d107bba-d8e2-4e13-b6ae-884be90e5d1a"
FILTER = "CustomAttribute1 -eq 'reports'"


def _kit(demo_config: Config, **customer: Any) -> Any:
    data = demo_config.model_dump()
    data["customers"][1].update(customer)
    config = Config.model_validate(data)
    return build_kit(
        config, clouds.PUBLIC, "fabrikam", app_id=APP_IDS["m365"], home_identities=IDENTITIES
    )


def test_the_demo_kit_carries_the_site_and_the_role(demo_config) -> None:  # type: ignore[no-untyped-def]
    kit = _kit(demo_config)
    [site] = kit.site_permissions
    assert (site.site, site.role) == (SITE, "read")
    assert site.ref.graph_path == "sites/fabrikam.sharepoint.com:/sites/Marketing"
    [role] = kit.directory_roles
    assert (role.role, role.template_id, role.scope) == (
        "Directory Readers",
        "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",
        "/",
    )
    assert kit.exchange_roles == ()
    assert scoped_files(kit) == ["scoped-grants.sh", "scoped-grants.ps1"]


def test_one_permission_per_site_the_strongest_role_wins(demo_config) -> None:  # type: ignore[no-untyped-def]
    kit = _kit(
        demo_config,
        site_permissions=[
            {"site": SITE, "role": "read"},
            {"site": SITE.upper().replace("HTTPS://", "https://"), "role": "write"},
            {"site": "https://fabrikam.sharepoint.com/sites/Finance/", "role": "read"},
        ],
    )
    assert [(p.site, p.role) for p in kit.site_permissions] == [
        ("https://fabrikam.sharepoint.com/sites/Finance/", "read"),
        ("https://FABRIKAM.SHAREPOINT.COM/SITES/MARKETING", "write"),
    ]


def test_exchange_names_are_derived_from_app_role_and_scope(demo_config) -> None:  # type: ignore[no-untyped-def]
    kit = _kit(
        demo_config,
        exchange_roles=[
            {"role": "application mail.read", "recipient_filter": FILTER},
            {"role": "Application Calendars.Read", "administrative_unit": AU},
        ],
    )
    cal, mail = kit.exchange_roles
    app = APP_IDS["m365"]
    assert mail.role == "Application Mail.Read"  # the catalog's spelling
    assert mail.scope_name == exchange_scope_name(app, FILTER)
    assert mail.scope_name == f"xtenant-{uuid.uuid5(EXCHANGE_NAMESPACE, f'scope|{app}|{FILTER}')}"
    assert mail.assignment_name == exchange_assignment_name(app, mail.role, FILTER, None)
    assert cal.scope_name is None and cal.administrative_unit == AU
    assert len(cal.assignment_name) <= 64 and cal.assignment_name != mail.assignment_name
    assert mail.permissions == ("Mail.Read",)
    assert scoped_files(kit)[-1] == "exchange-rbac.ps1"


def _refused(kit_json: dict[str, Any]) -> KitError:
    with pytest.raises(KitError) as info:
        kit_from_json(kit_json, source="kit.json")
    return info.value


def test_a_directory_role_label_that_lies_is_refused(demo_config) -> None:  # type: ignore[no-untyped-def]
    data = _kit(demo_config).to_json()
    data["directory_roles"][0]["template_id"] = "62e90394-69f5-4237-9190-012177145e10"
    err = _refused(data)
    assert err.paths == ["directory_roles[0].role"]
    assert "62e90394-69f5-4237-9190-012177145e10 is Global Administrator" in str(err)
    data["directory_roles"][0]["template_id"] = "00000000-0000-4000-8000-000000000000"
    assert _refused(data).paths == ["directory_roles[0].template_id"]


def test_edited_exchange_names_and_unknown_roles_are_refused(demo_config) -> None:  # type: ignore[no-untyped-def]
    data = _kit(
        demo_config, exchange_roles=[{"role": "Application Mail.Read", "recipient_filter": FILTER}]
    ).to_json()
    data["exchange_roles"][0]["recipient_filter"] = "RecipientType -eq 'UserMailbox'"
    err = _refused(data)
    assert set(err.paths) == {"exchange_roles[0].scope_name", "exchange_roles[0].assignment_name"}
    data = _kit(
        demo_config, exchange_roles=[{"role": "Application Mail.Read", "recipient_filter": FILTER}]
    ).to_json()
    data["exchange_roles"][0]["role"] = "Application Mail.Send"
    assert "exchange_roles[0].assignment_name" in _refused(data).paths


def test_a_site_permission_without_sites_selected_is_refused(demo_config) -> None:  # type: ignore[no-untyped-def]
    data = _kit(demo_config).to_json()
    data["graph_app_roles"] = []
    err = _refused(data)
    assert err.paths == ["site_permissions"] and "Sites.Selected" in str(err)


def test_a_hostile_site_in_a_kit_must_still_be_a_site(demo_config) -> None:  # type: ignore[no-untyped-def]
    data = _kit(demo_config).to_json()
    data["site_permissions"][0]["site"] = "https://fabrikam.sharepoint.com/sites/../../_api"
    assert _refused(data).paths == ["site_permissions[0].site"]


def test_a_version_2_kit_loads_as_asking_no_scoped_grant(demo_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data = _kit(demo_config, site_permissions=[], directory_roles=[]).to_json()
    data["graph_app_roles"] = []
    data["consent_graph_app_roles"] = data["consent_graph_app_roles"][:0]
    for key in ("site_permissions", "directory_roles", "exchange_roles"):
        del data[key]
    data["schema_version"] = 2
    path = tmp_path / "kit.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    kit = load_kit(path)
    assert kit.schema_version == 3
    assert (kit.site_permissions, kit.directory_roles, kit.exchange_roles) == ((), (), ())
    # a version 2 kit cannot smuggle scoped grants in: the upgrade sets them to none
    data["site_permissions"] = [{"site": SITE, "role": "fullcontrol", "why": None}]
    path.write_text(json.dumps(data), encoding="utf-8")
    assert load_kit(path).site_permissions == ()
