"""``verify``: prove the chain from this host, hop by hop (run on the workload host)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from provisioning.cli import exitcodes
from provisioning.cli.common import (
    ConfigOpt,
    CustomerOpt,
    Fmt,
    KitsOpt,
    OutputOpt,
    StateOpt,
    fail,
    load,
    progress,
    sandbox_info,
)
from provisioning.cli.output import Printer

if TYPE_CHECKING:
    from collections.abc import Callable

    from provisioning.chain.verify import Row, VerifyReport

app = typer.Typer()


@app.command()
def verify(
    config: ConfigOpt = Path("xtenant.yaml"),
    customer: CustomerOpt = None,
    probe: Annotated[
        bool, typer.Option("--probe", help="Also make a harmless call proving each grant.")
    ] = False,
    output: OutputOpt = Fmt.table,
    as_host: Annotated[
        str | None,
        typer.Option(
            "--as", metavar="HOST", help="On the sandbox: act as this host (its identity endpoint)."
        ),
    ] = None,
    state: StateOpt = Path(".sandbox"),
    identity: Annotated[
        str | None,
        typer.Option(
            "--identity",
            metavar="ID",
            help="Managed identity: its client id, object_id:GUID or resource id.",
        ),
    ] = None,
    app_id: Annotated[
        list[str] | None,
        typer.Option(
            "--app",
            metavar="KEY=APPID",
            help="An app's id when neither kits nor Graph can tell it.",
        ),
    ] = None,
    kits: KitsOpt = Path("kits"),
    read_home: Annotated[
        bool,
        typer.Option(
            "--read-home", help="Also read the app's FICs and ids with the admin credential."
        ),
    ] = False,
    wait: Annotated[
        str | None,
        typer.Option(
            "--wait",
            metavar="DURATION",
            help="Keep verifying until every step is green or DURATION (90s, 2m, 1h) is up.",
        ),
    ] = None,
    poll: Annotated[
        float,
        typer.Option("--poll", metavar="SECONDS", help="With --wait: seconds between rounds."),
    ] = 10.0,
) -> None:
    """Prove the chain from this host, hop by hop, and say why any hop fails; a grant that
    exists but is not honoured yet is "propagating". Exit 3 if a step fails or still propagates
    (with --wait: once the time is up)."""
    import logging

    from provisioning.chain.verify import render_table
    from provisioning.chain.verify import verify as run
    from provisioning.kit.lookup import kit_app_ids

    printer = Printer()
    budget = parse_duration(printer, wait) if wait is not None else None
    if poll <= 0:
        fail(printer, f"--poll: expected a positive number of seconds, got {poll:g}")
    loaded, cloud = load(printer, config)
    if as_host:
        from provisioning.sandbox.envvars import env_vars

        info = sandbox_info(printer, state)
        if as_host not in info["hosts"]:
            fail(printer, f"--as: no host {as_host!r}; hosts: {', '.join(info['hosts'])}")
        os.environ.update(env_vars(info, as_host))
    ids = kit_app_ids(kits)
    for pair in app_id or []:
        key, _, value = pair.partition("=")
        if not value:
            fail(printer, f"--app: expected KEY=APPID, got {pair!r}")
        ids[key] = value
    credential = None
    if read_home:
        from provisioning.core.clients import admin_credential

        credential = admin_credential(cloud, loaded.config.home.tenant_id)
    log, draw = logging.getLogger("xtenant"), progress(printer)

    def step(row: Row) -> None:
        log.info("verify %s: %s %s", row.customer, row.step, row.status)
        draw(row.step, f"{row.customer}:")

    def once() -> VerifyReport:
        return run(
            loaded,
            cloud,
            customers=list(customer) if customer else None,
            probe=probe,
            home_credential=credential,
            identity=identity,
            app_ids=ids or None,
            host=as_host,
            kit_dir=str(kits),
            on_step=step,
        )

    report = once() if budget is None else wait_until_green(printer, once, budget, poll)
    printer.clear_progress()
    printer.line(report.dumps() if output is Fmt.json else render_table(report))
    if not report.ok:
        raise typer.Exit(exitcodes.VERIFY_FAILED)


def parse_duration(printer: Printer, text: str) -> float:
    """``90s``, ``2m``, ``1h`` or plain seconds; anything else is a one-line error (exit 1)."""
    import re

    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text)
    if m is None:
        fail(printer, f"--wait: expected a duration such as 90s, 2m or 1h, got {text!r}")
    return float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def wait_until_green(
    printer: Printer, once: Callable[[], VerifyReport], budget: float, poll: float
) -> VerifyReport:
    """Verify again every ``poll`` seconds until every step is green or ``budget`` is spent,
    saying what is still pending: a transient line on a terminal, a line a round otherwise
    (on stderr, so that ``-o json`` stays one document)."""
    import sys
    import time

    from provisioning.chain.verify.propagation import human

    deadline = time.monotonic() + budget
    while True:
        report = once()
        left = deadline - time.monotonic()
        if report.ok or left <= 0:
            return report
        pending = [r for r in report.rows if r.status in ("failed", "propagating")]
        what = "; ".join(
            f"{r.customer} {r.step}: {'propagating' if r.status == 'propagating' else 'failing'}"
            for r in pending
        )
        text = f"waiting ({human(left)} left): {what}"
        if printer.tty:
            printer.progress(text)
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        time.sleep(max(0.0, min(poll, left)))
