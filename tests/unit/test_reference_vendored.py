"""The reference excerpts under ``tests/reference`` are all there, byte for byte what their
manifest says, and no test looks for reference data outside the repository."""

from __future__ import annotations

import hashlib
import json
import lzma
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REF = TESTS / "reference"


MANIFESTS = sorted(REF.rglob("SOURCES.json"))  # one per folder of vendored material
NOT_DATA = ("SOURCES.json", "README.md", "refresh.py")


def _entries(manifest: Path) -> list[dict[str, object]]:
    return list(json.loads(manifest.read_text())["files"])


def test_every_vendored_file_is_present_and_intact() -> None:
    assert len(_entries(REF / "SOURCES.json")) >= 70
    for manifest in MANIFESTS:
        base = manifest.parent
        for f in _entries(manifest):
            keys = {"local", "source_repo", "source_path", "commit", "sha256", "license"}
            assert keys <= set(f), (manifest, f)
            local = str(f["local"])
            if f.get("stored_as") == "xz":
                data = lzma.decompress((base / (local + ".xz")).read_bytes())
            else:
                data = (base / local).read_bytes()
            assert hashlib.sha256(data).hexdigest() == f["sha256"], (manifest, local)


def test_every_reference_file_is_listed() -> None:
    """Every file under tests/reference is in the manifest of its folder (the nearest
    SOURCES.json above it), and every manifest entry exists."""
    listed = {
        (m.parent / (str(f["local"]) + (".xz" if f.get("stored_as") == "xz" else ""))).resolve()
        for m in MANIFESTS
        for f in _entries(m)
    }
    on_disk = {p.resolve() for p in REF.rglob("*") if p.is_file() and p.name not in NOT_DATA}
    assert on_disk == listed


def test_no_test_reads_reference_data_outside_the_repository() -> None:
    pattern = re.compile(r"shared[\"'/ ,)]+[\"']?reference|XTENANT_REFERENCE|/work/shared")
    here = Path(__file__).resolve()
    offenders = [
        str(p.relative_to(TESTS))
        for p in TESTS.rglob("*.py")
        if p != here and p.parent != REF and pattern.search(p.read_text(encoding="utf-8"))
    ]
    assert offenders == []
