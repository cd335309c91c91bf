"""Showing a reconcile report: a plain table for terminals and logs, markdown for a
pull-request comment (summary table on top, collapsed details per customer)."""

from __future__ import annotations

from collections import Counter

from provisioning.core import markdown as md
from provisioning.core.plan import Action, Change, FieldChange, Plan, diff_line, render_text
from provisioning.core.text import visible_line
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
_SINGULAR = {
    "customers": "customer",
    "kits to send": "kit to send",
    "undeclared kits": "undeclared kit",
}


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
    """Customers, offboarded, (undeclared kits,) then how many customers are at each next
    step."""
    nexts = Counter(_next_label(c) for c in [*report.customers, *report.offboarded])
    lost = {"undeclared kits": len(report.undeclared)} if report.undeclared else {}
    return {
        "customers": len(report.customers),
        "offboarded": len(report.offboarded),
        **lost,
        **nexts,
    }


def _phrase(label: str, n: int) -> str:
    return f"{n} {_SINGULAR.get(label, label) if n == 1 else label}"


OFFBOARDING = (
    "Offboarding: kits moved to .offboarded/ by reconcile --yes; the customer's admin deletes "
    "the enterprise app"
)
UNDECLARED = (
    "Kits of no declared customer: left in place; declare each again, or list it under "
    "offboard: in the configuration"
)


def _sections(report: Report) -> list[tuple[str | None, list[CustomerStatus]]]:
    """The customers, then the offboarded and the undeclared under headings of their own."""
    out: list[tuple[str | None, list[CustomerStatus]]] = [(None, report.customers)]
    if report.offboarded:
        out.append((OFFBOARDING, report.offboarded))
    if report.undeclared:
        out.append((UNDECLARED, report.undeclared))
    return out


def _all(report: Report) -> list[CustomerStatus]:
    return [*report.customers, *report.offboarded, *report.undeclared]


def render_table(report: Report) -> str:
    lines = []
    home = _home_plan(report)
    if home is not None:
        lines += ["home tenant:", render_text(home), ""]
    for heading, rows in _sections(report):
        if heading:
            lines += ["", heading + ":"]
        table = [COLUMNS, *(tuple(visible_line(v) for v in _cells(c)) for c in rows)]
        widths = [max(len(r[i]) for r in table) for i in range(len(COLUMNS))]
        for i, r in enumerate(table):
            lines.append("  ".join(v.ljust(widths[j]) for j, v in enumerate(r)).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
    for c in _all(report):
        for e in c.errors:
            lines.append(f"error: {visible_line(c.name)}: {visible_line(e)}")
    lines += [f"error: {visible_line(e)}" for e in report.errors]
    s = summary(report)
    lines.append(", ".join(_phrase(k, v) for k, v in s.items()))
    return "\n".join(lines)


def render_markdown(report: Report) -> str:
    """The report as a pull-request comment. Every value is escaped for where it stands
    (``core.markdown``): none can add a heading, a link or a line of its own."""
    title = (
        "xtenant reconcile"
        + (" (plan)" if report.plan_only else "")
        + (f" — shard {report.shard}" if report.shard else "")
    )
    s = summary(report)
    out = [
        f"### {md.text(title)}",
        "",
        "| " + " | ".join(s) + " |",
        "|" + "---:|" * len(s),
        "| " + " | ".join(str(v) for v in s.values()) + " |",
        "",
    ]
    home = _home_plan(report)
    if home is not None:
        out += [f"**Home tenant:** {md.text(home.summary())}", ""]
        if home.has_changes:
            lines = [diff_line(x) for x in render_text(home).splitlines()[:-1]]
            out += ["<details><summary>Home plan</summary>", ""]
            out += [*md.code_block(lines, "diff"), "", "</details>", ""]
    for heading, rows in _sections(report):
        if heading:
            out += [f"#### {md.text(heading)}", ""]
        out += ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        out += ["| " + " | ".join(md.text(v) for v in _cells(c)) + " |" for c in rows]
        out.append("")
    for c in _all(report):
        if not (c.changes or c.errors or c.applied):
            continue
        out += [f"<details><summary>{md.html_text(c.name)}: {md.html_text(c.next)}</summary>", ""]
        out += [f"- {md.text(ch['action'])} {md.text(ch['address'])}" for ch in c.changes]
        out += [f"- applied {md.text(ch['action'])} {md.text(ch['address'])}" for ch in c.applied]
        out += [f"- error: {md.text(e)}" for e in c.errors]
        out += ["", "</details>", ""]
    out += [f"- error: {md.text(e)}" for e in report.errors]
    return "\n".join(out).rstrip() + "\n"
