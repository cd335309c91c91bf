"""``plan``, ``apply``, ``revoke``, ``bicep params``: the home tenant, run by its admins."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from provisioning.cli.common import (
    ConfigOpt,
    DetailedOpt,
    Fmt,
    OutputOpt,
    PlanFmt,
    PlanOutputOpt,
    PruneOpt,
    YesOpt,
    fail,
    load,
    progress,
)
from provisioning.cli.output import Printer
from provisioning.cli.plans import apply_flow, plan_exit, show_plan
from provisioning.core.plan import plural

app = typer.Typer()


@app.command()
def plan(
    config: ConfigOpt = Path("xtenant.yaml"),
    output: PlanOutputOpt = PlanFmt.table,
    detailed_exitcode: DetailedOpt = False,
    prune: PruneOpt = False,
) -> None:
    """Show what apply would change in the home tenant. Reads only; never writes."""
    from provisioning.core.runner import Options, home_plan

    printer = Printer()
    loaded, cloud = load(printer, config)
    outcome = home_plan(loaded, cloud, Options(prune=prune, progress=progress(printer)))
    printer.clear_progress()
    show_plan(printer, outcome, output, title="xtenant plan")
    plan_exit(outcome, detailed_exitcode)


@app.command()
def apply(
    config: ConfigOpt = Path("xtenant.yaml"),
    yes: YesOpt = False,
    prune: PruneOpt = False,
    output: OutputOpt = Fmt.table,
) -> None:
    """Make Azure and Entra match the configuration, then confirm by observing again."""
    from provisioning.core.runner import Options, home_apply, home_plan

    printer = Printer()
    loaded, cloud = load(printer, config)
    opts = Options(prune=prune, progress=progress(printer))
    apply_flow(
        printer,
        lambda: home_plan(loaded, cloud, opts),
        lambda: home_apply(loaded, cloud, opts),
        yes=yes,
        output=output,
    )


@app.command()
def revoke(
    app_key: Annotated[
        str,
        typer.Option("--app", metavar="KEY", help="Key of the app whose credentials go."),
    ],
    config: ConfigOpt = Path("xtenant.yaml"),
    yes: YesOpt = False,
    output: OutputOpt = Fmt.table,
) -> None:
    """Emergency stop: delete the app's federated credentials, so no customer token can be minted."""
    from provisioning.config import UnknownNameError
    from provisioning.core.runner import Options, revoke_apply, revoke_plan

    printer = Printer()
    loaded, cloud = load(printer, config)
    try:
        app_cfg = loaded.config.app(app_key)
    except UnknownNameError as exc:
        fail(printer, f"--app: {exc}")
    affected = loaded.config.customers_for_app(app_cfg.key)
    if output is not Fmt.json:
        lose = "loses" if len(affected) == 1 else "lose"
        printer.line(
            f"Impact: {plural(len(affected), 'customer')} {lose} access through "
            f"{app_cfg.display_name}: " + (", ".join(c.name for c in affected) or "none")
        )
        printer.line(
            "Their grants stay in place; `xtenant apply` re-creates the credentials unless "
            f"apps[{app_cfg.key}].trusts is emptied first."
        )
    opts = Options(progress=progress(printer))
    apply_flow(
        printer,
        lambda: revoke_plan(loaded, cloud, app_cfg.key, opts),
        lambda: revoke_apply(loaded, cloud, app_cfg.key, opts),
        yes=yes,
        output=output,
    )


bicep_app = typer.Typer(
    help="Bicep for teams that deploy the home side with Bicep.", no_args_is_help=True
)
app.add_typer(bicep_app, name="bicep")


@bicep_app.command("params")
def bicep_params(
    config: ConfigOpt = Path("xtenant.yaml"),
    out: Annotated[
        Path | None,
        typer.Option("--out", metavar="FILE", help="Write here instead of stdout."),
    ] = None,
) -> None:
    """Render bicep/home.bicep's parameter file from the configuration."""
    from provisioning.home.bicep_params import home_parameter_warnings, render_home_parameters

    printer = Printer()
    loaded, cloud = load(printer, config)
    for w in home_parameter_warnings(loaded.config, cloud):
        printer.err.write(f"warning: {w}\n")
    text = render_home_parameters(loaded.config, cloud)
    if out is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        out.write_text(text)
        printer.summary(f"wrote {out}", ok=True)
