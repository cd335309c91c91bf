"""``home/fic.py``: one federated credential per trusted identity, from the app's list."""

from __future__ import annotations

import pytest
from task_world import APP_ID, HOME_TENANT, VECTOR_PRINCIPAL, context, demo_config, fields, shape

from provisioning.config import Config
from provisioning.core import clouds
from provisioning.core.engine import UNKNOWN, Context
from provisioning.core.errors import TaskError
from provisioning.home.fic import MAX_FICS, FicsTask
from provisioning.state import AppState, Fic, IdentityState

config = demo_config()  # examples/sandbox.yaml, as the demo runs it

ISSUER = clouds.PUBLIC.fic_issuer(HOME_TENANT)
AUD = (clouds.PUBLIC.exchange_audience,)
ADDR = "home.app[logs].fic[mi-umi-vector]"


def _seen(config: Config, *, prune: bool = False) -> Context:
    ctx = context(config, prune=prune)
    ctx.seen.identities["umi-vector"] = IdentityState(
        "umi-vector", "/subscriptions/x/umi-vector", "client", VECTOR_PRINCIPAL, "westus2"
    )
    ctx.seen.apps["logs"] = AppState(
        "obj", APP_ID, "contoso-log-forwarder", "Contoso Log Forwarder", None, (), (), ()
    )
    return ctx


def _task(config: Config, fics: list[Fic] | None) -> FicsTask:
    task = FicsTask(config.app("logs"))
    task.observed = fics
    return task


def test_before_the_identity_exists_its_principal_is_known_after_apply() -> None:
    (change,) = _task(config, None).changes(context(config))
    assert shape([change]) == [(ADDR, "create")]
    assert fields(change) == [
        ("issuer", None, ISSUER),
        ("subject", None, UNKNOWN),
        ("audiences", None, list(AUD)),
    ]


def test_the_credential_trusts_the_principal_id() -> None:
    (change,) = _task(config, []).changes(_seen(config))
    assert change.action.value == "create"
    assert ("subject", None, VECTOR_PRINCIPAL) in fields(change)


def test_a_matching_credential_needs_nothing() -> None:
    fic = Fic("mi-umi-vector", ISSUER, VECTOR_PRINCIPAL, AUD, "f1")
    assert shape(_task(config, [fic]).changes(_seen(config))) == [(ADDR, "no-op")]


def test_a_subject_set_to_the_client_id_is_set_back() -> None:
    fic = Fic("mi-umi-vector", ISSUER, "client", AUD, "f1")
    (change,) = _task(config, [fic]).changes(_seen(config))
    assert change.action.value == "update"
    assert fields(change) == [("subject", "client", VECTOR_PRINCIPAL)]


def test_unmanaged_credentials_are_kept_and_named() -> None:
    mine = Fic("mi-umi-vector", ISSUER, VECTOR_PRINCIPAL, AUD, "f1")
    other = Fic("github-main", "https://token.actions.githubusercontent.com", "repo:x", AUD, "f2")
    changes = _task(config, [mine, other]).changes(_seen(config))
    assert shape(changes) == [(ADDR, "no-op"), ("home.app[logs].fics", "no-op")]
    assert changes[1].note is not None and "github-main" in changes[1].note


def test_with_prune_unmanaged_credentials_are_deleted() -> None:
    mine = Fic("mi-umi-vector", ISSUER, VECTOR_PRINCIPAL, AUD, "f1")
    other = Fic("github-main", "https://token.actions.githubusercontent.com", "repo:x", AUD, "f2")
    changes = _task(config, [mine, other]).changes(_seen(config, prune=True))
    assert shape(changes) == [("home.app[logs].fic[github-main]", "delete"), (ADDR, "no-op")]


def test_an_unmanaged_credential_with_the_same_trust_is_refused() -> None:
    clash = Fic("hand-made", ISSUER, VECTOR_PRINCIPAL, AUD, "f2")
    with pytest.raises(TaskError) as e:
        _task(config, [clash]).changes(_seen(config))
    assert "one credential per issuer+subject" in e.value.message


def test_with_prune_the_clashing_one_is_replaced() -> None:
    clash = Fic("hand-made", ISSUER, VECTOR_PRINCIPAL, AUD, "f2")
    changes = _task(config, [clash]).changes(_seen(config, prune=True))
    assert shape(changes) == [("home.app[logs].fic[hand-made]", "delete"), (ADDR, "create")]


def test_more_than_entra_allows_is_refused() -> None:
    others = [Fic(f"other-{i}", "https://issuer.example", f"s{i}", AUD, f"o{i}") for i in range(20)]
    with pytest.raises(TaskError) as e:
        _task(config, others).changes(_seen(config))
    assert f"Entra allows {MAX_FICS} per app" in e.value.message
