"""Field formats and value validators: one table, used by the models and the JSON Schema alike.

A validator that rejects a value raises ``fail(...)``, which carries what was found and
what is expected; ``issues.validation_issues`` turns it into an Issue word for word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

from provisioning.config.issues import TAG_LIST, TAG_ONE, show
from provisioning.core import armid, hosts, sites
from provisioning.core.catalog import graph
from provisioning.core.text import has_unsafe, visible_line

GUID_PATTERN = r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
_DOMAIN = r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"


def fail(message: str, found: object = None, expected: str | None = None) -> PydanticCustomError:
    """The error a validator raises: reported with ``found`` and ``expected``."""
    ctx: dict[str, Any] = {"expected": expected}
    if found is not None:
        ctx["found"] = show(found)
    return PydanticCustomError("xtenant", message, ctx)


@dataclass(frozen=True)
class _Format:
    """A string format: a regex, what to say when it does not match, and what is expected."""

    pattern: str
    message: str
    expected: str
    lower: bool = False  # normalise to lowercase (GUIDs, domains: compared without case)

    def __call__(self, value: str) -> str:
        # fullmatch: the pattern's ^...$ is ECMA-262's (JSON Schema), where $ is the end;
        # Python's re.match would let "<guid>\n" through ($ matches before a final newline).
        if not re.fullmatch(self.pattern, value):
            raise fail(self.message, value, self.expected)
        return value.lower() if self.lower else value

    @property
    def schema(self) -> Any:
        """Field metadata putting the pattern into the JSON Schema."""
        return Field(json_schema_extra={"pattern": self.pattern})


FORMATS: dict[str, _Format] = {
    "guid": _Format(
        GUID_PATTERN, "not a GUID", "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx (hex)", lower=True
    ),
    "tenant": _Format(
        rf"^(?:{GUID_PATTERN[1:-1]}|{_DOMAIN})$",
        "not a tenant id or domain",
        "a tenant GUID or a verified domain such as litware.onmicrosoft.com",
        lower=True,
    ),
    "identity_name": _Format(
        r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$",
        "not a valid managed identity name",
        "3-128 letters, digits, '-' or '_', starting with a letter or digit",
    ),
    "resource_group": _Format(
        r"^[-\w.()]{0,89}[-\w()]$",
        "not a valid resource group name",
        "1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'",
    ),
    "location": _Format(
        r"^[a-z0-9]+$",
        "not a region name",
        "a lowercase region name without spaces, such as westus2",
    ),
    "unique_name": _Format(
        r"^[A-Za-z0-9._-]{1,120}$",
        "not a valid application uniqueName",
        "1-120 letters, digits, '-', '_' or '.'",
    ),
    "key": _Format(
        r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
        "not a valid key",
        "1-64 letters, digits, '-', '_' or '.', starting with a letter or digit",
    ),
    "dcr_immutable_id": _Format(
        r"^dcr-[0-9a-f]{32}$",
        "not a DCR immutable id",
        "dcr- followed by 32 lowercase hex digits (the DCR's immutableId)",
    ),
    "stream": _Format(
        r"^(?:Custom|Microsoft)-[A-Za-z0-9_-]+$",
        "not a DCR stream name",
        "a stream declared in the DCR, starting with Custom- or Microsoft- (e.g. Custom-vector_CL)",
    ),
}


def _text(value: str) -> str:
    if not value.strip():
        raise fail("must not be empty", value, "some text")
    return value


def _ref(value: str) -> str:
    """A reference to a key or a name elsewhere in the file: matched as written, so a
    space around it would make it name nothing (``app: "logs "`` is not app ``logs``)."""
    _text(value)
    if value != value.strip():
        raise fail(
            "has spaces (or line breaks) around it; a reference must match the key exactly",
            visible_line(value),
            f"'{visible_line(value.strip())}'",
        )
    return value


RESERVED_CUSTOMER_NAMES = {"landing": "the landing page's folder, next to the customers' kits"}
"""Names a customer cannot take: they are folders of the kits output (``xtenant kit --out``).
Names starting with a dot (``.offboarded``) are refused by the name format already."""


def _customer_name(value: str) -> str:
    FORMATS["key"](value)
    reserved = RESERVED_CUSTOMER_NAMES.get(value.casefold())
    if reserved:
        raise fail(
            f"'{value}' is reserved: it is {reserved}",
            value,
            "another name for this customer",
        )
    return value


def _reason(value: str) -> str:
    if not _has_visible_text(value):
        raise fail(
            "allow_privileged needs a reason (visible text)",
            value,
            'allow_privileged: "<why this is needed>"',
        )
    return value


def _has_visible_text(value: str) -> bool:
    """True when some character would actually show (not space, not an invisible format
    character such as U+200B): a reason nobody can read is no reason."""
    return any(ch.isprintable() and not ch.isspace() and not has_unsafe(ch) for ch in value)


def _display_name(value: str) -> str:
    _text(value)
    if len(value) > 256:
        raise fail("display name is too long", value[:40] + "...", "at most 256 characters")
    if has_unsafe(value) or "\n" in value or "\t" in value:
        raise fail(
            "display names may not hold control, line-break or bidirectional characters "
            "(they would change how consent screens and terminals show the name)",
            visible_line(value),
            "one line of plain text",
        )
    return value


_URI_UNSAFE = re.compile(r"[\s\\\x00-\x1f\x7f]")
"""Whitespace, backslashes and controls: a browser drops tabs and line breaks from a URL and
reads ``\\`` as ``/``, so such a URI does not go where it seems to."""


def _redirect_uri(value: str) -> str:
    """Where Entra sends the admin back, read as a browser reads it (the WHATWG URL
    Standard, through ada-url): ``http://evil.example\\@127.0.0.1/x`` goes to evil.example."""
    expected = "https://..., or http://localhost[:port]/... or http://127.0.0.1[:port]/..."
    if len(value) > 256:
        raise fail("a redirect URI is at most 256 characters", value[:60] + "...", expected)
    if "#" in value:
        raise fail("a redirect URI must not have a fragment ('#...')", value, expected)
    if "*" in value:
        raise fail("a redirect URI must not contain wildcards", value, expected)
    bad = _URI_UNSAFE.search(value)
    if bad:
        raise fail(
            f"a redirect URI must not contain {_URI_CHAR.get(bad.group(), 'control characters')} "
            "(browsers read them differently)",
            visible_line(value),
            expected,
        )
    url = browser_url(value)
    if url is None:
        raise fail("not a URL a browser can open", visible_line(value), expected)
    if url["username"] or url["password"]:
        raise fail(
            "a redirect URI must not carry a user name or password ('user@')", value, expected
        )
    host = str(url["hostname"])
    try:
        other = urlsplit(value).hostname or ""
    except ValueError:
        other = ""
    if other != host.strip("[]"):
        raise fail(
            f"browsers read the host of this URI as '{host}'; write it that way",
            value,
            expected,
        )
    scheme = str(url["protocol"]).rstrip(":")
    if not (scheme == "https" or (scheme == "http" and host in ("localhost", "127.0.0.1"))):
        raise fail("a redirect URI must be https (http only for localhost)", value, expected)
    return value


