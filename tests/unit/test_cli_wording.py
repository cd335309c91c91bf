"""What the command line says at the end of a run, and the JSON it prints: plurals agree,
a failed read is never "No changes.", an apply ends in one sentence (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

from provisioning.cli.report import render_table
from provisioning.core.engine import Outcome, TaskFailure
from provisioning.core.plan import Action, Change, Plan, plural
from provisioning.kit.lookup import kit_app_ids
from provisioning.reconcile import REPORT_SCHEMA_VERSION, CustomerStatus, Report


def _plan(*actions: Action) -> Plan:
    return Plan([Change(f"obj[{i}]", "thing", a) for i, a in enumerate(actions)])


def test_plural() -> None:
    assert [plural(n, "object") for n in (0, 1, 2)] == ["0 objects", "1 object", "2 objects"]
    assert plural(1, "identity", "identities") == "1 identity"
    assert plural(3, "identity", "identities") == "3 identities"


def test_no_changes_agrees_in_number() -> None:
    assert _plan(Action.NOOP).summary() == "No changes. 1 object matches the configuration."
    assert _plan(Action.NOOP, Action.NOOP).summary() == (
        "No changes. 2 objects match the configuration."
    )


def test_a_failed_read_is_not_no_changes() -> None:
    failed = Outcome(plan=_plan(), failures=[TaskFailure("customer.sp", "403 Forbidden")])
    assert not failed.summary().startswith("No changes")
    assert failed.summary() == "Plan incomplete: 1 error; what could be read needs no change."
    partly = Outcome(
        plan=_plan(Action.CREATE, Action.NOOP),
        failures=[TaskFailure("a", "x"), TaskFailure("b", "y")],
    )
    assert partly.summary() == (
        "Plan incomplete: 2 errors; what could be read: 1 to create, 0 to update, 0 to delete."
    )
    assert Outcome(plan=_plan(Action.NOOP)).summary() == _plan(Action.NOOP).summary()


def test_apply_complete_is_one_sentence() -> None:
    done = Outcome(
        plan=_plan(*[Action.NOOP] * 9),
        applied=[Change(f"c[{i}]", "thing", Action.CREATE) for i in range(8)],
    )
    text = done.applied_summary()
    assert text == "Apply complete: 8 changes made; 9 objects match the configuration."
    assert text.count(".") == 1 and "No changes" not in text
    one = Outcome(plan=_plan(Action.NOOP), applied=[Change("c", "thing", Action.UPDATE)])
    assert one.applied_summary() == (
        "Apply complete: 1 change made; 1 object matches the configuration."
    )


def test_outcome_json_shapes() -> None:
    out = Outcome(
        plan=_plan(Action.CREATE),
        failures=[TaskFailure("home.app[logs]", "403")],
        applied=[Change("home.identity[x]", "identity", Action.CREATE)],
        verified=["home.identity[x]: principal 1234"],
    )
    assert out.to_json() == {
        "applied": [{"address": "home.identity[x]", "kind": "identity", "action": "create"}],
        "verified": ["home.identity[x]: principal 1234"],
        "errors": [{"address": "home.app[logs]", "message": "403"}],
        "plan": out.plan.to_json(),
    }
    assert out.plan_json() == {
        **out.plan.to_json(),
        "errors": [{"address": "home.app[logs]", "message": "403"}],
    }


def _row(name: str, kit: str) -> CustomerStatus:
    row = CustomerStatus(name=name, tenant=f"{name}.example", app="logs", side="customer", kit=kit)
    row.next = row.decide_next()
    return row


def test_status_summary_agrees_in_number() -> None:
    def last_line(*rows: CustomerStatus) -> str:
        report = Report(REPORT_SCHEMA_VERSION, None, True, None, list(rows), [], [])
        return render_table(report).splitlines()[-1]

    assert last_line(_row("a", "missing")) == "1 customer, 0 offboarded, 1 kit to send"
    assert (
        last_line(_row("a", "missing"), _row("b", "outdated"))
        == "2 customers, 0 offboarded, 2 kits to send"
    )


def test_kit_app_ids_read_rendered_kits(tmp_path: Path) -> None:
    for name, key, app_id in (("a", "logs", "id-1"), ("b", "m365", "id-2"), ("c", "logs", "id-3")):
        (tmp_path / name).mkdir()
        kit = {"home": {"app": {"key": key, "app_id": app_id}}}
        (tmp_path / name / "kit.json").write_text(json.dumps(kit))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "kit.json").write_text("{not json")
    assert kit_app_ids(tmp_path) == {"logs": "id-1", "m365": "id-2"}
    assert kit_app_ids(tmp_path / "absent") == {}
