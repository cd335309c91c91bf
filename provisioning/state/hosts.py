"""The ``identity`` block of a host (a VM, an App Service app, an Arc server, ...), read as
ARM JSON.

Every host kind is read the same way: a GET of the resource with the api-version the host
registry (``core/hosts.py``) names, through the run's ARM pipeline, following ``nextLink``
when a subscription's hosts are listed (``--prune``). How a kind is *written* differs (a
VM's PATCH is long-running, a Container App's answers 202) and lives in ``home/hosts.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from provisioning.core import armid
from provisioning.core.hosts import HOST_KINDS, host_kind


@dataclass(frozen=True)
class HostIdentity:
    """Which identities a host carries: its system-assigned one (with its principal id, the
    subject of a federated credential that trusts it) and the user-assigned ones."""

    system: bool
    users: tuple[str, ...]  # ARM ids as the host reports them
    principal_id: str | None = None  # of the system-assigned identity
    upgrade_policy: str | None = None  # a scale set's upgradePolicy.mode

    def has(self, rid: str) -> bool:
        return rid.lower() in {u.lower() for u in self.users}

    @property
    def type(self) -> str:
        return identity_type(self.system, bool(self.users))


def identity_type(system: bool, users: bool, both: str = "SystemAssigned, UserAssigned") -> str:
    """The ``identity.type`` value (``both``: how the host kind's spec spells the two)."""
    if system and users:
        return both
    return "SystemAssigned" if system else "UserAssigned" if users else "None"


def parse_identity(
    block: dict[str, Any] | None, properties: dict[str, Any] | None = None
) -> HostIdentity:
    """The identity block as ARM returns it (``properties``: the resource's, for the facts
    a plan says next to an identity change)."""
    block = block or {}
    kind = str(block.get("type") or "None").replace(" ", "").lower()
    users = tuple(
        (block.get("userAssignedIdentities") or block.get("user_assigned_identities") or {}).keys()
    )
    system = "systemassigned" in kind
    principal = block.get("principalId") or block.get("principal_id")
    policy = ((properties or {}).get("upgradePolicy") or {}).get("mode")
    return HostIdentity(
        system=system,
        users=users,
        principal_id=str(principal) if system and principal else None,
        upgrade_policy=str(policy) if policy else None,
    )


def parse_host(doc: dict[str, Any] | None) -> HostIdentity:
    doc = doc or {}
    return parse_identity(doc.get("identity"), doc.get("properties"))


def api_version(rid: armid.ResourceId) -> str:
    return host_kind(rid).api_version


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
    return parse_host(doc)


async def list_hosts(clients: Any, subscription_id: str) -> dict[str, HostIdentity]:
    """Every host of the top-level kinds in a subscription: ARM id -> identity block."""
    out: dict[str, HostIdentity] = {}
    for kind in HOST_KINDS.values():
        if kind.full_type.count("/") > 1:
            continue  # a child type (a slot) is not listed across a subscription
        url: str | None = f"/subscriptions/{subscription_id}/providers/{kind.full_type}"
        while url:
            doc = await arm_json(clients, "GET", url, kind.api_version) or {}
            for item in doc.get("value") or []:
                out[item["id"]] = parse_host(item)
            nxt = doc.get("nextLink")
            url = nxt if isinstance(nxt, str) and nxt else None
    return out