_URI_CHAR = {
    "\\": "backslashes",
    " ": "spaces",
    "\t": "tabs",
    "\n": "line breaks",
    "\r": "line breaks",
}


def browser_url(value: str) -> dict[str, Any] | None:
    """``value`` parsed by the WHATWG URL Standard (what browsers do), or ``None``."""
    import ada_url  # a few ms to load: only configs and kits with a redirect URI need it

    try:
        parts: dict[str, Any] = dict(ada_url.parse_url(value))
    except ValueError:
        return None
    return parts


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise fail("not an https URL", value, "https://<host>[/...]")
    return value


_SCOPE_EXPECTED = (
    "/subscriptions/<guid>[/resourceGroups/<name>[/providers/<Namespace>/<type>/<name>]]"
)
_HOST_EXPECTED = (
    "/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<vm>"
)


def _arm_scope(value: str) -> str:
    try:
        return str(armid.parse(value))
    except ValueError as exc:
        raise fail(f"not an ARM resource id: {exc}", value, _SCOPE_EXPECTED) from None


def _host(value: str) -> tuple[str, hosts.HostKind]:
    try:
        rid = armid.parse(value)
    except ValueError as exc:
        raise fail(f"not an ARM resource id: {exc}", value, _HOST_EXPECTED) from None
    try:
        return str(rid), hosts.host_kind(rid)
    except ValueError as exc:
        raise fail(f"cannot attach an identity here: {exc}", value, _HOST_EXPECTED) from None


def _host_id(value: str) -> str:
    """A host a user-assigned identity is attached to (``attach_to``)."""
    text, kind = _host(value)
    if not kind.user_assigned:
        raise fail(
            f"a {kind.label} ({kind.full_type}) takes no user-assigned identity, only its own "
            "system-assigned one: declare an identity with system_assigned_of: <this id> instead",
            value,
            "a host that takes user-assigned identities, or system_assigned_of:",
        )
    return text


def _system_host_id(value: str) -> str:
    """A host whose system-assigned identity is meant (``system_assigned_of``)."""
    return _host(value)[0]


