"""The vendored host references are what SOURCES.json says they are, and what xtenant
quotes from Microsoft is in them word for word."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from provisioning.config.check import SYSTEM_ASSIGNED_DOC, SYSTEM_ASSIGNED_NOTE
from provisioning.core.hosts import HOST_KINDS

REF = Path(__file__).resolve().parents[1] / "reference" / "hosts"


def test_every_vendored_file_matches_its_manifest() -> None:
    files = json.loads((REF / "SOURCES.json").read_text())["files"]
    listed = {f["local"] for f in files}
    on_disk = {
        str(p.relative_to(REF))
        for p in REF.rglob("*")
        if p.is_file() and p.name not in ("SOURCES.json", "README.md")
    }
    assert listed == on_disk
    for f in files:
        data = (REF / f["local"]).read_bytes()
        assert len(data) == f["bytes"] and hashlib.sha256(data).hexdigest() == f["sha256"], f


def test_the_quoted_sentence_is_microsofts() -> None:
    page = (
        REF / "docs" / "workload-identity-federation-config-app-trust-managed-identity.md"
    ).read_text()
    quote = SYSTEM_ASSIGNED_NOTE.split('"')[1]
    assert quote in page
    assert SYSTEM_ASSIGNED_DOC.endswith(
        "workload-identity-federation-config-app-trust-managed-identity"
    )


def test_registry_api_versions_are_the_vendored_specs() -> None:
    vendored = {p.parent.name + "/" + p.name for p in REF.glob("*/*")}
    for kind in HOST_KINDS.values():
        provider = kind.full_type.split("/")[0]
        if provider in ("Microsoft.Web", "Microsoft.App", "Microsoft.HybridCompute"):
            assert f"{provider}/{kind.api_version}" in vendored, kind
