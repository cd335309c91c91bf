"""The routing tables as data: every row can be reached (no earlier, broader row hides it), and
the first matching path decides between a handler, a 405 and a 404."""

from __future__ import annotations

import re

import pytest

from provisioning.sandbox.app import build_services
from provisioning.sandbox.graph.responses.api import GraphApi
from provisioning.sandbox.graph.routing import parse_path
from provisioning.sandbox.graph.urls import table as graph_table
from provisioning.sandbox.http import Router
from provisioning.sandbox.world import World

SAMPLE = {"": "x1", "path": "p1/p2", "any": ""}


def _sample(pattern: str) -> str:
    """A path the pattern matches: each ``{name[:converter]}`` filled in."""
    return re.sub(r"\{\w+(?::(\w+))?\}", lambda m: SAMPLE[m.group(1) or ""], pattern)


@pytest.fixture(scope="module")
def world() -> World:
    return World(None)


@pytest.mark.parametrize("service", ["entra", "arm", "graph", "identity", "monitor"])
def test_every_route_is_reachable(world: World, service: str) -> None:
    router = build_services(world)[service].router
    for route in router.routes:
        path = _sample(route.pattern)
        for method, handler in route.handlers.items():
            found, _params, known = router.match(method, path)
            assert known and found is handler, f"{service}: {method} {route.pattern} is hidden"


def test_every_graph_route_is_reachable(world: World) -> None:
    routes = graph_table(world, GraphApi(world))
    for route in routes:
        segs = parse_path(_sample(route.path))
        first = next(r for r in routes if r.bind(segs)[0] is not None and r.method == route.method)
        assert first is route, f"graph: {route.method} {route.path} is hidden by {first.path}"


def test_first_matching_path_decides() -> None:
    def h(_req: object) -> None: ...

    def broad(_req: object) -> None: ...

    r = Router(case_insensitive=True)
    r.add("GET", "/items/{id}", h)
    r.add("GET|PUT", "/{rest:path}", broad)
    assert r.match("GET", "/ITEMS/7/") == (h, {"id": "7"}, True)
    assert r.match("HEAD", "/items/7") == (h, {"id": "7"}, True)  # HEAD is served as GET
    assert r.match("PUT", "/items/7") == (None, {"id": "7"}, True)  # a 405, not the broad row
    assert r.match("PUT", "/other") == (broad, {"rest": "other"}, True)
    assert r.match("GET", "") == (None, {}, False)  # a 404
