"""What a diagnosis is computed from (``Context``: everything known about the failing hop)
and what it is (``Diagnosis``: cause, fix, supporting details)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provisioning.core.clouds import Cloud

EXCHANGE_APP_IDS = frozenset({"fb60f99c-7a34-4190-8149-302f77469936"})
"""appId of Entra's token-exchange app: an MI token for ``api://AzureADTokenExchange``
carries it as ``aud``, and Entra matches it to that audience in a FIC."""

SECRET_VARIABLES = ("AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_USERNAME")
"""Environment variables that make azure-identity's EnvironmentCredential (first in
``DefaultAzureCredential``) authenticate with a secret, a certificate or a password."""

UNKNOWN = "(unknown)"


@dataclass
class Context:
    """Everything known about the failing hop.  Every field is optional: a diagnosis
    says less when less is known, never more."""

    cloud: Cloud | None = None
    step: str | None = None  # mi_token | home_exchange | exchange:arm | probe:logs ...
    where: str | None = None  # "home" or "customer": which tenant the failing call went to
    service: str | None = None  # entra | imds | arm | graph | monitor (when the error omits it)
    config_path: str | None = None
    kit_dir: str = "kits"
    # tenants
    home_tenant: str | None = None
    tenant: str | None = None  # the tenant the failing request went to
    customer: str | None = None
    # the app
    app_key: str | None = None
    app_id: str | None = None
    app_name: str | None = None
    redirect_uri: str | None = None
    graph_permissions: bool = False  # the app asks for Graph application permissions
    home_sp_declared: bool = False  # home.apps[].service_principal
    app_in_home: bool | None = None  # Graph (home admin) found the appId in the home tenant
    # the identity and the host
    identity: str | None = None  # config name
    identity_client_id: str | None = None
    identity_principal_id: str | None = None
    identity_resource_id: str | None = None
    other_identities: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    host: str | None = None
    endpoint_kind: str | None = None
    declared_hosts: Sequence[str] = ()  # names in the identity's attach_to
    attached: bool | None = None  # ARM: the identity is attached to ``host`` now
    host_kind: str | None = None  # the registry's label of this host's kind
    system_assigned_of: str | None = None  # the host, when the identity is its system-assigned one
    # the assertion and the app's federated credentials
    assertion: Mapping[str, Any] | None = None  # decoded claims, never the token
    fics: Sequence[Mapping[str, Any]] | None = None  # None: could not be read
    expected_issuer: str | None = None
    expected_audience: str | None = None
    # what the customer grants
    role: str | None = None
    scope: str | None = None
    roles: Sequence[tuple[str, str]] = ()  # every (role, scope) the customer grants
    graph_roles: Sequence[str] = ()  # Graph permissions the customer grants
    granted_roles: Sequence[str] | None = None  # the token's ``roles`` claim
    resource: str | None = None  # the audience / resource of the failing exchange
    environ_names: Sequence[str] = ()  # names (never values) of variables set on the host


@dataclass(frozen=True)
class Diagnosis:
    """The cause of a failure and its fix; ``details`` are supporting lines (e.g. each
    federated credential next to the assertion)."""

    code: str
    cause: str
    fix: str
    details: tuple[str, ...] = ()
    message: str | None = None  # the service's own words (first line, no trace ids)
    severity: str = "error"  # "error", or "note" for an outcome that is expected

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "cause": self.cause,
            "fix": self.fix,
            "details": list(self.details),
            "message": self.message,
        }

    def __str__(self) -> str:
        lines = [f"{self.code}: {self.cause}", f"  fix: {self.fix}"]
        lines += [f"  {d}" for d in self.details]
        return "\n".join(lines)
