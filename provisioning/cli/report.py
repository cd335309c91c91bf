"""Showing a reconcile report: a plain table for terminals and logs, markdown for a
pull-request comment (summary table on top, collapsed details per customer)."""

from __future__ import annotations

from collections import Counter

from provisioning.core.plan import Action, Change, FieldChange, Plan, diff_line, render_text
from provisioning.reconcile import CustomerStatus, Report

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


# Summary labels that change in the singular ("1 kit to send", "1 customer").
_SINGULAR = {"customers": "customer", "kits to send": "kit to send"}


def _next_label(c: CustomerStatus) -> str:
    if c.next.startswith("healthy"):
        return "healthy"
    if "kit" in c.next:
        return "kits to send"
    if "consent" in c.next:
        return "waiting for consent"
    if "offboarding" in c.next:
        return "offboarding"
    return "with errors" if c.errors else "to do"


def summary(report: Report) -> dict[str, int]:
    """Customers, offboarded, then how many customers are at each next step."""
    nexts = Counter(_next_label(c) for c in [*report.customers, *report.offboarded])
    return {"customers": len(report.customers), "offboarded": len(report.offboarded), **nexts}


def _phrase(label: str, n: int) -> str:
    return f"{n} {_SINGULAR.get(label, label) if n == 1 else label}"


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
    lines.append(", ".join(_phrase(k, v) for k, v in s.items()))
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
