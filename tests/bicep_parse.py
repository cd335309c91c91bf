"""Read a Bicep file without the Bicep compiler: a test utility built on tree-sitter-bicep.

Bicep cannot be compiled here, so tests parse templates with the tree-sitter grammar from
PyPI (``tree-sitter-bicep``) and inspect what they declare::

    from bicep_parse import parse_bicep

    f = parse_bicep(Path("bicep/home.bicep").read_text())
    assert not f.errors, "\\n".join(map(str, f.errors))
    for r in f.resources:
        print(r.symbol, r.type, r.api_version, r.existing, r.parent, r.name)
    f.params["apps"].type_text           # 'appSpec[]'
    f.check_value("apps", [...])         # shape problems of a parameter value, [] if it fits

What it gives (``BicepFile``):

* ``errors``: syntax errors (tree-sitter ``ERROR`` and ``MISSING`` nodes) with 1-based lines;
* ``resources``: symbolic name, full type (a nested child's type is prefixed with its parent's),
  api version, ``existing``, the parent (enclosing resource or ``parent:`` property), the ``name``
  expression as written, loop/condition flags and the body's object node;
* ``modules``, ``params`` (type, default, decorators, required or not), ``outputs``,
  ``variables``, ``types`` (user-defined types), ``extensions``, ``target_scope``;
* ``check_value(param, value)``: does a JSON value (a parameter file's) fit the declared type,
  following user-defined types, arrays, nullable (``T?``) and literal unions.

tree-sitter-bicep 1.1.0 (the newest on PyPI) predates Bicep's ``extension`` keyword (it knows the
older ``provider``/``import``). Top-level ``extension <alias>`` / ``extension '<ref>' [as a]``
lines are therefore read by this module itself and blanked (line numbers kept) before parsing;
a line starting with ``extension`` that does not have that shape is reported as an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import tree_sitter_bicep
from tree_sitter import Language, Node, Parser

__all__ = [
    "BicepFile",
    "Extension",
    "Module",
    "Output",
    "Param",
    "Resource",
    "SyntaxIssue",
    "TypeDecl",
    "Variable",
    "interpolations",
    "object_properties",
    "parse_bicep",
    "string_value",
    "text_of",
]


@cache
def _parser() -> Parser:
    return Parser(Language(tree_sitter_bicep.language()))


# =====================================================================================
# Result types
# =====================================================================================


@dataclass(frozen=True)
class SyntaxIssue:
    line: int  # 1-based
    column: int  # 1-based
    message: str
    text: str = ""

    def __str__(self) -> str:
        shown = f": {self.text!r}" if self.text else ""
        return f"line {self.line}:{self.column}: {self.message}{shown}"


@dataclass(frozen=True)
class Extension:
    """``extension microsoftGraphV1`` (alias from bicepconfig.json) or ``extension 'br:...'``."""

    name: str  # the alias, or the quoted reference
    reference: str | None  # the 'br:...' reference when given inline
    alias: str | None  # ``as <alias>``
    line: int


@dataclass
class Param:
    name: str
    type_text: str
    type_node: Node | None
    default: Node | None
    decorators: dict[str, list[str]]  # decorator name -> argument texts
    line: int

    @property
    def nullable(self) -> bool:
        node = _unwrap_type(self.type_node)
        return node is not None and node.type == "nullable_type"

    @property
    def required(self) -> bool:
        """A parameter file must give it: no default value and not nullable."""
        return self.default is None and not self.nullable

    @property
    def default_text(self) -> str | None:
        return text_of(self.default) if self.default is not None else None

    @property
    def description(self) -> str | None:
        args = self.decorators.get("description")
        return _literal(args[0]) if args else None


@dataclass
class Output:
    name: str
    type_text: str
    value: Node
    loop: bool
    line: int

    @property
    def value_text(self) -> str:
        return text_of(self.value)


@dataclass
class Variable:
    name: str
    value: Node
    line: int

    @property
    def value_text(self) -> str:
        return text_of(self.value)


@dataclass
class TypeDecl:
    name: str
    node: Node
    line: int


@dataclass
class Resource:
    symbol: str
    type: str  # full type: a nested child's short type is prefixed with its parent's
    declared_type: str  # as written in the declaration ('federatedIdentityCredentials')
    api_version: str
    existing: bool
    parent: str | None  # symbolic name of the enclosing resource, or of ``parent:``
    nested: bool  # declared inside its parent's body
    loop: bool  # ``[for ...]``
    condition: bool  # ``if (...)``
    body: Node | None  # the object literal
    line: int
    children: list[Resource] = field(default_factory=list)

    @property
    def type_ref(self) -> str:
        return f"{self.type}@{self.api_version}"

    @property
    def properties(self) -> dict[str, Node]:
        """Top-level properties of the body (name -> value node)."""
        return object_properties(self.body) if self.body is not None else {}

    @property
    def name_node(self) -> Node | None:
        return self.properties.get("name")

    @property
    def name(self) -> str | None:
        """The ``name`` expression as written (quotes included), or ``None``."""
        node = self.name_node
        return text_of(node) if node is not None else None

    @property
    def namespace(self) -> str:
        return self.type.split("/", 1)[0]


@dataclass
class Module:
    symbol: str
    path: str  # the module reference as written ('modules/x.bicep', 'br/public:...')
    loop: bool
    condition: bool
    body: Node | None
    line: int

    @property
    def properties(self) -> dict[str, Node]:
        return object_properties(self.body) if self.body is not None else {}

    @property
    def params(self) -> dict[str, Node]:
        node = self.properties.get("params")
        return object_properties(node) if node is not None else {}

    @property
    def is_local(self) -> bool:
        return not re.match(r"^(br|ts)[:/]", self.path)


@dataclass
class BicepFile:
    text: str
    root: Node
    errors: list[SyntaxIssue]
    extensions: list[Extension]
    params: dict[str, Param]
    outputs: dict[str, Output]
    variables: dict[str, Variable]
    types: dict[str, TypeDecl]
    resources: list[Resource]  # every resource, nested ones included, in source order
    modules: list[Module]
    target_scope: str  # 'resourceGroup' unless the file says otherwise

    def resource(self, symbol: str) -> Resource:
        for r in self.resources:
            if r.symbol == symbol:
                return r
        raise KeyError(f"no resource {symbol!r}; declared: {[r.symbol for r in self.resources]}")

    def resources_of_type(self, full_type: str) -> list[Resource]:
        return [r for r in self.resources if r.type.lower() == full_type.lower()]

    # --- parameter values against declared types ----------------------------------------
    def check_value(self, param: str, value: Any) -> list[str]:
        """Problems fitting ``value`` (plain JSON) to parameter ``param``'s declared type."""
        if param not in self.params:
            return [f"{param}: not a parameter of the template"]
        p = self.params[param]
        return self._check(p.type_node, value, param, set())

    def _check(self, tnode: Node | None, value: Any, path: str, seen: set[str]) -> list[str]:
        node = _unwrap_type(tnode)
        if node is None:
            return []
        kind = node.type
        if kind == "nullable_type":
            return [] if value is None else self._check(node.named_children[0], value, path, seen)
        if value is None:
            return [f"{path}: null, but the type {text_of(node)} is not nullable"]
        if kind == "primitive_type":
            return _check_primitive(text_of(node), value, path)
        if kind == "identifier":
            name = text_of(node)
            if name in _PRIMITIVES:
                return _check_primitive(name, value, path)
            decl = self.types.get(name)
            if decl is None:
                return [f"{path}: type {name!r} is not declared in the template"]
            if name in seen:  # recursive type: stop
                return []
            return self._check(_type_body(decl.node), value, path, seen | {name})
        if kind == "array_type":
            if not isinstance(value, list):
                return [f"{path}: expected an array ({text_of(node)}), got {_json_kind(value)}"]
            elem = node.named_children[0]
            out: list[str] = []
            for i, item in enumerate(value):
                out.extend(self._check(elem, item, f"{path}[{i}]", seen))
            return out
        if kind == "object":
            if not isinstance(value, dict):
                return [f"{path}: expected an object, got {_json_kind(value)}"]
            fields, additional = _object_type_fields(node)
            out = []
            for fname, ftype in fields.items():
                if fname not in value:
                    unwrapped = _unwrap_type(ftype)
                    if unwrapped is None or unwrapped.type != "nullable_type":
                        out.append(f"{path}.{fname}: missing (required by the type)")
                    continue
                out.extend(self._check(ftype, value[fname], f"{path}.{fname}", seen))
            for key in value:
                if key in fields:
                    continue
                if additional is None:
                    out.append(f"{path}.{key}: not a property of the declared type")
                else:
                    out.extend(self._check(additional, value[key], f"{path}.{key}", seen))
            return out
        if kind == "union_type":
            members = node.named_children
            problems = [self._check(m, value, path, seen) for m in members]
            if any(not p for p in problems):
                return []
            allowed = " | ".join(text_of(m) for m in members)
            return [f"{path}: {value!r} is none of {allowed}"]
        if kind == "string":  # a literal type ('a')
            lit = string_value(node)
            return [] if value == lit else [f"{path}: expected {lit!r}, got {value!r}"]
        if kind in ("number", "boolean"):
            lit = text_of(node)
            return [] if str(value).lower() == lit.lower() else [f"{path}: expected {lit}"]
        return []  # a type this checker does not model: accept


