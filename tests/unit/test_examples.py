"""The two demo configurations describe one world: inline customers and a customer folder."""

from __future__ import annotations

from pathlib import Path

from provisioning.config import load_config

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_sandbox_dir_config_equals_the_inline_one() -> None:
    inline = load_config(EXAMPLES / "sandbox.yaml").config
    folder = load_config(EXAMPLES / "sandbox-dir.yaml").config
    assert folder.home == inline.home
    assert sorted(folder.customers, key=lambda c: c.name) == sorted(
        inline.customers, key=lambda c: c.name
    )
    assert folder.customers_dir == "sandbox-customers" and inline.customers_dir is None
