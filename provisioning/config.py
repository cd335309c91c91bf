"""The declarative model (``xtenant.yaml``): schema, validation, least-privilege lint.

Loading runs in two passes so that *every* problem is reported at once:

1. structure (pydantic): types, formats and unknown keys, field by field;
2. meaning (plain functions over the raw document): cross-references, uniqueness,
   catalog look-ups and the least-privilege lint, tolerant of whatever pass 1 rejected.

Both passes produce ``Issue`` objects carrying the field path, the file and line (from
ruamel's round-trip positions), what was found and what was expected.  Nothing is
fetched from the network: this is what ``xtenant validate`` runs before any request.
"""

from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar, get_args
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from provisioning.core import armid, clouds
from provisioning.core.catalog import GraphAppRole, RoleDef, graph, role_definition_guid, roles

Severity = Literal["error", "warning"]
Loc = tuple[str | int, ...]

MAX_FEDERATED_CREDENTIALS = 20
"""Entra's limit of federated identity credentials on one application."""

# =====================================================================================
# Issues
# =====================================================================================


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
# Field formats: one table, used by the validators and the JSON Schema alike
# =====================================================================================

GUID_PATTERN = r"^[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$"
_DOMAIN = r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"


def _fail(message: str, found: object = None, expected: str | None = None) -> PydanticCustomError:
    ctx: dict[str, Any] = {"expected": expected}
    if found is not None:
        ctx["found"] = _show(found)
    return PydanticCustomError("xtenant", message, ctx)


@dataclass(frozen=True)
class _Format:
    """A string format: a regex, what to say when it does not match, and what is expected."""

    pattern: str
    message: str
    expected: str
    lower: bool = False  # normalise to lowercase (GUIDs, domains: compared without case)

    def __call__(self, value: str) -> str:
        if not re.match(self.pattern, value):
            raise _fail(self.message, value, self.expected)
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
        raise _fail("must not be empty", value, "some text")
    return value


def _reason(value: str) -> str:
    if not value.strip():
        raise _fail(
            "allow_privileged needs a reason", value, 'allow_privileged: "<why this is needed>"'
        )
    return value


def _display_name(value: str) -> str:
    _text(value)
    if len(value) > 256:
        raise _fail("display name is too long", value[:40] + "...", "at most 256 characters")
    return value


def _redirect_uri(value: str) -> str:
    expected = "https://..., or http://localhost[:port]/... or http://127.0.0.1[:port]/..."
    parts = urlsplit(value)
    if "#" in value:
        raise _fail("a redirect URI must not have a fragment ('#...')", value, expected)
    if "*" in value:
        raise _fail("a redirect URI must not contain wildcards", value, expected)
    if len(value) > 256:
        raise _fail("a redirect URI is at most 256 characters", value[:60] + "...", expected)
    local = parts.scheme == "http" and parts.hostname in ("localhost", "127.0.0.1")
    if not parts.netloc or not (parts.scheme == "https" or local):
        raise _fail("a redirect URI must be https (http only for localhost)", value, expected)
    return value


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.netloc:
        raise _fail("not an https URL", value, "https://<host>[/...]")
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
        raise _fail(f"not an ARM resource id: {exc}", value, _SCOPE_EXPECTED) from None


def _host_id(value: str) -> str:
    try:
        rid = armid.parse(value)
    except ValueError as exc:
        raise _fail(f"not an ARM resource id: {exc}", value, _HOST_EXPECTED) from None
    try:
        armid.host_kind(rid)
    except ValueError as exc:
        raise _fail(f"cannot attach an identity here: {exc}", value, _HOST_EXPECTED) from None
    return str(rid)


def _graph_role(value: str) -> str:
    """Canonical spelling when the catalog knows it; unknown ones are reported in pass 2."""
    known = graph.lookup(value)
    return known.value if known else value


_TAG_FORBIDDEN = set("<>%&\\?/")


def _tags(value: dict[str, str]) -> dict[str, str]:
    if len(value) > 50:
        raise _fail("at most 50 tags per resource", f"{len(value)} tags", "50 tags or fewer")
    for k, v in value.items():
        if not k or len(k) > 512 or _TAG_FORBIDDEN & set(k):
            raise _fail("not a valid tag name", k, "1-512 characters, none of < > % & \\ ? /")
        if len(v) > 256:
            raise _fail(f"tag {k!r}: value is too long", v[:40] + "...", "at most 256 characters")
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
Reason = Annotated[str, AfterValidator(_reason), Field(json_schema_extra={"minLength": 1})]
DisplayName = Annotated[str, AfterValidator(_display_name)]
HttpsUrl = Annotated[
    str, AfterValidator(_https_url), Field(json_schema_extra={"pattern": "^https://"})
]
ArmScope = Annotated[str, AfterValidator(_arm_scope), Field(json_schema_extra={"pattern": "^/"})]
HostId = Annotated[str, AfterValidator(_host_id), Field(json_schema_extra={"pattern": "^/"})]
RedirectUri = Annotated[str, AfterValidator(_redirect_uri)]
GraphRole = Annotated[str, AfterValidator(_graph_role)]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]
RedirectUris = Annotated[
    Annotated[RedirectUri, Tag("@one")] | Annotated[list[RedirectUri], Tag("@list")],
    Discriminator(lambda v: "@list" if isinstance(v, list) else "@one"),
]
_UNION_TAGS = {"@one", "@list"}


