"""Check what a Bicep template declares against Microsoft's published API descriptions.

The reference data is vendored in ``tests/reference/`` (its ``SOURCES.json`` says where each file
came from): ARM OpenAPI specs per provider and api-version, and a summary of the Graph v1.0 CSDL
for the identity entities.

    from bicep_reference import arm_type, graph_type, check_body

    t = arm_type("Microsoft.ManagedIdentity/userAssignedIdentities", "2023-01-31")
    t.spec, t.path                           # the spec file and its PUT path
    check_body(resource.body, t.body)        # [] or ["tags.x: ...", ...]

    g = graph_type("Microsoft.Graph/applications/federatedIdentityCredentials", "v1.0")
    check_body(resource.body, g)

``arm_type`` / ``graph_type`` raise ``LookupError`` with a message that says what was looked
for, where, and what is there instead.
"""

from __future__ import annotations

import difflib
import json
import posixpath
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bicep_parse import object_properties, text_of
from tree_sitter import Node

__all__ = [
    "ArmType",
    "GraphSchema",
    "Schema",
    "arm_type",
    "check_body",
    "graph_type",
    "reference_dir",
]

BICEP_META = frozenset({"name", "scope", "parent", "dependsOn"})
"""Properties of a resource body that are Bicep's, not the API's (``name`` is the URL segment
for an ARM resource; for Graph resources it is checked like any other property)."""


def reference_dir() -> Path:
    """The vendored reference (``tests/reference``)."""
    return Path(__file__).resolve().parent / "reference"


def _ref() -> Path:
    return reference_dir()


# =====================================================================================
# Schemas: one small interface over OpenAPI (ARM) and CSDL (Graph)
# =====================================================================================


class Schema:
    """What a value may look like: ``kind`` is 'object', 'array', 'leaf' or 'any'."""

    label: str = "?"
    kind: str = "any"
    read_only: bool = False

    def prop(self, name: str) -> Schema | None:  # an object's property, None if unknown
        return None

    def items(self) -> Schema | None:  # an array's element
        return None

    def property_names(self) -> list[str]:
        return []


class _Any(Schema):
    label = "any"


ANY = _Any()


# --- ARM (OpenAPI 2.0, $ref across files) ----------------------------------------------


@cache
def _sources() -> dict[str, str]:
    """original path (under specification/) -> local path, from SOURCES.json."""
    data = json.loads((_ref() / "SOURCES.json").read_text())
    return {f["source_path"]: f["local"] for f in data["files"] if "source_path" in f}


@cache
def _local_to_source() -> dict[str, str]:
    return {v: k for k, v in _sources().items()}


@cache
def _load(local: str) -> dict[str, Any]:
    return json.loads((_ref() / local).read_text())


def _resolve(ref: str, local: str) -> tuple[dict[str, Any], str]:
    """Follow one ``$ref`` from the file ``local`` (a path relative to the reference dir)."""
    target, _, pointer = ref.partition("#")
    if target:
        source = _local_to_source().get(local)
        if source is None:
            raise LookupError(f"{local}: not listed in SOURCES.json, cannot resolve {ref}")
        target_source = posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
        target_local = _sources().get(target_source)
        if target_local is None:
            raise LookupError(f"{local}: $ref {ref} -> {target_source} is not in the reference")
        local = target_local
    node: Any = _load(local)
    for part in [p for p in pointer.split("/") if p]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, local


class OpenApiSchema(Schema):
    def __init__(self, node: dict[str, Any], local: str, label: str = "", read_only: bool = False):
        while "$ref" in node:
            ro = node.get("readOnly", False)
            node, local = _resolve(node["$ref"], local)
            read_only = read_only or ro
        self.node = node
        self.local = local
        self.label = label or node.get("title") or "schema"
        self.read_only = read_only or bool(node.get("readOnly"))
        if node.get("type") == "array" or "items" in node:
            self.kind = "array"
        elif node.get("type") == "object" or "properties" in node or "allOf" in node:
            self.kind = "object"
        elif node.get("type") in ("string", "integer", "number", "boolean"):
            self.kind = "leaf"
        else:
            self.kind = "any"

    def _props(self) -> dict[str, tuple[dict[str, Any], str]]:
        out: dict[str, tuple[dict[str, Any], str]] = {}
        for part in self.node.get("allOf", []):
            out.update(OpenApiSchema(part, self.local)._props())
        for k, v in self.node.get("properties", {}).items():
            out[k] = (v, self.local)
        return out

    def _additional(self) -> Schema | None:
        add = self.node.get("additionalProperties")
        if isinstance(add, dict):
            return OpenApiSchema(add, self.local, f"{self.label}.*")
        if add is True:
            return ANY
        for part in self.node.get("allOf", []):
            found = OpenApiSchema(part, self.local)._additional()
            if found is not None:
                return found
        return None

    def prop(self, name: str) -> Schema | None:
        props = self._props()
        if name in props:
            node, local = props[name]
            return OpenApiSchema(node, local, f"{self.label}.{name}")
        return self._additional()

    def items(self) -> Schema | None:
        items = self.node.get("items")
        return OpenApiSchema(items, self.local, f"{self.label}[]") if items else None

    def property_names(self) -> list[str]:
        return sorted(self._props())


