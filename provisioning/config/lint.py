"""The least-privilege lint: its rules, as data.

A rule says when a grant is too broad and how loudly to say so; ``allow_privileged:
"<reason>"`` on the grant (or its owner) waives it.  ``check.py`` applies the rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from provisioning.config.issues import Severity
from provisioning.core import armid
from provisioning.core.catalog import GraphAppRole, RoleDef

BROAD_SCOPE_KINDS = frozenset({"root", "management_group", "subscription"})
SCOPE_WORDS = {
    "root": "root (tenant-wide)",
    "management_group": "management group",
    "subscription": "subscription",
    "resource_group": "resource group",
    "resource": "resource",
}
"""How each kind of scope reads in a rule's message."""


@dataclass(frozen=True)
class RoleRule:
    """A rule over (role, scope).  ``allow_privileged`` on the grant waives it."""

    code: str
    severity: Severity
    applies: Callable[[RoleDef, armid.ResourceId], bool]
    message: str  # {role} and {scope} are filled in


@dataclass(frozen=True)
class GraphRule:
    """A rule over one Graph application permission; ``allow_privileged`` waives it."""

    code: str
    severity: Severity
    applies: Callable[[GraphAppRole], bool]
    message: str  # {value} and {owner} are filled in


ROLE_RULES: tuple[RoleRule, ...] = (
    RoleRule(
        "privileged-role-broad-scope",
        "error",
        lambda r, s: r.privileged and s.kind in BROAD_SCOPE_KINDS,
        "{role} at {scope} scope is refused: use a narrower role or scope, "
        'or say why with allow_privileged: "<reason>"',
    ),
    RoleRule(
        "privileged-role",
        "warning",
        lambda r, s: r.privileged and s.kind not in BROAD_SCOPE_KINDS,
        "{role} can change or grant anything at this {scope}; a narrower role is usually enough",
    ),
    RoleRule(
        "data-actions-broad-scope",
        "warning",
        lambda r, s: r.has_data_actions and s.kind in BROAD_SCOPE_KINDS,
        "{role} grants data access (dataActions) across a whole {scope}; "
        "consider a resource or resource-group scope",
    ),
)

GRAPH_RULES: tuple[GraphRule, ...] = (
    GraphRule(
        "privileged-graph-permission",
        "error",
        lambda g: g.privileged,
        "{value} is a privileged Graph permission: refused unless the {owner} says why with "
        'allow_privileged: "<reason>"',
    ),
)


# --- scoped grants: SharePoint sites, directory roles, Exchange application roles -------

SITES_TENANT_WIDE = ("Sites.Read.All", "Sites.ReadWrite.All", "Sites.FullControl.All")
"""Graph permissions that reach every site of the tenant."""


@dataclass(frozen=True)
class ScopedRule:
    """A rule over one scoped grant (a site permission, a directory role, an Exchange
    role): ``applies(grant)`` over the raw entry and its catalog entry (or None);
    ``allow_privileged`` on the entry waives it."""

    code: str
    severity: Severity
    applies: Callable[[dict[str, object], object], bool]
    message: str  # {role} and {what} are filled in


SITE_RULES: tuple[ScopedRule, ...] = (
    ScopedRule(
        "privileged-site-role",
        "error",
        lambda g, _r: g.get("role") == "fullcontrol",
        "fullcontrol on {what} lets the app manage the site's permissions (grant anyone "
        'access): use write or manage, or say why with allow_privileged: "<reason>"',
    ),
)

DIRECTORY_RULES: tuple[ScopedRule, ...] = (
    ScopedRule(
        "privileged-directory-role",
        "error",
        lambda _g, r: bool(getattr(r, "privileged", False)),
        "{role} is a privileged Microsoft Entra role (it can change credentials, roles or "
        'policies): refused unless the entry says why with allow_privileged: "<reason>"',
    ),
)

EXCHANGE_RULES: tuple[ScopedRule, ...] = (
    ScopedRule(
        "privileged-exchange-role",
        "error",
        lambda _g, r: bool(getattr(r, "privileged", False)),
        "{role} sends as, or fully controls, every mailbox in its scope: refused unless the "
        'entry says why with allow_privileged: "<reason>"',
    ),
    ScopedRule(
        "exchange-role-every-mailbox",
        "warning",
        lambda g, _r: not g.get("recipient_filter") and not g.get("administrative_unit"),
        "{role} with no recipient_filter or administrative_unit applies to every mailbox "
        "of the organization; limit it to the mailboxes the app needs",
    ),
)
