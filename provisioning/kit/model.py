"""The onboarding kit's data: what one customer is asked to grant one home app.

``build_kit`` turns the configuration (plus the app's appId, known once the home side
exists) into a ``Kit``; ``Kit.to_json`` is ``kit.json``, the machine-readable half of the
kit that ``xtenant customer plan|apply --kit`` reads back with ``load_kit``.  Its shape
is versioned (``KIT_SCHEMA_VERSION``) and described by ``kit.schema.json`` next to this
file, generated from the models below (a test keeps it current; ``XTENANT_UPDATE_GOLDEN=1
pytest tests/kit`` rewrites it).

Everything here is deterministic: no clock, no randomness, lists in a stable order, so
that the same configuration renders the same bytes and kits can be committed and reviewed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from provisioning.config import (
    App,
    ArmScope,
    Config,
    Customer,
    DcrImmutableId,
    DirectoryScope,
    DisplayName,
    Guid,
    HttpsUrl,
    Issue,
    Key,
    RedirectUri,
    SiteRef,
    StreamName,
    TenantRef,
    UniqueName,
    show,
    validation_issues,
)
from provisioning.core import armid, bounded, sites
from provisioning.core.catalog import SITE_ROLES, entra_roles, exchange_roles
from provisioning.core.catalog import graph as graph_catalog
from provisioning.core.catalog import roles as role_catalog
from provisioning.core.clouds import Cloud
from provisioning.kit.ids import (
    assignment_name,
    exchange_assignment_name,
    exchange_scope_name,
    role_definition_id,
)

KIT_SCHEMA_VERSION: Literal[3] = 3
"""Version of ``kit.json``'s shape.  Bump it (and teach ``load_kit`` the old one) on any
change a reader of the previous version would misread; adding an optional field is not one.

2: role definition ids under the scope's subscription (the form requests carry), and the
provider's stated reason for each privileged grant.
3: scoped grants: SharePoint site permissions, Microsoft Entra directory roles and Exchange
Online application roles. A version 2 kit asks for none, which a version 2 reader would
not know to refuse; version 1 and 2 kits are read and upgraded.
"""

SITES_SELECTED_ID = "883ea226-0bf2-4a8f-9f9d-92c9162a727d"
"""Microsoft Graph's ``Sites.Selected`` application permission: without it a site
permission grants nothing."""

SCHEMA_PATH = Path(__file__).with_name("kit.schema.json")


# =====================================================================================
# The model (pydantic: it validates what build_kit makes and what load_kit reads)
# =====================================================================================


class _KitModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KitCloud(_KitModel):
    """Where the customer's tenant lives: endpoints and token audiences of its cloud."""

    name: str = Field(description="public | usgov | china | the name of a custom cloud")
    authority: HttpsUrl = Field(
        description="Entra authority, e.g. https://login.microsoftonline.com"
    )
    arm: HttpsUrl = Field(description="Azure Resource Manager endpoint")
    graph: HttpsUrl = Field(description="Microsoft Graph endpoint")
    exchange_audience: str = Field(description="audience of the home identity's assertions")
    arm_audience: str = Field(description="audience of ARM tokens")
    graph_audience: str = Field(description="audience of Microsoft Graph tokens")
    monitor_audience: str = Field(description="audience of Azure Monitor tokens")


class KitApp(_KitModel):
    """The multi-tenant app registration (in the home tenant) the customer consents to."""

    key: Key = Field(description="the app's key in the home configuration")
    app_id: Guid = Field(description="Application (client) ID")
    display_name: DisplayName = Field(description="what Entra shows on the consent screen")
    publisher: str | None = Field(description="who publishes the app (null: not stated)")
    description: str | None = Field(description="what the access is for")
    redirect_uri: RedirectUri = Field(description="where admin consent returns to")
    unique_name: UniqueName = Field(description="the app's uniqueName in the home tenant")


class KitHome(_KitModel):
    """Who is asking."""

    tenant_id: Guid = Field(description="the home tenant's id (the app's owner)")
    app: KitApp


