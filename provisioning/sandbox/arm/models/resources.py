"""Microsoft.Resources: subscriptions, resource groups, and resources of any type (PUT
replaces, PATCH merges, envelope fields, location rules). A provider's own rules run from
``put_resource`` (``msi.py``, ``insights.py``, ``compute.py``, ``web.py``,
``containerapps.py``, ``hybridcompute.py``)."""

from __future__ import annotations

from typing import Any

from ..exceptions import ArmError, invalid_content
from ..ids import (
    ARC,
    ASYNC_TYPES,
    AUTOMATION,
    CONTAINER_APP,
    DCE,
    DCR,
    FIC,
    HOST_KINDS,
    UAMI,
    VM,
    VMSS,
    WEB_SLOT,
    WEBSITE,
    Doc,
    Rid,
    canonical_type,
    norm_location,
    parse_rid,
    strip,
)
from .base import RES, RGS, SUBS, ArmModel
from .compute import VM_ETAG_SINCE, vm_etag

# properties the server owns and a PUT does not clear
_READONLY_PROPS = {
    VM.lower(): ("vmId", "timeCreated", "instanceView"),
    VMSS.lower(): ("uniqueId", "timeCreated"),
    DCR.lower(): ("immutableId",),
    DCE.lower(): ("immutableId",),
}


class Resources(ArmModel):
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
            raise ArmError(
                404, "SubscriptionNotFound", f"The subscription '{sub_id}' could not be found."
            )
        return doc

    # ---- resource groups ---------------------------------------------------------------------------
    def resource_group(self, sub_id: str, name: str) -> Doc | None:
        return self.store.get(RGS, f"/subscriptions/{sub_id}/resourcegroups/{name}".lower())

    def require_resource_group(self, sub_id: str, name: str) -> Doc:
        doc = self.resource_group(sub_id, name)
        if doc is None:
            raise ArmError(
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
            if norm_location(existing["location"]) != norm_location(location):
                raise ArmError(
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
                raise ArmError(
                    400,
                    "LocationRequired",
                    "The location property is required for this definition.",
                )
            doc = {
                "id": f"/subscriptions/{sub['subscriptionId']}/resourceGroups/{name}",
                "name": name,
                "type": "Microsoft.Resources/resourceGroups",
                "location": norm_location(location),
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

    def not_found(self, rid: Rid) -> ArmError:
        type_path = "/".join(
            [rid.ns or "", *[f"{t}/{n}" for t, n in zip(rid.types, rid.names, strict=False)]]
        )
        return ArmError(
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
            raise invalid_content()
        tid = sub["tenantId"]
        type_ = canonical_type(rid.type)
        tlow = type_.lower()
        existing = self.resource(rid)
        now = self._now()
        if existing is None and patch:
            raise self.not_found(rid)
        if tlow == ARC.lower():
            self._machine_identity(body.get("identity"))
        if existing is None:
            location = body.get("location")
            if not location and len(rid.names) == 1:
                raise ArmError(
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
                doc["location"] = norm_location(location)
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
                and norm_location(body["location"]) != norm_location(doc["location"])
            ):
                raise ArmError(
                    409,
                    "InvalidResourceLocation",
                    f"The resource '{rid.name}' already exists in location '{doc['location']}' in "
                    f"resource group '{rid.rg}'. A resource with the same name cannot be created in "
                    f"location '{norm_location(body['location'])}'. Please select a new resource name.",
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
            raise invalid_content()
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
        # the provider's own rules (msi.py, insights.py, compute.py)
        if tlow == UAMI.lower():
            self._uami_props(doc, tid, existing is None, api_version)
        elif tlow == DCR.lower():
            self._dcr_props(doc, existing)
        elif tlow == DCE.lower():
            self._dce_props(doc, existing, rid)
        elif tlow == VM.lower():
            self._vm_props(doc, existing)
        elif tlow == VMSS.lower():
            self._vmss_props(doc, existing)
        elif tlow in (WEBSITE.lower(), WEB_SLOT.lower()):
            self._site_props(doc, existing)
        elif tlow == CONTAINER_APP.lower():
            self._container_app_props(doc, existing)
        elif tlow == ARC.lower():
            self._machine_props(doc, existing)
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
        doc["_version"] = int(doc.get("_version", 0)) + 1  # what a VM's etag counts
        self.store.put(RES, rid.key(), doc)
        if existing is None and tlow in HOST_KINDS:
            self.world.on_info_change()  # a new host: sandbox.json lists it
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
        if doc.get("_type") in HOST_KINDS:
            self.world.on_info_change()
        return doc

    def render(self, doc: Doc, api_version: str | None = None) -> Doc:
        """The wire form of a stored resource (computed fields filled in), as the api-version
        the client asked for shows it."""
        out = strip(doc)
        tlow = doc.get("_type", "")
        if tlow == DCE.lower():
            out = self._render_dce(doc, out)
        elif tlow == UAMI.lower():
            out = self._render_uami(doc, out, api_version)
        elif tlow == VM.lower() and api_version and api_version >= VM_ETAG_SINCE:
            out["etag"] = vm_etag(doc)
        return out


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
