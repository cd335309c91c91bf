"""HTTP plumbing shared by the services: the routing table, the request wrapper, the base of
every service error, and response helpers.

Each service is split as moto splits one: ``urls.py`` (its routing table), ``responses.py``
(the wire format), ``models.py`` (state and rules) and ``exceptions.py`` (its error format).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from .world import World


class ServiceError(Exception):
    """A refusal in one service family's own error format.

    Each family has one subclass (``arm.exceptions.ArmError``, ``graph.exceptions.GraphError``,
    ``entra.exceptions.EntraError``); handlers and models raise it, and the app turns it into
    the response (:meth:`response`) in one place (``app.SandboxApp._run``).
    """

    status: int = 500
    headers: dict[str, str] | None = None

    def body(self) -> Any:
        raise NotImplementedError

    def response(self) -> Response:
        return json_response(self.body(), self.status, self.headers)


class HttpError(ServiceError):
    """A ready-made response (managed-identity endpoints, control API): no family format."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.status = response.status_code
        self._response = response

    def response(self) -> Response:
        return self._response


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

# ``{name}`` is one path segment, ``{name:path}`` one or more, ``{name:any}`` possibly none
_CONVERTERS = {"": "[^/]+", "path": ".+", "any": ".*"}


@dataclass
class Route:
    """One path pattern and the handler of each method it serves."""

    pattern: str
    regex: re.Pattern[str]
    hint: str  # the pattern's longest literal text: a path without it cannot match (fast reject)
    handlers: dict[str, Handler] = field(default_factory=dict)


class Router:
    """A routing table: ``add(methods, pattern, handler)`` in the order to try.

    The first pattern that matches the path decides: its handler for the method (``HEAD``
    is served as ``GET``), or ``not_allowed`` when it has none; a path no pattern matches goes
    to ``not_found``. Both hooks are optional (the app answers in the service's error format).
    """

    def __init__(
        self,
        *,
        case_insensitive: bool = False,
        not_found: Handler | None = None,
        not_allowed: Handler | None = None,
    ) -> None:
        self.routes: list[Route] = []
        self._flags = re.IGNORECASE if case_insensitive else 0
        self.not_found = not_found
        self.not_allowed = not_allowed

    def add(self, methods: str, pattern: str, handler: Handler) -> None:
        route = next((r for r in self.routes if r.pattern == pattern), None)
        if route is None:
            rx = re.sub(
                r"\{(\w+)(?::(\w+))?\}",
                lambda m: f"(?P<{m.group(1)}>{_CONVERTERS[m.group(2) or '']})",
                re.escape(pattern).replace("\\{", "{").replace("\\}", "}"),
            )
            hint = max(re.split(r"\{[^}]*\}", pattern), key=len)
            hint = hint.lower() if self._flags else hint
            route = Route(pattern, re.compile(f"^{rx}/?$", self._flags), hint)
            self.routes.append(route)
        for m in methods.upper().split("|"):
            route.handlers[m] = handler

    def route(self, methods: str, pattern: str) -> Callable[[Handler], Handler]:
        def deco(fn: Handler) -> Handler:
            self.add(methods, pattern, fn)
            return fn

        return deco

    def describe(self) -> list[tuple[str, str, str]]:
        """(method, pattern, handler name) of every route, in order: the table as data."""
        return [
            (method, r.pattern, handler_name(h))
            for r in self.routes
            for method, h in r.handlers.items()
        ]

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], bool]:
        """(handler, params, path_known): no handler and ``path_known`` is a 405."""
        text = path.lower() if self._flags else path
        for r in self.routes:
            if r.hint not in text:
                continue
            m = r.regex.match(path)
            if m:
                h = r.handlers.get(method) or (r.handlers.get("GET") if method == "HEAD" else None)
                return h, m.groupdict(), True
        return None, {}, False


def handler_name(h: Callable[..., Any]) -> str:
    """``Class.method`` of a handler, through wrappers (``functools.wraps``) and partials."""
    h = getattr(h, "__wrapped__", h)
    h = getattr(h, "func", h)
    return getattr(h, "__qualname__", repr(h))


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
