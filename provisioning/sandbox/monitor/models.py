"""Azure Monitor Logs Ingestion: the records accepted through data collection rules.

Each accepted upload is kept as one document (tenant, DCR, stream, caller, records), so a
rehearsal can show what a customer's workspace would have received.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..world import World

BATCHES = "monitor_batches"


class Monitor:
    def __init__(self, world: World) -> None:
        self.world = world
        self.store = world.store

    def ingest(
        self,
        *,
        tenant: str,
        dcr_id: str,
        dcr_immutable_id: str,
        stream: str,
        caller: str,
        records: list[Any],
        client_request_id: str | None = None,
    ) -> dict[str, Any]:
        """Keep one accepted upload (all its records, in order)."""
        batch_id = str(uuid.uuid4())
        doc: dict[str, Any] = {
            "id": batch_id,
            "tenant": tenant,
            "dcr": dcr_id,
            "dcr_immutable_id": dcr_immutable_id,
            "stream": stream,
            "caller": caller,
            "received": self.world.now(),
            "count": len(records),
            "client_request_id": client_request_id,
            "records": records,
        }
        return self.store.put(BATCHES, batch_id, doc)

    def batches(self, stream: str | None = None) -> list[dict[str, Any]]:
        low = stream.lower() if stream else None
        return [b for b in self.store.all(BATCHES) if low is None or b["stream"].lower() == low]

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        """Every accepted record, oldest first, with where it came from."""
        out = []
        for b in sorted(self.batches(stream), key=lambda d: d["received"]):
            for r in b["records"]:
                out.append(
                    {
                        "tenant": b["tenant"],
                        "dcr": b["dcr"],
                        "dcr_immutable_id": b["dcr_immutable_id"],
                        "stream": b["stream"],
                        "caller": b["caller"],
                        "received": b["received"],
                        "record": r,
                    }
                )
        return out
