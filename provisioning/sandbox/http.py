"""HTTP plumbing shared by the services: routing, request wrapper, error bodies.

Services keep their rules in ``models.py`` and their wire format in ``responses.py``
(moto's split); this module is the little that every ``responses.py`` needs.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from .world import World


class HttpError(Exception):
    """Raised by a handler (or a model) to answer with an error response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


@dataclass
class Req:
    request: Request
    world: World
    params: dict[str, str]
    body: bytes
    query: dict[str, str]
    # set by handlers for the request log
    tenant: str | None = None
    caller: str | None = None
    kind: str | None = None  # "read" | "write" | "token"; default from the method
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def method(self) -> str:
        return self.request.method

    @property
    def path(self) -> str:
        return self.request.url.path

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.request.headers.get(name, default)

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            return _BAD_JSON

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))

    def q(self, name: str, default: str | None = None) -> str | None:
        """Query parameter, case-insensitive on the name (ARM and Graph both are)."""
        low = name.lower()
        for k, v in self.query.items():
            if k.lower() == low:
                return v
        return default

    def base_url(self) -> str:
        return f"{self.request.url.scheme}://{self.request.url.netloc}"


_BAD_JSON = object()


def is_bad_json(value: Any) -> bool:
    return value is _BAD_JSON


Handler = Callable[[Req], Response]


@dataclass
class Route:
    method: str
    regex: re.Pattern[str]
    handler: Handler


class Router:
    """Regex routes; ``{name}`` captures one path segment, ``{name:path}`` the rest."""

    def __init__(self, *, case_insensitive: bool = False) -> None:
        self.routes: list[Route] = []
        self._flags = re.IGNORECASE if case_insensitive else 0

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        rx = re.sub(r"\{(\w+):path\}", r"(?P<\1>.+)", pattern)
        rx = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", rx)
        for m in method.upper().split("|"):
            self.routes.append(Route(m, re.compile(f"^{rx}/?$", self._flags), handler))

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add(method, pattern, fn)
            return fn

        return deco

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """(handler, params, path_known). ``path_known`` tells 405 from 404."""
        known = False
        for r in self.routes:
            m = r.regex.match(path)
            if m:
                known = True
                if r.method == method or (method == "HEAD" and r.method == "GET"):
                    return r.handler, m.groupdict(), True
        return None, {}, known


# ---- response helpers ---------------------------------------------------------------------


def json_response(
    body: Any,
    status: int = 200,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json; charset=utf-8",
) -> Response:
    return Response(
        json.dumps(body, separators=(",", ":")),
        status_code=status,
        headers=headers,
        media_type=content_type,
    )


def empty(status: int = 204, headers: dict[str, str] | None = None) -> Response:
    return Response(b"", status_code=status, headers=headers)


def utcnow_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def arm_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> HttpError:
    """ARM's error body: ``{"error": {"code", "message"}}`` (common-types v5 ErrorResponse)."""
    h = {"x-ms-failure-cause": "gateway" if status >= 500 else "service"}
    h.update(headers or {})
    return HttpError(json_response({"error": {"code": code, "message": message}}, status, h))


def graph_error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> HttpError:
    """Graph's error body (graph/concepts/errors.md) with its innerError block."""
    rid = str(uuid.uuid4())
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "request-id": rid,
                "client-request-id": rid,
            },
        }
    }
    h = {"request-id": rid, "client-request-id": rid}
    h.update(headers or {})
    return HttpError(json_response(body, status, h))


def aadsts_error(
    status: int, error: str, code: int, message: str, extra_codes: list[int] | None = None
) -> HttpError:
    """Entra's token-endpoint error JSON; ``error_description`` starts ``AADSTSnnnn:``."""
    trace, corr = str(uuid.uuid4()), str(uuid.uuid4())
    ts = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    desc = f"AADSTS{code}: {message} Trace ID: {trace} Correlation ID: {corr} Timestamp: {ts}"
    body = {
        "error": error,
        "error_description": desc,
        "error_codes": [code, *(extra_codes or [])],
        "timestamp": ts,
        "trace_id": trace,
        "correlation_id": corr,
        "error_uri": f"https://login.microsoftonline.com/error?code={code}",
    }
    return HttpError(
        json_response(
            body, status, {"x-ms-request-id": trace, "Cache-Control": "no-store, no-cache"}
        )
    )
