"""Why a hop of the chain failed, and what to do about it — in words an admin acts on.

The knowledge is one table, ``RULES``: error code (an ``AADSTS`` number, a managed-identity
endpoint error, an ARM / Graph / Logs Ingestion code) → a *cause* and a *fix* template,
filled with the tenant, app, identity and values involved.  A few entries name an
*analyzer* that derives extra values first (which field of which federated credential
differs from the assertion, which role an ARM refusal is about, ...); the analyzers are
plain functions over the error and the ``Context`` and never make a request.

    diagnose(exc_or_error_body, Context(...)) -> Diagnosis(code, cause, fix, details)

An unknown code still yields a ``Diagnosis``: its cause is the service's own message
(first line, trace ids removed).  Nothing here ever holds or prints a token: assertions
arrive as decoded claims.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provisioning.core.clouds import Cloud

EXCHANGE_APP_IDS = frozenset({"fb60f99c-7a34-4190-8149-302f77469936"})
"""appId of Entra's token-exchange app: an MI token for ``api://AzureADTokenExchange``
carries it as ``aud``, and Entra matches it to that audience in a FIC."""

SECRET_VARIABLES = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME")
"""Environment variables that make azure-identity's EnvironmentCredential (first in
``DefaultAzureCredential``) authenticate with a secret, a certificate or a password."""

_UNKNOWN = "(unknown)"


# =====================================================================================
# What a diagnosis is computed from, and what it is
# =====================================================================================


@dataclass
class Context:
    """Everything known about the failing hop.  Every field is optional: a diagnosis
    says less when less is known, never more."""

    cloud: Cloud | None = None
    step: str | None = None  # mi_token | home_exchange | exchange:arm | probe:logs ...
    where: str | None = None  # "home" or "customer": which tenant the failing call went to
    service: str | None = None  # entra | imds | arm | graph | monitor (when the error omits it)
    config_path: str | None = None
    kit_dir: str = "kits"
    # tenants
    home_tenant: str | None = None
    tenant: str | None = None  # the tenant the failing request went to
    customer: str | None = None
    # the app
    app_key: str | None = None
    app_id: str | None = None
    app_name: str | None = None
    redirect_uri: str | None = None
    graph_permissions: bool = False  # the app asks for Graph application permissions
    home_sp_declared: bool = False  # home.apps[].service_principal
    app_in_home: bool | None = None  # Graph (home admin) found the appId in the home tenant
    # the identity and the host
    identity: str | None = None  # config name
    identity_client_id: str | None = None
    identity_principal_id: str | None = None
    identity_resource_id: str | None = None
    other_identities: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    host: str | None = None
    endpoint_kind: str | None = None
    declared_hosts: Sequence[str] = ()  # names in the identity's attach_to
    attached: bool | None = None  # ARM: the identity is attached to ``host`` now
    # the assertion and the app's federated credentials
    assertion: Mapping[str, Any] | None = None  # decoded claims, never the token
    fics: Sequence[Mapping[str, Any]] | None = None  # None: could not be read
    expected_issuer: str | None = None
    expected_audience: str | None = None
    # what the customer grants
    role: str | None = None
    scope: str | None = None
    roles: Sequence[tuple[str, str]] = ()  # every (role, scope) the customer grants
    graph_roles: Sequence[str] = ()  # Graph permissions the customer grants
    granted_roles: Sequence[str] | None = None  # the token's ``roles`` claim
    resource: str | None = None  # the audience / resource of the failing exchange
    environ_names: Sequence[str] = ()  # names (never values) of variables set on the host


@dataclass(frozen=True)
class Diagnosis:
    """The cause of a failure and its fix; ``details`` are supporting lines (e.g. each
    federated credential next to the assertion)."""

    code: str
    cause: str
    fix: str
    details: tuple[str, ...] = ()
    message: str | None = None  # the service's own words (first line, no trace ids)
    severity: str = "error"  # "error", or "note" for an outcome that is expected

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "cause": self.cause,
            "fix": self.fix,
            "details": list(self.details),
            "message": self.message,
        }

    def __str__(self) -> str:
        lines = [f"{self.code}: {self.cause}", f"  fix: {self.fix}"]
        lines += [f"  {d}" for d in self.details]
        return "\n".join(lines)


# =====================================================================================
# Reading an error: code, status, message
# =====================================================================================


@dataclass(frozen=True)
class ErrorInfo:
    code: str | None  # the key into RULES (AADSTS700016, MI_IDENTITY_NOT_FOUND, ...)
    status: int | None
    message: str  # first line, trace ids removed
    service: str | None
    error_uri: str | None = None


_AADSTS_RX = re.compile(r"AADSTS(\d+)")
_TRACE_RX = re.compile(r"\s*(Trace ID|Correlation ID|Timestamp):.*$", re.S)

# managed-identity endpoint messages (IMDS, App Service / Automation, Arc) -> codes
MI_MESSAGES: tuple[tuple[str, str], ...] = (
    ("multiple user assigned identities exist", "MI_MULTIPLE_IDENTITIES"),
    ("identity not found", "MI_IDENTITY_NOT_FOUND"),
    ("no user assigned or delegated managed identity found", "MI_IDENTITY_NOT_FOUND"),
    ("no managed identity endpoint found", "MI_UNAVAILABLE"),
    ("managedidentitycredential authentication unavailable", "MI_UNAVAILABLE"),
    ("managed identity configuration not found", "MI_UNAVAILABLE"),
    ("target azure platform could not be determined", "MI_UNAVAILABLE"),
    ("no response from the imds endpoint", "MI_UNAVAILABLE"),
)


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0].strip() if text else ""


def _clean(text: str) -> str:
    return _TRACE_RX.sub("", _first_line(text)).strip().rstrip("'").strip()


def _json(text: Any) -> Any:
    try:
        return json.loads(text)
    except (TypeError, ValueError):
        return None


def _from_text(text: str, status: int | None = None, service: str | None = None) -> ErrorInfo:
    m = _AADSTS_RX.search(text)
    if m:
        rest = re.split(r"\s+Trace ID:|\n|\\n", text[m.start() :], maxsplit=1)[0]
        return ErrorInfo(f"AADSTS{m.group(1)}", status, _clean(rest), "entra")
    low = text.lower()
    for needle, code in MI_MESSAGES:
        if needle in low:
            # the endpoint's own words, after azure-identity's preamble when there is one
            tail = text.split("Token request error:", 1)[-1]
            return ErrorInfo(code, status, _clean(tail), "imds")
    return ErrorInfo(None, status, _clean(text), service)


def _from_body(body: Mapping[str, Any], status: int | None, service: str | None) -> ErrorInfo:
    status = body.get("status", status) if isinstance(body.get("status"), int) else status
    service = body.get("service", service) if isinstance(body.get("service"), str) else service
    err = body.get("error")
    if isinstance(err, Mapping):  # ARM / Graph / Logs Ingestion
        code = err.get("code")
        msg = str(err.get("message") or "")
        if isinstance(code, str):
            return ErrorInfo(code, status, _clean(msg) or code, service)
        return _from_text(msg, status, service)
    codes = body.get("error_codes")
    desc = str(body.get("error_description") or body.get("message") or "")
    if isinstance(codes, list) and codes:  # Entra / MSAL
        text = desc if "AADSTS" in desc else f"AADSTS{codes[0]}: {desc}"
        info = _from_text(text, status, "entra")
        return ErrorInfo(info.code, status, info.message, "entra", body.get("error_uri"))
    if desc or isinstance(err, str):
        info = _from_text(desc or str(err), status, service)
        if info.code is None and isinstance(err, str):
            return ErrorInfo(err, status, info.message or err, service)
        return info
    return ErrorInfo(None, status, _clean(json.dumps(dict(body), default=str)), service)


def parse_error(err: Any, service: str | None = None) -> ErrorInfo:
    """Code, HTTP status and message of an SDK exception, an HTTP response, a JSON body
    (Entra/MSAL, ARM, Graph, IMDS) or plain text."""
    if isinstance(err, ErrorInfo):
        return err
    if isinstance(err, Mapping):
        return _from_body(err, None, service)
    if isinstance(err, str):
        body = _json(err)
        return _from_body(body, None, service) if isinstance(body, dict) else _from_text(err)
    # an HTTP response (httpx, azure-core)
    status = _status(err)
    if not isinstance(err, BaseException) and status is not None:
        body = _json(_text_of(err))
        if isinstance(body, dict):
            return _from_body(body, status, service)
        return ErrorInfo(f"HTTP{status}", status, _clean(_text_of(err) or ""), service)
    # an exception: prefer the response body it carries, then its structured error
    resp = getattr(err, "response", None)
    body = _json(_text_of(resp)) if resp is not None else None
    if isinstance(body, dict):
        info = _from_body(body, status, service)
        if info.code:
            return info
    main = getattr(err, "error", None)
    code = getattr(main, "code", None)
    if isinstance(code, str) and code:
        msg = str(getattr(main, "message", "") or "")
        return ErrorInfo(code, status, _clean(msg) or code, service)
    text = str(getattr(err, "message", None) or err)
    info = _from_text(text, status, service)
    if info.code is None and status is not None:
        return ErrorInfo(f"HTTP{status}", status, info.message, service)
    return info


def _status(obj: Any) -> int | None:
    for attr in ("status_code", "response_status_code", "status"):
        v = getattr(obj, attr, None)
        if isinstance(v, int):
            return v
    resp = getattr(obj, "response", None)
    v = getattr(resp, "status_code", None)
    return v if isinstance(v, int) else None


def _text_of(resp: Any) -> str | None:
    if resp is None:
        return None
    try:
        text = resp.text() if callable(getattr(resp, "text", None)) else resp.text
        return text if isinstance(text, str) else None
    except Exception:
        return None


# =====================================================================================
# Analyzers: extra values derived from the error and the context (no I/O)
# =====================================================================================


def _aud_list(aud: Any) -> list[str]:
    if aud is None:
        return []
    return [str(a) for a in aud] if isinstance(aud, list | tuple) else [str(aud)]


def audience_matches(fic_audience: str, presented: Any, exchange_audience: str | None) -> bool:
    """Entra's rule: exact match, and the exchange audience also matches the exchange
    app's id (what an MI token for ``api://AzureADTokenExchange`` carries)."""
    for got in _aud_list(presented):
        if got == fic_audience:
            return True
        if got in EXCHANGE_APP_IDS and fic_audience in {
            exchange_audience or "api://AzureADTokenExchange",
            "api://AzureADTokenExchange",
        }:
            return True
    return False


