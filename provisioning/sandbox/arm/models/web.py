"""Microsoft.Web: App Service and Functions apps (``sites``) and their deployment slots
(``sites/slots``), as the 2023-12-01 spec (``WebApps.json``) describes them: the properties a
workload's host name comes from, an ``identity`` block of its own per slot (the slot is a
host of its own), and a PATCH (``WebApps_Update``) answered at once.

Source: tests/reference/hosts/ (Microsoft.Web 2023-12-01, WebApps.json and examples)."""

from __future__ import annotations

from ..ids import WEB_SLOT, Doc
from .base import ArmModel

DEFAULT_DOMAIN = "azurewebsites.net"


class Web(ArmModel):
    def _site_props(self, doc: Doc, existing: Doc | None) -> None:
        """``defaultHostName`` (a slot's is ``<app>-<slot>``), ``state``, ``enabled``: set
        by the provider, kept across a PUT."""
        props = doc["properties"]
        old = (existing or {}).get("properties") or {}
        host = host_name(doc)
        props.setdefault(
            "defaultHostName", old.get("defaultHostName") or f"{host}.{DEFAULT_DOMAIN}"
        )
        props.setdefault("state", old.get("state") or "Running")
        props.setdefault("enabled", True)
        props.setdefault("hostNames", [props["defaultHostName"]])
        doc.setdefault("kind", (existing or {}).get("kind") or "app")


def host_name(doc: Doc) -> str:
    """A site's name, or ``<site>-<slot>`` for a slot (as its default host name reads)."""
    if doc.get("_type") == WEB_SLOT.lower():
        parts = doc["id"].split("/")
        return f"{parts[-3]}-{parts[-1]}"
    return str(doc["name"])
