"""``status --live`` folds verify into the status rows: a grant verify found listed but not yet
honoured is "propagating", not "missing"."""

from __future__ import annotations

from provisioning.chain.verify import Row, VerifyReport
from provisioning.reconcile import CustomerStatus, Report
from provisioning.status import fold_verify

WAIT = (
    "Monitoring Metrics Publisher is granted (ARM lists it) but not yet honoured: propagating, "
    "expected within 30 min (a new permission on a data collection rule: learn.microsoft.com)"
)


def _report() -> Report:
    row = CustomerStatus(
        name="litware", tenant="litware.example", app="logs", side="customer", kit="current"
    )
    return Report(
        schema_version=1,
        shard=None,
        plan_only=True,
        home=None,
        customers=[row],
        offboarded=[],
        errors=[],
    )


def _verified(status: str, detail: str) -> VerifyReport:
    v = VerifyReport(cloud="sandbox", home_tenant="t", host={}, probe=True)
    v.rows = [
        Row("litware", "exchange:monitor", "ok", 0.1, "token"),
        Row("litware", "probe:logs", status, 0.1, detail),
    ]
    return v


def test_a_propagating_grant_is_not_missing() -> None:
    report = _report()
    fold_verify(report, _verified("propagating", WAIT), at="2024-01-01T00:00:00Z")
    (row,) = report.customers
    assert row.consent == "yes"
    assert row.roles.startswith("propagating: probe:logs expected within 30 min")
    assert row.next.startswith("wait: granted, not honoured yet")


def test_a_failed_probe_is_missing() -> None:
    report = _report()
    fold_verify(report, _verified("failed", "POST -> 403"), at="2024-01-01T00:00:00Z")
    assert report.customers[0].roles.startswith("missing: ")
