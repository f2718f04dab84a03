"""Traffic from the backend's per-minute counts, plus chats seen after it counted (fixed clock)."""

from __future__ import annotations

from datetime import timedelta

from console.core.dashboard import Dashboard, Thresholds
from console.protocol import models as m
from tests.supervisor.test_dashboard_core import NOW, conv


def _stats(dep: str, series: list[int], counted_ago: float) -> m.QueueStats:
    return m.QueueStats(
        department_id=dep,
        department_name=dep,
        waiting=0,
        active=0,
        created_per_minute=series,
        counted_at=NOW - timedelta(seconds=counted_ago),
    )


def test_backend_counts_win_and_later_chats_are_added() -> None:
    dash = Dashboard(Thresholds(traffic_minutes=5))
    # Seen on the stream: one chat the backend already counted, one it had not yet.
    dash.load_conversations([conv("a", created_ago=100), conv("b", created_ago=10)])
    # Counted 30 s ago, i.e. in the previous minute (NOW is on a minute boundary).
    dash.apply_queue_stats(_stats("d1", [0, 0, 4, 1, 2], counted_ago=30))
    series = dash.traffic(NOW).new_per_minute
    # The backend's minutes move one to the left; "b" (after it counted) joins its minute.
    assert series == (0, 4, 1, 2 + 1, 0)


def test_departments_without_backend_counts_are_counted_locally() -> None:
    dash = Dashboard(Thresholds(traffic_minutes=5))
    dash.load_conversations([conv("a", dep="d2", created_ago=70)])
    dash.apply_queue_stats(_stats("d1", [1, 0, 0, 0, 0], counted_ago=0))
    assert dash.traffic(NOW).new_per_minute == (1, 0, 1, 0, 0)