# =====================================================================================
# Models
# =====================================================================================


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _empty_means_default(cls, data: Any) -> Any:
        """``key:`` with nothing after it means "the default" for optional fields."""
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {
            k: v
            for k, v in data.items()
            if not (v is None and k in fields and not fields[k].is_required())
        }


class LogsIngestionProbe(_Model):
    """What ``verify --probe`` sends a test record to (Azure Monitor Logs Ingestion API)."""

    endpoint: HttpsUrl = Field(description="DCE or DCR logs ingestion endpoint (https)")
    dcr_immutable_id: DcrImmutableId = Field(description="the DCR's immutableId (dcr-...)")
    stream: StreamName = Field(
        description="stream declared in the DCR (Custom-... / Microsoft-...)"
    )


class Probe(_Model):
    logs_ingestion: LogsIngestionProbe | None = None


class RoleGrant(_Model):
    """An Azure role assignment asked of the customer, for the app's service principal."""

    role: Text = Field(description="built-in role name, role definition GUID or its ARM id")
    scope: ArmScope = Field(description="ARM id of the scope (a resource, group, subscription)")
    why: str | None = Field(default=None, description="what the access is for")
    allow_privileged: Reason | None = Field(
        default=None, description="why a privileged role at a broad scope is needed"
    )

    @property
    def role_def(self) -> RoleDef | None:
        """The catalog definition (``None`` for a custom role given by GUID)."""
        return roles.lookup(self.role)

    @property
    def role_id(self) -> str:
        """The role definition GUID (lowercase)."""
        found = self.role_def
        guid = found.id if found else role_definition_guid(self.role)
        if guid is None:
            raise LookupError(f"role {self.role!r} is not in the catalog")
        return guid

    @property
    def scope_id(self) -> armid.ResourceId:
        return armid.parse(self.scope)


class Customer(_Model):
    """A resource tenant that grants the app access."""

    name: Key = Field(description="short name of the customer (unique)")
    tenant: TenantRef = Field(description="tenant GUID or verified domain")
    app: Text = Field(description="key of the home app this customer consents to")
    roles: list[RoleGrant] = Field(default_factory=list)
    graph_app_roles: list[GraphRole] = Field(
        default_factory=list, description="Graph permissions granted; a subset of the app's"
    )
    probe: Probe | None = None
    customer_side: Literal["customer", "managed"] = Field(
        default="customer",
        description="who applies the customer side: their admin (with the kit) or us (managed)",
    )
    contact: str | None = None
    allow_privileged: Reason | None = Field(
        default=None, description="why privileged graph_app_roles are needed"
    )

    @property
    def tenant_is_guid(self) -> bool:
        return bool(armid.GUID_RE.match(self.tenant))

    @property
    def graph_roles(self) -> list[GraphAppRole]:
        return [r for r in map(graph.lookup, self.graph_app_roles) if r is not None]


class App(_Model):
    """A multi-tenant app registration in the home tenant, trusted by identities via FICs."""

    key: Key = Field(description="short key of the app (unique)")
    display_name: DisplayName = Field(description="the app's display name")
    unique_name: UniqueName = Field(description="Graph alternate key of the app (unique)")
    redirect_uri: RedirectUris = Field(description="where admin consent returns: one or a list")
    trusts: list[Text] = Field(description="identity names; one federated credential each")
    graph_app_roles: list[GraphRole] = Field(
        default_factory=list, description="Graph application permissions the app asks for"
    )
    adopt_app_id: Guid | None = Field(
        default=None, description="appId of an existing app to manage"
    )
    service_principal: bool = Field(
        default=False, description="also create the service principal in the home tenant"
    )
    description: str | None = Field(default=None, description="what the access is for (kit)")
    publisher: str | None = None
    allow_privileged: Reason | None = Field(
        default=None, description="why privileged graph_app_roles are needed"
    )

    @property
    def redirect_uris(self) -> list[str]:
        uri = self.redirect_uri
        return [uri] if isinstance(uri, str) else list(uri)

    @property
    def graph_roles(self) -> list[GraphAppRole]:
        return [r for r in map(graph.lookup, self.graph_app_roles) if r is not None]


class Identity(_Model):
    """A user-assigned managed identity in the home subscription."""

    name: IdentityName = Field(description="identity name (unique)")
    resource_group: ResourceGroupName = Field(description="resource group of the identity")
    location: Location = Field(description="Azure region, e.g. westus2")
    attach_to: list[HostId] = Field(
        default_factory=list, description="ARM ids of the hosts (VMs, Automation accounts)"
    )
    tags: Tags = Field(default_factory=dict)

    @property
    def attach_ids(self) -> list[armid.ResourceId]:
        return [armid.parse(a) for a in self.attach_to]


