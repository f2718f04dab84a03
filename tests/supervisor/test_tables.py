"""The conversation table at 1,000 rows: in-place updates, coalesced sorting, cursor kept.

These mount the table widget alone in a bare App and feed the UI-free
``Dashboard`` directly (no backend at all); behaviour against the real server
is in ``test_supervisor_live.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from msgspec.structs import replace
from textual.app import App, ComposeResult

from console.core.dashboard import Dashboard
from console.protocol import models as m
from console.ui.widgets.supervisor.tables import ConversationTable

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def conv(i: int, *, wait: float, state: m.ConversationState = "queued") -> m.Conversation:
    return m.Conversation(
        id=f"c{i:04d}",
        customer_id=f"u{i}",
        customer_name=f"Customer {i}",
        department_id=f"d{i % 3}",
        department_name=f"Dept {i % 3}",
        state=state,
        assignee_id="a1" if state == "active" else None,
        assignee_name="Ann" if state == "active" else None,
        created_at=NOW - timedelta(seconds=wait),
        queued_at=NOW - timedelta(seconds=wait),
    )


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield ConversationTable(id="t")


async def test_thousand_rows_change_in_place_and_keep_the_cursor() -> None:
    """Touching 200 of 1,000 rows updates cells, adds nothing, sorts once, keeps the cursor."""
    dash = Dashboard()
    dash.load_conversations(conv(i, wait=float(i)) for i in range(1000))
    app = TableApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(ConversationTable)
        table.apply(dash, dash.take_changes().conversations, NOW)
        await pilot.pause()
        assert table.row_count == 1000
        assert table.visible_order()[:3] == ["c0999", "c0998", "c0997"]  # longest wait first
        assert table.highlighted_key() == "c0999"
        table.move_cursor(row=10)
        await pilot.pause()
        watched = table.highlighted_key()
        added, updates, sorts = table.rows_added, table.cell_updates, table.sorts

        # 200 conversations get assigned: state, agent and wait cells change.
        for i in range(0, 1000, 5):
            dash.apply_conversation(
                replace(
                    conv(i, wait=float(i)), state="active", assignee_id="a1", assignee_name="Ann"
                )
            )
        dirty = dash.take_changes().conversations
        assert len(dirty) == 200
        table.apply(dash, dirty, NOW)
        await pilot.pause()

        assert table.row_count == 1000
        assert table.rows_added == added  # nothing rebuilt
        assert table.sorts == sorts + 1  # one re-sort for the whole batch
        assert table.cell_updates - updates == 200 * 3  # state, agent, wait
        assert table.highlighted_key() == watched  # the cursor follows its conversation
        assert table.cell_text("c0005", "agent") == "Ann"


async def test_unchanged_rows_cost_nothing_and_order_is_kept() -> None:
    """Re-applying rows whose cells did not change calls no update_cell and no sort."""
    dash = Dashboard()
    dash.load_conversations(conv(i, wait=float(i)) for i in range(300))
    app = TableApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(ConversationTable)
        table.apply(dash, dash.take_changes().conversations, NOW)
        await pilot.pause()
        updates, sorts = table.cell_updates, table.sorts
        table.apply(dash, list(dash.conversations), NOW)
        assert (table.cell_updates, table.sorts) == (updates, sorts)


async def test_closed_rows_leave_and_new_rows_arrive_in_order() -> None:
    dash = Dashboard()
    dash.load_conversations(conv(i, wait=float(i)) for i in range(50))
    app = TableApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(ConversationTable)
        table.apply(dash, dash.take_changes().conversations, NOW)
        dash.apply_conversation(replace(conv(49, wait=49.0), state="closed"))
        dash.apply_conversation(conv(500, wait=1000.0))
        table.apply(dash, dash.take_changes().conversations, NOW)
        await pilot.pause()
        assert "c0049" not in table.keys()
        assert table.visible_order()[0] == "c0500"
        assert table.row_count == 50


async def test_filter_rebuild_shows_only_matches() -> None:
    dash = Dashboard()
    dash.load_conversations(conv(i, wait=float(i)) for i in range(30))
    app = TableApp()
    async with app.run_test(size=(100, 30)) as pilot:
        table = app.query_one(ConversationTable)
        table.apply(dash, dash.take_changes().conversations, NOW)
        table.filter_text = "dept 1"
        table.rebuild(dash, NOW)
        await pilot.pause()
        assert sorted(table.keys()) == [f"c{i:04d}" for i in range(30) if i % 3 == 1]
        table.filter_text = ""
        table.rebuild(dash, NOW)
        assert table.row_count == 30
