"""Refresh the reference excerpts vendored here from a full reference copy.

    python tests/reference/refresh.py /path/to/reference [LOCAL_PATH ...]

Copies every file listed in ``SOURCES.json`` (plus any ``LOCAL_PATH`` named, e.g.
``graph/v1.0/api/site-get.md``) from the reference directory, whose own ``SOURCES.json`` says
where each file came from (repository, commit, path, licence, sha256). Files listed with
``"stored_as": "xz"`` are kept xz-compressed (the 3.5 MB Graph CSDL); ``sha256`` is always of
the original bytes, which ``tests/unit/test_reference_vendored.py`` checks. Not a test: the
tests read only what is vendored here.
"""

from __future__ import annotations

import hashlib
import json
import lzma
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMPRESS = {"graph/v1.0/cleanMetadata.xml"}  # large files kept as .xz


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    src = Path(argv[0])
    upstream = {f["local"]: f for f in json.loads((src / "SOURCES.json").read_text())["files"]}
    manifest = HERE / "SOURCES.json"
    current = json.loads(manifest.read_text())["files"] if manifest.exists() else []
    wanted = [f["local"] for f in current] + argv[1:]
    files = []
    for local in dict.fromkeys(wanted):
        entry = upstream.get(local)
        if entry is None:
            print(f"{local}: not in {src / 'SOURCES.json'}", file=sys.stderr)
            return 1
        data = (src / local).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            print(f"{local}: sha256 differs from its manifest", file=sys.stderr)
            return 1
        keep = {
            k: entry[k]
            for k in ("local", "source_repo", "source_path", "commit", "sha256", "license", "kind")
            if k in entry
        }
        if local in COMPRESS:
            keep["stored_as"] = "xz"
            target = HERE / (local + ".xz")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(lzma.compress(data, preset=9))
        else:
            target = HERE / local
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        files.append(keep)
    manifest.write_text(
        json.dumps(
            {
                "description": "Where each vendored reference file came from (paths relative "
                "to tests/reference). sha256 is of the original bytes; 'stored_as': 'xz' files "
                "are kept compressed. Refreshed with tests/reference/refresh.py.",
                "files": sorted(files, key=lambda f: f["local"]),
            },
            indent=1,
        )
        + "\n"
    )
    print(f"{len(files)} files vendored under {HERE}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
