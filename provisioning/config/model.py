"""The declarative model (``xtenant.yaml``) as pydantic types: what each field holds.

Structure only (types, formats, unknown keys).  What needs the whole document,
cross-references, uniqueness, catalog look-ups and the lint, is ``check.py``'s job.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from provisioning.config.formats import (
    ArmScope,
    CustomerName,
    DcrImmutableId,
    DirectoryScope,
    DisplayName,
    GraphRole,
    Guid,
    HostId,
    HttpsUrl,
    IdentityName,
    Key,
    Location,
    OneLine,
    Reason,
    RedirectUris,
    Ref,
    ResourceGroupName,
    SiteRef,
    StreamName,
    SystemHostId,
    Tags,
    TenantRef,
    Text,
    UniqueName,
    fail,
)
from provisioning.config.issues import Issue, UnknownNameError, did_you_mean
from provisioning.core import armid, clouds, sites
from provisioning.core.catalog import (
    EntraRole,
    ExchangeRole,
    GraphAppRole,
    RoleDef,
    entra_roles,
    exchange_roles,
    graph,
    role_definition_guid,
    roles,
)


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


SiteRole = Literal["read", "write", "manage", "fullcontrol"]


class SitePermission(_Model):
    """A SharePoint site the app may use (a ``Sites.Selected`` grant): Graph
    ``POST /sites/{site-id}/permissions`` for the app, with one role."""

    site: SiteRef = Field(
        description="the site's URL (https://<tenant>.sharepoint.com/sites/...) "
        "or its Graph id (<host>,<site-collection-id>,<web-id>)"
    )
    role: SiteRole = Field(default="read", description="read | write | manage | fullcontrol")
    why: str | None = Field(default=None, description="what the access is for")
    allow_privileged: Reason | None = Field(
        default=None, description="why fullcontrol (managing the site's permissions) is needed"
    )

    @property
    def site_ref(self) -> sites.SiteRef:
        return sites.parse(self.site)


class DirectoryRoleGrant(_Model):
    """A Microsoft Entra built-in role for the app's service principal (Graph
    ``roleManagement/directory/roleAssignments``), tenant-wide or in an administrative unit."""

    role: Text = Field(description="built-in role name (e.g. Directory Readers) or template id")
    scope: DirectoryScope = Field(
        default="/", description="/ (the tenant) or /administrativeUnits/<guid>"
    )
    why: str | None = Field(default=None, description="what the access is for")
    allow_privileged: Reason | None = Field(
        default=None, description="why a privileged directory role is needed"
    )

    @property
    def role_def(self) -> EntraRole | None:
        return entra_roles.lookup(self.role)


class ExchangeRoleGrant(_Model):
    """An Exchange Online application role (RBAC for Applications), limited to the
    mailboxes of a management scope or an administrative unit. PowerShell only: the kit
    gives the commands; the customer's Exchange administrator runs them."""

    role: Text = Field(description="application role, e.g. Application Mail.Read")
    recipient_filter: OneLine | None = Field(
        default=None,
        description="OPATH filter of the mailboxes (New-ManagementScope "
        "-RecipientRestrictionFilter), e.g. \"CustomAttribute1 -eq 'reports'\"",
    )
    administrative_unit: Guid | None = Field(
        default=None, description="an administrative unit's id, instead of a filter"
    )
    why: str | None = Field(default=None, description="what the access is for")
    allow_privileged: Reason | None = Field(
        default=None, description="why a role that sends as, or fully controls, mailboxes is needed"
    )

    @model_validator(mode="after")
    def _one_scope(self) -> ExchangeRoleGrant:
        if self.recipient_filter is not None and self.administrative_unit is not None:
            raise fail(
                "give recipient_filter or administrative_unit, not both",
                None,
                "one of them (or neither: every mailbox)",
            )
        return self

    @property
    def role_def(self) -> ExchangeRole | None:
        return exchange_roles.lookup(self.role)


class Customer(_Model):
    """A resource tenant that grants the app access."""

    name: CustomerName = Field(description="short name of the customer (unique)")
    tenant: TenantRef = Field(description="tenant GUID or verified domain")
    app: Ref = Field(description="key of the home app this customer consents to")
    roles: list[RoleGrant] = Field(default_factory=list)
    graph_app_roles: list[GraphRole] = Field(
        default_factory=list, description="Graph permissions granted; a subset of the app's"
    )
    site_permissions: list[SitePermission] = Field(
        default_factory=list, description="SharePoint sites granted to the app (Sites.Selected)"
    )
    directory_roles: list[DirectoryRoleGrant] = Field(
        default_factory=list, description="Microsoft Entra roles for the app's service principal"
    )
    exchange_roles: list[ExchangeRoleGrant] = Field(
        default_factory=list,
        description="Exchange Online application roles (PowerShell, run by the customer)",
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
    trusts: list[Ref] = Field(description="identity names; one federated credential each")
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
    """A managed identity in the home tenant: a user-assigned identity in the home
    subscription (``resource_group``, ``location``, ``attach_to``), or the system-assigned
    identity of one host (``system_assigned_of``)."""

    name: IdentityName = Field(description="identity name (unique)")
    resource_group: ResourceGroupName | None = Field(
        default=None, description="resource group of the user-assigned identity"
    )
    location: Location | None = Field(
        default=None, description="Azure region of the user-assigned identity, e.g. westus2"
    )
    attach_to: list[HostId] = Field(
        default_factory=list,
        description="ARM ids of the hosts the user-assigned identity is attached to (VMs, "
        "scale sets, App Service / Functions apps and slots, Container Apps, Automation accounts)",
    )
    system_assigned_of: SystemHostId | None = Field(
        default=None,
        description="ARM id of a host whose system-assigned identity this is (no "
        "resource_group, location or attach_to). Microsoft documents user-assigned identities "
        "as the supported kind for an app's federated credential; `validate` warns",
    )
    tags: Tags = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_kind(self) -> Identity:
        if self.system_assigned_of is not None:
            extra = [
                f
                for f in ("resource_group", "location", "attach_to")
                if getattr(self, f) not in (None, [])
            ]
            if extra or self.tags:
                raise fail(
                    f"a system-assigned identity lives on its host: remove "
                    f"{', '.join(extra or ['tags'])}",
                    ", ".join(extra or ["tags"]),
                    "system_assigned_of alone, or resource_group + location without it",
                )
        else:
            missing = [f for f in ("resource_group", "location") if getattr(self, f) is None]
            if missing:
                raise fail(
                    f"a user-assigned identity needs {' and '.join(missing)} "
                    "(or system_assigned_of: <host id> for a host's system-assigned identity)",
                    None,
                    "resource_group and location",
                )
        return self

    @property
    def system_assigned(self) -> bool:
        return self.system_assigned_of is not None

    @property
    def attach_ids(self) -> list[armid.ResourceId]:
        return [armid.parse(a) for a in self.attach_to]

    @property
    def host_ids(self) -> list[armid.ResourceId]:
        """The hosts whose workloads can use this identity."""
        if self.system_assigned_of is not None:
            return [armid.parse(self.system_assigned_of)]
        return self.attach_ids


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
        default=None,
        description="directory of one YAML file per customer (relative, inside this file's folder)",
    )
    offboard: list[Key] = Field(
        default_factory=list,
        description="customers to offboard: the next reconcile moves their kits to "
        "<kits>/.offboarded/ (a customer merely missing from the list is never offboarded)",
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
    raise UnknownNameError(f"unknown {what} {name!r}{did_you_mean(name, map(key, items))}")


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
