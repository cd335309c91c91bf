"""The host kinds: every resource type a workload runs on, and everything xtenant knows
about each, in one table that every part consults.

A *host* carries managed identities and serves its workload an identity endpoint. For
each kind this says how its ``identity`` block is read and written (the api-version, the
method, whether the write is long-running), whether it takes user-assigned identities at
all, which identity endpoint its workload reaches and how, the role an admin needs on it
to attach an identity, and which workload snippet the kit's home side shows.

    kind = host_kind(armid.parse(host_id))     # ValueError: not a host xtenant supports
    kind.role, kind.endpoint.variables, kind.snippet

Sources (Microsoft Learn): each kind's ``docs``; each endpoint's ``docs``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from provisioning.core.armid import ResourceId

Write = Literal["compute-vm", "compute-vmss", "patch", "patch-lro"]
"""How the identity block is written: azure-mgmt-compute's long-running ``begin_update``
(VMs, scale sets), a plain ARM PATCH answered at once, or a PATCH answered ``202`` with a
``Location`` to poll (azure-mgmt-core's ARM polling)."""

Snippet = Literal["vm", "vmss", "automation", "app-service", "container-app", "arc"]


@dataclass(frozen=True)
class Endpoint:
    """A managed-identity endpoint protocol, as the workload on the host reaches it."""

    key: Literal["imds", "app-service", "arc"]
    label: str
    variables: tuple[str, ...]  # what the platform sets in the workload's environment
    request: str  # the request, in one line
    selector: str  # how a user-assigned identity is chosen ("" where none can be)
    docs: str


IMDS = Endpoint(
    "imds",
    "IMDS",
    (),
    "GET http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01"
    "&resource=... with the header Metadata: true",
    "client_id, object_id or msi_res_id",
    "https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token",
)
APP_SERVICE = Endpoint(
    "app-service",
    "App Service / Automation",  # the protocol: Functions and Container Apps speak it too
    ("IDENTITY_ENDPOINT", "IDENTITY_HEADER"),
    "GET $IDENTITY_ENDPOINT?api-version=2019-08-01&resource=... with the header "
    "X-IDENTITY-HEADER: $IDENTITY_HEADER",
    "client_id, principal_id (object_id) or mi_res_id; none: the system-assigned identity",
    "https://learn.microsoft.com/azure/app-service/overview-managed-identity#rest-endpoint-reference",
)
ARC = Endpoint(
    "arc",
    "Azure Arc",  # the agent's HIMDS
    ("IDENTITY_ENDPOINT", "IMDS_ENDPOINT"),
    "GET $IDENTITY_ENDPOINT?api-version=2020-06-01&resource=... with Metadata: true; a 401 "
    "names a key file (WWW-Authenticate: Basic realm=<path>) whose content is sent back as "
    "Authorization: Basic <content>",
    "",
    "https://learn.microsoft.com/azure/azure-arc/servers/managed-identity-authentication",
)
ENDPOINTS: tuple[Endpoint, ...] = (IMDS, APP_SERVICE, ARC)


@dataclass(frozen=True)
class HostKind:
    """A resource type that carries managed identities and runs a workload."""

    full_type: str
    label: str
    api_version: str  # its identity block is read (GET) and written with this version
    write: Write
    user_assigned: bool  # False: only its system-assigned identity exists (Arc)
    endpoint: Endpoint
    role: str  # the built-in role on the host that lets an admin change its identity block
    role_id: str
    snippet: Snippet
    docs: str  # how the platform documents its managed identities
    plan_note: str | None = None  # said in the plan next to an identity change
    az_assign: str | None = None  # the az command that attaches {identity} to {host}
    both: str = "SystemAssigned, UserAssigned"  # the type with both kinds, as its spec spells it

    def roles_needed(self) -> str:
        """What attaching an identity needs, in words (named on a 403)."""
        if not self.user_assigned:
            return f"{self.role} on the {self.label}"
        return (
            f"{self.role} on the {self.label}, and Managed Identity Operator on the "
            "user-assigned identity"
        )


_VM_CONTRIBUTOR = ("Virtual Machine Contributor", "9980e02c-c2be-4d73-94e8-173b1dc7cf3c")
_WEBSITE_CONTRIBUTOR = ("Website Contributor", "de139f84-1756-47ae-9be6-808fbbe84772")

_KINDS: tuple[HostKind, ...] = (
    HostKind(
        "Microsoft.Compute/virtualMachines",
        "virtual machine",
        "2024-03-01",
        "compute-vm",
        True,
        IMDS,
        *_VM_CONTRIBUTOR,
        "vm",
        "https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/qs-configure-rest-vm",
        az_assign="az vm identity assign --ids {host} --identities {identity}",
    ),
    HostKind(
        "Microsoft.Compute/virtualMachineScaleSets",
        "VM scale set",
        "2024-03-01",
        "compute-vmss",
        True,
        IMDS,
        *_VM_CONTRIBUTOR,
        "vmss",
        "https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/qs-configure-rest-vmss",
        plan_note=(
            "a change of the scale set model: existing instances pick the identity up per the "
            "scale set's upgrade policy{upgrade} (new instances at once; with Manual, after "
            "`az vmss update-instances`)"
        ),
        az_assign="az vmss identity assign --ids {host} --identities {identity}",
    ),
    HostKind(
        "Microsoft.Automation/automationAccounts",
        "Automation account",
        "2023-11-01",
        "patch",
        True,
        APP_SERVICE,
        "Automation Contributor",
        "f353d9bd-d4a6-484e-a77a-8050b599b867",
        "automation",
        "https://learn.microsoft.com/azure/automation/enable-managed-identity-for-automation",
    ),
    _SITE := HostKind(
        "Microsoft.Web/sites",
        "App Service / Functions app",
        "2023-12-01",
        "patch",
        True,
        APP_SERVICE,
        *_WEBSITE_CONTRIBUTOR,
        "app-service",
        "https://learn.microsoft.com/azure/app-service/overview-managed-identity",
        az_assign="az webapp identity assign --ids {host} --identities {identity}",
    ),
    replace(
        _SITE,
        full_type="Microsoft.Web/sites/slots",
        label="App Service deployment slot",
        plan_note="a slot has identities of its own: a swap does not move them",
        az_assign=None,
    ),
    HostKind(
        "Microsoft.App/containerApps",
        "Container App",
        "2024-03-01",
        "patch-lro",
        True,
        APP_SERVICE,
        "Container Apps Contributor",
        "358470bc-b998-42bd-ab17-a7e34c199c0f",
        "container-app",
        "https://learn.microsoft.com/azure/container-apps/managed-identity",
        az_assign="az containerapp identity assign --ids {host} --user-assigned {identity}",
        both="SystemAssigned,UserAssigned",  # common-types v3 ManagedServiceIdentityType
    ),
    HostKind(
        "Microsoft.HybridCompute/machines",
        "Arc-enabled server",
        "2022-12-27",
        "patch",
        False,
        ARC,
        "Azure Connected Machine Resource Administrator",
        "cd570a14-e51a-42ad-bac8-bafd67325302",
        "arc",
        "https://learn.microsoft.com/azure/azure-arc/servers/managed-identity-authentication",
    ),
)

HOST_KINDS: Mapping[str, HostKind] = {k.full_type.lower(): k for k in _KINDS}


def host_types() -> list[str]:
    return [k.full_type for k in _KINDS]


def lookup(rid: ResourceId) -> HostKind | None:
    return HOST_KINDS.get(rid.full_type.lower()) if rid.kind == "resource" else None


def host_kind(rid: ResourceId) -> HostKind:
    """The host kind of ``rid``; ``ValueError`` if xtenant does not know it as a host."""
    if rid.kind != "resource":
        raise ValueError(f"expected a resource id, not a {rid.kind.replace('_', ' ')}")
    kind = lookup(rid)
    if kind is None:
        raise ValueError(
            f"{rid.full_type} cannot host an identity for xtenant; hosts: {', '.join(host_types())}"
        )
    return kind


def host_label(rid: ResourceId) -> str:
    """How a host is named in addresses: its name, ``<app>/<slot>`` for a slot."""
    return "/".join(rid.names) if rid.kind == "resource" else rid.name


def is_host(rid: ResourceId, name: str) -> bool:
    """Whether ``name`` (a machine's host name, ``--host``) names this host: its name, or for
    a slot ``<app>/<slot>`` or ``<app>-<slot>`` (its default host name's first label)."""
    n = name.casefold()
    names = rid.names if rid.kind == "resource" else (rid.name,)
    return n in {rid.name.casefold(), "/".join(names).casefold(), "-".join(names).casefold()}


def endpoint_for(environ: Mapping[str, str]) -> Endpoint | None:
    """The endpoint protocol the environment points azure-identity at, by the same
    variables azure-identity reads (``None``: another source, e.g. workload identity)."""
    if environ.get("IDENTITY_ENDPOINT"):
        if environ.get("IDENTITY_HEADER"):
            return None if environ.get("IDENTITY_SERVER_THUMBPRINT") else APP_SERVICE
        return ARC if environ.get("IMDS_ENDPOINT") else None
    if environ.get("MSI_ENDPOINT"):
        return None
    return IMDS
