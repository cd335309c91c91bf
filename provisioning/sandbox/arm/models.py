"""Azure Resource Manager state and rules: subscriptions, resource groups, resources,
role definitions/assignments (RBAC) and long-running operations.

The HTTP layer (``responses.py``) authenticates, authorizes and parses; this module keeps the
documents (Microsoft's wire shapes, internal fields prefixed ``_``) and applies the resource
providers' rules: managed-identity minting, identity merge semantics of Compute/Automation,
the role-assignment rules, DCR immutable ids.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..http import HttpError, arm_error
from . import rbac

if TYPE_CHECKING:
    from ..world import World

Doc = dict[str, Any]

SUBS = "arm_subscriptions"
RGS = "arm_resourceGroups"
RES = "arm_resources"
RAS = "arm_roleAssignments"
OPS = "arm_operations"

UAMI = "Microsoft.ManagedIdentity/userAssignedIdentities"
FIC = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
VM = "Microsoft.Compute/virtualMachines"
AUTOMATION = "Microsoft.Automation/automationAccounts"
DCR = "Microsoft.Insights/dataCollectionRules"
DCE = "Microsoft.Insights/dataCollectionEndpoints"
WEBSITE = "Microsoft.Web/sites"
ARC = "Microsoft.HybridCompute/machines"

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
        ARC,
        "Microsoft.OperationalInsights/workspaces",
        "Microsoft.Storage/storageAccounts",
        "Microsoft.KeyVault/vaults",
        "Microsoft.Network/virtualNetworks",
        "Microsoft.Network/networkInterfaces",
        "Microsoft.Compute/disks",
        "Microsoft.Compute/virtualMachineScaleSets",
    )
}
HOST_KINDS = {
    VM.lower(): "vm",
    AUTOMATION.lower(): "automation",
    WEBSITE.lower(): "appservice",
    ARC.lower(): "arc",
}
# resource types whose PUT/PATCH is long-running (201/200 + Azure-AsyncOperation)
ASYNC_TYPES = {VM.lower()}
IDENTITY_TYPES = {VM.lower(), AUTOMATION.lower(), WEBSITE.lower(), ARC.lower(), DCR.lower()}

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


def _norm_location(loc: Any) -> str:
    return str(loc or "").replace(" ", "").lower()


def _identity_set(type_: Any) -> set[str]:
    if not type_:
        return set()
    return {
        p.strip().lower()
        for p in str(type_).split(",")
        if p.strip() and p.strip().lower() != "none"
    }


def _identity_type(kinds: set[str]) -> str:
    if kinds == {"systemassigned", "userassigned"}:
        return "SystemAssigned, UserAssigned"
    if kinds == {"systemassigned"}:
        return "SystemAssigned"
    if kinds == {"userassigned"}:
        return "UserAssigned"
    return "None"


class Arm:
    def __init__(self, world: World) -> None:
        self.world = world
        self.store = world.store

    # ---- helpers -----------------------------------------------------------------------------
    def _now(self) -> float:
        return self.world.now()

    # ---- subscriptions ---------------------------------------------------------------------------
    def create_subscription(self, tid: str, sub_id: str, display_name: str) -> Doc:
        doc = {
            "id": f"/subscriptions/{sub_id}",
            "authorizationSource": "RoleBased",
            "managedByTenants": [],
            "subscriptionId": sub_id,
            "tenantId": tid,
            "displayName": display_name,
            "state": "Enabled",
            "subscriptionPolicies": {
                "locationPlacementId": "Public_2014-09-01",
                "quotaId": "PayAsYouGo_2014-09-01",
                "spendingLimit": "Off",
            },
            "_tenant": tid,
            "_created": self._now(),
        }
        return self.store.put(SUBS, sub_id.lower(), doc)

    def subscription(self, sub_id: str) -> Doc | None:
        return self.store.get(SUBS, sub_id.lower())

    def subscriptions(self, tid: str | None = None) -> list[Doc]:
        return [d for d in self.store.all(SUBS) if tid is None or d["tenantId"] == tid]

    def tenant_of_subscription(self, sub_id: str) -> str | None:
        doc = self.subscription(sub_id)
        return doc["tenantId"] if doc else None

    def require_subscription(self, sub_id: str) -> Doc:
        doc = self.subscription(sub_id)
        if doc is None:
            raise arm_error(
                404, "SubscriptionNotFound", f"The subscription '{sub_id}' could not be found."
            )
        return doc

    # ---- resource groups ---------------------------------------------------------------------------
    def resource_group(self, sub_id: str, name: str) -> Doc | None:
        return self.store.get(RGS, f"/subscriptions/{sub_id}/resourcegroups/{name}".lower())

    def require_resource_group(self, sub_id: str, name: str) -> Doc:
        doc = self.resource_group(sub_id, name)
        if doc is None:
            raise arm_error(
                404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found."
            )
        return doc

    def resource_groups(self, sub_id: str) -> list[Doc]:
        prefix = f"/subscriptions/{sub_id}/".lower()
        return [d for k, d in self.store.items(RGS) if k.startswith(prefix)]

    def put_resource_group(
        self,
        sub_id: str,
        name: str,
        location: str,
        *,
        tags: dict[str, str] | None = None,
        managed_by: str | None = None,
    ) -> Doc:
        """Create or update (PUT semantics); returns the stored doc with ``_created_now``."""
        sub = self.require_subscription(sub_id)
        key = f"/subscriptions/{sub_id}/resourcegroups/{name}".lower()
        existing = self.store.get(RGS, key)
        if existing is not None:
            if _norm_location(existing["location"]) != _norm_location(location):
                raise arm_error(
                    409,
                    "InvalidResourceGroupLocation",
                    f"Invalid resource group location '{location}'. The Resource group already "
                    f"exists in location '{existing['location']}'.",
                )
            doc = existing
            doc["tags"] = tags if tags is not None else {}
            if not doc["tags"]:
                doc.pop("tags")
        else:
            if not location:
                raise arm_error(
                    400,
                    "LocationRequired",
                    "The location property is required for this definition.",
                )
            doc = {
                "id": f"/subscriptions/{sub['subscriptionId']}/resourceGroups/{name}",
                "name": name,
                "type": "Microsoft.Resources/resourceGroups",
                "location": _norm_location(location),
                "properties": {"provisioningState": "Succeeded"},
                "_tenant": sub["tenantId"],
                "_sub": sub["subscriptionId"],
                "_created": self._now(),
            }
            if tags:
                doc["tags"] = tags
        if managed_by:
            doc["managedBy"] = managed_by
        self.store.put(RGS, key, doc)
        doc = dict(doc)
        doc["_created_now"] = existing is None
        return doc

    def delete_resource_group(self, sub_id: str, name: str) -> bool:
        rg = self.resource_group(sub_id, name)
        if rg is None:
            return False
        prefix = rg["id"].lower() + "/"
        for key, doc in list(self.store.items(RES)):
            if key.startswith(prefix):
                self._release_identities(doc)
                self.store.delete(RES, key)
        self._delete_assignments_below(rg["id"])
        self.store.delete(RGS, rg["id"].lower())
        return True

    # ---- resources ---------------------------------------------------------------------------------
    def resource(self, rid: Rid | str) -> Doc | None:
        if isinstance(rid, str):
            parsed = parse_rid(rid)
            if parsed is None:
                return None
            rid = parsed
        return self.store.get(RES, rid.key())

    def resources(self, sub_id: str, rg: str | None = None, type_: str | None = None) -> list[Doc]:
        prefix = f"/subscriptions/{sub_id}/".lower()
        if rg is not None:
            prefix += f"resourcegroups/{rg}/".lower()
        tlow = type_.lower() if type_ is not None else None
        return self.store.find(
            RES,
            lambda d: d["id"].lower().startswith(prefix) and (tlow is None or d["_type"] == tlow),
        )

    def require_resource(self, rid: Rid) -> Doc:
        doc = self.resource(rid)
        if doc is None:
            raise self.not_found(rid)
        return doc

    def not_found(self, rid: Rid) -> HttpError:
        type_path = "/".join(
            [rid.ns or "", *[f"{t}/{n}" for t, n in zip(rid.types, rid.names, strict=False)]]
        )
        return arm_error(
            404,
            "ResourceNotFound",
            f"The Resource '{type_path}' under resource group '{rid.rg}' was not found. "
            "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
        )

    def seed_resource(self, resource_id: str, body: Doc) -> Doc:
        """PUT semantics without auth (for seeds); creates the resource group if missing."""
        rid = parse_rid(resource_id)
        if rid is None or not rid.names or rid.rg is None:
            raise ValueError(f"not an ARM resource id: {resource_id}")
        if self.resource_group(rid.sub, rid.rg) is None:
            self.put_resource_group(rid.sub, rid.rg, body.get("location") or "westus2")
        doc, _created = self.put_resource(rid, body, caller=None)
        if "provisioningState" in (doc.get("properties") or {}):
            doc["properties"]["provisioningState"] = "Succeeded"  # seeded resources are settled
            self.store.put(RES, rid.key(), doc)
        return self.render(doc)

    def put_resource(
        self,
        rid: Rid,
        body: Doc,
        *,
        caller: str | None,
        api_version: str | None = None,
        patch: bool = False,
    ) -> tuple[Doc, bool]:
        """Create/replace (PUT) or merge (PATCH) a resource. Returns (stored doc, created)."""
        sub = self.require_subscription(rid.sub)
        if rid.rg is not None:
            self.require_resource_group(rid.sub, rid.rg)
        parent = rid.parent_resource()
        if parent is not None and self.resource(parent) is None:
            raise self.not_found(parent)
        if not isinstance(body, dict):
            raise arm_error(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized.",
            )
        tid = sub["tenantId"]
        type_ = canonical_type(rid.type)
        tlow = type_.lower()
        existing = self.resource(rid)
        now = self._now()
        if existing is None and patch:
            raise self.not_found(rid)
        if existing is None:
            location = body.get("location")
            if not location and len(rid.names) == 1:
                raise arm_error(
                    400,
                    "LocationRequired",
                    "The location property is required for this definition.",
                )
            if parent is not None:
                rid_path = f"{self.resource(parent)['id']}/{type_.split('/')[-1]}/{rid.name}"  # type: ignore[index]
            else:
                rid_path = Rid(
                    rid.sub, rid.rg, type_.split("/")[0], type_.split("/")[1:], rid.names
                ).path()
                if tlow == UAMI.lower():  # the MSI RP answers with a lower-case "resourcegroups"
                    rid_path = rid_path.replace("/resourceGroups/", "/resourcegroups/", 1)
            doc: Doc = {"id": rid_path, "name": rid.name, "type": type_}
            if location:
                doc["location"] = _norm_location(location)
            doc.update(
                {
                    "_tenant": tid,
                    "_sub": rid.sub,
                    "_rg": (rid.rg or "").lower(),
                    "_type": tlow,
                    "_created": now,
                    "_createdBy": caller,
                }
            )
        else:
            doc = existing
            if (
                "location" in body
                and body["location"] is not None
                and "location" in doc
                and _norm_location(body["location"]) != _norm_location(doc["location"])
            ):
                raise arm_error(
                    409,
                    "InvalidResourceLocation",
                    f"The resource '{rid.name}' already exists in location '{doc['location']}' in "
                    f"resource group '{rid.rg}'. A resource with the same name cannot be created in "
                    f"location '{_norm_location(body['location'])}'. Please select a new resource name.",
                )
        old_identity = (existing or {}).get("identity")
        # envelope fields
        for k in ("tags", "sku", "kind", "plan", "zones", "extendedLocation", "managedBy"):
            if k in body:
                if body[k] is None:
                    doc.pop(k, None)
                else:
                    doc[k] = body[k]
            elif not patch and k != "managedBy" and existing is not None:
                doc.pop(k, None)
        props = body.get("properties")
        if props is not None and not isinstance(props, dict):
            raise arm_error(
                400,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized.",
            )
        if patch:
            doc["properties"] = _merge_patch(doc.get("properties") or {}, props or {})
        else:
            keep = {
                k: v
                for k, v in (doc.get("properties") or {}).items()
                if k in _READONLY_PROPS.get(tlow, ())
            }
            doc["properties"] = {**(props or {}), **keep}
        doc["properties"].pop("provisioningState", None)
        # type-specific rules
        if tlow == UAMI.lower():
            self._uami_props(doc, tid, existing is None, api_version)
        elif tlow == DCR.lower():
            doc["properties"].setdefault(
                "immutableId",
                (existing or {}).get("properties", {}).get("immutableId")
                or f"dcr-{secrets.token_hex(16)}",
            )
        elif tlow == DCE.lower():
            doc["properties"].setdefault(
                "immutableId",
                (existing or {}).get("properties", {}).get("immutableId")
                or f"dce-{secrets.token_hex(16)}",
            )
            doc["_endpointKey"] = (existing or {}).get(
                "_endpointKey"
            ) or f"{rid.name.lower()}-{secrets.token_hex(2)}"
        elif tlow == VM.lower():
            doc["properties"].setdefault(
                "vmId", (existing or {}).get("properties", {}).get("vmId") or str(uuid.uuid4())
            )
            doc["properties"].setdefault("timeCreated", iso(doc["_created"]))
        if "identity" in body or (not patch and old_identity is not None):
            self._apply_identity(doc, tid, body.get("identity"), patch=patch)
        # provisioning state
        if tlow in ASYNC_TYPES:
            doc["properties"]["provisioningState"] = "Creating" if existing is None else "Updating"
        elif tlow in (UAMI.lower(), FIC.lower(), AUTOMATION.lower()):
            pass  # these RPs do not report provisioningState
        else:
            doc["properties"]["provisioningState"] = "Succeeded"
        doc["_modified"] = now
        doc["_modifiedBy"] = caller
        self.store.put(RES, rid.key(), doc)
        return doc, existing is None

    def delete_resource(self, rid: Rid) -> Doc | None:
        doc = self.resource(rid)
        if doc is None:
            return None
        prefix = rid.key() + "/"
        for key, child in list(self.store.items(RES)):
            if key.startswith(prefix):
                self._release_identities(child)
                self.store.delete(RES, key)
        self._release_identities(doc)
        self.store.delete(RES, rid.key())
        self._delete_assignments_below(doc["id"])
        return doc

    def render(self, doc: Doc) -> Doc:
        """The wire form of a stored resource (computed fields filled in)."""
        out = strip(doc)
        tlow = doc.get("_type", "")
        if tlow == DCE.lower():
            base = f"{self.world.urls.monitor}/{doc['_endpointKey']}"
            props = dict(out.get("properties") or {})
            props["configurationAccess"] = {"endpoint": f"{base}/handler"}
            props["logsIngestion"] = {"endpoint": base}
            props["metricsIngestion"] = {"endpoint": f"{base}/metrics"}
            props.setdefault("networkAcls", {"publicNetworkAccess": "Enabled"})
            out["properties"] = props
        return out

    # ---- type-specific -----------------------------------------------------------------------------
    def _uami_props(self, doc: Doc, tid: str, created: bool, api_version: str | None) -> None:
        old = doc.get("_identity") or {}
        if created or not old:
            principal_id, client_id = str(uuid.uuid4()), str(uuid.uuid4())
            self.world.directory.create_managed_identity_sp(
                tid,
                principal_id=principal_id,
                client_id=client_id,
                display_name=doc["name"],
                resource_id=doc["id"],
            )
            old = {"principalId": principal_id, "clientId": client_id, "tenantId": tid}
            doc["_identity"] = old
        props = {k: v for k, v in doc["properties"].items() if k == "isolationScope"}
        props.update(old)
        if api_version and api_version >= "2024-11-30":
            props.setdefault("isolationScope", "None")
        doc["properties"] = props

    def identities_added(self, rid: Rid, identity: Any, *, patch: bool) -> list[str]:
        """The user-assigned identity ids this PUT/PATCH would newly attach (for the linked
        ``assign/action`` check)."""
        if not isinstance(identity, dict):
            return []
        uai = identity.get("userAssignedIdentities") or {}
        if not isinstance(uai, dict):
            return []
        existing = self.resource(rid)
        old = {
            k.lower()
            for k in (((existing or {}).get("identity") or {}).get("userAssignedIdentities") or {})
        }
        return [k for k, v in uai.items() if v is not None and k.lower() not in old]

    def _apply_identity(self, doc: Doc, tid: str, new: Any, *, patch: bool) -> None:
        old = doc.get("identity") or {}
        if new is None:
            new = {} if patch else {"type": "None"}
        if not isinstance(new, dict):
            raise arm_error(400, "InvalidParameter", "The value of parameter identity is invalid.")
        old_kinds = _identity_set(old.get("type"))
        new_uai_in = new.get("userAssignedIdentities")
        if new_uai_in is not None and not isinstance(new_uai_in, dict):
            raise arm_error(
                400,
                "InvalidParameter",
                "The value of parameter identity.userAssignedIdentities is invalid.",
            )
        if "type" in new and new["type"] is not None:
            raw = str(new["type"])
            valid = {"systemassigned", "userassigned", "systemassigned,userassigned", "none"}
            if raw.replace(" ", "").lower() not in valid:
                raise arm_error(
                    400,
                    "InvalidParameter",
                    f"The value '{raw}' of parameter 'identity.type' is invalid. Allowed values are "
                    "'SystemAssigned', 'UserAssigned', 'SystemAssigned, UserAssigned', 'None'.",
                )
            kinds = _identity_set(raw)
        elif patch:
            kinds = set(old_kinds)
            if new_uai_in:
                kinds.add("userassigned")
        else:
            kinds = {"userassigned"} if new_uai_in else set()
        # user-assigned: PUT replaces, PATCH merges (a null value removes one)
        old_uai: dict[str, Any] = dict(old.get("userAssignedIdentities") or {})
        if patch:
            uai = dict(old_uai)
            for k, v in (new_uai_in or {}).items():
                match = next((x for x in uai if x.lower() == k.lower()), None)
                if v is None:
                    if match is not None:
                        uai.pop(match)
                elif match is None:
                    uai[k] = {}
        else:
            uai = {}
            for k, v in (new_uai_in or {}).items():
                if v is None:
                    continue
                match = next((x for x in old_uai if x.lower() == k.lower()), None)
                uai[match or k] = old_uai[match] if match else {}
        if "userassigned" not in kinds:
            if new_uai_in and any(v is not None for v in new_uai_in.values()):
                raise arm_error(
                    400,
                    "InvalidParameter",
                    "The identity type must include 'UserAssigned' when userAssignedIdentities "
                    "are specified.",
                )
            uai = {}
        elif not uai:
            if patch and "type" not in new:
                kinds.discard("userassigned")
            else:
                raise arm_error(
                    400,
                    "InvalidParameter",
                    "At least one user assigned identity must be specified when the identity type "
                    "includes 'UserAssigned'.",
                )
        for k in list(uai):
            if uai[k].get("principalId"):
                continue
            ident = self.resource(k)
            if ident is None or ident["_type"] != UAMI.lower() or ident["_tenant"] != tid:
                raise arm_error(
                    400,
                    "FailedIdentityOperation",
                    f"Identity operation for resource '{doc['id']}' failed with error 'Failed to "
                    f"perform resource identity operation. Status: 'NotFound'. Response: "
                    f'\'{{"error":{{"code":"NotFound","message":"Resource \'{k}\' was not '
                    f"found.\"}}}}'.'.",
                )
            uai[k] = {
                "principalId": ident["properties"]["principalId"],
                "clientId": ident["properties"]["clientId"],
            }
        # system-assigned: minted once, removed with its service principal
        system = doc.get("_system")
        if "systemassigned" in kinds and not system:
            system = {"principalId": str(uuid.uuid4()), "clientId": str(uuid.uuid4())}
            self.world.directory.create_managed_identity_sp(
                tid,
                principal_id=system["principalId"],
                client_id=system["clientId"],
                display_name=doc["name"],
                resource_id=doc["id"],
            )
            doc["_system"] = system
        elif "systemassigned" not in kinds and system:
            self.world.directory.delete_sp(tid, system["principalId"])
            doc.pop("_system", None)
            system = None
        if not kinds:
            doc.pop("identity", None)
            return
        out: Doc = {"type": _identity_type(kinds)}
        if system:
            out["principalId"] = system["principalId"]
            out["tenantId"] = tid
        if uai:
            out["userAssignedIdentities"] = uai
        doc["identity"] = out

    def _release_identities(self, doc: Doc) -> None:
        """A deleted resource takes its managed identities' service principals with it."""
        if doc.get("_type") == UAMI.lower() and doc.get("_identity"):
            self.world.directory.delete_sp(doc["_tenant"], doc["_identity"]["principalId"])
        if doc.get("_system"):
            self.world.directory.delete_sp(doc["_tenant"], doc["_system"]["principalId"])

    # ---- hosts and identities (used by the identity endpoints) --------------------------------------
    def hosts(self) -> list[dict[str, Any]]:
        out = []
        for doc in self.store.find(RES, lambda d: d.get("_type", "") in HOST_KINDS):
            kind = HOST_KINDS.get(doc.get("_type", ""))
            if kind:
                out.append(
                    {
                        "name": doc["name"],
                        "kind": kind,
                        "resource_id": doc["id"],
                        "tenant": doc["_tenant"],
                    }
                )
        return sorted(out, key=lambda h: (h["kind"], h["name"]))

    def host_identities(self, resource_id: str) -> dict[str, Any]:
        doc = self.resource(resource_id)
        result: dict[str, Any] = {"system": None, "user": {}}
        if doc is None:
            return result
        if doc.get("_system"):
            result["system"] = {
                "principal_id": doc["_system"]["principalId"],
                "client_id": doc["_system"]["clientId"],
            }
        for rid in (doc.get("identity") or {}).get("userAssignedIdentities") or {}:
            ident = self.resource(rid)
            if ident is None or ident["_type"] != UAMI.lower():
                continue  # a deleted identity stops working even if still referenced
            result["user"][rid.lower()] = {
                "principal_id": ident["properties"]["principalId"],
                "client_id": ident["properties"]["clientId"],
                "resource_id": ident["id"],
            }
        return result

    def system_identity_resource(self, scope: str) -> Doc | None:
        """``{scope}/providers/Microsoft.ManagedIdentity/identities/default`` (GetByScope)."""
        doc = self.resource(scope)
        if doc is None or not doc.get("_system"):
            return None
        out: Doc = {
            "id": f"{doc['id']}/providers/Microsoft.ManagedIdentity/identities/default",
            "name": "default",
            "type": "Microsoft.ManagedIdentity/Identities",
        }
        if "location" in doc:
            out["location"] = doc["location"]
        if doc.get("tags"):
            out["tags"] = doc["tags"]
        out["properties"] = {
            "tenantId": doc["_tenant"],
            "principalId": doc["_system"]["principalId"],
            "clientId": doc["_system"]["clientId"],
            "clientSecretUrl": f"{self.world.urls.identity}/credentials{doc['id']}"
            f"/providers/Microsoft.ManagedIdentity/identities/default",
        }
        return out

    def dcr_by_immutable_id(self, immutable_id: str) -> Doc | None:
        low = immutable_id.lower()
        return self.store.first(
            RES,
            lambda d: (
                d.get("_type") == DCR.lower()
                and d["properties"].get("immutableId", "").lower() == low
            ),
        )

    def dce_by_endpoint_key(self, key: str) -> Doc | None:
        low = key.lower()
        return self.store.first(
            RES,
            lambda d: d.get("_type") == DCE.lower() and d.get("_endpointKey", "").lower() == low,
        )

    # ---- long-running operations ----------------------------------------------------------------
    def start_operation(self, rid: Rid, kind: str, location: str) -> Doc:
        op_id = str(uuid.uuid4())
        doc = {
            "name": op_id,
            "status": "InProgress",
            "startTime": iso(self._now()),
            "_tenant": self.tenant_of_subscription(rid.sub),
            "_sub": rid.sub,
            "_resource": rid.key(),
            "_kind": kind,
            "_remaining": max(int(self.world.settings.lro_polls), 1),
            "_location": location,
            "_started": self._now(),
        }
        self.store.put(OPS, op_id, doc)
        return doc

    def operation(self, op_id: str) -> Doc | None:
        return self.store.get(OPS, op_id.lower())

    def poll_operation(self, op_id: str) -> Doc | None:
        """One poll of the operation: InProgress for ``lro_polls - 1`` polls, then Succeeded."""
        doc = self.operation(op_id)
        if doc is None:
            return None
        if doc["status"] == "InProgress":
            doc["_remaining"] -= 1
            if doc["_remaining"] <= 0:
                self._finish(doc)
            self.store.put(OPS, doc["name"], doc)
        return doc

    def _finish(self, op: Doc) -> None:
        op["status"] = "Succeeded"
        op["endTime"] = iso(self._now())
        op["percentComplete"] = 100
        res = self.store.get(RES, op["_resource"])
        if res is not None and op["_kind"] in ("put", "patch"):
            res["properties"]["provisioningState"] = "Succeeded"
            self.store.put(RES, op["_resource"], res)

    def complete_operations(self, rid: Rid, *, older_than: float | None = None) -> None:
        """Finish the resource's pending operations (seeds; or a fallback after ``older_than`` s)."""
        key = rid.key()
        for op in self.store.find(
            OPS, lambda d: d["_resource"] == key and d["status"] == "InProgress"
        ):
            if older_than is None or self._now() - op["_started"] >= older_than:
                self._finish(op)
                self.store.put(OPS, op["name"], op)

    # ---- RBAC -------------------------------------------------------------------------------------
    def role_definition(self, guid: str) -> dict[str, Any] | None:
        return rbac.role_by_id(guid)

    def has_permission(
        self, tid: str, principal_id: str, scope: str, action: str, *, data: bool = False
    ) -> bool:
        pid = (principal_id or "").lower()
        if not pid:
            return False
        for ra in self._assignments_of(tid, pid):
            if not rbac.scope_covers(ra["properties"]["scope"], scope):
                continue
            role = rbac.role_by_id(rbac.role_guid_of(ra["properties"]["roleDefinitionId"]))
            if role and rbac.role_allows(role, action, data=data):
                return True
        return False

    def has_any_assignment(self, tid: str, principal_id: str, scope: str) -> bool:
        """Whether the principal has any role at, above or below ``scope`` (subscription listing)."""
        pid = principal_id.lower()
        for ra in self._assignments_of(tid, pid):
            s = ra["properties"]["scope"]
            if rbac.scope_covers(s, scope) or rbac.scope_covers(scope, s):
                return True
        return False

    def _assignments_of(self, tid: str, pid: str) -> list[Doc]:
        return self.store.find(
            RAS, lambda d: d["_tenant"] == tid and d["properties"]["principalId"].lower() == pid
        )

    # ---- role assignments ------------------------------------------------------------------------
    def role_definition_id_for(self, scope: str, guid: str) -> str:
        rid = parse_rid(scope) if scope not in ("", "/") else None
        if rid is not None:
            return f"/subscriptions/{rid.sub}/providers/{ROLE_DEFINITIONS_PROVIDER}/{guid}"
        return f"/providers/{ROLE_DEFINITIONS_PROVIDER}/{guid}"

    def assign_role(
        self, scope: str, role_definition_guid: str, principal_id: str, principal_type: str
    ) -> Doc:
        """Seed helper: an assignment without the API's checks (deterministic name)."""
        name = str(
            uuid.uuid5(
                uuid.NAMESPACE_URL,
                f"{scope.lower()}|{role_definition_guid.lower()}|{principal_id.lower()}",
            )
        )
        props = {
            "roleDefinitionId": self.role_definition_id_for(scope, role_definition_guid),
            "principalId": principal_id,
            "principalType": principal_type,
        }
        doc, _ = self.put_role_assignment(scope, name, props, caller=None, check_principal=False)
        return strip(doc)

    def _tenant_of_scope(self, scope: str) -> str | None:
        rid = parse_rid(scope)
        return self.tenant_of_subscription(rid.sub) if rid else None

    def role_assignment(self, scope: str, name: str) -> Doc | None:
        return self.store.get(RAS, _ra_key(scope, name))

    def put_role_assignment(
        self, scope: str, name: str, props: Any, *, caller: str | None, check_principal: bool = True
    ) -> tuple[Doc, bool]:
        """The RoleAssignments_Create rules. Returns (doc, created)."""
        if not is_guid(name):
            raise arm_error(
                400,
                "InvalidRoleAssignmentId",
                f"The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID.",
            )
        if not isinstance(props, dict):
            raise arm_error(
                400, "InvalidRequestFormat", "The 'properties' of the request body are missing."
            )
        principal = props.get("principalId")
        role_def_id = props.get("roleDefinitionId")
        if not principal or not isinstance(principal, str) or not is_guid(principal):
            raise arm_error(
                400,
                "InvalidPrincipalId",
                "A valid principal ID must be provided for role assignment.",
            )
        if not role_def_id or not isinstance(role_def_id, str):
            raise arm_error(
                400, "InvalidRoleDefinitionId", "The role definition ID '' is not valid."
            )
        guid = rbac.role_guid_of(role_def_id)
        if rbac.role_by_id(guid) is None:
            raise arm_error(
                400,
                "RoleDefinitionDoesNotExist",
                f"The specified role definition with ID '{guid}' does not exist.",
            )
        tid = self._tenant_of_scope(scope)
        if tid is None:
            raise arm_error(
                400, "InvalidScope", f"The scope '{scope}' is not valid for role assignments."
            )
        scope_norm = "/" + scope.strip("/")
        ptype = props.get("principalType")
        existing = self.role_assignment(scope_norm, name)

        def same_props(d: Doc) -> bool:
            return (
                d["properties"]["principalId"].lower() == principal.lower()
                and rbac.role_guid_of(d["properties"]["roleDefinitionId"]) == guid
            )

        if existing is not None:
            if not same_props(existing):
                raise arm_error(
                    400,
                    "RoleAssignmentUpdateNotPermitted",
                    "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
                )
            return existing, False
        for other in self._assignments_of(tid, principal.lower()):
            if other["properties"]["scope"].lower() == scope_norm.lower() and same_props(other):
                raise arm_error(409, "RoleAssignmentExists", "The role assignment already exists.")
        # principal resolution, as ARM does it against the directory (replication delay included)
        directory = self.world.directory
        if check_principal:
            visible = directory.principal_visible_to_arm(tid, principal)
            if not visible and not ptype:
                raise arm_error(
                    400,
                    "PrincipalNotFound",
                    f"Principal {principal.replace('-', '')} does not exist in the directory {tid}. "
                    "Check that you have the correct principal ID. If you are creating this principal "
                    "and then immediately assigning a role, this error might be related to a "
                    "replication delay. In this case, set the role assignment principalType property "
                    "to a value, such as ServicePrincipal, User, or Group.  "
                    "See https://aka.ms/docs-principaltype",
                )
            if visible:
                actual = "ServicePrincipal" if directory.sp(tid, principal) is not None else None
                if ptype and actual and ptype.lower() != actual.lower():
                    raise arm_error(
                        400,
                        "UnmatchedPrincipalType",
                        f"The PrincipalId '{principal.replace('-', '')}' has type '{actual}' , which is "
                        f"different from specified PrincipalType '{ptype}'.",
                    )
                ptype = ptype or actual or "User"
        now = iso(self._now())
        doc = {
            "properties": {
                "roleDefinitionId": self.role_definition_id_for(scope_norm, guid),
                "principalId": principal,
                "principalType": ptype or "User",
                "scope": scope_norm,
                "condition": props.get("condition"),
                "conditionVersion": props.get("conditionVersion"),
                "createdOn": now,
                "updatedOn": now,
                "createdBy": caller,
                "updatedBy": caller,
                "delegatedManagedIdentityResourceId": props.get(
                    "delegatedManagedIdentityResourceId"
                ),
                "description": props.get("description"),
            },
            "id": f"{scope_norm.rstrip('/')}/providers/{ROLE_ASSIGNMENTS_PROVIDER}/{name}",
            "type": ROLE_ASSIGNMENTS_PROVIDER,
            "name": name,
            "_tenant": tid,
            "_created": self._now(),
        }
        self.store.put(RAS, _ra_key(scope_norm, name), doc)
        return doc, True

    def delete_role_assignment(self, scope: str, name: str) -> Doc | None:
        doc = self.role_assignment(scope, name)
        if doc is not None:
            self.store.delete(RAS, _ra_key(scope, name))
        return doc

    def _delete_assignments_below(self, scope: str) -> None:
        for key, ra in list(self.store.items(RAS)):
            if rbac.scope_covers(scope, ra["properties"]["scope"]):
                self.store.delete(RAS, key)

    def list_role_assignments(self, scope: str, tid: str, filter_: str | None = None) -> list[Doc]:
        """At, above and below ``scope``; ``atScope()`` keeps at/above; ``principalId eq`` and
        ``assignedTo()`` keep one principal."""
        f = _parse_ra_filter(filter_)
        out = []
        for ra in self.store.find(RAS, lambda d: d["_tenant"] == tid):
            s = ra["properties"]["scope"]
            above = rbac.scope_covers(s, scope)
            below = rbac.scope_covers(scope, s)
            if not (above or (below and not f["at_scope"])):
                continue
            if f["principal"] and ra["properties"]["principalId"].lower() != f["principal"]:
                continue
            out.append(ra)
        out.sort(key=lambda d: d["_created"])
        return out

    # ---- role definitions ------------------------------------------------------------------------
    def render_role_definition(self, role: dict[str, Any], scope: str) -> Doc:
        return {
            "properties": {
                "roleName": role["roleName"],
                "type": "BuiltInRole",
                "description": role.get("description", ""),
                "assignableScopes": ["/"],
                "permissions": [
                    {
                        "actions": list(role.get("actions", [])),
                        "notActions": list(role.get("notActions", [])),
                        "dataActions": list(role.get("dataActions", [])),
                        "notDataActions": list(role.get("notDataActions", [])),
                    }
                ],
                "createdOn": "2015-02-02T21:55:09.8806423Z",
                "updatedOn": "2024-01-01T00:00:00.0000000Z",
                "createdBy": None,
                "updatedBy": None,
            },
            "id": self.role_definition_id_for(scope, role["id"]),
            "type": ROLE_DEFINITIONS_PROVIDER,
            "name": role["id"],
        }

    def list_role_definitions(self, scope: str, filter_: str | None) -> list[Doc]:
        name, type_ = _parse_rd_filter(filter_)
        out = []
        for role in rbac.builtin_roles():
            if name is not None and role["roleName"].lower() != name.lower():
                continue
            if type_ is not None and type_.lower() != "builtinrole":
                continue
            out.append(self.render_role_definition(role, scope))
        return out


