"""The declarative model (``xtenant.yaml``): schema, validation, least-privilege lint.

One module per job: ``model`` (the pydantic types), ``formats`` (field formats and value
validators), ``load`` (YAML with positions, ``${VAR}``, ``customers_dir``; the two
passes), ``check`` (pass 2: cross-references, uniqueness, catalog, lint), ``lint`` (the
least-privilege rules, as data), ``issues`` (the Issue type and pydantic errors as
Issues, shared with kit validation), ``schema`` and ``starter``.  Importers use this
package's names; the modules are its layout.
"""

from provisioning.config.check import MAX_FEDERATED_CREDENTIALS
from provisioning.config.formats import (
    FORMATS,
    GUID_PATTERN,
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
    Reason,
    RedirectUri,
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
)
from provisioning.config.issues import (
    ConfigError,
    Issue,
    Loc,
    Severity,
    UnknownNameError,
    did_you_mean,
    format_path,
    show,
    validation_issues,
)
from provisioning.config.lint import BROAD_SCOPE_KINDS, GRAPH_RULES, ROLE_RULES, GraphRule, RoleRule
from provisioning.config.load import load_config
from provisioning.config.model import (
    App,
    Config,
    Customer,
    DirectoryRoleGrant,
    ExchangeRoleGrant,
    Home,
    Identity,
    Loaded,
    LogsIngestionProbe,
    Probe,
    RoleGrant,
    SitePermission,
)
from provisioning.config.regions import AZURE_REGIONS
from provisioning.config.schema import json_schema
from provisioning.config.starter import starter_yaml

__all__ = [
    "AZURE_REGIONS",
    "BROAD_SCOPE_KINDS",
    "FORMATS",
    "GRAPH_RULES",
    "GUID_PATTERN",
    "MAX_FEDERATED_CREDENTIALS",
    "ROLE_RULES",
    "App",
    "ArmScope",
    "Config",
    "ConfigError",
    "Customer",
    "CustomerName",
    "DcrImmutableId",
    "DirectoryRoleGrant",
    "DirectoryScope",
    "DisplayName",
    "ExchangeRoleGrant",
    "GraphRole",
    "GraphRule",
    "Guid",
    "Home",
    "HostId",
    "HttpsUrl",
    "Identity",
    "IdentityName",
    "Issue",
    "Key",
    "Loaded",
    "Loc",
    "Location",
    "LogsIngestionProbe",
    "Probe",
    "Reason",
    "RedirectUri",
    "RedirectUris",
    "Ref",
    "ResourceGroupName",
    "RoleGrant",
    "RoleRule",
    "Severity",
    "SitePermission",
    "SiteRef",
    "StreamName",
    "SystemHostId",
    "Tags",
    "TenantRef",
    "Text",
    "UniqueName",
    "UnknownNameError",
    "did_you_mean",
    "format_path",
    "json_schema",
    "load_config",
    "show",
    "starter_yaml",
    "validation_issues",
]
