"""``ci init``: a secret-less pipeline for the declared customer list, and the rights it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, cast

import typer

from provisioning.cli.common import Command, ConfigOpt, Fmt, OutputOpt, fail, load
from provisioning.cli.output import Printer

app = typer.Typer()
ci_app = typer.Typer(help="CI pipelines for the declared customer list.", no_args_is_help=True)
app.add_typer(ci_app, name="ci")


@ci_app.command("init", cls=Command)
def ci_init(
    kind: Annotated[
        str, typer.Argument(metavar="KIND", help="github or azure-devops", show_default=False)
    ],
    config: ConfigOpt = Path("xtenant.yaml"),
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Repository root.")] = Path("."),
    shards: Annotated[
        int | None,
        typer.Option("--shards", min=1, max=256, metavar="N", help="Nightly matrix size (jobs)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing pipeline file.")
    ] = False,
    output: OutputOpt = Fmt.table,
) -> None:
    """Write a secret-less pipeline (plan on PR, apply on main, nightly status) and print
    the exact rights its identities need."""
    from provisioning.ci.workflows import (
        CI_KINDS,
        OUTPUTS,
        config_path_for,
        format_permissions,
        pipeline_permissions,
        render_ci,
    )

    printer = Printer()
    if kind not in CI_KINDS:
        fail(printer, f"expected one of {', '.join(CI_KINDS)}, got {kind!r}")
    loaded, cloud = load(printer, config)
    if (out / OUTPUTS[kind]).exists() and not force:
        fail(printer, f"{out / OUTPUTS[kind]} exists; use --force to overwrite it")
    try:
        files = render_ci(
            cast(Any, kind),
            loaded.config,
            config_path=config_path_for(config, out),
            out_dir=out,
            config_file=config,
            shards=shards,
        )
    except ValueError as exc:
        fail(printer, str(exc))
    perms = pipeline_permissions(loaded.config)
    if output is Fmt.json:
        printer.json(
            {"files": [str(f) for f in files], "permissions": [p.to_json() for p in perms]}
        )
        return
    for f in files:
        printer.line(f"wrote {f}")
    printer.line(format_permissions(perms, graph_endpoint=cloud.graph))
