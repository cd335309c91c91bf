"""Facts Microsoft publishes: Azure built-in roles, Microsoft Graph application permissions,
Microsoft Entra built-in roles and Exchange Online application roles (``m365.py``).

The data files are shipped inside the package (see ``README`` in the shared reference for
where each value came from) and read lazily through ``importlib.resources`` so that they
load from an installed wheel or a zip as well as from a checkout.

    from provisioning.catalog import graph, roles
    roles.lookup("Monitoring Metrics Publisher").id
    graph.lookup("Sites.Selected").id
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from typing import Any

from provisioning.core import armid

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Microsoft Graph's appId: the same in every tenant."""

PRIVILEGED_ROLE_NAMES: frozenset[str] = frozenset(
    {"Owner", "Contributor", "User Access Administrator", "Role Based Access Control Administrator"}
)
"""Roles that can change anything, or grant access to anything, at their scope."""

ROLE_DEFINITION_TYPE = "Microsoft.Authorization/roleDefinitions"


def _load(filename: str) -> list[dict[str, Any]]:
    text = resources.files(__name__).joinpath(filename).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, list):
        raise RuntimeError(f"catalog {filename} is damaged: expected a JSON list")
    return data


def _suggest(word: str, candidates: list[str], n: int = 3) -> list[str]:
    """Close matches, best first, compared without case (as the lookups are)."""
    by_fold = {c.casefold(): c for c in candidates}
    hits = difflib.get_close_matches(word.casefold(), list(by_fold), n=n, cutoff=0.6)
    return [by_fold[h] for h in hits]


# --- Azure roles -----------------------------------------------------------------------


@dataclass(frozen=True)
class RoleDef:
    """An Azure role definition: the GUID is the same in every tenant for built-in roles."""

    name: str
    id: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...]
    description: str

    @property
    def has_data_actions(self) -> bool:
        return bool(self.data_actions)

    @property
    def privileged(self) -> bool:
        return self.name in PRIVILEGED_ROLE_NAMES

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RoleDef:
        return cls(
            name=d["roleName"],
            id=d["id"].lower(),
            actions=tuple(d.get("actions", ())),
            not_actions=tuple(d.get("notActions", ())),
            data_actions=tuple(d.get("dataActions", ())),
            not_data_actions=tuple(d.get("notDataActions", ())),
            description=d.get("description", ""),
        )


def role_definition_guid(ref: str) -> str | None:
    """The GUID in a role reference that is a bare GUID or a roleDefinitions ARM id
    (optionally under a scope); ``None`` for anything else (such as a role name)."""
    ref = ref.strip()
    if armid.GUID_RE.match(ref):
        return ref.lower()
    rid = armid.try_parse(ref) if ref.startswith("/") else None
    if (
        rid is None
        or rid.kind != "resource"
        or rid.full_type.lower() != ROLE_DEFINITION_TYPE.lower()
    ):
        return None
    return rid.name.lower() if armid.GUID_RE.match(rid.name) else None


class RoleCatalog:
    """Built-in Azure roles, by case-insensitive name or by GUID."""

    def __init__(self, filename: str = "azure_roles.json") -> None:
        self._filename = filename

    @cached_property
    def _all(self) -> tuple[RoleDef, ...]:
        return tuple(RoleDef.from_json(d) for d in _load(self._filename))

    @cached_property
    def _by_name(self) -> dict[str, RoleDef]:
        return {r.name.casefold(): r for r in self._all}

    @cached_property
    def _by_id(self) -> dict[str, RoleDef]:
        return {r.id: r for r in self._all}

    def __iter__(self) -> Iterator[RoleDef]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def names(self) -> list[str]:
        return [r.name for r in self._all]

    def lookup(self, name_or_id: str) -> RoleDef | None:
        """A role by name (any case), GUID, or roleDefinitions ARM id; ``None`` if unknown."""
        guid = role_definition_guid(name_or_id)
        if guid is not None:
            return self._by_id.get(guid)
        return self._by_name.get(" ".join(name_or_id.split()).casefold())

    def suggest(self, name: str) -> list[str]:
        """Role names close to ``name``, best first (for "did you mean")."""
        return _suggest(name, self.names())


# --- Microsoft Graph application permissions ------------------------------------------


@dataclass(frozen=True)
class GraphAppRole:
    """An application permission (an appRole on the Microsoft Graph service principal)."""

    value: str
    id: str
    display_name: str
    privileged: bool

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> GraphAppRole:
        return cls(
            value=d["value"],
            id=d["id"].lower(),
            display_name=d.get("displayName", ""),
            privileged=bool(d.get("privileged", False)),
        )


class GraphCatalog:
    """Microsoft Graph application permissions, by value (any case) or appRole id."""

    def __init__(self, filename: str = "graph_app_roles.json") -> None:
        self._filename = filename

    @cached_property
    def _all(self) -> tuple[GraphAppRole, ...]:
        return tuple(GraphAppRole.from_json(d) for d in _load(self._filename))

    @cached_property
    def _by_value(self) -> dict[str, GraphAppRole]:
        return {r.value.casefold(): r for r in self._all}

    @cached_property
    def _by_id(self) -> dict[str, GraphAppRole]:
        return {r.id: r for r in self._all}

    def __iter__(self) -> Iterator[GraphAppRole]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def values(self) -> list[str]:
        return [r.value for r in self._all]

    def lookup(self, value_or_id: str) -> GraphAppRole | None:
        """A permission by value (``Sites.Selected``, any case) or id; ``None`` if unknown."""
        key = value_or_id.strip()
        if armid.GUID_RE.match(key):
            return self._by_id.get(key.lower())
        return self._by_value.get(key.casefold())

    def suggest(self, value: str) -> list[str]:
        """Permission values close to ``value``, best first."""
        return _suggest(value, self.values())


roles = RoleCatalog()
graph = GraphCatalog()

from provisioning.core.catalog.m365 import (  # noqa: E402  (its loaders need nothing above)
    SITE_ROLES,
    EntraRole,
    ExchangeRole,
    entra_roles,
    exchange_roles,
)

__all__ = [
    "GRAPH_APP_ID",
    "PRIVILEGED_ROLE_NAMES",
    "ROLE_DEFINITION_TYPE",
    "SITE_ROLES",
    "EntraRole",
    "ExchangeRole",
    "GraphAppRole",
    "GraphCatalog",
    "RoleCatalog",
    "RoleDef",
    "entra_roles",
    "exchange_roles",
    "graph",
    "role_definition_guid",
    "roles",
]
