"""``home/revoke.py``: the emergency stop deletes every federated credential of the app."""

from __future__ import annotations

from task_world import context, demo_config, fields, shape

from provisioning.home.revoke import RevokeTask
from provisioning.state import Fic

config = demo_config()  # examples/sandbox.yaml, as the demo runs it


def test_no_credentials_nothing_to_revoke() -> None:
    task = RevokeTask(config.app("logs"))
    task._fics.observed = []
    (change,) = task.changes(context(config))
    assert shape([change]) == [("home.app[logs].fics", "no-op")]
    assert change.note == "no federated credentials: nothing can exchange"


def test_every_credential_goes_managed_or_not() -> None:
    task = RevokeTask(config.app("logs"))
    task._fics.observed = [
        Fic("mi-umi-vector", "https://iss", "principal", ("aud",), "f1"),
        Fic("hand-made", "https://iss", "other", ("aud",), "f2"),
    ]
    changes = task.changes(context(config))
    assert shape(changes) == [
        ("home.app[logs].fic[mi-umi-vector]", "delete"),
        ("home.app[logs].fic[hand-made]", "delete"),
    ]
    assert fields(changes[0]) == [
        ("issuer", "https://iss", None),
        ("subject", "principal", None),
        ("audiences", ["aud"], None),
    ]
