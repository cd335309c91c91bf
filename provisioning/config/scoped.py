"""Pass 2 for a customer's scoped grants: SharePoint site permissions, Microsoft Entra
directory roles and Exchange Online application roles.

Like ``check.py`` it reads the raw document (every accessor tolerates a wrong type); the
rules themselves are data in ``lint.py``. What it adds to pass 2:

* a site permission takes effect only with ``Sites.Selected`` among the customer's Graph
  permissions; ``Sites.Selected`` without a site grant is an app that would read nothing;
* a tenant-wide ``Sites.*.All`` beside specific sites is wider than the customer needs;
* directory roles and Exchange roles must be in the catalogs, once each;
* an Exchange role's Graph permission granted in Entra too makes the Exchange scope moot
  (Entra's grant covers every mailbox).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from provisioning.config.issues import Loc, did_you_mean
from provisioning.config.lint import (
    DIRECTORY_RULES,
    EXCHANGE_RULES,
    SITE_RULES,
    SITES_TENANT_WIDE,
    ScopedRule,
)
from provisioning.core import sites
from provisioning.core.catalog import entra_roles, exchange_roles, graph

if TYPE_CHECKING:
    from provisioning.config.check import Checker

SITES_SELECTED = "Sites.Selected"


def check_scoped(chk: Checker, loc: Loc, cust: dict[str, Any]) -> None:
    graph_values = _graph_values(cust.get("graph_app_roles"))
    _check_sites(chk, loc, cust, graph_values)
    _check_directory_roles(chk, loc, cust)
    _check_exchange_roles(chk, loc, cust, graph_values)


def has_scoped(cust: dict[str, Any]) -> bool:
    """Whether the customer grants any scoped grant (for the grants-nothing warning)."""
    return any(
        isinstance(cust.get(k), list) and cust.get(k)
        for k in ("site_permissions", "directory_roles", "exchange_roles")
    )


def _graph_values(values: Any) -> set[str]:
    if not isinstance(values, list):
        return set()
    return {r.value for v in values if isinstance(v, str) and (r := graph.lookup(v))}


def _entries(value: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _lint(
    chk: Checker,
    here: Loc,
    rules: tuple[ScopedRule, ...],
    g: dict[str, Any],
    known: Any,
    role: str,
    what: str,
) -> None:
    waived = _str(g.get("allow_privileged")) is not None
    for rule in rules:
        if rule.severity == "error" and waived:
            continue
        if rule.applies(g, known):
            chk.add(
                here,
                rule.message.format(role=role, what=what),
                severity=rule.severity,
                found=role,
                code=rule.code,
            )


# --- SharePoint sites -------------------------------------------------------------------


def _check_sites(chk: Checker, loc: Loc, cust: dict[str, Any], graph_values: set[str]) -> None:
    base: Loc = (*loc, "site_permissions")
    entries = _entries(cust.get("site_permissions"))
    seen: dict[tuple[str, ...], int] = {}
    for j, g in entries:
        here: Loc = (*base, j)
        ref = sites.try_parse(g["site"]) if isinstance(g.get("site"), str) else None
        if ref is None:
            continue  # pass 1 reported it
        if ref.key in seen:
            chk.add(
                here,
                f"the same site as site_permissions[{seen[ref.key]}]",
                found=str(g.get("site")),
                code="duplicate",
            )
        seen.setdefault(ref.key, j)
        _lint(chk, here, SITE_RULES, g, None, str(g.get("role", "read")), f"site {ref.label}")
    graph_loc: Loc = (*loc, "graph_app_roles")
    if entries and SITES_SELECTED not in graph_values:
        chk.add(
            base,
            f"a site permission takes effect only when the app holds {SITES_SELECTED}: add "
            f"{SITES_SELECTED} to this customer's graph_app_roles (and to its app's)",
            found=", ".join(sorted(graph_values)) or "no Graph permission",
            expected=f"graph_app_roles: [{SITES_SELECTED}]",
            code="site-permission-needs-sites-selected",
        )
    if SITES_SELECTED in graph_values and not entries:
        chk.add(
            graph_loc,
            f"{SITES_SELECTED} with no site granted: the app would read nothing; list the "
            "sites it needs under site_permissions",
            found=SITES_SELECTED,
            expected="site_permissions: [{site: https://<tenant>.sharepoint.com/sites/<name>, "
            "role: read}]",
            code="sites-selected-without-site",
        )
    wide = [v for v in SITES_TENANT_WIDE if v in graph_values]
    if entries and wide:
        chk.add(
            graph_loc,
            f"{', '.join(wide)} reach{'es' if len(wide) == 1 else ''} every site of the tenant, "
            f"but this customer lists {len(entries)} specific site"
            f"{'s' if len(entries) != 1 else ''}: ask for {SITES_SELECTED} instead and "
            "grant those sites (site_permissions)",
            severity="warning",
            found=", ".join(wide),
            expected=SITES_SELECTED,
            code="tenant-wide-sites-permission",
        )


# --- Microsoft Entra directory roles -------------------------------------------------------


def _check_directory_roles(chk: Checker, loc: Loc, cust: dict[str, Any]) -> None:
    seen: dict[tuple[str, str], int] = {}
    for j, g in _entries(cust.get("directory_roles")):
        here: Loc = (*loc, "directory_roles", j)
        ref = _str(g.get("role"))
        if ref is None:
            continue
        role = entra_roles.lookup(ref)
        if role is None:
            chk.add(
                (*here, "role"),
                f"unknown Microsoft Entra built-in role{did_you_mean(ref, entra_roles.names())}",
                found=ref,
                expected="a built-in role name (e.g. Directory Readers) or its template id",
                code="unknown-directory-role",
            )
            continue
        scope = str(g.get("scope") or "/").lower()
        key = (role.template_id, scope)
        if key in seen:
            chk.add(
                here,
                f"the same role and scope as directory_roles[{seen[key]}]",
                found=role.name,
                code="duplicate",
            )
        seen.setdefault(key, j)
        _lint(chk, here, DIRECTORY_RULES, g, role, role.name, scope)


# --- Exchange Online application roles -------------------------------------------------------


def _check_exchange_roles(
    chk: Checker, loc: Loc, cust: dict[str, Any], graph_values: set[str]
) -> None:
    seen: dict[tuple[str, str], int] = {}
    for j, g in _entries(cust.get("exchange_roles")):
        here: Loc = (*loc, "exchange_roles", j)
        ref = _str(g.get("role"))
        if ref is None:
            continue
        role = exchange_roles.lookup(ref)
        if role is None:
            chk.add(
                (*here, "role"),
                f"unknown Exchange Online application role"
                f"{did_you_mean(ref, exchange_roles.names())}",
                found=ref,
                expected="one of " + ", ".join(exchange_roles.names()),
                code="unknown-exchange-role",
            )
            continue
        scope = str(g.get("recipient_filter") or g.get("administrative_unit") or "")
        key = (role.name, scope)
        if key in seen:
            chk.add(
                here,
                f"the same role and scope as exchange_roles[{seen[key]}]",
                found=role.name,
                code="duplicate",
            )
        seen.setdefault(key, j)
        _lint(chk, here, EXCHANGE_RULES, g, role, role.name, "")
        both = sorted(set(role.permissions) & graph_values)
        if both:
            chk.add(
                here,
                f"{', '.join(both)} is also among graph_app_roles: granted in Microsoft Entra it "
                f"reaches every mailbox, so the scope of {role.name} narrows nothing; drop it "
                "from graph_app_roles",
                severity="warning",
                found=", ".join(both),
                code="exchange-role-also-in-entra",
            )