class KitCustomer(_KitModel):
    """Who is asked."""

    name: Key = Field(description="short name of the customer")
    tenant: TenantRef = Field(description="the customer's tenant: GUID or verified domain")
    contact: str | None = Field(description="who to contact about this onboarding")


class KitRole(_KitModel):
    """One Azure role assignment asked of the customer, for the app's service principal."""

    role: str = Field(description="the role's name (or its GUID for a custom role)")
    role_id: Guid = Field(description="role definition GUID")
    role_definition_id: str = Field(
        description="the role definition's ARM id as the assignment names it: "
        "/subscriptions/<sub>/providers/Microsoft.Authorization/roleDefinitions/<role_id> "
        "(without the subscription at management-group scope)",
        json_schema_extra={
            "pattern": r"^(/subscriptions/[0-9a-f-]{36})?"
            r"/providers/Microsoft\.Authorization/roleDefinitions/[0-9a-f-]{36}$"
        },
    )
    scope: ArmScope = Field(description="ARM id of the scope")
    why: str | None = Field(description="what the access is for")
    description: str = Field(description="what the role permits (Microsoft's description)")
    assignment_name: Guid = Field(description="deterministic name of the role assignment")
    allow_privileged: str | None = Field(
        default=None,
        description="the provider's stated reason for a privileged role (null: none given)",
    )


class KitGraphRole(_KitModel):
    """One Microsoft Graph application permission (an app role of Microsoft Graph)."""

    value: str = Field(description="the permission, e.g. Sites.Selected")
    id: Guid = Field(description="the app role's id on Microsoft Graph")
    display_name: str = Field(description="what the consent screen shows")
    allow_privileged: str | None = Field(
        default=None,
        description="the provider's stated reason for a privileged permission (null: none given)",
    )


class KitSitePermission(_KitModel):
    """A SharePoint site the app may use with ``Sites.Selected`` (a site permission)."""

    site: SiteRef = Field(description="the site's URL or Graph id, as the provider wrote it")
    role: Literal["read", "write", "manage", "fullcontrol"] = Field(
        description="the site permission's role"
    )
    why: str | None = Field(description="what the access is for")
    allow_privileged: str | None = Field(
        default=None, description="the provider's stated reason for fullcontrol (null: none)"
    )

    @property
    def ref(self) -> sites.SiteRef:
        return sites.parse(self.site)


class KitDirectoryRole(_KitModel):
    """A Microsoft Entra role for the app's service principal (a unifiedRoleAssignment)."""

    role: str = Field(description="the built-in role's name")
    template_id: Guid = Field(
        description="the role's template id (the assignment's roleDefinitionId)"
    )
    scope: DirectoryScope = Field(
        description="directoryScopeId: / (the tenant) or /administrativeUnits/<id>"
    )
    description: str = Field(description="what the role permits (Microsoft's description)")
    why: str | None = Field(description="what the access is for")
    allow_privileged: str | None = Field(
        default=None, description="the provider's stated reason for a privileged role (null: none)"
    )


class KitExchangeRole(_KitModel):
    """An Exchange Online application role, for the customer's Exchange administrator to
    grant with PowerShell (RBAC for Applications)."""

    role: str = Field(description="the application role, e.g. Application Mail.Read")
    recipient_filter: str | None = Field(
        description="the management scope's RecipientRestrictionFilter (null: none)"
    )
    administrative_unit: Guid | None = Field(description="the administrative unit (null: none)")
    scope_name: str | None = Field(
        description="name of the management scope holding recipient_filter (null: no filter)"
    )
    assignment_name: str = Field(description="name of the management role assignment")
    why: str | None = Field(description="what the access is for")
    allow_privileged: str | None = Field(
        default=None, description="the provider's stated reason for a privileged role (null: none)"
    )

    @property
    def permissions(self) -> tuple[str, ...]:
        known = exchange_roles.lookup(self.role)
        return known.permissions if known else ()


class WorkloadHost(_KitModel):
    """A host an identity the app trusts runs on (its kind from ``core/hosts.py``)."""

    name: str
    resource_id: str
    type: str


