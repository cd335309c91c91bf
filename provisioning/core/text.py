"""Text from the other party, made safe to show.

A kit, a config from a pull request and a tenant's objects all carry free text (a role's
"why", display names, descriptions). Printed raw, an ANSI sequence can rewrite a plan on
screen (Owner shown as Monitoring Reader) and a bidirectional override can reorder what the
reader sees. Everything printed passes through ``visible``: control characters (C0, C1,
ESC, DEL), bidirectional controls and invisible separators are shown as ``\\u…`` escapes,
so they are visible instead of acting.
"""

from __future__ import annotations

import re

# C0 (but tab and newline, which callers use for layout), DEL, C1, zero-width and
# bidirectional controls (LRM/RLM, LRE..RLO, LRI..PDI), line/paragraph separators, BOM.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
"""Characters that change how a terminal, a browser or an editor shows the text around them."""


def _escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def visible(text: str) -> str:
    """``text`` with every character in ``UNSAFE`` shown as a ``\\uXXXX`` escape."""
    return UNSAFE.sub(_escape, text)


def has_unsafe(text: str) -> bool:
    """True when ``text`` holds a control, bidirectional or invisible character."""
    return UNSAFE.search(text) is not None


_LINE_BREAKS = re.compile("[\t\n]")


def visible_line(text: str) -> str:
    """``visible`` for a value shown on one line: tabs and line breaks are escaped too,
    so a value cannot start a line of its own (a fake ``+ create`` in a plan)."""
    return _LINE_BREAKS.sub(_escape, visible(text))
