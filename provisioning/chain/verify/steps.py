"""The chain's steps, each recorded as a row:

- ``mi_token``: the managed identity's token for the exchange audience, its claims checked
  against what the app's federated credential must contain (and, when read, the FICs);
- ``home_exchange`` and ``exchange:<resource>``: the app credential in its home tenant,
  then a token in the customer tenant for each resource the customer's grants need,
  through ``CrossTenantCredential`` (one shared ``ManagedIdentityAssertion`` per identity).
"""

from __future__ import annotations

import time
from typing import Any

from provisioning.config import App, Customer
from provisioning.core.clouds import Cloud
from provisioning.core.hosts import host_label, is_host

from .. import claims as claims_mod
from ..diagnose import Diagnosis, ErrorInfo, audience_matches, compare_fics, diagnose
from .report import Row, first_line
from .session import Chain, MiResult, Session, find_identity, is_dcr, role_name

SYSTEM_ASSIGNED_NOTE = (
    "{name} is the system-assigned identity of {host}: Microsoft documents only user-assigned "
    "identities as an app's federated credential (https://learn.microsoft.com/entra/workload-id/"
    "workload-identity-federation-config-app-trust-managed-identity); it works, but `xtenant "
    "validate` says how to move to a user-assigned identity"
)
MI_CLAIMS = ("iss", "sub", "aud", "oid", "azp", "appid", "tid", "idtyp", "xms_mirid", "nbf", "exp")
RESOURCE_CLAIMS = ("aud", "iss", "tid", "oid", "appid", "azp", "roles", "exp")


def needed_resources(customer: Customer, cloud: Cloud) -> list[tuple[str, str]]:
    """(name, scope) of each customer-tenant resource the customer's grants need."""
    out = []
    if customer.roles:
        out.append(("arm", cloud.arm_scope))
    logs = customer.probe is not None and customer.probe.logs_ingestion is not None
    if logs or any(
        role_name(g).lower().startswith("monitoring") and is_dcr(g.scope) for g in customer.roles
    ):
        out.append(("monitor", cloud.monitor_scope))
    if customer.graph_app_roles or customer.site_permissions or customer.directory_roles:
        out.append(("graph", cloud.graph_scope))
    return out


# =====================================================================================
# Step 1: the MI token
# =====================================================================================


def _selector(session: Session, name: str) -> str | None:
    """How the identity is asked for: the caller's choice, else its client id; a host's
    system-assigned identity is what the endpoint gives when none is named."""
    chosen = session.options.identities.get(name) or session.options.identity
    if chosen:
        return chosen
    ident = find_identity(session.config, name)
    if ident is not None and ident.system_assigned:
        return None
    read = session.identity(name)
    return (read.client_id if read else None) or None


def _take_mi(session: Session, selector: str | None) -> MiResult:
    """The MI token for ``selector``, taken once per run."""
    if selector in session.mi:
        return session.mi[selector]
    from ..credential import ManagedIdentityAssertion

    t0 = time.perf_counter()
    res = MiResult(selector, None)
    try:
        res.assertion = ManagedIdentityAssertion(session.cloud, selector)
        token = res.assertion()
        res.claims = claims_mod.summary(token, MI_CLAIMS)
        del token
    except Exception as e:
        res.error = e
    res.seconds = time.perf_counter() - t0
    session.mi[selector] = res
    return res


def mi_token(session: Session, customer: Customer, app: App) -> tuple[MiResult | None, str | None]:
    """Step 1 for ``customer``: the MI token of an identity ``app`` trusts (those attached
    to this host first); returns it (``None`` when the step failed) and the identity."""
    trusted = [n for n in app.trusts if find_identity(session.config, n) is not None]
    if not trusted:
        session.add(
            Row(
                customer.name,
                "mi_token",
                "failed",
                0.0,
                f"app {app.key} trusts no identity declared in home.identities",
            )
        )
        return None, None

    def on_this_host(name: str) -> bool:
        ident = find_identity(session.config, name)
        return bool(ident and any(is_host(h, session.host) for h in ident.host_ids))

    ordered = sorted(trusted, key=lambda n: not on_this_host(n))
    first: tuple[MiResult, str] | None = None
    chosen: tuple[MiResult, str] | None = None
    for name in ordered:
        res = _take_mi(session, _selector(session, name))
        if first is None:
            first = (res, name)
        if res.claims is not None:
            chosen = (res, _who(session, res, name))
            break
    assert first is not None
    res, name = chosen or first
    detail_head = session.endpoint_words()
    seconds = res.seconds
    if res.first_customer is None:
        res.first_customer = customer.name
    else:  # one MI token serves every customer of this identity
        detail_head += f" (the token taken for {res.first_customer}, reused)"
        seconds = 0.0
    if res.claims is None:
        ctx = session.context(Chain(customer, app, name), step="mi_token", service="imds")
        d = diagnose(res.error, ctx)
        session.add(
            Row(
                customer.name,
                "mi_token",
                "failed",
                seconds,
                f"{detail_head}: {d.message or first_line(res.error or 'no token')}",
                data={
                    "endpoint_kind": session.endpoint["kind"],
                    "host_kind": session.endpoint.get("host_kind"),
                    "identity": name,
                },
                diagnosis=d,
            )
        )
        return None, name
    checks, problem = _check(session, res.claims, Chain(customer, app, name))
    c = res.claims
    detail = (
        f"{detail_head}: token of {name} (client id {c.get('azp') or c.get('appid')}); "
        + ", ".join(f"{k} {v}" for k, v in checks.items())
    )
    ident = find_identity(session.config, name)
    session.add(
        Row(
            customer.name,
            "mi_token",
            "failed" if problem else "ok",
            seconds,
            detail,
            note=SYSTEM_ASSIGNED_NOTE.format(name=name, host=host_label(ident.host_ids[0]))
            if ident is not None and ident.system_assigned
            else None,
            data={
                "endpoint_kind": session.endpoint["kind"],
                "endpoint": session.endpoint["endpoint"],
                "host_kind": session.endpoint.get("host_kind"),
                "identity": name,
                "claims": c,
                "checks": checks,
            },
            diagnosis=problem,
        )
    )
    return res, name