class WorkloadIdentity(_KitModel):
    """A home identity the app trusts (for the home-side snippets): user-assigned, or the
    system-assigned identity of a host (``system_assigned_of``; its client id may be
    unknown, and no workload needs it: the endpoint gives it when none is named)."""

    name: str
    client_id: Guid | None
    principal_id: Guid
    resource_id: str
    system_assigned_of: str | None = None
    hosts: tuple[WorkloadHost, ...] = ()


class LogsIngestion(_KitModel):
    """The customer's Logs Ingestion target (from ``probe.logs_ingestion``)."""

    endpoint: HttpsUrl
    dcr_immutable_id: DcrImmutableId
    stream: StreamName


class Workload(_KitModel):
    """What the home-side snippets need; never written to ``kit.json``."""

    identities: tuple[WorkloadIdentity, ...] = ()
    logs_ingestion: LogsIngestion | None = None


class Kit(_KitModel):
    """Everything one customer is asked to grant one home app (``kit.json``)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="xtenant onboarding kit",
        json_schema_extra={
            "description": "What a customer tenant is asked to grant a home app: "
            "written by `xtenant kit`, read by `xtenant customer plan|apply|remove --kit`."
        },
    )

    schema_version: Literal[3] = Field(description="version of this shape (KIT_SCHEMA_VERSION)")
    cloud: KitCloud
    home: KitHome
    customer: KitCustomer
    roles: tuple[KitRole, ...] = Field(description="Azure role assignments, sorted by scope")
    graph_app_roles: tuple[KitGraphRole, ...] = Field(
        description="Microsoft Graph application permissions this customer grants"
    )
    consent_graph_app_roles: tuple[KitGraphRole, ...] = Field(
        description="what the admin-consent screen lists: every Graph permission the app "
        "registration requests (a superset of graph_app_roles)"
    )
    consent_url: HttpsUrl = Field(description="the tenant-specific admin-consent link")
    assignment_names: tuple[Guid, ...] = Field(
        description="roles[*].assignment_name, in the same order"
    )
    site_permissions: tuple[KitSitePermission, ...] = Field(
        default=(), description="SharePoint sites granted to the app (needs Sites.Selected)"
    )
    directory_roles: tuple[KitDirectoryRole, ...] = Field(
        default=(), description="Microsoft Entra roles for the app's service principal"
    )
    exchange_roles: tuple[KitExchangeRole, ...] = Field(
        default=(),
        description="Exchange Online application roles (granted by the customer with PowerShell)",
    )

    _workload: Workload | None = PrivateAttr(default=None)

    # --- derived ------------------------------------------------------------------------
    @property
    def app_id(self) -> str:
        return self.home.app.app_id

    @property
    def workload(self) -> Workload | None:
        """Home-side data for the workload snippets (set by ``build_kit``; not in kit.json)."""
        return self._workload

    @property
    def consent_v2(self) -> bool:
        """True when the consent link is the v2 endpoint (Graph permissions asked)."""
        return "/v2.0/adminconsent" in self.consent_url

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Kit):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.dumps())

    def to_json(self) -> dict[str, Any]:
        """``kit.json``'s content, keys in a fixed order."""
        return self.model_dump(mode="json")

    def dumps(self) -> str:
        """``kit.json``'s bytes (as text): two-space indent, trailing newline."""
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"


# =====================================================================================
# Building a kit from the configuration
# =====================================================================================


def build_kit(
    config: Config,
    cloud: Cloud,
    customer_name: str,
    *,
    app_id: str,
    home_identities: Mapping[str, Mapping[str, str]],
) -> Kit:
    """The kit for one customer.

    ``app_id`` is the home app's appId (read from Graph once the home side exists);
    ``home_identities`` maps identity name -> ``{"client_id", "principal_id",
    "resource_id"}``; the ones the app trusts feed the home-side workload snippets (they
    are kept out of ``kit.json``).
    """
    customer = config.customer(customer_name)
    app = config.app(customer.app)
    app_id = app_id.strip().lower()
    try:
        return _build(config, cloud, customer, app, app_id, home_identities)
    except ValidationError as exc:  # a value the kit cannot carry (e.g. app_id not a GUID)
        raise KitError(validation_issues(exc, None, source="build_kit")) from None


