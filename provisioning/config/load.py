"""Reading ``xtenant.yaml``: YAML with file:line positions, ``${VAR}``, ``customers_dir``.

Loading runs in two passes so that *every* problem is reported at once:

1. structure (pydantic, ``model.py``): types, formats and unknown keys, field by field;
2. meaning (``check.py``, over the raw document): cross-references, uniqueness,
   catalog look-ups and the least-privilege lint, tolerant of whatever pass 1 rejected.

Both passes produce Issues carrying the field path, the file and line (from ruamel's
round-trip positions), what was found and what was expected.  Nothing is fetched from
the network: this is what ``xtenant validate`` runs before any request.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from provisioning.config.check import check
from provisioning.config.folder import merge_customers_dir
from provisioning.config.issues import (
    ConfigError,
    Issue,
    Loc,
    format_path,
    validation_issues,
)
from provisioning.config.model import Config, Loaded
from provisioning.config.source import Source
from provisioning.core import bounded


def load_config(
    path: str | os.PathLike[str], *, environ: Mapping[str, str] | None = None
) -> Loaded:
    """Read, validate and lint a configuration file.

    Raises ``ConfigError`` listing every error (and the warnings) if anything is wrong;
    returns the model and its warnings otherwise.  ``environ`` (default ``os.environ``)
    supplies ``${VAR}`` values.
    """
    path = Path(path)
    issues: list[Issue] = []
    src = Source()
    reader = _Reader(src, os.environ if environ is None else environ, issues)
    ok, data = reader.load(path, ())
    if ok and not isinstance(data, dict):
        what = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        _, line = src.locate(())
        issues.append(
            Issue(
                "", f"the configuration is {what}", str(path), line, expected="cloud:, home:, ..."
            )
        )
    if not ok or not isinstance(data, dict):
        raise ConfigError(issues)

    merge_customers_dir(data, path, reader, issues)
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        issues.extend(validation_issues(exc, Config, locate=src.locate))
    issues.extend(check(data, src, path.parent))

    issues = _tidy(issues, src)
    if config is None or any(i.severity == "error" for i in issues):
        raise ConfigError(issues)
    return Loaded(config=config, warnings=issues, path=path)


def _tidy(issues: list[Issue], src: Source) -> list[Issue]:
    """Drop repeats and knock-on errors (of unset variables, unreadable files); order by
    file and line."""
    seen: set[tuple[str, str, str | None]] = set()
    out = []
    for issue in issues:
        key = (issue.path, issue.message, issue.file)
        if key in seen or src.knock_on(issue):
            continue
        seen.add(key)
        out.append(issue)
    rank = {f: n for n, f in enumerate(src.files)}
    return sorted(out, key=lambda i: (rank.get(i.file or "", -1), i.line or 0))


_ENV_RE = re.compile(r"(?P<esc>\$\$\{)|\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bad>\$\{[^}]*\}?)")


class _Reader:
    """Turns ruamel nodes into plain data, recording positions and interpolating ``${VAR}``."""

    def __init__(self, src: Source, environ: Mapping[str, str], issues: list[Issue]) -> None:
        self.src = src
        self.environ = environ
        self.issues = issues
        self.values = 0  # over every file read: bounded by MAX_CONFIG_VALUES

    @property
    def exhausted(self) -> bool:
        """True once the files read hold more values than a configuration may."""
        return self.values > bounded.MAX_CONFIG_VALUES

    def load(self, path: Path, loc: Loc) -> tuple[bool, Any]:
        """Parse one file; ``(False, None)`` if it cannot be read or parsed."""
        name = str(path)
        self.src.files.append(name)
        try:
            text = bounded.read_text(path)
        except bounded.InputError as exc:
            reason = str(exc)
            message = reason if reason == "file not found" else f"cannot read the file: {reason}"
            return self._file_issue(name, loc, message)
        try:
            node = bounded.yaml_loader().load(text)
        except bounded.InputError as exc:
            return self._file_issue(name, loc, f"refused: {exc}", exc.line)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = " ".join(str(p) for p in (exc.problem, exc.context) if p)
            return self._file_issue(name, loc, f"YAML syntax error: {_excerpt(problem)}", line)
        except YAMLError as exc:
            return self._file_issue(name, loc, f"YAML syntax error: {_excerpt(str(exc))}")
        first = node.lc.line + 1 if isinstance(node, CommentedMap | CommentedSeq) else 1
        data = self.convert(node, loc, name, first)
        if self.exhausted:
            message = (
                f"refused: the configuration and its customer files hold more than "
                f"{bounded.MAX_CONFIG_VALUES} values"
            )
            return self._file_issue(name, loc, message)
        return True, data

    def _file_issue(
        self, name: str, loc: Loc, message: str, line: int | None = None
    ) -> tuple[bool, Any]:
        self.issues.append(self.src.suppress(Issue(format_path(loc), message, name, line)))
        return False, None

    def convert(self, node: Any, loc: Loc, file: str, line: int) -> Any:
        self.values += 1
        self.src.lines[loc] = (file, line)
        if isinstance(node, CommentedMap):
            return {
                str(k): self.convert(v, (*loc, str(k)), file, _line_of(node, k, line))
                for k, v in node.items()
            }
        if isinstance(node, CommentedSeq):
            return [
                self.convert(v, (*loc, i), file, _line_of(node, i, line))
                for i, v in enumerate(node)
            ]
        if isinstance(node, str):
            return self.interpolate(str(node), loc, file, line)
        if isinstance(node, bool | ScalarBoolean):
            return bool(node)
        if isinstance(node, int):
            return int(node)
        if isinstance(node, float):
            return float(node)
        return node

    def interpolate(self, value: str, loc: Loc, file: str, line: int) -> str:
        if "$" not in value:
            return value
        problems: list[tuple[str, str, str]] = []

        def sub(m: re.Match[str]) -> str:
            if m.group("esc"):
                return "${"
            var = m.group("var")
            if var is not None:
                if var in self.environ:
                    return self.environ[var]
                problems.append((f"environment variable {var} is not set", m.group(0), var))
                return m.group(0)
            problems.append(
                ("malformed ${...} reference", m.group("bad"), "${NAME} (write $${ for a literal)")
            )
            return m.group(0)

        out = _ENV_RE.sub(sub, value)
        path = format_path(loc)
        for message, found, expected in problems:
            if message.startswith("environment"):
                expected = f"{expected} set in the environment"
            issue = Issue(path, message, file, line, found=found, expected=expected)
            self.issues.append(self.src.suppress(issue))
        return out


def _excerpt(text: str, limit: int = 120) -> str:
    """A parser's message cut short: it may quote the file, which need not be a config."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _line_of(node: CommentedMap | CommentedSeq, key: Any, default: int) -> int:
    try:
        pos = node.lc.key(key) if isinstance(node, CommentedMap) else node.lc.item(key)
        return int(pos[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return default  # merged (<<) keys have no position of their own
