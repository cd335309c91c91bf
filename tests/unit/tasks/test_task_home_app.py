"""``home/app.py``: the app registration, from what Graph says of it."""

from __future__ import annotations

import tempfile
from pathlib import Path

from task_world import (
    APP_ID,
    M365_APP_ID,
    context,
    fields,
    shape,
    tenant_wide_demo_config,
)

from provisioning.config import Config
from provisioning.core.catalog import GRAPH_APP_ID
from provisioning.core.catalog import graph as graph_catalog
from provisioning.home.app import MANAGED_TAG, MULTI_TENANT, AppTask
from provisioning.state import AppState, ResourceAccess

config = tenant_wide_demo_config(Path(tempfile.mkdtemp()))  # Sites.Read.All, no site grants

OBJECT_ID = "0a1b2c3d-0000-4000-8000-0000000e0001"


def _state(**kw: object) -> AppState:
    base: dict[str, object] = {
        "object_id": OBJECT_ID,
        "app_id": APP_ID,
        "unique_name": "contoso-log-forwarder",
        "display_name": "Contoso Log Forwarder",
        "sign_in_audience": MULTI_TENANT,
        "redirect_uris": ("https://contoso.example/onboarded",),
        "required_resource_access": (),
        "tags": (MANAGED_TAG,),
        **kw,
    }
    return AppState(**base)  # type: ignore[arg-type]


def _task(config: Config, key: str = "logs", state: AppState | None = None) -> AppTask:
    task = AppTask(config.app(key))
    task.observed = state
    return task


def test_absent_is_created_by_its_unique_name() -> None:
    (change,) = _task(config).changes(context(config))
    assert shape([change]) == [("home.app[logs]", "create")]
    got = dict((f, after) for f, _before, after in fields(change))
    assert got["uniqueName"] == "contoso-log-forwarder"
    assert got["signInAudience"] == MULTI_TENANT
    assert got["web.redirectUris"] == ["https://contoso.example/onboarded"]
    assert got["tags"] == [MANAGED_TAG]


def test_matching_app_needs_nothing_and_foreign_tags_are_left() -> None:
    state = _state(tags=("HideApp", MANAGED_TAG))
    assert shape(_task(config, state=state).changes(context(config))) == [
        ("home.app[logs]", "no-op")
    ]


def test_a_renamed_app_is_renamed_back() -> None:
    (change,) = _task(config, state=_state(display_name="Renamed")).changes(context(config))
    assert change.action.value == "update"
    assert fields(change) == [("displayName", "Renamed", "Contoso Log Forwarder")]


def test_a_missing_tag_is_added_beside_the_others() -> None:
    (change,) = _task(config, state=_state(tags=("HideApp",))).changes(context(config))
    assert fields(change) == [("tags", ["HideApp"], sorted(["HideApp", MANAGED_TAG]))]


def test_an_adopted_app_gets_its_unique_name_first() -> None:
    (change,) = _task(config, state=_state(unique_name=None)).changes(context(config))
    assert change.action.value == "update"
    assert fields(change)[0] == ("uniqueName", None, "contoso-log-forwarder")
    assert change.note == "adopting an existing app (adopt_app_id)"


def test_graph_permissions_are_requested_by_id() -> None:
    sites = graph_catalog.lookup("Sites.Read.All")
    assert sites is not None
    asked = ResourceAccess(GRAPH_APP_ID, ((sites.id, "Role"),))
    state = _state(
        app_id=M365_APP_ID,
        unique_name="contoso-m365-manager",
        display_name="Contoso M365 Manager",
        required_resource_access=(asked,),
    )
    assert [c.action.value for c in _task(config, "m365", state).changes(context(config))] == [
        "no-op"
    ]
    (change,) = _task(
        config,
        "m365",
        _state(
            app_id=M365_APP_ID,
            unique_name="contoso-m365-manager",
            display_name="Contoso M365 Manager",
        ),
    ).changes(context(config))
    assert fields(change) == [
        (
            "requiredResourceAccess",
            [],
            [{"resourceAppId": GRAPH_APP_ID, "resourceAccess": [{"id": sites.id, "type": "Role"}]}],
        )
    ]


def test_verified_names_the_app_and_object_ids() -> None:
    note = _task(config, state=_state()).verified(context(config))
    assert note == f"home.app[logs]: appId {APP_ID} (objectId {OBJECT_ID})"
