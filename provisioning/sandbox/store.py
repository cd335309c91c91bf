"""Persistent state: JSON documents in SQLite, mirrored in memory.

Every service model keeps its objects here, one *collection* per kind, so a rehearsal
survives a restart. Reads come from memory; each write goes through to SQLite.
"""

from __future__ import annotations

import copy
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

Doc = dict[str, Any]


def private(path: Path) -> None:
    """Create ``path`` (if missing) readable by its owner only, and make it so if it was
    not: the database holds the token-signing private key and the admins' secrets. SQLite
    creates its -wal and -shm files with the database file's mode (its unix VFS copies it);
    older ones are tightened here too."""
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    for f in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if f.exists():
            f.chmod(0o600)


class Store:
    def __init__(self, path: Path | None) -> None:
        self._lock = threading.RLock()
        if path:
            private(path)
        self._db = sqlite3.connect(str(path) if path else ":memory:", check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS docs (coll TEXT, key TEXT, doc TEXT, PRIMARY KEY (coll, key))"
        )
        self._db.commit()
        self._mem: dict[str, dict[str, Doc]] = {}
        for coll, key, doc in self._db.execute("SELECT coll, key, doc FROM docs ORDER BY rowid"):
            self._mem.setdefault(coll, {})[key] = json.loads(doc)

    # reads hand out copies so callers can never mutate state without put()
    def get(self, coll: str, key: str) -> Doc | None:
        doc = self._mem.get(coll, {}).get(key)
        return copy.deepcopy(doc) if doc is not None else None

    def has(self, coll: str, key: str) -> bool:
        return key in self._mem.get(coll, {})

    def all(self, coll: str) -> list[Doc]:
        return [copy.deepcopy(d) for d in self._mem.get(coll, {}).values()]

    def items(self, coll: str) -> Iterator[tuple[str, Doc]]:
        for k, d in list(self._mem.get(coll, {}).items()):
            yield k, copy.deepcopy(d)

    def find(self, coll: str, pred: Callable[[Doc], bool]) -> list[Doc]:
        return [copy.deepcopy(d) for d in self._mem.get(coll, {}).values() if pred(d)]

    def first(self, coll: str, pred: Callable[[Doc], bool]) -> Doc | None:
        for d in self._mem.get(coll, {}).values():
            if pred(d):
                return copy.deepcopy(d)
        return None

    def put(self, coll: str, key: str, doc: Doc) -> Doc:
        with self._lock:
            self._mem.setdefault(coll, {})[key] = copy.deepcopy(doc)
            self._db.execute(
                "INSERT OR REPLACE INTO docs (coll, key, doc) VALUES (?, ?, ?)",
                (coll, key, json.dumps(doc)),
            )
            self._db.commit()
        return doc

    def delete(self, coll: str, key: str) -> bool:
        with self._lock:
            existed = self._mem.get(coll, {}).pop(key, None) is not None
            self._db.execute("DELETE FROM docs WHERE coll = ? AND key = ?", (coll, key))
            self._db.commit()
        return existed

    def clear(self) -> None:
        with self._lock:
            self._mem.clear()
            self._db.execute("DELETE FROM docs")
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()
