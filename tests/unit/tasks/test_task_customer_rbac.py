"""``customer/rbac.py``: the kit's Azure role assignments for our service principal."""

from __future__ import annotations

from task_world import OLD_SP_ID, SP_ID, context, demo_config, fields, kit_for, shape

from provisioning.config import Config
from provisioning.core.engine import UNKNOWN
from provisioning.customer.rbac import RoleAssignmentTask
from provisioning.kit.model import Kit
from provisioning.state import RoleAssignmentState

config = demo_config()  # examples/sandbox.yaml, as the demo runs it

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"


def _kit(config: Config) -> Kit:
    return kit_for(config, "litware")


def _task(
    config: Config,
    *,
    found: bool = False,
    stale: bool = False,
    sp: str | None = SP_ID,
    remove: bool = False,
    kit: Kit | None = None,
) -> RoleAssignmentTask:
    kit = kit or _kit(config)
    role = kit.roles[0]
    task = RoleAssignmentTask(kit, role, remove=remove)
    task.sp = sp
    if found:
        task.found = RoleAssignmentState(
            f"{role.scope}/providers/Microsoft.Authorization/roleAssignments/by-hand",
            "by-hand",
            role.scope,
            role.role_definition_id,
            SP_ID,
        )
    if stale:
        task.stale = RoleAssignmentState(
            f"{role.scope}/providers/Microsoft.Authorization/roleAssignments/{role.assignment_name}",
            role.assignment_name,
            role.scope,
            role.role_definition_id,
            OLD_SP_ID,
        )
    return task


def test_missing_is_created_for_our_principal_with_the_reason() -> None:
    task = _task(config)
    (change,) = task.changes(context())
    role = task.role
    assert shape([change]) == [(task.address, "create")]
    assert fields(change) == [
        ("role", None, f"Monitoring Metrics Publisher ({role.role_id})"),
        ("scope", None, role.scope),
        ("principal", None, SP_ID),
    ]
    assert change.note == "Vector publishes your logs to this data collection rule."
    assert change.privileged is None


def test_before_consent_the_principal_is_known_after_apply() -> None:
    (change,) = _task(config, sp=None).changes(context())
    assert fields(change)[-1] == ("principal", None, UNKNOWN)


def test_present_under_any_name_needs_nothing() -> None:
    task = _task(config, found=True)
    assert shape(task.changes(context())) == [(task.address, "no-op")]


def test_ours_for_a_deleted_principal_is_replaced() -> None:
    task = _task(config, stale=True)
    (change,) = task.changes(context())
    assert shape([change]) == [(task.address, "replace")]
    assert fields(change)[-1] == ("principal", OLD_SP_ID, SP_ID)
    assert change.note is not None and "ARM cannot move it" in change.note


def test_an_orphan_beside_a_grant_made_by_hand_is_cleaned_up() -> None:
    task = _task(config, found=True, stale=True)
    changes = task.changes(context())
    assert shape(changes) == [(task.address, "no-op"), (f"{task.address}.orphan", "delete")]
    assert fields(changes[1]) == [
        ("name", task.role.assignment_name, None),
        ("principal", OLD_SP_ID, None),
    ]


def test_remove_deletes_ours_and_the_orphan() -> None:
    task = _task(config, found=True, stale=True, remove=True)
    (change,) = task.changes(context())
    assert shape([change]) == [(task.address, "delete")]
    assert [f for f in fields(change) if f[0] == "principal"] == [
        ("principal", SP_ID, None),
        ("principal", OLD_SP_ID, None),
    ]


def test_remove_of_what_is_not_there_needs_nothing() -> None:
    task = _task(config, remove=True)
    assert shape(task.changes(context())) == [(task.address, "no-op")]


def test_a_privileged_role_says_so_with_the_reason() -> None:
    kit = _kit(config)
    sub_scope = "/subscriptions/5b1d7e20-6c3f-4a81-8b92-117a3e000a02"
    owner = kit.roles[0].model_copy(
        update={
            "role": "Owner",
            "role_id": OWNER,
            "role_definition_id": f"{sub_scope}/providers/Microsoft.Authorization/roleDefinitions/{OWNER}",
            "scope": sub_scope,
            "allow_privileged": "we run the subscription",
        }
    )
    task = _task(config, kit=kit.model_copy(update={"roles": (owner,)}))
    (change,) = task.changes(context())
    assert change.action.value == "create"
    assert change.privileged is not None and "we run the subscription" in change.privileged


def test_removing_goes_first_creating_comes_after_consent() -> None:
    assert _task(config).stage == 1
    assert _task(config, remove=True).stage == 0
