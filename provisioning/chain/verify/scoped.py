"""``verify --probe`` for the scoped grants, with the customer-tenant Graph token:

* ``probe:site``: ``GET /sites/{hostname}:/{path}`` (or ``/sites/{id}``) for each granted
  site. With Sites.Selected only a site that granted the app a role answers 200; any other
  answers 403 ``accessDenied``.
* ``probe:directory_role``: a read the role allows (``GET /organization`` for a role whose
  documented actions include ``microsoft.directory/organization/standard/read``, such as
  Directory Readers); a role without a documented harmless read is skipped, and says so.
* ``probe:exchange``: never probed. Exchange Online's application roles are checked on
  mailbox data, which a probe must not read; the customer's Exchange administrator checks
  them with ``Test-ServicePrincipalAuthorization``.
"""

from __future__ import annotations

import time
from typing import Any

from ..diagnose import Diagnosis, diagnose
from .apis import ssl_verify
from .report import Row
from .session import Chain, Session

ORGANIZATION_READ = "microsoft.directory/organization/standard/read"


def probe_scoped(session: Session, chain: Chain, cred: Any, claims: dict[str, Any] | None) -> None:
    customer = chain.customer
    if not (customer.site_permissions or customer.directory_roles or customer.exchange_roles):
        return
    for perm in customer.site_permissions:
        ref = perm.site_ref
        _probe(
            session,
            chain,
            cred,
            claims,
            "probe:site",
            ref.graph_path + "?$select=id,webUrl",
            target=perm.site,
            what=f"{perm.role} on {perm.site}",
            denied=_site_denied(chain, perm.site),
        )
    for grant in customer.directory_roles:
        role = grant.role_def
        name = role.name if role else grant.role
        if role is None or not role.allows(ORGANIZATION_READ):
            session.add(
                Row(
                    customer.name,
                    "probe:directory_role",
                    "skipped",
                    0.0,
                    f"{name}: xtenant knows no harmless read this role allows; the customer "
                    "checks the assignment (kit: Step 2b, Verify)",
                    target=grant.scope,
                )
            )
            continue
        _probe(
            session,
            chain,
            cred,
            claims,
            "probe:directory_role",
            "organization?$select=id",
            target=grant.scope,
            what=f"{name} ({grant.scope})",
            denied=_role_denied(chain, name),
        )
    for x in customer.exchange_roles:
        session.add(
            Row(
                customer.name,
                "probe:exchange",
                "skipped",
                0.0,
                f"{x.role}: Exchange Online application roles cannot be probed from Microsoft "
                "Graph without reading a mailbox; the customer's Exchange administrator runs "
                f"Test-ServicePrincipalAuthorization -Identity {session.app_id(chain.app)}",
                target=x.recipient_filter or x.administrative_unit or "organization",
            )
        )


def _probe(
    session: Session,
    chain: Chain,
    cred: Any,
    claims: dict[str, Any] | None,
    step: str,
    path: str,
    *,
    target: str,
    what: str,
    denied: Diagnosis,
) -> None:
    name = chain.customer.name
    if claims is None:
        session.add(Row(name, step, "skipped", 0.0, "no Graph token", target=target))
        return
    import httpx

    t0 = time.perf_counter()
    r: Any = None
    err: Any = None
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
    shown = path.split("?", 1)[0]
    if r is not None and r.status_code == 200:
        session.add(Row(name, step, "ok", secs, f"{what}: GET /{shown} -> 200", target=target))
        return
    if r is not None and r.status_code == 403:
        session.add(
            Row(
                name,
                step,
                "failed",
                secs,
                f"{what}: GET /{shown} -> 403",
                target=target,
                diagnosis=denied,
            )
        )
        return
    ctx = session.context(chain, step=step, service="graph")
    d = diagnose(r if r is not None else err, ctx)
    status = f"-> {r.status_code} {d.code}" if r is not None else f"failed: {d.message}"
    session.add(
        Row(
            name, step, "failed", secs, f"{what}: GET /{shown} {status}", target=target, diagnosis=d
        )
    )


def _apply_hint(chain: Chain) -> str:
    return f"xtenant customer apply --kit kits/{chain.customer.name}/kit.json"


def _site_denied(chain: Chain, site: str) -> Diagnosis:
    return Diagnosis(
        "SITE_NOT_GRANTED",
        f"the site {site} did not let app {chain.app.key} in (403): with Sites.Selected the app "
        "opens only sites that granted it a role, and this one has not (or the grant is not "
        "visible yet)",
        f"the customer's admin grants it: {_apply_hint(chain)} (or scoped-grants.ps1 from the "
        "kit), then run verify again",
    )


def _role_denied(chain: Chain, role: str) -> Diagnosis:
    return Diagnosis(
        "DIRECTORY_ROLE_MISSING",
        f"a read that {role} allows was refused (403): the app's service principal in "
        f"{chain.customer.tenant} does not hold {role} (or the assignment is not effective yet)",
        f"the customer's admin assigns it: {_apply_hint(chain)} (or scoped-grants.ps1), then "
        "run verify again",
    )