def _graph_role(value: str) -> str:
    """Canonical spelling when the catalog knows it; unknown ones are reported in pass 2."""
    known = graph.lookup(value)
    return known.value if known else value


def _site_ref(value: str) -> str:
    """A SharePoint site URL or site id, kept as written once it parses (``core/sites.py``)."""
    try:
        sites.parse(value)
    except sites.SiteError as exc:
        raise fail(f"not a SharePoint site: {exc}", value, sites.EXPECTED) from None
    return value


_AU_SCOPE = re.compile(rf"^/administrativeUnits/({GUID_PATTERN[1:-1]})$")
_DIRECTORY_SCOPE_EXPECTED = "/ (the whole tenant) or /administrativeUnits/<guid>"


def _directory_scope(value: str) -> str:
    """A directory role assignment's ``directoryScopeId``: the tenant or an administrative
    unit (lowercase GUID, the form Graph returns)."""
    if value == "/":
        return value
    m = _AU_SCOPE.match(value)
    if not m:
        raise fail("not a directory scope", value, _DIRECTORY_SCOPE_EXPECTED)
    return f"/administrativeUnits/{m.group(1).lower()}"


def _one_line(value: str) -> str:
    _text(value)
    if has_unsafe(value) or "\n" in value or "\r" in value or "\t" in value:
        raise fail(
            "must be one line without control or bidirectional characters",
            visible_line(value),
            "one line of plain text",
        )
    return value


_TAG_FORBIDDEN = set("<>%&\\?/")


def _tags(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 50:
        raise fail("at most 50 tags per resource", f"{len(value)} tags", "50 tags or fewer")
    for k, v in value.items():
        if not k or len(k) > 512 or _TAG_FORBIDDEN & set(k):
            raise fail("not a valid tag name", k, "1-512 characters, none of < > % & \\ ? /")
        if len(v) > 256:
            raise fail(f"tag {k!r}: value is too long", v[:40] + "...", "at most 256 characters")
    return value


_F = FORMATS
Guid = Annotated[str, AfterValidator(_F["guid"]), _F["guid"].schema]
TenantRef = Annotated[str, AfterValidator(_F["tenant"]), _F["tenant"].schema]
IdentityName = Annotated[str, AfterValidator(_F["identity_name"]), _F["identity_name"].schema]
ResourceGroupName = Annotated[
    str, AfterValidator(_F["resource_group"]), _F["resource_group"].schema
]
Location = Annotated[str, AfterValidator(_F["location"]), _F["location"].schema]
UniqueName = Annotated[str, AfterValidator(_F["unique_name"]), _F["unique_name"].schema]
Key = Annotated[str, AfterValidator(_F["key"]), _F["key"].schema]
DcrImmutableId = Annotated[
    str, AfterValidator(_F["dcr_immutable_id"]), _F["dcr_immutable_id"].schema
]
StreamName = Annotated[str, AfterValidator(_F["stream"]), _F["stream"].schema]
Text = Annotated[str, AfterValidator(_text)]
Ref = Annotated[str, AfterValidator(_ref)]
CustomerName = Annotated[str, AfterValidator(_customer_name), _F["key"].schema]
Reason = Annotated[str, AfterValidator(_reason), Field(json_schema_extra={"minLength": 1})]
DisplayName = Annotated[str, AfterValidator(_display_name)]
HttpsUrl = Annotated[
    str, AfterValidator(_https_url), Field(json_schema_extra={"pattern": "^https://"})
]
ArmScope = Annotated[str, AfterValidator(_arm_scope), Field(json_schema_extra={"pattern": "^/"})]
HostId = Annotated[str, AfterValidator(_host_id), Field(json_schema_extra={"pattern": "^/"})]
SystemHostId = Annotated[
    str, AfterValidator(_system_host_id), Field(json_schema_extra={"pattern": "^/"})
]
RedirectUri = Annotated[str, AfterValidator(_redirect_uri)]
GraphRole = Annotated[str, AfterValidator(_graph_role)]
SiteRef = Annotated[str, AfterValidator(_site_ref), Field(json_schema_extra={"minLength": 1})]
DirectoryScope = Annotated[
    str,
    AfterValidator(_directory_scope),
    Field(json_schema_extra={"pattern": r"^/(administrativeUnits/[0-9a-fA-F-]{36})?$"}),
]
OneLine = Annotated[str, AfterValidator(_one_line)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]
RedirectUris = Annotated[
    Annotated[RedirectUri, Tag(TAG_ONE)] | Annotated[list[RedirectUri], Tag(TAG_LIST)],
    Discriminator(lambda v: TAG_LIST if isinstance(v, list) else TAG_ONE),
]
