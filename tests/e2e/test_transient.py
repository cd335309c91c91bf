"""Transient answers the SDKs leave to their callers (issue 12): Graph 500/502 on a read,
a burst of Graph 502s, a throttling storm on the token endpoint. First runs succeed: the
retries are the SDKs' own (msgraph's RetryHandler, azure-core's and azure-identity's
RetryPolicy), configured in ``core/clients.py``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from e2e_world import Home

pytestmark = pytest.mark.e2e


@pytest.fixture()
def home(fresh_sandbox: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Home:
    return Home(fresh_sandbox, tmp_path, monkeypatch)


def _graph(home: Home, mark: int) -> list[dict[str, Any]]:
    return [e for e in home.sb.requests(mark) if e["service"] == "graph"]


@pytest.mark.parametrize("status", [500, 502])
def test_a_single_graph_5xx_on_a_read_is_retried(home: Home, status: int) -> None:
    mark = home.sb.mark()
    home.sb.fault("error", service="graph", method="GET", status=status, count=1)
    out = home.plan()
    assert out.ok, out.failures
    log = _graph(home, mark)
    hit = next(i for i, e in enumerate(log) if e["status"] == status)
    retried = [e for e in log[hit + 1 :] if e["path"] == log[hit]["path"]]
    assert retried and retried[0]["status"] in (200, 404), log  # the same read, asked again


def test_five_graph_502s_in_a_row_then_a_first_apply_succeeds(home: Home) -> None:
    mark = home.sb.mark()
    home.sb.fault("error", service="graph", method="GET", status=502, count=5)
    out = home.apply()
    assert out.ok, out.failures
    assert sum(1 for e in _graph(home, mark) if e["status"] == 502) == 5
    home.sb.clear_faults()
    assert not home.plan().plan.has_changes


def test_a_graph_write_is_not_retried_on_500(home: Home) -> None:
    """A POST answered 500 may have been committed: it is not sent again by the retry
    handler (the engine observes again instead)."""
    mark = home.sb.mark()
    home.sb.fault("error", service="graph", method="POST", status=500, count=1)
    home.apply()
    posts = [e for e in _graph(home, mark) if e["method"] == "POST"]
    failed = next(i for i, e in enumerate(posts) if e["status"] == 500)
    again = [e for e in posts[failed + 1 :] if e["path"] == posts[failed]["path"]]
    retried_at_once = again and again[0]["seq"] == posts[failed]["seq"] + 1
    assert not retried_at_once, posts


def test_token_endpoint_throttling_storm(home: Home) -> None:
    """Five 429s in a row on the token endpoint, then 30 % of token requests throttled for
    the whole of a first apply and a plan: both succeed."""
    token = "oauth2/v2.0/token"
    home.sb.fault("throttle", service="entra", path=token, count=5, retry_after=1)
    home.sb.fault("throttle", service="entra", path=token, probability=0.3, retry_after=1)
    mark = home.sb.mark()
    out = home.apply()
    assert out.ok, out.failures
    assert home.plan().ok
    throttled = [e for e in home.sb.requests(mark) if e["status"] == 429]
    assert len(throttled) >= 5
    assert all(token in e["path"] for e in throttled)
