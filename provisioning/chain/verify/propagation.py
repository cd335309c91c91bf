"""Granted but not yet honoured: Microsoft's documented propagation times, and the evidence
verify gathers to tell "not yet effective" (the grant exists, younger than its documented
delay) from "wrong" (no such grant).

* Role assignments (control plane): "When you assign roles or remove role assignments, it can
  take up to 10 minutes for changes to take effect" (learn.microsoft.com/azure/
  role-based-access-control/troubleshooting, "Role assignment changes are not being detected").
* Azure Monitor's data plane: a new permission on a data collection rule can take "up to 30
  minutes" before the Logs Ingestion API honours it (learn.microsoft.com/azure/azure-monitor/
  logs/tutorial-logs-ingestion-portal, "Assign permissions to the DCR").
* Federated credentials: "It takes a few seconds for the federated identity credential to be
  propagated after being initially added. If a token request is made immediately after adding
  the federated identity credential, it might lead to failure for a couple of minutes"
  (learn.microsoft.com/azure/aks/workload-identity-deploy-cluster).

Evidence, read with the workload's own customer-tenant token (nothing else is needed): ARM's
``permissions`` API lists what the caller's role assignments at a scope allow, whether or not
the service has started honouring them; when the caller may also read role assignments there,
their ``createdOn`` gives the grant's age.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass
from typing import Any

from .apis import ssl_verify

PERMISSIONS_API = "2022-04-01"


@dataclass(frozen=True)
class Delay:
    what: str
    seconds: int
    source: str

    @property
    def expected(self) -> str:
        return f"expected within {human(self.seconds)}"


RBAC = Delay(
    "a new Azure role assignment",
    10 * 60,
    "learn.microsoft.com/azure/role-based-access-control/troubleshooting",
)
MONITOR_DATA = Delay(
    "a new permission on a data collection rule",
    30 * 60,
    "learn.microsoft.com/azure/azure-monitor/logs/tutorial-logs-ingestion-portal",
)
FIC = Delay(
    "a new or changed federated credential",
    5 * 60,
    "learn.microsoft.com/azure/aks/workload-identity-deploy-cluster",
)


def human(seconds: float) -> str:
    s = round(seconds)
    if s < 120:
        return f"{s} s"
    if s < 7200:
        return f"{s // 60} min"
    return f"{s // 3600} h"


@dataclass(frozen=True)
class Evidence:
    """What the customer tenant says about a grant that was refused."""

    listed: bool  # ARM lists a role of the caller at the scope that allows the action
    age: float | None = None  # seconds since the newest such assignment was made, if readable

    def propagating(self, delay: Delay) -> bool:
        return self.listed and (self.age is None or self.age <= delay.seconds)

    def describe(self, delay: Delay, role: str) -> str:
        age = f"granted {human(self.age)} ago; " if self.age is not None else ""
        return (
            f"{role} is granted (ARM lists it) but not yet honoured: propagating, "
            f"{delay.expected} ({age}{delay.what}: {delay.source})"
        )


def _allows(entry: dict[str, Any], action: str, *, data: bool) -> bool:
    allow, deny = ("dataActions", "notDataActions") if data else ("actions", "notActions")
    a = action.lower()
    ok = any(fnmatch.fnmatchcase(a, x.lower()) for x in entry.get(allow) or [])
    return ok and not any(fnmatch.fnmatchcase(a, x.lower()) for x in entry.get(deny) or [])


def evidence(
    cloud: Any, token: str, scope: str, principal: str | None, action: str, *, data: bool
) -> Evidence | None:
    """Whether the caller's role assignments at ``scope`` allow ``action`` (and since when);
    ``None`` when ARM could not be asked."""
    import httpx

    headers = {"Authorization": f"Bearer {token}"}
    base = f"{cloud.arm}{scope}/providers/Microsoft.Authorization"
    try:
        with httpx.Client(verify=ssl_verify(cloud), timeout=30, headers=headers) as http:
            entries: list[dict[str, Any]] = []
            url: str | None = f"{base}/permissions?api-version={PERMISSIONS_API}"
            while url:  # every page
                r = http.get(url)
                if r.status_code != 200:
                    return None
                entries += r.json().get("value", [])
                url = r.json().get("nextLink")
            listed = any(_allows(e, action, data=data) for e in entries)
            age = _age(http, base, principal) if listed and principal else None
    except httpx.HTTPError:
        return None
    return Evidence(listed, age)


def _age(http: Any, base: str, principal: str) -> float | None:
    """Seconds since the newest role assignment of ``principal`` at the scope was made, when
    the caller may read role assignments there (else ``None``)."""
    r = http.get(
        f"{base}/roleAssignments",
        params={"api-version": PERMISSIONS_API, "$filter": f"assignedTo('{principal}')"},
    )
    if r.status_code != 200:
        return None
    made = [
        dt.datetime.fromisoformat(a["properties"]["createdOn"].replace("Z", "+00:00"))
        for a in r.json().get("value", [])
        if (a.get("properties") or {}).get("createdOn")
    ]
    if not made:
        return None
    return (dt.datetime.now(dt.UTC) - max(made)).total_seconds()


def after_apply(changes: list[Any]) -> list[str]:
    """What ``apply`` / ``customer apply`` just granted that Azure honours only after a while,
    and how long to expect (the lines they end with)."""
    from provisioning.core.catalog import roles
    from provisioning.core.plan import Action

    granting = (Action.CREATE, Action.UPDATE, Action.REPLACE, Action.RESTORE)
    out: list[tuple[str, Delay]] = []
    for c in changes:
        if c.action not in granting:
            continue
        after = {f.field: f.after for f in c.fields}
        if c.kind == "role assignment":
            role = roles.lookup(str(after.get("role") or "").split(" (")[0])
            data = role is not None and role.has_data_actions
            dcr = (
                "/providers/microsoft.insights/datacollectionrules/"
                in str(after.get("scope") or "").lower()
            )
            out.append((c.address, MONITOR_DATA if data and dcr else RBAC))
        elif c.kind == "federated credential":
            out.append((c.address, FIC))
    if not out:
        return []
    longest = max(d.seconds for _, d in out)
    lines = ["still propagating (Azure honours new grants after a while):"]
    lines += [f"  {a}: {d.expected} ({d.what}: {d.source})" for a, d in out]
    lines.append(f"`xtenant verify --probe --wait {longest // 60}m` waits for them")
    return lines
