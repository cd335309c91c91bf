"""The documented propagation delays and the lines built from them."""

from __future__ import annotations

from provisioning.chain.verify.propagation import (
    FIC,
    MONITOR_DATA,
    RBAC,
    Evidence,
    after_apply,
    human,
)
from provisioning.core.plan import Action, Change, FieldChange

DCR = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Insights/dataCollectionRules/d"


def test_documented_delays() -> None:
    assert (RBAC.seconds, MONITOR_DATA.seconds) == (600, 1800)
    assert FIC.seconds <= 600
    assert MONITOR_DATA.expected == "expected within 30 min"
    assert [human(s) for s in (5, 119, 120, 3600, 7200)] == [
        "5 s",
        "119 s",
        "2 min",
        "60 min",
        "2 h",
    ]


def test_evidence_tells_propagating_from_missing() -> None:
    assert Evidence(listed=True).propagating(MONITOR_DATA)
    assert Evidence(listed=True, age=60).propagating(MONITOR_DATA)
    assert not Evidence(listed=True, age=3600).propagating(MONITOR_DATA)  # too old: not that
    assert not Evidence(listed=False).propagating(MONITOR_DATA)  # no such grant
    text = Evidence(listed=True, age=42).describe(MONITOR_DATA, "Monitoring Metrics Publisher")
    assert "propagating, expected within 30 min (granted 42 s ago;" in text


def _grant(role: str, scope: str, action: Action = Action.CREATE) -> Change:
    return Change(
        f"customer.x.role[{role}]",
        "role assignment",
        action,
        [FieldChange("role", None, f"{role} (id)"), FieldChange("scope", None, scope)],
    )


def test_after_apply_says_what_is_still_propagating_and_how_long() -> None:
    lines = after_apply(
        [
            _grant("Monitoring Metrics Publisher", DCR),
            _grant("Reader", "/subscriptions/s"),
            Change("home.app[a].fic[f]", "federated credential", Action.CREATE, []),
            _grant("Reader", "/subscriptions/s", Action.DELETE),
        ]
    )
    assert lines[0].startswith("still propagating")
    assert "Monitoring Metrics Publisher]: expected within 30 min" in lines[1]
    assert "Reader]: expected within 10 min" in lines[2]
    assert "fic[f]: expected within 5 min" in lines[3]
    assert lines[-1] == "`xtenant verify --probe --wait 30m` waits for them"
    assert len(lines) == 5
    assert after_apply([_grant("Reader", "/subscriptions/s", Action.NOOP)]) == []
