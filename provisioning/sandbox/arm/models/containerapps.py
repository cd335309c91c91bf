"""Microsoft.App: Container Apps, as the 2024-03-01 spec (``ContainerApps.json``) describes
them: a long-running PUT (``ContainerApps_CreateOrUpdate``, 200/201 and
``Azure-AsyncOperation``) and a PATCH answered ``202`` with a ``Location`` to poll
(``ContainerApps_Update``), which the ``identity`` block goes through like any property.

Source: tests/reference/hosts/ (Microsoft.App 2024-03-01, ContainerApps.json and examples)."""

from __future__ import annotations

from ..ids import Doc
from .base import ArmModel


class ContainerApps(ArmModel):
    def _container_app_props(self, doc: Doc, existing: Doc | None) -> None:
        props = doc["properties"]
        old = (existing or {}).get("properties") or {}
        fqdn = old.get("latestRevisionFqdn") or f"{doc['name']}--rev1.sandbox.azurecontainerapps.io"
        props.setdefault("latestRevisionFqdn", fqdn)
        props.setdefault("runningStatus", "Running")
