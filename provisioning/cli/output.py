"""Human and machine output: rich on a terminal, plain lines otherwise, JSON on request.

Nothing here ever receives a raw token; callers pass decoded claims only.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from provisioning.core.text import visible

_PLAN_STYLES = (
    ("!!", "bold red"),
    ("-/+", "bold red"),
    ("+", "green"),
    ("~", "yellow"),
    ("-", "red"),
)


class Printer:
    def __init__(self, *, stream: Any = None, err: Any = None) -> None:
        self.out = stream or sys.stdout
        self.err = err or sys.stderr
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self._console: Any = None

    @property
    def console(self) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.out, highlight=False, soft_wrap=True)
        return self._console

    def line(self, text: str = "") -> None:
        """A line of plain text; control and bidirectional characters are made visible
        (text here may come from a kit, a config or a tenant)."""
        self.out.write(visible(text) + "\n")

    def plan(self, text: str) -> None:
        """A rendered plan: on a terminal (and without ``NO_COLOR``) creates green, updates
        yellow, deletes and privileged grants red, as Terraform shows them."""
        if not self.tty or os.environ.get("NO_COLOR"):
            self.line(text)
            return
        for raw in visible(text).splitlines():
            lead = raw.lstrip()
            style = next((st for pre, st in _PLAN_STYLES if lead.startswith(pre)), None)
            self.console.print(f"[{style}]{_esc(raw)}[/]" if style else _esc(raw))

    def json(self, data: Any) -> None:
        self.out.write(json.dumps(data, indent=2, sort_keys=False) + "\n")

    def issue(self, issue: Any) -> None:
        """Errors print as ``FILE:LINE: PATH: message``; warnings get a ``warning:`` lead."""
        lead = "" if issue.severity == "error" else "warning: "
        if self.tty:
            color = "red" if issue.severity == "error" else "yellow"
            self.console.print(f"[{color}]{lead}{_esc(str(issue))}[/]")
        else:
            self.line(f"{lead}{issue}")

    def error(self, message: str) -> None:
        self.err.write(f"error: {visible(message)}\n")

    def summary(self, text: str, *, ok: bool) -> None:
        if self.tty:
            self.console.print(f"[{'green' if ok else 'red'}]{_esc(text)}[/]")
        else:
            self.line(text)

    def progress(self, text: str) -> None:
        """A transient status line on a terminal (one per task step)."""
        if self.tty:
            text = visible(text)
            self.out.write("\r\033[2K\033[2m" + text[: self.console.width - 1] + "\033[0m")
            self.out.flush()

    def clear_progress(self) -> None:
        if self.tty:
            self.out.write("\r\033[2K")
            self.out.flush()

    def kv(self, key: str, value: str) -> None:
        if self.tty:
            self.console.print(f"[bold]{_esc(key)}[/]: {_esc(value)}")
        else:
            self.line(f"{key}: {value}")


def _esc(text: str) -> str:
    from rich.markup import escape

    return escape(visible(text))