_PRIMITIVES = {"string", "int", "bool", "object", "array", "secureString", "secureObject"}


def _check_primitive(name: str, value: Any, path: str) -> list[str]:
    ok = {
        "string": isinstance(value, str),
        "secureString": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
        "object": isinstance(value, dict),
        "secureObject": isinstance(value, dict),
        "array": isinstance(value, list),
    }.get(name, True)
    return [] if ok else [f"{path}: expected {name}, got {_json_kind(value)}"]


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    return {str: "string", dict: "object", list: "array", float: "number"}.get(
        type(value), type(value).__name__
    )


def _unwrap_type(node: Node | None) -> Node | None:
    """Strip the ``type`` / ``parenthesized_type`` wrappers around a type expression."""
    while node is not None and node.type in ("type", "parenthesized_type"):
        named = [c for c in node.named_children if c.type != "comment"]
        node = named[0] if named else None
    return node


def _type_body(decl: Node) -> Node | None:
    """The type expression of a ``type X = ...`` declaration."""
    seen_eq = False
    for c in decl.children:
        if c.type == "=":
            seen_eq = True
        elif seen_eq and c.is_named and c.type != "comment":
            return c
    return None


def _object_type_fields(node: Node) -> tuple[dict[str, Node], Node | None]:
    """Fields of an object type literal, and the ``*: T`` additional-properties type."""
    fields: dict[str, Node] = {}
    additional: Node | None = None
    for prop in node.named_children:
        if prop.type != "object_property":
            continue
        key, value = _property_key_value(prop)
        if key == "*":
            additional = value
        elif key is not None and value is not None:
            fields[key] = value
    return fields, additional


