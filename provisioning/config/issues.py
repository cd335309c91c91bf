"""The Issue type, shared by config and kit validation, and pydantic errors turned into Issues.

One wording for every validation message xtenant prints: a field path, where it is
(file:line when known), what was found and what was expected.  ``validation_issues``
is the one translation of a pydantic ``ValidationError``; ``xtenant validate`` and
``load_kit`` both use it, so a type error reads the same in ``xtenant.yaml`` and ``kit.json``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, get_args

from pydantic import BaseModel, ValidationError

Severity = Literal["error", "warning"]
Loc = tuple[str | int, ...]
Locate = Callable[[Loc], tuple[str | None, int | None]]
"""Where a location of the document is: ``(file, 1-based line)``, either may be unknown."""

TAG_ONE, TAG_LIST = "@one", "@list"
"""Tags of the one-or-a-list unions (``formats.RedirectUris``): pydantic puts them in error
locations; field paths leave them out."""


@dataclass
class Issue:
    """One problem with the configuration, located as precisely as the input allows."""

    path: str
    message: str
    file: str | None = None
    line: int | None = None
    severity: Severity = "error"
    found: str | None = None
    expected: str | None = None
    code: str | None = None  # stable id of the rule that fired (lint rules, mostly)

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file or ""
        if not self.file and self.line:
            where = f"line {self.line}"
        text = ": ".join(p for p in (where, self.path, self.message) if p)
        detail = []
        if self.found is not None:
            detail.append(f"found '{_one_line(self.found)}'")
        if self.expected:
            detail.append(f"expected {_one_line(self.expected)}")
        return f"{text} ({'; '.join(detail)})" if detail else text

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "path": self.path,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "found": self.found,
            "expected": self.expected,
            "code": self.code,
        }


def _one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


class ConfigError(Exception):
    """The configuration cannot be used.  ``issues`` holds every error (and warning) found."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        n = len(self.errors)
        super().__init__(f"{n} error{'s' if n != 1 else ''} in the configuration")

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "error"]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == "warning"]

    def __str__(self) -> str:
        lines = [f"{'warning: ' if i.severity == 'warning' else ''}{i}" for i in self.issues]
        return "\n".join(lines) or super().__str__()


class UnknownNameError(LookupError):
    """A name that is not in the configuration (message includes a "did you mean")."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown name"


# =====================================================================================
# Shared wording
# =====================================================================================


def format_path(loc: Iterable[str | int]) -> str:
    """``home.apps[0].key``; keys that are not identifiers are quoted: ``tags["a b"]``."""
    out = ""
    for seg in loc:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", seg):
            out += f".{seg}" if out else seg
        else:
            out += f"[{json.dumps(seg)}]"
    return out


def show(value: Any) -> str:
    """A value as the user wrote it (YAML/JSON spelling), cut to 300 characters."""
    if isinstance(value, str):
        text = value
    elif value is None:
        text = "null"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        text = str(value)
    else:
        text = json.dumps(value, default=str)
    return text if len(text) <= 300 else text[:297] + "..."


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest candidate (without case), or ``""``."""
    by_fold = {c.casefold(): c for c in candidates}
    hits = difflib.get_close_matches(word.casefold(), list(by_fold), n=1, cutoff=0.6)
    return f"; did you mean '{by_fold[hits[0]]}'?" if hits else ""


# =====================================================================================
# pydantic errors -> issues
# =====================================================================================

TYPE_WORDS = {
    "string_type": "a string",
    "list_type": "a list (array)",
    "tuple_type": "a list (array)",
    "dict_type": "a mapping (object)",
    "model_type": "a mapping (object)",
    "model_attributes_type": "a mapping (object)",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "an integer",
    "int_parsing": "an integer",
}
"""What a field of the wrong type should have been, in words for YAML and JSON alike."""


def validation_issues(
    exc: ValidationError,
    root: type[BaseModel] | None,
    *,
    source: str | None = None,
    locate: Locate | None = None,
) -> list[Issue]:
    """Every error of ``exc`` as an Issue.

    ``root`` is the model that was validated (its fields name what is expected and feed
    "did you mean"; ``None`` when unknown); ``locate`` places a location in its file and
    line, otherwise every issue is placed in ``source``.
    """
    issues = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(err["loc"])
        file, line = locate(loc) if locate is not None else (source, None)
        message, found, expected = _explain(err, loc, root)
        issues.append(Issue(format_path(loc), message, file, line, "error", found, expected))
    return issues


def _explain(
    err: Any, loc: Loc, root: type[BaseModel] | None
) -> tuple[str, str | None, str | None]:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "xtenant":  # our own validators (formats.fail) say it all
        return err["msg"], ctx.get("found"), ctx.get("expected")
    if kind == "missing":
        return f"missing required field '{loc[-1]}'", None, _field_description(root, loc)
    if kind == "extra_forbidden":
        model = _model_at(root, loc[:-1])
        known = list(model.model_fields) if model else []
        hint = did_you_mean(str(loc[-1]), known)
        return (
            f"unknown field '{loc[-1]}'{hint}",
            None,
            "one of " + ", ".join(known) if known else None,
        )
    found = show(err.get("input"))
    if kind in TYPE_WORDS:
        return f"expected {TYPE_WORDS[kind]}", found, _field_description(root, loc)
    if kind == "literal_error" and ctx.get("expected"):  # the allowed values, listed
        return f"expected {ctx['expected']}", found, None
    msg = str(err["msg"])
    return msg[:1].lower() + msg[1:], found, None


def _clean_loc(loc: Iterable[str | int]) -> Loc:
    """Drop what pydantic adds to a location that is not in the document."""
    return tuple(s for s in loc if not (isinstance(s, str) and s in (TAG_ONE, TAG_LIST, "[key]")))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(root: type[BaseModel] | None, loc: Loc) -> type[BaseModel] | None:
    """The model class a location points into (``None`` inside free-form mappings)."""
    model = root
    for seg in loc:
        if model is None:
            return None
        if isinstance(seg, int):
            continue
        info = model.model_fields.get(seg)
        model = _model_in(info.annotation) if info is not None else None
    return model


def _field_description(root: type[BaseModel] | None, loc: Loc) -> str | None:
    model = _model_at(root, loc[:-1]) if loc else None
    info = model.model_fields.get(str(loc[-1])) if model is not None else None
    if info is None:
        return None
    if info.description:
        return info.description
    for meta in info.metadata:
        if getattr(meta, "description", None):
            return str(meta.description)
    return None
