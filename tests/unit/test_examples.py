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


def test_the_hosts_example_warns_only_of_its_system_assigned_identity() -> None:
    loaded = load_config(EXAMPLES / "sandbox-hosts.yaml")
    assert [(w.path, w.code) for w in loaded.warnings] == [
        ("home.identities[1].system_assigned_of", "system-assigned-trust")
    ]
    ident = loaded.config.identity("aa-runbooks-system")
    assert ident.system_assigned and ident.host_ids[0].name == "aa-runbooks"
