"""ARM resource ids, parsed structurally and compared case-insensitively, as ARM does.

An id is a scope chain: the root ``/``, a management group, a subscription, a resource
group, then any number of provider blocks (``/providers/{Namespace}/{type}/{name}`` with
nested ``/{childType}/{childName}`` pairs).  A provider block that follows a resource is an
*extension* resource on it (role assignments, diagnostic settings, ...).  Parsing checks the
shape only; whether the resource exists is for ARM to say.

The resource types an identity may be attached to are in ``core/hosts.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Kind = Literal["root", "management_group", "subscription", "resource_group", "resource"]

# \A...\Z, not ^...$: Python's $ also matches before a final newline ("<guid>\n" would pass).
GUID_RE = re.compile(r"\A[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}\Z")
_NAMESPACE_RE = re.compile(r"\A[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)+\Z")
_TYPE_RE = re.compile(r"\A[A-Za-z][A-Za-z0-9]*\Z")

_MG_NAMESPACE = "Microsoft.Management"
_MG_TYPE = "managementGroups"


@dataclass(frozen=True, eq=False)
class ResourceId:
    """A parsed ARM id.  Equality and hashing ignore case; ``str()`` is canonical.

    For ``kind == "resource"`` the resource is the provider block ``namespace/types/names``
    hanging from ``scope`` (a resource group, subscription, management group, the root, or
    another resource for extension resources).  Other kinds have no provider block.
    """

    kind: Kind
    scope: ResourceId | None = None
    management_group: str | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    namespace: str | None = None
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    # --- identity --------------------------------------------------------------------
    def __str__(self) -> str:
        if self.kind == "root":
            return "/"
        if self.kind == "management_group":
            return f"/providers/{_MG_NAMESPACE}/{_MG_TYPE}/{self.management_group}"
        if self.kind == "subscription":
            return f"/subscriptions/{self.subscription_id}"
        if self.kind == "resource_group":
            return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
        base = "" if self.scope is None or self.scope.kind == "root" else str(self.scope)
        pairs = "/".join(f"{t}/{n}" for t, n in zip(self.types, self.names, strict=True))
        return f"{base}/providers/{self.namespace}/{pairs}"

    def __repr__(self) -> str:
        return f"ResourceId({str(self)!r})"

    def _key(self) -> str:
        return str(self).lower()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResourceId):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    # --- derived ---------------------------------------------------------------------
    @property
    def full_type(self) -> str:
        """``Namespace/type[/childType...]``; ARM's type for scopes; ``""`` for the root."""
        if self.kind == "resource":
            return "/".join((str(self.namespace), *self.types))
        return _SCOPE_TYPES[self.kind]

    @property
    def name(self) -> str:
        """The last name in the id (``""`` for the root)."""
        if self.kind == "resource":
            return self.names[-1]
        if self.kind == "management_group":
            return str(self.management_group)
        if self.kind == "subscription":
            return str(self.subscription_id)
        if self.kind == "resource_group":
            return str(self.resource_group)
        return ""

    @property
    def is_extension(self) -> bool:
        """True for a resource attached to another resource (e.g. a role assignment on a DCR)."""
        return self.kind == "resource" and self.scope is not None and self.scope.kind == "resource"

    @property
    def parent(self) -> ResourceId | None:
        """The next id up the scope chain; ``None`` for the root.

        A subscription's parent is the root: its management group is not part of its id.
        """
        if self.kind == "root":
            return None
        if self.kind in ("subscription", "management_group"):
            return ROOT
        if self.kind == "resource_group":
            return _subscription(str(self.subscription_id))
        if len(self.types) > 1:
            return _with_block(self.scope, self.namespace, self.types[:-1], self.names[:-1])
        return self.scope

    def ancestors(self) -> Iterator[ResourceId]:
        """The scope chain from the parent up to the root."""
        node = self.parent
        while node is not None:
            yield node
            node = node.parent

    def is_within(self, other: ResourceId) -> bool:
        """True if ``self`` is ``other`` or lies under it (so a role at ``other`` covers it)."""
        return self == other or any(a == other for a in self.ancestors())


_SCOPE_TYPES: dict[str, str] = {
    "root": "",
    "management_group": f"{_MG_NAMESPACE}/{_MG_TYPE}",
    "subscription": "Microsoft.Resources/subscriptions",
    "resource_group": "Microsoft.Resources/resourceGroups",
}

ROOT = ResourceId(kind="root")


def _subscription(sub: str) -> ResourceId:
    return ResourceId(kind="subscription", scope=ROOT, subscription_id=sub)


def _with_block(
    scope: ResourceId | None, namespace: str | None, types: tuple[str, ...], names: tuple[str, ...]
) -> ResourceId:
    scope = scope or ROOT
    return ResourceId(
        kind="resource",
        scope=scope,
        management_group=scope.management_group,
        subscription_id=scope.subscription_id,
        resource_group=scope.resource_group,
        namespace=namespace,
        types=types,
        names=names,
    )


# --- parsing -------------------------------------------------------------------------

