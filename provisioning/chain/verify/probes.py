"""With ``probe=True``, one harmless call per resource kind the customer grants, with the
token the exchange got: ``probe:arm`` (an ARM read of each role's scope when the role can
read it), ``probe:logs`` (one marked record through the Logs Ingestion API),
``probe:graph`` (a read matching the granted Graph permission) and, for the scoped grants,
``probe:site``, ``probe:directory_role`` and ``probe:exchange`` (``scoped.py``)."""

from __future__ import annotations

import datetime as dt
import fnmatch
import time
from collections.abc import Iterable, Mapping
from typing import Any

from provisioning.core import armid
from provisioning.core.clouds import Cloud
from provisioning.core.errors import status_of

from ..diagnose import Diagnosis, diagnose
from .apis import ARM_READ_APIS, PROVIDERS_API, ssl_verify
from .propagation import MONITOR_DATA, RBAC, Evidence, evidence
from .report import Row
from .scoped import probe_scoped
from .session import Chain, Session, is_dcr, role_name

# Graph permission (prefix) -> a harmless read it allows; the first match wins
GRAPH_PROBES: tuple[tuple[str, str], ...] = (
    ("Sites.", "sites?search=*&$top=1&$select=id"),
    ("User.", "users?$top=1&$select=id"),
    ("Group.", "groups?$top=1&$select=id"),
    ("GroupMember.", "groups?$top=1&$select=id"),
    ("Application.", "applications?$top=1&$select=id"),
    ("", "organization?$select=id"),
)


def graph_probe_path(permissions: Iterable[str]) -> str:
    """The Graph path ``probe:graph`` reads for these permissions."""
    perms = list(permissions)
    for prefix, path in GRAPH_PROBES:
        if prefix and any(p.startswith(prefix) for p in perms):
            return path
    return GRAPH_PROBES[-1][1]


def can_read(role: Any, rid: armid.ResourceId) -> bool:
    """Whether ``role``'s actions (catalog wildcards, minus its notActions) read ``rid``."""
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


TELEMETRY_WRITE = "Microsoft.Insights/Telemetry/Write"
"""The data action the Logs Ingestion API checks on the DCR (Monitoring Metrics Publisher
carries it; Monitoring Reader, often declared on the same DCR, does not)."""


def grants_data_action(role: Any, action: str) -> bool:
    """Whether ``role``'s dataActions (catalog wildcards, minus notDataActions) allow ``action``."""
    a = action.lower()
    allowed = any(fnmatch.fnmatchcase(a, d.lower()) for d in role.data_actions)
    denied = any(fnmatch.fnmatchcase(a, d.lower()) for d in role.not_data_actions)
    return allowed and not denied


def ingestion_role(customer: Any) -> tuple[str, str | None]:
    """The role (and DCR scope) a Logs Ingestion denial is about: the declared grant on a
    DCR whose role carries ``Microsoft.Insights/Telemetry/Write``, else the built-in role that
    carries it — never the first role that happens to sit on the DCR."""
    from provisioning.core.catalog import roles

    on_dcr = [g for g in customer.roles if is_dcr(g.scope)]
    for g in on_dcr:
        if g.role_def is not None and grants_data_action(g.role_def, TELEMETRY_WRITE):
            return role_name(g), g.scope
    carrier = next(
        (r.name for r in roles if r.name == "Monitoring Metrics Publisher"),
        "Monitoring Metrics Publisher",
    )
    return carrier, on_dcr[0].scope if on_dcr else None


def ingestion_endpoint_allowed(cloud: Cloud, endpoint: str) -> bool:
    """Whether ``endpoint`` is a Logs Ingestion endpoint of ``cloud``'s documented domain
    (``*.ingest.monitor.azure.com`` in public Azure), or an origin the cloud profile lists:
    the customer-tenant token goes nowhere else."""
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return False
    host = parts.hostname.lower()
    origin = f"https://{parts.netloc.lower()}"
    for allowed in cloud.logs_ingestion_domains:
        a = allowed.lower().rstrip("/")
        if a.startswith("https://") and origin == a:
            return True
        if a.startswith(".") and host.endswith(a) and len(host) > len(a):
            return True
    return False


