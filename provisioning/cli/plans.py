"""Showing a plan and running an apply, the same way for the home side, a customer's kit
and a revoke: plan, show, confirm (unless --yes), apply, report what was confirmed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from provisioning.cli import exitcodes
from provisioning.cli.common import Fmt, PlanFmt, fail, report_failures
from provisioning.cli.output import Printer

if TYPE_CHECKING:
    from provisioning.core.engine import Outcome

_DONE = {
    "create": "created",
    "update": "updated",
    "delete": "deleted",
    "replace": "replaced",
    "restore": "restored",
}


def show_plan(printer: Printer, outcome: Outcome, output: PlanFmt, title: str) -> None:
    from provisioning.core.plan import render_markdown, render_text

    if output is PlanFmt.json:
        printer.json(outcome.plan_json())
        return
    report_failures(printer, outcome)
    if output is PlanFmt.markdown:
        printer.line(render_markdown(outcome.plan, title=title, summary=outcome.summary()))
    else:
        printer.plan(render_text(outcome.plan, summary=outcome.summary()))


def plan_exit(outcome: Outcome, detailed_exitcode: bool) -> None:
    if outcome.failures:
        raise typer.Exit(exitcodes.ERROR)
    if detailed_exitcode and outcome.plan.has_changes:
        raise typer.Exit(exitcodes.CHANGES)


def apply_flow(
    printer: Printer,
    plan_fn: Callable[[], Outcome],
    apply_fn: Callable[[], Outcome],
    *,
    yes: bool,
    output: Fmt,
    yes_privileged: bool = False,
) -> None:
    """Privileged grants (a role or permission that can change or grant anything) are asked
    for a second time, by name, unless ``--yes-privileged``: ``--yes`` alone never grants them."""
    from provisioning.core.plan import render_text

    planned = plan_fn()
    printer.clear_progress()
    if planned.failures:
        report_failures(printer, planned)
        printer.plan(render_text(planned.plan, summary=planned.summary()))
        raise typer.Exit(exitcodes.ERROR)
    if not planned.plan.has_changes:
        if output is Fmt.json:
            printer.json(planned.to_json())
        else:
            printer.summary(planned.plan.summary(), ok=True)
        return
    if output is not Fmt.json:
        printer.plan(render_text(planned.plan))
    interactive = sys.stdin.isatty()
    if not yes:
        if not interactive:
            fail(printer, "changes are pending; re-run with --yes to apply them non-interactively")
        if not typer.confirm("Apply these changes?", default=False):
            fail(printer, "cancelled; nothing was changed")
    _confirm_privileged(printer, planned, yes_privileged=yes_privileged, interactive=interactive)
    outcome = apply_fn()
    printer.clear_progress()
    if output is Fmt.json:
        printer.json(outcome.to_json())
    else:
        for c in outcome.applied:
            printer.line(f"{c.action.symbol} {c.address}: {_DONE[c.action.value]}")
        for v in outcome.verified:
            printer.line(f"verified {v}")
        report_failures(printer, outcome)
        if outcome.plan.has_changes:
            printer.line("still different after apply:")
            printer.plan(render_text(outcome.plan))
    if outcome.failures or outcome.plan.has_changes:
        raise typer.Exit(exitcodes.ERROR)
    if output is not Fmt.json:
        printer.summary(outcome.applied_summary(), ok=True)
        from provisioning.chain.verify.propagation import after_apply

        for line in after_apply(outcome.applied):
            printer.line(line)


def _confirm_privileged(
    printer: Printer, planned: Outcome, *, yes_privileged: bool, interactive: bool
) -> None:
    privileged = planned.plan.privileged
    if not privileged or yes_privileged:
        return
    names = "; ".join(c.address for c in privileged)
    if not interactive:
        fail(
            printer,
            f"the plan grants privileged access ({names}): read it, then re-run with "
            "--yes-privileged to grant it; nothing was changed",
        )
    for c in privileged:
        printer.plan(f"!! {c.address}: {c.privileged}")
    question = f"{len(privileged)} of these grant privileged access. Grant them?"
    if not typer.confirm(question, default=False):
        fail(printer, "cancelled; nothing was changed")
