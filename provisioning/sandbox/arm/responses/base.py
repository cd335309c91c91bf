"""What every ARM call goes through before and after its handler, and the checks handlers
share: api-version, authentication (ARM's 401s with ``WWW-Authenticate``), the subscription
the path names (it must exist and belong to the token's tenant), RBAC (403
``AuthorizationFailed``), request bodies, long-running-operation headers, and the headers ARM
adds to every answer (:meth:`ArmResponses.decorate`).

Handlers are ``handler(req, ctx) -> Response``; ``urls.py`` wraps each with
:meth:`ArmResponses.endpoint`. Errors are raised as ``ArmError``.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import json
import re
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
from starlette.responses import Response

from ...auth import ARM_AUDIENCES, AuthError, bearer_claims
from ...http import Handler, Req, is_bad_json, json_response
from ...tokens import unverified_claims
from ..catalog import PROVIDERS
from ..exceptions import ArmError, invalid_content, method_not_allowed
from ..ids import Doc, Rid, canonical_type

if TYPE_CHECKING:
    from ...world import World
    from ..models import Arm

API_VERSION_RX = re.compile(
    r"^\d{4}-\d{2}-\d{2}(-(preview|alpha|beta|rc|privatepreview))?$", re.IGNORECASE
)
ARM_AUDIENCE_LIST = (
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
)
HTTP_METHODS = ("GET", "HEAD", "PUT", "PATCH", "DELETE", "POST")


class Ctx:
    """The authenticated caller of one request (and the subscription its path names)."""

    def __init__(self, claims: dict[str, Any]) -> None:
        self.claims = claims
        self.tid: str = claims.get("tid", "")
        self.oid: str = claims.get("oid", "")
        self.client: str = claims.get("appid") or claims.get("azp") or self.oid
        self.api_version = ""
        self.sub: Doc | None = None


ArmHandler = Callable[[Req, Ctx], Response]


class ArmResponses:
    def __init__(self, world: World) -> None:
        self.world = world
        self.arm: Arm = world.arm

    # ---- the way in and out ---------------------------------------------------------------------
    def endpoint(self, handler: ArmHandler, *, public: bool = False) -> Handler:
        """``handler`` behind ARM's checks: api-version, then (unless ``public``) the token, then
        the subscription of a ``{sub}`` route."""

        @functools.wraps(handler)
        def serve(req: Req) -> Response:
            if public:
                self._api_version(req)
                return handler(req, Ctx({}))
            return handler(req, self._caller(req))

        return serve

    def _caller(self, req: Req) -> Ctx:
        api_version = self._api_version(req)
        ctx = self._authenticate(req, self._path(req))
        req.extra["api_version"] = api_version
        ctx.api_version = api_version
        if "sub" in req.params:
            ctx.sub = self._subscription(req, ctx, req.params["sub"])
        return ctx

    def no_route(self, req: Req) -> Response:
        """A path no route matches: a 404, behind the same checks as any call."""
        self._standard_method(req)
        self._caller(req)
        path = self._path(req)
        raise ArmError(
            404,
            "InvalidResourceType" if "/providers/" in path.lower() else "NotFound",
            f"The resource path '{path}' is not supported.",
        )

    def wrong_method(self, req: Req) -> Response:
        """A route without this method: 405, behind the same checks as any call."""
        self._standard_method(req)
        self._caller(req)
        raise method_not_allowed(req.method)

    @staticmethod
    def _standard_method(req: Req) -> None:
        """ARM answers other methods (OPTIONS, ...) with a 405 before looking at the call."""
        if req.method not in HTTP_METHODS:
            raise ArmError(
                405, "MethodNotAllowed", f"The requested method {req.method} is not allowed."
            )

    def decorate(self, req: Req, resp: Response) -> Response:
        """The headers ARM adds to every answer (a HEAD gets them without the body)."""
        rid = str(uuid.uuid4())
        resp.headers.setdefault("x-ms-request-id", rid)
        resp.headers.setdefault(
            "x-ms-correlation-request-id", req.header("x-ms-correlation-request-id") or rid
        )
        resp.headers.setdefault(
            "x-ms-routing-request-id", f"SANDBOX:{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}:{rid}"
        )
        resp.headers.setdefault("Cache-Control", "no-cache")
        resp.headers.setdefault("Pragma", "no-cache")
        resp.headers.setdefault("Expires", "-1")
        resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        if (req.header("x-ms-return-client-request-id") or "").lower() == "true" and req.header(
            "x-ms-client-request-id"
        ):
            resp.headers.setdefault(
                "x-ms-client-request-id", req.header("x-ms-client-request-id") or ""
            )
        if req.path.lower().startswith("/subscriptions/"):
            kind = {"GET": "reads", "HEAD": "reads", "DELETE": "deletes"}.get(req.method, "writes")
            resp.headers.setdefault(f"x-ms-ratelimit-remaining-subscription-{kind}", "11999")
        if req.method == "HEAD":
            return Response(
                b"",
                status_code=resp.status_code,
                headers={
                    k: v
                    for k, v in resp.headers.items()
                    if k.lower() not in ("content-length", "content-type")
                },
            )
        return resp

    @staticmethod
    def _path(req: Req) -> str:
        return "/" + re.sub(r"/{2,}", "/", req.path).strip("/")

    # ---- common checks -------------------------------------------------------------------------
    @staticmethod
    def _only(req: Req, *methods: str) -> None:
        if req.method not in methods and not (req.method == "HEAD" and "GET" in methods):
            raise method_not_allowed(req.method)

    @staticmethod
    def _api_version(req: Req) -> str:
        v = req.q("api-version")
        if v is None or v == "":
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if not API_VERSION_RX.match(v):
            raise ArmError(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{v}' is invalid. The supported versions are '"
                + ",".join(
                    sorted(
                        {x for p in PROVIDERS.values() for vs in p.values() for x in vs},
                        reverse=True,
                    )
                )
                + "'.",
            )
        return v

    def _challenge(self, tid: str | None, description: str) -> dict[str, str]:
        base = self.world.urls.authority.rstrip("/")
        uri = f"{base}/{tid}" if tid else f"{base}/"
        return {
            "WWW-Authenticate": f'Bearer authorization_uri="{uri}", error="invalid_token", '
            f'error_description="{description}"'
        }

    def _authenticate(self, req: Req, path: str) -> Ctx:
        sub_tid = None
        segs = path.strip("/").split("/")
        if len(segs) >= 2 and segs[0].lower() == "subscriptions":
            sub_tid = self.arm.tenant_of_subscription(segs[1])
        header = req.header("authorization")
        try:
            claims = bearer_claims(req, ARM_AUDIENCES)
        except AuthError as e:
            if e.code == "AuthenticationFailed":
                if header:
                    raise ArmError(
                        401,
                        "AuthenticationFailed",
                        "Authentication failed. The 'Authorization' header is provided in an invalid "
                        "format.",
                        self._challenge(
                            sub_tid,
                            "The authentication failed because of "
                            "invalid 'Authorization' header format.",
                        ),
                    ) from None
                raise ArmError(
                    401,
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.",
                    self._challenge(
                        sub_tid,
                        "The authentication failed because of missing 'Authorization' header.",
                    ),
                ) from None
            if e.code == "ExpiredAuthenticationToken":
                exp = _claim(header, "exp")
                msg = (
                    f"The access token expiry UTC time '{_net_time(exp)}' is earlier than current UTC time "
                    f"'{_net_time(self.world.now())}'."
                )
                raise ArmError(
                    401, "ExpiredAuthenticationToken", msg, self._challenge(sub_tid, msg)
                ) from None
            if e.code == "InvalidAuthenticationTokenAudience":
                aud = _claim(header, "aud")
                msg = (
                    f"The access token has been obtained for wrong audience or resource '{aud}'. It should "
                    "exactly match with one of the allowed audiences "
                    + ",".join(f"'{a}'" for a in ARM_AUDIENCE_LIST)
                    + "."
                )
                raise ArmError(
                    401, "InvalidAuthenticationTokenAudience", msg, self._challenge(sub_tid, msg)
                ) from None
            raise ArmError(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                self._challenge(sub_tid, "The access token is invalid."),
            ) from None
        if not claims.get("tid") or not claims.get("oid"):
            raise ArmError(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid.",
                self._challenge(sub_tid, "The access token is invalid."),
            )
        if self.world.tenants.get(claims["tid"]) is None:
            raise ArmError(
                401,
                "InvalidAuthenticationTokenTenant",
                f"The access token is from the wrong issuer '{claims.get('iss')}'. It must match the "
                "tenant associated with this subscription.",
                self._challenge(sub_tid, "The access token is from the wrong issuer."),
            )
        return Ctx(claims)

    def _subscription(self, req: Req, ctx: Ctx, sub_id: str) -> Doc:
        sub = self.arm.require_subscription(sub_id)
        if sub["tenantId"] != ctx.tid:
            iss = str(ctx.claims.get("iss", ""))
            want = (
                iss.replace(ctx.tid, sub["tenantId"])
                if ctx.tid and ctx.tid in iss
                else sub["tenantId"]
            )
            authority = f"{self.world.urls.authority.rstrip('/')}/{sub['tenantId']}"
            raise ArmError(
                401,
                "InvalidAuthenticationTokenTenant",
                f"The access token is from the wrong issuer '{iss}'. It must match the tenant '{want}' "
                f"associated with this subscription. Please use the authority (URL) '{authority}' to "
                "get the token. Note, if the subscription is transferred to another tenant there is no "
                "impact to the services, but information about new tenant could take time to "
                "propagate (up to an hour). If you just transferred your subscription and see this "
                "error message, please try back later.",
                self._challenge(
                    sub["tenantId"],
                    "The access token is from the wrong issuer. It must "
                    "match the tenant associated with this subscription. Please use correct "
                    "authority to get the token.",
                ),
            )
        return sub

    def _authorize(self, ctx: Ctx, scope: str, action: str, *, data: bool = False) -> None:
        if not self.arm.has_permission(ctx.tid, ctx.oid, scope, action, data=data):
            raise ArmError(
                403,
                "AuthorizationFailed",
                f"The client '{ctx.client}' with object id '{ctx.oid}' does not have authorization to "
                f"perform action '{action}' over scope '{scope}' or the scope is invalid. If access was "
                "recently granted, please refresh your credentials.",
            )

    @staticmethod
    def _body(req: Req) -> Any:
        body = req.json()
        if is_bad_json(body):
            raise invalid_content("Unexpected character encountered while parsing value.")
        if body is None:
            raise invalid_content("The request content is missing.")
        return body

    # ---- lists -------------------------------------------------------------------------------
    def _list(self, req: Req, items: list[Any], **extra: Any) -> Response:
        """A list answer, paged when ``settings.page_size`` is set: ARM's RPC has a provider
        return at most a page of ``value`` and a ``nextLink`` carrying ``$skipToken`` (and the
        query the client sent) until the last page; "Clients must fetch records until the
        nextLink is not returned back" (resource-api-reference.md, "Get resource collection")."""
        size = int(self.world.settings.page_size or 0)
        start = _offset(req.q("$skipToken"))
        if size <= 0:
            return json_response({"value": items[start:], **extra})
        end = start + size
        body: dict[str, Any] = {"value": items[start:end], **extra}
        if end < len(items):
            query = [(k, v) for k, v in req.request.query_params.multi_items()]
            query = [(k, v) for k, v in query if k.lower() != "$skiptoken"]
            query.append(("$skipToken", _token(end)))
            body["nextLink"] = (
                f"{req.base_url()}{req.request.url.path}?{urlencode(query, safe='$')}"
            )
        return json_response(body)

    # ---- long-running operations -------------------------------------------------------------
    def _retry_after(self) -> dict[str, str]:
        """ARM's RPC asks for ``Retry-After`` on every answer of a running operation, "a minimum
        of 10 seconds" (async-api-reference.md); the sandbox's default is 1 s so that tests stay
        quick (``settings.lro_retry_after_s``)."""
        n = int(self.world.settings.lro_retry_after_s)
        return {"Retry-After": str(n)} if n > 0 else {}

    def _lro_headers(self, req: Req, rid: Rid, op: Doc) -> dict[str, str]:
        v = req.q("api-version")
        ns = canonical_type(rid.type).split("/")[0]
        base = (
            f"{req.base_url()}/subscriptions/{rid.sub}/providers/{ns}/locations/"
            f"{op['_location'] or 'westus2'}/operations/{op['name']}"
        )
        headers = {
            "Azure-AsyncOperation": f"{base}?p={uuid.uuid4()}&api-version={v}",
            "Location": f"{base}?p={uuid.uuid4()}&monitor=true&api-version={v}",
            "Azure-AsyncNotification": "Enabled",
        }
        headers.update(self._retry_after())
        return headers


def _token(offset: int) -> str:
    """An opaque ``$skipToken`` (the offset of the next page)."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return max(0, int(data["o"]))
    except (ValueError, KeyError, TypeError):
        raise ArmError(400, "InvalidSkipToken", "The $skipToken is invalid.") from None


def _claim(header: str | None, name: str) -> Any:
    try:
        return unverified_claims((header or "")[7:].strip()).get(name)
    except jwt.PyJWTError:
        return None


def _net_time(ts: Any) -> str:
    """.NET's general date format, as ARM prints token times ('3/7/2019 2:28:03 AM')."""
    try:
        t = dt.datetime.fromtimestamp(float(ts), dt.UTC)
    except (TypeError, ValueError):
        return str(ts)
    hour = t.hour % 12 or 12
    return f"{t.month}/{t.day}/{t.year} {hour}:{t.minute:02d}:{t.second:02d} {'AM' if t.hour < 12 else 'PM'}"