@dataclass(frozen=True)
class ArmType:
    type: str
    api_version: str
    spec: Path  # the spec file (absolute)
    path: str  # its PUT path template
    body: Schema  # the PUT body

    def __str__(self) -> str:
        return f"{self.type}@{self.api_version} ({self.spec.name}: PUT {self.path})"


def _path_pattern(full_type: str) -> re.Pattern[str]:
    namespace, *types = full_type.split("/")
    if (
        namespace.lower() == "microsoft.resources"
        and types
        and types[0].lower() == "resourcegroups"
    ):
        return re.compile(r"/resourcegroups/\{[^/}]+\}$", re.IGNORECASE)
    segs = "".join(rf"/{re.escape(t)}/\{{[^/}}]+\}}" for t in types)
    return re.compile(rf"/providers/{re.escape(namespace)}{segs}$", re.IGNORECASE)


def arm_type(full_type: str, api_version: str) -> ArmType:
    """The PUT operation for ``full_type`` in the spec of ``api_version``, or ``LookupError``."""
    ref = _ref()
    namespace = full_type.split("/", 1)[0]
    provider_dirs = {p.name.lower(): p for p in (ref / "arm").iterdir() if p.is_dir()}
    provider = provider_dirs.get(namespace.lower())
    if provider is None:
        raise LookupError(
            f"{full_type}@{api_version}: provider {namespace} is not in {ref / 'arm'} "
            f"(there: {', '.join(sorted(p.name for p in provider_dirs.values()))})"
        )
    version_dir = provider / api_version
    if not version_dir.is_dir():
        have = sorted(p.name for p in provider.iterdir() if p.is_dir() and p.name[0].isdigit())
        raise LookupError(
            f"{full_type}@{api_version}: no {namespace} spec for api-version {api_version} in "
            f"{provider} (versions there: {', '.join(have) or 'none'})"
        )
    pattern = _path_pattern(full_type)
    seen_paths: list[str] = []
    for spec in sorted(version_dir.glob("*.json")):
        local = spec.relative_to(ref).as_posix()
        doc = _load(local)
        if doc.get("info", {}).get("version") != api_version:
            continue
        for path, ops in doc.get("paths", {}).items():
            seen_paths.append(path)
            if not pattern.search(path) or "put" not in ops:
                continue
            body, body_local = None, local
            for param in ops["put"].get("parameters", []):
                param_local = local
                if "$ref" in param:
                    param, param_local = _resolve(param["$ref"], local)
                if param.get("in") == "body":
                    body, body_local = param, param_local
                    break
            schema = (
                OpenApiSchema(body["schema"], body_local, full_type.rsplit("/", 1)[-1])
                if body
                else ANY
            )
            return ArmType(full_type, api_version, spec, path, schema)
    resource_paths = sorted(p for p in seen_paths if "/providers/" in p)
    raise LookupError(
        f"{full_type}@{api_version}: no PUT path for this type in the {api_version} specs under "
        f"{version_dir}; resource paths there: {resource_paths[:12]}"
    )


# --- Graph (CSDL summary) -----------------------------------------------------------


@cache
def _graph_summary() -> dict[str, Any]:
    return json.loads((_ref() / "graph" / "v1.0" / "csdl-identity-subset.summary.json").read_text())


def _short(type_name: str) -> str:
    return type_name.replace("microsoft.graph.", "").replace("graph.", "")


class GraphSchema(Schema):
    def __init__(self, type_name: str, label: str = ""):
        self.type_name = type_name  # 'graph.application', 'Collection(graph.x)', 'Edm.String'
        self.label = label or _short(type_name)
        m = re.fullmatch(r"Collection\((.+)\)", type_name)
        if m:
            self.kind = "array"
            self.element = m[1]
        elif type_name.startswith("Edm."):
            self.kind = "leaf"
        else:
            t = _graph_summary()["types"].get(_short(type_name))
            self.kind = "any" if t is None else ("leaf" if t["kind"] == "EnumType" else "object")

    def _all_props(self) -> dict[str, str]:
        types = _graph_summary()["types"]
        out: dict[str, str] = {}
        name: str | None = _short(self.type_name)
        while name:
            t = types.get(name)
            if t is None:
                break
            for k, v in t.get("properties", {}).items():
                out.setdefault(k, v["type"])
            for k, v in t.get("navigationProperties", {}).items():
                out.setdefault(k, v["type"])
            name = _short(t["baseType"]) if t.get("baseType") else None
        return out

    def prop(self, name: str) -> Schema | None:
        if self.kind != "object":
            return None
        t = self._all_props().get(name)
        return GraphSchema(t, f"{self.label}.{name}") if t else None

    def items(self) -> Schema | None:
        return GraphSchema(self.element, f"{self.label}[]") if self.kind == "array" else None

    def property_names(self) -> list[str]:
        return sorted(self._all_props())

    def navigation(self, name: str) -> str | None:
        t = _graph_summary()["types"].get(_short(self.type_name), {})
        nav = t.get("navigationProperties", {}).get(name)
        return nav["type"] if nav else None


