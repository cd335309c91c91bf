"""Microsoft 365 grants beyond Azure RBAC and Graph permissions: the built-in Microsoft Entra
roles (directory roles, by template id) and Exchange Online's application roles (RBAC for
Applications). Where each value came from is in ``SOURCES.md`` next to the data files.

    entra_roles.lookup("Directory Readers").template_id
    exchange_roles.lookup("Application Mail.Read").permissions
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

SITE_ROLES: tuple[str, ...] = ("read", "write", "manage", "fullcontrol")
"""Roles a SharePoint site permission gives an application, weakest first (Graph's
``permission.roles``; Microsoft's "Selected permissions" overview documents read, write,
owner and fullcontrol, and SharePoint's Sites.Selected tooling grants manage too)."""


def _load(filename: str) -> list[dict[str, Any]]:
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, list):
        raise RuntimeError(f"catalog {filename} is damaged: expected a JSON list")
    return data


def _close(word: str, candidates: list[str]) -> list[str]:
    by_fold = {c.casefold(): c for c in candidates}
    hits = difflib.get_close_matches(word.casefold(), list(by_fold), n=3, cutoff=0.6)
    return [by_fold[h] for h in hits]


# --- Microsoft Entra built-in roles ------------------------------------------------------


@dataclass(frozen=True)
class EntraRole:
    """A built-in directory role: its template id is the same in every tenant and is what a
    ``unifiedRoleAssignment``'s ``roleDefinitionId`` names."""

    name: str
    template_id: str
    description: str
    privileged: bool  # Microsoft's "privileged" label on the role
    actions: tuple[str, ...]  # documented resource actions (empty: not vendored)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> EntraRole:
        return cls(
            name=d["displayName"],
            template_id=d["templateId"].lower(),
            description=d.get("description", ""),
            privileged=bool(d.get("privileged", False)),
            actions=tuple(d.get("actions", ())),
        )

    def allows(self, action: str) -> bool:
        return action.lower() in {a.lower() for a in self.actions}


class EntraRoleCatalog:
    """Built-in Microsoft Entra roles, by display name (any case) or template id."""

    def __init__(self, filename: str = "entra_roles.json") -> None:
        self._filename = filename

    @cached_property
    def _all(self) -> tuple[EntraRole, ...]:
        return tuple(EntraRole.from_json(d) for d in _load(self._filename))

    @cached_property
    def _by_name(self) -> dict[str, EntraRole]:
        return {r.name.casefold(): r for r in self._all}

    @cached_property
    def _by_id(self) -> dict[str, EntraRole]:
        return {r.template_id: r for r in self._all}

    def __iter__(self) -> Iterator[EntraRole]:
        return iter(self._all)

    def __len__(self) -> int:
        return len(self._all)

    def names(self) -> list[str]:
        return [r.name for r in self._all]

    def lookup(self, name_or_id: str) -> EntraRole | None:
        key = name_or_id.strip()
        if armid.GUID_RE.match(key):
            return self._by_id.get(key.lower())
        return self._by_name.get(" ".join(key.split()).casefold())

    def suggest(self, name: str) -> list[str]:
        return _close(name, self.names())


# --- Exchange Online RBAC for Applications ------------------------------------------------


@dataclass(frozen=True)
class ExchangeRole:
    """An Exchange Online application role (``New-ManagementRoleAssignment -App -Role``)."""

    name: str
    permissions: tuple[str, ...]  # the Microsoft Graph (or EWS) permissions it carries
    protocol: str
    privileged: bool  # our judgement: it sends as, or fully controls, the mailboxes in scope

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ExchangeRole:
        return cls(
            name=d["name"],
            permissions=tuple(d.get("permissions", ())),
            protocol=d.get("protocol", ""),
            privileged=bool(d.get("privileged", False)),
        )


class ExchangeRoleCatalog:
    """Exchange Online's application roles, by name (any case)."""

    def __init__(self, filename: str = "exchange_app_roles.json") -> None:
        self._filename = filename

    @cached_property
    def _all(self) -> tuple[ExchangeRole, ...]:
        return tuple(ExchangeRole.from_json(d) for d in _load(self._filename))

    def __iter__(self) -> Iterator[ExchangeRole]:
        return iter(self._all)

    def names(self) -> list[str]:
        return [r.name for r in self._all]

    def lookup(self, name: str) -> ExchangeRole | None:
        want = " ".join(name.split()).casefold()
        return next((r for r in self._all if r.name.casefold() == want), None)

    def suggest(self, name: str) -> list[str]:
        return _close(name, self.names())


entra_roles = EntraRoleCatalog()
exchange_roles = ExchangeRoleCatalog()
