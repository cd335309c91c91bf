"""``xtenant demo``: a sandbox Azure and the chain on it, end to end, in one command.

The demo is the one place besides ``xtenant sandbox`` allowed to start the sandbox; every
step after that talks to it as to any cloud, through the cloud file it writes.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import exitcodes
from .output import Printer


def run_demo(printer: Printer, *, state: Path, config: Path, cloud: str | None) -> int:
    from .sandbox import Sandbox

    printer.line(f"== starting the sandbox (state in {state})")
    sb = Sandbox.start(state, seed="demo")
    try:
        info = sb.info
        printer.kv("authority", info["authority"])
        printer.kv("arm", info["arm"])
        printer.kv("graph", info["graph"])
        for name, t in info["tenants"].items():
            sub = t["subscription_id"] or "no subscription (Microsoft 365 only)"
            printer.kv(f"tenant {name}", f"{t['tenant_id']} {t['domain']}, {sub}")
        for name, h in info["hosts"].items():
            printer.kv(f"host {name}", f"{h['kind']}  {h['resource_id']}")
        os.environ.update(sb.env())  # CA bundle + the sandbox cloud, as `sandbox env` exports

        printer.line("")
        printer.line(f"== validating {config} against the sandbox cloud")
        from .config import ConfigError, load_config

        try:
            loaded = load_config(config)
        except ConfigError as exc:
            for issue in exc.issues:
                printer.issue(issue)
            return exitcodes.ERROR
        c = loaded.config
        printer.line(
            f"valid: {len(c.home.identities)} identities, {len(c.home.apps)} apps, "
            f"{len(c.customers)} customers"
        )

        printer.line("")
        printer.line(
            "== a managed-identity token on host aa-runbooks (claims only, signature removed)"
        )
        _show_mi_claims(printer, sb.env(host="aa-runbooks"))
        printer.line("")
        printer.line(
            "The home engine (plan/apply), the customer kit and verify build the rest of "
            "the chain on this sandbox as they land (see the README)."
        )
        return exitcodes.OK
    finally:
        sb.stop()


def _show_mi_claims(printer: Printer, env: dict[str, str]) -> None:
    from azure.identity import ManagedIdentityCredential

    from .chain.claims import summary

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        cred = ManagedIdentityCredential()
        token = cred.get_token("api://AzureADTokenExchange/.default").token
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for k, v in summary(token).items():
        printer.kv(f"  {k}", str(v))
