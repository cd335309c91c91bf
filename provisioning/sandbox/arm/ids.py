"""ARM resource ids and types: parsing (case-insensitive, as ARM is), the types this sandbox
has rules for, and the small helpers every provider shares."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

Doc = dict[str, Any]

UAMI = "Microsoft.ManagedIdentity/userAssignedIdentities"
FIC = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
VM = "Microsoft.Compute/virtualMachines"
AUTOMATION = "Microsoft.Automation/automationAccounts"
DCR = "Microsoft.Insights/dataCollectionRules"
DCE = "Microsoft.Insights/dataCollectionEndpoints"
WEBSITE = "Microsoft.Web/sites"
WEB_SLOT = "Microsoft.Web/sites/slots"
ARC = "Microsoft.HybridCompute/machines"
VMSS = "Microsoft.Compute/virtualMachineScaleSets"
CONTAINER_APP = "Microsoft.App/containerApps"

# canonical casing of the types we know (anything else keeps the casing it was created with)
KNOWN_TYPES = {
    t.lower(): t
    for t in (
        UAMI,
        FIC,
        VM,
        AUTOMATION,
        DCR,
        DCE,
        WEBSITE,
        WEB_SLOT,
        ARC,
        VMSS,
        CONTAINER_APP,
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Network/virtualNetworks",
        "Microsoft.Network/networkInterfaces",
        "Microsoft.Compute/disks",
    )
}
# the resource types whose workloads get managed-identity tokens, and their endpoint family
HOST_KINDS = {
    VM.lower(): "vm",
    VMSS.lower(): "vmss",
    AUTOMATION.lower(): "automation",
    WEBSITE.lower(): "appservice",
    WEB_SLOT.lower(): "appservice",
    CONTAINER_APP.lower(): "containerapp",
    ARC.lower(): "arc",
}
# resource types whose PUT/PATCH is long-running (201/200 + Azure-AsyncOperation): Compute's
# (VirtualMachines_Update, VirtualMachineScaleSets_Update) and ContainerApps_CreateOrUpdate
ASYNC_TYPES = {VM.lower(), VMSS.lower(), CONTAINER_APP.lower()}
# resource types whose PATCH answers 202 + Location (ContainerApps_Update, 2024-03-01)
ACCEPTED_PATCH_TYPES = {CONTAINER_APP.lower()}
IDENTITY_TYPES = {
    VM.lower(),
    VMSS.lower(),
    AUTOMATION.lower(),
    WEBSITE.lower(),
    WEB_SLOT.lower(),
    CONTAINER_APP.lower(),
    ARC.lower(),
    DCR.lower(),
}

ROLE_ASSIGNMENTS_PROVIDER = "Microsoft.Authorization/roleAssignments"
ROLE_DEFINITIONS_PROVIDER = "Microsoft.Authorization/roleDefinitions"


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


def strip(doc: Doc) -> Doc:
    """The wire form: internal ``_`` fields removed (recursively at the top level only)."""
    return {k: v for k, v in doc.items() if not k.startswith("_")}


def is_guid(s: str) -> bool:
    try:
        uuid.UUID(s)
    except (ValueError, AttributeError, TypeError):
        return False
    return len(s) == 36


def norm_location(loc: Any) -> str:
    return str(loc or "").replace(" ", "").lower()


@dataclass
class Rid:
    """A parsed ARM resource id (or collection path) below a subscription."""

    sub: str
    rg: str | None = None
    ns: str | None = None
    types: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)

    @property
    def is_collection(self) -> bool:
        return len(self.types) > len(self.names)

    @property
    def type(self) -> str:
        return "/".join([self.ns or "", *self.types])

    @property
    def name(self) -> str:
        return self.names[-1] if self.names else ""

    @property
    def sub_id(self) -> str:
        return f"/subscriptions/{self.sub}"

    @property
    def rg_id(self) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{self.rg}"

    def path(self) -> str:
        out = f"/subscriptions/{self.sub}"
        if self.rg is not None:
            out += f"/resourceGroups/{self.rg}"
        if self.ns:
            out += f"/providers/{self.ns}"
            for i, t in enumerate(self.types):
                out += f"/{t}"
                if i < len(self.names):
                    out += f"/{self.names[i]}"
        return out

    def key(self) -> str:
        return self.path().lower()

    def parent_resource(self) -> Rid | None:
        if len(self.names) < 2:
            return None
        return Rid(self.sub, self.rg, self.ns, self.types[:-1], self.names[:-1])


def parse_rid(path: str) -> Rid | None:
    segs = [s for s in path.strip("/").split("/")]
    if len(segs) < 2 or segs[0].lower() != "subscriptions" or not segs[1]:
        return None
    rid = Rid(segs[1])
    i = 2
    if i < len(segs) and segs[i].lower() == "resourcegroups":
        if i + 1 >= len(segs) or not segs[i + 1]:
            return None
        rid.rg = segs[i + 1]
        i += 2
    if i == len(segs):
        return rid
    if segs[i].lower() != "providers" or i + 1 >= len(segs):
        return None
    rid.ns = segs[i + 1]
    rest = segs[i + 2 :]
    if not rest or any(not s for s in rest):
        return None if rest else rid
    rid.types = rest[0::2]
    rid.names = rest[1::2]
    return rid


def canonical_type(type_: str) -> str:
    return KNOWN_TYPES.get(type_.lower(), type_)
