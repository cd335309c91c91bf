"""Microsoft.Insights: data collection rules and endpoints (immutable ids, the endpoint
URLs a DCE reports, found by the Logs Ingestion API)."""

from __future__ import annotations

import secrets

from ..ids import DCE, DCR, Doc, Rid
from .base import RES, ArmModel


class Insights(ArmModel):
    def _dcr_props(self, doc: Doc, existing: Doc | None) -> None:
        doc["properties"].setdefault(
            "immutableId",
            (existing or {}).get("properties", {}).get("immutableId")
            or f"dcr-{secrets.token_hex(16)}",
        )

    def _dce_props(self, doc: Doc, existing: Doc | None, rid: Rid) -> None:
        doc["properties"].setdefault(
            "immutableId",
            (existing or {}).get("properties", {}).get("immutableId")
            or f"dce-{secrets.token_hex(16)}",
        )
        doc["_endpointKey"] = (existing or {}).get(
            "_endpointKey"
        ) or f"{rid.name.lower()}-{secrets.token_hex(2)}"

    def _render_dce(self, doc: Doc, out: Doc) -> Doc:
        base = f"{self.world.urls.monitor}/{doc['_endpointKey']}"
        props = dict(out.get("properties") or {})
        props["configurationAccess"] = {"endpoint": f"{base}/handler"}
        props["logsIngestion"] = {"endpoint": base}
        props["metricsIngestion"] = {"endpoint": f"{base}/metrics"}
        props.setdefault("networkAcls", {"publicNetworkAccess": "Enabled"})
        out["properties"] = props
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
