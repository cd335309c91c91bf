"""SharePoint sites (``Sites.Selected`` grants are site ``permission``s of an application),
each with a document library (a ``list`` holding ``listItem``s), and the tenant's
``organization``.

Roles a site permission may hold: ``read``, ``write``, ``owner`` and ``fullcontrol``
(microsoft-graph-docs-contrib ``concepts/permissions-selected-overview.md``, "Roles"), and
``manage``, which SharePoint's own Sites.Selected tooling grants (PnP PowerShell
``Grant-PnPEntraIDAppSitePermission -Permissions Read|Write|Manage|FullControl``).
"""

from __future__ import annotations

import base64
import uuid

from ..exceptions import GraphError
from .base import DirectoryModel, Doc, iso

SITE_ROLES = ("read", "write", "owner", "manage", "fullcontrol")
WRITE_ROLES = frozenset({"write", "owner", "manage", "fullcontrol"})


class Sites(DirectoryModel):
    def create_site(self, tid: str, name: str) -> Doc:
        tenant = self._tenant_doc(tid)
        host = f"{tenant['name']}.sharepoint.com"
        existing = self.store.first(
            self.SITES, lambda d: d["_tenant"] == tid and d["name"].lower() == name.lower()
        )
        if existing:
            return existing
        now = self.now()
        doc: Doc = {
            "id": f"{host},{uuid.uuid4()},{uuid.uuid4()}",
            "createdDateTime": iso(now),
            "description": f"{name} team site",
            "displayName": name,
            "eTag": f'"{uuid.uuid4()},1"',
            "lastModifiedDateTime": iso(now),
            "name": name,
            "webUrl": f"https://{host}/sites/{name}",
            "isPersonalSite": False,
            "siteCollection": {
                "hostname": host,
                "dataLocationCode": None,
                "root": None,
                "archivalDetails": None,
            },
            "_tenant": tid,
            "_created": now,
            "_grants": [],
            "_lists": [self._library(host, name, now)],
        }
        self.store.put(self.SITES, doc["id"], doc)
        return doc

    @staticmethod
    def _library(host: str, site: str, now: float) -> Doc:
        """The site's default document library ("Documents", web address Shared Documents)."""
        return {
            "id": str(uuid.uuid4()),
            "createdDateTime": iso(now),
            "lastModifiedDateTime": iso(now),
            "eTag": f'"{uuid.uuid4()},1"',
            "name": "Shared Documents",
            "displayName": "Documents",
            "description": "",
            "webUrl": f"https://{host}/sites/{site}/Shared%20Documents",
            "list": {"template": "documentLibrary", "hidden": False, "contentTypesEnabled": False},
            "_items": [],
        }

    def sites(self, tid: str) -> list[Doc]:
        return sorted(
            self.store.find(self.SITES, lambda d: d["_tenant"] == tid), key=lambda d: d["_created"]
        )

    def site(self, tid: str, site_id: str) -> Doc | None:
        """By id (``host,site-collection-id,web-id`` or the site collection id alone) or by
        path (``{hostname}:/{server-relative-path}``, site-getbypath)."""
        low = site_id.lower()
        if ":/" in low:
            host, _, path = low.partition(":/")
            url = f"https://{host}/{path.strip('/')}"
            return self.store.first(
                self.SITES, lambda d: d["_tenant"] == tid and d["webUrl"].lower() == url
            )
        return self.store.first(
            self.SITES,
            lambda d: (
                d["_tenant"] == tid
                and (d["id"].lower() == low or d["id"].split(",")[1].lower() == low)
            ),
        )

    def grant_site(
        self, tid: str, site_id: str, *, app_id: str, display_name: str | None, roles: list[str]
    ) -> Doc:
        """A Sites.Selected grant (a site ``permission`` for an application)."""
        site = self.site(tid, site_id)
        if site is None:
            raise GraphError(404, "itemNotFound", "Requested site could not be found")
        bad = [r for r in roles if r not in SITE_ROLES]
        if not roles or bad:
            raise GraphError(400, "invalidRequest", "Invalid request")
        app = {"application": {"id": app_id, "displayName": display_name}}
        perm = {
            "id": base64.urlsafe_b64encode(uuid.uuid4().bytes * 2).decode().rstrip("="),
            "roles": list(roles),
            "grantedToIdentitiesV2": [app],
            "grantedToIdentities": [app],
        }
        site["_grants"] = [*site.get("_grants", []), perm]
        self.store.put(self.SITES, site["id"], site)
        return perm

    def update_site_grant(self, tid: str, site_id: str, perm_id: str, roles: list[str]) -> Doc:
        """``PATCH /sites/{id}/permissions/{id}``: only ``roles`` may change
        (site-update-permission)."""
        site = self.site(tid, site_id)
        perm = next((p for p in (site or {}).get("_grants", []) if p["id"] == perm_id), None)
        if site is None or perm is None:
            raise GraphError(404, "itemNotFound", "Item not found")
        if not roles or any(r not in SITE_ROLES for r in roles):
            raise GraphError(400, "invalidRequest", "Invalid request")
        perm["roles"] = list(roles)
        self.store.put(self.SITES, site["id"], site)
        return perm

    def add_list_item(self, tid: str, site_id: str, list_id: str, fields: dict[str, object]) -> Doc:
        site = self.site(tid, site_id)
        lst = next((x for x in (site or {}).get("_lists", []) if x["id"] == list_id), None)
        if site is None or lst is None:
            raise GraphError(404, "itemNotFound", "The specified list was not found")
        now = self.now()
        item = {
            "id": str(len(lst["_items"]) + 1),
            "createdDateTime": iso(now),
            "lastModifiedDateTime": iso(now),
            "eTag": f'"{uuid.uuid4()},1"',
            "webUrl": f"{lst['webUrl']}/{len(lst['_items']) + 1}",
            "fields": {"Title": None, **fields},
        }
        lst["_items"].append(item)
        self.store.put(self.SITES, site["id"], site)
        return item

    def revoke_site(self, tid: str, site_id: str, perm_id: str) -> bool:
        site = self.site(tid, site_id)
        if site is None:
            return False
        before = len(site.get("_grants", []))
        site["_grants"] = [p for p in site.get("_grants", []) if p["id"] != perm_id]
        self.store.put(self.SITES, site["id"], site)
        return len(site["_grants"]) != before

    def site_roles(self, site: Doc, app_id: str) -> set[str]:
        out: set[str] = set()
        for p in site.get("_grants", []):
            for ident in (p.get("grantedToIdentitiesV2") or []) + [p.get("grantedToV2") or {}]:
                if (ident.get("application") or {}).get("id", "").lower() == (app_id or "").lower():
                    out |= set(p.get("roles") or [])
        return out

    def organization(self, tid: str) -> Doc:
        t = self._tenant_doc(tid)
        doc = self.blank("organization")
        doc.update(
            {
                "id": t["id"],
                "displayName": t["displayName"],
                "tenantType": "AAD",
                "countryLetterCode": "US",
                "preferredLanguage": "en",
                "defaultUsageLocation": None,
                "createdDateTime": "2020-01-01T00:00:00Z",
                "mobileDeviceManagementAuthority": "unknown",
                "onPremisesSyncEnabled": None,
                "verifiedDomains": [
                    {
                        "capabilities": "Email, OfficeCommunicationsOnline",
                        "isDefault": i == 0,
                        "isInitial": d == t["domain"],
                        "name": d,
                        "type": "Managed",
                    }
                    for i, d in enumerate(t["verifiedDomains"])
                ],
            }
        )
        return doc
