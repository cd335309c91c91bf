"""Microsoft.Compute: what a virtual machine gets from its provider (a ``vmId``, its creation
time); its PUT/PATCH is long-running (``ids.ASYNC_TYPES``, ``operations.py``)."""

from __future__ import annotations

import uuid

from ..ids import Doc, iso
from .base import ArmModel


class Compute(ArmModel):
    def _vm_props(self, doc: Doc, existing: Doc | None) -> None:
        doc["properties"].setdefault(
            "vmId", (existing or {}).get("properties", {}).get("vmId") or str(uuid.uuid4())
        )
        doc["properties"].setdefault("timeCreated", iso(doc["_created"]))
