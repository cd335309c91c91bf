"""Federated identity credentials of an application: Entra's rules (name, issuer, subject,
one audience, issuer+subject unique, at most 20) and the propagation delay before a new or
changed credential is honoured (``settings.fic_propagation_s``)."""

from __future__ import annotations

import uuid
from typing import Any

from ..exceptions import GraphError, bad_value, read_only
from .base import FIC_NAME, MAX_FICS, DirectoryModel, Doc


class FederatedCredentials(DirectoryModel):
    def fics(self, app_object_id: str) -> list[Doc]:
        """The live application's credentials (a deleted app keeps them for a restore, but they
        are honoured nowhere: models/deleted_items.py)."""
        if self.store.get(self.APPS, app_object_id.lower()) is None:
            return []
        delay = float(self.world.settings.fic_propagation_s)
        out = self.store.find(self.FICS, lambda d: d["_app"] == app_object_id.lower())
        for d in out:
            d["_effective_at"] = d["_updated"] + delay
        return sorted(out, key=lambda d: d["_created"])

    def fic(self, app_object_id: str, ref: str) -> Doc | None:
        """By id, else by name (case-insensitive, as Graph's alternate key)."""
        doc = self.store.get(self.FICS, ref.lower())
        if doc and doc["_app"] == app_object_id.lower():
            return doc
        low = ref.lower()
        return self.store.first(
            self.FICS, lambda d: d["_app"] == app_object_id.lower() and d["name"].lower() == low
        )

    def _check_fic(self, app: Doc, fic: Doc, current: Doc | None) -> None:
        name = fic.get("name")
        if not isinstance(name, str) or not FIC_NAME.match(name):
            raise bad_value("name", "FederatedIdentityCredential")
        for prop in ("issuer", "subject"):
            v = fic.get(prop)
            if not isinstance(v, str) or not v.strip() or len(v) > 600:
                raise bad_value(prop, "FederatedIdentityCredential")
        auds = fic.get("audiences")
        if (
            not isinstance(auds, list)
            or len(auds) != 1
            or not isinstance(auds[0], str)
            or not auds[0].strip()
            or len(auds[0]) > 600
        ):
            raise bad_value("audiences", "FederatedIdentityCredential")
        if fic.get("description") is not None and len(fic["description"]) > 600:
            raise bad_value("description", "FederatedIdentityCredential")
        for other in self.store.find(self.FICS, lambda d: d["_app"] == app["id"]):
            if current is not None and other["id"] == current["id"]:
                continue
            if other["name"].lower() == name.lower():
                raise GraphError(
                    409,
                    "Request_MultipleObjectsWithSameKeyValue",
                    f"FederatedIdentityCredential with name {name} already exists.",
                )
            if other["issuer"] == fic["issuer"] and other["subject"] == fic["subject"]:
                raise GraphError(
                    400,
                    "InvalidFederatedIdentityCredentialValue",
                    f"The combination of issuer and subject must be unique for the application. Issuer "
                    f"{fic['issuer']} and Subject: {fic['subject']} already exist. paramName: "
                    f"FederatedIdentityCredential.Subject, paramValue: {fic['subject']}, objectType: "
                    f"Microsoft.Online.DirectoryServices.Application",
                )

    def create_fic(self, app: Doc, body: Any, *, name: str | None = None) -> Doc:
        clean = self._validate_body(
            "federatedIdentityCredential", body, "FederatedIdentityCredential"
        )
        clean.pop("id", None)
        if name is not None:
            if clean.get("name") not in (None, name):
                raise bad_value("name", "FederatedIdentityCredential")
            clean["name"] = name
        fic = {
            "id": str(uuid.uuid4()),
            "name": None,
            "issuer": None,
            "subject": None,
            "description": None,
            "audiences": [],
        }
        fic.update(clean)
        self._check_fic(app, fic, None)
        if len(self.store.find(self.FICS, lambda d: d["_app"] == app["id"])) >= MAX_FICS:
            raise GraphError(
                400,
                "Request_BadRequest",
                f"The application already has the maximum number ({MAX_FICS}) of federated "
                f"identity credentials.",
            )
        now = self.now()
        fic.update({"_app": app["id"], "_tenant": app["_tenant"], "_created": now, "_updated": now})
        self.store.put(self.FICS, fic["id"], fic)
        return fic

    def update_fic(self, app: Doc, fic: Doc, body: Any) -> Doc:
        clean = self._validate_body(
            "federatedIdentityCredential", body, "FederatedIdentityCredential"
        )
        if clean.get("id", fic["id"]) != fic["id"]:
            raise read_only("id")
        clean.pop("id", None)
        if "name" in clean and clean["name"] != fic["name"]:
            raise read_only("name")
        new = {**fic, **clean}
        self._check_fic(app, new, fic)
        new["_updated"] = self.now()
        self.store.put(self.FICS, new["id"], new)
        return new

    def delete_fic(self, fic: Doc) -> None:
        self.store.delete(self.FICS, fic["id"])
