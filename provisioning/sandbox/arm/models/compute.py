"""Microsoft.Compute: what a virtual machine gets from its provider (a ``vmId``, its creation
time, an ``etag``) and what a scale set does (a ``uniqueId``, its ``upgradePolicy``, Manual
unless given); their PUT/PATCH is long-running (``ids.ASYNC_TYPES``, ``operations.py``).

Scale sets: tests/reference/hosts/ (Microsoft.Compute 2024-03-01, virtualMachineScaleSet.json)."""

from __future__ import annotations

import uuid

from ..ids import Doc, iso
from .base import ArmModel

# "Etag is property returned in Create/Update/Get response of the VM, so that customer can
# supply it in the header to ensure optimistic updates" — added with If-Match / If-None-Match
# in api-version 2023-09-01 (Azure/azure-rest-api-specs#26368); a quoted counter ("\"1\"",
# VirtualMachine_Get.json), one more on every write.
VM_ETAG_SINCE = "2023-09-01"


def vm_etag(doc: Doc) -> str:
    return f'"{int(doc.get("_version", 1))}"'


class Compute(ArmModel):
    def _vm_props(self, doc: Doc, existing: Doc | None) -> None:
        doc["properties"].setdefault(
            "vmId", (existing or {}).get("properties", {}).get("vmId") or str(uuid.uuid4())
        )
        doc["properties"].setdefault("timeCreated", iso(doc["_created"]))

    def _vmss_props(self, doc: Doc, existing: Doc | None) -> None:
        old = (existing or {}).get("properties") or {}
        props = doc["properties"]
        props.setdefault("uniqueId", old.get("uniqueId") or str(uuid.uuid4()))
        props.setdefault("timeCreated", old.get("timeCreated") or iso(doc["_created"]))
        props.setdefault("upgradePolicy", old.get("upgradePolicy") or {"mode": "Manual"})
