"""``customer/service_principal.py``: our service principal, what admin consent creates."""

from __future__ import annotations

from task_world import APP_ID, HOME_TENANT, SP_ID, context, demo_config, fields, kit_for, shape

from provisioning.config import Config
from provisioning.customer.service_principal import CustomerSpTask
from provisioning.state import ServicePrincipalState

config = demo_config()  # examples/sandbox.yaml, as the demo runs it

ADDR = "customer[litware].service_principal"
SP = ServicePrincipalState(SP_ID, APP_ID, "Contoso Log Forwarder")


def _task(config: Config, sp: ServicePrincipalState | None, **kw: bool) -> CustomerSpTask:
    task = CustomerSpTask(kit_for(config, "litware"), **kw)
    task.observed = sp
    return task


def test_missing_is_what_consent_creates() -> None:
    (change,) = _task(config, None).changes(context())
    assert shape([change]) == [(ADDR, "create")]
    assert fields(change) == [
        ("appId", None, APP_ID),
        ("displayName", None, "Contoso Log Forwarder"),
        ("publisher tenant", None, HOME_TENANT),
    ]
    assert change.note == "this is what admin consent creates"


def test_present_needs_nothing() -> None:
    assert shape(_task(config, SP).changes(context())) == [(ADDR, "no-op")]


def test_remove_deletes_the_enterprise_app() -> None:
    (change,) = _task(config, SP, remove=True).changes(context())
    assert shape([change]) == [(ADDR, "delete")]
    assert fields(change) == [
        ("appId", APP_ID, None),
        ("displayName", "Contoso Log Forwarder", None),
    ]


def test_remove_of_what_is_not_there_needs_nothing() -> None:
    assert shape(_task(config, None, remove=True).changes(context())) == [(ADDR, "no-op")]


def test_removed_last_created_first() -> None:
    assert _task(config, None).stage == 0
    assert _task(config, None, remove=True).stage == 1