def _build(
    config: Config,
    cloud: Cloud,
    customer: Customer,
    app: App,
    app_id: str,
    home_identities: Mapping[str, Mapping[str, str]],
) -> Kit:
    roles: dict[tuple[str, str], KitRole] = {}
    for grant in customer.roles:
        rid = grant.role_id
        scope = str(armid.parse(grant.scope))
        key = (scope.lower(), rid)
        if key in roles:
            continue
        found = grant.role_def
        roles[key] = KitRole(
            role=found.name if found else grant.role,
            role_id=rid,
            role_definition_id=role_definition_id(rid, scope),
            scope=scope,
            why=_clean(grant.why),
            description=found.description if found else "",
            assignment_name=assignment_name(scope, rid, app_id),
            allow_privileged=_clean(grant.allow_privileged),
        )
    ordered = tuple(roles[k] for k in sorted(roles))
    customer_reason = _clean(customer.allow_privileged) or _clean(app.allow_privileged)
    declared = graph_roles(customer.graph_roles, reason=customer_reason)
    on_consent = graph_roles(
        [*app.graph_roles, *customer.graph_roles], reason=_clean(app.allow_privileged)
    )
    redirect_uri = app.redirect_uris[0]
    consent_url = cloud.admin_consent_url(
        customer.tenant,
        app_id,
        redirect_uri,
        graph_permissions=bool(on_consent),
        state=f"xtenant:{customer.name}",
    )
    kit = Kit(
        schema_version=KIT_SCHEMA_VERSION,
        site_permissions=_site_permissions(customer),
        directory_roles=_directory_roles(customer),
        exchange_roles=_exchange_roles(customer, app_id),
        cloud=KitCloud(
            name=cloud.name,
            authority=cloud.authority,
            arm=cloud.arm,
            graph=cloud.graph,
            exchange_audience=cloud.exchange_audience,
            arm_audience=cloud.arm_audience,
            graph_audience=cloud.graph_audience,
            monitor_audience=cloud.monitor_audience,
        ),
        home=KitHome(
            tenant_id=config.home.tenant_id,
            app=KitApp(
                key=app.key,
                app_id=app_id,
                display_name=app.display_name,
                publisher=_clean(app.publisher),
                description=_clean(app.description),
                redirect_uri=redirect_uri,
                unique_name=app.unique_name,
            ),
        ),
        customer=KitCustomer(
            name=customer.name, tenant=customer.tenant, contact=_clean(customer.contact)
        ),
        roles=ordered,
        graph_app_roles=declared,
        consent_graph_app_roles=on_consent,
        consent_url=consent_url,
        assignment_names=tuple(r.assignment_name for r in ordered),
    )

    trusted = {t.casefold() for t in app.trusts}
    identities = []
    for name in sorted(home_identities, key=str.casefold):
        if name.casefold() not in trusted:
            continue
        ids = home_identities[name]
        source = next(
            (i for i in config.home.identities if i.name.casefold() == name.casefold()), None
        )
        identities.append(
            WorkloadIdentity(
                name=name,
                client_id=ids.get("client_id") or None,
                principal_id=ids["principal_id"],
                resource_id=ids["resource_id"],
                system_assigned_of=source.system_assigned_of if source else None,
                hosts=tuple(
                    WorkloadHost(name=h.name, resource_id=str(h), type=h.full_type)
                    for h in (source.host_ids if source else [])
                ),
            )
        )
    probe = customer.probe.logs_ingestion if customer.probe else None
    kit._workload = Workload(
        identities=tuple(identities),
        logs_ingestion=LogsIngestion(**probe.model_dump()) if probe else None,
    )
    return kit


