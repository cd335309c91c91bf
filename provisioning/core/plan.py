"""Change and Plan: what every task's ``changes`` step returns, and how a plan is shown.

A plan is data (JSON-able, stable) plus, per change, the closure that would make it
real. Rendering follows Terraform: ``+`` create, ``~`` update with field-level
before → after, ``-`` delete, and a summary line; ``-o json`` is the documented
machine shape (``PLAN_SCHEMA_VERSION``), ``-o markdown`` is for pull-request comments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from provisioning.core import markdown
from provisioning.core.text import visible_line

PLAN_SCHEMA_VERSION = 1


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 object``, ``2 objects`` (``many`` when adding an s is wrong: identity, identities)."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"  # deleted, then created again (Terraform's -/+)
    RESTORE = "restore"  # brought back from Entra's deleted items (same object, same ids)
    NOOP = "no-op"

    @property
    def symbol(self) -> str:
        return {
            "create": "+",
            "update": "~",
            "delete": "-",
            "replace": "-/+",
            "restore": "<+",
            "no-op": " ",
        }[self.value]


@dataclass(frozen=True)
class FieldChange:
    field: str
    before: Any
    after: Any


@dataclass
class Change:
    """One object made to match its declaration.

    ``address`` names the object the way a user would grep for it
    (``home.app[logs].fic[mi-umi-vector]``); ``apply`` is not serialised.
    """

    address: str
    kind: str  # e.g. "user-assigned identity", "federated credential"
    action: Action
    fields: list[FieldChange] = field(default_factory=list)
    note: str | None = None  # why, or what the user must know (e.g. "propagation takes minutes")
    apply: Callable[[], Any] | None = field(default=None, repr=False, compare=False)
    privileged: str | None = None  # set when the grant can change or grant anything: why, shown

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "address": self.address,
            "kind": self.kind,
            "action": self.action.value,
        }
        if self.fields:
            out["fields"] = [
                {"field": f.field, "before": f.before, "after": f.after} for f in self.fields
            ]
        if self.note:
            out["note"] = self.note
        if self.privileged:
            out["privileged"] = self.privileged
        return out


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Field-level differences for the keys declared in ``after`` (undeclared keys are
    left alone: we manage only what the config says)."""
    return [
        FieldChange(k, before.get(k), v)
        for k, v in after.items()
        if _norm(before.get(k)) != _norm(v)
    ]


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        return v
    if isinstance(v, list | tuple):
        return sorted((_norm(x) for x in v), key=repr)
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # plan-wide remarks (e.g. unmanaged objects)

    def extend(self, changes: Iterable[Change]) -> None:
        self.changes.extend(changes)

    @property
    def pending(self) -> list[Change]:
        return [c for c in self.changes if c.action is not Action.NOOP]

    @property
    def has_changes(self) -> bool:
        return bool(self.pending)

    def counts(self) -> dict[str, int]:
        """Changes per action; ``replace`` appears only when a plan has one (it is rare, and
        the shape stays what readers of the JSON already know)."""
        out = {a.value: 0 for a in Action}
        for c in self.changes:
            out[c.action.value] += 1
        for rare in ("replace", "restore"):
            if not out[rare]:
                del out[rare]
        return out

    def summary(self) -> str:
        n = self.counts()
        if not self.has_changes:
            return f"No changes. {matching(n['no-op'])}"
        replace = f", {n['replace']} to replace" if n.get("replace") else ""
        replace += f", {n['restore']} to restore" if n.get("restore") else ""
        return (
            f"Plan: {n['create']} to create, {n['update']} to update, {n['delete']} to delete"
            f"{replace} ({n['no-op']} unchanged)."
        )

    @property
    def privileged(self) -> list[Change]:
        """Pending changes that grant something privileged (asked for again before apply)."""
        return [c for c in self.pending if c.privileged]

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": PLAN_SCHEMA_VERSION,
            "summary": self.counts(),
            "has_changes": self.has_changes,
            "changes": [c.to_json() for c in self.changes],
            "notes": list(self.notes),
        }


def matching(n: int) -> str:
    """The sentence that ends a plan or an apply with nothing left to do."""
    return f"{plural(n, 'object')} {'matches' if n == 1 else 'match'} the configuration."


def _fmt(v: Any) -> str:
    """A value on one line, with anything that could act on a terminal made visible."""
    if v is None:
        return "(none)"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_fmt(x) for x in v) + "]"
    if isinstance(v, dict):
        return (
            "{" + ", ".join(f"{visible_line(str(k))}={_fmt(x)}" for k, x in sorted(v.items())) + "}"
        )
    return visible_line(str(v))


def render_text(plan: Plan, *, show_noop: bool = False, summary: str | None = None) -> str:
    """Terraform-style lines, then ``summary`` (the plan's own unless the caller knows more,
    e.g. that some reads failed)."""
    lines: list[str] = []
    for c in plan.changes:
        if c.action is Action.NOOP and not show_noop:
            continue
        label = "no change" if c.action is Action.NOOP else c.action.value
        lines.append(f"  {c.action.symbol} {visible_line(c.address)}  ({c.kind}: {label})")
        if c.privileged:
            lines.append(f"      !! {visible_line(c.privileged)}")
        for f in c.fields:
            if c.action is Action.CREATE:
                lines.append(f"      {f.field} = {_fmt(f.after)}")
            elif c.action is Action.DELETE:
                lines.append(f"      {f.field} = {_fmt(f.before)}")
            else:
                lines.append(f"      {f.field}: {_fmt(f.before)} -> {_fmt(f.after)}")
        if c.note:
            lines.append(f"      # {visible_line(c.note)}")
    for n in plan.notes:
        lines.append(f"  note: {visible_line(n)}")
    lines.append(summary or plan.summary())
    return "\n".join(lines)


def render_markdown(plan: Plan, *, title: str = "xtenant plan", summary: str | None = None) -> str:
    """A pull-request comment: counts, then the changes in a collapsed diff block. Values
    stay inside the block whatever they hold (``markdown.code_block``)."""
    n = plan.counts()
    out = [
        f"### {markdown.text(title)}",
        "",
        "| create | update | delete | unchanged |",
        "|---:|---:|---:|---:|",
        f"| {n['create']} | {n['update']} | {n['delete']} | {n['no-op']} |",
        "",
    ]
    if plan.has_changes:
        out += ["<details><summary>Changes</summary>", ""]
        lines = [diff_line(line) for line in render_text(plan).splitlines()[:-1]]
        out += [*markdown.code_block(lines, "diff"), "", "</details>", ""]
    out.append(f"**{markdown.text(summary or plan.summary())}**")
    return "\n".join(out) + "\n"


def diff_line(line: str) -> str:
    """Terraform-style lines as a diff block: '+'/'-' lead, '~' shown as '!'."""
    stripped = line.lstrip()
    if stripped.startswith("-/+"):
        return "! " + stripped[4:]
    if stripped[:1] and stripped[:1] in "+-~":
        return {"~": "!"}.get(stripped[0], stripped[0]) + " " + stripped[2:]
    return line
