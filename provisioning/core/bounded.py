"""Reading input from the other party within bounds: regular files only, a size limit, a
nesting limit. A config from a pull request or a kit from another company must not be a way
to exhaust the machine that reads it (CI runs ``validate`` on every pull request)."""

from __future__ import annotations

import functools
import json
import os
import stat
from pathlib import Path
from typing import Any

MAX_FILE_BYTES = 4 * 1024 * 1024
"""No configuration, customer file, kit or report xtenant writes comes near 4 MiB (a
5,000-customer config is ~1.5 MiB); anything larger is refused before it is parsed."""

MAX_DEPTH = 64
"""Nesting deeper than this is refused: xtenant's own documents nest at most ~8 levels."""

MAX_YAML_VALUES = 250_000
"""Values (scalars and collections) one YAML document may hold once its aliases are
expanded. A 5,000-customer config holds ~60,000; 250,000 is ~20,000 customers in one file
(more belong in ``customers_dir``, whose files are counted one by one). Aliases (``&a`` /
``*a``, ``<<: *defaults``) stay allowed — they are how a long customer list shares its
role lists — but each one counts as the whole value it repeats, so a "billion laughs" of
nested aliases is refused after 250,000 values instead of growing past memory. Parsing in
pure Python is also the slowest step: the limit caps it at a few seconds."""

MAX_CONFIG_VALUES = 1_000_000
"""Values a configuration and all its ``customers_dir`` files may hold together (~65,000
customers): each file is bounded on its own, this bounds the folder of files too."""

MAX_REPORT_BYTES = 32 * 1024 * 1024
"""A reconcile report is ~400 bytes per customer: 32 MiB is ~80,000 customers per shard."""


class InputError(ValueError):
    """Input refused before parsing; the message names the file and the limit."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def read_text(path: str | os.PathLike[str], *, limit: int = MAX_FILE_BYTES) -> str:
    """The content of a regular file of at most ``limit`` bytes, as UTF-8 text.

    FIFOs, devices (``/dev/zero``) and directories are refused without reading from them
    (``O_NONBLOCK`` so that opening a FIFO cannot hang), and at most ``limit + 1`` bytes
    are read, so a file that grows while read cannot get past the limit either. Messages
    do not repeat the path: callers put it in front (an Issue's file).
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        if p.is_symlink():
            raise InputError("broken symbolic link (its target does not exist)") from None
        raise InputError("file not found") from None
    except OSError as exc:
        raise InputError(f"{exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"not a regular file ({_kind(st.st_mode)})")
        if st.st_size > limit:
            raise InputError(f"{st.st_size} bytes is over the limit of {limit} bytes")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputError(f"over the limit of {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})") from None


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def check_depth(text: str, *, limit: int = MAX_DEPTH) -> None:
    """Refuse JSON (or flow-style YAML) nested deeper than ``limit`` before a recursive
    parser meets it. Brackets inside strings count too: harmless, the limit is generous."""
    depth = 0
    for ch in text:
        if ch in "[{":
            depth += 1
            if depth > limit:
                raise InputError(f"nested deeper than {limit} levels")
        elif ch in "]}":
            depth = max(0, depth - 1)


def load_json(text: str, *, limit: int = MAX_DEPTH) -> Any:
    """``json.loads`` with the nesting limit; ``json.JSONDecodeError`` as usual otherwise."""
    check_depth(text, limit=limit)
    return json.loads(text)


def yaml_loader() -> Any:
    """A round-trip ruamel ``YAML`` whose parser refuses, event by event and before the
    (recursive) composer builds anything, a document nested deeper than ``MAX_DEPTH`` or
    holding more than ``MAX_YAML_VALUES`` values with its aliases expanded, and an alias
    inside the value it names (a cycle). ``InputError`` carries the line."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt", pure=True)
    yaml.Parser = _bounded_parser()  # ruamel's documented plug-in point for the parser
    return yaml


@functools.cache
def _bounded_parser() -> type:
    from ruamel.yaml import events
    from ruamel.yaml.parser import RoundTripParser

    class BoundedParser(RoundTripParser):
        """Counts what the document expands to while the composer pulls its events."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._bounds = _Expansion()

        def get_event(self) -> Any:
            event = super().get_event()
            try:
                self._bounds.see(event, events)
            except InputError as exc:
                mark = getattr(event, "start_mark", None)
                raise InputError(str(exc), mark.line + 1 if mark is not None else None) from None
            return event

    return BoundedParser


class _Expansion:
    """Size and depth of a YAML event stream as its aliases expand (see ``yaml_loader``)."""

    def __init__(self) -> None:
        self.values = 0
        self.depth = 0
        self.open: list[tuple[str | None, int, int, int]] = []  # anchor, values, depth, max
        self.max_depth = 0
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (values, depth below)

    def see(self, event: Any, ev: Any) -> None:
        if isinstance(event, ev.CollectionStartEvent):
            self._count(1)
            self._reach(self.depth + 1)
            self.open.append((event.anchor, self.values - 1, self.depth, self.max_depth))
            self.depth += 1
            self.max_depth = self.depth
        elif isinstance(event, ev.CollectionEndEvent):
            anchor, start, depth, outer_max = self.open.pop()
            if anchor is not None:
                self.anchors[anchor] = (self.values - start, self.max_depth - depth)
            self.depth = depth
            self.max_depth = max(outer_max, self.max_depth)
        elif isinstance(event, ev.ScalarEvent):
            self._count(1)
            if event.anchor is not None:
                self.anchors[event.anchor] = (1, 0)
        elif isinstance(event, ev.AliasEvent):
            if any(anchor == event.anchor for anchor, *_ in self.open):
                raise InputError(f"alias *{event.anchor} refers to a value that contains it")
            values, below = self.anchors.get(event.anchor, (1, 0))
            self._count(values)
            self._reach(self.depth + below)

    def _count(self, n: int) -> None:
        self.values += n
        if self.values > MAX_YAML_VALUES:
            raise InputError(f"more than {MAX_YAML_VALUES} values once its aliases are expanded")

    def _reach(self, depth: int) -> None:
        self.max_depth = max(self.max_depth, depth)
        if depth > MAX_DEPTH:
            raise InputError(f"nested deeper than {MAX_DEPTH} levels")
