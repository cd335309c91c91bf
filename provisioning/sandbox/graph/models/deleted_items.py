"""Soft delete: deleted applications and service principals wait in the tenant's deleted items
(``directory/deletedItems``) for 30 days, where they can be restored or deleted for good.

What Microsoft documents, and what the rules below follow:

* "When deleted, apps are moved to a temporary container and can be restored within 30 days.
  After that time, they are permanently deleted." (graph/api/application-delete); "Soft-deleted
  application and service principal objects go into the deleted items container and remain
  available to restore for up to 30 days" (entra/identity/enterprise-apps/delete-recover-faq).
* Deleting an application in its home tenant deletes its service principal there too, and
  "restoring an application doesn't restore the associated service principal automatically.
  You must call this API to explicitly restore the deleted service principal"
  (entra/identity/enterprise-apps/restore-application; graph/api/directory-deleteditems-restore).
  A restore brings the object back whole, with its id (and an app with its federated
  credentials, which live on it).
* A deleted application keeps its alternate key ``uniqueName`` while it is restorable: another
  app cannot take it (observed: deleting an app "reserves the name for 30 days",
  byte5ai/omadia#916); its ``identifierUris`` are released, so a restore can clash with an app
  that took them since (why Restore-EntraDeletedApplication takes ``-IdentifierUris``).
* A service principal's ``appId`` is free while it is deleted: a new service principal may be
  made for the app; restoring the old one then fails with Entra's "The service principal cannot
  be created, updated, or restored because the service principal name {appId} is already in
  use".
* Managed identities' service principals are removed with their Azure resource (ARM), not
  soft-deleted.
"""

from __future__ import annotations

from collections.abc import Callable

from ..exceptions import GraphError, duplicate, not_found
from .base import DirectoryModel, Doc, _norm_uri, iso

RETENTION_S = 30 * 86400
KINDS = ("application", "servicePrincipal")


class DeletedItems(DirectoryModel):
    DELETED = "deletedItems"

    # ---- moving objects in and out -------------------------------------------------------------
    def soft_delete_app(self, app: Doc) -> None:
        home_sp = self.sp_by_app_id(app["_tenant"], app["appId"])
        if home_sp is not None:
            self.soft_delete_sp(app["_tenant"], home_sp["id"])
        self.store.delete(self.APPS, app["id"])
        self._app_idx.pop(app["appId"], None)
        self._put_deleted(app, "application")

    def soft_delete_sp(self, tid: str, object_id: str) -> bool:
        sp = self.sp(tid, object_id)
        if sp is None:
            return False
        if sp.get("servicePrincipalType") == "ManagedIdentity":
            return self.delete_sp(tid, object_id)
        held = self.store.find(
            self.ARA,
            lambda d: d["_tenant"] == tid and sp["id"] in (d["principalId"], d["resourceId"]),
        )
        for a in held:
            self.store.delete(self.ARA, a["id"])
        self.store.delete(self.SPS, sp["id"])
        self._sp_idx.pop((tid, sp["appId"]), None)
        self._put_deleted({**sp, "_assignments": held}, "servicePrincipal")
        return True

    def _put_deleted(self, doc: Doc, kind: str) -> None:
        now = self.now()
        self.store.put(
            self.DELETED,
            doc["id"],
            {**doc, "deletedDateTime": iso(now), "_kind": kind, "_deleted": now},
        )

    # ---- reading --------------------------------------------------------------------------------
    def deleted(self, tid: str, kind: str | None = None) -> list[Doc]:
        """The tenant's restorable objects (``kind``: application / servicePrincipal)."""
        self._expire()
        return sorted(
            self.store.find(
                self.DELETED,
                lambda d: d["_tenant"] == tid and (kind is None or d["_kind"] == kind),
            ),
            key=lambda d: d["_deleted"],
        )

    def deleted_item(self, tid: str, object_id: str) -> Doc | None:
        self._expire()
        doc = self.store.get(self.DELETED, (object_id or "").lower())
        return doc if doc is not None and doc["_tenant"] == tid else None

    def deleted_holding_unique_name(self, tid: str, name: str) -> Doc | None:
        low = name.lower()
        self._expire()
        return self.store.first(
            self.DELETED,
            lambda d: (
                d["_tenant"] == tid
                and d["_kind"] == "application"
                and (d.get("uniqueName") or "").lower() == low
            ),
        )

    def _expire(self) -> None:
        cutoff = self.now() - RETENTION_S
        for d in self.store.find(self.DELETED, lambda d: d["_deleted"] < cutoff):
            self.purge(d)

    # ---- restore and purge ----------------------------------------------------------------------
    def restore(self, tid: str, object_id: str) -> Doc:
        doc = self.deleted_item(tid, object_id)
        if doc is None:
            raise not_found(object_id)
        live = {k: v for k, v in doc.items() if k not in ("_kind", "_deleted", "_assignments")}
        live["deletedDateTime"] = None
        if doc["_kind"] == "application":
            self._check_restorable_app(tid, live)
            self.store.put(self.APPS, live["id"], live)
            self._app_idx[live["appId"]] = live["id"]
        else:
            if self.sp_by_app_id(tid, live["appId"]) is not None:
                raise GraphError(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    f"The service principal cannot be created, updated, or restored because the "
                    f"service principal name {live['appId']} is already in use.",
                )
            self.can_instantiate(tid, live["appId"])  # its application must exist
            self._put_sp(live)
            for a in doc.get("_assignments") or []:
                self.store.put(self.ARA, a["id"], a)
        self.store.delete(self.DELETED, doc["id"])
        return live

    def _check_restorable_app(self, tid: str, app: Doc) -> None:
        for uri in app.get("identifierUris") or []:
            low = _norm_uri(uri)
            taken: Callable[[Doc], bool] = lambda d, low=low: (  # noqa: E731
                d["_tenant"] == tid
                and any(_norm_uri(u) == low for u in d.get("identifierUris") or [])
            )
            if self.store.first(self.APPS, taken) is not None:
                raise duplicate("identifierUris")

    def purge(self, doc: Doc) -> None:
        """Permanent deletion (what 30 days do, or ``DELETE /directory/deletedItems/{id}``)."""
        if doc["_kind"] == "application":
            for f in self.store.find(self.FICS, lambda d: d["_app"] == doc["id"]):
                self.store.delete(self.FICS, f["id"])
        self.store.delete(self.DELETED, doc["id"])
