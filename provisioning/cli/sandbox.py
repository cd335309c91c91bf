"""``sandbox up|stop|env|info`` and ``demo``: the local Azure, the only commands that may
start it (every other command talks to it as to any cloud)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from provisioning.cli.common import (
    STATE,
    ConfigOpt,
    Fmt,
    OutputOpt,
    StateOpt,
    fail,
    sandbox_info,
)
from provisioning.cli.output import Printer

app = typer.Typer()
sandbox_app = typer.Typer(
    help="The local Azure for tests, demos and rehearsals.", no_args_is_help=True
)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("up")
def sandbox_up(
    state: StateOpt = Path(".sandbox"),
    seed: Annotated[
        str,
        typer.Option("--seed", metavar="[demo|empty]", help="World to seed a new state with."),
    ] = "demo",
    port: Annotated[
        int,
        typer.Option("--port", metavar="N", help="First of 5 consecutive ports; 0 = any free."),
    ] = 0,
    reset: Annotated[bool, typer.Option("--reset", help="Discard the saved state first.")] = False,
) -> None:
    """Run the sandbox in the foreground; writes STATE/sandbox.json once listening."""
    if seed not in ("demo", "empty"):
        fail(Printer(), f"--seed: expected demo or empty, got {seed!r}")
    from provisioning.sandbox.__main__ import main as sandbox_main

    args = ["up", "--state", str(state), "--seed", seed, "--port", str(port)]
    raise typer.Exit(sandbox_main([*args, "--reset"] if reset else args))


@sandbox_app.command("stop")
def sandbox_stop(
    state: StateOpt = Path(".sandbox"),
    timeout: Annotated[
        float, typer.Option("--timeout", metavar="SECONDS", help="How long to wait for it to end.")
    ] = 10.0,
) -> None:
    """End the sandbox that `sandbox up` runs on STATE; its state is kept for the next `up`."""
    import signal

    from provisioning.sandbox.lifecycle import is_sandbox_up

    printer = Printer()
    pid = sandbox_info(printer, state).get("pid")
    if not isinstance(pid, int) or not is_sandbox_up(pid):
        printer.summary(f"no sandbox is running on {state}", ok=True)
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while is_sandbox_up(pid):
        if time.monotonic() > deadline:
            fail(printer, f"the sandbox (pid {pid}) did not stop within {timeout:g} s")
        time.sleep(0.1)
    printer.summary(f"stopped the sandbox on {state} (pid {pid})", ok=True)


@sandbox_app.command("info")
def sandbox_info_cmd(state: StateOpt = Path(".sandbox"), output: OutputOpt = Fmt.json) -> None:
    """Print STATE/sandbox.json (endpoints, tenants, admins, hosts)."""
    printer = Printer()
    info = sandbox_info(printer, state)
    if output is Fmt.json:
        printer.json(info)
        return
    printer.kv("authority", info["authority"])
    printer.kv("arm", info["arm"])
    printer.kv("graph", info["graph"])
    for name, t in info["tenants"].items():
        printer.kv(f"tenant {name}", f"{t['tenant_id']} ({t['domain']})")
    for name, h in info["hosts"].items():
        printer.kv(f"host {name}", f"{h['kind']} {h['resource_id']}")


@sandbox_app.command("env")
def sandbox_env(
    state: StateOpt = Path(".sandbox"),
    as_host: Annotated[
        str | None, typer.Option("--as", metavar="HOST", help="Act as this sandbox host.")
    ] = None,
    admin: Annotated[
        str | None,
        typer.Option("--admin", metavar="TENANT", help="Act as this tenant's admin."),
    ] = None,
) -> None:
    """Shell exports that point Azure clients (and xtenant) at the sandbox."""
    import shlex

    from provisioning.sandbox.envvars import env_vars

    printer = Printer()
    info = sandbox_info(printer, state)
    if as_host and as_host not in info["hosts"]:
        fail(printer, f"--as: no host {as_host!r}; hosts: {', '.join(info['hosts'])}")
    if admin and admin not in info["tenants"]:
        fail(printer, f"--admin: no tenant {admin!r}; tenants: {', '.join(info['tenants'])}")
    for k, v in env_vars(info, as_host, admin).items():
        sys.stdout.write(f"export {k}={shlex.quote(v)}\n")


@app.command()
def demo(
    state: StateOpt = Path(".sandbox-demo"),
    config: ConfigOpt = Path("examples/sandbox-dir.yaml"),
) -> None:
    """Start a sandbox, validate the demo configuration, and show what the chain will use."""
    from provisioning.cli.demo import run_demo

    raise typer.Exit(run_demo(Printer(), state=state, config=config, cloud=STATE.cloud))
