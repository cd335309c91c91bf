"""What the command modules share: the global state, option types and small helpers.

Importing this must stay cheap (``--help`` and ``validate`` are timed): typer, pathlib and
the printer only; the library is imported inside the helpers that need it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperCommand

from provisioning.cli import exitcodes
from provisioning.cli.output import Printer

if TYPE_CHECKING:
    from provisioning.config import Loaded
    from provisioning.core.clouds import Cloud
    from provisioning.core.engine import Outcome


@dataclass
class State:
    """The global options, wherever on the command line they were given."""

    cloud: str | None = None
    verbose: int = 0
    debug: bool = False


STATE = State()


class Fmt(StrEnum):
    table = "table"
    json = "json"


class PlanFmt(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


ConfigOpt = Annotated[
    Path,
    typer.Option(
        "-c",
        "--config",
        envvar="XTENANT_CONFIG",
        metavar="FILE",
        help="Configuration file (YAML).",
    ),
]
OutputOpt = Annotated[
    Fmt, typer.Option("-o", "--output", metavar="[table|json]", help="Output format.")
]
PlanOutputOpt = Annotated[
    PlanFmt,
    typer.Option(
        "-o",
        "--output",
        metavar="[table|json|markdown]",
        help="Output format (markdown: for a pull-request comment).",
    ),
]
DetailedOpt = Annotated[
    bool, typer.Option("--detailed-exitcode", help="Exit 2 when changes are pending.")
]
YesOpt = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")]
PruneOpt = Annotated[
    bool,
    typer.Option(
        "--prune", help="Also remove what xtenant manages but the config no longer lists."
    ),
]
CustomerOpt = Annotated[
    list[str] | None,
    typer.Option("--customer", metavar="NAME", help="Limit to this customer (repeatable)."),
]
KitsOpt = Annotated[
    Path,
    typer.Option("--kits", metavar="DIR", help="Kits folder (the record of who is onboarded)."),
]
StateOpt = Annotated[Path, typer.Option("--state", metavar="DIR", help="Sandbox state directory.")]


class Command(TyperCommand):
    """A command whose arguments show as their metavar (``KIND``, ``[REPORT]...``), the way
    git and az write them, instead of typer's ``{kind}`` and ``<str>``."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        args = [p.metavar or p.name or "" for p in self.get_params(ctx) if _is_argument(p)]
        return [self.options_metavar or "", *args]

    def format_options(self, ctx: Any, formatter: Any) -> None:
        args = [
            (p.metavar or p.name or "", getattr(p, "help", "") or "")
            for p in self.get_params(ctx)
            if _is_argument(p)
        ]
        opts = [
            rv
            for p in self.get_params(ctx)
            if not _is_argument(p) and (rv := p.get_help_record(ctx)) is not None
        ]
        if args:
            with formatter.section("Arguments"):
                formatter.write_dl(args)
        if opts:
            with formatter.section("Options"):
                formatter.write_dl(opts)


def _is_argument(param: Any) -> bool:
    return bool(param.param_type_name == "argument")


def fail(printer: Printer, message: str, code: int = exitcodes.ERROR) -> NoReturn:
    """One line on stderr, then exit (1 unless said otherwise): no traceback."""
    printer.error(message)
    raise typer.Exit(code)


def load(printer: Printer, config: Path) -> tuple[Loaded, Cloud]:
    """Config + cloud, or exit 1 with every problem listed (no request is sent)."""
    from provisioning.config import ConfigError, load_config
    from provisioning.core.clouds import CloudError
    from provisioning.core.runner import resolve_cloud

    try:
        loaded = load_config(config)
        return loaded, resolve_cloud(loaded, STATE.cloud)
    except ConfigError as exc:
        for issue in exc.issues:
            printer.issue(issue)
        raise typer.Exit(exitcodes.ERROR) from None
    except CloudError as exc:
        fail(printer, f"--cloud: {exc}")


def progress(printer: Printer) -> Callable[[str, str], None]:
    """A transient status line on a terminal. With -v the library's log lines say the same
    thing, so the status line stays off."""
    if not printer.tty or STATE.verbose or STATE.debug:
        return lambda address, message: None
    return lambda address, message: printer.progress(f"{message} {address}")


def report_failures(printer: Printer, outcome: Outcome) -> None:
    for f in outcome.failures:
        printer.error(f"{f.address}: {f.message}")


def sandbox_info(printer: Printer, state: Path) -> dict[str, Any]:
    """STATE/sandbox.json, or exit 1 saying how to start the sandbox."""
    f = state / "sandbox.json"
    if not f.exists():
        fail(printer, f"{f} not found: start it with `xtenant sandbox up --state {state}`")
    info: dict[str, Any] = json.loads(f.read_text())
    return info
