"""``kit``: render each customer's onboarding kit from the configuration and the home ids."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from provisioning.cli.common import ConfigOpt, CustomerOpt, fail, load
from provisioning.cli.output import Printer
from provisioning.core.plan import plural

app = typer.Typer()


@app.command()
def kit(
    config: ConfigOpt = Path("xtenant.yaml"),
    customer: CustomerOpt = None,
    out: Annotated[
        Path,
        typer.Option("--out", metavar="DIR", help="Output folder (one subfolder per customer)."),
    ] = Path("kits"),
) -> None:
    """Render each customer's onboarding kit (page, scripts, Bicep, kit.json) and the landing page.

    Reads the home app ids and identity ids from Azure; nothing is written there.
    """
    from provisioning.kit.lookup import HomeNotReady, home_ids
    from provisioning.kit.render import render_all

    printer = Printer()
    loaded, cloud = load(printer, config)
    names = list(customer) if customer else None
    known = {c.name for c in loaded.config.customers}
    for n in names or []:
        if n not in known:
            fail(printer, f"--customer: no customer {n!r} in {config}")
    try:
        app_ids, identities = home_ids(loaded, cloud, names)
    except HomeNotReady as exc:
        for p in exc.problems:
            printer.error(p)
        if not exc.missing:
            fail(printer, "the home tenant could not be read (see above); no kit was written")
        fail(printer, f"{exc}: run `xtenant apply -c {config}` first (a kit needs its app's appId)")
    try:
        written = render_all(
            loaded.config, cloud, out, app_ids=app_ids, identities=identities, customers=names
        )
    except OSError as exc:  # e.g. a folder in --out that is a symbolic link
        fail(printer, f"--out: {exc}")
    for name, files in written.items():
        printer.line(f"{out / name}/: {plural(len(files), 'file')}")
