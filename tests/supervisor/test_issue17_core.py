"""Issue 17 in the supervisor's figures: follow-ups due/overdue per agent, escalations
among the alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.core.dashboard import AlertKind, Dashboard
from console.protocol import models as m

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def conversation(cid: str, **kw: object) -> m.Conversation:
    base: dict[str, object] = {
        "id": cid,
        "customer_id": "cust_" + cid,
        "customer_name": "Tom " + cid,
        "department_id": "dept_1",
        "department_name": "Billing",
        "state": "active",
        "assignee_id": "agent_1",
        "assignee_name": "Sol",
        "created_at": NOW - timedelta(minutes=5),
    }
    base.update(kw)
    return m.Conversation(**base)  # type: ignore[arg-type]


def test_follow_ups_due_and_overdue_per_agent() -> None:
    board = Dashboard()
    board.apply_agents_view(
        m.AgentsView(
            items=[
                m.AgentStats(
                    agent_id="agent_1",
                    name="Sol",
                    status="online",
                    accepting=True,
                    load=0,
                    capacity=3,
                    follow_ups_due=2,
                    follow_ups_overdue=1,
                ),
                m.AgentStats(
                    agent_id="agent_2",
                    name="Ana",
                    status="away",
                    accepting=True,
                    load=0,
                    capacity=3,
                ),
            ]
        )
    )
    rows = {a.agent_id: a for a in board.agents(NOW)}
    assert (rows["agent_1"].follow_ups_due, rows["agent_1"].follow_ups_overdue) == (2, 1)
    assert (rows["agent_2"].follow_ups_due, rows["agent_2"].follow_ups_overdue) == (0, 0)


def test_an_escalated_open_chat_is_an_alert_and_a_plain_one_is_not() -> None:
    board = Dashboard()
    board.load_conversations(
        [
            conversation(
                "c1",
                escalated_at=NOW - timedelta(minutes=1),
                escalated_by_name="Ana",
                escalation_reason="refund over the limit",
            ),
            conversation("c2"),
        ]
    )
    alerts = [a for a in board.alerts(NOW) if a.kind is AlertKind.ESCALATED]
    assert [(a.conversation_id, a.agent_name) for a in alerts] == [("c1", "Sol")]
