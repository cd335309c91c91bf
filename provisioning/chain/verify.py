"""``xtenant verify``: prove the chain end to end from the host that carries the identity.

For each customer, step by step, timed:

1. ``mi_token`` — the managed identity's token for the cloud's exchange audience, from
   whichever endpoint azure-identity finds in the environment (IMDS, App Service /
   Automation, Arc, workload identity). Its claims are decoded (signature dropped) and
   ``iss`` / ``sub`` / ``aud`` are checked against what the app's federated credential must
   contain: the home tenant's v2.0 issuer, the identity's principal id, the exchange
   audience — and, when the home app's FICs can be read, against each of them.
2. ``home_exchange`` — the app credential in its home tenant. AADSTS7000229 (no service
   principal there) is expected unless the config declares one: ok, with a note.
3. ``exchange:arm`` / ``exchange:monitor`` / ``exchange:graph`` — a token in the customer
   tenant for each resource the customer's grants need, through ``CrossTenantCredential``
   (one shared ``ManagedIdentityAssertion`` per identity).
4. with ``probe=True``: ``probe:arm`` (an ARM read of each role's scope when the role can
   read it), ``probe:logs`` (one marked record through the Logs Ingestion API) and
   ``probe:graph`` (a read matching the granted Graph permission).

Every failure carries a ``Diagnosis`` (``diagnose.py``). No token is ever kept in the
report: claims are decoded without the signature and every string is scrubbed of
anything shaped like a JWT before it is stored.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import fnmatch
import inspect
import json
import os
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from provisioning.core import armid
from provisioning.core.clouds import Cloud

from ..config import App, Config, Customer, Identity, Loaded
from . import claims as claims_mod
from .diagnose import (
    SECRET_VARIABLES,
    Context,
    Diagnosis,
    ErrorInfo,
    audience_matches,
    compare_fics,
    diagnose,
)

REPORT_VERSION = 1
STEPS = (
    "mi_token",
    "home_exchange",
    "exchange:arm",
    "exchange:monitor",
    "exchange:graph",
    "probe:arm",
    "probe:logs",
    "probe:graph",
)
STATUSES = ("ok", "failed", "skipped")
JWT_RX = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")
MI_CLAIMS = ("iss", "sub", "aud", "oid", "azp", "appid", "tid", "idtyp", "xms_mirid", "nbf", "exp")
RESOURCE_CLAIMS = ("aud", "iss", "tid", "oid", "appid", "azp", "roles", "exp")

IDENTITY_API = "2023-01-31"
HOST_APIS = {
    "microsoft.compute/virtualmachines": "2024-03-01",
    "microsoft.automation/automationaccounts": "2023-11-01",
    "microsoft.web/sites": "2023-12-01",
    "microsoft.hybridcompute/machines": "2024-07-10",
    "microsoft.compute/virtualmachinescalesets": "2024-03-01",
}
ARM_READ_APIS = {
    "microsoft.resources/subscriptions": "2022-12-01",
    "microsoft.resources/subscriptions/resourcegroups": "2021-04-01",
    "microsoft.insights/datacollectionrules": "2022-06-01",
    "microsoft.insights/datacollectionendpoints": "2022-06-01",
    "microsoft.operationalinsights/workspaces": "2022-10-01",
    "microsoft.storage/storageaccounts": "2023-01-01",
    "microsoft.keyvault/vaults": "2023-07-01",
    "microsoft.eventhub/namespaces": "2024-01-01",
    **HOST_APIS,
    "microsoft.managedidentity/userassignedidentities": IDENTITY_API,
}
PROVIDERS_API = "2021-04-01"

# Graph permission (prefix) -> a harmless read it allows; the first match wins
GRAPH_PROBES: tuple[tuple[str, str], ...] = (
    ("Sites.", "sites?search=*&$top=1&$select=id"),
    ("User.", "users?$top=1&$select=id"),
    ("Group.", "groups?$top=1&$select=id"),
    ("GroupMember.", "groups?$top=1&$select=id"),
    ("Application.", "applications?$top=1&$select=id"),
    ("", "organization?$select=id"),
)


# =====================================================================================
# The report
# =====================================================================================


def scrub(value: Any) -> Any:
    """``value`` with anything shaped like a JWT replaced (strings, lists, dicts)."""
    if isinstance(value, str):
        return JWT_RX.sub("[token removed]", value)
    if isinstance(value, Mapping):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


@dataclass
class Row:
    """One step of one customer."""

    customer: str
    step: str
    status: str  # ok | failed | skipped
    seconds: float
    detail: str
    target: str | None = None  # e.g. the scope an ARM probe read
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    diagnosis: Diagnosis | None = None

    def to_json(self) -> dict[str, Any]:
        return scrub(
            {
                "step": self.step,
                "target": self.target,
                "status": self.status,
                "seconds": round(self.seconds, 3),
                "detail": self.detail,
                "note": self.note,
                "data": self.data,
                "diagnosis": self.diagnosis.to_json() if self.diagnosis else None,
            }
        )


@dataclass
class VerifyReport:
    cloud: str
    home_tenant: str
    host: dict[str, Any]
    probe: bool
    customers: list[dict[str, Any]] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not any(r.status == "failed" for r in self.rows)

    def rows_for(self, customer: str, step: str | None = None) -> list[Row]:
        return [r for r in self.rows if r.customer == customer and (step is None or r.step == step)]

    def row(self, customer: str, step: str) -> Row | None:
        """The first row of ``customer``'s ``step`` (``None`` if the step did not run)."""
        found = self.rows_for(customer, step)
        return found[0] if found else None

    @property
    def diagnoses(self) -> list[tuple[Row, Diagnosis]]:
        return [(r, r.diagnosis) for r in self.rows if r.diagnosis is not None]

    def to_json(self) -> dict[str, Any]:
        """The machine-readable report (``xtenant verify -o json``), stable at version 1::

            {
              "version": 1,
              "ok": bool,                       # no step failed
              "cloud": str, "home_tenant": str, "probe": bool,
              "host": {"name": str, "endpoint_kind": str, "endpoint": str | null},
              "notes": [str],                   # what could not be read, and why
              "customers": [{
                "name": str, "tenant": str, "ok": bool,
                "app": {"key": str, "app_id": str | null},
                "identity": {"name": str | null, "client_id": str | null,
                             "principal_id": str | null},
                "steps": [{
                  "step": "mi_token" | "home_exchange" | "exchange:arm" | "exchange:monitor"
                          | "exchange:graph" | "probe:arm" | "probe:logs" | "probe:graph",
                  "target": str | null,         # the scope, stream or Graph path probed
                  "status": "ok" | "failed" | "skipped",
                  "seconds": float,
                  "detail": str, "note": str | null,
                  "data": {...},                # decoded claims (never a token), checks, ids
                  "diagnosis": null | {"code": str, "severity": "error" | "note",
                                       "cause": str, "fix": str, "details": [str],
                                       "message": str | null}
                }]
              }]
            }

        No token, signature or secret appears anywhere: claims are decoded without the
        signature and every string is scrubbed of JWT-shaped text.
        """
        customers = []
        for c in self.customers:
            rows = self.rows_for(c["name"])
            customers.append(
                {
                    **c,
                    "ok": not any(r.status == "failed" for r in rows),
                    "steps": [r.to_json() for r in rows],
                }
            )
        return scrub(
            {
                "version": REPORT_VERSION,
                "ok": self.ok,
                "cloud": self.cloud,
                "home_tenant": self.home_tenant,
                "probe": self.probe,
                "host": self.host,
                "notes": self.notes,
                "customers": customers,
            }
        )

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=False)


