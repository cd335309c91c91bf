"""``/directory/deletedItems``: the tenant's soft-deleted applications and service principals
(list by type, get, restore, permanent delete); the rules are in ``models/deleted_items.py``.

Permissions (directory-deleteditems-list / -get / -restore / -delete, *Application*): reading
as applications are read; restoring and deleting with ``Application.ReadWrite.All``, or
``Application.ReadWrite.OwnedBy`` on an object the caller owns. A restore answers ``200 OK``
with the restored object.
"""

from __future__ import annotations

from typing import Any

from ..exceptions import not_found
from ..models import public
from .base import _EQ, _EQS, APP_READ, Call, GraphResponses, Out

TYPES = {"application": "application", "serviceprincipal": "servicePrincipal"}
FILTER = {"id": _EQ, "displayName": _EQS, "appId": _EQ, "uniqueName": _EQ}


def _as_object(doc: dict[str, Any]) -> dict[str, Any]:
    return {"@odata.type": f"#microsoft.graph.{doc['_kind']}", **public(doc)}


class DeletedItemResponses(GraphResponses):
    def list(self, call: Call) -> Out:
        """``GET /directory/deletedItems/microsoft.graph.{application|servicePrincipal}`` (the SDKs
        send the ``graph.`` alias)."""
        call.ctx.need(APP_READ)
        cast = call.segs[-1].name.lower().removeprefix("microsoft.").removeprefix("graph.")
        kind = TYPES.get(cast)
        if kind is None:
            raise not_found(call.segs[-1].name)
        docs = self.d.deleted(call.ctx.tid, kind)
        return self._collection(
            call,
            docs,
            kind,
            f"directory/deletedItems/microsoft.graph.{kind}",
            kind[0].upper() + kind[1:],
            FILTER,
            render=_as_object,
        )

    def _item(self, call: Call) -> dict[str, Any]:
        ref = call.keys["item"].value
        doc = self.d.deleted_item(call.ctx.tid, ref)
        if doc is None:
            raise not_found(ref)
        return doc

    def get(self, call: Call) -> Out:
        call.ctx.need(APP_READ)
        doc = self._item(call)
        return Out(
            200, {"@odata.context": call.meta("directoryObjects/$entity"), **_as_object(doc)}
        )

    def restore(self, call: Call) -> Out:
        call.ctx.need("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
        doc = self._item(call)
        self._need_write(call.ctx, doc)
        live = self.d.restore(call.ctx.tid, doc["id"])
        body = {**_as_object({**live, "_kind": doc["_kind"]})}
        return Out(200, {"@odata.context": call.meta("directoryObjects/$entity"), **body})

    def delete(self, call: Call) -> Out:
        call.ctx.need("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
        doc = self._item(call)
        self._need_write(call.ctx, doc)
        self.d.purge(doc)
        return Out(204)
