"""The jinja2 machinery every rendered file goes through: finding the templates, the
environment, and one escaping filter per language a value can land in.

Templates are jinja2 files under ``templates/`` (repository root; shipped in the wheel as
``provisioning/templates``).  Every value is escaped for the language it lands in, by a
filter named after that language:

    sh      a bash word (single-quoted, as shlex.quote)
    ps      a PowerShell single-quoted string (all four single-quote characters doubled)
    bicep   a Bicep string ('...' with \\ \\' \\$ \\n ... escapes)
    json    a JSON string;  yaml: the same (a JSON string is a YAML scalar), YAML templates only
    toml    a TOML basic string;  vector: the same with Vector's ``$`` interpolation escaped
    py      a Python string literal
    md      Markdown inline text (every ASCII punctuation character backslash-escaped)
    mdcode  a Markdown code span;  md_code(lang): a fenced code block
    oneline text for a comment: control characters and line breaks become spaces

HTML templates (``*.html.j2``) are autoescaped; the others are not, so a value without a
filter in a script is a bug (the tests render hostile values through every file).

The kit and CI pipelines share this module: the pipelines' YAML templates only use other
delimiters (``render_yaml``), because GitHub's ``${{ }}`` and Azure DevOps' ``$( )`` would
clash with jinja2's own.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import shlex
import tempfile
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES_ENV = "XTENANT_TEMPLATES"
"""Environment variable naming a templates folder to use instead of the shipped one."""


# --------------------------------------------------------------------------------------
# Finding the templates
# --------------------------------------------------------------------------------------


def templates_dir() -> Path:
    """The templates folder: ``$XTENANT_TEMPLATES``, else the one shipped in the package
    (``provisioning/templates``, from a wheel), else ``<repo>/templates`` (a checkout)."""
    override = os.environ.get(TEMPLATES_ENV)
    if override:
        return Path(override)
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "templates", package.parent / "templates"):
        if (candidate / "kit").is_dir():
            return candidate
    raise FileNotFoundError(
        f"xtenant's templates are missing (looked in {package / 'templates'} and "
        f"{package.parent / 'templates'}); reinstall xtenant or set {TEMPLATES_ENV}"
    )


def static(name: str) -> str:
    """A file under the templates folder, as is (a stylesheet, a script)."""
    return (templates_dir() / name).read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------
# Escaping, one function per target language
# --------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value).replace("\x00", "")


def sh_quote(value: Any) -> str:
    """A bash word that expands to exactly ``value`` (never interpolated)."""
    return shlex.quote(_text(value))


_PS_QUOTES = re.compile("(['\u2018\u2019\u201a\u201b])")


_SHELLCHECK_NOISE = (
    ("SC2016", re.compile(r"[$`]")),  # "expressions don't expand in single quotes": on purpose
    ("SC1110", re.compile("[\u2018\u2019\u201c\u201d]")),  # unicode quotes: literal text here
    ("SC1111", re.compile("[\u2018\u2019\u201c\u201d]")),
    ("SC1112", re.compile("[\u2018\u2019\u201c\u201d]")),
    ("SC1017", re.compile("\r")),  # a carriage return inside a quoted value
)


def shellcheck_directive(*values: Any) -> str:
    """``# shellcheck disable=...`` for a command whose quoted values would make shellcheck
    warn about literal text (``$``, backticks, typographic quotes), or ``""``."""
    text = "".join(_text(v) for v in values)
    codes = [code for code, pattern in _SHELLCHECK_NOISE if pattern.search(text)]
    return f"# shellcheck disable={','.join(codes)}\n" if codes else ""


def ps_quote(value: Any) -> str:
    """A PowerShell single-quoted (verbatim) string.  PowerShell also ends such a string
    at the typographic quotes U+2018..U+201B, so each of them is doubled too."""
    return "'" + _PS_QUOTES.sub(r"\1\1", _text(value)) + "'"


_BICEP_ESCAPES = {"\\": "\\\\", "'": "\\'", "$": "\\$", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def bicep_quote(value: Any) -> str:
    """A Bicep string literal; ``$`` is escaped so ``${...}`` never interpolates."""
    out = []
    for ch in _text(value):
        if ch in _BICEP_ESCAPES:
            out.append(_BICEP_ESCAPES[ch])
        elif _CONTROL.match(ch):
            out.append(f"\\u{{{ord(ch):X}}}")
        else:
            out.append(ch)
    return "'" + "".join(out) + "'"


def json_quote(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


_TOML_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f"}
_TOML_ESCAPES["\r"] = "\\r"


def toml_quote(value: Any) -> str:
    """A TOML basic string."""
    out = []
    for ch in _text(value):
        if ch in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def vector_quote(value: Any) -> str:
    """A TOML string for a Vector configuration: Vector interpolates ``$VAR`` and
    ``${VAR}`` in its configuration files, and reads ``$$`` as a literal ``$``."""
    return toml_quote(_text(value).replace("$", "$$"))


def py_quote(value: Any) -> str:
    """A Python literal (``repr``: always valid Python, never interpolated)."""
    return repr(value) if not isinstance(value, str) else repr(_text(value))


def oneline(value: Any) -> str:
    """Text safe inside a one-line comment of any of the languages above."""
    return " ".join(_CONTROL.sub(" ", _text(value)).split())


_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")


def md_inline(value: Any) -> str:
    """Markdown (CommonMark) inline text: any ASCII punctuation may be backslash-escaped,
    so all of it is; line breaks become spaces so a value cannot start a block."""
    return _MD_PUNCT.sub(r"\\\1", oneline(value))


def md_code_span(value: Any) -> str:
    """A Markdown code span (on one line), its backtick run longer than any inside."""
    text = oneline(value)
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text[:1] == "`" or text[-1:] == "`" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def md_code(value: Any, lang: str = "") -> str:
    """A fenced code block, its fence longer than any run of backticks inside."""
    text = _text(value).rstrip("\n")
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{lang}\n{text}\n{fence}"


def csp_hash(script: str) -> str:
    """The Content-Security-Policy source (``'sha256-...'``) that lets one inline script run."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


