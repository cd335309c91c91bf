"""``home/attach.py``: an identity on the hosts it runs on (and ``--prune`` detaching it)."""

from __future__ import annotations

from task_world import SUB, context, demo_config, fields, shape

from provisioning.config import Config
from provisioning.home.attach import AttachTask, PruneAttachmentsTask
from provisioning.home.hosts import merged_identity
from provisioning.state import HostIdentity

config = demo_config()  # examples/sandbox.yaml, as the demo runs it

IDS = f"/subscriptions/{SUB}/resourceGroups/rg-identity/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
VECTOR, RUNBOOKS, FOREIGN = f"{IDS}/umi-vector", f"{IDS}/umi-runbooks", f"{IDS}/someone-else"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-vector"
OTHER_VM = (
    f"/subscriptions/{SUB}/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-old"
)
ADDR = "home.identity[umi-vector].attach[vm-vector]"


def _attach(config: Config, block: HostIdentity) -> AttachTask:
    ident = config.home.identities[0]
    task = AttachTask(ident, ident.attach_ids[0])
    task.observed = block
    return task


def test_a_host_carrying_the_identity_needs_nothing() -> None:
    block = HostIdentity(system=False, users=(VECTOR.upper(),))  # ARM ids compare ignoring case
    assert shape(_attach(config, block).changes(context(config))) == [(ADDR, "no-op")]


def test_the_identity_is_added_and_the_system_identity_kept() -> None:
    (change,) = _attach(config, HostIdentity(system=True, users=())).changes(context(config))
    assert change.action.value == "update"
    assert fields(change) == [
        ("identity.type", "SystemAssigned", "SystemAssigned, UserAssigned"),
        ("identity.userAssignedIdentities", [], ["umi-vector"]),
    ]


def test_identities_that_are_not_ours_stay() -> None:
    (change,) = _attach(config, HostIdentity(False, (FOREIGN,))).changes(context(config))
    assert fields(change)[1] == (
        "identity.userAssignedIdentities",
        ["someone-else"],
        ["someone-else", "umi-vector"],
    )


def test_a_detach_is_sent_as_null() -> None:
    body = merged_identity(HostIdentity(True, (VECTOR, FOREIGN)), set(), {VECTOR})
    assert body == {
        "type": "SystemAssigned, UserAssigned",
        "userAssignedIdentities": {FOREIGN: {}, VECTOR: None},
    }
    last = merged_identity(HostIdentity(False, (VECTOR,)), set(), {VECTOR})
    assert last == {"type": "None"}


def _prune(found: dict[str, HostIdentity]) -> PruneAttachmentsTask:
    task = PruneAttachmentsTask()
    task.found = found
    return task


def test_without_prune_nothing_is_detached() -> None:
    task = _prune({OTHER_VM: HostIdentity(False, (VECTOR,))})
    assert task.changes(context(config)) == []


def test_prune_detaches_ours_from_hosts_no_longer_listed() -> None:
    task = _prune(
        {
            OTHER_VM: HostIdentity(False, (VECTOR, FOREIGN)),  # ours, not declared there
            VM: HostIdentity(False, (VECTOR,)),  # declared: kept
            f"{OTHER_VM}2": HostIdentity(True, (FOREIGN,)),  # nothing of ours: untouched
        }
    )
    (change,) = task.changes(context(config, prune=True))
    assert shape([change]) == [("home.attachments[vm-old]", "delete")]
    assert fields(change) == [("identity.userAssignedIdentities", ["umi-vector"], None)]
    assert change.note == "detach umi-vector: no longer in attach_to (--prune)"


def test_prune_detaches_only_the_identities_not_declared_on_that_host() -> None:
    task = _prune({VM: HostIdentity(False, (VECTOR, RUNBOOKS))})
    (change,) = task.changes(context(config, prune=True))
    assert fields(change) == [("identity.userAssignedIdentities", ["umi-runbooks"], None)]