def _who(session: Session, res: MiResult, fallback: str) -> str:
    """Name the identity the token was issued to: from the identities ARM reported when known, else from
    ``xms_mirid`` (a system-assigned identity's is the host's own resource id)."""
    claims = res.claims or {}
    oid = claims.get("oid")
    for name, ident in session.home_state.identities.items():
        if oid and ident.principal_id == oid:
            return name
    mirid = str(claims.get("xms_mirid") or "")
    if "/userassignedidentities/" in mirid.lower():
        return mirid.rsplit("/", 1)[-1]
    for declared in session.config.home.identities:  # a trusted host's system-assigned one
        if (declared.system_assigned_of or "").lower() == mirid.lower() and mirid:
            return declared.name
    if mirid:
        return f"the system-assigned identity of {mirid.rsplit('/', 1)[-1]}"
    return fallback


def _check(
    session: Session, c: dict[str, Any], chain: Chain
) -> tuple[dict[str, str], Diagnosis | None]:
    """The assertion against what the app's FIC must contain (and the FICs themselves)."""
    app, name = chain.app, chain.identity
    checks: dict[str, str] = {}
    issuer = session.cloud.fic_issuer(session.home)
    exch = session.cloud.exchange_audience
    checks["iss"] = "ok" if c.get("iss") == issuer else f"is not {issuer}"
    checks["aud"] = "ok" if audience_matches(exch, c.get("aud"), exch) else f"is not {exch}"
    read = session.identity(name)
    pid = read.principal_id if read else None
    if pid:
        checks["sub"] = "ok" if c.get("sub") == pid else f"is not {name}'s principal id {pid}"
    else:
        checks["sub"] = (
            "ok (= oid; principal id not confirmed through ARM)"
            if c.get("sub") == c.get("oid")
            else "differs from oid"
        )
    ctx = session.context(chain, step="mi_token", assertion=c)
    fics = session.fics(app)
    mirid = str(c.get("xms_mirid") or "")
    user_assigned = "/userassignedidentities/" in mirid.lower()
    trusted = {t.lower() for t in app.trusts}
    systems = {  # the hosts whose system-assigned identity the app trusts
        str(i.system_assigned_of).lower()
        for i in session.config.home.identities
        if i.system_assigned and i.name.lower() in trusted
    }
    if user_assigned:
        foreign = mirid.rsplit("/", 1)[-1].lower() not in trusted
    else:
        foreign = mirid.lower() not in systems
    if mirid and foreign:
        # e.g. no identity chosen on a host that also has a system-assigned identity
        checks["sub"] = (
            f"token of {'the host' + chr(39) + 's system-assigned identity' if not user_assigned else mirid.rsplit('/', 1)[-1]}, "
            f"not of {', '.join(app.trusts)}"
        )
        want = session.context(
            Chain(chain.customer, app, app.trusts[0] if app.trusts else None),
            step="mi_token",
            assertion=c,
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
    if any(v != "ok" and not v.startswith("ok ") for v in checks.values() if v != checks["fic"]):
        return checks, diagnose(ErrorInfo("FIC_MISMATCH", None, "", "entra"), ctx)
    return checks, None


# =====================================================================================
# Steps 2 and 3: the exchanges
# =====================================================================================


def cross_tenant(session: Session, app_id: str, tenant: str, mi: MiResult) -> Any:
    """The workload's own credential for ``app_id`` in ``tenant``, closed with the run."""
    from ..credential import CrossTenantCredential

    cred = CrossTenantCredential(app_id, tenant, cloud=session.cloud, assertion=mi.assertion)
    session.creds.append(cred)
    return cred


def exchange(
    session: Session, chain: Chain, cred: Any, step: str, scope: str, *, where: str, tenant: str
) -> dict[str, Any] | None:
    """One token for ``scope`` through ``cred``: its claims, or ``None`` (a row either way)."""
    customer = chain.customer
    t0 = time.perf_counter()
    try:
        tok = cred.get_token(scope)
        c = claims_mod.summary(tok.token, RESOURCE_CLAIMS)
        del tok
    except Exception as e:
        secs = time.perf_counter() - t0
        ctx = session.context(
            chain,
            step=step,
            where=where,
            tenant=tenant,
            resource=scope.removesuffix("/.default"),
            assertion=_claims_of(session, chain.identity),
            service="entra",
        )
        d = diagnose(e, ctx)
        status = "ok" if d.severity == "note" else "failed"
        said = f"{d.code}, expected (see the note)" if status == "ok" else d.message
        session.add(
            Row(
                customer.name,
                step,
                status,
                secs,
                f"{tenant}: {said or first_line(e)}",
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
            ctx = session.context(
                chain,
                step=step,
                granted_roles=list(c.get("roles") or []),
                graph_roles=missing,
            )
            row.status = "failed"
            row.detail += f"; missing {', '.join(missing)}"
            row.diagnosis = diagnose(ErrorInfo("GRAPH_ROLES_MISSING", None, "", "graph"), ctx)
    session.add(row)
    return c


def _claims_of(session: Session, ident: str | None) -> dict[str, Any] | None:
    for res in session.mi.values():
        if res.claims and (
            ident is None
            or (read.principal_id if (read := session.identity(ident)) else None)
            in (None, res.claims.get("oid"))
        ):
            return res.claims
    return None
