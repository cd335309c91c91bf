"""The Python handle tests and benchmarks use: start, inspect, inject faults, stop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from .credentials import admin_credential, secret_credential
from .envvars import env_vars


class Sandbox:
    """A running sandbox, in this process (a thread) or as a child process."""

    def __init__(
        self,
        info: dict[str, Any],
        *,
        server: Any = None,
        process: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.info = info
        self._server = server
        self._process = process
        self._http = httpx.Client(verify=info["ca_bundle"], timeout=30)

    # ---- lifecycle ----------------------------------------------------------------------
    @classmethod
    def start(
        cls,
        state_dir: str | os.PathLike[str],
        *,
        seed: str = "demo",
        port: int = 0,
        reset: bool = False,
    ) -> Sandbox:
        from .server import Server

        server = Server(Path(state_dir), seed=seed, port=port, reset=reset)
        return cls(server.start_thread(), server=server)

    @classmethod
    def spawn(
        cls,
        state_dir: str | os.PathLike[str],
        *,
        seed: str = "demo",
        port: int = 0,
        timeout: float = 60,
    ) -> Sandbox:
        state = Path(state_dir)
        state.mkdir(mode=0o700, parents=True, exist_ok=True)  # it will hold keys and secrets
        info_file = state / "sandbox.json"
        info_file.unlink(missing_ok=True)
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "provisioning.sandbox",
                "up",
                "--state",
                str(state),
                "--seed",
                seed,
                "--port",
                str(port),
            ]
        )
        deadline = time.monotonic() + timeout
        while not info_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"sandbox did not start (exit {proc.returncode})")
            time.sleep(0.05)
        return cls(json.loads(info_file.read_text()), process=proc)

    def stop(self) -> None:
        self._http.close()
        if self._server is not None:
            self._server.stop()
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def world(self) -> Any:
        """The in-process model (only for white-box sandbox tests)."""
        if self._server is None:
            raise RuntimeError("world is only available for an in-process sandbox")
        return self._server.world

    # ---- environment --------------------------------------------------------------------
    def env(self, *, host: str | None = None, admin: str | None = None) -> dict[str, str]:
        """Variables that point unmodified Azure clients at this sandbox."""
        return env_vars(self.info, host, admin)

    def tenant(self, name: str) -> dict[str, Any]:
        return self.info["tenants"][name]

    # ---- credentials (azure-identity, public knobs only) --------------------------------
    def admin_credential(self, tenant: str, *, aio: bool = False) -> Any:
        """``tenant``'s sandbox admin as a ``ClientSecretCredential`` (async with ``aio``),
        pointed at this sandbox by its authority and CA bundle, without instance discovery."""
        return admin_credential(self.info, tenant, aio=aio)

    def secret_credential(
        self, tenant: str, client_id: str, client_secret: str, *, aio: bool = False
    ) -> Any:
        """Another app's client-secret credential in ``tenant`` (a name or a tenant id)."""
        return secret_credential(self.info, tenant, client_id, client_secret, aio=aio)

    # ---- control API --------------------------------------------------------------------
    def _ctl(self, method: str, path: str, **kw: Any) -> Any:
        r = self._http.request(method, f"{self.info['control']}/{path}", **kw)
        r.raise_for_status()
        return r.json() if r.content else None

    def requests(self, since: int = 0) -> list[dict[str, Any]]:
        return self._ctl("GET", "requests", params={"since": since})["requests"]

    def mark(self) -> int:
        """The sequence number of the last logged request: pass it as ``since``."""
        return self._ctl("GET", "requests", params={"since": 1 << 62})["last"]

    def stats(self, since: int = 0) -> dict[str, Any]:
        return self._ctl("GET", "stats", params={"since": since})

    def writes(self, since: int = 0) -> list[dict[str, Any]]:
        return [e for e in self.requests(since) if e["kind"] == "write"]

    def clear_log(self) -> None:
        self._ctl("DELETE", "requests")

    def fault(self, kind: str, **spec: Any) -> dict[str, Any]:
        return self._ctl("POST", "faults", json={"kind": kind, **spec})

    def clear_faults(self) -> None:
        self._ctl("DELETE", "faults")

    def settings(self, **kw: Any) -> dict[str, Any]:
        return self._ctl("PATCH", "settings", json=kw) if kw else self._ctl("GET", "settings")

    def ingested(self, stream: str | None = None) -> list[dict[str, Any]]:
        params = {"stream": stream} if stream else {}
        return self._ctl("GET", "ingested", params=params)["records"]

    def add_tenants(self, names: list[str], kind: str = "logs") -> list[str]:
        """More customer tenants (``logs``: subscription + DCE + DCR; ``m365``: sites)."""
        created = self._ctl("POST", "tenants", json={"names": names, "kind": kind})["created"]
        self.info = self._ctl("GET", "info")
        return created  # type: ignore[no-any-return]

    def add_host(self, kind: str, name: str, **spec: Any) -> dict[str, Any]:
        """A new host (``vm``, ``vmss``, ``automation``, ``appservice``, ``functionapp``,
        ``slot`` with ``site=``, ``containerapp``, ``arc``); ``system_assigned=True`` turns its
        system-assigned identity on. Returns it with the ``env`` of ``sandbox env --as``."""
        host = self._ctl("POST", "hosts", json={"kind": kind, "name": name, **spec})
        self.info = self._ctl("GET", "info")
        return host  # type: ignore[no-any-return]

    def reset(self, seed: str = "demo") -> None:
        self._ctl("POST", "reset", json={"seed": seed})
        self.info = self._ctl("GET", "info")
