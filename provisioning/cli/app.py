"""The ``xtenant`` command line: the typer app, the global options and ``main``.

The commands live one module per group (``config``, ``home``, ``kit``, ``customer``,
``verify``, ``reconcile``, ``ci``, ``sandbox``); what they share is in ``common``. The
global options work before and after the command (``xtenant -v plan`` and ``xtenant plan
-v``), as az and git users expect: each command also accepts them and applies them just
before it runs.

Start-up cost matters (CI runs it hundreds of times): no Azure SDK, msgraph or rich is
imported at module level, and help is formatted by click's plain formatter.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Annotated, Any

import typer

from provisioning.cli import ci, config, customer, home, kit, reconcile, sandbox, verify
from provisioning.cli.common import STATE

app = typer.Typer(
    name="xtenant",
    help="Secret-less cross-tenant identity chains on Microsoft Entra / Azure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_CLOUD_HELP = "public, usgov, china or a cloud JSON file (overrides the config's cloud)."
_VERBOSE_HELP = "Say what xtenant is doing: observing, applying, waiting (-vv: more)."
_DEBUG_HELP = "Also log the SDKs' HTTP requests and responses (secrets redacted)."

# Loggers of the SDKs under xtenant: shown only with --debug. They log failed token
# requests as warnings, which xtenant reports (and diagnoses) itself.
SDK_LOGGERS = ("azure", "msal", "httpx", "httpcore", "kiota_http", "kiota_abstractions", "urllib3")


def configure_logging(verbose: int, debug: bool) -> None:
    """-v: xtenant's own steps at INFO; -vv: DEBUG; --debug: the SDKs' HTTP logs too."""
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    own = logging.DEBUG if debug or verbose > 1 else logging.INFO if verbose else logging.WARNING
    logging.getLogger("xtenant").setLevel(own)
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if debug else logging.CRITICAL)


@app.callback()
def _global(
    cloud: Annotated[
        str | None,
        typer.Option("--cloud", envvar="XTENANT_CLOUD", metavar="CLOUD", help=_CLOUD_HELP),
    ] = None,
    verbose: Annotated[
        int,
        typer.Option("-v", "--verbose", count=True, show_default=False, help=_VERBOSE_HELP),
    ] = 0,
    debug: Annotated[bool, typer.Option("--debug", help=_DEBUG_HELP)] = False,
) -> None:
    STATE.cloud, STATE.verbose, STATE.debug = cloud, verbose, debug


# The same options, accepted after the command too (the environment variable is read once,
# by the group, so that an explicit --cloud after the command wins over it).
_AFTER = [
    inspect.Parameter(
        "global_cloud",
        inspect.Parameter.KEYWORD_ONLY,
        default=None,
        annotation=Annotated[
            str | None, typer.Option("--cloud", metavar="CLOUD", help=_CLOUD_HELP)
        ],
    ),
    inspect.Parameter(
        "global_verbose",
        inspect.Parameter.KEYWORD_ONLY,
        default=0,
        annotation=Annotated[
            int,
            typer.Option("-v", "--verbose", count=True, show_default=False, help=_VERBOSE_HELP),
        ],
    ),
    inspect.Parameter(
        "global_debug",
        inspect.Parameter.KEYWORD_ONLY,
        default=False,
        annotation=Annotated[bool, typer.Option("--debug", help=_DEBUG_HELP)],
    ),
]


def with_global_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` with the global options added to its parameters; they are folded into
    ``STATE`` (and logging set up) before ``fn`` runs."""
    sig = inspect.signature(fn, eval_str=True)

    @functools.wraps(fn)
    def run(
        *args: Any,
        global_cloud: str | None = None,
        global_verbose: int = 0,
        global_debug: bool = False,
        **kwargs: Any,
    ) -> Any:
        if global_cloud is not None:
            STATE.cloud = global_cloud
        STATE.verbose += global_verbose
        STATE.debug = STATE.debug or global_debug
        configure_logging(STATE.verbose, STATE.debug)
        return fn(*args, **kwargs)

    params = [*sig.parameters.values(), *_AFTER]
    run.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params}
    del run.__wrapped__  # typer reads the new signature, not fn's
    return run


def _add_global_options(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        if info.callback is not None:
            info.callback = with_global_options(info.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _add_global_options(group.typer_instance)


# In the order `xtenant --help` lists them: configuration, home side, kits, customer side,
# verification, CI, sandbox.
for _module in (config, home, kit, customer, verify, reconcile, ci, sandbox):
    _add_global_options(_module.app)
    app.add_typer(_module.app)


def main() -> None:
    from provisioning.core.errors import XtenantError

    try:
        app()
    except XtenantError as exc:  # one line: where, what happened, what to do; no traceback
        from provisioning.cli.output import Printer

        Printer().error(str(exc))
        sys.exit(1)  # exitcodes.ERROR (not imported: start-up cost)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
