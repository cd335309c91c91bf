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
    from provisioning.chain.verify import Row

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
) -> None:
    """Prove the chain from this host, hop by hop, and say why any hop fails. Exit 3 if one does."""
    import logging

    from provisioning.chain.verify import render_table
    from provisioning.chain.verify import verify as run
    from provisioning.kit.lookup import kit_app_ids

    printer = Printer()
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

    report = run(
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
    printer.clear_progress()
    printer.line(report.dumps() if output is Fmt.json else render_table(report))
    if not report.ok:
        raise typer.Exit(exitcodes.VERIFY_FAILED)
