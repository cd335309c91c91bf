"""``home/identity.py``: the user-assigned identity, from what ARM says of it."""

from __future__ import annotations

import pytest
from task_world import SUB, VECTOR_PRINCIPAL, context, demo_config, fields, shape

from provisioning.config import Config
from provisioning.core.errors import TaskError
from provisioning.home.identity import IdentityTask
from provisioning.state import IdentityState

config = demo_config()  # examples/sandbox.yaml, as the demo runs it

RID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-identity/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/umi-vector"
)


def _task(config: Config, **kw: object) -> IdentityTask:
    task = IdentityTask(config.home.identities[0])
    state = {
        "name": "umi-vector",
        "resource_id": RID,
        "client_id": "0a1b2c3d-0000-4000-8000-0000000c0001",
        "principal_id": VECTOR_PRINCIPAL,
        "location": "westus2",
        "tags": {"managed-by": "xtenant"},
        **kw,
    }
    task.observed = IdentityState(**state)  # type: ignore[arg-type]
    return task


def test_absent_is_created_with_its_location_group_and_tag() -> None:
    task = IdentityTask(config.home.identities[0])
    (change,) = task.changes(context(config))
    assert shape([change]) == [("home.identity[umi-vector]", "create")]
    assert fields(change) == [
        ("location", None, "westus2"),
        ("resource_group", None, "rg-identity"),
        ("tags", None, {"managed-by": "xtenant"}),
    ]
    assert change.apply is not None


def test_present_with_our_tag_needs_nothing() -> None:
    assert shape(_task(config).changes(context(config))) == [("home.identity[umi-vector]", "no-op")]


def test_location_as_arm_writes_it_is_the_same_location() -> None:
    task = _task(config, location="West US 2")
    assert [c.action.value for c in task.changes(context(config))] == ["no-op"]


def test_missing_tag_is_added_and_other_tags_are_kept() -> None:
    (change,) = _task(config, tags={"owner": "ops"}).changes(context(config))
    assert change.action.value == "update"
    assert fields(change) == [("tags", {"owner": "ops"}, {"owner": "ops", "managed-by": "xtenant"})]


def test_another_location_is_refused_not_replaced() -> None:
    with pytest.raises(TaskError) as e:
        _task(config, location="eastus").changes(context(config))
    assert "cannot move" in e.value.message and "location: eastus" in e.value.message


def test_verified_names_both_ids() -> None:
    note = _task(config).verified(context(config))
    assert note is not None and VECTOR_PRINCIPAL in note and "clientId" in note
