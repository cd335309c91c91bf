"""``xtenant status``: the reconcile report, read only, and with ``--live`` the consent and
grants tested now from this host (a verify run folded into the report)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from provisioning.reconcile import Report, reconcile

if TYPE_CHECKING:
    from provisioning.chain.verify import Row, VerifyReport
    from provisioning.config import Loaded
    from provisioning.core.clouds import Cloud


def status(
    loaded: Loaded,
    cloud: Cloud,
    *,
    kits: Path,
    live: bool = False,
    progress: Callable[[str, str], None] = lambda address, message: None,
) -> Report:
    """One row per customer; with ``live``, verify from this host and fold it in."""
    report = reconcile(loaded, cloud, kits=kits, plan_only=True, progress=progress)
    if live:
        from provisioning.chain.verify import verify
        from provisioning.kit.lookup import kit_app_ids

        checked = verify(
            loaded, cloud, probe=True, app_ids=kit_app_ids(kits) or None, kit_dir=str(kits)
        )
        fold_verify(report, checked, at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return report


def fold_verify(report: Report, verified: VerifyReport, *, at: str) -> None:
    """Take consent and role effectiveness from a verify run (``status --live``).

    A customer whose exchange fails with AADSTS700016 has not consented; one whose
    exchanges work has; probes that fail say which grant is missing. Customers verify
    could not reach from this host stay ``unknown``.
    """
    rows = verified.rows
    by_customer: dict[str, list[Row]] = {}
    for r in rows:
        by_customer.setdefault(r.customer, []).append(r)
    for c in report.customers:
        steps = by_customer.get(c.name, [])
        exchanges = [s for s in steps if s.step.startswith("exchange:")]
        probes = [s for s in steps if s.step.startswith("probe:")]
        if not exchanges or all(s.status == "skipped" for s in exchanges):
            continue
        codes = {s.diagnosis.code for s in exchanges if s.diagnosis is not None}
        if "AADSTS700016" in codes:
            c.consent = "no"
        elif any(s.status == "ok" for s in exchanges):
            c.consent = "yes"
        failed = [s for s in [*exchanges, *probes] if s.status == "failed"]
        waiting = [s for s in [*exchanges, *probes] if s.status == "propagating"]
        if c.consent == "yes":
            if failed:
                c.roles = "missing: " + "; ".join(
                    (s.diagnosis.cause if s.diagnosis else s.detail)[:160] for s in failed
                )
            elif waiting:  # granted, not honoured yet: not the same as missing
                c.roles = "propagating: " + "; ".join(
                    f"{s.step} {s.detail.split('propagating, ', 1)[-1][:120]}" for s in waiting
                )
            else:
                c.roles = "ok"
        c.verified_at = at
        c.next = c.decide_next()
