"""Binding the sockets, serving (in the foreground or on a thread), and ``sandbox.json``."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any

import uvicorn

from . import certs
from .app import InjectedConnectionLoss, SandboxApp
from .world import World

SERVICES = ("entra", "arm", "graph", "monitor", "identity")  # port offsets 0..4
EXCHANGE_AUDIENCE = "api://AzureADTokenExchange"


class _QuietInjectedFaults(logging.Filter):
    """An injected lost response is a feature, not an error worth a traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, InjectedConnectionLoss):
            return False
        # clients that keep connections open at stop are normal for a test server
        return "timeout graceful shutdown exceeded" not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_QuietInjectedFaults())


def _bind(host: str, port: int) -> socket.socket:
    # proto=IPPROTO_TCP: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP;
    # without it every response written in two parts waits ~40 ms for a delayed ACK (Nagle)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(512)
    s.setblocking(False)
    return s


def build_info(world: World) -> dict[str, Any]:
    """The contents of ``sandbox.json`` (a contract: tools outside this repo read it)."""
    from .identity.responses import host_env

    state = world.state_dir
    tenants: dict[str, Any] = {}
    for t in sorted(world.tenants.all(), key=lambda d: d["name"]):
        tenants[t["name"]] = {
            "tenant_id": t["id"],
            "domain": t["domain"],
            "subscription_id": t.get("subscription_id"),
            "admin": t.get("admin"),
            "resources": t.get("resources", {}),
        }
    hosts = {
        h["name"]: {
            "kind": h["kind"],
            "resource_id": h["resource_id"],
            "tenant": h["tenant"],
            "env": host_env(world, h),
        }
        for h in world.arm.hosts()
    }
    return {
        "ca_bundle": str(state / "tls" / "ca-bundle.pem") if state else None,
        "cloud_file": str(state / "cloud.json") if state else None,
        "authority": world.urls.authority,
        "arm": world.urls.arm,
        "graph": world.urls.graph,
        "monitor": world.urls.monitor,
        "identity": world.urls.identity,
        "control": world.urls.control,
        "tenants": tenants,
        "hosts": hosts,
        "pid": os.getpid(),
    }


def cloud_profile(world: World) -> dict[str, Any]:
    """A custom cloud file: sandbox endpoints, production audiences."""
    return {
        "name": "sandbox",
        "authority": world.urls.authority,
        "arm": world.urls.arm,
        "graph": world.urls.graph,
        "exchange_audience": EXCHANGE_AUDIENCE,
        "arm_audience": "https://management.azure.com",
        "graph_audience": "https://graph.microsoft.com",
        "monitor_audience": "https://monitor.azure.com",
        # where this cloud's Logs Ingestion endpoints (its DCEs) live, as public Azure's
        # live under *.ingest.monitor.azure.com
        "logs_ingestion_domains": [world.urls.monitor],
        "ca_bundle": "tls/ca-bundle.pem",
    }


class Server:
    def __init__(
        self,
        state_dir: Path,
        *,
        seed: str = "demo",
        host: str = "127.0.0.1",
        port: int = 0,
        reset: bool = False,
    ) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.world = World(self.state_dir)
        if reset:
            self.world.reset()
        if not self.world.tenants.all():
            from .seed import seed as run_seed

            run_seed(self.world, seed)
        self.tls = certs.ensure(self.state_dir / "tls")
        self.app = SandboxApp(self.world)
        self.sockets = {}
        for i, name in enumerate(SERVICES):
            self.sockets[name] = _bind(host, port + i if port else 0)
        ports = {n: s.getsockname()[1] for n, s in self.sockets.items()}
        self.app.by_port = {p: n for n, p in ports.items()}
        base = f"https://{host}"
        u = self.world.urls
        u.authority, u.arm = f"{base}:{ports['entra']}", f"{base}:{ports['arm']}"
        u.graph, u.monitor = f"{base}:{ports['graph']}", f"{base}:{ports['monitor']}"
        u.identity = f"http://{host}:{ports['identity']}"
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.ready = threading.Event()

    # ---- files -----------------------------------------------------------------------------
    def write_files(self) -> dict[str, Any]:
        (self.state_dir / "cloud.json").write_text(json.dumps(cloud_profile(self.world), indent=2))
        info = build_info(self.world)
        tmp = self.state_dir / "sandbox.json.tmp"
        tmp.unlink(missing_ok=True)
        # 0600 from creation on: it lists the sandbox admins' client secrets
        fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(json.dumps(info, indent=2))
        tmp.replace(self.state_dir / "sandbox.json")
        return info

    # ---- serving ---------------------------------------------------------------------------
    async def serve(self) -> None:
        tls = uvicorn.Config(
            self.app,
            ssl_certfile=str(self.tls.server_cert),
            ssl_keyfile=str(self.tls.server_key),
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=1,
        )
        plain = uvicorn.Config(
            self.app,
            log_level="warning",
            lifespan="off",
            access_log=False,
            timeout_keep_alive=30,
            timeout_graceful_shutdown=1,
        )
        https_socks = [self.sockets[n] for n in SERVICES if n != "identity"]
        self._servers = [uvicorn.Server(tls), uvicorn.Server(plain)]
        for s in self._servers:
            s.install_signal_handlers = lambda: None  # type: ignore[method-assign]
        tasks = [
            asyncio.create_task(self._servers[0].serve(sockets=https_socks)),
            asyncio.create_task(self._servers[1].serve(sockets=[self.sockets["identity"]])),
        ]
        while not all(s.started for s in self._servers):
            if any(t.done() for t in tasks):
                break
            await asyncio.sleep(0.01)
        self.write_files()
        self.world.on_change = self.write_files
        self.ready.set()
        await asyncio.gather(*tasks)

    def start_thread(self) -> dict[str, Any]:
        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.serve())

        self._thread = threading.Thread(target=run, name="xtenant-sandbox", daemon=True)
        self._thread.start()
        if not self.ready.wait(30):
            raise RuntimeError("sandbox did not start within 30 s")
        return json.loads((self.state_dir / "sandbox.json").read_text())

    def run_foreground(self) -> None:
        import signal

        loop = asyncio.new_event_loop()
        self._loop = loop

        def stop(*_: Any) -> None:
            for s in self._servers:
                s.should_exit = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            loop.run_until_complete(self.serve())
        finally:
            self.world.store.close()

    def stop(self) -> None:
        for s in self._servers:
            s.should_exit = True
        if self._thread:
            self._thread.join(10)
        self.world.store.close()