class Home(_Model):
    tenant_id: Guid = Field(description="the home tenant's id")
    subscription_id: Guid = Field(description="subscription holding the identities")
    identities: list[Identity] = Field(default_factory=list)
    apps: list[App] = Field(default_factory=list)


class Config(_Model):
    """The whole declared state: one home tenant, its identities and apps, the customers."""

    cloud: Text = Field(default="public", description="public | usgov | china | path to cloud JSON")
    home: Home
    customers: list[Customer] = Field(default_factory=list)
    customers_dir: str | None = Field(
        default=None, description="directory of one YAML file per customer (relative)"
    )

    def identity(self, name: str) -> Identity:
        return _find(self.home.identities, name, lambda i: i.name, "identity")

    def app(self, key: str) -> App:
        return _find(self.home.apps, key, lambda a: a.key, "app")

    def customer(self, name: str) -> Customer:
        return _find(self.customers, name, lambda c: c.name, "customer")

    def customers_for_app(self, key: str) -> list[Customer]:
        return [c for c in self.customers if c.app.casefold() == key.casefold()]


_T = TypeVar("_T")


def _find(items: list[_T], name: str, key: Callable[[_T], str], what: str) -> _T:
    """Case-insensitive lookup; ``UnknownNameError`` with a "did you mean" otherwise."""
    for item in items:
        if key(item).casefold() == name.casefold():
            return item
    raise UnknownNameError(f"unknown {what} {name!r}{_did_you_mean(name, map(key, items))}")


@dataclass
class Loaded:
    """A configuration that passed validation, with its warnings and where it came from."""

    config: Config
    warnings: list[Issue]
    path: Path

    def cloud(self) -> clouds.Cloud:
        """The configured cloud profile; a file path is relative to the config file."""
        spec = self.config.cloud
        if spec.lower() in clouds.BUILTIN:
            return clouds.resolve(spec.lower())
        return clouds.load_cloud_file(self.path.parent / spec)


# =====================================================================================
# Least-privilege lint: the rules, as data
# =====================================================================================

BROAD_SCOPE_KINDS = frozenset({"root", "management_group", "subscription"})
_SCOPE_WORDS = {
    "root": "root (tenant-wide)",
    "management_group": "management group",
    "subscription": "subscription",
    "resource_group": "resource group",
    "resource": "resource",
}


@dataclass(frozen=True)
class RoleRule:
    """A rule over (role, scope).  ``allow_privileged`` on the grant waives it."""

    code: str
    severity: Severity
    applies: Callable[[RoleDef, armid.ResourceId], bool]
    message: str  # {role} and {scope} are filled in


@dataclass(frozen=True)
class GraphRule:
    """A rule over one Graph application permission; ``allow_privileged`` waives it."""

    code: str
    severity: Severity
    applies: Callable[[GraphAppRole], bool]
    message: str  # {value} and {owner} are filled in


ROLE_RULES: tuple[RoleRule, ...] = (
    RoleRule(
        "privileged-role-broad-scope",
        "error",
        lambda r, s: r.privileged and s.kind in BROAD_SCOPE_KINDS,
        "{role} at {scope} scope is refused: use a narrower role or scope, "
        'or say why with allow_privileged: "<reason>"',
    ),
    RoleRule(
        "privileged-role",
        "warning",
        lambda r, s: r.privileged and s.kind not in BROAD_SCOPE_KINDS,
        "{role} can change or grant anything at this {scope}; a narrower role is usually enough",
    ),
    RoleRule(
        "data-actions-broad-scope",
        "warning",
        lambda r, s: r.has_data_actions and s.kind in BROAD_SCOPE_KINDS,
        "{role} grants data access (dataActions) across a whole {scope}; "
        "consider a resource or resource-group scope",
    ),
)

GRAPH_RULES: tuple[GraphRule, ...] = (
    GraphRule(
        "privileged-graph-permission",
        "error",
        lambda g: g.privileged,
        "{value} is a privileged Graph permission: refused unless the {owner} says why with "
        'allow_privileged: "<reason>"',
    ),
)


# =====================================================================================
# Azure regions (for "did you mean"; an unknown region is only a warning)
# =====================================================================================

AZURE_REGIONS: frozenset[str] = frozenset(
    """
    eastus eastus2 southcentralus westus westus2 westus3 centralus northcentralus westcentralus
    canadacentral canadaeast brazilsouth brazilsoutheast mexicocentral chilecentral
    northeurope westeurope uksouth ukwest francecentral francesouth germanywestcentral
    germanynorth switzerlandnorth switzerlandwest norwayeast norwaywest swedencentral
    swedensouth polandcentral italynorth spaincentral austriaeast belgiumcentral denmarkeast
    australiaeast australiasoutheast australiacentral australiacentral2 newzealandnorth
    southeastasia eastasia japaneast japanwest koreacentral koreasouth centralindia southindia
    westindia jioindiawest jioindiacentral indonesiacentral malaysiawest
    uaenorth uaecentral qatarcentral israelcentral southafricanorth southafricawest
    eastus2euap centraluseuap
    usgovvirginia usgovtexas usgovarizona usgoviowa usdodeast usdodcentral
    chinaeast chinaeast2 chinaeast3 chinanorth chinanorth2 chinanorth3
    """.split()
)


