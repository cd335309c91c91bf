"""The ``identity`` block of a host (a VM, an Automation account, ...), read as ARM JSON.

Every host kind is read the same way: a GET of the resource with the api-version the host
registry (``core/armid.HOST_KINDS``) names, through the run's ARM pipeline, following
``nextLink`` when a subscription's hosts are listed (``--prune``). How a kind is *written*
differs (a VM's PATCH is long-running) and lives with the task that writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioning.core import armid


@dataclass(frozen=True)
class HostIdentity:
    """Which identities a host carries: its system-assigned one and the user-assigned ones."""

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


def api_version(rid: armid.ResourceId) -> str:
    kind = armid.HOST_KINDS.get(rid.full_type.lower())
    if kind is None:
        raise ValueError(f"no host kind for {rid.full_type}")
    return kind.api_version


async def arm_json(clients: Any, method: str, url: str, api: str, body: Any = None) -> Any:
    """One ARM request through the run's pipeline (``url`` is a path or a ``nextLink``);
    the body as JSON. ``ResourceNotFoundError`` on 404, ``HttpResponseError`` on others."""
    from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
    from azure.core.rest import HttpRequest

    base = clients.cloud.arm.rstrip("/")
    if url.startswith("/"):
        req = HttpRequest(method, f"{base}{url}", params={"api-version": api}, json=body)
    elif url.startswith(base + "/"):  # a nextLink carries its own api-version
        req = HttpRequest(method, url, json=body)
    else:
        raise ValueError(f"refusing to follow an ARM link to another host: {url[:80]}")
    resp = await clients.arm.send_request(req)
    await resp.read()
    if resp.status_code == 404:
        raise ResourceNotFoundError(response=resp)
    if resp.status_code >= 400:
        raise HttpResponseError(response=resp)
    return resp.json() if resp.content else None


async def read_host(clients: Any, rid: armid.ResourceId) -> HostIdentity:
    """The host's identity block (``ResourceNotFoundError`` when the host does not exist)."""
    doc = await arm_json(clients, "GET", str(rid), api_version(rid))
    return parse_identity((doc or {}).get("identity"))


async def list_hosts(clients: Any, subscription_id: str) -> dict[str, HostIdentity]:
    """Every host of the supported kinds in a subscription: ARM id -> identity block."""
    out: dict[str, HostIdentity] = {}
    for kind in armid.HOST_KINDS.values():
        if not kind.supported:
            continue
        url: str | None = f"/subscriptions/{subscription_id}/providers/{kind.full_type}"
        while url:
            doc = await arm_json(clients, "GET", url, kind.api_version) or {}
            for item in doc.get("value") or []:
                out[item["id"]] = parse_identity(item.get("identity"))
            nxt = doc.get("nextLink")
            url = nxt if isinstance(nxt, str) and nxt else None
    return out