def _site_permissions(customer: Customer) -> tuple[KitSitePermission, ...]:
    """Once per site (the strongest role asked wins), sorted by site."""
    chosen: dict[tuple[str, ...], KitSitePermission] = {}
    for g in customer.site_permissions:
        key = g.site_ref.key
        have = chosen.get(key)
        if have is not None and SITE_ROLES.index(have.role) >= SITE_ROLES.index(g.role):
            continue
        chosen[key] = KitSitePermission(
            site=g.site,
            role=g.role,
            why=_clean(g.why),
            allow_privileged=_clean(g.allow_privileged),
        )
    return tuple(chosen[k] for k in sorted(chosen))


def _directory_roles(customer: Customer) -> tuple[KitDirectoryRole, ...]:
    out: dict[tuple[str, str], KitDirectoryRole] = {}
    for g in customer.directory_roles:
        role = g.role_def
        if role is None:  # validate refuses it; a kit cannot name an unknown role
            raise LookupError(f"directory role {g.role!r} is not in the catalog")
        out.setdefault(
            (role.name.casefold(), g.scope),
            KitDirectoryRole(
                role=role.name,
                template_id=role.template_id,
                scope=g.scope,
                description=role.description,
                why=_clean(g.why),
                allow_privileged=_clean(g.allow_privileged),
            ),
        )
    return tuple(out[k] for k in sorted(out))


def _exchange_roles(customer: Customer, app_id: str) -> tuple[KitExchangeRole, ...]:
    out: dict[tuple[str, str], KitExchangeRole] = {}
    for g in customer.exchange_roles:
        role = g.role_def
        if role is None:
            raise LookupError(f"Exchange role {g.role!r} is not in the catalog")
        flt, au = g.recipient_filter, g.administrative_unit
        out.setdefault(
            (role.name.casefold(), flt or au or ""),
            KitExchangeRole(
                role=role.name,
                recipient_filter=flt,
                administrative_unit=au,
                scope_name=exchange_scope_name(app_id, flt) if flt is not None else None,
                assignment_name=exchange_assignment_name(app_id, role.name, flt, au),
                why=_clean(g.why),
                allow_privileged=_clean(g.allow_privileged),
            ),
        )
    return tuple(out[k] for k in sorted(out))


def graph_roles(items: Any, *, reason: str | None = None) -> tuple[KitGraphRole, ...]:
    """Graph permissions, once each, sorted by value; ``reason`` (the provider's
    ``allow_privileged``) is carried on the privileged ones only."""
    unique = {r.id: r for r in items}
    return tuple(
        KitGraphRole(
            value=r.value,
            id=r.id,
            display_name=r.display_name.strip(),
            allow_privileged=reason if r.privileged else None,
        )
        for r in sorted(unique.values(), key=lambda r: (r.value.casefold(), r.id))
    )


def _clean(text: str | None) -> str | None:
    """Optional free text: ``None`` when absent or blank, otherwise as written."""
    return text if text is not None and text.strip() else None


# =====================================================================================
# Reading a kit back
# =====================================================================================


class KitError(ValueError):
    """A ``kit.json`` that cannot be used; ``issues`` says where and why."""

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues) or "invalid kit")

    @property
    def paths(self) -> list[str]:
        return [i.path for i in self.issues]


def load_kit(path: str | Path) -> Kit:
    """Read and validate ``kit.json``; ``KitError`` names every bad field.

    Bounded (a regular file of at most ``MAX_FILE_BYTES``, nesting at most ``MAX_DEPTH``):
    a kit comes from another company."""
    p = Path(path)
    try:
        text = bounded.read_text(p)
        data = bounded.load_json(text)
    except bounded.InputError as exc:
        raise KitError([Issue("", f"cannot read the kit: {exc}", str(p))]) from None
    except json.JSONDecodeError as exc:
        raise KitError(
            [Issue("", f"not valid JSON: {exc.msg}", str(p), exc.lineno, expected="kit.json")]
        ) from None
    return kit_from_json(data, source=str(p))