# =====================================================================================
# Node helpers
# =====================================================================================


def text_of(node: Node | None) -> str:
    if node is None:
        return ""
    return (node.text or b"").decode("utf-8")


def _literal(text: str) -> str:
    if text.startswith("'''") and text.endswith("'''"):
        return text[3:-3]
    if len(text) >= 2 and text[0] == "'" and text[-1] == "'":
        return re.sub(
            r"\\(.)", lambda m: {"n": "\n", "t": "\t", "r": "\r"}.get(m[1], m[1]), text[1:-1]
        )
    return text


def string_value(node: Node | None) -> str | None:
    """The value of a string literal without interpolation, else ``None``."""
    if node is None or node.type != "string":
        return None
    if any(c.type == "interpolation" for c in node.named_children):
        return None
    return _literal(text_of(node))


def interpolations(node: Node | None) -> list[str]:
    """The expressions interpolated into a string literal (``'${a.b}/x'`` -> ``['a.b']``)."""
    if node is None or node.type != "string":
        return []
    out = []
    for c in node.named_children:
        if c.type == "interpolation":
            inner = [x for x in c.named_children if x.type != "comment"]
            out.append(text_of(inner[0]) if inner else "")
    return out


def _property_key_value(prop: Node) -> tuple[str | None, Node | None]:
    key: str | None = None
    value: Node | None = None
    seen_colon = False
    for c in prop.children:
        if c.type == ":":
            seen_colon = True
        elif not seen_colon:
            if c.type in ("identifier", "compatible_identifier", "property_identifier"):
                key = text_of(c)
            elif c.type == "string":
                key = string_value(c)
            elif c.type == "*":
                key = "*"
        elif c.is_named and c.type not in ("comment", "decorators"):
            value = c
    return key, value