# properties the server owns and a PUT does not clear
_READONLY_PROPS = {
    VM.lower(): ("vmId", "timeCreated", "instanceView"),
    DCR.lower(): ("immutableId",),
    DCE.lower(): ("immutableId",),
}


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge-patch (the RPC's rule for PATCH inside ``properties``)."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = _merge_patch(out.get(k), v)
    return out


def _ra_key(scope: str, name: str) -> str:
    return f"{('/' + scope.strip('/')).rstrip('/')}|{name}".lower()


def _parse_ra_filter(f: str | None) -> dict[str, Any]:
    import re

    out: dict[str, Any] = {"at_scope": False, "principal": None}
    if not f:
        return out
    if re.search(r"atScope\(\)", f, re.IGNORECASE):
        out["at_scope"] = True
    m = re.search(r"principalId\s+eq\s+'([^']+)'", f, re.IGNORECASE) or re.search(
        r"assignedTo\('([^']+)'\)", f, re.IGNORECASE
    )
    if m:
        out["principal"] = m.group(1).lower()
    return out


def _parse_rd_filter(f: str | None) -> tuple[str | None, str | None]:
    import re

    if not f:
        return None, None
    name = re.search(r"roleName\s+eq\s+'((?:[^']|'')*)'", f, re.IGNORECASE)
    type_ = re.search(r"type\s+eq\s+'([^']+)'", f, re.IGNORECASE)
    return (name.group(1).replace("''", "'") if name else None), (type_.group(1) if type_ else None)
