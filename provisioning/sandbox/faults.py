"""Injected faults and the request log: how tests make the sandbox misbehave the way
Azure does (latency, 429 + Retry-After, transient 5xx, a response lost after the write
committed) and count what a client really sent."""

from __future__ import annotations

import itertools
import random
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("latency", "throttle", "error", "lose_response")


@dataclass
class Fault:
    kind: str  # one of FAULT_KINDS
    service: str = "*"  # entra | arm | graph | monitor | identity | *
    method: str = "*"  # regex on the HTTP method, e.g. "PUT|PATCH"
    path: str = ".*"  # regex searched in the path, case-insensitive
    probability: float = 1.0
    count: int | None = None  # remaining triggers; None = unlimited
    latency_ms: int = 0
    status: int = 503  # for "error"
    code: str | None = None  # for "error": the error code (else the status's usual one)
    retry_after: int = 1  # seconds, for "throttle"
    per_path: bool = False  # fire at most once for each distinct method + path
    id: int = 0
    fired: int = 0
    seen: list[str] = field(default_factory=list)

    def matches(self, service: str, method: str, path: str) -> bool:
        if self.count is not None and self.count <= 0:
            return False
        if self.service not in ("*", service):
            return False
        if self.method != "*" and not re.fullmatch(self.method, method, re.IGNORECASE):
            return False
        return re.search(self.path, path, re.IGNORECASE) is not None


class Faults:
    def __init__(self, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[Fault] = []
        self._ids = itertools.count(1)
        self._rng = random.Random(seed)

    def add(self, **spec: Any) -> Fault:
        if spec.get("kind") not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAULT_KINDS)}")
        known = set(Fault.__dataclass_fields__) - {"id", "fired", "seen"}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        f = Fault(**spec)
        re.compile(f.path)
        f.id = next(self._ids)
        with self._lock:
            self._rules.append(f)
        return f

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._rules]

    def pick(self, service: str, method: str, path: str) -> list[Fault]:
        """The faults that fire for this request (each consumes one of its count)."""
        fired = []
        with self._lock:
            for f in self._rules:
                key = f"{method} {path.lower()}"
                if f.per_path and key in f.seen:
                    continue
                if f.matches(service, method, path) and self._rng.random() < f.probability:
                    if f.count is not None:
                        f.count -= 1
                    if f.per_path:
                        f.seen.append(key)
                    f.fired += 1
                    fired.append(f)
        return fired


@dataclass
class Entry:
    seq: int
    time: float
    service: str
    method: str
    path: str
    query: str
    status: int
    kind: str  # read | write | token
    tenant: str | None = None
    caller: str | None = None
    fault: str | None = None
    ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


class RequestLog:
    def __init__(self, limit: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._seq = itertools.count(1)
        self._limit = limit

    def record(self, **kw: Any) -> Entry:
        with self._lock:
            e = Entry(seq=next(self._seq), time=time.time(), **kw)
            self._entries.append(e)
            if len(self._entries) > self._limit:
                del self._entries[: len(self._entries) - self._limit]
            return e

    def entries(self, since: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(e) for e in self._entries if e.seq > since]

    def last_seq(self) -> int:
        with self._lock:
            return self._entries[-1].seq if self._entries else 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def stats(self, since: int = 0) -> dict[str, Any]:
        out: dict[str, Any] = {"total": 0, "read": 0, "write": 0, "token": 0, "by_service": {}}
        for e in self.entries(since):
            out["total"] += 1
            out[e["kind"]] = out.get(e["kind"], 0) + 1
            svc = out["by_service"].setdefault(e["service"], {"read": 0, "write": 0, "token": 0})
            svc[e["kind"]] = svc.get(e["kind"], 0) + 1
        return out
