"""Azure RBAC evaluation: built-in role definitions, action wildcards, scope inheritance.

Azure grants an action when *one* role assignment of the principal, at the scope or a parent
scope, has a role whose ``actions`` match it and whose ``notActions`` do not (data actions use
``dataActions``/``notDataActions``). Matching is case-insensitive and ``*`` matches any run of
characters; ``a/*/b`` also matches ``a/b`` (so Managed Identity Operator's
``userAssignedIdentities/*/assign/action`` grants ``userAssignedIdentities/assign/action``).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

_DATA = Path(__file__).resolve().parent.parent / "data" / "builtin_roles.json"


@functools.lru_cache(maxsize=1)
def builtin_roles() -> tuple[dict[str, Any], ...]:
    return tuple(json.loads(_DATA.read_text()))


@functools.lru_cache(maxsize=1)
def _by_id() -> dict[str, dict[str, Any]]:
    return {r["id"].lower(): r for r in builtin_roles()}


def role_by_id(guid: str) -> dict[str, Any] | None:
    return _by_id().get(guid.lower())


def role_by_name(name: str) -> dict[str, Any] | None:
    low = name.lower()
    return next((r for r in builtin_roles() if r["roleName"].lower() == low), None)


def role_guid_of(role_definition_id: str) -> str:
    """``/subscriptions/x/providers/Microsoft.Authorization/roleDefinitions/{guid}`` -> guid."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


@functools.lru_cache(maxsize=4096)
def _pattern(p: str) -> re.Pattern[str]:
    parts = [re.escape(x) for x in p.split("*")]
    rx = ".*".join(parts)
    # "/*/" may stand for zero path segments as well
    rx = rx.replace("/.*/", "/(?:.*/)?")
    return re.compile(rx, re.IGNORECASE)


def matches(pattern: str, action: str) -> bool:
    return _pattern(pattern).fullmatch(action) is not None


def role_allows(role: dict[str, Any], action: str, *, data: bool = False) -> bool:
    allow, deny = ("dataActions", "notDataActions") if data else ("actions", "notActions")
    if not any(matches(p, action) for p in role.get(allow, [])):
        return False
    return not any(matches(p, action) for p in role.get(deny, []))


def scope_covers(scope: str, target: str) -> bool:
    """Whether an assignment at ``scope`` applies to ``target`` (same or a descendant)."""
    s = scope.rstrip("/").lower()
    t = target.rstrip("/").lower()
    if s == "":  # the root scope "/"
        return True
    return t == s or t.startswith(s + "/")
