"""Writing the ``identity`` block of a host, per resource type (reading it is
``state/hosts.py``, the same for every kind).

VMs go through azure-mgmt-compute (a long-running PATCH, polled by the SDK's poller);
Automation accounts through a plain ARM PATCH, which that provider answers synchronously.
The merge rule is the same for every kind and lives in ``merged_identity``.
"""

from __future__ import annotations

from typing import Any

from provisioning.core import armid
from provisioning.core.engine import Context
from provisioning.state.hosts import (
    HostIdentity,
    api_version,
    arm_json,
    identity_type,
    parse_identity,
)

__all__ = ["HostIdentity", "merged_identity", "parse_identity", "write_host"]


def merged_identity(cur: HostIdentity, add: set[str], remove: set[str]) -> dict[str, Any]:
    """The PATCH body that adds/removes user-assigned identities and keeps everything
    else: a system-assigned identity and identities that are not ours stay as they are.
    Removals are sent as ``null`` (ARM's documented way to detach one)."""
    remove_l = {r.lower() for r in remove}
    keep = [u for u in cur.users if u.lower() not in remove_l]
    keep += [a for a in sorted(add) if not cur.has(a)]
    body: dict[str, Any] = {"type": identity_type(cur.system, bool(keep))}
    users: dict[str, Any] = {u: {} for u in keep}
    users.update({u: None for u in cur.users if u.lower() in remove_l})
    if users and (keep or body["type"] != "None"):
        body["userAssignedIdentities"] = users
    return body


async def write_host(
    ctx: Context, rid: armid.ResourceId, identity: dict[str, Any]
) -> HostIdentity | None:
    """PATCH the host's identity block; the block as the response has it (``None``: the
    response does not say)."""
    if rid.full_type.lower() == "microsoft.compute/virtualmachines":
        poller = await ctx.clients.compute(rid.subscription_id or "").virtual_machines.begin_update(
            rid.resource_group, rid.name, {"identity": identity}
        )
        vm = await poller.result()
        block = getattr(vm, "identity", None)
        return parse_identity(_as_dict(block)) if block is not None else None
    doc = await arm_json(ctx.clients, "PATCH", str(rid), api_version(rid), {"identity": identity})
    return parse_identity(doc["identity"]) if doc and "identity" in doc else None


def _as_dict(model: Any) -> dict[str, Any] | None:
    if model is None:
        return None
    if isinstance(model, dict):
        return model
    if hasattr(model, "as_dict"):
        d = model.as_dict()
        # new-style models keep wire names; old-style use snake_case
        if "user_assigned_identities" in d and "userAssignedIdentities" not in d:
            d["userAssignedIdentities"] = d.pop("user_assigned_identities")
        return d
    return dict(model)
