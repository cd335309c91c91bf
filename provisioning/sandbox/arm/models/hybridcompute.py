"""Microsoft.HybridCompute: Azure Arc-enabled servers (``machines``), as the 2022-12-27 spec
(``HybridCompute.json``) describes them: the ``identity`` block is the common-types v3
``Identity``, whose ``type`` has one value, ``SystemAssigned`` (a machine takes no
user-assigned identity); PUT and PATCH are answered at once.

Source: tests/reference/hosts/ (Microsoft.HybridCompute 2022-12-27, HybridCompute.json,
examples, common-types v3 Identity)."""

from __future__ import annotations

from typing import Any

from ..exceptions import ArmError
from ..ids import Doc
from .base import ArmModel


class HybridCompute(ArmModel):
    def _machine_identity(self, identity: Any) -> None:
        """Refuse what the spec's ``Identity`` cannot carry (before anything is stored)."""
        if not isinstance(identity, dict):
            return
        kind = identity.get("type")
        if kind is not None and str(kind).replace(" ", "").lower() not in (
            "systemassigned",
            "none",
        ):
            raise ArmError(
                400,
                "InvalidParameter",
                f"The value '{kind}' of parameter 'identity.type' is invalid. Allowed values "
                "are 'SystemAssigned'.",
            )
        if identity.get("userAssignedIdentities"):
            raise ArmError(
                400,
                "InvalidParameter",
                "Azure Arc-enabled servers do not support user assigned identities.",
            )

    def _machine_props(self, doc: Doc, existing: Doc | None) -> None:
        props = doc["properties"]
        old = (existing or {}).get("properties") or {}
        props.setdefault("status", old.get("status") or "Connected")
        props.setdefault("agentVersion", old.get("agentVersion") or "1.40.02664.1629")
        props.setdefault("osType", old.get("osType") or "linux")
