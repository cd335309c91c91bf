"""Reading reconcile reports (``status --merge``): written by other CI jobs, checked before use.

A report is JSON from another job's artifact. Read within bounds (a regular file of at most
``MAX_REPORT_BYTES``, nested at most ``MAX_DEPTH``) and checked field by field against what
``Report.to_json`` writes, so that a list, a number where a name belongs or a missing field
is one named error, never a traceback half-way through rendering.
"""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path
from typing import Any

from provisioning.core import bounded
from provisioning.core.plan import Action

_TEXT = ("name", "tenant", "app", "side", "kit", "consent", "roles", "next")
_LISTS = ("changes", "applied")


def read_report(path: Path) -> Any:
    """The parsed JSON of one report file; ``ValueError`` says why it cannot be read."""
    try:
        text = bounded.read_text(path, limit=bounded.MAX_REPORT_BYTES)
        return bounded.load_json(text)
    except bounded.InputError as exc:
        raise ValueError(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} (line {exc.lineno})") from None


def checked_report(data: Any) -> dict[str, Any]:
    """``data`` when it has the shape of a report; ``ValueError`` naming the field otherwise."""
    from provisioning.reconcile import REPORT_SCHEMA_VERSION, CustomerStatus

    if not isinstance(data, dict):
        raise ValueError(f"not a reconcile report: a JSON object is expected, found {_kind(data)}")
    if data.get("schema_version") != REPORT_SCHEMA_VERSION:
        raise ValueError(f"unsupported report schema_version {data.get('schema_version')!r}")
    known = {f.name for f in fields(CustomerStatus)}
    for group in ("customers", "offboarded", "undeclared"):
        rows = data.get(group, [])
        _need(isinstance(rows, list), group, "a list", rows)
        for i, row in enumerate(rows):
            where = f"{group}[{i}]"
            _need(isinstance(row, dict), where, "an object", row)
            extra = sorted(set(row) - known)
            _need(not extra, f"{where}.{extra[0] if extra else ''}", "no such field", None)
            for key in _TEXT:
                required = key in ("name", "tenant", "app", "side", "kit")
                if key in row or required:
                    _need(isinstance(row.get(key), str), f"{where}.{key}", "a string", row.get(key))
            if row.get("verified_at") is not None:
                _need(isinstance(row["verified_at"], str), f"{where}.verified_at", "a string", 0)
            for key in _LISTS:
                for j, ch in enumerate(_list(row, key, where)):
                    _change(ch, f"{where}.{key}[{j}]")
            for j, err in enumerate(_list(row, "errors", where)):
                _need(isinstance(err, str), f"{where}.errors[{j}]", "a string", err)
    for j, err in enumerate(_list(data, "errors", "")):
        _need(isinstance(err, str), f"errors[{j}]", "a string", err)
    home = data.get("home")
    if home is not None:
        _need(isinstance(home, dict), "home", "an object or null", home)
        for j, ch in enumerate(_list(home, "changes", "home")):
            _change(ch, f"home.changes[{j}]")
        for j, note in enumerate(_list(home, "notes", "home")):
            _need(isinstance(note, str), f"home.notes[{j}]", "a string", note)
    return data


def _change(ch: Any, where: str) -> None:
    _need(isinstance(ch, dict), where, "an object", ch)
    for key in ("address", "kind", "action"):
        _need(isinstance(ch.get(key), str), f"{where}.{key}", "a string", ch.get(key))
    actions = [a.value for a in Action]
    _need(ch["action"] in actions, f"{where}.action", "one of " + ", ".join(actions), ch["action"])
    for j, f in enumerate(_list(ch, "fields", where)):
        _need(
            isinstance(f, dict) and isinstance(f.get("field"), str),
            f"{where}.fields[{j}]",
            "an object with a field name",
            f,
        )
    if ch.get("note") is not None:
        _need(isinstance(ch["note"], str), f"{where}.note", "a string", ch["note"])


def _list(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    _need(isinstance(value, list), f"{where}.{key}".lstrip("."), "a list", value)
    return value


def _need(ok: bool, where: str, expected: str, found: Any) -> None:
    if not ok:
        if expected == "no such field":
            raise ValueError(f"{where}: unknown field in a reconcile report")
        raise ValueError(f"{where}: expected {expected}, found {_kind(found)}")


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a boolean" if isinstance(value, bool) else "a number"
