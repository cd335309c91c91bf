"""``/_sandbox/``: the control API tests, benchmarks and rehearsals drive the sandbox with."""

from __future__ import annotations

from dataclasses import asdict, fields

from starlette.responses import Response

from .http import HttpError, Req, Router, empty, json_response
from .world import Settings


def _bad(msg: str) -> HttpError:
    return HttpError(json_response({"error": msg}, 400))


def routes(world) -> Router:  # type: ignore[no-untyped-def]
    r = Router()

    @r.route("GET", "/_sandbox/info")
    def info(req: Req) -> Response:
        from .server import build_info

        return json_response(build_info(world))

    @r.route("GET", "/_sandbox/requests")
    def requests_(req: Req) -> Response:
        return json_response(
            {
                "requests": world.log.entries(int(req.q("since", "0") or 0)),
                "last": world.log.last_seq(),
            }
        )

    @r.route("GET", "/_sandbox/stats")
    def stats(req: Req) -> Response:
        return json_response(world.log.stats(int(req.q("since", "0") or 0)))

    @r.route("DELETE", "/_sandbox/requests")
    def clear_requests(req: Req) -> Response:
        world.log.clear()
        return empty()

    @r.route("GET", "/_sandbox/faults")
    def list_faults(req: Req) -> Response:
        return json_response({"faults": world.faults.list()})

    @r.route("POST", "/_sandbox/faults")
    def add_fault(req: Req) -> Response:
        spec = req.json()
        if not isinstance(spec, dict):
            raise _bad("expected a JSON object")
        try:
            f = world.faults.add(**spec)
        except (TypeError, ValueError) as e:
            raise _bad(str(e)) from None
        return json_response(asdict(f), 201)

    @r.route("DELETE", "/_sandbox/faults")
    def clear_faults(req: Req) -> Response:
        world.faults.clear()
        return empty()

    @r.route("GET", "/_sandbox/settings")
    def get_settings(req: Req) -> Response:
        return json_response(asdict(world.settings))

    @r.route("PATCH", "/_sandbox/settings")
    def patch_settings(req: Req) -> Response:
        body = req.json()
        names = {f.name for f in fields(Settings)}
        if not isinstance(body, dict) or set(body) - names:
            raise _bad(f"settings are: {', '.join(sorted(names))}")
        for k, v in body.items():
            setattr(world.settings, k, v)
        world.save_settings()
        return json_response(asdict(world.settings))

    @r.route("GET", "/_sandbox/ingested")
    def ingested(req: Req) -> Response:
        return json_response({"records": world.monitor.records(stream=req.q("stream"))})

    @r.route("POST", "/_sandbox/tenants")
    def add_tenants(req: Req) -> Response:
        """Create customer tenants: ``{"names": [...], "kind": "logs"|"m365"}``."""
        from .seed import CUSTOMER_KINDS

        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("names"), list):
            raise _bad('expected {"names": [...], "kind": "logs" | "m365"}')
        make = CUSTOMER_KINDS.get(body.get("kind", "logs"))
        if make is None:
            raise _bad(f"kind must be one of {', '.join(CUSTOMER_KINDS)}")
        created = []
        for name in body["names"]:
            if world.tenants.get(str(name)):
                raise _bad(f"tenant {name!r} exists")
            created.append(make(world, str(name))["id"])
        world.on_info_change()  # sandbox.json lists them at once (and `sandbox env --admin`)
        return json_response({"created": created}, 201)

    @r.route("POST", "/_sandbox/hosts")
    def add_host(req: Req) -> Response:
        """Create a host: ``{"kind", "name", "tenant"?, "resource_group"?,
        "system_assigned"?, "site"? (a slot's app)}``; kinds: see ``seed.HOST_KINDS``."""
        from .identity.responses import host_env
        from .seed import HOST_KINDS, add_host

        body = req.json()
        if not isinstance(body, dict) or not isinstance(body.get("name"), str):
            raise _bad(f'expected {{"kind": {" | ".join(HOST_KINDS)}, "name": ...}}')
        if world.arm.hosts() and any(h["name"] == body["name"] for h in world.arm.hosts()):
            raise _bad(f"host {body['name']!r} exists")
        try:
            host = add_host(
                world,
                str(body.get("tenant", "contoso")),
                str(body.get("kind")),
                body["name"],
                resource_group=body.get("resource_group"),
                system_assigned=bool(body.get("system_assigned", False)),
                site=body.get("site"),
            )
        except ValueError as e:
            raise _bad(str(e)) from None
        world.on_info_change()
        return json_response({**host, "env": host_env(world, host)}, 201)

    @r.route("POST", "/_sandbox/reset")
    def reset(req: Req) -> Response:
        from .seed import seed

        body = req.json() or {}
        world.reset()
        seed(world, body.get("seed", "demo") if isinstance(body, dict) else "demo")
        world.on_info_change()
        return empty()

    return r
