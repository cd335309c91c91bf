"""The sandbox's state folder holds its token-signing key and its admins' secrets: the folder
is created 0700 and every file holding a key or a secret is 0600 (issue 12)."""

from __future__ import annotations

import stat
from pathlib import Path

from provisioning.sandbox import Sandbox


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_state_folder_and_secrets_are_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    sb = Sandbox.start(state, seed="demo")
    try:
        assert _mode(state) == 0o700
        secrets = [state / "state.sqlite", state / "sandbox.json", state / "tls" / "server-key.pem"]
        secrets += [f for f in state.glob("state.sqlite-*")]  # WAL and shared memory
        for f in secrets:
            assert _mode(f) == 0o600, f
        assert _mode(state / "tls") == 0o700
        assert "client_secret" in (state / "sandbox.json").read_text()  # why it is private
    finally:
        sb.stop()


def test_older_state_is_tightened_on_start(tmp_path: Path) -> None:
    state = tmp_path / "old"
    Sandbox.start(state, seed="empty").stop()
    (state / "state.sqlite").chmod(0o644)
    sb = Sandbox.start(state, seed="empty")
    try:
        assert _mode(state / "state.sqlite") == 0o600
        assert _mode(state / "sandbox.json") == 0o600
    finally:
        sb.stop()