# =====================================================================================
# Reading YAML, with positions and ${VAR} interpolation
# =====================================================================================

_ENV_RE = re.compile(r"(?P<esc>\$\$\{)|\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bad>\$\{[^}]*\}?)")


@dataclass
class _Source:
    """Where each node of the (combined) document came from: loc -> (file, 1-based line)."""

    lines: dict[Loc, tuple[str, int]] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)
    suppressed: set[str] = field(default_factory=set)  # paths whose knock-on errors are dropped
    causes: set[int] = field(default_factory=set)  # ids of the issues that explain them

    def suppress(self, issue: Issue) -> Issue:
        """Report ``issue`` and drop the errors it causes further down its path."""
        self.suppressed.add(issue.path)
        self.causes.add(id(issue))
        return issue

    def knock_on(self, issue: Issue) -> bool:
        if id(issue) in self.causes:
            return False
        path = issue.path
        return any(path == p or path.startswith((p + ".", p + "[")) for p in self.suppressed)

    def locate(self, loc: Loc) -> tuple[str | None, int | None]:
        for n in range(len(loc), -1, -1):
            hit = self.lines.get(loc[:n])
            if hit:
                return hit
        return (self.files[0] if self.files else None, None)

    def where(self, loc: Loc, seen_from: Loc) -> str:
        """Position of ``loc`` for a message about ``seen_from``: "line N" in the same file."""
        file, line = self.locate(loc)
        if file == self.locate(seen_from)[0]:
            return f"line {line}"
        return f"{file}:{line}" if line else str(file)


class _Reader:
    """Turns ruamel nodes into plain data, recording positions and interpolating ``${VAR}``."""

    def __init__(self, src: _Source, environ: Mapping[str, str], issues: list[Issue]) -> None:
        self.src = src
        self.environ = environ
        self.issues = issues

    def load(self, path: Path, loc: Loc) -> tuple[bool, Any]:
        """Parse one file; ``(False, None)`` if it cannot be read or parsed."""
        name = str(path)
        self.src.files.append(name)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._file_issue(name, loc, "file not found")
        except UnicodeDecodeError:
            return self._file_issue(name, loc, "cannot read the file: not UTF-8 text")
        except OSError as exc:
            return self._file_issue(name, loc, f"cannot read the file: {exc.strerror or exc}")
        try:
            node = YAML(typ="rt", pure=True).load(text)
        except MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = " ".join(str(p) for p in (exc.problem, exc.context) if p)
            return self._file_issue(name, loc, f"YAML syntax error: {problem}", line)
        except YAMLError as exc:
            return self._file_issue(name, loc, f"YAML syntax error: {exc}")
        first = node.lc.line + 1 if isinstance(node, CommentedMap | CommentedSeq) else 1
        return True, self.convert(node, loc, name, first)

    def _file_issue(
        self, name: str, loc: Loc, message: str, line: int | None = None
    ) -> tuple[bool, Any]:
        self.issues.append(self.src.suppress(Issue(_format_path(loc), message, name, line)))
        return False, None

    def convert(self, node: Any, loc: Loc, file: str, line: int) -> Any:
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
        path = _format_path(loc)
        for message, found, expected in problems:
            if message.startswith("environment"):
                expected = f"{expected} set in the environment"
            issue = Issue(path, message, file, line, found=found, expected=expected)
            self.issues.append(self.src.suppress(issue))
        return out


def _line_of(node: CommentedMap | CommentedSeq, key: Any, default: int) -> int:
    try:
        pos = node.lc.key(key) if isinstance(node, CommentedMap) else node.lc.item(key)
        return int(pos[0]) + 1
    except (KeyError, IndexError, TypeError, AttributeError):
        return default  # merged (<<) keys have no position of their own


# =====================================================================================
# Pass 1: pydantic errors -> issues
# =====================================================================================

_TYPE_WORDS = {
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "int_type": "an integer",
}


def _format_path(loc: Iterable[str | int]) -> str:
    out = ""
    for seg in loc:
        if isinstance(seg, int):
            out += f"[{seg}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", seg):
            out += f".{seg}" if out else seg
        else:
            out += f"[{json.dumps(seg)}]"
    return out


