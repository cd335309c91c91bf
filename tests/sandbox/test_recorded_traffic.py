"""Recorded real Azure traffic, replayed on the sandbox (``tests/recorded.py``; the recordings
and their sources are in ``tests/recordings``). Each recording runs on a fresh sandbox; its
outcome (interactions matched / compared) is reported by ``conftest.py`` at the end of the run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from recorded import ACCEPTED, Replay, recordings


@pytest.fixture()
def replay(tmp_path: Path) -> Iterator[Replay]:
    from provisioning.sandbox import Sandbox

    sb = Sandbox.start(tmp_path / "sandbox", seed="demo")
    r = Replay(sb)
    yield r
    r.close()
    sb.stop()


def test_there_are_recordings_of_every_kind() -> None:
    names = recordings()
    assert len(names) >= 8
    kinds = " ".join(names)
    for kind in ("identity", "federated", "service_principal", "rbac", "vm"):
        assert kind in kinds


@pytest.mark.parametrize("name", recordings())
def test_replay(replay: Replay, name: str, record_property: Any) -> None:
    out = replay.run(name)
    summary = {"matched": out.matched, "compared": out.compared, "accepted": len(out.accepted)}
    record_property("replay", json.dumps({"name": name, **summary}))
    assert out.compared > 0
    assert out.differences == {}, json.dumps(out.differences, indent=1)
    seen = {(i, d) for i, ds in out.accepted.items() for d in ds}
    stale = [
        k
        for k in ACCEPTED
        if k[0] == name and not any(d == k[2] and k[1] in (None, i) for i, d in seen)
    ]
    assert stale == [], f"accepted differences that no longer occur: {stale}"
