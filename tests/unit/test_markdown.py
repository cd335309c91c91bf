"""Pull-request comments that a value cannot forge (issue 12): the markdown of ``plan`` and of
``reconcile``/``status``, parsed with a CommonMark parser (markdown-it-py), has no heading,
link, image or HTML that the values brought with them."""

from __future__ import annotations

from typing import Any

import pytest
from markdown_it import MarkdownIt

from provisioning.cli.report import render_markdown as report_markdown
from provisioning.core.plan import Action, Change, FieldChange, Plan, render_markdown
from provisioning.reconcile import REPORT_SCHEMA_VERSION, CustomerStatus, Report

FORGED = "x\n```\n## Security review: APPROVED\n[merge now](https://evil.example/)\n```\ny"
VALUES = [
    FORGED,
    "line one\n\nline two after a blank line",
    "````\n# four backticks, then a heading",
    "<img src=x onerror=alert(1)> <a href='https://evil.example'>click</a> &amp;",
    "**bold** _em_ | pipe | [link](https://evil.example) https://evil.example www.evil.example",
    "\n",
    "",
]

PARSER = MarkdownIt("commonmark").enable("table")


def _walk(tokens: list[Any]) -> list[Any]:
    out = []
    for t in tokens:
        out.append(t)
        out.extend(_walk(t.children or []))
    return out


def _forged(md: str, headings: list[str]) -> list[str]:
    """What in ``md`` is not the renderer's own: headings other than ``headings``, links,
    images, raw HTML other than the renderer's <details>/<summary>, and autolinks."""
    found = []
    for t in _walk(PARSER.parse(md)):
        if t.type == "heading_open":
            continue
        if t.type == "inline" and t.map and md.splitlines()[t.map[0]].startswith("#"):
            if md.splitlines()[t.map[0]] not in headings:
                found.append("heading: " + md.splitlines()[t.map[0]])
        if t.type in ("link_open", "image", "autolink"):
            found.append(t.type)
        if t.type in ("html_inline", "html_block"):
            allowed = ("<details>", "</details>", "<summary>", "</summary>")
            text = t.content.strip()
            if not text.startswith(allowed):
                found.append("html: " + text)
            if "<img" in text or "<a " in text:
                found.append("html: " + text)
    return found


def _fences(md: str) -> list[tuple[int, int]]:
    return [tuple(t.map) for t in PARSER.parse(md) if t.type == "fence"]


def _plan(value: str) -> Plan:
    return Plan(
        changes=[
            Change(
                f"home.app[{value}]",
                "app registration",
                Action.UPDATE,
                [FieldChange("displayName", value, "Contoso Log Forwarder")],
                note=value,
                privileged=value or None,
            ),
            Change(
                "home.identity[umi]",
                "identity",
                Action.CREATE,
                [FieldChange("tags", None, {value: value})],
            ),
        ],
        notes=[value],
    )


@pytest.mark.parametrize("value", VALUES)
def test_plan_markdown_keeps_values_inside_the_code_block(value: str) -> None:
    md = render_markdown(_plan(value), summary=f"Plan: {value}")
    assert _forged(md, ["### xtenant plan"]) == [], md
    (fence,) = _fences(md)  # one code block, and every value line is inside it
    lines = md.splitlines()
    for n, line in enumerate(lines):
        if "Security review" in line or "evil.example" in line:
            inside = fence[0] <= n < fence[1]
            assert inside or line.startswith("**"), (n, line)
    assert "## Security review" not in [ln.strip() for ln in lines]


@pytest.mark.parametrize("value", VALUES)
def test_report_markdown_escapes_every_value(value: str) -> None:
    row = CustomerStatus(
        name=value or "x",
        tenant=value,
        app=value,
        side="customer",
        kit="outdated",
        errors=[value or "e"],
        changes=[{"action": "create", "address": value, "kind": "role assignment"}],
    )
    row.next = row.decide_next()
    home = _plan(value).to_json()
    report = Report(REPORT_SCHEMA_VERSION, None, True, home, [row], [row], [value], [row])
    md = report_markdown(report)
    headings = [
        "### xtenant reconcile (plan)",
        "#### Offboarding: kits moved to .offboarded/ by reconcile --yes; the customer's admin deletes the enterprise app",
        "#### Kits of no declared customer: left in place; declare each again, or list it under offboard: in the configuration",
    ]
    escaped = [h.split(" ", 1)[0] + " " + _escape(h.split(" ", 1)[1]) for h in headings]
    assert _forged(md, escaped) == [], md
    for sizes in _table_rows(md):  # a | in a value cannot add a cell
        assert len(set(sizes)) == 1, (sizes, md)


def _table_rows(md: str) -> list[list[int]]:
    tables: list[list[int]] = []
    cells = 0
    for t in PARSER.parse(md):
        if t.type == "table_open":
            tables.append([])
        elif t.type == "tr_open":
            cells = 0
        elif t.type in ("th_open", "td_open"):
            cells += 1
        elif t.type == "tr_close":
            tables[-1].append(cells)
    return tables


def _escape(text: str) -> str:
    from provisioning.core import markdown

    return markdown.text(text)


def test_a_fence_is_longer_than_any_backtick_run() -> None:
    from provisioning.core.markdown import code_block

    block = code_block(["a", "``````", "b"], "diff")
    assert block[0] == "```````diff" and block[-1] == "```````"
    md = "\n".join(block) + "\n"
    (fence,) = [t for t in PARSER.parse(md) if t.type == "fence"]
    assert fence.content == "a\n``````\nb\n"
