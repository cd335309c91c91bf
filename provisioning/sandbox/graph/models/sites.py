"""SharePoint sites (``Sites.Selected`` grants are site ``permission``s of an application)
and the tenant's ``organization``."""

from __future__ import annotations

import base64
import uuid

from ..exceptions import GraphError
from .base import DirectoryModel, Doc, iso


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
        doc = {
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
        }
        self.store.put(self.SITES, doc["id"], doc)
        return doc

    def sites(self, tid: str) -> list[Doc]:
        return sorted(
            self.store.find(self.SITES, lambda d: d["_tenant"] == tid), key=lambda d: d["_created"]
        )

    def site(self, tid: str, site_id: str) -> Doc | None:
        low = site_id.lower()
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
        bad = [r for r in roles if r not in ("read", "write", "owner", "fullcontrol")]
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
            for ident in p.get("grantedToIdentitiesV2") or []:
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
