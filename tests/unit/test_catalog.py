"""The shipped catalogs: loading from package data, look-ups, suggestions."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from provisioning.core.catalog import (
    GRAPH_APP_ID,
    PRIVILEGED_ROLE_NAMES,
    GraphAppRole,
    RoleDef,
    graph,
    role_definition_guid,
    roles,
)

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
MMP = "3913510d-42f4-4e42-8a64-420c390055eb"


def test_data_files_are_the_published_ones() -> None:
    """The shipped files are byte-for-byte the reviewed reference catalogs."""
    expected = {
        "azure_roles.json": "124656df8ba1b2ebfeadc0a2b90eed10b955a67b2f30ebb86f9a4a8534e15e50",
        "graph_app_roles.json": "c9f3f7d22b76f850e70e06832ac4c87af0a4017e729692b817275524c036958c",
    }
    for name, digest in expected.items():
        data = resources.files("provisioning.core.catalog").joinpath(name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == digest


def test_sizes() -> None:
    assert len(roles) == 22
    assert len(graph) == 26


def test_role_lookup_by_name_any_case() -> None:
    r = roles.lookup("monitoring metrics publisher")
    assert isinstance(r, RoleDef)
    assert r.name == "Monitoring Metrics Publisher"
    assert r.id == MMP
    assert r.has_data_actions
    assert "Microsoft.Insights/Telemetry/Write" in r.data_actions
    assert roles.lookup("  Monitoring   Metrics Publisher ") == r


def test_role_lookup_by_guid_and_arm_id() -> None:
    owner = roles.lookup(OWNER.upper())
    assert owner is not None and owner.name == "Owner"
    assert roles.lookup(f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}") == owner
    scoped = f"/subscriptions/5b1d7e20-6c3f-4a81-8b92-117a3e000a02/providers/microsoft.authorization/roleDefinitions/{OWNER}"
    assert roles.lookup(scoped) == owner
    assert owner.actions == ("*",)
    assert not owner.has_data_actions
    assert owner.privileged
    # the definition's ARM id is derived in one place only (kit/ids.py), from id and scope
    from provisioning.kit.ids import role_definition_id

    mg = "/providers/Microsoft.Management/managementGroups/mg1"
    assert role_definition_id(owner.id, mg) == (
        f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"
    )
    sub = "/subscriptions/5b1d7e20-6c3f-4a81-8b92-117a3e000a02"
    assert role_definition_id(owner.id, f"{sub}/resourceGroups/rg") == (
        f"{sub}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}"
    )


def test_role_lookup_unknown() -> None:
    assert roles.lookup("Monitoring Metric Publisher") is None
    assert roles.lookup("00000000-0000-0000-0000-000000000000") is None
    assert (
        roles.lookup("/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/y") is None
    )


def test_role_suggest() -> None:
    assert roles.suggest("Monitoring Metric Publisher")[0] == "Monitoring Metrics Publisher"
    assert roles.suggest("owner")[0] == "Owner"
    assert roles.suggest("zzzzzzzz") == []


def test_privileged_roles_are_in_the_catalog() -> None:
    assert PRIVILEGED_ROLE_NAMES == {
        "Owner",
        "Contributor",
        "User Access Administrator",
        "Role Based Access Control Administrator",
    }
    for name in PRIVILEGED_ROLE_NAMES:
        role = roles.lookup(name)
        assert role is not None and role.privileged
    reader = roles.lookup("Reader")
    assert reader is not None and not reader.privileged


def test_role_definition_guid() -> None:
    assert role_definition_guid(OWNER.upper()) == OWNER
    assert (
        role_definition_guid(f"/providers/Microsoft.Authorization/roleDefinitions/{OWNER}") == OWNER
    )
    assert role_definition_guid("Owner") is None
    assert (
        role_definition_guid("/providers/Microsoft.Authorization/roleAssignments/" + OWNER) is None
    )


def test_graph_lookup() -> None:
    sel = graph.lookup("sites.selected")
    assert isinstance(sel, GraphAppRole)
    assert sel.value == "Sites.Selected"
    assert sel.id == "883ea226-0bf2-4a8f-9f9d-92c9162a727d"
    assert not sel.privileged
    assert graph.lookup("883EA226-0BF2-4A8F-9F9D-92C9162A727D") == sel
    assert graph.lookup("Sites.Everything") is None


@pytest.mark.parametrize(
    "value",
    [
        "RoleManagement.ReadWrite.Directory",
        "Application.ReadWrite.All",
        "Directory.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All",
    ],
)
def test_graph_privileged(value: str) -> None:
    role = graph.lookup(value)
    assert role is not None and role.privileged


def test_graph_suggest() -> None:
    assert graph.suggest("Site.Selected")[0] == "Sites.Selected"
    assert "User.Read.All" in graph.suggest("User.ReadAll")


def test_graph_app_id() -> None:
    assert GRAPH_APP_ID == "00000003-0000-0000-c000-000000000000"


def test_iteration() -> None:
    assert all(isinstance(r, RoleDef) for r in roles)
    assert "Sites.Selected" in graph.values()
    assert "Reader" in roles.names()