@dataclass(frozen=True)
class FicComparison:
    """One federated credential next to the assertion: which fields differ."""

    name: str
    issuer: str
    subject: str
    audiences: tuple[str, ...]
    differs: tuple[str, ...]  # "issuer", "subject", "audience"

    @property
    def matches(self) -> bool:
        return not self.differs

    def line(self) -> str:
        marks = {k: ("≠" if k in self.differs else "=") for k in ("issuer", "subject", "audience")}
        aud = ", ".join(self.audiences) or "(none)"
        return (
            f"FIC {self.name}: issuer {marks['issuer']} {self.issuer} | subject "
            f"{marks['subject']} {self.subject} | audiences {marks['audience']} {aud}"
        )


def compare_fics(
    assertion: Mapping[str, Any], fics: Sequence[Mapping[str, Any]], exchange_audience: str | None
) -> list[FicComparison]:
    """Each FIC against the assertion's iss / sub / aud (exact, case-sensitive, as Entra)."""
    out = []
    for f in fics:
        auds = tuple(str(a) for a in f.get("audiences") or ())
        differs = []
        if f.get("issuer") != assertion.get("iss"):
            differs.append("issuer")
        if f.get("subject") != assertion.get("sub"):
            differs.append("subject")
        if not any(audience_matches(a, assertion.get("aud"), exchange_audience) for a in auds):
            differs.append("audience")
        out.append(
            FicComparison(
                str(f.get("name") or f.get("id") or "?"),
                str(f.get("issuer") or ""),
                str(f.get("subject") or ""),
                auds,
                tuple(differs),
            )
        )
    return out


