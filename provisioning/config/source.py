"""Where each node of the (combined) configuration came from, and which errors are knock-ons.

The reader fills it while converting YAML; both validation passes ask it for file:line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from provisioning.config.issues import Issue, Loc


@dataclass
class Source:
    """Where each node of the (combined) document came from: loc -> (file, 1-based line)."""

    lines: dict[Loc, tuple[str, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    suppressed: set[str] = field(default_factory=set)  # paths whose knock-on errors are dropped
    causes: set[int] = field(default_factory=set)  # ids of the issues that explain them

    def suppress(self, issue: Issue) -> Issue:
        """Report ``issue`` and drop the errors it causes further down its path."""
        self.suppressed.add(issue.path)
        self.causes.add(id(issue))
        return issue

    def knock_on(self, issue: Issue) -> bool:
        if id(issue) in self.causes:
            return False
        path = issue.path
        return any(path == p or path.startswith((p + ".", p + "[")) for p in self.suppressed)

    def locate(self, loc: Loc) -> tuple[str | None, int | None]:
        for n in range(len(loc), -1, -1):
            hit = self.lines.get(loc[:n])
            if hit:
                return hit
        return (self.files[0] if self.files else None, None)

    def where(self, loc: Loc, seen_from: Loc) -> str:
        """Position of ``loc`` for a message about ``seen_from``: "line N" in the same file."""
        file, line = self.locate(loc)
        if file == self.locate(seen_from)[0]:
            return f"line {line}"
        return f"{file}:{line}" if line else str(file)