def object_properties(node: Node | None) -> dict[str, Node]:
    """``{ a: x, 'b-c': y }`` -> {'a': <x>, 'b-c': <y>}; nested resources are left out."""
    if node is None or node.type != "object":
        return {}
    out: dict[str, Node] = {}
    for prop in node.named_children:
        if prop.type != "object_property":
            continue
        if any(c.type == "resource_declaration" for c in prop.named_children):
            continue
        key, value = _property_key_value(prop)
        if key is not None and value is not None:
            out[key] = value
    return out


def _decorators(node: Node | None) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if node is None:
        return out
    for dec in node.named_children:
        if dec.type != "decorator":
            continue
        for call in dec.named_children:
            if call.type != "call_expression":
                continue
            fn = call.child_by_field_name("function") or call.named_children[0]
            name = text_of(fn).split(".")[-1]
            args = [
                text_of(a)
                for a in (
                    call.child_by_field_name("arguments") or call.named_children[-1]
                ).named_children
            ]
            out[name] = args
    return out


def _iter_errors(node: Node) -> Iterator[SyntaxIssue]:
    if node.is_missing:
        yield SyntaxIssue(
            node.start_point[0] + 1, node.start_point[1] + 1, f"missing {node.type!r}"
        )
        return
    if node.is_error:
        snippet = text_of(node).strip().splitlines()
        yield SyntaxIssue(
            node.start_point[0] + 1,
            node.start_point[1] + 1,
            "syntax error",
            snippet[0][:80] if snippet else "",
        )
        return
    if not node.has_error:
        return
    for c in node.children:
        yield from _iter_errors(c)


# =====================================================================================
# `extension` statements (newer than the grammar)
# =====================================================================================

_EXTENSION_START = re.compile(r"^[ \t]*extension\b")
_EXTENSION_LINE = re.compile(
    r"""^[ \t]*extension[ \t]+
        (?:(?P<alias>[A-Za-z_][A-Za-z0-9_]*)|'(?P<ref>[^'\n]+)')
        (?:[ \t]+as[ \t]+(?P<as>[A-Za-z_][A-Za-z0-9_]*))?
        [ \t]*(?://[^\n]*)?$""",
    re.VERBOSE,
)


def _take_extensions(text: str) -> tuple[str, list[Extension], list[SyntaxIssue], list[int]]:
    """Blank ``extension`` lines (keeping offsets) and record them; return the line starts."""
    lines = text.split("\n")
    out_lines: list[str] = []
    extensions: list[Extension] = []
    issues: list[SyntaxIssue] = []
    blanked: list[int] = []
    for n, line in enumerate(lines):
        if not _EXTENSION_START.match(line):
            out_lines.append(line)
            continue
        m = _EXTENSION_LINE.match(line.rstrip("\r"))
        if m:
            extensions.append(
                Extension(
                    name=m["alias"] or m["ref"],
                    reference=m["ref"],
                    alias=m["as"],
                    line=n + 1,
                )
            )
        else:
            issues.append(
                SyntaxIssue(
                    n + 1,
                    1,
                    "malformed extension declaration (expected: extension <alias> | "
                    "extension '<br:...>' [as <alias>])",
                    line.strip(),
                )
            )
        blanked.append(n)
        out_lines.append(re.sub(r"[^\r]", " ", line))
    return "\n".join(out_lines), extensions, issues, blanked


