"""Analyzers: extra values a rule's templates need, derived from the error and the
``Context`` without any I/O (which field of which federated credential differs from the
assertion, which role an ARM refusal is about, ...)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .model import EXCHANGE_APP_IDS, UNKNOWN, Context
from .parse import ErrorInfo
from .words import app_words, cfg, identity_words


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
    app = app_words(ctx)
    who = identity_words(ctx)
    apply_cmd = f"`xtenant apply{cfg(ctx)}`"
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
            f"expected FIC (from the config): issuer {issuer or UNKNOWN} | subject "
            f"{ctx.identity_principal_id or a.get('oid') or UNKNOWN} | audiences {exch or UNKNOWN}"
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
            "fic_fix": f"`xtenant plan{cfg(ctx)}` shows the drift and {apply_cmd} restores the "
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
        elif ctx.system_assigned_of and _same_host(a.get("xms_mirid"), ctx.system_assigned_of):
            host = ctx.system_assigned_of.rsplit("/", 1)[-1]
            reasons.append(
                f"the subject {best.subject} is an earlier principal id of {host}'s "
                f"system-assigned identity, which is {a.get('sub')} now: the host was "
                "re-created, or its system-assigned identity turned off and on again"
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


def _same_host(mirid: Any, host: str) -> bool:
    return isinstance(mirid, str) and mirid.rstrip("/").lower() == host.rstrip("/").lower()


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
        now, start, end = UNKNOWN, _iso(a.get("nbf") or a.get("iat")), _iso(a.get("exp"))
    details = [f"Entra's clock: {now}; assertion valid from {start} until {end}"]
    return {"entra_now": now, "valid_from": start, "valid_until": end, "details": details}


def _iso(ts: Any) -> str:
    try:
        return dt.datetime.fromtimestamp(float(ts), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError, OverflowError):
        return UNKNOWN


_AUTHZ_RX = re.compile(r"perform action '([^']+)' over scope '([^']+)'")


def analyze_arm(info: ErrorInfo, ctx: Context) -> dict[str, Any]:
    m = _AUTHZ_RX.search(info.message)
    action, scope = (m.group(1), m.group(2)) if m else (UNKNOWN, ctx.scope or UNKNOWN)
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
    return {"scope": dcr or UNKNOWN, "role": role, "details": []}


def analyze_mi(info: ErrorInfo, ctx: Context) -> dict[str, Any]:
    host = ctx.host or "this host"
    declared = [h for h in ctx.declared_hosts]
    on_list = bool(ctx.host) and any(h.lower() == (ctx.host or "").lower() for h in declared)
    apply_cmd = f"`xtenant apply{cfg(ctx)}`"
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
