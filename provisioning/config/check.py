"""Pass 2: what the configuration means, checked over the raw document.

Cross-references, uniqueness, catalog look-ups and the least-privilege lint.  It reads
the plain data (not the pydantic model), so that it still runs, and still reports,
when pass 1 rejected part of the document: every accessor tolerates a wrong type.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from provisioning.config.formats import FORMATS
from provisioning.config.issues import Issue, Loc, Severity, did_you_mean, format_path, show
from provisioning.config.lint import GRAPH_RULES, ROLE_RULES, SCOPE_WORDS
from provisioning.config.regions import AZURE_REGIONS
from provisioning.config.scoped import check_scoped, has_scoped
from provisioning.config.source import Source
from provisioning.core import armid, clouds
from provisioning.core.catalog import GraphAppRole, RoleDef, graph, role_definition_guid, roles

SYSTEM_ASSIGNED_DOC = (
    "https://learn.microsoft.com/entra/workload-id/"
    "workload-identity-federation-config-app-trust-managed-identity"
)
SYSTEM_ASSIGNED_NOTE = (
    "a system-assigned identity as an app's trusted identity: Microsoft Learn's how-to for "
    'trusting a managed identity says "Only user-assigned managed identities can be used as a '
    "federated credential for apps. system-assigned identities aren't supported.\" "
    f"({SYSTEM_ASSIGNED_DOC}). The chain works, and xtenant manages it, but a re-created host "
    "gets a new principal id (the credential must follow) and Microsoft may stop honouring it."
)

MAX_FEDERATED_CREDENTIALS = 20
"""Entra's limit of federated identity credentials on one application."""


def check(data: dict[str, Any], src: Source, base_dir: Path) -> list[Issue]:
    """Pass-2 issues of the document ``data`` (paths relative to ``base_dir``)."""
    return Checker(data, src, base_dir).run()


