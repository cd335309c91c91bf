"""Writing the ``identity`` block of a host, per host kind (reading it is
``state/hosts.py``, the same for every kind; the kinds are ``core/hosts.py``).

VMs and scale sets go through azure-mgmt-compute (a long-running PATCH, polled by the SDK's
poller); Automation accounts, App Service apps and slots and Arc servers through a plain ARM
PATCH, which those providers answer at once; Container Apps through a PATCH answered
``202`` with a ``Location`` to poll, polled by azure-mgmt-core's ARM polling (what the
generated SDKs use). The merge rule is the same for every kind and lives in
``merged_identity``.
"""

from __future__ import annotations

from typing import Any

from provisioning.core import armid
from provisioning.core.engine import Context
from provisioning.core.hosts import host_kind
from provisioning.state.hosts import (
    HostIdentity,
    arm_json,
    identity_type,
    parse_host,
    parse_identity,
)

__all__ = ["HostIdentity", "merged_identity", "parse_identity", "write_host"]


def merged_identity(
    cur: HostIdentity,
    add: set[str],
    remove: set[str],
    *,
    system: bool | None = None,
    both: str = "SystemAssigned, UserAssigned",
) -> dict[str, Any]:
    """The PATCH body that adds/removes user-assigned identities (and, with ``system``
    True, enables the system-assigned one) and keeps everything else: a system-assigned
    identity and identities that are not ours stay as they are. Every identity kept is
    listed, so the body says the whole set whether the provider merges or replaces it;
    removals are sent as ``null`` (ARM's documented way to detach one)."""
    remove_l = {r.lower() for r in remove}
    keep = [u for u in cur.users if u.lower() not in remove_l]
    keep += [a for a in sorted(add) if not cur.has(a)]
    with_system = cur.system if system is None else (cur.system or system)
    body: dict[str, Any] = {"type": identity_type(with_system, bool(keep), both)}
    users: dict[str, Any] = {u: {} for u in keep}
    users.update({u: None for u in cur.users if u.lower() in remove_l})
    if users and (keep or body["type"] != "None"):
        body["userAssignedIdentities"] = users
    return body


async def write_host(
    ctx: Context, rid: armid.ResourceId, identity: dict[str, Any]
) -> HostIdentity | None:
    """Write the host's identity block; the block as the response has it (``None``: the
    response does not say)."""
    kind = host_kind(rid)
    sub, group = rid.subscription_id or "", rid.resource_group
    if kind.write in ("compute-vm", "compute-vmss"):
        compute = ctx.clients.compute(sub)
        vm = kind.write == "compute-vm"
        ops = compute.virtual_machines if vm else compute.virtual_machine_scale_sets
        poller = await ops.begin_update(group, rid.name, {"identity": identity})
        made = await poller.result()
        block = getattr(made, "identity", None)
        return parse_identity(_as_dict(block)) if block is not None else None
    if kind.write == "patch-lro":
        doc = await arm_lro(
            ctx.clients, "PATCH", str(rid), kind.api_version, {"identity": identity}
        )
    else:
        doc = await arm_json(
            ctx.clients, "PATCH", str(rid), kind.api_version, {"identity": identity}
        )
    return parse_host(doc) if doc and "identity" in doc else None


async def arm_lro(clients: Any, method: str, url: str, api: str, body: Any) -> Any:
    """A long-running ARM write, polled to its end by azure-mgmt-core's ``AsyncARMPolling``
    (``Azure-AsyncOperation`` or ``Location``, ``Retry-After`` honoured); the final
    resource as JSON."""
    from azure.core.exceptions import HttpResponseError
    from azure.core.polling import AsyncLROPoller
    from azure.core.rest import HttpRequest
    from azure.mgmt.core.polling.async_arm_polling import AsyncARMPolling

    base = clients.cloud.arm.rstrip("/")
    req = HttpRequest(method, f"{base}{url}", params={"api-version": api}, json=body)
    initial = await clients.arm.send_request(req, _return_pipeline_response=True)
    if initial.http_response.status_code >= 400:
        raise HttpResponseError(response=initial.http_response)

    def final(pipeline_response: Any) -> Any:
        resp = pipeline_response.http_response
        return resp.json() if resp.content else None

    poller = AsyncLROPoller(clients.arm, initial, final, AsyncARMPolling(1))
    return await poller.result()


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
