"""Managed-identity endpoints' state and rules: which hosts exist, their per-host secrets,
and which attached identity a token request selects.

Hosts come from ARM state (``world.arm.hosts()``) and the identities from each host's
current ``identity`` block (``world.arm.host_identities``), so attaching or detaching an
identity through ARM changes what the endpoint serves at once.
"""

from __future__ import annotations

import hmac
import os
import secrets
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..world import World

COLL = "identityHosts"  # per-host secrets (the App Service / Automation X-IDENTITY-HEADER)
ARC_KEYS = "arcKeys"  # the Arc challenges issued: key file name -> host and secret
IMDS_KINDS = ("vm", "vmss")
APP_SERVICE_KINDS = ("automation", "appservice", "containerapp")
ARC_KINDS = ("arc",)
AGENT_KEY_DIR = "/var/opt/azcmagent/tokens"  # the Connected Machine agent's, on Linux


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


def arc_key_dir(world: World) -> Path:
    """Where the Arc endpoint writes its key files (``Settings.arc_key_dir``)."""
    chosen = world.settings.arc_key_dir
    if chosen:
        return Path(chosen)
    agent = Path(AGENT_KEY_DIR)
    if agent.is_dir() and os.access(agent, os.W_OK):
        return agent
    return Path(world.state_dir or ".") / "azcmagent" / "tokens"


def arc_challenge(world: World, host: str) -> Path:
    """A new key file for ``host``: its path goes in the 401's ``WWW-Authenticate: Basic
    realm=<path>``; whoever can read it proves it may have a token (the file is readable
    by its owner only, as the agent keeps it for administrators and the himds group)."""
    folder = arc_key_dir(world)
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4()}.key"
    secret = secrets.token_urlsafe(32)
    path = folder / name
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secret)
    world.store.put(ARC_KEYS, name, {"name": name, "host": host, "secret": secret})
    return path


def arc_answer(world: World, host: str, presented: str) -> bool:
    """Whether ``presented`` is the content of a key file issued to ``host``; a key is
    good once (its file is removed when used)."""
    for doc in world.store.find(ARC_KEYS, lambda d: d["host"] == host):
        if hmac.compare_digest(doc["secret"].encode(), presented.encode()):
            world.store.delete(ARC_KEYS, doc["name"])
            (arc_key_dir(world) / doc["name"]).unlink(missing_ok=True)
            return True
    return False


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
