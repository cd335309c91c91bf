"""``home/service_principal.py``: the app's own service principal in the home tenant."""

from __future__ import annotations

from task_world import APP_ID, context, demo_config, fields, shape

from provisioning.config import Config
from provisioning.core.engine import UNKNOWN
from provisioning.home.service_principal import HomeServicePrincipalTask
from provisioning.state import AppState, ServicePrincipalState

config = demo_config()  # examples/sandbox.yaml, as the demo runs it

ADDR = "home.app[logs].service_principal"


def _app_seen(config: Config):  # type: ignore[no-untyped-def]
    ctx = context(config)
    ctx.seen.apps["logs"] = AppState("obj", APP_ID, "u", "n", None, (), (), ())
    return ctx


def test_before_the_app_exists_its_app_id_is_known_after_apply() -> None:
    (change,) = HomeServicePrincipalTask(config.app("logs")).changes(context(config))
    assert shape([change]) == [(ADDR, "create")]
    assert fields(change) == [("appId", None, UNKNOWN)]


def test_missing_is_created_for_the_app() -> None:
    (change,) = HomeServicePrincipalTask(config.app("logs")).changes(_app_seen(config))
    assert fields(change) == [("appId", None, APP_ID)]


def test_present_needs_nothing() -> None:
    task = HomeServicePrincipalTask(config.app("logs"))
    task.observed = ServicePrincipalState("sp", APP_ID, "Contoso Log Forwarder")
    assert shape(task.changes(_app_seen(config))) == [(ADDR, "no-op")]
