"""The verify report: one ``Row`` per step of each customer, its JSON shape (version 1)
and the plain-text table.  Every string is scrubbed of anything shaped like a JWT before
it is stored, so no token can reach a report, a log or a terminal."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..diagnose import Diagnosis

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
    "probe:site",
    "probe:directory_role",
    "probe:exchange",
)
STATUSES = ("ok", "failed", "skipped", "propagating")
JWT_RX = re.compile(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]*")


def scrub(value: Any) -> Any:
    """``value`` with anything shaped like a JWT replaced (strings, lists, dicts)."""
    if isinstance(value, str):
        return JWT_RX.sub("[token removed]", value)
    if isinstance(value, Mapping):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def first_line(e: BaseException | str) -> str:
    """The first line of an error, scrubbed (a row's detail says no more)."""
    text = str(e).strip()
    return str(scrub(text.splitlines()[0] if text else type(e).__name__))


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
        """Every step green: none failed, none still propagating."""
        return not any(r.status in ("failed", "propagating") for r in self.rows)

    @property
    def pending(self) -> list[Row]:
        """Steps whose grant exists but is not honoured yet (``verify --wait`` waits for them)."""
        return [r for r in self.rows if r.status == "propagating"]

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
              "ok": bool,                       # no step failed or is still propagating
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
                          | "exchange:graph" | "probe:arm" | "probe:logs" | "probe:graph"
                          | "probe:site" | "probe:directory_role" | "probe:exchange",
                  "target": str | null,         # the scope, stream or Graph path probed
                  "status": "ok" | "failed" | "skipped" | "propagating",
                                                # propagating: granted, not yet honoured
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
                    "ok": not any(r.status in ("failed", "propagating") for r in rows),
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
    status = next((s for s in ("failed", "propagating", "ok") if s in statuses), "skipped")
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
    lines.append("verify: " + verdict(report))
    return scrub("\n".join(lines)) + "\n"


def verdict(report: VerifyReport) -> str:
    """The last line: green, failed, or still propagating (and for how long to expect)."""
    if report.ok:
        return "all steps ok"
    if any(r.status == "failed" for r in report.rows):
        return "some steps FAILED"
    waits = [r.detail.split("propagating, ", 1)[-1] for r in report.pending]
    return f"propagating, {waits[0] if len(waits) == 1 else '; '.join(sorted(set(waits)))}"