def assertion_line(assertion: Mapping[str, Any] | None) -> str:
    a = assertion or {}
    aud = ", ".join(_aud_list(a.get("aud"))) or "(none)"
    note = ""
    if any(x in EXCHANGE_APP_IDS for x in _aud_list(a.get("aud"))):
        note = " (the token-exchange app: matches api://AzureADTokenExchange)"
    return f"assertion: iss {a.get('iss', '?')} | sub {a.get('sub', '?')} | aud {aud}{note}"


def _identity_words(ctx: Context) -> str:
    ids = [
        f"{label} {value}"
        for label, value in (
            ("client id", ctx.identity_client_id),
            ("principal id", ctx.identity_principal_id),
        )
        if value
    ]
    name = f"identity {ctx.identity}" if ctx.identity else "the managed identity"
    return f"{name} ({', '.join(ids)})" if ids else name


def _best(comparisons: list[FicComparison], ctx: Context) -> FicComparison:
    want = f"mi-{ctx.identity}" if ctx.identity else None
    return min(comparisons, key=lambda c: (c.name != want, len(c.differs)))


def analyze_fic(info: ErrorInfo, ctx: Context) -> dict[str, Any]:
    """Which federated credential should have matched, and what differs."""
    a = dict(ctx.assertion or {})
    # Entra's message names the presented values; use them when no claims were given
    for key, rx in (
        ("iss", r"[Ii]ssuer:? '([^']*)'"),
        ("sub", r"[Ss]ubject:? '([^']*)'"),
        ("aud", r"[Aa]udience:? '([^']*)'"),
    ):
        m = re.search(rx, info.message)
        if key not in a and m:
            a[key] = m.group(1)
    exch = ctx.expected_audience or (ctx.cloud.exchange_audience if ctx.cloud else None)
    issuer = ctx.expected_issuer or (
        ctx.cloud.fic_issuer(ctx.home_tenant) if ctx.cloud and ctx.home_tenant else None
    )
    details = [assertion_line(a)]
    app = _app_words(ctx)
    who = _identity_words(ctx)
    apply_cmd = f"`xtenant apply{_cfg(ctx)}`"
    if ctx.fics is None:
        # not readable: compare the assertion with what xtenant declares instead
        differs = []
        if issuer and a.get("iss") and a.get("iss") != issuer:
            differs.append(f"its issuer {a.get('iss')} is not the home tenant's {issuer}")
        if ctx.identity_principal_id and a.get("sub") and a.get("sub") != ctx.identity_principal_id:
            differs.append(
                f"its subject {a.get('sub')} is not {ctx.identity}'s principal id "
                f"{ctx.identity_principal_id} (this host used another identity)"
            )
        if a.get("aud") and exch and not audience_matches(exch, a.get("aud"), exch):
            differs.append(f"its audience {a.get('aud')} is not {exch}")
        details.append(
            f"expected FIC (from the config): issuer {issuer or _UNKNOWN} | subject "
            f"{ctx.identity_principal_id or a.get('oid') or _UNKNOWN} | audiences {exch or _UNKNOWN}"
        )
        details.append("the app's federated credentials could not be read (no home credential)")
        if differs:
            return {
                "fic_cause": f"the assertion does not fit the FIC xtenant declares on {app}: "
                + "; ".join(differs),
                "fic_fix": f"run verify on the host that carries {ctx.identity or 'the trusted identity'}"
                f" and select it by client id (--identity), then {apply_cmd}",
                "details": details,
            }
        return {
            "fic_cause": f"{app} has no federated credential matching the assertion of {who}: "
            "the credential was removed or changed, or was created moments ago",
            "fic_fix": f"`xtenant plan{_cfg(ctx)}` shows the drift and {apply_cmd} restores the "
            "credential; a new credential can take a few minutes to be honoured",
            "details": details,
        }
    if not ctx.fics:
        details.append("FICs on the app: none")
        return {
            "fic_cause": f"{app} has no federated identity credential at all: the one trusting "
            f"{who} was removed",
            "fic_fix": f"{apply_cmd} recreates it (mi-{ctx.identity or '<identity>'}); Entra may "
            "take a few minutes to honour a new credential",
            "details": details,
        }
    comps = compare_fics(a, ctx.fics, exch)
    details += [c.line() for c in comps]
    exact = [c for c in comps if c.matches]
    if exact:
        return {
            "fic_cause": f"FIC {exact[0].name} on {app} matches the assertion exactly, but Entra "
            "does not honour it yet: it was just created or changed, and propagation can take a "
            "few minutes",
            "fic_fix": "wait a few minutes and run verify again; nothing needs changing",
            "details": details,
        }
    best = _best(comps, ctx)
    reasons, fixes = [], []
    if "subject" in best.differs:
        client_ids = {ctx.identity_client_id, a.get("azp"), a.get("appid")} - {None}
        others = {
            v.get("principal_id"): k
            for k, v in ctx.other_identities.items()
            if v.get("principal_id")
        }
        if best.subject in client_ids:
            reasons.append(
                f"the subject is the identity's client id ({best.subject}); it must be its "
                f"principal id (object id) {a.get('sub')}"
            )
        elif best.subject in others:
            reasons.append(
                f"the subject {best.subject} is identity {others[best.subject]}'s principal id, "
                f"but this host presented {a.get('sub')}"
                + (f" ({ctx.identity})" if ctx.identity else "")
            )
        else:
            reasons.append(
                f"the subject {best.subject} is not the assertion's subject {a.get('sub')} "
                f"({'the principal id of ' + ctx.identity if ctx.identity else 'the principal id'})"
            )
        fixes.append(f"subject = {a.get('sub')}")
    if "issuer" in best.differs:
        hint = ""
        if best.issuer.rstrip("/") == str(a.get("iss", "")).rstrip("/"):
            hint = " (the match is exact: mind the trailing slash)"
        elif "sts.windows.net" in best.issuer:
            hint = " (that is the v1 issuer; MI tokens carry the v2.0 issuer)"
        reasons.append(
            f"the issuer {best.issuer} is not the assertion's issuer {a.get('iss')}"
            f"{hint}; it must be the home tenant's {issuer or a.get('iss')}"
        )
        fixes.append(f"issuer = {issuer or a.get('iss')}")
    if "audience" in best.differs:
        reasons.append(
            f"the audiences {', '.join(best.audiences) or '(none)'} do not include the exchange "
            f"audience {exch or 'api://AzureADTokenExchange'}"
        )
        fixes.append(f"audiences = [{exch or 'api://AzureADTokenExchange'}]")
    return {
        "fic_cause": f"FIC {best.name} on {app} does not match the assertion of {who}: "
        + "; ".join(reasons),
        "fic_fix": f"{apply_cmd} corrects FIC {best.name} ({', '.join(fixes)}); Entra may take a "
        "few minutes to honour the change",
        "details": details,
    }


