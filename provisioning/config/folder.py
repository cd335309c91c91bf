"""``customers_dir``: one YAML file per customer, and no customer dropped without a word.

A customer file skipped silently is a customer offboarded on the next ``reconcile``: every
entry of the folder is therefore loaded, or reported. What looks like a customer file
(``*.yaml``/``*.yml``, in any case) is loaded or is an error (a broken or looping symbolic
link, a FIFO, a directory so named, a file outside the configuration's folder); anything else
is listed in one warning, but for hidden entries and notes (``.gitkeep``, ``README.md``). The folder and every file in it must stay inside the folder holding the
configuration once symbolic links are resolved: a pull request cannot point ``validate`` at
``/etc`` or at another repository's secrets, and a file that is not a customer file is never
quoted beyond a few words.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from provisioning.config.issues import Issue, Loc, format_path

if TYPE_CHECKING:
    from provisioning.config.load import _Reader

CUSTOMER_SUFFIXES = (".yaml", ".yml")
"""Suffixes (compared without case) of a customer file."""

DOCUMENTS = (".md", ".txt", ".rst")
"""Suffixes (without case) of notes kept beside the customers, skipped without a warning."""


def _quiet(name: str) -> bool:
    """Skipped without a warning: hidden entries (``.gitkeep``; no customer name starts with
    a dot) and notes (``README``, ``*.md``). Anything else that is not read is listed."""
    return (
        name.startswith(".")
        or name.casefold() == "readme"
        or Path(name).suffix.casefold() in DOCUMENTS
    )


CUSTOMER_KEYS = ("name", "tenant", "app", "roles", "graph_app_roles", "customer_side")
"""A mapping with none of these is not a customer file (and is not quoted back)."""


def merge_customers_dir(
    data: dict[str, Any], config: Path, reader: _Reader, issues: list[Issue]
) -> None:
    """Append the customers of ``customers_dir`` (sorted by file name) to ``customers``."""
    spec = data.get("customers_dir")
    if not isinstance(spec, str) or not spec.strip():
        return
    file, line = reader.src.locate(("customers_dir",))
    expected = "a directory (relative to this file) of one YAML file per customer"
    root = config.parent.resolve()
    folder = Path(os.path.normpath(config.parent / spec))
    if not inside(folder, root):
        where = _resolved(folder)
        issues.append(
            Issue(
                "customers_dir",
                f"must stay inside the configuration's folder {root} (it leads to {where})",
                file,
                line,
                found=spec,
                expected=expected + ", inside the configuration's folder",
            )
        )
        return
    if not folder.is_dir():
        issues.append(
            Issue("customers_dir", "not a directory", file, line, found=spec, expected=expected)
        )
        return
    if data.get("customers") is None:
        data["customers"] = []
    inline = data["customers"]
    if not isinstance(inline, list):
        return  # pass 1 reports the inline list's type; do not guess at indexes
    ignored: list[str] = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if reader.exhausted:
            break
        kind = _kind(entry)
        if _quiet(entry.name) or _same(entry, config):
            continue
        if entry.suffix.casefold() not in CUSTOMER_SUFFIXES:
            ignored.append(entry.name + ("/" if kind == "a directory" else ""))
            continue
        loc: Loc = ("customers", len(inline))
        problem = _unusable(entry, root, kind)
        if problem is not None:
            message = (
                f"customers_dir entry '{entry.name}' looks like a customer file but is {problem}"
            )
            issues.append(reader.src.suppress(Issue(format_path(loc), message, file, line)))
            inline.append(None)
            continue
        inline.append(_customer(entry, loc, reader, issues))
    if ignored:
        shown = ", ".join(ignored[:10]) + (
            f" and {len(ignored) - 10} more" if len(ignored) > 10 else ""
        )
        issues.append(
            Issue(
                "customers_dir",
                f"{len(ignored)} entr{'y is' if len(ignored) == 1 else 'ies are'} not customer "
                f"files and {'was' if len(ignored) == 1 else 'were'} ignored: {shown}",
                file,
                line,
                severity="warning",
                expected="one <name>.yaml (or .yml) file per customer; sub-folders are not read",
                code="ignored-entries",
            )
        )


def inside(path: Path, root: Path) -> bool:
    """True when ``path``, its symbolic links resolved, is ``root`` or below it."""
    try:
        real = path.resolve(strict=False)
    except (OSError, RuntimeError):  # a symbolic link loop
        return False
    return real == root or root in real.parents


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except (OSError, RuntimeError):
        return False


def _resolved(path: Path) -> str:
    try:
        return str(path.resolve(strict=False))
    except (OSError, RuntimeError):
        return f"{path} (a symbolic link loop)"


def _kind(entry: Path) -> str:
    try:
        mode = entry.lstat().st_mode
    except OSError:
        return "unreadable"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISREG(mode):
        return "a file"
    return "a special file"


def _unusable(entry: Path, root: Path, kind: str) -> str | None:
    """Why a would-be customer file cannot be read (``None``: read it)."""
    if kind == "a symbolic link":
        try:
            target = entry.resolve(strict=True)
        except FileNotFoundError:
            return "a broken symbolic link (its target does not exist)"
        except (OSError, RuntimeError):
            return "a symbolic link loop"
        if not (target == root or root in target.parents):
            return f"a symbolic link to {target}, outside the configuration's folder {root}"
        kind = _kind(target)
    if kind != "a file":
        return f"{kind}, not a regular file"
    return None


def _customer(path: Path, loc: Loc, reader: _Reader, issues: list[Issue]) -> Any:
    """The document of one customer file (``None`` when unusable, reported)."""
    ok, doc = reader.load(path, loc)
    if not ok:
        return None
    if not isinstance(doc, dict) or not any(k in doc for k in CUSTOMER_KEYS):
        message = (
            "does not look like a customer file: it has none of name:, tenant:, app:"
            if isinstance(doc, dict)
            else "a customer file must hold one mapping"
        )
        file, line = reader.src.locate(loc)
        issue = Issue(
            format_path(loc),
            f"{message} ({_shape(doc)})",
            file,
            line,
            expected="name:, tenant:, app:, roles: ...",
        )
        issues.append(reader.src.suppress(issue))
        return None if isinstance(doc, dict) else doc
    name = doc.setdefault("name", path.stem)
    if isinstance(name, str) and name != path.stem:
        file, line = reader.src.locate((*loc, "name"))
        issues.append(
            Issue(
                format_path((*loc, "name")),
                f"name does not match the file name '{path.name}'",
                file,
                line,
                found=name,
                expected=f"{path.stem} (or leave name out)",
            )
        )
    return doc


def _shape(doc: Any) -> str:
    """What a document is, without quoting it: it may not be a customer file at all."""
    if doc is None:
        return "the file is empty"
    if isinstance(doc, list):
        return f"found a list of {len(doc)} item{'s' if len(doc) != 1 else ''}"
    if isinstance(doc, dict):
        keys = ", ".join(sorted(str(k)[:20] for k in doc)[:3])
        return f"found a mapping of {keys}{', ...' if len(doc) > 3 else ''}" if doc else "empty"
    return f"found {'a string' if isinstance(doc, str) else 'a single value'}"
