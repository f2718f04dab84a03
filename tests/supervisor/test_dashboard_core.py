"""Unit tests of ``console.core.dashboard`` (no UI, fixed clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from console.core.dashboard import (
    AlertKind,
    Dashboard,
    Thresholds,
)
from console.protocol import models as m

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def conv(
    cid: str,
    *,
    state: m.ConversationState = "queued",
    dep: str = "d1",
    queued_ago: float = 10.0,
    assignee: str | None = None,
    waiting_ago: float | None = None,
    created_ago: float | None = None,
    first_response_after: float | None = None,
    abandoned: bool = False,
    name: str = "Customer",
) -> m.Conversation:
    created = NOW - timedelta(seconds=created_ago if created_ago is not None else queued_ago)
    queued = NOW - timedelta(seconds=queued_ago)
    return m.Conversation(
        id=cid,
        customer_id=f"cu-{cid}",
        customer_name=name,
        department_id=dep,
        department_name={"d1": "Sales", "d2": "Billing"}.get(dep, dep),
        state=state,
        assignee_id=assignee,
        assignee_name=assignee.title() if assignee else None,
        created_at=created,
        queued_at=queued,
        waiting_since=NOW - timedelta(seconds=waiting_ago) if waiting_ago is not None else None,
        first_response_at=(
            queued + timedelta(seconds=first_response_after)
            if first_response_after is not None
            else None
        ),
        abandoned=abandoned,
    )


def test_department_counts_waits_and_breaches() -> None:
    dash = Dashboard(Thresholds(long_wait_seconds=60, reply_sla_seconds=100))
    dash.load_conversations(
        [
            conv("a", queued_ago=30),
            conv("b", queued_ago=90),
            conv("c", state="active", assignee="ann", waiting_ago=150),
            conv("d", state="active", assignee="ann", waiting_ago=None),
            conv("e", dep="d2", queued_ago=5),
            conv("f", state="closed"),
        ]
    )
    deps = {d.department_id: d for d in dash.departments(NOW)}
    sales = deps["d1"]
    assert (sales.waiting, sales.active) == (2, 2)
    assert sales.longest_wait_seconds == 90
    assert sales.sla_breaches == 2  # b (queue) + c (reply)
    assert sales.longest_wait_breached
    billing = deps["d2"]
    assert (billing.waiting, billing.active, billing.sla_breaches) == (1, 0, 0)
    assert not billing.longest_wait_breached
    assert "f" not in dash.conversations


def test_closing_removes_and_marks_row_dirty() -> None:
    dash = Dashboard()
    dash.load_conversations([conv("a")])
    dash.take_changes()
    dash.apply_conversation(conv("a", state="closed"))
    changes = dash.take_changes()
    assert changes.conversations == {"a"}
    assert dash.conversations == {}
    assert not dash.take_changes()


def test_unchanged_conversation_is_not_dirty() -> None:
    dash = Dashboard()
    dash.load_conversations([conv("a")])
    dash.take_changes()
    dash.apply_conversation(conv("a"))
    assert not dash.take_changes().conversations


def test_server_figures_win_for_first_response_and_abandoned() -> None:
    dash = Dashboard(Thresholds(first_response_sla_seconds=30))
    dash.load_conversations(
        [conv("a", state="active", assignee="ann", first_response_after=20, abandoned=False)]
    )
    local = dash.departments(NOW)[0]
    assert local.avg_first_response_seconds == 20
    assert not local.first_response_breached
    dash.apply_queue_stats(
        m.QueueStats(
            department_id="d1",
            department_name="Sales",
            waiting=9,
            active=9,
            avg_first_response_seconds=45.0,
            abandoned_today=4,
        )
    )
    server = dash.departments(NOW)[0]
    assert server.avg_first_response_seconds == 45.0
    assert server.first_response_breached
    assert server.abandoned == 4
    # Counts still come from the open conversations we hold.
    assert (server.waiting, server.active) == (0, 1)
    assert dash.traffic(NOW).abandoned == 4


def test_agent_rows_merge_server_view_local_load_and_last_reply() -> None:
    dash = Dashboard()
    dash.apply_agents_view(
        m.AgentsView(
            items=[
                m.AgentStats(
                    agent_id="ann",
                    name="Ann",
                    status="online",
                    accepting=True,
                    load=0,
                    capacity=1,
                    chats_today=7,
                    avg_response_seconds=33.0,
                    last_reply_at=NOW - timedelta(minutes=5),
                )
            ]
        )
    )
    dash.load_conversations(
        [
            conv("a", state="active", assignee="ann"),
            conv("b", state="active", assignee="ann"),
        ]
    )
    dash.apply_message(
        m.Message(
            id="m1",
            conversation_id="a",
            author_kind="agent",
            author_id="ann",
            body="hi",
            created_at=NOW - timedelta(seconds=12),
        )
    )
    (row,) = dash.agents(NOW)
    assert (row.load, row.capacity, row.chats) == (2, 1, 7)
    assert row.over_capacity
    assert row.avg_response_seconds == 33.0
    assert row.seconds_since_last_reply == 12
    kinds = [a.kind for a in dash.alerts(NOW)]
    assert AlertKind.OVER_CAPACITY in kinds


def test_internal_notes_do_not_count_as_replies() -> None:
    dash = Dashboard()
    dash.apply_message(
        m.Message(
            id="m1",
            conversation_id="a",
            author_kind="agent",
            author_id="ann",
            internal=True,
            body="note",
            created_at=NOW,
        )
    )
    dash.apply_agent(m.Agent(id="ann", name="Ann", status="online", capacity=3, accepting=True))
    assert dash.agents(NOW)[0].last_reply_at is None


def test_traffic_buckets_new_chats_per_minute() -> None:
    dash = Dashboard(Thresholds(traffic_minutes=5))
    dash.load_conversations(
        [
            conv("a", created_ago=10),
            conv("b", created_ago=20),
            conv("c", created_ago=70),
            conv("d", created_ago=60 * 30),  # outside the window
        ]
    )
    series = dash.traffic(NOW).new_per_minute
    assert len(series) == 5
    assert series[-1] == 0  # NOW is exactly on a minute boundary
    assert series[-2] == 2
    assert series[-3] == 1
    assert sum(series) == 3


def test_alerts_for_long_waits_frustration_and_offline() -> None:
    severities = {"b": 3}
    dash = Dashboard(Thresholds(long_wait_seconds=60), severity_of=lambda c: severities.get(c, 0))
    dash.load_conversations([conv("a", queued_ago=300, name="Slow"), conv("b", name="Angry")])
    dash.set_connection(False)
    alerts = dash.alerts(NOW)
    assert [a.kind for a in alerts] == [
        AlertKind.OFFLINE,
        AlertKind.FRUSTRATED,
        AlertKind.LONG_WAIT,
    ]
    assert alerts[1].subject_name == "Angry"
    assert alerts[2].value == 300


def test_sorting_and_filter() -> None:
    severities = {"c": 2}
    dash = Dashboard(severity_of=lambda c: severities.get(c, 0))
    dash.load_conversations(
        [
            conv("a", queued_ago=10, dep="d2", name="Zed"),
            conv("b", queued_ago=50, name="Amy"),
            conv("c", state="active", assignee="bob", waiting_ago=5, name="Kim"),
        ]
    )
    assert dash.sorted_ids("wait", NOW) == ["b", "a", "c"]
    assert dash.sorted_ids("department", NOW) == ["a", "b", "c"]  # Billing < Sales
    assert dash.sorted_ids("severity", NOW)[0] == "c"
    assert dash.sorted_ids("agent", NOW)[-1] == "c"
    assert dash.matches("b", "amy")
    assert dash.matches("c", "BOB")
    assert not dash.matches("a", "sales")


def test_events_route_to_the_right_input() -> None:
    dash = Dashboard()
    c = conv("a")
    dash.apply_event(m.Event(seq=1, type="conversation.created", at=NOW, data=m.to_builtins(c)))
    dash.apply_event(m.Event(seq=2, type="no.such.event", at=NOW, data={}))
    dash.apply_event(m.Event(seq=3, type="conversation.updated", at=NOW, data={"bad": 1}))
    assert list(dash.conversations) == ["a"]


def test_thresholds_from_mapping_ignores_bad_values() -> None:
    t = Thresholds.from_mapping(
        {"long_wait_seconds": 30, "reply_sla_seconds": "x", "frustrated_severity": True}
    )
    assert t.long_wait_seconds == 30.0
    assert t.reply_sla_seconds == Thresholds().reply_sla_seconds
    assert t.frustrated_severity == Thresholds().frustrated_severity


def test_traffic_forgets_old_creations_whatever_the_arrival_order() -> None:
    dash = Dashboard(Thresholds(traffic_minutes=5))
    dash.load_conversations([conv("new", created_ago=30), conv("old", created_ago=3600)])
    assert sum(dash.traffic(NOW).new_per_minute) == 1
    assert [cid for _at, cid in dash._created_order] == ["new"]