class Checker:
    """Collects pass-2 issues; every accessor tolerates input pass 1 rejected."""

    def __init__(self, data: dict[str, Any], src: Source, base_dir: Path) -> None:
        self.data = data
        self.src = src
        self.base_dir = base_dir
        self.issues: list[Issue] = []
        home = data.get("home")
        self.home: dict[str, Any] = home if isinstance(home, dict) else {}

    def add(
        self,
        loc: Loc,
        message: str,
        *,
        severity: Severity = "error",
        found: object = None,
        expected: str | None = None,
        code: str | None = None,
    ) -> None:
        file, line = self.src.locate(loc)
        shown = None if found is None else show(found)
        self.issues.append(
            Issue(format_path(loc), message, file, line, severity, shown, expected, code)
        )

    def run(self) -> list[Issue]:
        self.check_cloud()
        identities = self.check_identities()
        apps = self.check_apps(identities)
        self.check_customers(apps)
        self.check_offboard()
        return self.issues

    # --- offboard -------------------------------------------------------------------
    def check_offboard(self) -> None:
        """``offboard:`` names customers whose kits reconcile moves away: never one that is
        still declared (which of the two would be meant?), each once."""
        declared = {
            n.casefold(): i
            for i, c in _items(self.data.get("customers"))
            if (n := _str(c.get("name")))
        }
        seen: set[str] = set()
        for j, name in _strs(self.data.get("offboard")):
            here: Loc = ("offboard", j)
            if name.casefold() in seen:
                self.add(here, "listed twice", severity="warning", found=name, code="duplicate")
            seen.add(name.casefold())
            if name.casefold() in declared:
                i = declared[name.casefold()]
                self.add(
                    here,
                    f"customer '{name}' is still declared (customers[{i}] at "
                    f"{self.src.where(('customers', i), here)}); offboard it or keep it, not both",
                    found=name,
                    expected="the name of a customer no longer in customers: or customers_dir",
                    code="offboard-declared",
                )

    # --- cloud ----------------------------------------------------------------------
    def check_cloud(self) -> None:
        spec = self.data.get("cloud", "public")
        if not isinstance(spec, str) or not spec.strip() or spec.lower() in clouds.BUILTIN:
            return
        path = self.base_dir / spec
        expected = "public, usgov, china or a path (relative to this file) to a cloud JSON file"
        if not spec.endswith(".json") and not path.exists():
            hint = did_you_mean(spec, clouds.BUILTIN)
            self.add(("cloud",), f"unknown cloud{hint}", found=spec, expected=expected)
            return
        try:
            clouds.load_cloud_file(path)
        except clouds.CloudError as exc:
            self.add(("cloud",), f"unusable cloud file: {exc}", found=spec, expected=expected)

    # --- identities -----------------------------------------------------------------
    def check_identities(self) -> dict[str, int]:
        """Returns identity names (casefolded) -> index."""
        base: Loc = ("home", "identities")
        names = self._unique(base, _items(self.home.get("identities")), "name", "identity name")
        home_sub = _str(self.home.get("subscription_id"))
        systems: dict[str, str] = {}  # host id (lower) -> identity name
        for i, ident in _items(self.home.get("identities")):
            loc: Loc = (*base, i)
            location = _str(ident.get("location"))
            if location and re.fullmatch(FORMATS["location"].pattern, location):
                if location not in AZURE_REGIONS:
                    self.add(
                        (*loc, "location"),
                        f"unknown Azure region{did_you_mean(location, AZURE_REGIONS)}",
                        severity="warning",
                        found=location,
                        expected="an Azure region name such as westus2",
                        code="unknown-region",
                    )
            self._check_hosts(loc, ident.get("attach_to"), home_sub)
            self._check_system_assigned(loc, ident, home_sub, systems)
        return names

    def _check_system_assigned(
        self, loc: Loc, ident: dict[str, Any], home_sub: str | None, seen: dict[str, str]
    ) -> None:
        """A host's system-assigned identity: once per host, and said to be outside what
        Microsoft documents as supported for an app's federated credential."""
        host = _str(ident.get("system_assigned_of"))
        rid = armid.try_parse(host) if host else None
        if rid is None:
            return
        here: Loc = (*loc, "system_assigned_of")
        name = _str(ident.get("name")) or "?"
        key = str(rid).lower()
        if key in seen:
            self.add(
                here,
                f"identity {seen[key]!r} is already this host's system-assigned identity",
                found=host,
                code="duplicate",
            )
            return
        seen[key] = name
        self.add(
            here,
            f"{SYSTEM_ASSIGNED_NOTE} To move {name} to a user-assigned identity: declare one "
            f"(name, resource_group, location, attach_to: [{rid.name}]), add it to the app's "
            f"trusts next to {name}, apply, point the workload at its client id, then remove "
            f"{name} from trusts and from home.identities and apply again.",
            severity="warning",
            found=host,
            expected="a user-assigned identity attached to the host",
            code="system-assigned-trust",
        )
        self._other_subscription(here, str(host), rid, home_sub)

    def _other_subscription(
        self, here: Loc, text: str, rid: armid.ResourceId, home_sub: str | None
    ) -> None:
        sub = rid.subscription_id
        if home_sub and sub and armid.GUID_RE.match(home_sub) and sub != home_sub.lower():
            self.add(
                here,
                f"host is in subscription {sub}, not the home subscription; "
                "xtenant needs rights there too",
                severity="warning",
                found=text,
                expected=f"/subscriptions/{home_sub.lower()}/...",
                code="host-other-subscription",
            )

    def _check_hosts(self, loc: Loc, attach_to: Any, home_sub: str | None) -> None:
        seen: set[armid.ResourceId] = set()
        for j, text in _strs(attach_to):
            rid = armid.try_parse(text)
            if rid is None:
                continue
            here: Loc = (*loc, "attach_to", j)
            if rid in seen:
                self.add(here, "listed twice", severity="warning", found=text, code="duplicate")
            seen.add(rid)
            self._other_subscription(here, text, rid, home_sub)

    # --- apps -----------------------------------------------------------------------
    def check_apps(self, identities: dict[str, int]) -> dict[str, dict[str, Any]]:
        """Returns app keys (casefolded) -> the raw app."""
        base: Loc = ("home", "apps")
        apps = _items(self.home.get("apps"))
        keys = self._unique(base, apps, "key", "app key")
        self._unique(base, apps, "unique_name", "unique_name")
        self._unique(base, apps, "adopt_app_id", "adopt_app_id")
        for i, app in apps:
            loc: Loc = (*base, i)
            self._check_trusts(loc, app.get("trusts"), identities)
            for j, role in self._graph_roles((*loc, "graph_app_roles"), app.get("graph_app_roles")):
                self._graph_lint((*loc, "graph_app_roles", j), role, app, "app")
        return {k: dict(apps)[i] for k, i in keys.items()}

    def _check_trusts(self, loc: Loc, trusts: Any, identities: dict[str, int]) -> None:
        names = _strs(trusts)
        if isinstance(trusts, list) and not trusts:
            self.add(
                (*loc, "trusts"),
                "trusts no identity, so nothing can use this app",
                severity="warning",
                code="no-trust",
            )
        seen: set[str] = set()
        for j, written in names:
            name = written.strip()  # spaces around it are pass 1's error, not a second one
            here: Loc = (*loc, "trusts", j)
            if name.casefold() in seen:
                self.add(here, f"identity '{name}' is listed twice", found=name, code="duplicate")
            seen.add(name.casefold())
            if name.casefold() not in identities:
                known = [str(v) for v in self._identity_names()]
                self.add(
                    here,
                    f"no identity named '{name}' in home.identities{did_you_mean(name, known)}",
                    found=name,
                    expected="one of " + (", ".join(known) or "(no identities declared)"),
                    code="dangling-reference",
                )
        if len(seen) > MAX_FEDERATED_CREDENTIALS:
            self.add(
                (*loc, "trusts"),
                f"an app holds at most {MAX_FEDERATED_CREDENTIALS} federated credentials "
                "(Entra's limit; one per trusted identity)",
                found=f"{len(seen)} identities",
                expected=f"{MAX_FEDERATED_CREDENTIALS} or fewer; split the identities over apps",
                code="fic-limit",
            )

    def _identity_names(self) -> list[str]:
        return [n for _, d in _items(self.home.get("identities")) if (n := _str(d.get("name")))]

    # --- customers ------------------------------------------------------------------
    def check_customers(self, apps: dict[str, dict[str, Any]]) -> None:
        customers = _items(self.data.get("customers"))
        self._unique(("customers",), customers, "name", "customer name")
        pairs: dict[tuple[str, str], int] = {}
        for i, cust in customers:
            loc: Loc = ("customers", i)
            app = self._customer_app(loc, cust, apps)
            tenant, key = _str(cust.get("tenant")), _str(cust.get("app"))
            if tenant and key:
                pair = (tenant.casefold(), key.casefold())
                if pair in pairs:
                    self.add(
                        (*loc, "tenant"),
                        f"tenant '{tenant}' already has app '{key}' (customers[{pairs[pair]}] at "
                        f"{self.src.where(('customers', pairs[pair]), loc)})",
                        found=tenant,
                        expected="one customer entry per (tenant, app)",
                        code="duplicate",
                    )
                pairs.setdefault(pair, i)
            self._check_grants(loc, cust)
            self._check_customer_graph(loc, cust, app)
            check_scoped(self, loc, cust)

    def _customer_app(
        self, loc: Loc, cust: dict[str, Any], apps: dict[str, dict[str, Any]]
    ) -> dict[str, Any] | None:
        key = _str(cust.get("app"))
        if key is None:
            return None
        app = apps.get(key.casefold())
        if app is None:
            known = [k for _, a in _items(self.home.get("apps")) if (k := _str(a.get("key")))]
            self.add(
                (*loc, "app"),
                f"no app with key '{key}' in home.apps{did_you_mean(key, known)}",
                found=key,
                expected="one of " + (", ".join(known) or "(no apps declared)"),
                code="dangling-reference",
            )
        return app

    def _check_grants(self, loc: Loc, cust: dict[str, Any]) -> None:
        grants = _items(cust.get("roles"))
        nothing = cust.get("roles") in (None, []) and cust.get("graph_app_roles") in (None, [])
        if nothing and not has_scoped(cust):
            self.add(
                loc,
                "this customer grants nothing (no roles, no graph_app_roles, no scoped grants)",
                severity="warning",
                code="grants-nothing",
            )
        seen: dict[tuple[str, armid.ResourceId], int] = {}
        for j, grant in grants:
            here: Loc = (*loc, "roles", j)
            role = self._resolve_role((*here, "role"), grant.get("role"))
            scope = armid.try_parse(grant["scope"]) if isinstance(grant.get("scope"), str) else None
            if role is None or scope is None:
                continue
            key = (role.id if isinstance(role, RoleDef) else role, scope)
            if key in seen:
                self.add(
                    here,
                    f"the same role and scope as roles[{seen[key]}]",
                    found=str(grant.get("role")),
                    code="duplicate",
                )
            seen.setdefault(key, j)
            if isinstance(role, RoleDef):
                self._role_lint(here, role, scope, grant)

    def _resolve_role(self, loc: Loc, ref: Any) -> RoleDef | str | None:
        """The catalog role, or the GUID of a custom role, or None (reported)."""
        text = _str(ref)
        if text is None:
            return None
        guid = role_definition_guid(text)
        known = roles.lookup(text)
        if known is not None:
            return known
        if guid is not None:
            self.add(
                loc,
                "role definition is not in the built-in catalog (a custom role?); "
                "it cannot be checked for least privilege",
                severity="warning",
                found=text,
                code="custom-role-unlinted",
            )
            return guid
        if text.startswith("/"):
            self.add(
                loc,
                "not a role definition id",
                found=text,
                expected="/providers/Microsoft.Authorization/roleDefinitions/<guid>",
            )
            return None
        self.add(
            loc,
            f"unknown role{did_you_mean(text, roles.names())}",
            found=text,
            expected="a built-in role name (e.g. Monitoring Metrics Publisher) "
            "or the GUID of a custom role",
            code="unknown-role",
        )
        return None

    def _role_lint(
        self, loc: Loc, role: RoleDef, scope: armid.ResourceId, grant: dict[str, Any]
    ) -> None:
        if _str(grant.get("allow_privileged")):
            return
        for rule in ROLE_RULES:
            if rule.applies(role, scope):
                message = rule.message.format(role=role.name, scope=SCOPE_WORDS[scope.kind])
                self.add(
                    loc,
                    message,
                    severity=rule.severity,
                    found=f"{role.name} at {scope}",
                    code=rule.code,
                )

    def _check_customer_graph(
        self, loc: Loc, cust: dict[str, Any], app: dict[str, Any] | None
    ) -> None:
        app_roles = None
        if app is not None and isinstance(app.get("graph_app_roles", []), list):
            app_roles = {
                r.value for _, v in _strs(app.get("graph_app_roles")) if (r := graph.lookup(v))
            }
        base: Loc = (*loc, "graph_app_roles")
        for j, role in self._graph_roles(base, cust.get("graph_app_roles")):
            if app_roles is not None and role.value not in app_roles:
                self.add(
                    (*base, j),
                    f"{role.value} is not among the graph_app_roles of app '{cust.get('app')}', "
                    "so consent would not cover it",
                    found=role.value,
                    expected="one of " + (", ".join(sorted(app_roles)) or "(the app asks none)"),
                    code="graph-role-not-in-app",
                )
            self._graph_lint((*base, j), role, cust, "customer")

    def _graph_roles(self, loc: Loc, values: Any) -> list[tuple[int, GraphAppRole]]:
        """Known permissions (unknown ones are reported here), with their indexes."""
        out = []
        seen: set[str] = set()
        for j, value in _strs(values):
            role = graph.lookup(value)
            if role is None:
                self.add(
                    (*loc, j),
                    f"unknown Microsoft Graph application permission"
                    f"{did_you_mean(value, graph.values())}",
                    found=value,
                    expected="an application permission in xtenant's catalog, e.g. Sites.Selected",
                    code="unknown-graph-permission",
                )
                continue
            if role.value in seen:
                self.add((*loc, j), "listed twice", found=value, code="duplicate")
            seen.add(role.value)
            out.append((j, role))
        return out

    def _graph_lint(self, loc: Loc, role: GraphAppRole, owner: dict[str, Any], what: str) -> None:
        if _str(owner.get("allow_privileged")):
            return
        for rule in GRAPH_RULES:
            if rule.applies(role):
                self.add(
                    loc,
                    rule.message.format(value=role.value, owner=what),
                    severity=rule.severity,
                    found=role.value,
                    code=rule.code,
                )

    # --- shared ---------------------------------------------------------------------
    def _unique(
        self, base: Loc, items: list[tuple[int, dict[str, Any]]], key: str, what: str
    ) -> dict[str, int]:
        """Report repeated values of ``key`` (without case); returns value -> first index."""
        first: dict[str, int] = {}
        for i, item in items:
            value = _str(item.get(key))
            if value is None:
                continue
            if value.casefold() in first:
                j = first[value.casefold()]
                self.add(
                    (*base, i, key),
                    f"duplicate {what} '{value}' "
                    f"(first at {self.src.where((*base, j, key), (*base, i, key))})",
                    found=value,
                    expected=f"a unique {what}",
                    code="duplicate",
                )
                continue
            first[value.casefold()] = i
        return first


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return (
        [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]
        if isinstance(value, list)
        else []
    )


def _strs(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str) and v.strip()]


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
