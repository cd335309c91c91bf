"""Which process runs a state's sandbox: ``sandbox.json`` records the pid of the process that
serves it, and only a foreground ``sandbox up`` is ever treated as one (a sandbox started inside
another process, a test run, records that process's pid and is left alone)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from pathlib import Path


def command_line(pid: int) -> list[str]:
    """The argv of a running process ([] when it is gone or cannot be read)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [a.decode(errors="replace") for a in raw.split(b"\0") if a]
    except OSError:
        ps = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True)
        return ps.stdout.decode(errors="replace").split()


def is_sandbox_up(pid: int) -> bool:
    """Whether ``pid`` is a live foreground ``sandbox up`` (``xtenant sandbox up`` or
    ``python -m provisioning.sandbox up``) other than this process."""
    argv = command_line(pid)
    pairs = itertools.pairwise(argv)
    return pid != os.getpid() and any(a.endswith("sandbox") and b == "up" for a, b in pairs)


def running_pid(state_dir: Path) -> int | None:
    """The pid of the ``sandbox up`` serving ``state_dir`` now, if one is."""
    try:
        pid = json.loads((state_dir / "sandbox.json").read_text()).get("pid")
    except (OSError, ValueError):
        return None
    return pid if isinstance(pid, int) and is_sandbox_up(pid) else None