# =====================================================================================
# The walk
# =====================================================================================


def parse_bicep(text: str) -> BicepFile:
    """Parse Bicep source. Never raises for bad Bicep: problems are in ``errors``."""
    blanked_text, extensions, ext_issues, blanked = _take_extensions(text)
    tree = _parser().parse(blanked_text.encode("utf-8"))
    root = tree.root_node
    # A blanked line that turns out to sit inside a (multi-line) string was not a statement.
    restore = [n for n in blanked if _inside_non_root(root, n)]
    if restore:
        lines = blanked_text.split("\n")
        original = text.split("\n")
        for n in restore:
            lines[n] = original[n]
        extensions = [e for e in extensions if e.line - 1 not in restore]
        ext_issues = [i for i in ext_issues if i.line - 1 not in restore]
        tree = _parser().parse("\n".join(lines).encode("utf-8"))
        root = tree.root_node

    f = BicepFile(
        text=text,
        root=root,
        errors=[*ext_issues, *_iter_errors(root)],
        extensions=extensions,
        params={},
        outputs={},
        variables={},
        types={},
        resources=[],
        modules=[],
        target_scope="resourceGroup",
    )
    f.errors.extend(_type_ambiguities(root))
    f.errors.sort(key=lambda i: (i.line, i.column))
    pending_decorators: Node | None = None
    for node in root.named_children:
        if node.type == "decorators":
            pending_decorators = node
            continue
        decorators, pending_decorators = pending_decorators, None
        line = node.start_point[0] + 1
        if node.type == "target_scope_assignment":
            value = next((c for c in node.named_children if c.type == "string"), None)
            f.target_scope = string_value(value) or text_of(value)
        elif node.type == "parameter_declaration":
            p = _param(node, decorators)
            f.params[p.name] = p
        elif node.type == "output_declaration":
            o = _output(node)
            if o is not None:
                f.outputs[o.name] = o
        elif node.type == "variable_declaration":
            named = [c for c in node.named_children if c.type != "comment"]
            if len(named) >= 2:
                f.variables[text_of(named[0])] = Variable(text_of(named[0]), named[-1], line)
        elif node.type == "type_declaration":
            name = next((c for c in node.named_children if c.type == "identifier"), None)
            if name is not None:
                f.types[text_of(name)] = TypeDecl(text_of(name), node, line)
        elif node.type == "resource_declaration":
            f.resources.extend(_resources(node, parent=None))
        elif node.type == "module_declaration":
            m = _module(node)
            if m is not None:
                f.modules.append(m)
        elif node.type == "import_statement":  # the older `provider`/`import` spelling
            s = next((c for c in node.named_children if c.type == "string"), None)
            alias = next((c for c in node.named_children if c.type == "identifier"), None)
            if s is not None:
                ref = string_value(s) or text_of(s)
                f.extensions.append(
                    Extension(ref, ref, text_of(alias) if alias is not None else None, line)
                )
    return f


def _type_ambiguities(root: Node) -> Iterator[SyntaxIssue]:
    """Expressions where only a type may stand. Bicep ends a statement at a newline; the
    tree-sitter grammar does not, so ``tags: { *: string }?`` followed by a newline and
    ``next: T`` is read as a ternary. Report it instead of reading a wrong type."""

    def walk(node: Node) -> Iterator[SyntaxIssue]:
        if node.type in ("ternary_expression", "binary_expression", "call_expression"):
            yield SyntaxIssue(
                node.start_point[0] + 1,
                node.start_point[1] + 1,
                "an expression where a type belongs (tree-sitter-bicep reads `T?` before a "
                "newline as a ternary: give the type a name, or move the field last)",
                text_of(node).splitlines()[0][:80],
            )
            return
        for c in node.named_children:
            if c.type != "decorators":
                yield from walk(c)

    for node in root.named_children:
        if node.type == "type_declaration":
            body = _type_body(node)
            if body is not None:
                yield from walk(body)
        elif node.type == "parameter_declaration":
            kids = [c for c in node.named_children if c.type != "comment"]
            if len(kids) > 1 and kids[1].type == "type":
                yield from walk(kids[1])


