"""Reading input from the other party within bounds: regular files only, a size limit, a
nesting limit. A config from a pull request or a kit from another company must not be a way
to exhaust the machine that reads it (CI runs ``validate`` on every pull request)."""

from __future__ import annotations

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


class InputError(ValueError):
    """Input refused before parsing; the message names the file and the limit."""


def read_text(path: str | os.PathLike[str], *, limit: int = MAX_FILE_BYTES) -> str:
    """The content of a regular file of at most ``limit`` bytes, as UTF-8 text.

    FIFOs, devices (``/dev/zero``) and directories are refused without reading from them
    (``O_NONBLOCK`` so that opening a FIFO cannot hang), and at most ``limit + 1`` bytes
    are read, so a file that grows while read cannot get past the limit either.
    """
    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"{p}: file not found") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot open: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{p}: not a regular file ({_kind(st.st_mode)})")
        if st.st_size > limit:
            raise InputError(f"{p}: {st.st_size} bytes is over the limit of {limit} bytes")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise InputError(f"{p}: over the limit of {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text (byte {exc.start})") from None


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
