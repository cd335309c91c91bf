"""Graph's path grammar and how ``urls.py``'s table is matched.

A path below ``/v1.0`` is a list of segments (a ``{key}:/{path}[:]`` run is one segment:
path-based addressing); a segment may carry keys in parentheses
(``applications(appId='...')``, ``organization('id')``). In a route, ``{name}`` is an entity
key, given either as the next segment (``applications/{id}``) or in parentheses on the
collection segment (``applications(appId='...')``); handlers read it as a :class:`Key`. Segment
names match case-insensitively, ``$`` segments (``$count``, ``$ref``, ``$batch``) exactly, and
a ``$`` segment is never a key.

The first route whose path matches and whose method is the request's serves it; a path that
matches only with other methods is a 405; a path no route matches is a 400 naming the first
segment that matched nothing. Both come before any lookup: Graph parses the URL first (its
"Resource not found for the segment" is raised by the request broker's URI parser,
``RequestBroker--ParseUri``, microsoftgraph/microsoft-graph-docs-contrib#6427).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .exceptions import GraphError, bad_segment, method_not_allowed


@dataclass
class Seg:
    name: str
    keys: dict[str, str] | None = None  # name(key='v') -> {"key": "v"}; name('v') -> {"": "v"}
    raw: str = ""


_KEYPART = re.compile(r"\s*(?:(\w+)\s*=\s*)?'((?:[^']|'')*)'\s*(?:,|$)")


def parse_path(path: str) -> list[Seg]:
    """Split on ``/`` outside quotes; parse ``name(key='value')`` alternate-key segments."""
    parts, buf, quoted = [], "", False
    for ch in path:
        if ch == "'":
            quoted = not quoted
        if ch == "/" and not quoted:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    segs = []
    for p in _path_addressed(parts):
        if not p:
            continue
        m = re.match(r"^([^()]+)\((.*)\)$", p, re.S)
        if not m:
            segs.append(Seg(p, None, p))
            continue
        inner, keys, pos = m.group(2), {}, 0
        while pos < len(inner):
            km = _KEYPART.match(inner, pos)
            if not km or km.end() == pos:
                raise GraphError(400, "BadRequest", f"Bad Request - Error in query syntax. '{p}'")
            keys[km.group(1) or ""] = km.group(2).replace("''", "'")
            pos = km.end()
        if not keys:
            unq = inner.strip()
            if not unq:
                raise bad_segment(p)
            keys[""] = unq
        segs.append(Seg(m.group(1), keys, p))
    return segs


def _path_addressed(parts: list[str]) -> list[str]:
    """Path-based addressing: ``sites/{hostname}:/{server-relative-path}`` (site-getbypath)
    and ``.../root:/{path}:/...`` name one item by a path, which is one key, not segments. A
    segment ending in ``:`` opens the path; it runs to the next segment ending in ``:`` (which
    closes it) or to the end."""
    out: list[str] = []
    i = 0
    while i < len(parts):
        p = parts[i]
        if p.endswith(":") and len(p) > 1 and i + 1 < len(parts) and parts[i + 1]:
            held = [p[:-1]]
            i += 1
            while i < len(parts):
                q = parts[i]
                i += 1
                if q.endswith(":"):
                    held.append(q[:-1])
                    break
                held.append(q)
            out.append(held[0] + ":/" + "/".join(held[1:]))
            continue
        out.append(p)
        i += 1
    return out


@dataclass
class Key:
    """An entity key from the path: ``/{value}`` (``segment``) or ``(name='value', ...)``."""

    values: dict[str, str]  # key name ("" when positional) -> value
    raw: str  # the segment as written, for error messages
    segment: bool

    @property
    def value(self) -> str:
        return next(iter(self.values.values()))

    def one(self, *names: str) -> tuple[str, str]:
        """(name, value) of a single key among ``names`` (lower-case; a positional key is
        ``id``); any other key is a segment Graph cannot resolve."""
        if len(self.values) != 1:
            raise bad_segment(self.raw)
        ((name, value),) = self.values.items()
        name = name.lower() or "id"
        if name not in names:
            raise bad_segment(self.raw)
        return name, value


@dataclass
class GraphRoute:
    method: str
    path: str
    handler: Callable[..., Any]
    parts: list[tuple[bool, str]]  # (is_key, name)

    @classmethod
    def of(cls, method: str, path: str, handler: Callable[..., Any]) -> GraphRoute:
        parts = [(True, p[1:-1]) if p.startswith("{") else (False, p) for p in path.split("/") if p]
        return cls(method, path, handler, parts)

    def bind(self, segs: list[Seg]) -> tuple[dict[str, Key] | None, int]:
        """(keys, depth): keys when the path matches; else how many segments matched."""
        keys: dict[str, Key] = {}
        i = j = 0
        while j < len(self.parts):
            is_key, name = self.parts[j]
            if i >= len(segs):
                return None, i
            seg = segs[i]
            if is_key:
                if seg.name.startswith("$"):
                    return None, i
                keys[name] = Key({"": seg.raw}, seg.raw, segment=True)
                i, j = i + 1, j + 1
                continue
            same = seg.name == name if name.startswith("$") else seg.name.lower() == name.lower()
            if not same:
                return None, i
            if seg.keys is not None:  # keys in parentheses: the route's next part must be a key
                if j + 1 >= len(self.parts) or not self.parts[j + 1][0]:
                    return None, i
                keys[self.parts[j + 1][1]] = Key(seg.keys, seg.raw, segment=False)
                j += 1
            i, j = i + 1, j + 1
        return (keys, i) if i == len(segs) else (None, i)


def match(
    routes: list[GraphRoute], method: str, segs: list[Seg]
) -> tuple[GraphRoute, dict[str, Key]]:
    known, depth = False, 0
    for r in routes:
        keys, d = r.bind(segs)
        if keys is None:
            depth = max(depth, d)
        elif r.method == method:
            return r, keys
        else:
            known = True
    if known:
        raise method_not_allowed()
    raise bad_segment(segs[min(depth, len(segs) - 1)].raw)