# What must never reach a request path: an id is checked byte for byte as it will be sent,
# so nothing an HTTP client or ARM would normalise (whitespace, dot-segments, percent
# escapes such as %2F, query or fragment markers, control and bidirectional characters)
# may pass, or the scope checked would not be the scope granted.
_UNSAFE_RE = re.compile(r"[\s%?#\\\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
_UNSAFE_WORDS = {
    "%": "a percent escape",
    "?": "a query marker",
    "#": "a fragment marker",
    "\\": "a backslash",
    " ": "whitespace",
    "\t": "whitespace",
    "\n": "a line break",
    "\r": "a line break",
}


def parse(text: str) -> ResourceId:
    """Parse an ARM id; ``ValueError`` says what is wrong with it in words."""
    if not isinstance(text, str):
        raise ValueError(f"expected a string, got {type(text).__name__}")
    s = text
    bad = _UNSAFE_RE.search(s)
    if bad:
        raise ValueError(
            f"{_UNSAFE_WORDS.get(bad.group(), 'a control or invisible character')} "
            f"{bad.group()!r} at position {bad.start()} is not allowed in an ARM id"
        )
    if not s.startswith("/"):
        raise ValueError("an ARM id starts with '/'")
    if s == "/":
        return ROOT
    segments = s[1:].split("/")
    if any(seg == "" for seg in segments):
        raise ValueError("empty path segment (a doubled or trailing '/')")
    if any(seg in (".", "..") for seg in segments):
        raise ValueError(
            "'.' and '..' are not names: an HTTP client would remove them and widen the scope"
        )
    scope, rest = _parse_scope(segments)
    while rest:
        scope, rest = _parse_block(scope, rest)
    return scope


def _parse_scope(seg: list[str]) -> tuple[ResourceId, list[str]]:
    """The subscription / resource-group part, if any; provider blocks are left over."""
    head = seg[0].lower()
    if head == "providers":
        return ROOT, seg
    if head != "subscriptions":
        raise ValueError(
            f"expected 'subscriptions' or 'providers' after the leading '/', found {seg[0]!r}"
        )
    if len(seg) < 2:
        raise ValueError("'/subscriptions' needs a subscription id")
    sub = seg[1]
    if not GUID_RE.match(sub):
        raise ValueError(f"subscription id {sub!r} is not a GUID")
    scope = _subscription(sub.lower())
    rest = seg[2:]
    if rest and rest[0].lower() == "resourcegroups":
        if len(rest) < 2:
            raise ValueError("'resourceGroups' needs a resource group name")
        scope = ResourceId(
            kind="resource_group", scope=scope, subscription_id=sub.lower(), resource_group=rest[1]
        )
        rest = rest[2:]
    if rest and rest[0].lower() != "providers":
        raise ValueError(
            f"expected 'providers' or 'resourceGroups' after {str(scope)!r}, found {rest[0]!r}"
        )
    return scope, rest


def _parse_block(scope: ResourceId, seg: list[str]) -> tuple[ResourceId, list[str]]:
    """One ``providers/{Namespace}/{type}/{name}[/{type}/{name}...]`` block."""
    if seg[0].lower() != "providers":
        raise ValueError(f"expected 'providers', found {seg[0]!r}")
    if len(seg) < 2:
        raise ValueError("'providers' needs a resource provider namespace")
    namespace = seg[1]
    if not _NAMESPACE_RE.match(namespace):
        raise ValueError(
            f"{namespace!r} is not a resource provider namespace (like 'Microsoft.Compute')"
        )
    end = next((i for i in range(2, len(seg)) if seg[i].lower() == "providers"), len(seg))
    pairs = seg[2:end]
    if not pairs:
        raise ValueError(f"'providers/{namespace}' needs a resource type and name")
    if len(pairs) % 2:
        raise ValueError(f"resource type {pairs[-1]!r} has no name after it")
    types, names = tuple(pairs[0::2]), tuple(pairs[1::2])
    for t in types:
        if not _TYPE_RE.match(t):
            raise ValueError(f"{t!r} is not a resource type name")
    if scope.kind == "root" and _is_mg(namespace, types):
        return _management_group(names[0]), seg[end:]
    return _with_block(scope, namespace, types, names), seg[end:]


def _is_mg(namespace: str, types: tuple[str, ...]) -> bool:
    return namespace.lower() == _MG_NAMESPACE.lower() and tuple(t.lower() for t in types) == (
        _MG_TYPE.lower(),
    )


def _management_group(name: str) -> ResourceId:
    return ResourceId(kind="management_group", scope=ROOT, management_group=name)


def try_parse(text: str) -> ResourceId | None:
    """``parse`` for callers that only need to know whether it is an id."""
    try:
        return parse(text)
    except ValueError:
        return None


# --- the ids xtenant makes ----------------------------------------------------------------

IDENTITY_API = "2023-01-31"  # Microsoft.ManagedIdentity/userAssignedIdentities


def user_assigned_identity_id(subscription_id: str, resource_group: str, name: str) -> str:
    """The ARM id of a user-assigned managed identity: built here and nowhere else."""
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
