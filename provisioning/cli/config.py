"""``validate``, ``schema``, ``init``: the configuration file, no network."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from provisioning.cli import exitcodes
from provisioning.cli.common import ConfigOpt, Fmt, OutputOpt, fail
from provisioning.cli.output import Printer
from provisioning.core.plan import plural

app = typer.Typer()


@app.command()
def validate(config: ConfigOpt = Path("xtenant.yaml"), output: OutputOpt = Fmt.table) -> None:
    """Check the configuration: schema, cross-references and least-privilege lint. No network."""
    from provisioning.config import ConfigError, load_config

    printer = Printer()
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        if output is Fmt.json:
            printer.json(
                {
                    "valid": False,
                    "errors": [i.to_json() for i in exc.errors],
                    "warnings": [i.to_json() for i in exc.warnings],
                }
            )
        else:
            for issue in exc.issues:
                printer.issue(issue)
            printer.summary(f"{config}: {_count(exc.issues)}", ok=False)
        raise typer.Exit(exitcodes.ERROR) from None
    if output is Fmt.json:
        printer.json(
            {"valid": True, "errors": [], "warnings": [w.to_json() for w in loaded.warnings]}
        )
        return
    for w in loaded.warnings:
        printer.issue(w)
    c = loaded.config
    printer.summary(
        f"{config}: valid — {plural(len(c.home.identities), 'identity', 'identities')}, "
        f"{plural(len(c.home.apps), 'app')}, {plural(len(c.customers), 'customer')}"
        + (f", {_count(loaded.warnings, errors=False)}" if loaded.warnings else ""),
        ok=True,
    )


def _count(issues: list, *, errors: bool = True) -> str:
    """``2 errors, 1 warning`` (only the warnings when ``errors`` is False)."""
    n_err = sum(1 for i in issues if i.severity == "error")
    warnings = plural(sum(1 for i in issues if i.severity == "warning"), "warning")
    return f"{plural(n_err, 'error')}, {warnings}" if errors else warnings


@app.command()
def schema() -> None:
    """Print the JSON Schema of the configuration file (for editors and CI checks)."""
    from provisioning.config import json_schema

    sys.stdout.write(json.dumps(json_schema(), indent=2) + "\n")


@app.command()
def init(
    config: ConfigOpt = Path("xtenant.yaml"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented starter configuration."""
    from provisioning.config import starter_yaml

    printer = Printer()
    if config.exists() and not force:
        fail(printer, f"{config} exists; use --force to overwrite it")
    config.write_text(starter_yaml())
    printer.summary(f"wrote {config}; edit it, then run: xtenant validate -c {config}", ok=True)