def kit_from_json(data: Any, *, source: str | None = None) -> Kit:
    """Validate the parsed content of ``kit.json`` (see ``load_kit``)."""
    if not isinstance(data, dict):
        raise KitError([Issue("", "a kit is a JSON object", source, found=show(data))])
    version = data.get("schema_version")
    if version == 1:
        data = _upgrade_v1(data)
        version = data.get("schema_version")
    if version == 2:
        data = _upgrade_v2(data)
        version = data.get("schema_version")
    if version != KIT_SCHEMA_VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > 1:
            message = (
                f"this kit has schema version {version}; this xtenant reads versions 1 to "
                f"{KIT_SCHEMA_VERSION}: upgrade xtenant"
            )
        elif version is None:
            message = "missing required field 'schema_version'"
        else:
            message = "unknown kit schema version"
        raise KitError(
            [
                Issue(
                    "schema_version",
                    message,
                    source,
                    found=None if version is None else show(version),
                    expected=str(KIT_SCHEMA_VERSION),
                )
            ]
        )
    try:
        kit = Kit.model_validate(data)
    except ValidationError as exc:
        raise KitError(validation_issues(exc, Kit, source=source)) from None
    problems = consistency_issues(kit, source)
    if problems:
        raise KitError(problems)
    return kit


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A version 1 kit in version 2's shape: role definition ids were tenant-level
    (``/providers/...``) and are now under the scope's subscription. A v1 value that
    does not name its own ``role_id`` is kept as is, so that the check refuses it."""
    out = dict(data, schema_version=2)
    roles = data.get("roles")
    if isinstance(roles, list):
        upgraded = []
        for r in roles:
            if isinstance(r, dict) and isinstance(r.get("role_id"), str):
                tenant_level = f"/providers/Microsoft.Authorization/roleDefinitions/{r['role_id']}"
                scope = r.get("scope")
                if (
                    str(r.get("role_definition_id", "")).lower() == tenant_level.lower()
                    and isinstance(scope, str)
                    and armid.try_parse(scope) is not None
                ):
                    r = dict(r, role_definition_id=role_definition_id(r["role_id"], scope))
            upgraded.append(r)
        out["roles"] = upgraded
    return out


def _upgrade_v2(data: dict[str, Any]) -> dict[str, Any]:
    """A version 2 kit in version 3's shape: it asks for no scoped grant, and says so."""
    return dict(data, schema_version=3, site_permissions=[], directory_roles=[], exchange_roles=[])


def consistency_issues(kit: Kit, source: str | None = None) -> list[Issue]:
    """What the schema cannot say: values that must agree with each other, and labels
    that must name what their ids grant (a kit may not show one role and grant another)."""
    out: list[Issue] = []
    for i, r in enumerate(kit.roles):
        want = role_definition_id(r.role_id, r.scope)
        if r.role_definition_id.lower() != want.lower():
            out.append(
                Issue(
                    f"roles[{i}].role_definition_id",
                    "does not name roles[].role_id at this scope",
                    source,
                    found=r.role_definition_id,
                    expected=want,
                )
            )
        name = assignment_name(r.scope, r.role_id, kit.app_id)
        if r.assignment_name != name:
            out.append(
                Issue(
                    f"roles[{i}].assignment_name",
                    "is not the deterministic name of this scope, role and app "
                    "(was the kit edited by hand?)",
                    source,
                    found=r.assignment_name,
                    expected=name,
                )
            )
        known = role_catalog.lookup(r.role_id)
        if known is not None and r.role != known.name:
            out.append(
                Issue(
                    f"roles[{i}].role",
                    f"the label does not name the role its role_id grants ({r.role_id} is "
                    f"{known.name})",
                    source,
                    found=r.role,
                    expected=known.name,
                )
            )
    for field in ("graph_app_roles", "consent_graph_app_roles"):
        for i, g in enumerate(getattr(kit, field)):
            known_g = graph_catalog.lookup(g.id)
            if known_g is not None and g.value != known_g.value:
                out.append(
                    Issue(
                        f"{field}[{i}].value",
                        f"the label does not name the permission its id grants ({g.id} is "
                        f"{known_g.value})",
                        source,
                        found=g.value,
                        expected=known_g.value,
                    )
                )
    out.extend(_scoped_issues(kit, source))
    if list(kit.assignment_names) != [r.assignment_name for r in kit.roles]:
        out.append(
            Issue(
                "assignment_names",
                "must list roles[].assignment_name in the same order",
                source,
                found=show(list(kit.assignment_names)),
            )
        )
    declared = {g.id for g in kit.graph_app_roles}
    if not declared <= {g.id for g in kit.consent_graph_app_roles}:
        out.append(
            Issue(
                "consent_graph_app_roles",
                "must include every permission in graph_app_roles",
                source,
            )
        )
    prefix = f"{kit.cloud.authority.rstrip('/')}/{kit.customer.tenant}/"
    if not kit.consent_url.lower().startswith(prefix.lower()) or (
        f"client_id={kit.app_id}" not in kit.consent_url.lower()
    ):
        out.append(
            Issue(
                "consent_url",
                "is not an admin-consent link for this tenant and app",
                source,
                found=kit.consent_url,
                expected=f"{prefix}[v2.0/]adminconsent?client_id={kit.app_id}&...",
            )
        )
    return out


