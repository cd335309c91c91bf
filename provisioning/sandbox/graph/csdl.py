"""The slice of Microsoft Graph's v1.0 CSDL the sandbox serves, as data.

``csdl.json`` (next to this file) holds, for every type reachable through structural
properties from the entity types we serve, its declared properties with their EDM type and
nullability, flattened over base types. It is extracted from Microsoft's published
``cleanMetadata.xml`` (msgraph-metadata) by :func:`extract`; the conformance test re-runs
the extraction on the reference copy and checks the shipped file still matches it.

The models use it to validate request bodies (unknown property, wrong JSON type), to
build complete default objects and to check ``$select``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOTS = (
    "application",
    "servicePrincipal",
    "federatedIdentityCredential",
    "appRoleAssignment",
    "organization",
    "site",
    "permission",
    "directoryObject",
    "list",
    "listItem",
    "unifiedRoleAssignment",
    "unifiedRoleDefinition",
)
SCHEMA_FILE = Path(__file__).with_name("csdl.json")
_NS = "{http://docs.oasis-open.org/odata/ns/edm}"


def extract(xml_path: str | Path, roots: tuple[str, ...] = ROOTS) -> dict[str, Any]:
    """Types reachable from ``roots`` through structural properties, flattened."""
    tree = ET.parse(str(xml_path))
    schema = next(
        s for s in tree.getroot().iter(f"{_NS}Schema") if s.get("Namespace") == "microsoft.graph"
    )
    raw: dict[str, ET.Element] = {}
    for el in schema:
        tag = el.tag.replace(_NS, "")
        if tag in ("EntityType", "ComplexType", "EnumType"):
            raw[el.get("Name", "")] = el

    def local(t: str) -> str:
        t = t[len("Collection(") : -1] if t.startswith("Collection(") else t
        return t.split(".", 1)[1] if t.startswith("graph.") else t

    out: dict[str, Any] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name in out or name not in raw:
            continue
        el = raw[name]
        tag = el.tag.replace(_NS, "")
        if tag == "EnumType":
            out[name] = {
                "kind": "EnumType",
                "members": [m.get("Name") for m in el.iter(f"{_NS}Member")],
            }
            continue
        chain, cur = [], el
        while cur is not None:
            chain.append(cur)
            base = cur.get("BaseType")
            cur = raw.get(local(base)) if base else None
        props: dict[str, list[Any]] = {}
        for c in reversed(chain):
            for p in c.findall(f"{_NS}Property"):
                ptype = p.get("Type", "")
                props[p.get("Name", "")] = [ptype, p.get("Nullable", "true") != "false"]
                if not local(ptype).startswith("Edm."):
                    todo.append(local(ptype))
        out[name] = {
            "kind": tag,
            "open": el.get("OpenType") == "true",
            "abstract": el.get("Abstract") == "true",
            "props": props,
        }
    return dict(sorted(out.items()))


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text())["types"]


def type_of(name: str) -> dict[str, Any]:
    return load()[name]


def element_type(edm: str) -> tuple[str, bool]:
    """('Edm.String' | 'appRole' ..., is_collection)."""
    coll = edm.startswith("Collection(")
    t = edm[len("Collection(") : -1] if coll else edm
    return (t.split(".", 1)[1] if t.startswith("graph.") else t), coll


_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def check_value(edm: str, value: Any, path: str) -> str | None:
    """Why ``value`` is not a valid JSON value of ``edm`` (None when it is, null included)."""
    if value is None:
        return None
    t, coll = element_type(edm)
    if coll:
        if not isinstance(value, list):
            return f"{path}: a collection was expected"
        for i, v in enumerate(value):
            if v is None:
                return f"{path}[{i}]: null is not allowed in a collection"
            err = check_value(t, v, f"{path}[{i}]")
            if err:
                return err
        return None
    if t == "Edm.String":
        return None if isinstance(value, str) else f"{path}: a string was expected"
    if t == "Edm.Guid":
        return (
            None
            if isinstance(value, str) and _GUID.match(value)
            else f"{path}: a GUID was expected"
        )
    if t == "Edm.Boolean":
        return None if isinstance(value, bool) else f"{path}: a boolean was expected"
    if t in ("Edm.Int32", "Edm.Int64"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{path}: an integer was expected"
    if t == "Edm.DateTimeOffset":
        return (
            None
            if isinstance(value, str) and _DATE.match(value)
            else f"{path}: a date-time was expected"
        )
    if t in ("Edm.Binary", "Edm.Stream"):
        return None if isinstance(value, str) else f"{path}: base64 data was expected"
    if t.startswith("Edm."):
        return None
    spec = load().get(t)
    if spec is None:
        return None
    if spec["kind"] == "EnumType":
        return (
            None if value in spec["members"] else f"{path}: one of {spec['members']} was expected"
        )
    if not isinstance(value, dict):
        return f"{path}: an object was expected"
    for k, v in value.items():
        if k.startswith("@odata."):
            continue
        if k not in spec["props"]:
            if spec.get("open"):
                continue
            return f"{path}.{k}: not a property of {t}"
        err = check_value(spec["props"][k][0], v, f"{path}.{k}")
        if err:
            return err
    return None


def default_of(edm: str) -> Any:
    """The value Graph shows for an unset property: [] for collections, else null."""
    return [] if edm.startswith("Collection(") else None
