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


def test_every_vendored_file_is_present_and_intact() -> None:
    files = json.loads((REF / "SOURCES.json").read_text())["files"]
    assert len(files) >= 70
    for f in files:
        assert {"local", "source_repo", "source_path", "commit", "sha256", "license"} <= set(f), f
        if f.get("stored_as") == "xz":
            data = lzma.decompress((REF / (f["local"] + ".xz")).read_bytes())
        else:
            data = (REF / f["local"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"], f["local"]


def test_every_reference_file_is_listed() -> None:
    listed = {
        f["local"] + (".xz" if f.get("stored_as") == "xz" else "")
        for f in json.loads((REF / "SOURCES.json").read_text())["files"]
    }
    on_disk = {
        p.relative_to(REF).as_posix()
        for p in REF.rglob("*")
        if p.is_file() and p.name not in ("SOURCES.json", "README.md", "refresh.py")
    }
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