def analyze_times(info: ErrorInfo, ctx: Context) -> dict[str, Any]:
    m = re.search(
        r"Current time: ([^,]+), assertion valid from ([^,]+), expiry time of assertion "
        r"(\S+?)\.?(?:\s|$)",
        info.message,
    )
    a = ctx.assertion or {}
    if m:
        now, start, end = m.groups()
    else:
        now, start, end = _UNKNOWN, _iso(a.get("nbf") or a.get("iat")), _iso(a.get("exp"))
    details = [f"Entra's clock: {now}; assertion valid from {start} until {end}"]
    return {"entra_now": now, "valid_from": start, "valid_until": end, "details": details}


def _iso(ts: Any) -> str:
    try:
        return dt.datetime.fromtimestamp(float(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError):
        return _UNKNOWN


_AUTHZ_RX = re.compile(r"perform action '([^']+)' over scope '([^']+)'")


def analyze_arm(info: ErrorInfo, ctx: Context) -> dict[str, Any]:
    m = _AUTHZ_RX.search(info.message)
    action, scope = (m.group(1), m.group(2)) if m else (_UNKNOWN, ctx.scope or _UNKNOWN)
    role = ctx.role or _role_for(ctx, scope) or "a role that allows it"
    return {"action": action, "scope": ctx.scope or scope, "role": role, "details": []}


def _role_for(ctx: Context, scope: str) -> str | None:
    for role, s in ctx.roles:
        if s.lower() == scope.lower():
            return role
    return None


def analyze_graph(info: ErrorInfo, ctx: Context) -> dict[str, Any]:
    granted = list(ctx.granted_roles or [])
    missing = [r for r in ctx.graph_roles if r not in granted]
    details = [f"the token's roles: {', '.join(granted) if granted else '(none)'}"]
    return {
        "graph_missing": ", ".join(missing or ctx.graph_roles) or "the permission this call needs",
        "granted": ", ".join(granted) if granted else "none",
        "details": details,
    }


def analyze_logs(info: ErrorInfo, ctx: Context) -> dict[str, Any]:
    dcr = ctx.scope
    m = re.search(r"DcrArmId: ([^,\s]+)", info.message)
    if m and not dcr:
        dcr = m.group(1)
    role = ctx.role or (_role_for(ctx, dcr) if dcr else None) or "Monitoring Metrics Publisher"
    return {"scope": dcr or _UNKNOWN, "role": role, "details": []}


def analyze_mi(info: ErrorInfo, ctx: Context) -> dict[str, Any]:
    host = ctx.host or "this host"
    declared = [h for h in ctx.declared_hosts]
    on_list = bool(ctx.host) and any(h.lower() == (ctx.host or "").lower() for h in declared)
    apply_cmd = f"`xtenant apply{_cfg(ctx)}`"
    if ctx.attached is False or on_list:
        state = (
            f"; ARM confirms it is not attached to {host} now, although home.identities"
            f"[{ctx.identity}].attach_to declares it (someone detached it)"
            if ctx.attached is False
            else f" although home.identities[{ctx.identity}].attach_to declares it"
        )
        fix = f"{apply_cmd} attaches {ctx.identity} to {host} again, then run verify again"
    elif declared:
        state = f"; it is declared on {', '.join(declared)}, not on {host}"
        fix = (
            f"run verify on {' or '.join(declared)}, or add {host}'s ARM id to "
            f"home.identities[{ctx.identity}].attach_to and run {apply_cmd}"
        )
    else:
        state = f"; home.identities[{ctx.identity}].attach_to names no host"
        fix = f"add the ARM id of {host} to home.identities[{ctx.identity}].attach_to and run {apply_cmd}"
    return {"attach_state": state, "attach_fix": fix, "details": []}


ANALYZERS: dict[str, Callable[[ErrorInfo, Context], dict[str, Any]]] = {
    "fic": analyze_fic,
    "times": analyze_times,
    "arm": analyze_arm,
    "graph": analyze_graph,
    "logs": analyze_logs,
    "mi": analyze_mi,
}


# =====================================================================================
# The table
# =====================================================================================

Predicate = Callable[[Context], bool]

WHEN: dict[str, Predicate] = {
    "home": lambda c: c.where == "home",
    "customer": lambda c: c.where != "home",
    "home_sp_declared": lambda c: c.home_sp_declared,
    "home_sp_not_declared": lambda c: not c.home_sp_declared,
    "app_not_in_home": lambda c: c.app_in_home is False,
}


@dataclass(frozen=True)
class Rule:
    codes: tuple[str, ...]
    cause: str
    fix: str
    when: str | None = None  # a key of WHEN
    analyze: str | None = None  # a key of ANALYZERS
    severity: str = "error"


_CONSENT_FIX = (
    "the admin of {tenant} consents to {app}: send them their onboarding kit "
    "(`xtenant kit{cfg} --customer {customer} --out {kit_dir}` → {kit_dir}/{customer}/index.html, "
    "or `xtenant customer apply --kit {kit_dir}/{customer}/kit.json`) or the consent link "
    "{consent_url}"
)
_GRANT_ROLE_FIX = (
    "the admin of {tenant} grants {role} on {scope} to {app}: `xtenant customer apply --kit "
    "{kit_dir}/{customer}/kit.json` (or {kit_dir}/{customer}/assign-roles.sh; by hand: "
    'az role assignment create --assignee {app_id} --role "{role}" --scope {scope})'
)
_GRAPH_FIX = (
    "if {graph_missing} was added to the app after {customer} consented, admin consent is "
    "needed again: the admin of {tenant} opens {consent_url} (or runs `xtenant customer apply "
    "--kit {kit_dir}/{customer}/kit.json`, which grants it); check that customers[{customer}]"
    ".graph_app_roles and home.apps[{app_key}].graph_app_roles list it"
)

RULES: tuple[Rule, ...] = (
    # ---- Entra: which app, which tenant ------------------------------------------------
    Rule(
        ("AADSTS700016",),
        when="home",
        cause="{app} is not registered in the home tenant {home_tenant}{app_home_note}",
        fix="check home.apps[{app_key}]: `xtenant apply{cfg}` creates the app in {home_tenant}; "
        "if an app id was passed to verify, it must be that app's appId",
    ),
    Rule(
        ("AADSTS700016",),
        cause="{customer_words} (tenant {tenant}) has not consented to {app}: the app has no "
        "service principal there",
        fix=_CONSENT_FIX,
    ),
    Rule(
        ("APP_ID_UNKNOWN",),
        cause="the client id (appId) of home.apps[{app_key}] is not known: the app does not "
        "exist in {home_tenant} yet, or it could not be looked up (no home credential)",
        fix="`xtenant apply{cfg}` creates the app; or run verify with a home admin credential, "
        "or give the appId (home.apps[{app_key}].adopt_app_id, or verify's app_ids)",
    ),
    Rule(
        ("AADSTS700236",),
        cause="{app} is registered in a tenant other than {home_tenant}, where {identity_words} "
        "lives{app_home_note}: Entra accepts a managed identity's token (issuer {assertion_iss}) "
        "as a credential only for an app registered in the identity's own tenant",
        fix="register the app in the home tenant {home_tenant} (home.apps[{app_key}]; "
        "`xtenant apply{cfg}`), have {tenant} consent to that app (its kit: "
        "{kit_dir}/{customer}/index.html), and remove the app registered in the customer tenant",
    ),
    Rule(
        ("AADSTS7000229",),
        when="home_sp_declared",
        cause="{app} has no service principal in its home tenant {home_tenant}, although "
        "home.apps[{app_key}].service_principal is true",
        fix="`xtenant apply{cfg}` creates it",
    ),
    Rule(
        ("AADSTS7000229",),
        severity="note",
        cause="{app} has no service principal in its home tenant {home_tenant} (none is declared), "
        "so Entra issues no token there; the app and its home directory were found",
        fix="nothing to do: the customer tenants are where the app acts. Set "
        "home.apps[{app_key}].service_principal: true if it must act at home too",
    ),
    Rule(
        ("AADSTS500011",),
        cause="the resource {resource} has no service principal in tenant {tenant}, so no token "
        "can be issued for it there",
        fix="for Azure Monitor the customer registers the Microsoft.Insights resource provider "
        "in their subscription (`az provider register -n Microsoft.Insights`); for another "
        "resource its application must be provisioned in {tenant}. Check also that the request "
        "goes to the right tenant ({tenant})",
    ),
    # ---- Entra: the federated credential -------------------------------------------------
    Rule(
        ("AADSTS70021", "AADSTS700211", "AADSTS700212", "AADSTS700213", "FIC_MISMATCH"),
        analyze="fic",
        cause="{fic_cause}",
        fix="{fic_fix}",
    ),
    Rule(
        ("AADSTS700024",),
        analyze="times",
        cause="the assertion (the managed identity's token) was outside its validity window when "
        "Entra checked it (Entra's time {entra_now}; valid {valid_from} to {valid_until}): a "
        "stale, cached MI token was presented, or a clock is off",
        fix="take a fresh MI token for each exchange (CrossTenantCredential renews it 5 minutes "
        "before it expires) and check the clock on {host} (`timedatectl`, chrony/NTP)",
    ),
    # ---- Entra: a secret where there should be none ----------------------------------------
    Rule(
        ("AADSTS7000215",),
        cause="a client secret was sent for {app}, and it is not valid: this chain uses no secret, "
        "so something on {host} configures one{secret_sources}",
        fix="remove the secret from the workload's configuration (unset AZURE_CLIENT_SECRET / "
        "drop it from the app settings), delete any password credential on the app, and let the "
        "workload authenticate with its managed identity (CrossTenantCredential)",
    ),
    Rule(
        ("AADSTS7000218",),
        cause="the token request for {app} carried neither a client assertion nor a secret: the "
        "credential in use is not the federated one{secret_sources}",
        fix="use CrossTenantCredential (or ClientAssertionCredential with the MI token) for "
        "{app}; a secret-based configuration (AZURE_CLIENT_SECRET, EnvironmentCredential) must "
        "not be on the workload",
    ),
    # ---- the managed-identity endpoint ---------------------------------------------------
    Rule(
        ("MI_IDENTITY_NOT_FOUND",),
        analyze="mi",
        cause="{identity_words} is not attached to host {host}{attach_state}",
        fix="{attach_fix}",
    ),
    Rule(
        ("MI_MULTIPLE_IDENTITIES",),
        cause="several user-assigned identities are attached to host {host} and none was chosen",
        fix="choose {identity}: `xtenant verify --identity <its client id>` (or run verify with a "
        "home admin credential, so xtenant reads the client id of {identity_resource_id} from "
        "ARM); a workload passes managed_identity=<client id> to CrossTenantCredential",
    ),
    Rule(
        ("MI_UNAVAILABLE",),
        cause="no managed-identity endpoint answers on {host} ({endpoint_kind}): it is not an "
        "Azure host with an identity, or its identity endpoint variables are missing",
        fix="run verify on a host that carries {identity} ({declared_hosts}); to rehearse on the "
        "sandbox: `eval $(xtenant sandbox env --as HOST)`",
    ),
    Rule(
        ("MI_WRONG_IDENTITY",),
        cause="host {host} answered with another identity (principal {assertion_sub}), not "
        "{identity_words}",
        fix="select {identity} by its client id: `xtenant verify --identity {identity_client_id}` "
        "(`az identity show -n {identity} -g <resource group> --query clientId` tells it); a "
        "workload passes managed_identity=<client id> — on a host with several identities, or a "
        "system-assigned one, the endpoint does not pick yours",
    ),
    # ---- ARM --------------------------------------------------------------------------------
    Rule(
        ("AuthorizationFailed",),
        analyze="arm",
        cause="{app}'s service principal in {tenant} may not {action} on {scope}: {role} is not "
        "assigned to it there",
        fix=_GRANT_ROLE_FIX,
    ),
    Rule(
        ("ResourceNotFound", "ResourceGroupNotFound", "SubscriptionNotFound", "NotFound"),
        when="customer",
        cause="the scope {scope} does not exist in {tenant} (or is not visible to {app})",
        fix="check customers[{customer}].roles: the scope must be the ARM id of an existing "
        "resource, resource group or subscription of {tenant}",
    ),
    Rule(
        ("InvalidAuthenticationTokenTenant",),
        cause="the token is from a tenant other than the one that owns {scope}",
        fix="customers[{customer}].tenant must be the tenant of the subscription in {scope}",
    ),
    # ---- Graph ------------------------------------------------------------------------------
    Rule(
        ("Authorization_RequestDenied", "accessDenied", "GRAPH_ROLES_MISSING"),
        analyze="graph",
        cause="{app} lacks the Graph application permission {graph_missing} in {tenant} (the "
        "token's roles: {granted})",
        fix=_GRAPH_FIX,
    ),
    # ---- Logs Ingestion ---------------------------------------------------------------------
    Rule(
        ("LOGS_INGESTION_FORBIDDEN",),
        analyze="logs",
        cause="{app}'s service principal in {tenant} may not send logs to the DCR {scope}: it "
        "needs {role} (data action Microsoft.Insights/Telemetry/Write) there",
        fix=_GRANT_ROLE_FIX + "; a new assignment can take up to 30 minutes to reach the "
        "ingestion service",
    ),
)

ENTRA_ERROR_URL = "https://login.microsoftonline.com/error?code={n}"


def rules_for(code: str) -> list[Rule]:
    return [r for r in RULES if code in r.codes]


# =====================================================================================
# diagnose()
# =====================================================================================


class _Values(dict):
    def __missing__(self, key: str) -> str:
        return _UNKNOWN


def _cfg(ctx: Context) -> str:
    return f" -c {ctx.config_path}" if ctx.config_path else ""


def _app_words(ctx: Context) -> str:
    if ctx.app_name and ctx.app_id:
        return f"app {ctx.app_name} ({ctx.app_id})"
    return f"app {ctx.app_id or ctx.app_name or ctx.app_key or _UNKNOWN}"


def _values(ctx: Context) -> _Values:
    v = _Values()
    for k, val in vars(ctx).items():
        if isinstance(val, str):
            v[k] = val
    v["app"] = _app_words(ctx)
    v["cfg"] = _cfg(ctx)
    v["host"] = ctx.host or "this host"
    v["identity"] = ctx.identity or "the trusted identity"
    v["identity_words"] = _identity_words(ctx)
    v["customer"] = ctx.customer or "<customer>"
    v["customer_words"] = f"customer {ctx.customer}" if ctx.customer else "the customer"
    v["tenant"] = ctx.tenant or _UNKNOWN
    v["declared_hosts"] = ", ".join(ctx.declared_hosts) or "none declared"
    v["endpoint_kind"] = ctx.endpoint_kind or "no identity endpoint configured"
    a = ctx.assertion or {}
    v["assertion_iss"] = str(a.get("iss") or _UNKNOWN)
    v["assertion_sub"] = str(a.get("sub") or _UNKNOWN)
    v["consent_url"] = _consent_url(ctx)
    v["app_home_note"] = (
        f" (the home admin's Graph does not find appId {ctx.app_id} in {ctx.home_tenant})"
        if ctx.app_in_home is False
        else ""
    )
    leaks = [n for n in SECRET_VARIABLES if n in ctx.environ_names]
    v["secret_sources"] = f" ({', '.join(leaks)} is set on this host)" if leaks else ""
    v["resource"] = ctx.resource or _UNKNOWN
    v["role"] = ctx.role or _UNKNOWN
    v["scope"] = ctx.scope or _UNKNOWN
    return v


def _consent_url(ctx: Context) -> str:
    if not (ctx.cloud and ctx.tenant and ctx.app_id and ctx.redirect_uri):
        return "(the consent link is in the kit)"
    return ctx.cloud.admin_consent_url(
        ctx.tenant, ctx.app_id, ctx.redirect_uri, graph_permissions=ctx.graph_permissions
    )


def _fill(template: str, values: Mapping[str, Any]) -> str:
    out = string.Formatter().vformat(template, (), values)
    return re.sub(r"\s+", " ", out).strip()


def _normalise(info: ErrorInfo, ctx: Context) -> ErrorInfo:
    service = info.service or ctx.service
    if info.status == 403 and service == "monitor" and not (info.code or "").startswith("AADSTS"):
        return ErrorInfo("LOGS_INGESTION_FORBIDDEN", 403, info.message, service)
    return info


def diagnose(error: Any, context: Context | None = None) -> Diagnosis:
    """The cause and fix of ``error``: an exception (azure-identity, azure-core, kiota), an
    HTTP response, an error body (Entra/MSAL, ARM, Graph, IMDS) or text; or an ``ErrorInfo``
    for the failures verify finds itself (``FIC_MISMATCH``, ``GRAPH_ROLES_MISSING``, ...)."""
    ctx = context or Context()
    info = _normalise(parse_error(error, ctx.service), ctx)
    code = info.code or "UNKNOWN"
    rule = next(
        (r for r in rules_for(code) if r.when is None or WHEN[r.when](ctx)),
        None,
    )
    if rule is None:
        return _unknown(code, info)
    values = _values(ctx)
    details: list[str] = []
    if rule.analyze:
        extra = ANALYZERS[rule.analyze](info, ctx)
        details = list(extra.pop("details", []))
        values.update({k: v for k, v in extra.items() if v is not None})
    return Diagnosis(
        code=code,
        cause=_fill(rule.cause, values),
        fix=_fill(rule.fix, values),
        details=tuple(details),
        message=info.message or None,
        severity=rule.severity,
    )


def _unknown(code: str, info: ErrorInfo) -> Diagnosis:
    m = _AADSTS_RX.fullmatch(code)
    if m:
        url = info.error_uri or ENTRA_ERROR_URL.format(n=m.group(1))
        fix = f"no specific advice for {code}: see {url} and Entra's error code reference"
    else:
        fix = "no specific advice for this error: the service's message above is all there is"
    return Diagnosis(
        code=code,
        cause=info.message or code,
        fix=fix,
        message=info.message or None,
    )


__all__ = [
    "ANALYZERS",
    "RULES",
    "Context",
    "Diagnosis",
    "ErrorInfo",
    "FicComparison",
    "Rule",
    "audience_matches",
    "compare_fics",
    "diagnose",
    "parse_error",
]
