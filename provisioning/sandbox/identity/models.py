"""Managed-identity endpoints' state and rules: which hosts exist, their per-host secrets,
and which attached identity a token request selects.

Hosts come from ARM state (``world.arm.hosts()``) and the identities from each host's
current ``identity`` block (``world.arm.host_identities``), so attaching or detaching an
identity through ARM changes what the endpoint serves at once.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..world import World

COLL = "identityHosts"  # per-host secrets (the App Service / Automation X-IDENTITY-HEADER)
IMDS_KINDS = ("vm",)
APP_SERVICE_KINDS = ("automation", "appservice")


class NoIdentity(Exception):
    """No identity matches; ``multiple`` when several user-assigned ones and none named."""

    def __init__(self, *, multiple: bool = False) -> None:
        super().__init__("multiple" if multiple else "not found")
        self.multiple = multiple


def find_host(world: World, name: str) -> dict[str, Any] | None:
    for h in world.arm.hosts():
        if h["name"] == name:
            return h
    low = name.lower()
    for h in world.arm.hosts():
        if h["name"].lower() == low:
            return h
    return None


def host_secret(world: World, name: str) -> str:
    """The host's IDENTITY_HEADER value: minted once, kept in the store."""
    doc = world.store.get(COLL, name)
    if doc is None or not doc.get("secret"):
        doc = {"name": name, "secret": secrets.token_hex(16)}
        world.store.put(COLL, name, doc)
    return str(doc["secret"])


def select_identity(
    world: World,
    host: dict[str, Any],
    *,
    client_id: str | None = None,
    object_id: str | None = None,
    resource_id: str | None = None,
    single_user_default: bool = True,
) -> dict[str, Any]:
    """The identity a token request names (or the default one), among those attached now.

    Raises ``NoIdentity``. Returns ``{"principal_id", "client_id", "resource_id"?}`` where
    a missing ``resource_id`` marks the host's system-assigned identity. Without a
    selector IMDS falls back to the only user-assigned identity when there is no
    system-assigned one (``single_user_default``); App Service does not.
    """
    ids = world.arm.host_identities(host["resource_id"]) or {}
    system = ids.get("system")
    users = list((ids.get("user") or {}).values())
    candidates: list[dict[str, Any]] = []
    if system:
        candidates.append(
            {"principal_id": system["principal_id"], "client_id": system["client_id"]}
        )
    candidates.extend(
        {
            "principal_id": u["principal_id"],
            "client_id": u["client_id"],
            "resource_id": u["resource_id"],
        }
        for u in users
    )
    if client_id or object_id or resource_id:
        for c in candidates:
            if client_id and c["client_id"].lower() == client_id.lower():
                return c
            if object_id and c["principal_id"].lower() == object_id.lower():
                return c
            if resource_id and c.get("resource_id", "").lower() == resource_id.lower():
                return c
        raise NoIdentity()
    if system:
        return candidates[0]
    if len(users) == 1 and single_user_default:
        return candidates[0]
    raise NoIdentity(multiple=len(users) > 1)
