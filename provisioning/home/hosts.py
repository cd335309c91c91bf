"""Reading and writing the ``identity`` block of a compute host, per resource type.

VMs go through azure-mgmt-compute (a long-running PATCH, polled by the SDK's poller);
Automation accounts through a plain ARM PATCH, which that provider answers synchronously.
The merge rule is the same for every kind and lives in ``merged_identity``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioning.core import armid
from provisioning.core.engine import Context

AUTOMATION_API = "2023-11-01"


@dataclass(frozen=True)
class HostIdentity:
    system: bool
    users: tuple[str, ...]  # ARM ids as the host reports them

    def has(self, rid: str) -> bool:
        return rid.lower() in {u.lower() for u in self.users}

    @property
    def type(self) -> str:
        return identity_type(self.system, bool(self.users))


def identity_type(system: bool, users: bool) -> str:
    if system and users:
        return "SystemAssigned, UserAssigned"
    return "SystemAssigned" if system else "UserAssigned" if users else "None"


def parse_identity(block: dict[str, Any] | None) -> HostIdentity:
    block = block or {}
    kind = str(block.get("type") or "None").replace(" ", "").lower()
    users = tuple(
        (block.get("userAssignedIdentities") or block.get("user_assigned_identities") or {}).keys()
    )
    return HostIdentity(system="systemassigned" in kind, users=users)


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


class HostAdapter:
    async def get(self, ctx: Context, rid: armid.ResourceId) -> HostIdentity:
        raise NotImplementedError

    async def set(self, ctx: Context, rid: armid.ResourceId, identity: dict[str, Any]) -> None:
        raise NotImplementedError

    async def list(self, ctx: Context, subscription_id: str) -> list[tuple[str, HostIdentity]]:
        raise NotImplementedError


class VirtualMachines(HostAdapter):
    async def get(self, ctx: Context, rid: armid.ResourceId) -> HostIdentity:
        vm = await ctx.clients.compute(rid.subscription_id or "").virtual_machines.get(
            rid.resource_group, rid.name
        )
        return parse_identity(_as_dict(vm.identity))

    async def set(self, ctx: Context, rid: armid.ResourceId, identity: dict[str, Any]) -> None:
        poller = await ctx.clients.compute(rid.subscription_id or "").virtual_machines.begin_update(
            rid.resource_group, rid.name, {"identity": identity}
        )
        await poller.result()

    async def list(self, ctx: Context, subscription_id: str) -> list[tuple[str, HostIdentity]]:
        out = []
        async for vm in ctx.clients.compute(subscription_id).virtual_machines.list_all():
            out.append((vm.id, parse_identity(_as_dict(vm.identity))))
        return out


class GenericArm(HostAdapter):
    """Any ARM resource with a standard ``identity`` block and a synchronous PATCH."""

    def __init__(self, api_version: str) -> None:
        self.api_version = api_version

    async def _send(self, ctx: Context, method: str, url: str, body: Any = None) -> Any:
        from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
        from azure.core.rest import HttpRequest

        req = HttpRequest(
            method, f"{ctx.cloud.arm}{url}", params={"api-version": self.api_version}, json=body
        )
        resp = await ctx.clients.arm.send_request(req)
        await resp.read()
        if resp.status_code == 404:
            raise ResourceNotFoundError(response=resp)
        if resp.status_code >= 400:
            raise HttpResponseError(response=resp)
        return resp.json() if resp.content else None

    async def get(self, ctx: Context, rid: armid.ResourceId) -> HostIdentity:
        doc = await self._send(ctx, "GET", str(rid))
        return parse_identity(doc.get("identity"))

    async def set(self, ctx: Context, rid: armid.ResourceId, identity: dict[str, Any]) -> None:
        await self._send(ctx, "PATCH", str(rid), {"identity": identity})

    async def list(self, ctx: Context, subscription_id: str) -> list[tuple[str, HostIdentity]]:
        raise NotImplementedError


class AutomationAccounts(GenericArm):
    def __init__(self) -> None:
        super().__init__(AUTOMATION_API)

    async def list(self, ctx: Context, subscription_id: str) -> list[tuple[str, HostIdentity]]:
        url = f"/subscriptions/{subscription_id}/providers/Microsoft.Automation/automationAccounts"
        out = []
        while url:
            doc = await self._send(ctx, "GET", url)
            out += [(a["id"], parse_identity(a.get("identity"))) for a in doc.get("value", [])]
            nxt = doc.get("nextLink")
            url = nxt[len(ctx.cloud.arm) :] if nxt and nxt.startswith(ctx.cloud.arm) else ""
        return out


ADAPTERS: dict[str, HostAdapter] = {
    "microsoft.compute/virtualmachines": VirtualMachines(),
    "microsoft.automation/automationaccounts": AutomationAccounts(),
}


def adapter_for(rid: armid.ResourceId) -> HostAdapter:
    try:
        return ADAPTERS[rid.full_type.lower()]
    except KeyError:
        raise ValueError(f"no host adapter for {rid.full_type}") from None


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
