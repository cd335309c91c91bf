"""``python -m provisioning.sandbox up|info|env|routes``: the sandbox on its own, without the
product. ``routes [service]`` prints the routing tables: which handler serves which path."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from .envvars import env_vars


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m provisioning.sandbox")
    sub = p.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up")
    up.add_argument("--state", default=".sandbox")
    up.add_argument("--seed", choices=("demo", "empty"), default="demo")
    up.add_argument("--port", type=int, default=0)
    up.add_argument("--reset", action="store_true")
    info = sub.add_parser("info")
    info.add_argument("--state", default=".sandbox")
    env = sub.add_parser("env")
    env.add_argument("--state", default=".sandbox")
    env.add_argument("--as", dest="host")
    env.add_argument("--admin")
    routes = sub.add_parser("routes")
    routes.add_argument(
        "service", nargs="?", choices=("entra", "arm", "graph", "identity", "monitor")
    )
    a = p.parse_args(argv)
    if a.cmd == "routes":
        from .app import route_table

        for service, method, path, handler in route_table(a.service):
            print(f"{service:<9} {method:<7} {path:<90} {handler}")
        return 0
    if a.cmd == "up":
        from .lifecycle import running_pid
        from .server import PortTaken, Server

        pid = running_pid(Path(a.state))
        if pid is not None:
            print(
                f"error: a sandbox is already running on {a.state} (pid {pid}); "
                f"stop it with `xtenant sandbox stop --state {a.state}`",
                file=sys.stderr,
            )
            return 1
        try:
            server = Server(Path(a.state), seed=a.seed, port=a.port, reset=a.reset)
        except PortTaken as e:
            print(f"error: {e}", file=sys.stderr)
            return 1
        print(
            f"sandbox state in {server.state_dir}; Entra at {server.world.urls.authority}",
            file=sys.stderr,
            flush=True,
        )
        server.run_foreground()
        return 0
    info_data = json.loads((Path(a.state) / "sandbox.json").read_text())
    if a.cmd == "info":
        print(json.dumps(info_data, indent=2))
        return 0
    for k, v in env_vars(info_data, a.host, a.admin).items():
        print(f"export {k}={shlex.quote(v)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
