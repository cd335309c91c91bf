"""The ASGI application: one listening socket per service, dispatch by port.

Each request passes through the same steps: find the service and route, apply injected
faults, run the (synchronous) handler on the event loop — which also serialises access to
the models — and record it in the request log.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from .arm.exceptions import ArmError
from .entra.exceptions import EntraError
from .graph.exceptions import GraphError
from .http import Req, Router, ServiceError, json_response
from .world import World

log = logging.getLogger("xtenant.sandbox")

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class InjectedConnectionLoss(ConnectionAbortedError):
    """Raised to drop a connection mid-response (the ``lose_response`` fault)."""


ErrorFamily = Callable[[int, str, str, dict[str, str] | None], ServiceError]


@dataclass
class Service:
    """One listening service: its routing table, the error family it answers in (for what the
    app itself answers: faults, 404, 405, 500) and the headers it adds to its answers."""

    name: str
    router: Router
    error: ErrorFamily
    finish: Callable[[Req, Response], Response] | None = None


def build_services(world: World) -> dict[str, Service]:
    from .arm.responses.base import ArmResponses
    from .arm.urls import routes as arm_routes
    from .entra.urls import routes as entra_routes
    from .graph.urls import routes as graph_routes
    from .identity.urls import routes as identity_routes
    from .monitor.urls import routes as monitor_routes

    return {
        "entra": Service("entra", entra_routes(world), EntraError.plain),
        "arm": Service("arm", arm_routes(world), ArmError, ArmResponses(world).decorate),
        "graph": Service("graph", graph_routes(world), GraphError),
        "monitor": Service("monitor", monitor_routes(world), ArmError),
        "identity": Service("identity", identity_routes(world), EntraError.plain),
    }


def route_table(only: str | None = None) -> list[tuple[str, str, str, str]]:
    """(service, method, path, handler) of every service's routing table (Graph's below
    ``/v1.0`` included), as ``python -m provisioning.sandbox routes`` prints it."""
    from .graph.responses.api import GraphApi
    from .graph.urls import table as graph_table
    from .http import handler_name

    world = World(None)
    out = []
    for name, svc in build_services(world).items():
        if only in (None, name):
            out += [(name, method, path, h) for method, path, h in svc.router.describe()]
    if only in (None, "graph"):
        for r in graph_table(world, GraphApi(world)):
            out.append(("graph", r.method, f"/v1.0/{r.path}", handler_name(r.handler)))
    return out


class SandboxApp:
    def __init__(self, world: World) -> None:
        self.world = world
        self.services = build_services(world)
        self.by_port: dict[int, str] = {}
        from .control import routes as control_routes

        self.control = control_routes(world)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        body = await request.body()
        path = re.sub(r"/{2,}", "/", scope["path"])  # httpx-based clients add "//"
        port = (scope.get("server") or ("", 0))[1]
        svc = self.services.get(self.by_port.get(port, ""))
        req = Req(
            request=request,
            world=self.world,
            params={},
            body=body,
            query=dict(request.query_params),
        )
        started = time.perf_counter()
        if path.startswith("/_sandbox"):
            resp = self._run(self.control, None, req, path)
            await resp(scope, receive, send)
            return
        if svc is None:
            await Response("no service on this port", 404)(scope, receive, send)
            return
        faults = self.world.faults.pick(svc.name, request.method, path)
        fault_names = ",".join(f.kind for f in faults) or None
        for f in faults:
            if f.latency_ms:
                await asyncio.sleep(f.latency_ms / 1000)
        lose = any(f.kind == "lose_response" for f in faults)
        short = next((f for f in faults if f.kind in ("throttle", "error")), None)
        if short is not None:
            resp = self._short_circuit(svc, short)
        else:
            resp = self._run(svc.router, svc, req, path)
        kind = req.kind or ("write" if request.method in WRITE_METHODS else "read")
        self.world.log.record(
            service=svc.name,
            method=request.method,
            path=path,
            query=scope.get("query_string", b"").decode("latin-1"),
            status=resp.status_code,
            kind=kind,
            tenant=req.tenant,
            caller=req.caller,
            fault=fault_names,
            ms=round((time.perf_counter() - started) * 1000, 3),
            extra=req.extra,
        )
        if lose and short is None:
            # The write is committed; the client never gets a complete answer.
            await send(
                {
                    "type": "http.response.start",
                    "status": resp.status_code,
                    "headers": [(b"content-length", b"1048576")],
                }
            )
            raise InjectedConnectionLoss("sandbox: response lost after commit (injected)")
        await resp(scope, receive, send)

    def _short_circuit(self, svc: Service, f: Any) -> Response:
        if f.kind == "throttle":
            headers = {"Retry-After": str(f.retry_after)}
            if svc.name == "arm":
                headers["x-ms-ratelimit-remaining-subscription-reads"] = "0"
            msg = (
                "The request is being throttled as the limit has been reached for operation type."
                if svc.name == "arm"
                else "Too many requests. Retry after the given delay."
            )
            code = "TooManyRequests"  # both ARM and Graph throttling use this code
            return svc.error(429, code, msg, headers).response()
        status = f.status
        code = f.code or {
            500: "InternalServerError",
            502: "BadGateway",
            503: "ServiceUnavailable",
            504: "GatewayTimeout",
        }.get(status, "InternalServerError")
        return svc.error(status, code, "Injected transient failure. Please retry.", None).response()

    def _run(self, router: Router, svc: Service | None, req: Req, path: str) -> Response:
        """Route and run one request; every ``ServiceError`` becomes its response here."""
        handler, params, known = router.match(req.method, path)
        req.params = params
        try:
            if handler is None:
                handler = router.not_allowed if known else router.not_found
            if handler is None:
                if svc is None:
                    return json_response({"error": "not found"}, 404)
                if known:
                    raise svc.error(
                        405,
                        "MethodNotAllowed",
                        f"The requested method {req.method} is not allowed.",
                        None,
                    )
                raise svc.error(404, "not_found", f"{path} not found", None)
            resp = handler(req)
        except ServiceError as e:
            resp = e.response()
        except Exception:  # a bug in the sandbox: say so loudly, as a 500
            log.error(
                "sandbox handler failed for %s %s\n%s", req.method, path, traceback.format_exc()
            )
            err = svc.error if svc else ArmError
            return err(
                500, "InternalServerError", "sandbox internal error (see its log)", None
            ).response()
        return svc.finish(req, resp) if svc is not None and svc.finish else resp
