"""``customer plan|apply|remove --kit``: run by a customer admin, in the kit's tenant only."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provisioning.cli import exitcodes
from provisioning.cli.common import (
    STATE,
    DetailedOpt,
    Fmt,
    OutputOpt,
    PlanFmt,
    PlanOutputOpt,
    YesOpt,
    fail,
    progress,
)
from provisioning.cli.output import Printer
from provisioning.cli.plans import apply_flow, plan_exit, show_plan

if TYPE_CHECKING:
    from provisioning.core.clouds import Cloud
    from provisioning.core.engine import Outcome
    from provisioning.kit.model import Kit

app = typer.Typer()
customer_app = typer.Typer(
    help="Run by a customer admin in their own tenant, from a kit.", no_args_is_help=True
)
app.add_typer(customer_app, name="customer")

KitOpt = Annotated[
    Path, typer.Option("--kit", metavar="FILE", help="The kit.json the provider sent.")
]


def _load_kit(printer: Printer, kit: Path) -> tuple[Kit, Cloud]:
    """The kit and the cloud to apply it with (xtenant's profile or the admin's --cloud,
    never the kit's endpoints alone), or exit 1 naming every bad field."""
    from provisioning.core.clouds import CloudError
    from provisioning.core.runner import load_customer_kit
    from provisioning.kit.model import KitError

    try:
        return load_customer_kit(kit, STATE.cloud)
    except CloudError as exc:
        fail(printer, f"--cloud: {exc}")
    except KitError as exc:
        for issue in exc.issues:
            printer.issue(issue)
        raise typer.Exit(exitcodes.ERROR) from None


@customer_app.command("plan")
def customer_plan(
    kit: KitOpt,
    output: PlanOutputOpt = PlanFmt.table,
    detailed_exitcode: DetailedOpt = False,
) -> None:
    """Show exactly what would be granted in your tenant. Reads only."""
    from provisioning.core.runner import Options
    from provisioning.core.runner import customer_plan as run
    from provisioning.customer.exchange import exchange_note

    printer = Printer()
    spec, cloud = _load_kit(printer, kit)
    outcome = run(spec, cloud, Options(progress=progress(printer)))
    printer.clear_progress()
    note = exchange_note(spec)
    if note:
        outcome.plan.notes.append(note)
    show_plan(printer, outcome, output, title=f"xtenant customer plan: {spec.customer.name}")
    plan_exit(outcome, detailed_exitcode)


def _customer_flow(
    kit: Path, *, yes: bool, output: Fmt, remove: bool, yes_privileged: bool = False
) -> None:
    from provisioning.core.runner import Options
    from provisioning.core.runner import customer_apply as run_apply
    from provisioning.core.runner import customer_plan as run_plan
    from provisioning.customer.exchange import exchange_note

    printer = Printer()
    spec, cloud = _load_kit(printer, kit)
    opts = Options(progress=progress(printer))
    note = exchange_note(spec, remove=remove)

    def noted(outcome: Outcome) -> Outcome:
        if note and output is Fmt.json:  # machine output carries it with the plan's notes
            outcome.plan.notes.append(note)
        return outcome

    if note and remove and output is not Fmt.json:  # Exchange's part goes first: say it first
        printer.line(f"note: {note}")
    apply_flow(
        printer,
        lambda: noted(run_plan(spec, cloud, opts, remove=remove)),
        lambda: noted(run_apply(spec, cloud, opts, remove=remove)),
        yes=yes,
        output=output,
        yes_privileged=yes_privileged,
    )
    if note and not remove and output is not Fmt.json:  # the admin's step remains: say so last
        printer.line(f"note: {note}")


YesPrivilegedOpt = Annotated[
    bool,
    typer.Option(
        "--yes-privileged",
        help="Also grant what the plan marks PRIVILEGED without asking again.",
    ),
]


@customer_app.command("apply")
def customer_apply(
    kit: KitOpt,
    yes: YesOpt = False,
    yes_privileged: YesPrivilegedOpt = False,
    output: OutputOpt = Fmt.table,
) -> None:
    """Consent to the provider's app and grant exactly the kit's roles."""
    _customer_flow(kit, yes=yes, output=output, remove=False, yes_privileged=yes_privileged)


@customer_app.command("remove")
def customer_remove(kit: KitOpt, yes: YesOpt = False, output: OutputOpt = Fmt.table) -> None:
    """Offboard: remove what the kit granted, then the provider's service principal."""
    _customer_flow(kit, yes=yes, output=output, remove=True)
