"""The sandbox's whole state and the models over it.

``World`` is what every service's responses layer gets: the store, the clock, the
signing keys, the settings tests can change (propagation delays, clock offset), and one
model per service. Models talk to each other only through ``World``.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from .faults import Faults, RequestLog
from .store import Doc, Store
from .tokens import Signer


@dataclass
class Urls:
    """Where each service listens (filled in once the sockets are bound)."""

    authority: str = ""  # https, Entra (token, discovery, admin consent)
    arm: str = ""  # https, ARM
    graph: str = ""  # https, Graph (v1.0 at {graph}/v1.0)
    monitor: str = ""  # https, Logs Ingestion (data collection endpoints)
    identity: str = ""  # http, managed-identity endpoints, one path prefix per host

    @property
    def control(self) -> str:
        return f"{self.authority}/_sandbox"


@dataclass
class Settings:
    """Behaviour knobs a test or rehearsal may change at run time (control API)."""

    replication_delay_s: float = 0.0  # a new principal stays invisible to ARM this long
    fic_propagation_s: float = 0.0  # a new/changed FIC is not honoured this long
    # a new role assignment is listed at once but enforced only this long after it was made
    # (Azure RBAC: "up to 10 minutes"; Azure Monitor data plane: "up to 30 minutes")
    rbac_propagation_s: float = 0.0
    rbac_data_propagation_s: float | None = None  # data actions; None: rbac_propagation_s
    clock_offset_s: float = 0.0  # moves the sandbox clock (expired assertions, skew)
    # how many polls an ARM long-running operation takes: InProgress for lro_polls - 1 polls
    # (with Retry-After), then Succeeded. Real operations take several.
    lro_polls: int = 3
    lro_retry_after_s: int = 1  # Retry-After on a running operation (ARM's RPC: >= 10 s; see docs)
    page_size: int = 0  # >0: every ARM and Graph list answers at most this many items a page
    token_lifetime_s: int = 3599
    # where the Arc identity endpoint writes its challenge key files ("": the agent's own
    # directory, /var/opt/azcmagent/tokens, when it exists and is writable, else
    # <state>/azcmagent/tokens; azure-identity reads keys only from the agent's directory)
    arc_key_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class Tenants:
    """Directory tenants, addressable by GUID or by any of their domains."""

    COLL = "tenants"

    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self,
        name: str,
        *,
        tenant_id: str | None = None,
        domain: str | None = None,
        display_name: str | None = None,
    ) -> Doc:
        tid = tenant_id or str(uuid.uuid4())
        doc = {
            "id": tid,
            "name": name,
            "displayName": display_name or name.capitalize(),
            "domain": domain or f"{name}.onmicrosoft.com",
            "verifiedDomains": [domain or f"{name}.onmicrosoft.com"],
        }
        return self.store.put(self.COLL, tid, doc)

    def get(self, ref: str | None) -> Doc | None:
        """By GUID, verified domain or short name (case-insensitive)."""
        if not ref:
            return None
        doc = self.store.get(self.COLL, ref.lower())
        if doc:
            return doc
        low = ref.lower()
        return self.store.first(
            self.COLL,
            lambda d: low == d["name"].lower() or low in (x.lower() for x in d["verifiedDomains"]),
        )

    def all(self) -> list[Doc]:
        return self.store.all(self.COLL)

    def update(self, doc: Doc) -> Doc:
        return self.store.put(self.COLL, doc["id"], doc)


class World:
    def __init__(self, state_dir: Path | None) -> None:
        self.state_dir = state_dir
        if state_dir:
            # 0700: the state holds the token-signing key and every admin's secret
            state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.store = Store(state_dir / "state.sqlite" if state_dir else None)
        self.lock = threading.RLock()
        self.signer = Signer(self.store)
        self.urls = Urls()
        known = {f.name for f in fields(Settings)}
        saved = self.store.get("meta", "settings") or {}
        self.settings = Settings(**{k: v for k, v in saved.items() if k in known})
        self.faults = Faults()
        self.log = RequestLog()
        self.tenants = Tenants(self.store)
        self.hosts: dict[str, dict[str, Any]] = {}  # filled by the identity service
        # called when what sandbox.json lists (tenants, hosts) changes; the server rewrites it
        self.on_info_change: Callable[[], Any] = lambda: None
        # one model per service; imported here so each package stays self-contained
        from .arm.models import Arm
        from .entra.models import Entra
        from .graph.models import Directory
        from .monitor.models import Monitor

        self.directory = Directory(self)
        self.arm = Arm(self)
        self.entra = Entra(self)
        self.monitor = Monitor(self)

    def now(self) -> float:
        return time.time() + self.settings.clock_offset_s

    def save_settings(self) -> None:
        self.store.put("meta", "settings", asdict(self.settings))

    def reset(self) -> None:
        """Forget every object (keys survive: clients may hold tokens)."""
        keys = self.store.get("keys", "signing")
        self.store.clear()
        if keys:
            self.store.put("keys", "signing", keys)
        self.settings = Settings()
        self.faults.clear()
        self.log.clear()