def graph_type(full_type: str, api_version: str) -> GraphSchema:
    """The Graph entity behind a ``Microsoft.Graph/...`` Bicep type, or ``LookupError``."""
    if api_version != "v1.0":
        raise LookupError(
            f"{full_type}@{api_version}: the reference has Graph v1.0 only; use @v1.0 "
            "(beta types are not generally available)"
        )
    namespace, *segments = full_type.split("/")
    if namespace != "Microsoft.Graph" or not segments:
        raise LookupError(f"{full_type}: not a Microsoft.Graph type")
    sets = _graph_summary()["entitySets"]
    if segments[0] not in sets:
        raise LookupError(
            f"{full_type}@{api_version}: {segments[0]!r} is not an entity set in the reference "
            f"CSDL (there: {', '.join(sorted(sets))})"
        )
    schema = GraphSchema(sets[segments[0]], segments[0])
    for seg in segments[1:]:
        nav = schema.navigation(seg)
        if nav is None:
            raise LookupError(
                f"{full_type}@{api_version}: {schema.label} has no navigation property {seg!r}"
            )
        m = re.fullmatch(r"Collection\((.+)\)", nav)
        schema = GraphSchema(m[1] if m else nav, seg)
    return schema


# =====================================================================================
# Walking a Bicep expression against a schema
# =====================================================================================


def _shapes(node: Node | None) -> list[tuple[str, Node, list[Node]]]:
    """The literal shapes an expression may evaluate to, as far as can be seen statically:
    ('object', <object node>, []) or ('array', <node>, [<element expressions>])."""
    if node is None:
        return []
    t = node.type
    if t == "object":
        return [("object", node, [])]
    if t == "array":
        return [("array", node, [c for c in node.named_children if c.type != "comment"])]
    if t == "for_statement":
        body = node.child_by_field_name("body") or node.named_children[-1]
        return [("array", node, [body])]
    if t == "parenthesized_expression":
        return [s for c in node.named_children for s in _shapes(c)]
    if t == "ternary_expression":
        return [
            s
            for field in ("consequence", "alternative")
            for s in _shapes(node.child_by_field_name(field))
        ]
    if t == "binary_expression" and any(c.type == "??" for c in node.children):
        return [s for c in node.named_children for s in _shapes(c)]
    if t == "call_expression":
        fn = text_of(node.child_by_field_name("function") or node.named_children[0])
        args_node = node.child_by_field_name("arguments") or node.named_children[-1]
        args = [c for c in args_node.named_children if c.type != "comment"]
        if fn in ("union", "concat", "flatten", "filter", "sort", "intersection"):
            return [s for a in args for s in _shapes(a)]
        if fn == "map" and len(args) == 2 and args[1].type == "lambda_expression":
            return [("array", node, [args[1].named_children[-1]])]
    return []


def check_body(
    node: Node | None, schema: Schema, *, meta: frozenset[str] = BICEP_META
) -> list[str]:
    """Problems of a resource body (object literal) against the API's schema: unknown
    properties, writes to read-only ones, objects or arrays where the API expects something
    else, recursively. ``meta`` names top-level keys that belong to Bicep, not to the API."""
    return _check(node, schema, schema.label, top_meta=meta)


def _check(
    node: Node | None, schema: Schema, path: str, top_meta: frozenset[str] = frozenset()
) -> list[str]:
    out: list[str] = []
    for shape, n, elements in _shapes(node):
        line = n.start_point[0] + 1
        if schema.kind == "any":
            continue
        if shape == "object":
            if schema.kind != "object":
                out.append(f"line {line}: {path}: an object where the API expects {schema.kind}")
                continue
            for key, value in object_properties(n).items():
                if key in top_meta:
                    continue
                sub = schema.prop(key)
                if sub is None:
                    names = schema.property_names()
                    close = [p for p in names if p.lower() == key.lower()]
                    close += difflib.get_close_matches(key, names, n=1, cutoff=0.8)
                    hint = f" (did you mean {close[0]!r}?)" if close else ""
                    out.append(
                        f"line {value.start_point[0] + 1}: {path}.{key}: not a property of "
                        f"{schema.label}{hint}"
                    )
                elif sub.read_only:
                    out.append(
                        f"line {value.start_point[0] + 1}: {path}.{key}: read-only in the API"
                    )
                else:
                    out.extend(_check(value, sub, f"{path}.{key}"))
        else:
            if schema.kind != "array":
                out.append(f"line {line}: {path}: an array where the API expects {schema.kind}")
                continue
            items = schema.items()
            if items is not None:
                for e in elements:
                    out.extend(_check(e, items, f"{path}[]"))
    return out
