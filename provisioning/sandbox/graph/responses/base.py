"""What every Graph handler works with: the caller (``Ctx``: tenant, roles), one request
(``Call``: an HTTP request or one ``$batch`` item, with the keys its route bound), the answer
(``Out``), the permission sets of the API pages, and the OData collection and entity shapes
(``$filter``, ``$search``, ``$orderby``, ``$select``, ``$count``, ``$top``, paging).

Handlers are ``handler(call) -> Out`` and raise ``GraphError``; ``api.py`` renders both.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from .. import csdl
from ..exceptions import GraphError, bad_json, bad_value, denied, not_counted, not_found
from ..models import public
from ..odata import (
    Filterable,
    decode_skiptoken,
    encode_skiptoken,
    parse_filter,
    parse_orderby,
    parse_search,
    parse_select,
    parse_top,
    project,
)
from ..routing import Key, Seg

if TYPE_CHECKING:
    from ...http import Req
    from ...world import World
    from ..models import Directory

JSON_CT = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

APP_READ = {
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Application.ReadWrite.OwnedBy",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
}
DIR_READ = {
    "Application.Read.All",
    "Application.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
}
ORG_READ = {
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
}
SITES_ALL = {"Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"}

_EQ = {"eq", "ne"}
_EQS = {"eq", "ne", "startswith"}
_ANY = {"eq"}
APP_FILTER = {
    "appId": _EQ,
    "displayName": _EQS | {"ge", "le"},
    "uniqueName": _EQ,
    "id": _EQ,
    "identifierUris/any": _ANY,
    "tags/any": _ANY,
    "signInAudience": _EQ,
    "publisherDomain": _EQS,
    "createdDateTime": {"eq", "ne", "ge", "le", "gt", "lt"},
    "description": _EQS,
    "notes": _EQS,
}
SP_FILTER = {
    "appId": _EQ,
    "displayName": _EQS | {"ge", "le"},
    "id": _EQ,
    "servicePrincipalType": _EQ,
    "servicePrincipalNames/any": _ANY | {"startswith"},
    "tags/any": _ANY,
    "accountEnabled": _EQ,
    "appOwnerOrganizationId": _EQ,
    "appRoleAssignmentRequired": _EQ,
    "alternativeNames/any": _ANY,
    "signInAudience": _EQ,
}
FIC_FILTER = {"name": _EQ, "subject": _EQ, "issuer": _EQ, "id": _EQ}
ARA_FILTER = {"id": _EQ, "principalId": _EQ, "resourceId": _EQ, "appRoleId": _EQ}


def _props(type_name: str) -> dict[str, list[Any]]:
    return csdl.type_of(type_name)["props"]


# ---- requests ------------------------------------------------------------------------------


@dataclass
class Ctx:
    tid: str
    claims: dict[str, Any]
    roles: set[str]
    oid: str | None
    appid: str | None
    app_only: bool

    def has(self, *any_of: str | set[str]) -> bool:
        want: set[str] = set()
        for a in any_of:
            want |= a if isinstance(a, set) else {a}
        return bool(self.roles & want)

    def need(self, *any_of: str | set[str]) -> None:
        if not self.has(*any_of):
            raise denied()

    def caller(self) -> dict[str, Any]:
        return {"oid": self.oid, "appid": self.appid, "app_only": self.app_only}


@dataclass
class Call:
    """One Graph request: an HTTP request, or one item of a ``$batch``."""

    method: str
    segs: list[Seg]
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    base: str
    ctx: Ctx
    path: str = ""
    keys: dict[str, Key] = field(default_factory=dict)  # what the route's {names} bound
    req: Req | None = None  # the HTTP request (None for a $batch item)
    rid: str = ""  # request-id and client-request-id of the answer
    crid: str = ""

    def q(self, name: str) -> str | None:
        low = name.lower()
        for k, v in self.query.items():
            if k.lower() == low:
                return v
        return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        if not self.body or not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise bad_json() from None

    def prefer(self, token: str) -> bool:
        return token in [t.strip().lower() for t in re.split(r"[,;]", self.header("prefer") or "")]

    def eventual(self) -> bool:
        return (self.header("consistencylevel") or "").lower() == "eventual"

    def meta(self, fragment: str) -> str:
        return f"{self.base}/v1.0/$metadata#{fragment}"


@dataclass
class Out:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None


# ---- handlers ------------------------------------------------------------------------------


class GraphResponses:
    """The base of each entity's handlers: the directory and the OData shapes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.d: Directory = world.directory

    def _collection(
        self,
        call: Call,
        docs: list[dict[str, Any]]
        | Callable[[Callable[[dict[str, Any]], bool]], list[dict[str, Any]]],
        type_name: str,
        context: str,
        resource: str,
        filterable: dict[str, set[str]],
        *,
        render: Any = public,
    ) -> Out:
        """A collection with Graph's query options; ``docs`` may be a fetch(pred) function so
        that ``$filter`` runs inside the store (only matches are copied)."""
        declared = _props(type_name)
        spec = Filterable(resource, declared, filterable)
        f = call.q("$filter")
        pred = parse_filter(f, spec) if f else (lambda d: True)
        docs = docs(pred) if callable(docs) else [d for d in docs if pred(d)]
        s = call.q("$search")
        if s:
            if not call.eventual():
                raise GraphError(
                    400,
                    "Request_UnsupportedQuery",
                    "Request with $search query parameter only works through MSGraph with a special "
                    "request header: 'ConsistencyLevel: eventual'",
                )
            pred = parse_search(s.strip(), spec)
            docs = [d for d in docs if pred(d)]
        for prop, desc in reversed(parse_orderby(call.q("$orderby"), declared)):
            docs.sort(
                key=lambda d, p=prop: (d.get(p) is None, str(d.get(p) or "").lower()), reverse=desc
            )
        select = parse_select(call.q("$select"), declared)
        count = call.q("$count")
        want_count = (count or "").lower() == "true"
        if want_count and not call.eventual():
            raise not_counted()
        top = parse_top(call.q("$top"))
        size = int(self.world.settings.page_size or 0)
        if size > 0:
            # "the page size might be smaller than requested: some APIs cap it" (Graph paging,
            # learn.microsoft.com/graph/paging): a client must follow @odata.nextLink
            top = min(top, size)
        offset = decode_skiptoken(call.q("$skiptoken"))
        page = docs[offset : offset + top]
        ctx_frag = context + (f"({','.join(select)})" if select else "")
        body: dict[str, Any] = {"@odata.context": call.meta(ctx_frag)}
        if want_count:
            body["@odata.count"] = len(docs)
        if offset + top < len(docs):
            params = [(k, v) for k, v in call.query.items() if k.lower() != "$skiptoken"]
            params.append(("$skiptoken", encode_skiptoken(offset + top)))
            path = "/".join(quote(s.raw, safe="()'=,$:@") for s in call.segs)
            body["@odata.nextLink"] = f"{call.base}/v1.0/{path}?{urlencode(params, safe='$,()')}"
        body["value"] = [project(render(d), select) for d in page]
        return Out(200, body)

    def _entity(self, call: Call, doc: dict[str, Any], type_name: str, context: str) -> Out:
        select = parse_select(call.q("$select"), _props(type_name))
        frag = context + (f"({','.join(select)})" if select else "") + "/$entity"
        return Out(200, {"@odata.context": call.meta(frag), **project(public(doc), select)})

    def _created(self, call: Call, doc: dict[str, Any], context: str, location: str) -> Out:
        return Out(
            201,
            {"@odata.context": call.meta(context + "/$entity"), **public(doc)},
            {"Location": f"{call.base}/v1.0/{location}"},
        )

    # -- writes on objects the caller may own (applications, service principals) ---------------
    @staticmethod
    def _owns(ctx: Ctx, obj: dict[str, Any]) -> bool:
        return ctx.oid in obj.get("_owners", [])

    def _need_write(self, ctx: Ctx, obj: dict[str, Any]) -> None:
        """``Application.ReadWrite.All``, or ``Application.ReadWrite.OwnedBy`` on an owned object."""
        if ctx.has("Application.ReadWrite.All"):
            return
        if ctx.has("Application.ReadWrite.OwnedBy") and self._owns(ctx, obj):
            return
        raise denied()

    # -- owners (of an application or a service principal) --------------------------------------
    def _list_owners(self, call: Call, obj: dict[str, Any]) -> Out:
        def as_object(sp: dict[str, Any]) -> dict[str, Any]:
            return {"@odata.type": "#microsoft.graph.servicePrincipal", **public(sp)}

        owners = [sp for o in obj.get("_owners", []) if (sp := self.d.sp(call.ctx.tid, o))]
        return self._collection(
            call,
            owners,
            "directoryObject",
            "directoryObjects",
            "DirectoryObject",
            {"id": _EQ},
            render=as_object,
        )

    def _add_owner(self, call: Call, obj: dict[str, Any], coll: str) -> Out:
        """``POST .../owners/$ref`` with ``{"@odata.id": ".../directoryObjects/{id}"}``."""
        self._need_write(call.ctx, obj)
        body = call.json()
        ref = body.get("@odata.id") if isinstance(body, dict) else None
        if not isinstance(ref, str) or not ref.strip("/"):
            raise bad_value("@odata.id", "DirectoryObject")
        oid = ref.rstrip("/").rsplit("/", 1)[-1].strip("'()").lower()
        if self.d.sp(call.ctx.tid, oid) is None:
            raise not_found(oid)
        if oid in obj.get("_owners", []):
            raise GraphError(
                400,
                "Request_BadRequest",
                "One or more added object references already exist "
                "for the following modified properties: 'owners'.",
            )
        obj["_owners"] = [*obj.get("_owners", []), oid]
        self.d.store.put(coll, obj["id"], obj)
        return Out(204)

    def _remove_owner(self, call: Call, obj: dict[str, Any], coll: str) -> Out:
        """``DELETE .../owners/{id}/$ref``."""
        self._need_write(call.ctx, obj)
        oid = call.keys["owner"].value.lower()
        if oid not in obj.get("_owners", []):
            raise not_found(oid)
        obj["_owners"] = [o for o in obj["_owners"] if o != oid]
        self.d.store.put(coll, obj["id"], obj)
        return Out(204)
