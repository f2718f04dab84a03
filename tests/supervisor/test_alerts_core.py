"""Alerts in ``console.core.dashboard``: order across kinds, per-kind caps, merged chats,
unanswered assigned chats, department alerts and per-department limits (fixed clock)."""

from __future__ import annotations

from console.core.dashboard import (
    AlertKind,
    Dashboard,
    Thresholds,
    arrange_alerts,
)
from console.protocol import models as m
from tests.supervisor.test_dashboard_core import NOW, conv


def _agents(*rows: tuple[str, str, int, int, list[str]]) -> m.AgentsView:
    return m.AgentsView(
        items=[
            m.AgentStats(
                agent_id=aid,
                name=aid.title(),
                status=status,  # type: ignore[arg-type]
                accepting=True,
                load=0,
                capacity=cap,
                department_ids=deps,
            )
            for aid, status, cap, _load, deps in rows
        ]
    )


def test_a_flood_of_long_waits_never_hides_the_one_over_capacity() -> None:
    dash = Dashboard(Thresholds(long_wait_seconds=60))
    waiting = [conv(f"q{i}", queued_ago=100 + 10 * i) for i in range(45)]
    busy = [conv(f"a{i}", state="active", assignee="ann") for i in range(3)]
    dash.load_conversations(waiting + busy)
    dash.apply_agents_view(_agents(("ann", "online", 1, 3, ["d1"])))
    alerts = dash.alerts(NOW)
    assert AlertKind.OVER_CAPACITY in {a.kind for a in alerts}
    board = arrange_alerts(alerts, per_kind=5)
    shown = [a for g in board.groups for a in g.alerts]
    assert AlertKind.OVER_CAPACITY in {a.kind for a in shown}
    assert sum(a.kind is AlertKind.LONG_WAIT for a in shown) == 5
    assert dict(board.hidden)[AlertKind.LONG_WAIT] == 40
    assert board.total == len(alerts)


def test_severity_orders_across_kinds() -> None:
    # Waiting twice the limit is critical (level 3) and comes before a mild frustration.
    severities = {"mild": 2}
    dash = Dashboard(Thresholds(long_wait_seconds=60), severity_of=lambda c: severities.get(c, 0))
    dash.load_conversations(
        [conv("slow", queued_ago=70), conv("mild"), conv("old", queued_ago=200)]
    )
    kinds = [(a.subject_id, a.level) for a in dash.alerts(NOW)]
    assert kinds == [("old", 3), ("mild", 2), ("slow", 2)]


def test_unanswered_assigned_chat_raises_an_alert_with_department_and_agent() -> None:
    dash = Dashboard(Thresholds(reply_sla_seconds=180))
    dash.load_conversations(
        [conv("a", state="active", assignee="bob", waiting_ago=1200, name="Kim")]
    )
    (alert,) = dash.alerts(NOW)
    assert alert.kind is AlertKind.UNANSWERED
    assert alert.value == 1200
    assert (alert.department_name, alert.agent_name, alert.conversation_id) == (
        "Sales",
        "Bob",
        "a",
    )


def test_repeats_of_one_chat_merge_into_one_line() -> None:
    dash = Dashboard(Thresholds(long_wait_seconds=60), severity_of=lambda c: 3)
    dash.load_conversations([conv("a", queued_ago=100)])
    (alert,) = dash.alerts(NOW)
    assert alert.kind is AlertKind.FRUSTRATED
    assert alert.also == ((AlertKind.LONG_WAIT, 100.0),)


def test_department_without_online_agent_and_closed_department() -> None:
    dash = Dashboard()
    dash.set_departments(
        [
            m.Department(id="d1", name="Sales"),
            m.Department(id="d2", name="Billing", open_now=False),
            m.Department(id="d3", name="Tech"),
        ]
    )
    dash.load_conversations([conv("a", dep="d1"), conv("b", dep="d2"), conv("c", dep="d3")])
    dash.apply_agents_view(
        _agents(("ann", "offline", 2, 0, ["d1"]), ("bob", "online", 2, 0, ["d3"]))
    )
    by_kind = {a.kind: a for a in dash.alerts(NOW)}
    assert by_kind[AlertKind.NO_AGENT_ONLINE].subject_id == "d1"
    assert by_kind[AlertKind.DEPARTMENT_CLOSED].subject_id == "d2"
    assert len(by_kind) == 2  # Tech has Bob online


def test_no_agent_alert_needs_to_know_departments() -> None:
    """A backend that does not say which departments agents serve raises no false alarm."""
    dash = Dashboard()
    dash.load_conversations([conv("a")])
    dash.apply_agents_view(_agents(("ann", "offline", 2, 0, [])))
    assert dash.alerts(NOW) == []


def test_per_department_limits() -> None:
    thresholds = Thresholds.from_mapping(
        {"long_wait_seconds": 600, "departments": {"sales": 30, "d2": 45, "bad": "x"}}
    )
    assert thresholds.departments == {"sales": 30.0, "d2": 45.0}
    dash = Dashboard(thresholds)
    dash.load_conversations(
        [conv("a", queued_ago=40), conv("b", dep="d2", queued_ago=40), conv("c", dep="d9")]
    )
    assert [a.subject_id for a in dash.alerts(NOW)] == ["a"]
    sales = next(d for d in dash.departments(NOW) if d.department_id == "d1")
    assert sales.sla_breaches == 1 and sales.longest_wait_breached


def test_default_long_wait_is_the_config_critical_default() -> None:
    from console.core.config import SlaThresholds

    assert Thresholds().long_wait_seconds == SlaThresholds().critical_seconds