def _clean_loc(loc: Iterable[str | int]) -> Loc:
    return tuple(s for s in loc if not (isinstance(s, str) and (s in _UNION_TAGS or s == "[key]")))


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class a location points into (``None`` inside free-form mappings)."""
    model: type[BaseModel] = Config
    for seg in loc:
        if isinstance(seg, int):
            continue
        info = model.model_fields.get(seg)
        sub = _model_in(info.annotation) if info is not None else None
        if sub is None:
            return None
        model = sub
    return model


def _field_description(loc: Loc) -> str | None:
    model = _model_at(loc[:-1]) if loc else None
    info = model.model_fields.get(str(loc[-1])) if model is not None else None
    if info is None:
        return None
    if info.description:
        return info.description
    for meta in info.metadata:
        if getattr(meta, "description", None):
            return str(meta.description)
    return None


def _pydantic_issues(exc: ValidationError, src: _Source) -> list[Issue]:
    issues = []
    for err in exc.errors(include_url=False):
        loc = _clean_loc(err["loc"])
        file, line = src.locate(loc)
        message, found, expected = _explain(err, loc)
        issues.append(Issue(_format_path(loc), message, file, line, "error", found, expected))
    return issues


def _explain(err: Any, loc: Loc) -> tuple[str, str | None, str | None]:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "xtenant":
        return err["msg"], ctx.get("found"), ctx.get("expected")
    if kind == "missing":
        return f"missing required field '{loc[-1]}'", None, _field_description(loc)
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        known = list(model.model_fields) if model else []
        hint = _did_you_mean(str(loc[-1]), known)
        return f"unknown field '{loc[-1]}'{hint}", None, "one of " + ", ".join(known)
    found = _show(err.get("input"))
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}", found, _field_description(loc)
    msg = str(err["msg"])
    return msg[:1].lower() + msg[1:], found, None


def _show(value: Any) -> str:
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


def _did_you_mean(word: str, candidates: Iterable[str]) -> str:
    by_fold = {c.casefold(): c for c in candidates}
    hits = difflib.get_close_matches(word.casefold(), list(by_fold), n=1, cutoff=0.6)
    return f"; did you mean '{by_fold[hits[0]]}'?" if hits else ""


# =====================================================================================
# Pass 2: meaning (cross-references, uniqueness, catalog, lint) over the raw document
# =====================================================================================


class _Checker:
    """Collects pass-2 issues; every accessor tolerates input pass 1 rejected."""

    def __init__(self, data: dict[str, Any], src: _Source, base_dir: Path) -> None:
        self.data = data
        self.src = src
        self.base_dir = base_dir
        self.issues: list[Issue] = []
        home = data.get("home")
        self.home: dict[str, Any] = home if isinstance(home, dict) else {}

    def add(
        self,
        loc: Loc,
        message: str,
        *,
        severity: Severity = "error",
        found: object = None,
        expected: str | None = None,
        code: str | None = None,
    ) -> None:
        file, line = self.src.locate(loc)
        shown = None if found is None else _show(found)
        self.issues.append(
            Issue(_format_path(loc), message, file, line, severity, shown, expected, code)
        )

    def run(self) -> list[Issue]:
        self.check_cloud()
        identities = self.check_identities()
        apps = self.check_apps(identities)
        self.check_customers(apps)
        return self.issues

    # --- cloud ----------------------------------------------------------------------
    def check_cloud(self) -> None:
        spec = self.data.get("cloud", "public")
        if not isinstance(spec, str) or not spec.strip() or spec.lower() in clouds.BUILTIN:
            return
        path = self.base_dir / spec
        expected = "public, usgov, china or a path (relative to this file) to a cloud JSON file"
        if not spec.endswith(".json") and not path.exists():
            hint = _did_you_mean(spec, clouds.BUILTIN)
            self.add(("cloud",), f"unknown cloud{hint}", found=spec, expected=expected)
            return
        try:
            clouds.load_cloud_file(path)
        except clouds.CloudError as exc:
            self.add(("cloud",), f"unusable cloud file: {exc}", found=spec, expected=expected)

    # --- identities -----------------------------------------------------------------
    def check_identities(self) -> dict[str, int]:
        """Returns identity names (casefolded) -> index."""
        base: Loc = ("home", "identities")
        names = self._unique(base, _items(self.home.get("identities")), "name", "identity name")
        home_sub = _str(self.home.get("subscription_id"))
        for i, ident in _items(self.home.get("identities")):
            loc: Loc = (*base, i)
            location = _str(ident.get("location"))
            if location and re.fullmatch(FORMATS["location"].pattern, location):
                if location not in AZURE_REGIONS:
                    self.add(
                        (*loc, "location"),
                        f"unknown Azure region{_did_you_mean(location, AZURE_REGIONS)}",
                        severity="warning",
                        found=location,
                        expected="an Azure region name such as westus2",
                        code="unknown-region",
                    )
            self._check_hosts(loc, ident.get("attach_to"), home_sub)
        return names

    def _check_hosts(self, loc: Loc, attach_to: Any, home_sub: str | None) -> None:
        seen: set[armid.ResourceId] = set()
        for j, text in _strs(attach_to):
            rid = armid.try_parse(text)
            if rid is None:
                continue
            here: Loc = (*loc, "attach_to", j)
            if rid in seen:
                self.add(here, "listed twice", severity="warning", found=text, code="duplicate")
            seen.add(rid)
            sub = rid.subscription_id
            if home_sub and sub and armid.GUID_RE.match(home_sub) and sub != home_sub.lower():
                self.add(
                    here,
                    f"host is in subscription {sub}, not the home subscription; "
                    "xtenant needs rights there too",
                    severity="warning",
                    found=text,
                    expected=f"/subscriptions/{home_sub.lower()}/...",
                    code="host-other-subscription",
                )

    # --- apps -----------------------------------------------------------------------
    def check_apps(self, identities: dict[str, int]) -> dict[str, dict[str, Any]]:
        """Returns app keys (casefolded) -> the raw app."""
        base: Loc = ("home", "apps")
        apps = _items(self.home.get("apps"))
        keys = self._unique(base, apps, "key", "app key")
        self._unique(base, apps, "unique_name", "unique_name")
        self._unique(base, apps, "adopt_app_id", "adopt_app_id")
        for i, app in apps:
            loc: Loc = (*base, i)
            self._check_trusts(loc, app.get("trusts"), identities)
            for j, role in self._graph_roles((*loc, "graph_app_roles"), app.get("graph_app_roles")):
                self._graph_lint((*loc, "graph_app_roles", j), role, app, "app")
        return {k: dict(apps)[i] for k, i in keys.items()}

    def _check_trusts(self, loc: Loc, trusts: Any, identities: dict[str, int]) -> None:
        names = _strs(trusts)
        if isinstance(trusts, list) and not trusts:
            self.add(
                (*loc, "trusts"),
                "trusts no identity, so nothing can use this app",
                severity="warning",
                code="no-trust",
            )
        seen: set[str] = set()
        for j, name in names:
            here: Loc = (*loc, "trusts", j)
            if name.casefold() in seen:
                self.add(here, f"identity '{name}' is listed twice", found=name, code="duplicate")
            seen.add(name.casefold())
            if name.casefold() not in identities:
                known = [str(v) for v in self._identity_names()]
                self.add(
                    here,
                    f"no identity named '{name}' in home.identities{_did_you_mean(name, known)}",
                    found=name,
                    expected="one of " + (", ".join(known) or "(no identities declared)"),
                    code="dangling-reference",
                )
        if len(seen) > MAX_FEDERATED_CREDENTIALS:
            self.add(
                (*loc, "trusts"),
                f"an app holds at most {MAX_FEDERATED_CREDENTIALS} federated credentials "
                "(Entra's limit; one per trusted identity)",
                found=f"{len(seen)} identities",
                expected=f"{MAX_FEDERATED_CREDENTIALS} or fewer; split the identities over apps",
                code="fic-limit",
            )

    def _identity_names(self) -> list[str]:
        return [n for _, d in _items(self.home.get("identities")) if (n := _str(d.get("name")))]

    # --- customers ------------------------------------------------------------------
    def check_customers(self, apps: dict[str, dict[str, Any]]) -> None:
        customers = _items(self.data.get("customers"))
        self._unique(("customers",), customers, "name", "customer name")
        pairs: dict[tuple[str, str], int] = {}
        for i, cust in customers:
            loc: Loc = ("customers", i)
            app = self._customer_app(loc, cust, apps)
            tenant, key = _str(cust.get("tenant")), _str(cust.get("app"))
            if tenant and key:
                pair = (tenant.casefold(), key.casefold())
                if pair in pairs:
                    self.add(
                        (*loc, "tenant"),
                        f"tenant '{tenant}' already has app '{key}' (customers[{pairs[pair]}] at "
                        f"{self.src.where(('customers', pairs[pair]), loc)})",
                        found=tenant,
                        expected="one customer entry per (tenant, app)",
                        code="duplicate",
                    )
                pairs.setdefault(pair, i)
            self._check_grants(loc, cust)
            self._check_customer_graph(loc, cust, app)

    def _customer_app(
        self, loc: Loc, cust: dict[str, Any], apps: dict[str, dict[str, Any]]
    ) -> dict[str, Any] | None:
        key = _str(cust.get("app"))
        if key is None:
            return None
        app = apps.get(key.casefold())
        if app is None:
            known = [k for _, a in _items(self.home.get("apps")) if (k := _str(a.get("key")))]
            self.add(
                (*loc, "app"),
                f"no app with key '{key}' in home.apps{_did_you_mean(key, known)}",
                found=key,
                expected="one of " + (", ".join(known) or "(no apps declared)"),
                code="dangling-reference",
            )
        return app

    def _check_grants(self, loc: Loc, cust: dict[str, Any]) -> None:
        grants = _items(cust.get("roles"))
        if cust.get("roles") in (None, []) and cust.get("graph_app_roles") in (None, []):
            self.add(
                loc,
                "this customer grants nothing (no roles, no graph_app_roles)",
                severity="warning",
                code="grants-nothing",
            )
        seen: dict[tuple[str, armid.ResourceId], int] = {}
        for j, grant in grants:
            here: Loc = (*loc, "roles", j)
            role = self._resolve_role((*here, "role"), grant.get("role"))
            scope = armid.try_parse(grant["scope"]) if isinstance(grant.get("scope"), str) else None
            if role is None or scope is None:
                continue
            key = (role.id if isinstance(role, RoleDef) else role, scope)
            if key in seen:
                self.add(
                    here,
                    f"the same role and scope as roles[{seen[key]}]",
                    found=str(grant.get("role")),
                    code="duplicate",
                )
            seen.setdefault(key, j)
            if isinstance(role, RoleDef):
                self._role_lint(here, role, scope, grant)

    def _resolve_role(self, loc: Loc, ref: Any) -> RoleDef | str | None:
        """The catalog role, or the GUID of a custom role, or None (reported)."""
        text = _str(ref)
        if text is None:
            return None
        guid = role_definition_guid(text)
        known = roles.lookup(text)
        if known is not None:
            return known
        if guid is not None:
            self.add(
                loc,
                "role definition is not in the built-in catalog (a custom role?); "
                "it cannot be checked for least privilege",
                severity="warning",
                found=text,
                code="custom-role-unlinted",
            )
            return guid
        if text.startswith("/"):
            self.add(
                loc,
                "not a role definition id",
                found=text,
                expected="/providers/Microsoft.Authorization/roleDefinitions/<guid>",
            )
            return None
        self.add(
            loc,
            f"unknown role{_did_you_mean(text, roles.names())}",
            found=text,
            expected="a built-in role name (e.g. Monitoring Metrics Publisher) "
            "or the GUID of a custom role",
            code="unknown-role",
        )
        return None

    def _role_lint(
        self, loc: Loc, role: RoleDef, scope: armid.ResourceId, grant: dict[str, Any]
    ) -> None:
        if _str(grant.get("allow_privileged")):
            return
        for rule in ROLE_RULES:
            if rule.applies(role, scope):
                message = rule.message.format(role=role.name, scope=_SCOPE_WORDS[scope.kind])
                self.add(
                    loc,
                    message,
                    severity=rule.severity,
                    found=f"{role.name} at {scope}",
                    code=rule.code,
                )

    def _check_customer_graph(
        self, loc: Loc, cust: dict[str, Any], app: dict[str, Any] | None
    ) -> None:
        app_roles = None
        if app is not None and isinstance(app.get("graph_app_roles", []), list):
            app_roles = {
                r.value for _, v in _strs(app.get("graph_app_roles")) if (r := graph.lookup(v))
            }
        base: Loc = (*loc, "graph_app_roles")
        for j, role in self._graph_roles(base, cust.get("graph_app_roles")):
            if app_roles is not None and role.value not in app_roles:
                self.add(
                    (*base, j),
                    f"{role.value} is not among the graph_app_roles of app '{cust.get('app')}', "
                    "so consent would not cover it",
                    found=role.value,
                    expected="one of " + (", ".join(sorted(app_roles)) or "(the app asks none)"),
                    code="graph-role-not-in-app",
                )
            self._graph_lint((*base, j), role, cust, "customer")

    def _graph_roles(self, loc: Loc, values: Any) -> list[tuple[int, GraphAppRole]]:
        """Known permissions (unknown ones are reported here), with their indexes."""
        out = []
        seen: set[str] = set()
        for j, value in _strs(values):
            role = graph.lookup(value)
            if role is None:
                self.add(
                    (*loc, j),
                    f"unknown Microsoft Graph application permission"
                    f"{_did_you_mean(value, graph.values())}",
                    found=value,
                    expected="an application permission in xtenant's catalog, e.g. Sites.Selected",
                    code="unknown-graph-permission",
                )
                continue
            if role.value in seen:
                self.add((*loc, j), "listed twice", found=value, code="duplicate")
            seen.add(role.value)
            out.append((j, role))
        return out

    def _graph_lint(self, loc: Loc, role: GraphAppRole, owner: dict[str, Any], what: str) -> None:
        if _str(owner.get("allow_privileged")):
            return
        for rule in GRAPH_RULES:
            if rule.applies(role):
                self.add(
                    loc,
                    rule.message.format(value=role.value, owner=what),
                    severity=rule.severity,
                    found=role.value,
                    code=rule.code,
                )

    # --- shared ---------------------------------------------------------------------
    def _unique(
        self, base: Loc, items: list[tuple[int, dict[str, Any]]], key: str, what: str
    ) -> dict[str, int]:
        """Report repeated values of ``key`` (without case); returns value -> first index."""
        first: dict[str, int] = {}
        for i, item in items:
            value = _str(item.get(key))
            if value is None:
                continue
            if value.casefold() in first:
                j = first[value.casefold()]
                self.add(
                    (*base, i, key),
                    f"duplicate {what} '{value}' "
                    f"(first at {self.src.where((*base, j, key), (*base, i, key))})",
                    found=value,
                    expected=f"a unique {what}",
                    code="duplicate",
                )
                continue
            first[value.casefold()] = i
        return first


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    return (
        [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]
        if isinstance(value, list)
        else []
    )


def _strs(value: Any) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, str) and v.strip()]


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


# =====================================================================================
# customers_dir: one file per customer
# =====================================================================================


def _merge_customers_dir(
    data: dict[str, Any], base_dir: Path, reader: _Reader, issues: list[Issue]
) -> None:
    """Append the customers of ``customers_dir`` (sorted by file name) to ``customers``."""
    spec = data.get("customers_dir")
    if not isinstance(spec, str) or not spec.strip():
        return
    folder = Path(os.path.normpath(base_dir / spec))
    if not folder.is_dir():
        file, line = reader.src.locate(("customers_dir",))
        issues.append(
            Issue(
                "customers_dir",
                "not a directory",
                file,
                line,
                found=spec,
                expected="a directory (relative to this file) of one YAML file per customer",
            )
        )
        return
    if data.get("customers") is None:
        data["customers"] = []
    inline = data["customers"]
    if not isinstance(inline, list):
        return  # pass 1 reports the inline list's type; do not guess at indexes
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    for path in files:
        if path.name.startswith("."):
            continue
        loc: Loc = ("customers", len(inline))
        ok, doc = reader.load(path, loc)
        if not ok:
            inline.append(None)
            continue
        if not isinstance(doc, dict):
            issue = Issue(
                _format_path(loc),
                "a customer file must hold one mapping",
                *reader.src.locate(loc),
                found=_show(doc),
                expected="name:, tenant:, app:, roles: ...",
            )
            issues.append(reader.src.suppress(issue))
            inline.append(doc)
            continue
        _name_from_file(doc, path, loc, reader.src, issues)
        inline.append(doc)


def _name_from_file(
    doc: dict[str, Any], path: Path, loc: Loc, src: _Source, issues: list[Issue]
) -> None:
    name = doc.setdefault("name", path.stem)
    if isinstance(name, str) and name != path.stem:
        file, line = src.locate((*loc, "name"))
        issues.append(
            Issue(
                _format_path((*loc, "name")),
                f"name does not match the file name '{path.name}'",
                file,
                line,
                found=name,
                expected=f"{path.stem} (or leave name out)",
            )
        )


# =====================================================================================
# Public API
# =====================================================================================


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
    src = _Source()
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

    _merge_customers_dir(data, path.parent, reader, issues)
    config: Config | None = None
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        issues.extend(_pydantic_issues(exc, src))
    issues.extend(_Checker(data, src, path.parent).run())

    issues = _tidy(issues, src)
    if config is None or any(i.severity == "error" for i in issues):
        raise ConfigError(issues)
    return Loaded(config=config, warnings=issues, path=path)


def _tidy(issues: list[Issue], src: _Source) -> list[Issue]:
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


def json_schema() -> dict[str, Any]:
    """JSON Schema (2020-12) of the configuration file, for editors and ``xtenant schema``."""
    schema = Config.model_json_schema()
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "xtenant configuration",
        "description": "Secret-less cross-tenant identity chains (xtenant.yaml).",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }


def starter_yaml() -> str:
    """A commented configuration that validates as is, for ``xtenant init``."""
    return _STARTER


_STARTER = """\
# xtenant configuration. Check it with `xtenant validate`; `xtenant schema` prints the
# JSON Schema for editors. Any string may use ${ENV_VAR} (write $${ for a literal "${").
cloud: public                      # public | usgov | china | path/to/cloud.json

