"""Long-running operations: InProgress for ``settings.lro_polls - 1`` polls, then Succeeded
(and the resource's ``provisioningState`` with it)."""

from __future__ import annotations

import uuid

from ..ids import Doc, Rid, iso
from .base import OPS, RES, ArmModel


class Operations(ArmModel):
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
