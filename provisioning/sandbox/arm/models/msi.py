"""Microsoft.ManagedIdentity: user-assigned identities (a principal and its managed-identity
service principal minted through the directory), the ``identity`` block of the resources that
carry one (Compute, Automation, Web, App, HybridCompute, Insights: PUT replaces, PATCH merges), the
system-assigned identity by scope, and what each host's identity endpoint serves."""

from __future__ import annotations

import uuid
from typing import Any

from ..exceptions import ArmError
from ..ids import CONTAINER_APP, HOST_KINDS, UAMI, Doc, Rid
from .base import RES, ArmModel
from .web import host_name


def _identity_set(type_: Any) -> set[str]:
    if not type_:
        return set()
    return {
        p.strip().lower()
        for p in str(type_).split(",")
        if p.strip() and p.strip().lower() != "none"
    }


def _identity_type(kinds: set[str], type_: str = "") -> str:
    """The type as the provider's spec spells it: Container Apps (common-types v3
    ``ManagedServiceIdentityType``) without the space the others write."""
    if kinds == {"systemassigned", "userassigned"}:
        return (
            "SystemAssigned,UserAssigned"
            if type_ == CONTAINER_APP.lower()
            else "SystemAssigned, UserAssigned"
        )
    if kinds == {"systemassigned"}:
        return "SystemAssigned"
    if kinds == {"userassigned"}:
        return "UserAssigned"
    return "None"


class ManagedIdentities(ArmModel):
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
        # the provider answers "tags": {} for an identity without tags (az CLI recordings
        # test_identity_management / test_federated_identity_credential, 2023)
        doc.setdefault("tags", {})

    def _render_uami(self, doc: Doc, out: Doc, api_version: str | None) -> Doc:
        """api-version 2015-08-31-preview also carried ``clientSecretUrl`` (its spec; recording
        test_vm_explicit_msi, 2020); later versions do not."""
        if api_version and api_version < "2018-11-30" and doc.get("_identity"):
            ident = doc["_identity"]
            out["properties"] = {
                **out["properties"],
                "clientSecretUrl": f"{self.world.urls.identity}/credentials{doc['id']}/credentials"
                f"?tid={ident['tenantId']}&oid={ident['principalId']}&aid={ident['clientId']}",
            }
        return out

    def associated_resources(self, uami_id: str) -> list[Doc]:
        """The resources whose ``identity`` names this user-assigned identity."""
        low = uami_id.lower()
        return [
            d
            for d in self.store.find(RES, lambda d: "identity" in d)
            if any(
                k.lower() == low
                for k in ((d.get("identity") or {}).get("userAssignedIdentities") or {})
            )
        ]

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
            raise ArmError(400, "InvalidParameter", "The value of parameter identity is invalid.")
        old_kinds = _identity_set(old.get("type"))
        new_uai_in = new.get("userAssignedIdentities")
        if new_uai_in is not None and not isinstance(new_uai_in, dict):
            raise ArmError(
                400,
                "InvalidParameter",
                "The value of parameter identity.userAssignedIdentities is invalid.",
            )
        if "type" in new and new["type"] is not None:
            raw = str(new["type"])
            valid = {"systemassigned", "userassigned", "systemassigned,userassigned", "none"}
            if raw.replace(" ", "").lower() not in valid:
                raise ArmError(
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
                raise ArmError(
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
                raise ArmError(
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
                raise ArmError(
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
        out: Doc = {"type": _identity_type(kinds, doc.get("_type", ""))}
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
                        "name": host_name(doc),
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
