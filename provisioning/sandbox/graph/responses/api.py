"""Microsoft Graph v1.0 over HTTP: every request below ``/v1.0`` comes in through
:meth:`GraphApi.handle` (token, path), is routed by ``urls.py``'s table (:meth:`dispatch`, which
also runs each item of a ``$batch``), and leaves as Graph renders answers: ``request-id`` and
``client-request-id`` headers, OData JSON, and ``GraphError``s in Graph's error body with the
same ids (:meth:`_error`, the one place a ``GraphError`` becomes an answer).
"""

from __future__ import annotations

import json
import re
import uuid
from typing import TYPE_CHECKING

from starlette.responses import Response

from ...auth import GRAPH_AUDIENCES, AuthError, bearer_claims
from ...http import Req
from ..exceptions import GraphError, bad_segment
from ..routing import GraphRoute, match, parse_path
from .base import JSON_CT, Call, Ctx, Out

if TYPE_CHECKING:
    from ...world import World

WWW_AUTHENTICATE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/'
    'authorize", client_id="00000003-0000-0000-c000-000000000000"'
)


class GraphApi:
    def __init__(self, world: World) -> None:
        self.world = world
        self.routes: list[GraphRoute] = []  # set by urls.routes

    # -- the way in and out -------------------------------------------------------------------
    def handle(self, req: Req) -> Response:
        rid = str(uuid.uuid4())
        crid = req.header("client-request-id") or rid
        path = re.sub(r"/{2,}", "/", req.request.scope["path"])
        rest = re.sub(r"^/v1\.0", "", path, flags=re.I)
        try:
            ctx = self._auth(req)
            segs = parse_path(rest.strip("/"))
        except GraphError as e:
            return self._render(self._error(e, rid, crid), rid, crid)
        call = Call(
            req.method.upper(),
            segs,
            dict(req.query),
            {k.lower(): v for k, v in req.request.headers.items()},
            req.body,
            req.base_url(),
            ctx,
            rest,
            req=req,
        )
        return self._render(self.dispatch(call, rid, crid), rid, crid)

    def dispatch(self, call: Call, rid: str | None = None, crid: str | None = None) -> Out:
        """Route one call (a request or a ``$batch`` item) and run its handler."""
        call.rid = rid or str(uuid.uuid4())
        call.crid = crid or call.rid
        try:
            if not call.segs:
                raise bad_segment("v1.0")
            route, call.keys = match(self.routes, call.method, call.segs)
            out: Out = route.handler(call)
            return out
        except GraphError as e:
            return self._error(e, call.rid, call.crid)

    @staticmethod
    def _error(e: GraphError, rid: str, crid: str) -> Out:
        return Out(e.status, e.body(rid, crid), dict(e.headers))

    def unknown_path(self, req: Req) -> Response:
        """A path outside ``/v1.0``: Graph cannot resolve its last segment."""
        raise bad_segment(req.path.strip("/").split("/")[-1])

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
        def refuse(message: str) -> GraphError:
            headers = {"WWW-Authenticate": WWW_AUTHENTICATE}
            return GraphError(401, "InvalidAuthenticationToken", message, headers)

        try:
            own = self.world.urls.graph  # this cloud's Graph root is a Graph audience too
            claims = bearer_claims(req, (*GRAPH_AUDIENCES, own, f"{own}/"))
        except AuthError as e:
            msg = {
                "AuthenticationFailed": "Access token is empty.",
                "ExpiredAuthenticationToken": "Lifetime validation failed, the token is expired.",
                "InvalidAuthenticationTokenAudience": "Access token validation failure. Invalid audience.",
            }
            raise refuse(msg.get(e.code, "Access token validation failure.")) from None
        tid = (claims.get("tid") or "").lower()
        if not tid or self.world.tenants.get(tid) is None:
            raise refuse("Access token validation failure. Invalid issuer.")
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
