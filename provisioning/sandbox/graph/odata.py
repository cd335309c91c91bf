"""The OData query options Graph supports on the collections we serve.

``$filter`` (``eq``/``ne``/``ge``/``le``/``gt``/``lt``, ``and``/``or``/``not``, parentheses,
``startswith()``, ``any()`` lambdas over string collections), ``$search`` (``"prop:value"``),
``$orderby``, ``$select``, ``$top`` + ``$skiptoken``, ``$count``. Unknown or non-filterable
properties give Graph's ``Request_UnsupportedQuery`` errors.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .models import GraphError

Pred = Callable[[dict[str, Any]], bool]

_TOKEN = re.compile(
    r"""\s*(?:
    (?P<str>'(?:[^']|'')*')
  | (?P<guid>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)
  | (?P<num>-?\d+(?:\.\d+)?\b)
  | (?P<punct>[(),:])
  | (?P<ident>[A-Za-z_$@][\w./@$]*)
)""",
    re.VERBOSE,
)

_OPS = ("eq", "ne", "gt", "ge", "lt", "le")


def unsupported_property(prop: str) -> GraphError:
    return GraphError(
        400,
        "Request_UnsupportedQuery",
        f"Property '{prop}' does not exist as a declared property or extension property.",
    )


@dataclass
class Filterable:
    """What a resource allows in $filter: property -> allowed operators."""

    resource: str  # e.g. "Application" (used in error messages)
    declared: dict[str, list[Any]]  # CSDL props: name -> [edm type, nullable]
    allowed: dict[str, set[str]]  # prop (or "prop/any") -> {"eq", "startswith", ...}

    def check(self, prop: str, op: str) -> None:
        base = prop.split("/", 1)[0]
        if base not in self.declared:
            raise unsupported_property(base)
        ops = self.allowed.get(prop)
        if ops is None or op not in ops:
            raise GraphError(
                400,
                "Request_UnsupportedQuery",
                f"Unsupported or invalid query filter clause specified for property '{base}' "
                f"of resource '{self.resource}'.",
            )


class _Parser:
    def __init__(self, text: str, spec: Filterable) -> None:
        self.text = text
        self.spec = spec
        self.toks: list[tuple[str, Any, int]] = []
        pos = 0
        while pos < len(text):
            if text[pos:].strip() == "":
                break
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise self.syntax(pos)
            kind = m.lastgroup or ""
            raw = m.group(kind)
            val: Any = raw
            if kind == "str":
                val = raw[1:-1].replace("''", "'")
            elif kind == "num":
                val = float(raw) if "." in raw else int(raw)
            elif kind == "guid":
                kind, val = "str", raw
            self.toks.append((kind, val, m.start(kind)))
            pos = m.end()
        self.i = 0

    def syntax(self, pos: int) -> GraphError:
        return GraphError(
            400,
            "BadRequest",
            f"Invalid filter clause: Syntax error at position {pos} in '{self.text}'.",
        )

    def peek(self) -> tuple[str, Any, int] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, kind: str | None = None, value: Any = None) -> tuple[str, Any, int]:
        t = self.peek()
        if t is None:
            raise self.syntax(len(self.text))
        if (kind and t[0] != kind) or (value is not None and str(t[1]).lower() != value):
            raise self.syntax(t[2])
        self.i += 1
        return t

    def is_word(self, word: str) -> bool:
        t = self.peek()
        return t is not None and t[0] == "ident" and t[1].lower() == word

    def parse(self) -> Pred:
        pred = self.expr()
        if self.peek() is not None:
            raise self.syntax(self.peek()[2])  # type: ignore[index]
        return pred

    def expr(self) -> Pred:
        left = self.term()
        while self.is_word("or"):
            self.i += 1
            right = self.term()
            left = (lambda a, b: lambda d: a(d) or b(d))(left, right)
        return left

    def term(self) -> Pred:
        left = self.factor()
        while self.is_word("and"):
            self.i += 1
            right = self.factor()
            left = (lambda a, b: lambda d: a(d) and b(d))(left, right)
        return left

    def factor(self) -> Pred:
        t = self.peek()
        if t is None:
            raise self.syntax(len(self.text))
        if self.is_word("not"):
            self.i += 1
            inner = self.factor()
            return lambda d: not inner(d)
        if t[0] == "punct" and t[1] == "(":
            self.i += 1
            inner = self.expr()
            self.take("punct", ")")
            return inner
        if t[0] == "ident" and t[1].lower() in ("startswith", "endswith", "contains"):
            fn = t[1].lower()
            self.i += 1
            self.take("punct", "(")
            prop = self.take("ident")[1]
            self.take("punct", ",")
            lit = self.take("str")[1]
            self.take("punct", ")")
            self.spec.check(prop, fn)
            low = lit.lower()
            if fn == "startswith":
                return lambda d: (
                    isinstance(_get(d, prop), str) and _get(d, prop).lower().startswith(low)
                )
            if fn == "endswith":
                return lambda d: (
                    isinstance(_get(d, prop), str) and _get(d, prop).lower().endswith(low)
                )
            return lambda d: isinstance(_get(d, prop), str) and low in _get(d, prop).lower()
        if t[0] == "ident" and "/" in t[1] and t[1].lower().endswith(("/any", "/all")):
            self.i += 1
            coll, fn = t[1].rsplit("/", 1)
            fn = fn.lower()
            self.take("punct", "(")
            var = self.take("ident")[1]
            self.take("punct", ":")
            lhs = self.take("ident")[1]
            if lhs != var:
                raise self.syntax(self.toks[self.i - 1][2])
            op = self.take("ident")[1].lower()
            if op not in _OPS:
                raise self.syntax(self.toks[self.i - 1][2])
            lit = self.literal()
            self.take("punct", ")")
            self.spec.check(f"{coll}/{fn}", op)
            test = _compare(op, lit)
            if fn == "any":
                return lambda d: any(test(v) for v in (_get(d, coll) or []))
            return lambda d: all(test(v) for v in (_get(d, coll) or []))
        # comparison: prop op literal
        prop = self.take("ident")[1]
        op = self.take("ident")[1].lower()
        if op not in _OPS:
            raise self.syntax(self.toks[self.i - 1][2])
        lit = self.literal()
        self.spec.check(prop, op)
        test = _compare(op, lit)
        return lambda d: test(_get(d, prop))

    def literal(self) -> Any:
        t = self.take()
        if t[0] in ("str", "num"):
            return t[1]
        if t[0] == "ident" and t[1].lower() in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[t[1].lower()]
        raise self.syntax(t[2])


def _get(doc: dict[str, Any], path: str) -> Any:
    cur: Any = doc
    for part in path.split("/"):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _norm(v: Any) -> Any:
    return v.lower() if isinstance(v, str) else v


def _compare(op: str, lit: Any) -> Callable[[Any], bool]:
    want = _norm(lit)

    def test(value: Any) -> bool:
        v = _norm(value)
        if op == "eq":
            return v == want
        if op == "ne":
            return v != want
        if v is None or want is None:
            return False
        try:
            return {"gt": v > want, "ge": v >= want, "lt": v < want, "le": v <= want}[op]
        except TypeError:
            return False

    return test


def parse_filter(text: str, spec: Filterable) -> Pred:
    return _Parser(text, spec).parse()


_SEARCH = re.compile(r'"([^":]+):([^"]*)"')


def parse_search(text: str, spec: Filterable) -> Pred:
    """``"displayName:foo" OR "description:bar"``: word-prefix match, case-insensitive."""
    clauses = _SEARCH.findall(text)
    if not clauses:
        raise GraphError(
            400,
            "Request_UnsupportedQuery",
            f"Syntax error: character '\"' is not valid at position 0 in '{text}'.",
        )
    joiner_or = " OR " in text.upper()
    tests = []
    for prop, value in clauses:
        if prop not in spec.declared:
            raise unsupported_property(prop)
        words = [w for w in re.split(r"[\s\-_.,/]+", value.lower()) if w]

        def test(d: dict[str, Any], prop: str = prop, words: list[str] = words) -> bool:
            v = _get(d, prop)
            if not isinstance(v, str):
                return False
            toks = re.split(r"[\s\-_.,/]+", v.lower())
            return all(any(t.startswith(w) for t in toks) for w in words)

        tests.append(test)
    if joiner_or:
        return lambda d: any(t(d) for t in tests)
    return lambda d: all(t(d) for t in tests)


def parse_select(text: str | None, declared: dict[str, list[Any]]) -> list[str] | None:
    if text is None:
        return None
    out = [p.strip() for p in text.split(",") if p.strip()]
    for p in out:
        if p not in declared:
            raise unsupported_property(p)
    return out


def parse_orderby(text: str | None, declared: dict[str, list[Any]]) -> list[tuple[str, bool]]:
    if not text:
        return []
    out = []
    for part in text.split(","):
        bits = part.strip().split()
        if not bits:
            continue
        if bits[0] not in declared:
            raise unsupported_property(bits[0])
        desc = len(bits) > 1 and bits[1].lower() == "desc"
        out.append((bits[0], desc))
    return out


def parse_top(text: str | None, default: int = 100, maximum: int = 999) -> int:
    if text is None:
        return default
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 1 or n > maximum:
        raise GraphError(
            400,
            "Request_UnsupportedQuery",
            f"Invalid page size specified: '{text}'. Must be between 1 and {maximum} inclusive.",
        )
    return n


def encode_skiptoken(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "v": 1}).encode()).decode().rstrip("=")


def decode_skiptoken(token: str | None) -> int:
    if not token:
        return 0
    try:
        pad = "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(token + pad))
        return max(0, int(data["o"]))
    except (ValueError, KeyError, TypeError):
        raise GraphError(400, "Request_BadRequest", "Invalid skip token.") from None


def project(doc: dict[str, Any], select: list[str] | None) -> dict[str, Any]:
    if select is None:
        return doc
    return {k: doc.get(k) for k in select}
