"""``customer/grants.py``: the kit's Microsoft Graph application permissions, exactly."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from task_world import SP_ID, context, fields, kit_for, shape, tenant_wide_demo_config

from provisioning.config import Config
from provisioning.core.engine import UNKNOWN
from provisioning.core.errors import TaskError
from provisioning.customer.grants import GraphGrantsTask
from provisioning.kit.model import KitGraphRole
from provisioning.state import AppRoleGrant, GraphResource

config = tenant_wide_demo_config(Path(tempfile.mkdtemp()))  # Sites.Read.All, no site grants

SITES_READ = "332a536c-c7ef-4017-ab91-336970924f0d"
DIRECTORY_RW = "19dbc75e-c2e2-444c-a770-ec69d8559fc7"
USER_READ = "df021288-bdef-4463-88db-98f22de89214"
GRAPH_SP = "0a1b2c3d-0000-4000-8000-00000000f001"
OTHER_API = "0a1b2c3d-0000-4000-8000-00000000f002"
ADDR = "customer[fabrikam].graph_app_role[Sites.Read.All]"
PUBLISHED = GraphResource(GRAPH_SP, {SITES_READ: "Sites.Read.All", USER_READ: "User.Read.All"})


def _task(
    config: Config,
    grants: tuple[AppRoleGrant, ...] = (),
    *,
    sp: str | None = SP_ID,
    remove: bool = False,
    roles: tuple[KitGraphRole, ...] | None = None,
) -> GraphGrantsTask:
    kit = kit_for(config, "fabrikam")
    if roles is not None:
        kit = kit.model_copy(update={"graph_app_roles": roles})
    task = GraphGrantsTask(kit, remove=remove)
    task.sp = sp
    task.graph_sp = PUBLISHED
    task._name_roles(PUBLISHED)  # what observe derives from Graph's published roles
    task._record(context(), grants)  # what observe derives from our principal's grants
    return task


def _granted(role_id: str, resource: str = GRAPH_SP) -> AppRoleGrant:
    return AppRoleGrant(f"grant-{role_id[:8]}", role_id, resource)


def test_a_permission_not_granted_is_granted_to_our_principal() -> None:
    (change,) = _task(config).changes(context())
    assert shape([change]) == [(ADDR, "create")]
    assert fields(change) == [("permission", None, "Sites.Read.All"), ("principal", None, SP_ID)]
    assert change.privileged is None


def test_before_consent_the_principal_is_known_after_apply() -> None:
    (change,) = _task(config, sp=None).changes(context())
    assert ("principal", None, UNKNOWN) in fields(change)


def test_a_granted_permission_needs_nothing() -> None:
    assert shape(_task(config, (_granted(SITES_READ),)).changes(context())) == [(ADDR, "no-op")]


def test_the_same_role_on_another_api_is_not_ours() -> None:
    changes = _task(config, (_granted(SITES_READ, OTHER_API),)).changes(context())
    assert shape(changes) == [(ADDR, "create")]


def test_other_permissions_are_reported_and_left_alone() -> None:
    changes = _task(config, (_granted(SITES_READ), _granted(USER_READ))).changes(context())
    assert shape(changes) == [(ADDR, "no-op"), ("customer[fabrikam].graph_app_roles", "no-op")]
    assert changes[1].note is not None and USER_READ in changes[1].note


def test_remove_revokes_what_the_kit_granted() -> None:
    (change,) = _task(config, (_granted(SITES_READ),), remove=True).changes(context())
    assert shape([change]) == [(ADDR, "delete")]
    assert fields(change) == [("permission", "Sites.Read.All", None)]


def test_remove_of_what_was_never_granted_shows_nothing() -> None:
    assert _task(config, remove=True).changes(context()) == []


def test_a_privileged_permission_says_so_with_the_reason() -> None:
    role = KitGraphRole(
        value="Directory.ReadWrite.All",
        id=DIRECTORY_RW,
        display_name="Read and write directory data",
        allow_privileged="directory sync",
    )
    published = GraphResource(GRAPH_SP, {DIRECTORY_RW: "Directory.ReadWrite.All"})
    task = _task(config, roles=(role,))
    task._name_roles(published)
    (change,) = task.changes(context())
    assert change.privileged is not None
    assert change.privileged.startswith("PRIVILEGED:") and "directory sync" in change.privileged


def test_a_label_naming_another_permission_is_refused() -> None:
    wrong = KitGraphRole(value="Sites.Read.All", id=USER_READ, display_name="x")
    with pytest.raises(TaskError) as e:
        _task(config, roles=(wrong,))
    assert "does not match what it grants" in e.value.message


def test_an_id_graph_does_not_publish_is_refused() -> None:
    unknown = KitGraphRole(value="X.Y", id="0a1b2c3d-0000-4000-8000-0000000000ff", display_name="x")
    with pytest.raises(TaskError) as e:
        _task(config, roles=(unknown,))
    assert "no application permission with id" in e.value.message
