"""Microsoft Graph v1.0 over HTTP: path parsing (alternate keys included), authorization from
the caller's app roles, OData query options, JSON batching, Graph's response and error shapes.

Every request under ``/v1.0`` goes through :meth:`GraphApi.handle`; ``$batch`` runs each inner
request through the same :meth:`GraphApi.dispatch` (same authorization, same rules).
Authorization follows each API page's *Application* permissions (an app-only caller's
``roles`` claim; a delegated token's ``scp`` is read the same way):

* applications, their federated identity credentials and owners: read with
  ``Application.Read.All`` / ``Application.ReadWrite.All`` / ``Directory.Read.All`` /
  ``Directory.ReadWrite.All`` (``Application.ReadWrite.OwnedBy``: only the caller's own apps);
  write with ``Application.ReadWrite.All`` or ``Application.ReadWrite.OwnedBy`` on apps the
  caller owns (an app created by an app-only caller is owned by it).
* service principals: read as above; create with ``Application.ReadWrite.All``, or
  ``Application.ReadWrite.OwnedBy`` for an app of the local tenant the caller owns.
* ``appRoleAssignedTo`` / ``appRoleAssignments``: writes need ``AppRoleAssignment.ReadWrite.All``
  *and* one of ``Application.Read.All``/``Application.ReadWrite.All``/``Directory.Read.All``/
  ``Directory.ReadWrite.All`` (the API page lists the pairs).
* ``organization``: ``Organization.Read.All``/``Organization.ReadWrite.All``/``Directory.Read*``.
* ``directoryObjects/getByIds``: ``Directory.Read.All`` (the az CLI resolves ``--assignee`` with it).
* ``sites``: ``Sites.Read.All``/``Sites.ReadWrite.All``/``Sites.Manage.All``/``Sites.FullControl.All``
  see every site; ``Sites.Selected`` sees only sites that granted the caller's app a
  ``permission`` (``POST /sites/{id}/permissions``, which needs ``Sites.FullControl.All``).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from starlette.responses import Response

from ..auth import GRAPH_AUDIENCES, AuthError, bearer_claims
from ..http import Req, Router
from . import csdl
from .models import GraphError, bad_value, not_found, public
from .odata import (
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

if TYPE_CHECKING:
    from ..world import World

JSON_CT = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
MAX_BATCH = 20

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


def denied() -> GraphError:
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def bad_segment(seg: str) -> GraphError:
    return GraphError(400, "BadRequest", f"Resource not found for the segment '{seg}'.")


def method_not_allowed() -> GraphError:
    return GraphError(
        405, "Request_BadRequest", "Specified HTTP method is not allowed for the request target."
    )


# ---- requests ------------------------------------------------------------------------------


@dataclass
class Seg:
    name: str
    keys: dict[str, str] | None = None  # name(key='v') -> {"key": "v"}; name('v') -> {"": "v"}
    raw: str = ""


_KEYPART = re.compile(r"\s*(?:(\w+)\s*=\s*)?'((?:[^']|'')*)'\s*(?:,|$)")


def parse_path(path: str) -> list[Seg]:
    """Split on ``/`` outside quotes; parse ``name(key='value')`` alternate-key segments."""
    parts, buf, quoted = [], "", False
    for ch in path:
        if ch == "'":
            quoted = not quoted
        if ch == "/" and not quoted:
            parts.append(buf)
            buf = ""
        else:
            buf += ch
    parts.append(buf)
    segs = []
    for p in parts:
        if not p:
            continue
        m = re.match(r"^([^()]+)\((.*)\)$", p, re.S)
        if not m:
            segs.append(Seg(p, None, p))
            continue
        inner, keys, pos = m.group(2), {}, 0
        while pos < len(inner):
            km = _KEYPART.match(inner, pos)
            if not km or km.end() == pos:
                raise GraphError(400, "BadRequest", f"Bad Request - Error in query syntax. '{p}'")
            keys[km.group(1) or ""] = km.group(2).replace("''", "'")
            pos = km.end()
        if not keys:
            unq = inner.strip()
            if not unq:
                raise bad_segment(p)
            keys[""] = unq
        segs.append(Seg(m.group(1), keys, p))
    return segs


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
            raise GraphError(
                400,
                "BadRequest",
                "Unable to read JSON request payload. Please ensure Content-Type "
                "header is set and payload is of valid JSON format.",
            ) from None

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


def error_body(code: str, message: str, rid: str, crid: str) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": rid,
                "client-request-id": crid,
            },
        }
    }


# ---- the API -------------------------------------------------------------------------------


class GraphApi:
    def __init__(self, world: World) -> None:
        self.world = world
        self.d = world.directory

    # -- entry point ------------------------------------------------------------------------
    def handle(self, req: Req) -> Response:
        rid = str(uuid.uuid4())
        crid = req.header("client-request-id") or rid
        try:
            ctx = self._auth(req)
        except GraphError as e:
            h = {
                "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
                'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
            }
            return self._render(
                Out(e.status, error_body(e.code, e.message, rid, crid), h), rid, crid
            )
        path = re.sub(r"/{2,}", "/", req.request.scope["path"])
        rest = re.sub(r"^/v1\.0", "", path, flags=re.I)
        try:
            segs = parse_path(rest.strip("/"))
        except GraphError as e:
            return self._render(Out(e.status, error_body(e.code, e.message, rid, crid)), rid, crid)
        call = Call(
            req.method.upper(),
            segs,
            dict(req.query),
            {k.lower(): v for k, v in req.request.headers.items()},
            req.body,
            req.base_url(),
            ctx,
            rest,
        )
        if len(segs) == 1 and segs[0].name == "$batch" and segs[0].keys is None:
            out = self._batch(call, req, rid, crid)
        else:
            out = self.dispatch(call, rid, crid)
        return self._render(out, rid, crid)

    def _render(self, out: Out, rid: str, crid: str) -> Response:
        headers = {
            "request-id": rid,
            "client-request-id": crid,
            "Cache-Control": "no-cache",
            "Strict-Transport-Security": "max-age=31536000",
            **out.headers,
        }
        if out.text is not None:
            return Response(
                out.text, status_code=out.status, headers=headers, media_type="text/plain"
            )
        if out.body is None:
            return Response(b"", status_code=out.status, headers=headers)
        headers["OData-Version"] = "4.0"
        return Response(
            json.dumps(out.body, separators=(",", ":")),
            status_code=out.status,
            headers=headers,
            media_type=JSON_CT,
        )

    def _auth(self, req: Req) -> Ctx:
        try:
            own = self.world.urls.graph  # this cloud's Graph root is a Graph audience too
            claims = bearer_claims(req, (*GRAPH_AUDIENCES, own, f"{own}/"))
        except AuthError as e:
            msg = {
                "AuthenticationFailed": "Access token is empty.",
                "ExpiredAuthenticationToken": "Lifetime validation failed, the token is expired.",
                "InvalidAuthenticationTokenAudience": "Access token validation failure. Invalid audience.",
            }
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                msg.get(e.code, "Access token validation failure."),
            ) from None
        tid = (claims.get("tid") or "").lower()
        if not tid or self.world.tenants.get(tid) is None:
            raise GraphError(
                401,
                "InvalidAuthenticationToken",
                "Access token validation failure. Invalid issuer.",
            )
        roles = set(claims.get("roles") or [])
        scp = claims.get("scp")
        if isinstance(scp, str):
            roles |= set(scp.split())
        return Ctx(
            tid=tid,
            claims=claims,
            roles=roles,
            oid=(claims.get("oid") or "").lower() or None,
            appid=claims.get("appid") or claims.get("azp"),
            app_only=scp is None,
        )

    def dispatch(self, call: Call, rid: str | None = None, crid: str | None = None) -> Out:
        rid = rid or str(uuid.uuid4())
        crid = crid or rid
        try:
            if not call.segs:
                raise bad_segment("v1.0")
            head = call.segs[0].name.lower()
            fn = {
                "applications": self._applications,
                "serviceprincipals": self._service_principals,
                "organization": self._organization,
                "sites": self._sites,
                "directoryobjects": self._directory_objects,
            }.get(head)
            if fn is None:
                raise bad_segment(call.segs[0].raw)
            return fn(call)
        except GraphError as e:
            return Out(e.status, error_body(e.code, e.message, rid, crid))

    # -- collections ------------------------------------------------------------------------
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
            raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
        top = parse_top(call.q("$top"))
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

    # -- applications -----------------------------------------------------------------------
    def _can_read_app(self, ctx: Ctx, app: dict[str, Any]) -> bool:
        if ctx.has(APP_READ - {"Application.ReadWrite.OwnedBy"}):
            return True
        return ctx.has("Application.ReadWrite.OwnedBy") and ctx.oid in app.get("_owners", [])

    def _need_app_write(self, ctx: Ctx, app: dict[str, Any]) -> None:
        if ctx.has("Application.ReadWrite.All"):
            return
        if ctx.has("Application.ReadWrite.OwnedBy") and ctx.oid in app.get("_owners", []):
            return
        raise denied()

    def _find_app(
        self, call: Call, seg: Seg, key_seg: Seg | None
    ) -> tuple[dict[str, Any] | None, str, str]:
        """(app or None, key name, key value) for ``applications/{id}`` or an alternate key."""
        tid = call.ctx.tid
        if key_seg is not None:
            app = self.d.app(key_seg.raw)
            return (app if app and app["_tenant"] == tid else None), "id", key_seg.raw
        keys = seg.keys or {}
        if len(keys) != 1:
            raise bad_segment(seg.raw)
        ((k, v),) = keys.items()
        kl = k.lower()
        if kl in ("", "id"):
            app = self.d.app(v)
            return (app if app and app["_tenant"] == tid else None), "id", v
        if kl == "appid":
            app = self.d.app_by_app_id(v)
            return (app if app and app["_tenant"] == tid else None), "appId", v
        if kl == "uniquename":
            return self.d.app_by_unique_name(tid, v), "uniqueName", v
        raise bad_segment(seg.raw)

    def _applications(self, call: Call) -> Out:
        ctx, segs, m = call.ctx, call.segs, call.method
        s0 = segs[0]
        if s0.keys is None and len(segs) == 1:
            if m == "GET":
                ctx.need(APP_READ)
                return self._collection(
                    call,
                    lambda p: sorted(
                        self.d.apps(ctx.tid, lambda a: self._can_read_app(ctx, a) and p(a)),
                        key=lambda a: a["_created"],
                    ),
                    "application",
                    "applications",
                    "Application",
                    APP_FILTER,
                )
            if m == "POST":
                ctx.need("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
                app = self.d.create_app(ctx.tid, call.json(), caller=ctx.caller())
                return self._created(call, app, "applications", f"applications/{app['id']}")
            raise method_not_allowed()
        if s0.keys is None and len(segs) == 2 and segs[1].name == "$count":
            if m != "GET":
                raise method_not_allowed()
            ctx.need(APP_READ)
            if not call.eventual():
                raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
            n = len([a for a in self.d.apps(ctx.tid) if self._can_read_app(ctx, a)])
            return Out(200, text=str(n))
        if s0.keys is None:
            app, kname, kval = self._find_app(call, s0, segs[1])
            rest = segs[2:]
        else:
            app, kname, kval = self._find_app(call, s0, None)
            rest = segs[1:]
        if not rest:
            return self._application_item(call, app, kname, kval)
        if app is None or not self._can_read_app(ctx, app):
            ctx.need(APP_READ)
            raise not_found(kval)
        sub = rest[0]
        name = sub.name.lower()
        if name == "federatedidentitycredentials":
            return self._fics(call, app, rest)
        if name == "owners":
            return self._owners(call, app, rest)
        if name in ("addpassword", "microsoft.graph.addpassword") and len(rest) == 1:
            if m != "POST":
                raise method_not_allowed()
            self._need_app_write(ctx, app)
            cred = self.d.add_password(app, call.json())
            return Out(
                200, {"@odata.context": call.meta("microsoft.graph.passwordCredential"), **cred}
            )
        if name in ("removepassword", "microsoft.graph.removepassword") and len(rest) == 1:
            if m != "POST":
                raise method_not_allowed()
            self._need_app_write(ctx, app)
            body = call.json() or {}
            key_id = body.get("keyId") if isinstance(body, dict) else None
            if not key_id:
                raise bad_value("keyId", "Application")
            self.d.remove_password(app, key_id)
            return Out(204)
        raise bad_segment(sub.raw)

    def _application_item(
        self, call: Call, app: dict[str, Any] | None, kname: str, kval: str
    ) -> Out:
        ctx, m = call.ctx, call.method
        if m == "GET":
            ctx.need(APP_READ)
            if app is None or not self._can_read_app(ctx, app):
                raise not_found(kval)
            return self._entity(call, app, "application", "applications")
        if m == "PATCH":
            ctx.need("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
            if app is None:
                if kname == "uniqueName" and call.prefer("create-if-missing"):
                    created = self.d.create_app(
                        ctx.tid, call.json(), caller=ctx.caller(), unique_name=kval
                    )
                    return self._created(
                        call, created, "applications", f"applications/{created['id']}"
                    )
                raise not_found(kval)
            self._need_app_write(ctx, app)
            self.d.update_app(app, call.json())
            return Out(204)
        if m == "DELETE":
            ctx.need("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
            if app is None:
                raise not_found(kval)
            self._need_app_write(ctx, app)
            self.d.delete_app(app)
            return Out(204)
        raise method_not_allowed()

    def _fics(self, call: Call, app: dict[str, Any], rest: list[Seg]) -> Out:
        ctx, m = call.ctx, call.method
        context = f"applications('{app['id']}')/federatedIdentityCredentials"
        seg = rest[0]
        if seg.keys is None and len(rest) == 1:
            if m == "GET":
                return self._collection(
                    call,
                    self.d.fics(app["id"]),
                    "federatedIdentityCredential",
                    context,
                    "FederatedIdentityCredential",
                    FIC_FILTER,
                )
            if m == "POST":
                self._need_app_write(ctx, app)
                fic = self.d.create_fic(app, call.json())
                return self._created(
                    call,
                    fic,
                    context,
                    f"applications/{app['id']}/federatedIdentityCredentials/{fic['id']}",
                )
            raise method_not_allowed()
        if seg.keys is None:
            if len(rest) != 2:
                raise bad_segment(rest[-1].raw)
            ref, by_name = rest[1].raw, False
        else:
            if len(rest) != 1 or len(seg.keys) != 1:
                raise bad_segment(seg.raw)
            ((k, ref),) = seg.keys.items()
            by_name = k.lower() == "name"
            if k.lower() not in ("", "id", "name"):
                raise bad_segment(seg.raw)
        fic = self.d.fic(app["id"], ref)
        if by_name and fic is not None and fic["name"].lower() != ref.lower():
            fic = None
        if m == "GET":
            if fic is None:
                raise not_found(ref)
            return self._entity(call, fic, "federatedIdentityCredential", context)
        if m == "PATCH":
            self._need_app_write(ctx, app)
            if fic is None:
                if by_name and call.prefer("create-if-missing"):
                    created = self.d.create_fic(app, call.json(), name=ref)
                    return self._created(
                        call,
                        created,
                        context,
                        f"applications/{app['id']}/federatedIdentityCredentials/{created['id']}",
                    )
                raise not_found(ref)
            self.d.update_fic(app, fic, call.json())
            return Out(204)
        if m == "DELETE":
            self._need_app_write(ctx, app)
            if fic is None:
                raise not_found(ref)
            self.d.delete_fic(fic)
            return Out(204)
        raise method_not_allowed()

    def _owners(
        self, call: Call, obj: dict[str, Any], rest: list[Seg], *, coll: str = "applications"
    ) -> Out:
        ctx, m = call.ctx, call.method
        store = self.d.APPS if coll == "applications" else self.d.SPS

        def need_write() -> None:
            if coll == "applications":
                self._need_app_write(ctx, obj)
            elif not (
                ctx.has("Application.ReadWrite.All")
                or (ctx.has("Application.ReadWrite.OwnedBy") and ctx.oid in obj.get("_owners", []))
            ):
                raise denied()

        def as_object(sp: dict[str, Any]) -> dict[str, Any]:
            return {"@odata.type": "#microsoft.graph.servicePrincipal", **public(sp)}

        if len(rest) == 1 and m == "GET":
            owners = [sp for o in obj.get("_owners", []) if (sp := self.d.sp(ctx.tid, o))]
            return self._collection(
                call,
                owners,
                "directoryObject",
                "directoryObjects",
                "DirectoryObject",
                {"id": _EQ},
                render=as_object,
            )
        if len(rest) == 2 and rest[1].name == "$ref" and m == "POST":
            need_write()
            body = call.json()
            ref = body.get("@odata.id") if isinstance(body, dict) else None
            if not isinstance(ref, str) or not ref.strip("/"):
                raise bad_value("@odata.id", "DirectoryObject")
            oid = ref.rstrip("/").rsplit("/", 1)[-1].strip("'()").lower()
            if self.d.sp(ctx.tid, oid) is None:
                raise not_found(oid)
            if oid in obj.get("_owners", []):
                raise GraphError(
                    400,
                    "Request_BadRequest",
                    "One or more added object references already exist "
                    "for the following modified properties: 'owners'.",
                )
            obj["_owners"] = [*obj.get("_owners", []), oid]
            self.d.store.put(store, obj["id"], obj)
            return Out(204)
        if len(rest) == 3 and rest[2].name == "$ref" and m == "DELETE":
            need_write()
            oid = rest[1].raw.lower()
            if oid not in obj.get("_owners", []):
                raise not_found(oid)
            obj["_owners"] = [o for o in obj["_owners"] if o != oid]
            self.d.store.put(store, obj["id"], obj)
            return Out(204)
        if len(rest) <= 3:
            raise method_not_allowed()
        raise bad_segment(rest[-1].raw)

    # -- directoryObjects/getByIds ------------------------------------------------------------
    def _directory_objects(self, call: Call) -> Out:
        """``POST /directoryObjects/getByIds`` (directoryobject-getbyids): ``ids`` (up to 1000),
        ``types`` (case-insensitive; default every directoryObject type); unknown ids are left out;
        application permission ``Directory.Read.All``. This directory holds applications and
        service principals only."""
        segs, ctx = call.segs, call.ctx
        if len(segs) != 2 or segs[0].keys is not None:
            raise bad_segment(segs[-1].raw)
        if segs[1].name.lower() not in ("getbyids", "microsoft.graph.getbyids"):
            raise bad_segment(segs[1].raw)
        if call.method != "POST":
            raise method_not_allowed()
        ctx.need("Directory.Read.All", "Directory.ReadWrite.All")
        body = call.json()
        ids = body.get("ids") if isinstance(body, dict) else None
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise bad_value("ids", "getByIds")
        if len(ids) > 1000:
            raise GraphError(
                400, "Request_BadRequest", "Too many ids: a request can ask for at most 1000."
            )
        types = body.get("types") or ["directoryObject"]
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise bad_value("types", "getByIds")
        want = {t.lower().removeprefix("microsoft.graph.") for t in types}
        every = "directoryobject" in want
        out = []
        for i in ids:
            sp = self.d.sp(ctx.tid, i) if every or "serviceprincipal" in want else None
            if sp is not None:
                out.append({"@odata.type": "#microsoft.graph.servicePrincipal", **public(sp)})
                continue
            app = self.d.app(i) if every or "application" in want else None
            if app is not None and app["_tenant"] == ctx.tid:
                out.append({"@odata.type": "#microsoft.graph.application", **public(app)})
        return Out(200, {"@odata.context": call.meta("directoryObjects"), "value": out})

    # -- service principals -----------------------------------------------------------------
    def _find_sp(
        self, call: Call, seg: Seg, key_seg: Seg | None
    ) -> tuple[dict[str, Any] | None, str, str]:
        tid = call.ctx.tid
        if key_seg is not None:
            return self.d.sp(tid, key_seg.raw), "id", key_seg.raw
        keys = seg.keys or {}
        if len(keys) != 1:
            raise bad_segment(seg.raw)
        ((k, v),) = keys.items()
        if k.lower() in ("", "id"):
            return self.d.sp(tid, v), "id", v
        if k.lower() == "appid":
            return self.d.sp_by_app_id(tid, v), "appId", v
        raise bad_segment(seg.raw)

    def _need_sp_create(self, ctx: Ctx, app_id: str) -> None:
        if ctx.has("Application.ReadWrite.All"):
            return
        if not ctx.has("Application.ReadWrite.OwnedBy"):
            raise denied()
        app = self.d.app_by_app_id(app_id)
        if app is None or app["_tenant"] != ctx.tid:
            raise GraphError(
                403,
                "Authorization_RequestDenied",
                "When using this permission, the backing application of the service principal "
                "being created must in the local tenant",
            )
        if ctx.oid not in app.get("_owners", []):
            raise denied()

    def _need_sp_write(self, ctx: Ctx, sp: dict[str, Any]) -> None:
        if ctx.has("Application.ReadWrite.All"):
            return
        if ctx.has("Application.ReadWrite.OwnedBy") and ctx.oid in sp.get("_owners", []):
            return
        raise denied()

    def _service_principals(self, call: Call) -> Out:
        ctx, segs, m = call.ctx, call.segs, call.method
        s0 = segs[0]
        if s0.keys is None and len(segs) == 1:
            if m == "GET":
                ctx.need(APP_READ)
                return self._collection(
                    call,
                    lambda p: sorted(self.d.sps(ctx.tid, p), key=lambda d: d["_created"]),
                    "servicePrincipal",
                    "servicePrincipals",
                    "ServicePrincipal",
                    SP_FILTER,
                )
            if m == "POST":
                ctx.need("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
                body = call.json()
                app_id = body.get("appId") if isinstance(body, dict) else None
                if not isinstance(app_id, str) or not app_id:
                    raise bad_value("appId", "ServicePrincipal")
                self._need_sp_create(ctx, app_id)
                sp = self.d.create_sp(ctx.tid, body, caller=ctx.caller())
                return self._created(call, sp, "servicePrincipals", f"servicePrincipals/{sp['id']}")
            raise method_not_allowed()
        if s0.keys is None and len(segs) == 2 and segs[1].name == "$count":
            if m != "GET":
                raise method_not_allowed()
            ctx.need(APP_READ)
            if not call.eventual():
                raise GraphError(400, "Request_BadRequest", "$count is not currently supported.")
            return Out(200, text=str(len(self.d.sps(ctx.tid))))
        if s0.keys is None:
            sp, kname, kval = self._find_sp(call, s0, segs[1])
            rest = segs[2:]
        else:
            sp, kname, kval = self._find_sp(call, s0, None)
            rest = segs[1:]
        if not rest:
            return self._sp_item(call, sp, kname, kval)
        if sp is None:
            ctx.need(APP_READ, "AppRoleAssignment.ReadWrite.All")
            raise not_found(kval)
        name = rest[0].name.lower()
        if name in ("approleassignedto", "approleassignments"):
            return self._assignments(call, sp, rest, assigned_to=name == "approleassignedto")
        if name == "owners":
            ctx.need(APP_READ)
            return self._owners(call, sp, rest, coll="servicePrincipals")
        raise bad_segment(rest[0].raw)

    def _sp_item(self, call: Call, sp: dict[str, Any] | None, kname: str, kval: str) -> Out:
        ctx, m = call.ctx, call.method
        if m == "GET":
            ctx.need(APP_READ)
            if sp is None:
                raise not_found(kval)
            return self._entity(call, sp, "servicePrincipal", "servicePrincipals")
        if m == "PATCH":
            ctx.need("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
            if sp is None:
                if kname == "appId" and call.prefer("create-if-missing"):
                    self._need_sp_create(ctx, kval)
                    created = self.d.create_sp(
                        ctx.tid, call.json() or {}, caller=ctx.caller(), app_id=kval
                    )
                    return self._created(
                        call, created, "servicePrincipals", f"servicePrincipals/{created['id']}"
                    )
                raise not_found(kval)
            self._need_sp_write(ctx, sp)
            self.d.update_sp(sp, call.json())
            return Out(204)
        if m == "DELETE":
            ctx.need("Application.ReadWrite.All", "Application.ReadWrite.OwnedBy")
            if sp is None:
                raise not_found(kval)
            self._need_sp_write(ctx, sp)
            self.d.delete_sp(ctx.tid, sp["id"])
            return Out(204)
        raise method_not_allowed()

    def _assignments(
        self, call: Call, sp: dict[str, Any], rest: list[Seg], *, assigned_to: bool
    ) -> Out:
        ctx, m = call.ctx, call.method
        nav = "appRoleAssignedTo" if assigned_to else "appRoleAssignments"
        context = f"servicePrincipals('{sp['id']}')/{nav}"
        write_ok = ctx.has("AppRoleAssignment.ReadWrite.All") and ctx.has(DIR_READ)
        if len(rest) == 1:
            if m == "GET":
                ctx.need(APP_READ, "AppRoleAssignment.ReadWrite.All")
                docs = (
                    self.d.assignments(ctx.tid, resource_id=sp["id"])
                    if assigned_to
                    else self.d.assignments(ctx.tid, principal_id=sp["id"])
                )
                return self._collection(
                    call, docs, "appRoleAssignment", context, "AppRoleAssignment", ARA_FILTER
                )
            if m == "POST":
                if not write_ok:
                    raise denied()
                body = call.json()
                if not isinstance(body, dict):
                    raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
                clean = self.d._validate_body("appRoleAssignment", body, "AppRoleAssignment")
                for k in ("principalId", "resourceId", "appRoleId"):
                    if not clean.get(k):
                        if k == "resourceId" and assigned_to:
                            clean[k] = sp["id"]
                            continue
                        if k == "principalId" and not assigned_to:
                            clean[k] = sp["id"]
                            continue
                        raise bad_value(k, "AppRoleAssignment")
                if assigned_to and clean["resourceId"].lower() != sp["id"]:
                    raise bad_value("resourceId", "AppRoleAssignment")
                if not assigned_to and clean["principalId"].lower() != sp["id"]:
                    raise bad_value("principalId", "AppRoleAssignment")
                doc = self.d.assign(
                    ctx.tid,
                    principal_id=clean["principalId"],
                    resource_id=clean["resourceId"],
                    app_role_id=clean["appRoleId"],
                )
                return self._created(
                    call, doc, context, f"servicePrincipals/{sp['id']}/{nav}/{doc['id']}"
                )
            raise method_not_allowed()
        if len(rest) == 2:
            aid = rest[1].raw
            doc = self.d.assignment(ctx.tid, aid)
            if doc is not None and doc["resourceId" if assigned_to else "principalId"] != sp["id"]:
                doc = None
            if m == "GET":
                ctx.need(APP_READ, "AppRoleAssignment.ReadWrite.All")
                if doc is None:
                    raise not_found(aid)
                return self._entity(call, doc, "appRoleAssignment", context)
            if m == "DELETE":
                if not write_ok:
                    raise denied()
                if doc is None:
                    raise not_found(aid)
                self.d.unassign(doc)
                return Out(204)
            raise method_not_allowed()
        raise bad_segment(rest[-1].raw)

    # -- organization -----------------------------------------------------------------------
    def _organization(self, call: Call) -> Out:
        ctx, segs = call.ctx, call.segs
        if call.method != "GET":
            raise method_not_allowed()
        ctx.need(ORG_READ)
        org = self.d.organization(ctx.tid)
        if len(segs) == 1 and segs[0].keys is None:
            return self._collection(
                call, [org], "organization", "organization", "Organization", {"id": _EQ}
            )
        ref = (
            segs[1].raw
            if len(segs) == 2 and segs[0].keys is None
            else (next(iter(segs[0].keys.values())) if segs[0].keys and len(segs) == 1 else None)
        )
        if ref is None:
            raise bad_segment(segs[-1].raw)
        if ref.lower() != org["id"]:
            raise not_found(ref)
        return self._entity(call, org, "organization", "organization")

    # -- sites ------------------------------------------------------------------------------
    def _site_visible(self, ctx: Ctx, site: dict[str, Any]) -> bool:
        if ctx.has(SITES_ALL):
            return True
        return ctx.has("Sites.Selected") and bool(self.d.site_roles(site, ctx.appid or ""))

    def _sites(self, call: Call) -> Out:
        ctx, segs, m = call.ctx, call.segs, call.method
        access_denied = GraphError(403, "accessDenied", "Access denied")
        if not ctx.has(SITES_ALL, "Sites.Selected"):
            raise access_denied
        if segs[0].keys is not None:
            raise bad_segment(segs[0].raw)
        if len(segs) == 1:
            if m != "GET":
                raise method_not_allowed()
            docs = [s for s in self.d.sites(ctx.tid) if self._site_visible(ctx, s)]
            term = call.q("search")
            if term is not None and term.strip() not in ("", "*"):
                low = term.strip().strip('"').lower()
                docs = [
                    s
                    for s in docs
                    if any(
                        low in (s.get(k) or "").lower()
                        for k in ("name", "displayName", "description", "webUrl")
                    )
                ]
            return self._collection(call, docs, "site", "sites", "Site", {"id": _EQ})
        site_ref = segs[1].raw
        site = self.d.site(ctx.tid, site_ref)
        if site is None:
            raise GraphError(404, "itemNotFound", "Requested site could not be found")
        if not self._site_visible(ctx, site):
            raise access_denied
        if len(segs) == 2:
            if m != "GET":
                raise method_not_allowed()
            return self._entity(call, site, "site", "sites")
        if segs[2].name.lower() != "permissions" or len(segs) > 4:
            raise bad_segment(segs[2].raw)
        full = ctx.has("Sites.FullControl.All") or "fullcontrol" in self.d.site_roles(
            site, ctx.appid or ""
        )
        if not full:
            raise access_denied
        context = f"sites('{site['id']}')/permissions"
        if len(segs) == 3:
            if m == "GET":
                return self._collection(
                    call, site.get("_grants", []), "permission", context, "Permission", {"id": _EQ}
                )
            if m == "POST":
                body = call.json()
                if not isinstance(body, dict):
                    raise GraphError(400, "invalidRequest", "Invalid request")
                idents = body.get("grantedToIdentities") or body.get("grantedToIdentitiesV2") or []
                app = (
                    (idents[0] or {}).get("application")
                    if idents and isinstance(idents[0], dict)
                    else None
                )
                if not isinstance(app, dict) or not app.get("id"):
                    raise GraphError(400, "invalidRequest", "Invalid request")
                perm = self.d.grant_site(
                    ctx.tid,
                    site["id"],
                    app_id=app["id"],
                    display_name=app.get("displayName"),
                    roles=body.get("roles") or [],
                )
                return Out(201, {"@odata.context": call.meta(context + "/$entity"), **perm})
            raise method_not_allowed()
        pid = segs[3].raw
        perm = next((p for p in site.get("_grants", []) if p["id"] == pid), None)
        if perm is None:
            raise GraphError(404, "itemNotFound", "Item not found")
        if m == "GET":
            return Out(200, {"@odata.context": call.meta(context + "/$entity"), **perm})
        if m == "DELETE":
            self.d.revoke_site(ctx.tid, site["id"], pid)
            return Out(204)
        raise method_not_allowed()

    # -- $batch -----------------------------------------------------------------------------
    def _batch(self, call: Call, req: Req, rid: str, crid: str) -> Out:
        def bad(msg: str) -> Out:
            return Out(400, error_body("BadRequest", msg, rid, crid))

        if call.method != "POST":
            return Out(
                405,
                error_body(
                    "Request_BadRequest",
                    "Specified HTTP method is not allowed for the request target.",
                    rid,
                    crid,
                ),
            )
        try:
            body = call.json()
        except GraphError as e:
            return Out(e.status, error_body(e.code, e.message, rid, crid))
        reqs = body.get("requests") if isinstance(body, dict) else None
        if not isinstance(reqs, list) or not reqs:
            return bad("Invalid batch payload format.")
        if len(reqs) > MAX_BATCH:
            return bad(f"Number of requests in the batch exceeds the limit of {MAX_BATCH}.")
        ids: dict[str, dict[str, Any]] = {}
        for item in reqs:
            if not isinstance(item, dict) or not all(
                isinstance(item.get(k), str) and item.get(k) for k in ("id", "method", "url")
            ):
                return bad("Invalid batch payload format.")
            if item["id"].lower() in ids:
                return bad("Batch request contains duplicate request ids.")
            ids[item["id"].lower()] = item
            if item.get("body") is not None and not any(
                k.lower() == "content-type" for k in (item.get("headers") or {})
            ):
                return bad(
                    "Write request id : "
                    + item["id"]
                    + " does not contain Content-Type header or body."
                )
        deps: dict[str, list[str]] = {}
        for item in reqs:
            dep = item.get("dependsOn") or []
            if not isinstance(dep, list) or any(
                not isinstance(x, str) or x.lower() not in ids for x in dep
            ):
                return bad("Depends on request id is not found in the batch.")
            deps[item["id"].lower()] = [x.lower() for x in dep]
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(k: str) -> bool:
            if state.get(k) == 2:
                return True
            if state.get(k) == 1:
                return False
            state[k] = 1
            if not all(visit(x) for x in deps[k]):
                return False
            state[k] = 2
            order.append(k)
            return True

        for item in reqs:
            if not visit(item["id"].lower()):
                return bad("Circular dependency detected in the batch request.")
        results: dict[str, dict[str, Any]] = {}
        for k in order:
            item = ids[k]
            if any(results[d]["status"] >= 400 for d in deps[k]):
                irid = str(uuid.uuid4())
                results[k] = {
                    "id": item["id"],
                    "status": 424,
                    "headers": {"Content-Type": "application/json"},
                    "body": error_body("FailedDependency", "Dependent request failed.", irid, crid),
                }
                continue
            results[k] = self._batch_item(call, item, crid)
        req.kind = "read" if all(ids[k]["method"].upper() == "GET" for k in ids) else "write"
        req.extra["batch"] = len(reqs)
        return Out(200, {"responses": [results[item["id"].lower()] for item in reqs]})

    def _batch_item(self, outer: Call, item: dict[str, Any], crid: str) -> dict[str, Any]:
        irid = str(uuid.uuid4())
        url = item["url"]
        parts = urlsplit(url)
        if parts.scheme:
            path, query = parts.path, parts.query
        else:
            path, _, query = url.partition("?")
        path = re.sub(r"^(?:v1\.0|beta)(?:/|$)", "", unquote(path).lstrip("/"), flags=re.I)
        headers = {k.lower(): str(v) for k, v in (item.get("headers") or {}).items()}
        body = item.get("body")
        raw = (
            json.dumps(body).encode()
            if isinstance(body, (dict, list))
            else (body.encode() if isinstance(body, str) else b"")
        )
        try:
            segs = parse_path(path.strip("/"))
            if segs and segs[0].name == "$batch":
                raise bad_segment("$batch")
            inner = Call(
                item["method"].upper(),
                segs,
                dict(parse_qsl(query, keep_blank_values=True)),
                headers,
                raw,
                outer.base,
                outer.ctx,
                path,
            )
            out = self.dispatch(inner, irid, crid)
        except GraphError as e:
            out = Out(e.status, error_body(e.code, e.message, irid, crid))
        h = {"Cache-Control": "no-cache", **out.headers}
        entry: dict[str, Any] = {"id": item["id"], "status": out.status, "headers": h}
        if out.text is not None:
            h["Content-Type"] = "text/plain"
            entry["body"] = out.text
        elif out.body is not None:
            h["OData-Version"] = "4.0"
            h["Content-Type"] = JSON_CT
            entry["body"] = out.body
        return entry


def routes(world: World) -> Router:
    api = GraphApi(world)
    r = Router(case_insensitive=True)
    r.add("GET|POST|PATCH|PUT|DELETE", "/v1.0/{rest:path}", api.handle)
    r.add("GET|POST|PATCH|PUT|DELETE", "/v1.0", api.handle)
    return r
