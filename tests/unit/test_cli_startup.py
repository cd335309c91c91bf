"""The CLI must start fast: `--help` and `validate` may not import the Azure SDKs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEAVY = (
    "azure.identity",
    "msal",
    "azure.mgmt",
    "msgraph",
    "kiota_abstractions",
    "httpx",
    "azure.core",
    "uvicorn",
    "starlette",
)

PROBE = """
import sys, json
sys.argv = {argv!r}
try:
    from provisioning.cli import main
    main()
except SystemExit:
    pass
mods = sorted(m for m in sys.modules if m.split('.')[0] in {roots!r} or m.startswith({prefixes!r}))
sys.stderr.write('\\nMODULES=' + json.dumps(mods) + '\\n')
"""


def _imported(argv: list[str]) -> list[str]:
    roots = sorted({h.split(".")[0] for h in HEAVY if "." not in h})
    prefixes = tuple(h for h in HEAVY if "." in h)
    code = PROBE.format(argv=["xtenant", *argv], roots=roots, prefixes=prefixes)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("MODULES=")]
    assert line, proc.stderr
    return json.loads(line[-1][len("MODULES=") :])


def test_help_imports_no_sdk() -> None:
    assert _imported(["--help"]) == []


def test_validate_imports_no_sdk() -> None:
    assert _imported(["validate", "-c", str(REPO / "examples" / "xtenant.yaml")]) == []


def test_schema_imports_no_sdk() -> None:
    assert _imported(["schema"]) == []


def test_probe_detects_heavy_imports() -> None:
    """The probe itself must be able to fail: importing azure.identity is seen."""
    roots = ["azure", "msgraph"]
    code = "import sys, json; import azure.identity; print(json.dumps(sorted(m for m in sys.modules if m.startswith('azure.identity'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert "azure.identity" in out.stdout, roots
