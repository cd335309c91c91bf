"""``reconcile`` and ``status``: every customer at once, for CI (plan on pull request, apply
on merge, status on a schedule)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provisioning.cli import exitcodes
from provisioning.cli.common import (
    Command,
    ConfigOpt,
    DetailedOpt,
    KitsOpt,
    PlanFmt,
    PlanOutputOpt,
    PruneOpt,
    YesOpt,
    fail,
    load,
    progress,
)
from provisioning.cli.output import Printer

if TYPE_CHECKING:
    from provisioning.reconcile import Report

app = typer.Typer()

ReportOpt = Annotated[
    Path | None,
    typer.Option("--report", metavar="FILE", help="Also write the JSON report to this file."),
]


def _show(
    printer: Printer,
    report: Report,
    output: PlanFmt,
    report_path: Path | None,
    detailed_exitcode: bool,
) -> None:
    """Render the report (and write it), then exit 1 on errors, 2 on pending changes."""
    from provisioning.cli.report import render_markdown, render_table

    if report_path is not None:
        report_path.write_text(json.dumps(report.to_json(), indent=2) + "\n")
    if output is PlanFmt.json:
        printer.json(report.to_json())
    elif output is PlanFmt.markdown:
        printer.line(render_markdown(report))
    else:
        printer.line(render_table(report))
    if not report.ok:
        raise typer.Exit(exitcodes.ERROR)
    if detailed_exitcode and report.has_changes:
        raise typer.Exit(exitcodes.CHANGES)


@app.command()
def reconcile(
    config: ConfigOpt = Path("xtenant.yaml"),
    kits: KitsOpt = Path("kits"),
    plan_only: Annotated[
        bool, typer.Option("--plan-only", help="Read only: for pull requests.")
    ] = False,
    yes: YesOpt = False,
    output: PlanOutputOpt = PlanFmt.table,
    detailed_exitcode: DetailedOpt = False,
    report: ReportOpt = None,
    shard: Annotated[
        str | None,
        typer.Option("--shard", metavar="I/N", help="This job's slice of the customers."),
    ] = None,
    prune: PruneOpt = False,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            min=1,
            max=64,
            metavar="N",
            help="Customer tenants (and home tasks) worked on at once.",
        ),
    ] = 8,
) -> None:
    """Home apply + kits re-rendered where changed + managed customers + status, for CI."""
    from provisioning.reconcile import parse_shard
    from provisioning.reconcile import reconcile as run

    printer = Printer()
    loaded, cloud = load(printer, config)
    try:
        sh = parse_shard(shard) if shard else None
    except ValueError as exc:
        fail(printer, str(exc))
    if not plan_only and not yes:
        fail(printer, "reconcile changes Azure and the kits folder: pass --yes (or --plan-only)")
    result = run(
        loaded,
        cloud,
        kits=kits,
        plan_only=plan_only,
        shard=sh,
        prune=prune,
        concurrency=concurrency,
        progress=progress(printer),
    )
    printer.clear_progress()
    _show(printer, result, output, report, detailed_exitcode)


@app.command(cls=Command)
def status(
    config: ConfigOpt = Path("xtenant.yaml"),
    kits: KitsOpt = Path("kits"),
    output: PlanOutputOpt = PlanFmt.table,
    merge: Annotated[
        bool,
        typer.Option("--merge", help="Join the REPORT files of sharded runs instead of observing."),
    ] = False,
    reports: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[REPORT]...", help="Shard reports (with --merge).", show_default=False
        ),
    ] = None,
    report: ReportOpt = None,
    detailed_exitcode: DetailedOpt = False,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="On a host with the identity: test consent and grants now (verify --probe).",
        ),
    ] = False,
) -> None:
    """One row per customer: kit, consent, roles, and what to do next. Reads only."""
    from provisioning.reconcile import Report
    from provisioning.reconcile import merge as join

    printer = Printer()
    if merge or reports:
        if not (merge and reports):
            fail(printer, "--merge takes one or more report files (and report files need --merge)")
        from provisioning.reportfile import read_report

        read = []
        for path in reports or []:
            try:
                read.append(Report.from_json(read_report(path)))
            except ValueError as exc:
                fail(printer, f"--merge: {path}: {exc}")
        result = join(read)
    else:
        from provisioning.status import status as run

        loaded, cloud = load(printer, config)
        result = run(loaded, cloud, kits=kits, live=live, progress=progress(printer))
        printer.clear_progress()
    _show(printer, result, output, report, detailed_exitcode)
