"""Shared fixtures. A sandbox is started in-process on free ports; tests talk to it
only over real sockets, through the same public knobs a user would set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """One demo-seeded sandbox per test session (tests must not depend on each other's
    objects: create uniquely-named ones, or use ``fresh_sandbox``)."""
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp_path_factory.mktemp("sandbox"), seed="demo")
    yield sb
    sb.stop()


@pytest.fixture()
def fresh_sandbox(tmp_path: Path) -> Iterator[object]:
    """A sandbox of the test's own, for tests that change settings or count requests."""
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp_path / "sandbox", seed="demo")
    yield sb
    sb.stop()


@pytest.fixture()
def sandbox_env(sandbox, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Point unmodified SDKs at the sandbox through environment variables only."""
    for k, v in sandbox.env().items():
        monkeypatch.setenv(k, v)
    return sandbox


REPO = Path(__file__).resolve().parent.parent
os.environ.setdefault("XTENANT_REPO", str(REPO))

# examples/sandbox.yaml takes the values Litware's admin sends (its DCE endpoint and DCR
# immutableId) from the environment; tests that do not run a sandbox get fixed ones.
# Sandbox tests overwrite them with the live values (tests/e2e_world.py).
os.environ.setdefault(
    "LITWARE_DCE_ENDPOINT", "https://dce-vector-a1b2.westus2-1.ingest.monitor.azure.com"
)
os.environ.setdefault("LITWARE_DCR_ID", "dcr-0123456789abcdef0123456789abcdef")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The recorded-traffic conformance suite's line (tests/sandbox/test_recorded_traffic.py)."""
    import json

    totals = {"matched": 0, "compared": 0, "accepted": 0}
    runs = 0
    for reports in terminalreporter.stats.values():
        for r in reports:
            if getattr(r, "when", None) != "call":
                continue
            for key, value in getattr(r, "user_properties", []):
                if key == "replay":
                    runs += 1
                    for k in totals:
                        totals[k] += json.loads(value)[k]
    if runs:
        terminalreporter.write_line(
            f"recorded traffic: {totals['matched']} interactions matched / {totals['compared']} "
            f"compared ({runs} recordings; {totals['accepted']} matched with an accepted "
            "difference, see tests/recorded.py ACCEPTED)"
        )