def _cell(rows: list[Row]) -> str:
    if not rows:
        return "-"
    statuses = {r.status for r in rows}
    status = "failed" if "failed" in statuses else "ok" if "ok" in statuses else "skipped"
    secs = sum(r.seconds for r in rows)
    mark = "*" if any(r.note for r in rows) and status == "ok" else ""
    return f"{status}{mark}" if status == "skipped" else f"{status}{mark} {secs:.2f}s"


def render_table(report: VerifyReport) -> str:
    """Plain text: a customer x step matrix, each step's detail, then the diagnoses."""
    steps = [s for s in STEPS if any(r.step == s for r in report.rows)]
    names = [c["name"] for c in report.customers]
    h = report.host
    lines = [
        f"xtenant verify: cloud {report.cloud}, home tenant {report.home_tenant}",
        f"host {h.get('name')}: {h.get('endpoint_kind')}"
        + (f" ({h['endpoint']})" if h.get("endpoint") else ""),
        "",
    ]
    table = [["customer", *steps]]
    for n in names:
        table.append([n, *(_cell(report.rows_for(n, s)) for s in steps)])
    widths = [max(len(cells[i]) for cells in table) for i in range(len(table[0]))]
    for cells in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    if any(r.note and r.status == "ok" for r in report.rows):
        lines.append("(* ok with a note)")
    for n in names:
        lines.append("")
        lines.append(f"{n}:")
        for r in report.rows_for(n):
            target = f" [{r.target}]" if r.target else ""
            lines.append(f"  {r.step}{target}: {r.status} ({r.seconds:.2f}s) {r.detail}")
            if r.step == "mi_token" and r.data.get("claims"):
                shown = " ".join(f"{k}={v}" for k, v in r.data["claims"].items())
                lines.append(f"      claims (signature removed): {shown}")
            if r.note:
                lines.append(f"      note: {r.note}")
    diags = [(r, d) for r, d in report.diagnoses if d.severity != "note" or r.status == "failed"]
    if diags:
        lines.append("")
        lines.append("Diagnoses:")
        seen: dict[tuple[str, str], str] = {}
        for r, d in diags:
            target = f" [{r.target}]" if r.target else ""
            where = f"{r.customer} / {r.step}{target}"
            key = (r.customer, d.fix)  # the same fix: one problem seen from two steps
            if key in seen:
                lines.append(f"- {where}: {d.code}, as {seen[key]}")
                continue
            seen[key] = r.step
            lines.append(f"- {where}: {d.code}")
            lines.append(f"    cause: {d.cause}")
            lines.append(f"    fix:   {d.fix}")
            for line in d.details:
                lines.append(f"      {line}")
            if d.message and d.message not in d.cause:
                lines.append(f"    service said: {d.message}")
    for note in report.notes:
        lines.append(f"note: {note}")
    lines.append("")
    lines.append("verify: " + ("all steps ok" if report.ok else "some steps FAILED"))
    return scrub("\n".join(lines)) + "\n"


# =====================================================================================
# Where the MI token comes from
# =====================================================================================