def run_probes(
    session: Session,
    chain: Chain,
    cred: Any,
    got: Mapping[str, dict[str, Any] | None],
) -> None:
    """Every probe the customer's grants call for; ``got``: the claims of each exchange."""
    customer = chain.customer
    for grant in customer.roles:
        probe_arm(session, chain, cred, grant, got.get("arm"))
    lp = customer.probe.logs_ingestion if customer.probe else None
    if lp is not None:
        probe_logs(session, chain, cred, lp, got.get("monitor"))
    elif "monitor" in got:
        session.add(
            Row(
                customer.name,
                "probe:logs",
                "skipped",
                0.0,
                f"no customers[{customer.name}].probe.logs_ingestion entry to send a record to",
            )
        )
    if customer.graph_app_roles:
        probe_graph(session, chain, cred, got.get("graph"))
    probe_scoped(session, chain, cred, got.get("graph"))


def probe_arm(
    session: Session,
    chain: Chain,
    cred: Any,
    grant: Any,
    token_claims: dict[str, Any] | None,
) -> None:
    """GET the scope of ``grant`` with the customer-tenant ARM token, when its role can."""
    role = role_name(grant)
    rid = armid.parse(grant.scope)

    def record(status: str, seconds: float, detail: str, d: Diagnosis | None = None) -> None:
        session.add(
            Row(
                chain.customer.name,
                "probe:arm",
                status,
                seconds,
                detail,
                target=grant.scope,
                data={"role": role},
                diagnosis=d,
            )
        )

    skipped = _arm_skip(grant, rid, role, token_claims)
    if skipped:
        record("skipped", 0.0, skipped)
        return
    import httpx

    t0 = time.perf_counter()
    try:
        token = cred.get_token(session.cloud.arm_scope).token
        headers = {"Authorization": f"Bearer {token}"}
        del token
        with httpx.Client(verify=ssl_verify(session.cloud), timeout=60, headers=headers) as http:
            api = _api_version(session.cloud, http, rid)
            r = http.get(f"{session.cloud.arm}{rid}", params={"api-version": api})
    except Exception as e:
        r = None
        err: Any = e
    secs = time.perf_counter() - t0
    if r is not None and r.status_code == 200:
        record("ok", secs, f"{role}: GET {rid} -> 200")
        return
    if r is not None and r.status_code == 403:
        seen = _evidence(
            session, cred, grant.scope, read_action(rid), data=False, claims=token_claims
        )
        if seen is not None and seen.propagating(RBAC):
            record("propagating", secs, f"GET {rid} -> 403: " + seen.describe(RBAC, role))
            return
    if r is not None:
        err = r
    ctx = session.context(chain, step="probe:arm", service="arm", role=role, scope=grant.scope)
    d = diagnose(err, ctx)
    status = f"-> {r.status_code} {d.code}" if r is not None else f"failed: {d.message}"
    record("failed", secs, f"{role}: GET {rid} {status}", d)


def read_action(rid: armid.ResourceId) -> str:
    """The action an ARM GET of ``rid`` needs."""
    if rid.kind == "subscription":
        return "Microsoft.Resources/subscriptions/read"
    if rid.kind == "resource_group":
        return "Microsoft.Resources/subscriptions/resourceGroups/read"
    return f"{rid.full_type}/read"


def _evidence(
    session: Session,
    cred: Any,
    scope: str,
    action: str,
    *,
    data: bool,
    claims: dict[str, Any] | None,
) -> Evidence | None:
    """What the customer's ARM says of a refused grant, asked with the workload's own token."""
    try:
        token = cred.get_token(session.cloud.arm_scope).token
    except Exception:
        return None
    try:
        return evidence(session.cloud, token, scope, (claims or {}).get("oid"), action, data=data)
    finally:
        del token


def _arm_skip(
    grant: Any, rid: armid.ResourceId, role: str, token_claims: dict[str, Any] | None
) -> str | None:
    """Why there is nothing to probe for ``grant`` (``None``: there is)."""
    rd = grant.role_def
    what = rid.full_type if rid.kind == "resource" else rid.kind.replace("_", " ")
    if rd is None:
        return f"{role}: a custom role, its actions are not in the catalog"
    if not can_read(rd, rid):
        return f"{role} cannot read a {what} (no matching */read action): nothing harmless to call"
    if token_claims is None:
        return "no ARM token"
    return None


