from __future__ import annotations

from provisioning.core.plan import (
    Action,
    Change,
    FieldChange,
    Plan,
    diff,
    render_markdown,
    render_text,
)


def _plan() -> Plan:
    return Plan(
        [
            Change("home.identity[umi-vector]", "user-assigned identity", Action.NOOP),
            Change(
                "home.app[logs]",
                "app registration",
                Action.UPDATE,
                [FieldChange("displayName", "Old", "Contoso Log Forwarder")],
            ),
            Change(
                "home.app[logs].fic[mi-umi-vector]",
                "federated credential",
                Action.CREATE,
                [FieldChange("subject", None, "0000-principal")],
                note="takes effect within minutes",
            ),
            Change(
                "home.app[logs].fic[stray]",
                "federated credential",
                Action.DELETE,
                [FieldChange("subject", "x", None)],
            ),
        ]
    )


def test_counts_and_summary() -> None:
    p = _plan()
    assert p.counts() == {"create": 1, "update": 1, "delete": 1, "no-op": 1}
    assert p.summary() == "Plan: 1 to create, 1 to update, 1 to delete (1 unchanged)."
    assert Plan([Change("a", "k", Action.NOOP)]).summary().startswith("No changes.")


def test_text_rendering_is_terraform_like() -> None:
    text = render_text(_plan())
    assert "  ~ home.app[logs]  (app registration: update)" in text
    assert "      displayName: Old -> Contoso Log Forwarder" in text
    assert "  + home.app[logs].fic[mi-umi-vector]" in text and "subject = 0000-principal" in text
    assert "  - home.app[logs].fic[stray]" in text
    assert "umi-vector" not in text.split("home.app")[0]  # no-ops hidden by default


def test_json_shape_is_stable() -> None:
    j = _plan().to_json()
    assert set(j) == {"schema_version", "summary", "has_changes", "changes", "notes"}
    assert j["changes"][1] == {
        "address": "home.app[logs]",
        "kind": "app registration",
        "action": "update",
        "fields": [{"field": "displayName", "before": "Old", "after": "Contoso Log Forwarder"}],
    }


def test_markdown_has_summary_table_and_diff() -> None:
    md = render_markdown(_plan())
    assert "| 1 | 1 | 1 | 1 |" in md
    assert "! home.app[logs]" in md and "+ home.app[logs].fic[mi-umi-vector]" in md


def test_diff_ignores_order_and_undeclared_keys() -> None:
    before = {"tags": {"a": "1"}, "redirectUris": ["b", "a"], "extra": 1}
    assert diff(before, {"redirectUris": ["a", "b"]}) == []
    assert diff(before, {"tags": {"a": "2"}}) == [FieldChange("tags", {"a": "1"}, {"a": "2"})]