def _inside_non_root(root: Node, line: int) -> bool:
    node = root.descendant_for_point_range((line, 0), (line, 0))
    while node is not None and node != root:
        if node.type == "string":
            return True
        node = node.parent
    return False


def _param(node: Node, decorators: Node | None) -> Param:
    name_node: Node | None = None
    type_node: Node | None = None
    default: Node | None = None
    seen_eq = False
    for c in node.children:
        if c.type == "=":
            seen_eq = True
        elif not c.is_named or c.type == "comment":
            continue
        elif seen_eq:
            default = c
        elif name_node is None:
            name_node = c
        else:
            type_node = c
    name = text_of(name_node)
    return Param(
        name=name,
        type_text=text_of(type_node),
        type_node=type_node,
        default=default,
        decorators=_decorators(decorators),
        line=node.start_point[0] + 1,
    )


def _output(node: Node) -> Output | None:
    named = [c for c in node.named_children if c.type != "comment"]
    if len(named) < 3:
        return None
    value = named[-1]
    return Output(
        name=text_of(named[0]),
        type_text=text_of(named[1]),
        value=value,
        loop=value.type == "for_statement",
        line=node.start_point[0] + 1,
    )


def _body(value: Node | None) -> tuple[Node | None, bool, bool]:
    """The object literal behind ``{...}``, ``[for ...: {...}]`` and ``if (...) {...}``."""
    loop = condition = False
    node = value
    for _ in range(4):
        if node is None:
            break
        if node.type == "for_statement":
            loop = True
            node = node.child_by_field_name("body") or (
                node.named_children[-1] if node.named_children else None
            )
        elif node.type == "if_statement":
            condition = True
            node = next((c for c in node.named_children if c.type == "object"), None)
        else:
            break
    return (node if node is not None and node.type == "object" else None), loop, condition


def _resources(node: Node, parent: Resource | None) -> list[Resource]:
    symbol_node = next((c for c in node.named_children if c.type == "identifier"), None)
    type_node = next((c for c in node.named_children if c.type == "string"), None)
    declared = string_value(type_node) or text_of(type_node).strip("'")
    short, _, api = declared.partition("@")
    full = f"{parent.type}/{short}" if parent is not None and "/" not in short else short
    value = None
    seen_eq = False
    for c in node.children:
        if c.type == "=":
            seen_eq = True
        elif seen_eq and c.is_named and c.type != "comment":
            value = c
    body, loop, condition = _body(value)
    res = Resource(
        symbol=text_of(symbol_node),
        type=full,
        declared_type=short,
        api_version=api,
        existing=any(c.type == "existing" for c in node.children),
        parent=parent.symbol if parent is not None else None,
        nested=parent is not None,
        loop=loop,
        condition=condition,
        body=body,
        line=node.start_point[0] + 1,
    )
    if parent is None:
        parent_prop = object_properties(body).get("parent")
        if parent_prop is not None:
            res.parent = text_of(parent_prop).split("[", 1)[0]
    out = [res]
    if body is not None:
        for prop in body.named_children:
            if prop.type != "object_property":
                continue
            for child in prop.named_children:
                if child.type == "resource_declaration":
                    kids = _resources(child, parent=res)
                    res.children.append(kids[0])
                    out.extend(kids)
    return out


def _module(node: Node) -> Module | None:
    symbol_node = next((c for c in node.named_children if c.type == "identifier"), None)
    path_node = next((c for c in node.named_children if c.type == "string"), None)
    if symbol_node is None or path_node is None:
        return None
    value = None
    seen_eq = False
    for c in node.children:
        if c.type == "=":
            seen_eq = True
        elif seen_eq and c.is_named and c.type != "comment":
            value = c
    body, loop, condition = _body(value)
    return Module(
        symbol=text_of(symbol_node),
        path=string_value(path_node) or text_of(path_node).strip("'"),
        loop=loop,
        condition=condition,
        body=body,
        line=node.start_point[0] + 1,
    )