home:                              # the tenant where the workload and the app live
  tenant_id: 00000000-0000-0000-0000-000000000001        # placeholder: your tenant id
  subscription_id: 00000000-0000-0000-0000-000000000002  # placeholder: where identities go
  identities:                      # user-assigned managed identities
    - name: umi-workload
      resource_group: rg-identity
      location: westus2
      attach_to:                   # ARM ids of the hosts (VMs, Automation accounts)
        - /subscriptions/00000000-0000-0000-0000-000000000002/resourceGroups/rg-vm/providers/Microsoft.Compute/virtualMachines/vm-workload
  apps:                            # multi-tenant app registrations
    - key: main
      display_name: Contoso Workload
      unique_name: contoso-workload   # Graph alternate key: finds the app again on re-runs
      redirect_uri: https://contoso.example/onboarded
      trusts: [umi-workload]          # one federated credential per identity
      description: Sends our workload's telemetry to your Azure Monitor.
      graph_app_roles: []             # e.g. [Sites.Selected]

customers:                         # or customers_dir: customers (one file per customer)
  - name: example
    tenant: example.onmicrosoft.com   # tenant GUID or verified domain
    app: main
    roles:                          # asked of the customer's admin; least privilege
      - role: Monitoring Metrics Publisher
        scope: /subscriptions/00000000-0000-0000-0000-000000000003/resourceGroups/rg-logs/providers/Microsoft.Insights/dataCollectionRules/dcr-example
        why: send logs to the example DCR
    # probe:                        # optional: what `xtenant verify --probe` calls
    #   logs_ingestion:
    #     endpoint: https://dce-example.westus2-1.ingest.monitor.azure.com
    #     dcr_immutable_id: dcr-00000000000000000000000000000000
    #     stream: Custom-example_CL
"""

__all__ = [
    "AZURE_REGIONS",
    "BROAD_SCOPE_KINDS",
    "FORMATS",
    "GRAPH_RULES",
    "MAX_FEDERATED_CREDENTIALS",
    "ROLE_RULES",
    "App",
    "Config",
    "ConfigError",
    "Customer",
    "GraphRule",
    "Home",
    "Identity",
    "Issue",
    "Loaded",
    "LogsIngestionProbe",
    "Probe",
    "RoleGrant",
    "RoleRule",
    "UnknownNameError",
    "json_schema",
    "load_config",
    "starter_yaml",
]
