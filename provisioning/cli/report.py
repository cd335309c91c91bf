"""Showing a reconcile report: a plain table for terminals and logs, markdown for a
pull-request comment (summary table on top, collapsed details per customer)."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from provisioning.core.plan import Action, Change, FieldChange, Plan, diff_line, render_text
from provisioning.reconcile import CustomerStatus, Report

if TYPE_CHECKING:
    from provisioning.chain.verify import Row, VerifyReport

COLUMNS = ("customer", "tenant", "side", "kit", "consent", "roles", "next")


def _cells(c: CustomerStatus) -> tuple[str, ...]:
    return (c.name, c.tenant, c.side, c.kit, c.consent, c.roles, c.next)


def _home_plan(report: Report) -> Plan | None:
    if report.home is None:
        return None
    plan = Plan(notes=list(report.home.get("notes", [])))
    for ch in report.home.get("changes", []):
        plan.changes.append(
            Change(
                ch["address"],
                ch["kind"],
                Action(ch["action"]),
                [FieldChange(f["field"], f["before"], f["after"]) for f in ch.get("fields", [])],
                note=ch.get("note"),
            )
        )
    return plan


def summary(report: Report) -> dict[str, int]:
    rows = [*report.customers, *report.offboarded]
    nexts = Counter(
        "healthy"
        if c.next.startswith("healthy")
        else "kit to send"
        if "kit" in c.next
        else "waiting for consent"
        if "consent" in c.next
        else "offboarding"
        if "offboarding" in c.next
        else "errors"
        if c.errors
        else "to do"
        for c in rows
    )
    return {"customers": len(report.customers), "offboarded": len(report.offboarded), **nexts}


def render_table(report: Report) -> str:
    rows = [COLUMNS, *(_cells(c) for c in [*report.customers, *report.offboarded])]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = []
    home = _home_plan(report)
    if home is not None:
        lines += ["home tenant:", render_text(home), ""]
    for i, r in enumerate(rows):
        lines.append("  ".join(v.ljust(widths[j]) for j, v in enumerate(r)).rstrip())
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    for c in [*report.customers, *report.offboarded]:
        for e in c.errors:
            lines.append(f"error: {c.name}: {e}")
    lines += [f"error: {e}" for e in report.errors]
    s = summary(report)
    lines.append(", ".join(f"{v} {k}" for k, v in s.items()))
    return "\n".join(lines)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(report: Report) -> str:
    title = (
        "xtenant reconcile"
        + (" (plan)" if report.plan_only else "")
        + (f" — shard {report.shard}" if report.shard else "")
    )
    s = summary(report)
    out = [
        f"### {title}",
        "",
        "| " + " | ".join(s) + " |",
        "|" + "---:|" * len(s),
        "| " + " | ".join(str(v) for v in s.values()) + " |",
        "",
    ]
    home = _home_plan(report)
    if home is not None:
        out += [f"**Home tenant:** {home.summary()}", ""]
        if home.has_changes:
            out += [
                "<details><summary>Home plan</summary>",
                "",
                "```diff",
                *[diff_line(x) for x in render_text(home).splitlines()[:-1]],
                "```",
                "",
                "</details>",
                "",
            ]
    out += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    out += [
        "| " + " | ".join(_md(v) for v in _cells(c)) + " |"
        for c in [*report.customers, *report.offboarded]
    ]
    out.append("")
    for c in [*report.customers, *report.offboarded]:
        if not (c.changes or c.errors or c.applied):
            continue
        out += [f"<details><summary>{_md(c.name)}: {_md(c.next)}</summary>", ""]
        out += [f"- `{ch['action']}` {ch['address']}" for ch in c.changes]
        out += [f"- applied `{ch['action']}` {ch['address']}" for ch in c.applied]
        out += [f"- error: {_md(e)}" for e in c.errors]
        out += ["", "</details>", ""]
    out += [f"- error: {_md(e)}" for e in report.errors]
    return "\n".join(out).rstrip() + "\n"


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
        if c.consent == "yes":
            c.roles = (
                "ok"
                if not failed
                else "missing: "
                + "; ".join((s.diagnosis.cause if s.diagnosis else s.detail)[:160] for s in failed)
            )
        c.verified_at = at
        c.next = c.decide_next()
