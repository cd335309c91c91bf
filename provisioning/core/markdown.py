"""Markdown for pull-request comments that a value cannot rewrite.

Plans and reports quote values that others choose: a display name in the live tenant, a
customer's name in a pull request, an error message. Put in a comment raw, a line break and
three backticks close the code block and what follows renders as the reviewer's own text
("## Security review: APPROVED", a link). Three rules, from CommonMark (and GitHub's
renderer, which follows it):

- a code block's fence is longer than any run of backticks inside it (CommonMark 4.5), and
  every line in it is one visible line (``text.visible_line``), so nothing can close it;
- text outside code blocks has every character that can start Markdown backslash-escaped
  (CommonMark 2.4 makes an escaped punctuation character literal): no emphasis, code, link,
  image, HTML, entity or table cell, and no GitHub autolink either (``:``, ``@``, ``www.``);
- text inside an HTML block (``<summary>``) is HTML-escaped, where Markdown is not read.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from provisioning.core.text import visible_line

_SIGNIFICANT = re.compile(r"([\\`*_\[\]<>&|~!()#:@]|(?<=[wW]{3})\.)")
_BACKTICKS = re.compile(r"`+")


def text(value: object) -> str:
    """``value`` as literal Markdown text on one line (table cells, list items)."""
    return _SIGNIFICANT.sub(r"\\\1", visible_line(str(value)))


def html_text(value: object) -> str:
    """``value`` as literal text inside an HTML block (``<summary>...</summary>``)."""
    return html.escape(visible_line(str(value)), quote=True)


def code_block(lines: Iterable[str], info: str = "") -> list[str]:
    """A fenced code block around ``lines``: each made one visible line, the fence longer
    than the longest run of backticks in them."""
    body = [visible_line(line) for line in lines]
    longest = max((len(m) for line in body for m in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *body, fence]