def _api_version(cloud: Cloud, http: Any, rid: armid.ResourceId) -> str:
    """The api-version to read ``rid`` with: known, else the provider's newest stable."""
    key = rid.full_type.lower()
    if key in ARM_READ_APIS:
        return ARM_READ_APIS[key]
    r = http.get(f"{cloud.arm}/providers/{rid.namespace}", params={"api-version": PROVIDERS_API})
    if r.status_code == 200:
        want = "/".join(rid.types).lower()
        for rt in r.json().get("resourceTypes", []):
            if str(rt.get("resourceType", "")).lower() == want:
                versions = [v for v in rt.get("apiVersions", []) if "preview" not in v]
                if versions or rt.get("apiVersions"):
                    return (versions or rt["apiVersions"])[0]
    return "2021-04-01"


def probe_logs(
    session: Session,
    chain: Chain,
    cred: Any,
    lp: Any,
    token_claims: dict[str, Any] | None,
) -> None:
    """Send one record marked ``xtenant_probe`` to the customer's DCR stream."""
    customer = chain.customer
    target = f"{lp.dcr_immutable_id}/{lp.stream}"
    if token_claims is None:
        session.add(
            Row(customer.name, "probe:logs", "skipped", 0.0, "no Monitor token", target=target)
        )
        return
    if not ingestion_endpoint_allowed(session.cloud, lp.endpoint):
        session.add(
            Row(
                customer.name,
                "probe:logs",
                "failed",
                0.0,
                f"refused to send a {customer.name} token to {lp.endpoint}: not a Logs "
                f"Ingestion endpoint of cloud {session.cloud.name!r} (expected a host under "
                f"{', '.join(session.cloud.logs_ingestion_domains) or 'none configured'}); "
                f"check customers[{customer.name}].probe.logs_ingestion.endpoint",
                target=target,
            )
        )
        return
    from azure.monitor.ingestion import LogsIngestionClient

    record = {
        "TimeGenerated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "xtenant_probe": True,
        "message": "xtenant verify --probe heartbeat",
        "customer": customer.name,
        "host": session.host,
    }
    kw: dict[str, Any] = {"credential_scopes": [session.cloud.monitor_scope]}
    if session.cloud.ca_bundle:
        kw["connection_verify"] = session.cloud.ca_bundle
    t0 = time.perf_counter()
    try:
        with LogsIngestionClient(lp.endpoint, credential=cred, **kw) as client:
            client.upload(rule_id=lp.dcr_immutable_id, stream_name=lp.stream, logs=[record])
    except Exception as e:
        secs = time.perf_counter() - t0
        needed, scope = ingestion_role(customer)
        if status_of(e) == 403 and scope:
            seen = _evidence(session, cred, scope, TELEMETRY_WRITE, data=True, claims=token_claims)
            if seen is not None and seen.propagating(MONITOR_DATA):
                session.add(
                    Row(
                        customer.name,
                        "probe:logs",
                        "propagating",
                        secs,
                        f"POST {lp.endpoint} {target} -> 403: "
                        + seen.describe(MONITOR_DATA, needed),
                        target=target,
                    )
                )
                return
        ctx = session.context(chain, step="probe:logs", service="monitor", role=needed, scope=scope)
        d = diagnose(e, ctx)
        session.add(
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
    session.add(
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


def probe_graph(
    session: Session,
    chain: Chain,
    cred: Any,
    token_claims: dict[str, Any] | None,
) -> None:
    """A Graph read that the granted permission allows (``GRAPH_PROBES``)."""
    customer = chain.customer
    path = graph_probe_path(customer.graph_app_roles)
    if token_claims is None:
        session.add(
            Row(customer.name, "probe:graph", "skipped", 0.0, "no Graph token", target=path)
        )
        return
    import httpx

    t0 = time.perf_counter()
    err: Any = None
    r = None
    try:
        token = cred.get_token(session.cloud.graph_scope).token
        with httpx.Client(verify=ssl_verify(session.cloud), timeout=60) as http:
            r = http.get(
                f"{session.cloud.graph_v1}/{path}", headers={"Authorization": f"Bearer {token}"}
            )
        del token
    except Exception as e:
        err = e
    secs = time.perf_counter() - t0
    if r is not None and r.status_code == 200:
        n = len(r.json().get("value", [])) if isinstance(r.json(), dict) else 0
        session.add(
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
    ctx = session.context(
        chain,
        step="probe:graph",
        service="graph",
        granted_roles=list(token_claims.get("roles") or []),
    )
    d = diagnose(r if r is not None else err, ctx)
    what = f"-> {r.status_code} {d.code}" if r is not None else f"failed: {d.message}"
    session.add(
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