def _scoped_issues(kit: Kit, source: str | None) -> list[Issue]:
    """Scoped grants: labels must name what their ids grant, derived names must be the
    ones ``ids.py`` derives, and a site permission needs ``Sites.Selected``."""
    out: list[Issue] = []
    for i, d in enumerate(kit.directory_roles):
        known = entra_roles.lookup(d.template_id)
        if known is None:
            out.append(
                Issue(
                    f"directory_roles[{i}].template_id",
                    "not a Microsoft Entra built-in role xtenant knows: nothing would say what "
                    "it grants",
                    source,
                    found=d.template_id,
                    expected="the template id of a built-in role",
                )
            )
        elif d.role != known.name:
            out.append(
                Issue(
                    f"directory_roles[{i}].role",
                    f"the label does not name the role its template_id grants ({d.template_id} "
                    f"is {known.name})",
                    source,
                    found=d.role,
                    expected=known.name,
                )
            )
    for i, x in enumerate(kit.exchange_roles):
        if exchange_roles.lookup(x.role) is None:
            out.append(
                Issue(
                    f"exchange_roles[{i}].role",
                    "not an Exchange Online application role xtenant knows",
                    source,
                    found=x.role,
                    expected="one of " + ", ".join(exchange_roles.names()),
                )
            )
        if x.recipient_filter is not None and x.administrative_unit is not None:
            out.append(
                Issue(
                    f"exchange_roles[{i}]", "has both a filter and an administrative unit", source
                )
            )
        scope = (
            exchange_scope_name(kit.app_id, x.recipient_filter)
            if x.recipient_filter is not None
            else None
        )
        name = exchange_assignment_name(
            kit.app_id, x.role, x.recipient_filter, x.administrative_unit
        )
        for field, have, want in (
            ("scope_name", x.scope_name, scope),
            ("assignment_name", x.assignment_name, name),
        ):
            if have != want:
                out.append(
                    Issue(
                        f"exchange_roles[{i}].{field}",
                        "is not the name derived from this app, role and scope "
                        "(was the kit edited by hand?)",
                        source,
                        found=show(have),
                        expected=show(want),
                    )
                )
    if kit.site_permissions and SITES_SELECTED_ID not in {g.id for g in kit.graph_app_roles}:
        out.append(
            Issue(
                "site_permissions",
                "site permissions grant nothing unless graph_app_roles holds Sites.Selected",
                source,
                expected=f"graph_app_roles with Sites.Selected ({SITES_SELECTED_ID})",
            )
        )
    return out


# =====================================================================================
# JSON Schema
# =====================================================================================


def kit_json_schema() -> dict[str, Any]:
    """The JSON Schema of ``kit.json`` (what ``kit.schema.json`` holds)."""
    schema = Kit.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:xtenant:kit:v{KIT_SCHEMA_VERSION}",
        **schema,
    }


def dumps_schema() -> str:
    return json.dumps(kit_json_schema(), indent=2, ensure_ascii=False) + "\n"