def endpoint_info(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Which managed-identity endpoint azure-identity will use, read from the same
    environment variables it reads (never the secret header's value)."""
    env = os.environ if environ is None else environ
    if env.get("IDENTITY_ENDPOINT"):
        if env.get("IDENTITY_HEADER"):
            if env.get("IDENTITY_SERVER_THUMBPRINT"):
                return {"kind": "Service Fabric", "endpoint": env["IDENTITY_ENDPOINT"]}
            return {"kind": "App Service / Automation", "endpoint": env["IDENTITY_ENDPOINT"]}
        if env.get("IMDS_ENDPOINT"):
            return {"kind": "Azure Arc", "endpoint": env["IDENTITY_ENDPOINT"]}
    if env.get("MSI_ENDPOINT"):
        kind = "Azure ML" if env.get("MSI_SECRET") else "Cloud Shell"
        return {"kind": kind, "endpoint": env["MSI_ENDPOINT"]}
    if all(
        env.get(v)
        for v in ("AZURE_AUTHORITY_HOST", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE")
    ):
        return {"kind": "workload identity", "endpoint": env["AZURE_FEDERATED_TOKEN_FILE"]}
    base = env.get("AZURE_POD_IDENTITY_AUTHORITY_HOST") or "http://169.254.169.254"
    return {"kind": "IMDS", "endpoint": base.rstrip("/") + "/metadata/identity/oauth2/token"}


# =====================================================================================
# What the home admin can tell (optional): app ids, FICs, identities, attachments
# =====================================================================================


@dataclass
class HomeFacts:
    app_ids: dict[str, str] = field(default_factory=dict)  # app key -> appId
    app_in_home: dict[str, bool | None] = field(default_factory=dict)
    app_names: dict[str, str] = field(default_factory=dict)
    fics: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict)
    identities: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> ids
    attached: dict[tuple[str, str], bool] = field(default_factory=dict)  # (identity, host)
    notes: list[str] = field(default_factory=list)


def _ssl(cloud: Cloud) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=cloud.ca_bundle) if cloud.ca_bundle else True


def _tokens(credential: Any, scopes: Iterable[str]) -> dict[str, str]:
    """One token per scope from a sync or async azure-core credential (kept in memory
    only for the reads below)."""
    scopes = list(scopes)
    get = credential.get_token
    if inspect.iscoroutinefunction(get):

        async def run() -> dict[str, str]:
            try:
                return {s: (await get(s)).token for s in scopes}
            finally:
                # its transport belongs to this event loop, which ends here
                closer = getattr(credential, "close", None)
                if closer is not None:
                    await closer()

        return asyncio.run(run())
    return {s: get(s).token for s in scopes}


def _home_facts(
    config: Config,
    cloud: Cloud,
    credential: Any,
    apps: list[App],
    identities: list[Identity],
    app_ids: Mapping[str, str],
) -> HomeFacts:
    import httpx

    facts = HomeFacts()
    try:
        tok = _tokens(credential, (cloud.graph_scope, cloud.arm_scope))
    except Exception as e:
        facts.notes.append(f"the home credential got no token: {_first(e)}")
        return facts
    verify = _ssl(cloud)
    with httpx.Client(verify=verify, timeout=60) as http:

        def graph(path: str) -> httpx.Response:
            return http.get(
                f"{cloud.graph_v1}/{path}",
                headers={"Authorization": f"Bearer {tok[cloud.graph_scope]}"},
            )

        def arm(path: str, api: str) -> httpx.Response:
            return http.get(
                f"{cloud.arm}{path}",
                params={"api-version": api},
                headers={"Authorization": f"Bearer {tok[cloud.arm_scope]}"},
            )

        for app in apps:
            given = app_ids.get(app.key) or app.adopt_app_id
            path = (
                f"applications(appId='{quote(given)}')"
                if given
                else f"applications(uniqueName='{quote(app.unique_name)}')"
            )
            r = graph(f"{path}?$select=id,appId,displayName")
            if r.status_code == 200:
                doc = r.json()
                facts.app_ids[app.key] = doc["appId"]
                facts.app_names[app.key] = doc.get("displayName") or app.display_name
                facts.app_in_home[app.key] = True
                f = graph(f"applications/{doc['id']}/federatedIdentityCredentials")
                if f.status_code == 200:
                    facts.fics[app.key] = [
                        {k: x.get(k) for k in ("name", "issuer", "subject", "audiences")}
                        for x in f.json().get("value", [])
                    ]
                else:
                    facts.notes.append(
                        f"app {app.key}: federated credentials not readable (HTTP {f.status_code})"
                    )
            elif r.status_code == 404:
                facts.app_in_home[app.key] = False
                if given:
                    facts.app_ids[app.key] = given
                facts.notes.append(
                    f"app {app.key}: "
                    + (
                        f"appId {given} is not registered in the home tenant"
                        if given
                        else f"no app with uniqueName {app.unique_name} in the home tenant "
                        "(run xtenant apply)"
                    )
                )
            else:
                facts.notes.append(
                    f"app {app.key}: not readable through Graph (HTTP {r.status_code})"
                )
        sub = config.home.subscription_id
        for ident in identities:
            rid = (
                f"/subscriptions/{sub}/resourceGroups/{ident.resource_group}/providers/"
                f"Microsoft.ManagedIdentity/userAssignedIdentities/{ident.name}"
            )
            r = arm(rid, IDENTITY_API)
            if r.status_code != 200:
                facts.notes.append(
                    f"identity {ident.name}: not readable in ARM (HTTP {r.status_code})"
                )
                continue
            props = r.json().get("properties") or {}
            facts.identities[ident.name] = {
                "client_id": props.get("clientId", ""),
                "principal_id": props.get("principalId", ""),
                "resource_id": r.json().get("id") or rid,
            }
            for host_id in ident.attach_ids:
                api = HOST_APIS.get(host_id.full_type.lower())
                if not api:
                    continue
                h = arm(str(host_id), api)
                if h.status_code != 200:
                    continue
                users = ((h.json().get("identity") or {}).get("userAssignedIdentities")) or {}
                facts.attached[(ident.name, host_id.name.lower())] = rid.lower() in {
                    u.lower() for u in users
                }
    return facts


# =====================================================================================
# The run
# =====================================================================================


def _first(e: BaseException | str) -> str:
    text = str(e).strip()
    return str(scrub(text.splitlines()[0] if text else type(e).__name__))


def _can_read(role: Any, rid: armid.ResourceId) -> bool:
    if rid.kind == "resource":
        want = f"{rid.full_type}/read"
    elif rid.kind == "subscription":
        want = "Microsoft.Resources/subscriptions/read"
    elif rid.kind == "resource_group":
        want = "Microsoft.Resources/subscriptions/resourceGroups/read"
    else:
        return False
    w = want.lower()
    allowed = any(fnmatch.fnmatchcase(w, a.lower()) for a in role.actions)
    denied = any(fnmatch.fnmatchcase(w, a.lower()) for a in role.not_actions)
    return allowed and not denied


def _role_name(grant: Any) -> str:
    rd = grant.role_def
    return rd.name if rd else grant.role


def _is_dcr(scope: str) -> bool:
    rid = armid.try_parse(scope)
    return bool(rid and rid.full_type.lower() == "microsoft.insights/datacollectionrules")


def needed_resources(customer: Customer, cloud: Cloud) -> list[tuple[str, str]]:
    """(name, scope) of each customer-tenant resource the customer's grants need."""
    out = []
    if customer.roles:
        out.append(("arm", cloud.arm_scope))
    logs = customer.probe is not None and customer.probe.logs_ingestion is not None
    if logs or any(
        _role_name(g).lower().startswith("monitoring") and _is_dcr(g.scope) for g in customer.roles
    ):
        out.append(("monitor", cloud.monitor_scope))
    if customer.graph_app_roles:
        out.append(("graph", cloud.graph_scope))
    return out


def graph_probe_path(permissions: Iterable[str]) -> str:
    perms = list(permissions)
    for prefix, path in GRAPH_PROBES:
        if prefix and any(p.startswith(prefix) for p in perms):
            return path
    return GRAPH_PROBES[-1][1]


@dataclass
class _MiResult:
    selector: str | None
    assertion: Any
    claims: dict[str, Any] | None = None
    error: BaseException | None = None
    seconds: float = 0.0
    first_customer: str | None = None  # the customer whose row took (and timed) it


class _Run:
    def __init__(
        self,
        config: Config,
        cloud: Cloud,
        *,
        config_path: str | None,
        facts: HomeFacts,
        host: str,
        identity: str | None,
        identities: Mapping[str, str],
        app_ids: Mapping[str, str],
        probe: bool,
        on_step: Callable[[Row], None] | None,
        environ: Mapping[str, str],
        kit_dir: str,
    ) -> None:
        self.config = config
        self.cloud = cloud
        self.config_path = config_path
        self.facts = facts
        self.host = host
        self.identity = identity
        self.identities = identities
        self.app_ids = app_ids
        self.probe = probe
        self.on_step = on_step
        self.environ = environ
        self.kit_dir = kit_dir
        self.endpoint = endpoint_info(environ)
        self.mi: dict[str | None, _MiResult] = {}
        self.creds: list[Any] = []
        self.rows: list[Row] = []
        self.home = config.home.tenant_id

    # ---- bookkeeping -------------------------------------------------------------------
    def add(self, row: Row) -> Row:
        row.detail = scrub(row.detail)
        row.note = scrub(row.note) if row.note else None
        row.data = scrub(row.data)
        self.rows.append(row)
        if self.on_step is not None:
            self.on_step(row)
        return row

    def context(self, customer: Customer, app: App, ident: str | None, **kw: Any) -> Context:
        ids = self.facts.identities.get(ident or "", {})
        identity_cfg = _find_identity(self.config, ident)
        base: dict[str, Any] = {
            "cloud": self.cloud,
            "config_path": self.config_path,
            "kit_dir": self.kit_dir,
            "home_tenant": self.home,
            "tenant": customer.tenant,
            "customer": customer.name,
            "app_key": app.key,
            "app_id": self._app_id(app),
            "app_name": self.facts.app_names.get(app.key, app.display_name),
            "redirect_uri": app.redirect_uris[0] if app.redirect_uris else None,
            "graph_permissions": bool(app.graph_app_roles),
            "home_sp_declared": app.service_principal,
            "app_in_home": self.facts.app_in_home.get(app.key),
            "identity": ident,
            "identity_client_id": ids.get("client_id")
            or self.identities.get(ident or "")
            or self.identity,
            "identity_principal_id": ids.get("principal_id"),
            "identity_resource_id": ids.get("resource_id") or _identity_rid(self.config, ident),
            "other_identities": {k: v for k, v in self.facts.identities.items() if k != ident},
            "host": self.host,
            "endpoint_kind": self.endpoint["kind"],
            "declared_hosts": [h.name for h in identity_cfg.attach_ids] if identity_cfg else [],
            "attached": self.facts.attached.get((ident or "", self.host.lower())),
            "fics": self.facts.fics.get(app.key),
            "expected_issuer": self.cloud.fic_issuer(self.home),
            "expected_audience": self.cloud.exchange_audience,
            "roles": [(_role_name(g), g.scope) for g in customer.roles],
            "graph_roles": list(customer.graph_app_roles),
            "environ_names": [n for n in SECRET_VARIABLES if self.environ.get(n)],
        }
        base.update(kw)
        return Context(**base)

    def _app_id(self, app: App) -> str | None:
        return self.app_ids.get(app.key) or self.facts.app_ids.get(app.key) or app.adopt_app_id

    # ---- step 1 ------------------------------------------------------------------------
    def _selector(self, name: str) -> str | None:
        return (
            self.identities.get(name)
            or self.identity
            or self.facts.identities.get(name, {}).get("client_id")
            or None
        )

    def _mi(self, selector: str | None) -> _MiResult:
        if selector in self.mi:
            return self.mi[selector]
        from .credential import ManagedIdentityAssertion

        t0 = time.perf_counter()
        res = _MiResult(selector, None)
        try:
            res.assertion = ManagedIdentityAssertion(self.cloud, selector)
            token = res.assertion()
            res.claims = claims_mod.summary(token, MI_CLAIMS)
            del token
        except Exception as e:
            res.error = e
        res.seconds = time.perf_counter() - t0
        self.mi[selector] = res
        return res

    def mi_step(self, customer: Customer, app: App) -> tuple[_MiResult | None, str | None]:
        trusted = [n for n in app.trusts if _find_identity(self.config, n) is not None]
        if not trusted:
            self.add(
                Row(
                    customer.name,
                    "mi_token",
                    "failed",
                    0.0,
                    f"app {app.key} trusts no identity declared in home.identities",
                )
            )
            return None, None
        here = self.host.lower()

        def on_this_host(name: str) -> bool:
            ident = _find_identity(self.config, name)
            return bool(ident and any(h.name.lower() == here for h in ident.attach_ids))

        ordered = sorted(trusted, key=lambda n: not on_this_host(n))
        first: tuple[_MiResult, str] | None = None
        chosen: tuple[_MiResult, str] | None = None
        for name in ordered:
            res = self._mi(self._selector(name))
            if first is None:
                first = (res, name)
            if res.claims is not None:
                chosen = (res, self._who(res, name, trusted))
                break
        assert first is not None
        res, name = chosen or first
        detail_head = self.endpoint["kind"]
        seconds = res.seconds
        if res.first_customer is None:
            res.first_customer = customer.name
        else:  # one MI token serves every customer of this identity
            detail_head += f" (the token taken for {res.first_customer}, reused)"
            seconds = 0.0
        if res.claims is None:
            ctx = self.context(customer, app, name, step="mi_token", service="imds")
            d = diagnose(res.error, ctx)
            self.add(
                Row(
                    customer.name,
                    "mi_token",
                    "failed",
                    seconds,
                    f"{detail_head}: {d.message or _first(res.error or 'no token')}",
                    data={"endpoint_kind": self.endpoint["kind"], "identity": name},
                    diagnosis=d,
                )
            )
            return None, name
        checks, problem = self._check(res.claims, customer, app, name)
        c = res.claims
        detail = (
            f"{detail_head}: token of {name} (client id {c.get('azp') or c.get('appid')}); "
            + ", ".join(f"{k} {v}" for k, v in checks.items())
        )
        self.add(
            Row(
                customer.name,
                "mi_token",
                "failed" if problem else "ok",
                seconds,
                detail,
                data={
                    "endpoint_kind": self.endpoint["kind"],
                    "endpoint": self.endpoint["endpoint"],
                    "identity": name,
                    "claims": c,
                    "checks": checks,
                },
                diagnosis=problem,
            )
        )
        return res, name

    def _who(self, res: _MiResult, fallback: str, trusted: list[str]) -> str:
        """Name the identity the token was issued to: from ARM facts when known, else from
        ``xms_mirid`` (a system-assigned identity's is the host's own resource id)."""
        claims = res.claims or {}
        oid = claims.get("oid")
        for name, ids in self.facts.identities.items():
            if oid and ids.get("principal_id") == oid:
                return name
        mirid = str(claims.get("xms_mirid") or "")
        if "/userassignedidentities/" in mirid.lower():
            return mirid.rsplit("/", 1)[-1]
        if mirid:
            return f"the system-assigned identity of {mirid.rsplit('/', 1)[-1]}"
        return fallback

    def _check(
        self, c: dict[str, Any], customer: Customer, app: App, name: str
    ) -> tuple[dict[str, str], Diagnosis | None]:
        """The assertion against what the app's FIC must contain (and the FICs themselves)."""
        checks: dict[str, str] = {}
        issuer = self.cloud.fic_issuer(self.home)
        exch = self.cloud.exchange_audience
        checks["iss"] = "ok" if c.get("iss") == issuer else f"is not {issuer}"
        checks["aud"] = "ok" if audience_matches(exch, c.get("aud"), exch) else f"is not {exch}"
        ids = self.facts.identities.get(name, {})
        pid = ids.get("principal_id")
        if pid:
            checks["sub"] = "ok" if c.get("sub") == pid else f"is not {name}'s principal id {pid}"
        else:
            checks["sub"] = (
                "ok (= oid; principal id not confirmed through ARM)"
                if c.get("sub") == c.get("oid")
                else "differs from oid"
            )
        ctx = self.context(customer, app, name, step="mi_token", assertion=c)
        fics = self.facts.fics.get(app.key)
        mirid = str(c.get("xms_mirid") or "")
        user_assigned = "/userassignedidentities/" in mirid.lower()
        trusted = {t.lower() for t in app.trusts}
        if mirid and (not user_assigned or mirid.rsplit("/", 1)[-1].lower() not in trusted):
            # e.g. no identity chosen on a host that also has a system-assigned identity
            checks["sub"] = (
                f"token of {'the host' + chr(39) + 's system-assigned identity' if not user_assigned else mirid.rsplit('/', 1)[-1]}, "
                f"not of {', '.join(app.trusts)}"
            )
            want = self.context(
                customer, app, app.trusts[0] if app.trusts else None, step="mi_token", assertion=c
            )
            return checks, diagnose(ErrorInfo("MI_WRONG_IDENTITY", None, "", "imds"), want)
        if pid and c.get("sub") != pid:
            return checks, diagnose(ErrorInfo("MI_WRONG_IDENTITY", None, "", "imds"), ctx)
        if fics is not None:
            comps = compare_fics(c, fics, exch)
            match = next((x for x in comps if x.matches), None)
            checks["fic"] = f"matches {match.name}" if match else "no FIC matches"
            if match is None:
                return checks, diagnose(ErrorInfo("FIC_MISMATCH", None, "", "entra"), ctx)
            return checks, None
        checks["fic"] = "FICs not read (no home credential): checked against the config"
        if any(
            v != "ok" and not v.startswith("ok ") for v in checks.values() if v != checks["fic"]
        ):
            return checks, diagnose(ErrorInfo("FIC_MISMATCH", None, "", "entra"), ctx)
        return checks, None

    # ---- steps 2-4 -----------------------------------------------------------------------
    def _cred(self, app_id: str, tenant: str, mi: _MiResult) -> Any:
        from .credential import CrossTenantCredential

        cred = CrossTenantCredential(app_id, tenant, cloud=self.cloud, assertion=mi.assertion)
        self.creds.append(cred)
        return cred

    def _exchange(
        self,
        customer: Customer,
        app: App,
        ident: str | None,
        cred: Any,
        step: str,
        scope: str,
        *,
        where: str,
        tenant: str,
    ) -> dict[str, Any] | None:
        t0 = time.perf_counter()
        try:
            tok = cred.get_token(scope)
            c = claims_mod.summary(tok.token, RESOURCE_CLAIMS)
            del tok
        except Exception as e:
            secs = time.perf_counter() - t0
            ctx = self.context(
                customer,
                app,
                ident,
                step=step,
                where=where,
                tenant=tenant,
                resource=scope.removesuffix("/.default"),
                assertion=self._claims_of(ident),
                service="entra",
            )
            d = diagnose(e, ctx)
            status = "ok" if d.severity == "note" else "failed"
            said = f"{d.code}, expected (see the note)" if status == "ok" else d.message
            self.add(
                Row(
                    customer.name,
                    step,
                    status,
                    secs,
                    f"{tenant}: {said or _first(e)}",
                    note=d.cause if d.severity == "note" else None,
                    diagnosis=d,
                )
            )
            return None
        secs = time.perf_counter() - t0
        detail = f"{tenant}: token for {c.get('aud')} (tid {c.get('tid')}, oid {c.get('oid')})"
        if c.get("roles"):
            detail += f", roles {', '.join(c['roles'])}"
        row = Row(customer.name, step, "ok", secs, detail, data={"claims": c})
        if step == "exchange:graph":
            granted = {r.casefold() for r in c.get("roles") or []}
            missing = [r for r in customer.graph_app_roles if r.casefold() not in granted]
            if missing:
                ctx = self.context(
                    customer,
                    app,
                    ident,
                    step=step,
                    granted_roles=list(c.get("roles") or []),
                    graph_roles=missing,
                )
                row.status = "failed"
                row.detail += f"; missing {', '.join(missing)}"
                row.diagnosis = diagnose(ErrorInfo("GRAPH_ROLES_MISSING", None, "", "graph"), ctx)
        self.add(row)
        return c

    def _claims_of(self, ident: str | None) -> dict[str, Any] | None:
        for res in self.mi.values():
            if res.claims and (
                ident is None
                or self.facts.identities.get(ident, {}).get("principal_id")
                in (None, res.claims.get("oid"))
            ):
                return res.claims
        return None

    def elsewhere(self, app: App) -> list[str] | None:
        """The hosts the app's identities live on, when this host is positively another
        declared host and no identity was chosen by hand; ``None`` otherwise."""
        here = self.host.lower()
        declared = {h.name.lower() for i in self.config.home.identities for h in i.attach_ids}
        if here not in declared or self.identity or any(n in self.identities for n in app.trusts):
            return None
        hosts = [
            h.name
            for n in app.trusts
            if (i := _find_identity(self.config, n)) is not None
            for h in i.attach_ids
        ]
        return None if any(h.lower() == here for h in hosts) else hosts

    def customer(self, customer: Customer, *, explicit: bool = False) -> dict[str, Any]:
        app = self.config.app(customer.app)
        away = None if explicit else self.elsewhere(app)
        if away is not None:
            where = " or ".join(away) or "no declared host"
            self.add(
                Row(
                    customer.name,
                    "mi_token",
                    "skipped",
                    0.0,
                    f"app {app.key} trusts {', '.join(app.trusts)}, which live on {where}, not on "
                    f"{self.host}: run verify there (--customer {customer.name})",
                )
            )
            return {
                "name": customer.name,
                "tenant": customer.tenant,
                "app": {"key": app.key, "app_id": self._app_id(app)},
                "identity": {"name": None, "client_id": None, "principal_id": None},
            }
        mi, ident = self.mi_step(customer, app)
        app_id = self._app_id(app)
        info = {
            "name": customer.name,
            "tenant": customer.tenant,
            "app": {"key": app.key, "app_id": app_id},
            "identity": {
                "name": ident,
                "client_id": (mi.claims or {}).get("azp") if mi else None,
                "principal_id": (mi.claims or {}).get("oid") if mi else None,
            },
        }
        resources = needed_resources(customer, self.cloud)
        later = ["home_exchange", *(f"exchange:{n}" for n, _ in resources)]
        if mi is None:
            for s in later:
                self.add(Row(customer.name, s, "skipped", 0.0, "no managed-identity token"))
            return info
        if not app_id:
            ctx = self.context(customer, app, ident, step="home_exchange", where="home")
            self.add(
                Row(
                    customer.name,
                    "home_exchange",
                    "failed",
                    0.0,
                    f"the appId of app {app.key} is not known",
                    diagnosis=diagnose(ErrorInfo("APP_ID_UNKNOWN", None, "", None), ctx),
                )
            )
            for s in later[1:]:
                self.add(Row(customer.name, s, "skipped", 0.0, "the app's client id is not known"))
            return info
        home_cred = self._cred(app_id, self.home, mi)
        self._exchange(
            customer,
            app,
            ident,
            home_cred,
            "home_exchange",
            self.cloud.arm_scope,
            where="home",
            tenant=self.home,
        )
        cred = self._cred(app_id, customer.tenant, mi)
        got: dict[str, dict[str, Any] | None] = {}
        for name, scope in resources:
            got[name] = self._exchange(
                customer,
                app,
                ident,
                cred,
                f"exchange:{name}",
                scope,
                where="customer",
                tenant=customer.tenant,
            )
        if self.probe:
            self._probes(customer, app, ident, cred, got)
        return info

    # ---- probes ----------------------------------------------------------------------------
    def _probes(
        self,
        customer: Customer,
        app: App,
        ident: str | None,
        cred: Any,
        got: Mapping[str, dict[str, Any] | None],
    ) -> None:
        for grant in customer.roles:
            self._probe_arm(customer, app, ident, cred, grant, got.get("arm"))
        lp = customer.probe.logs_ingestion if customer.probe else None
        if lp is not None:
            self._probe_logs(customer, app, ident, cred, lp, got.get("monitor"))
        elif "monitor" in got:
            self.add(
                Row(
                    customer.name,
                    "probe:logs",
                    "skipped",
                    0.0,
                    f"no customers[{customer.name}].probe.logs_ingestion entry to send a record to",
                )
            )
        if customer.graph_app_roles:
            self._probe_graph(customer, app, ident, cred, got.get("graph"))

    def _probe_arm(
        self,
        customer: Customer,
        app: App,
        ident: str | None,
        cred: Any,
        grant: Any,
        token_claims: dict[str, Any] | None,
    ) -> None:
        role = _role_name(grant)
        rid = armid.parse(grant.scope)
        rd = grant.role_def
        what = rid.full_type if rid.kind == "resource" else rid.kind.replace("_", " ")
        if rd is None:
            self.add(
                Row(
                    customer.name,
                    "probe:arm",
                    "skipped",
                    0.0,
                    f"{role}: a custom role, its actions are not in the catalog",
                    target=grant.scope,
                    data={"role": role},
                )
            )
            return
        if not _can_read(rd, rid):
            self.add(
                Row(
                    customer.name,
                    "probe:arm",
                    "skipped",
                    0.0,
                    f"{role} cannot read a {what} (no matching */read action): nothing harmless "
                    "to call",
                    target=grant.scope,
                    data={"role": role},
                )
            )
            return
        if token_claims is None:
            self.add(
                Row(
                    customer.name,
                    "probe:arm",
                    "skipped",
                    0.0,
                    "no ARM token",
                    target=grant.scope,
                    data={"role": role},
                )
            )
            return
        import httpx

        t0 = time.perf_counter()
        try:
            token = cred.get_token(self.cloud.arm_scope).token
            headers = {"Authorization": f"Bearer {token}"}
            del token
            with httpx.Client(verify=_ssl(self.cloud), timeout=60, headers=headers) as http:
                api = self._api_version(http, rid)
                r = http.get(f"{self.cloud.arm}{rid}", params={"api-version": api})
        except Exception as e:
            r = None
            err: Any = e
        secs = time.perf_counter() - t0
        if r is not None and r.status_code == 200:
            self.add(
                Row(
                    customer.name,
                    "probe:arm",
                    "ok",
                    secs,
                    f"{role}: GET {rid} -> 200",
                    target=grant.scope,
                    data={"role": role},
                )
            )
            return
        if r is not None:
            err = r
        ctx = self.context(
            customer, app, ident, step="probe:arm", service="arm", role=role, scope=grant.scope
        )
        d = diagnose(err, ctx)
        status = f"-> {r.status_code} {d.code}" if r is not None else f"failed: {d.message}"
        self.add(
            Row(
                customer.name,
                "probe:arm",
                "failed",
                secs,
                f"{role}: GET {rid} {status}",
                target=grant.scope,
                data={"role": role},
                diagnosis=d,
            )
        )

    def _api_version(self, http: Any, rid: armid.ResourceId) -> str:
        key = rid.full_type.lower()
        if key in ARM_READ_APIS:
            return ARM_READ_APIS[key]
        r = http.get(
            f"{self.cloud.arm}/providers/{rid.namespace}", params={"api-version": PROVIDERS_API}
        )
        if r.status_code == 200:
            want = "/".join(rid.types).lower()
            for rt in r.json().get("resourceTypes", []):
                if str(rt.get("resourceType", "")).lower() == want:
                    versions = [v for v in rt.get("apiVersions", []) if "preview" not in v]
                    if versions or rt.get("apiVersions"):
                        return (versions or rt["apiVersions"])[0]
        return "2021-04-01"

    def _probe_logs(
        self,
        customer: Customer,
        app: App,
        ident: str | None,
        cred: Any,
        lp: Any,
        token_claims: dict[str, Any] | None,
    ) -> None:
        target = f"{lp.dcr_immutable_id}/{lp.stream}"
        if token_claims is None:
            self.add(
                Row(customer.name, "probe:logs", "skipped", 0.0, "no Monitor token", target=target)
            )
            return
        from azure.monitor.ingestion import LogsIngestionClient

        record = {
            "TimeGenerated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "xtenant_probe": True,
            "message": "xtenant verify --probe heartbeat",
            "customer": customer.name,
            "host": self.host,
        }
        kw: dict[str, Any] = {"credential_scopes": [self.cloud.monitor_scope]}
        if self.cloud.ca_bundle:
            kw["connection_verify"] = self.cloud.ca_bundle
        t0 = time.perf_counter()
        try:
            with LogsIngestionClient(lp.endpoint, credential=cred, **kw) as client:
                client.upload(rule_id=lp.dcr_immutable_id, stream_name=lp.stream, logs=[record])
        except Exception as e:
            secs = time.perf_counter() - t0
            grant = next((g for g in customer.roles if _is_dcr(g.scope)), None)
            ctx = self.context(
                customer,
                app,
                ident,
                step="probe:logs",
                service="monitor",
                role=_role_name(grant) if grant else None,
                scope=grant.scope if grant else None,
            )
            d = diagnose(e, ctx)
            self.add(
                Row(
                    customer.name,
                    "probe:logs",
                    "failed",
                    secs,
                    f"POST {lp.endpoint} {target}: {d.message}",
                    target=target,
                    diagnosis=d,
                )
            )
            return
        self.add(
            Row(
                customer.name,
                "probe:logs",
                "ok",
                time.perf_counter() - t0,
                f"1 record marked xtenant_probe sent to {lp.endpoint} ({target})",
                target=target,
                data={"record": record},
            )
        )

    def _probe_graph(
        self,
        customer: Customer,
        app: App,
        ident: str | None,
        cred: Any,
        token_claims: dict[str, Any] | None,
    ) -> None:
        path = graph_probe_path(customer.graph_app_roles)
        if token_claims is None:
            self.add(
                Row(customer.name, "probe:graph", "skipped", 0.0, "no Graph token", target=path)
            )
            return
        import httpx

        t0 = time.perf_counter()
        err: Any = None
        r = None
        try:
            token = cred.get_token(self.cloud.graph_scope).token
            with httpx.Client(verify=_ssl(self.cloud), timeout=60) as http:
                r = http.get(
                    f"{self.cloud.graph_v1}/{path}", headers={"Authorization": f"Bearer {token}"}
                )
            del token
        except Exception as e:
            err = e
        secs = time.perf_counter() - t0
        if r is not None and r.status_code == 200:
            n = len(r.json().get("value", [])) if isinstance(r.json(), dict) else 0
            self.add(
                Row(
                    customer.name,
                    "probe:graph",
                    "ok",
                    secs,
                    f"GET /{path} -> 200 ({n} item{'s' if n != 1 else ''})",
                    target=path,
                )
            )
            return
        ctx = self.context(
            customer,
            app,
            ident,
            step="probe:graph",
            service="graph",
            granted_roles=list(token_claims.get("roles") or []),
        )
        d = diagnose(r if r is not None else err, ctx)
        what = f"-> {r.status_code} {d.code}" if r is not None else f"failed: {d.message}"
        self.add(
            Row(
                customer.name,
                "probe:graph",
                "failed",
                secs,
                f"GET /{path} {what}",
                target=path,
                diagnosis=d,
            )
        )

    def close(self) -> None:
        for c in self.creds:
            for inner in c._by_tenant.values():
                try:
                    inner.close()
                except Exception:
                    pass
        for res in self.mi.values():
            if res.assertion is not None:
                try:
                    res.assertion.close()
                except Exception:
                    pass


def _find_identity(config: Config, name: str | None) -> Identity | None:
    if not name:
        return None
    for i in config.home.identities:
        if i.name.casefold() == name.casefold():
            return i
    return None


def _identity_rid(config: Config, name: str | None) -> str | None:
    ident = _find_identity(config, name)
    if ident is None:
        return None
    return (
        f"/subscriptions/{config.home.subscription_id}/resourceGroups/{ident.resource_group}"
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{ident.name}"
    )


def verify(
    loaded_config: Loaded | Config,
    cloud: Cloud,
    *,
    customers: list[str] | None = None,
    probe: bool = False,
    home_credential: Any = None,
    identity: str | None = None,
    identities: Mapping[str, str] | None = None,
    app_ids: Mapping[str, str] | None = None,
    host: str | None = None,
    kit_dir: str = "kits",
    on_step: Callable[[Row], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> VerifyReport:
    """Walk the chain for each customer (all by default) from this host; never raises for
    a failing hop — every failure is a row with its diagnosis.

    ``home_credential``: an azure-core credential (sync or async) of a home-tenant admin
    that can read the apps and their FICs (Graph) and the identities (ARM). Without it,
    app ids come from ``app_ids`` (app key -> appId) or ``adopt_app_id``, the identity
    from ``identity`` (one client id / ``object_id:<guid>`` / resource id for every
    customer) or ``identities`` (identity name -> the same), else the host's default
    identity, and the assertion is checked against the config only.
    ``host``: this host's name as in ``attach_to`` (default: the machine's host name).
    ``on_step`` is called with each row as soon as it is recorded (progress display).
    """
    if isinstance(loaded_config, Loaded):
        config, config_path = loaded_config.config, str(loaded_config.path)
    else:
        config, config_path = loaded_config, None
    chosen = [config.customer(n) for n in customers] if customers else list(config.customers)
    apps = []
    for c in chosen:
        a = config.app(c.app)
        if a not in apps:
            apps.append(a)
    idents = [i for i in config.home.identities if any(i.name in a.trusts for a in apps)]
    ids_by_name = dict(identities or {})
    app_ids = dict(app_ids or {})
    env = dict(os.environ if environ is None else environ)
    facts = (
        _home_facts(config, cloud, home_credential, apps, idents, app_ids)
        if home_credential is not None
        else HomeFacts(
            notes=[
                "no home credential: FICs and identity ids not read; the "
                "assertion is checked against the config only"
            ]
        )
    )
    host_name = host or socket.gethostname()
    leaks = [n for n in SECRET_VARIABLES if env.get(n)]
    if leaks:
        facts.notes.append(
            f"{', '.join(leaks)} set on this host: a workload using DefaultAzureCredential "
            "authenticates with that (EnvironmentCredential comes first) instead of its managed "
            "identity; remove it from the workload's environment"
        )
    run = _Run(
        config,
        cloud,
        config_path=config_path,
        facts=facts,
        host=host_name,
        identity=identity,
        identities=ids_by_name,
        app_ids=app_ids,
        probe=probe,
        on_step=on_step,
        environ=env,
        kit_dir=kit_dir,
    )
    ep = run.endpoint
    report = VerifyReport(
        cloud=cloud.name,
        home_tenant=config.home.tenant_id,
        host={"name": host_name, "endpoint_kind": ep["kind"], "endpoint": ep.get("endpoint")},
        probe=probe,
        notes=list(facts.notes),
    )
    try:
        for c in chosen:
            report.customers.append(run.customer(c, explicit=bool(customers)))
    finally:
        run.close()
    report.rows = run.rows
    return report


__all__ = [
    "GRAPH_PROBES",
    "STEPS",
    "HomeFacts",
    "Row",
    "VerifyReport",
    "endpoint_info",
    "graph_probe_path",
    "needed_resources",
    "render_table",
    "scrub",
    "verify",
]