# --------------------------------------------------------------------------------------
# The jinja2 environments
# --------------------------------------------------------------------------------------


@cache
def _environment(root: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(root),
        autoescape=lambda name: bool(name and name.endswith(".html.j2")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        sh=sh_quote,
        ps=ps_quote,
        bicep=bicep_quote,
        json=json_quote,
        toml=toml_quote,
        vector=vector_quote,
        py=py_quote,
        md=md_inline,
        md_code=md_code,
        mdcode=md_code_span,
        oneline=oneline,
    )
    env.globals["shellcheck_directive"] = shellcheck_directive
    return env


@cache
def _yaml_environment(root: str) -> jinja2.Environment:
    """The same, with delimiters that cannot clash with GitHub's ``${{ }}``, Azure DevOps'
    ``$( )`` / ``${{ }}`` or bash: ``[% %]``, ``[= =]``, ``[# #]``."""
    env = _environment(root).overlay(
        block_start_string="[%",
        block_end_string="%]",
        variable_start_string="[=",
        variable_end_string="=]",
        comment_start_string="[#",
        comment_end_string="#]",
    )
    env.filters = dict(env.filters, yaml=json_quote)  # a JSON string is a YAML scalar
    return env


def environment(*, yaml: bool = False) -> jinja2.Environment:
    """The environment over ``templates_dir()``; ``yaml``: the YAML templates' one."""
    root = str(templates_dir())
    return _yaml_environment(root) if yaml else _environment(root)


def _finish(env: jinja2.Environment, name: str, context: Mapping[str, Any]) -> str:
    text = env.get_template(name).render(**context)
    return text if text.endswith("\n") else text + "\n"


def render(name: str, /, **context: Any) -> str:
    """Template ``name`` (relative to ``templates_dir()``) rendered, ending in a newline."""
    return _finish(environment(), name, context)


def render_yaml(name: str, /, **context: Any) -> str:
    """A YAML template (``[% %]``, ``[= =]``, ``[# #]`` delimiters) rendered, ending in a
    newline."""
    return _finish(environment(yaml=True), name, context)


# --------------------------------------------------------------------------------------
# Writing files
# --------------------------------------------------------------------------------------


def write_file(path: Path, text: str, *, executable: bool = False, bom: bool = False) -> Path:
    """Write ``text`` as UTF-8 bytes (``\\n`` line ends on every OS, so the same input gives
    the same bytes), mode 0644 or 0755, creating the folders; ``bom``: with a UTF-8 BOM.

    The file is written new (a temporary file created exclusively beside it, then renamed
    over it) in a folder checked not to be a symbolic link: an existing link at ``path``
    is replaced, never written through, and a linked folder is refused (``OSError``)."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if folder.is_symlink() or not folder.is_dir():
        raise OSError(
            f"{folder} is a symbolic link or not a folder: xtenant does not write through it "
            "(replace it with a folder)"
        )
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o755 if executable else 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
