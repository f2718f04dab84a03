"""The conversation table's incremental path shows what a table built from scratch shows.

``ConversationTable`` writes cells, removes rows and re-orders them itself and
repaints only the rows on screen that changed (``LiveTable`` in
``console/ui/widgets/supervisor/tables.py``).  After every step of a random
sequence (updates, assignments, closes, new chats, scrolling, cursor moves,
sort keys) its rows, cells and the lines it paints - read through the widget's
line cache, so a row that should have been repainted and was not would show
its stale text - equal those of a table rebuilt from the same ``Dashboard``.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace
from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.geometry import Region

from console.core.dashboard import Dashboard
from console.protocol import models as m
from console.ui.widgets.supervisor.tables import ConversationTable

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
AGENTS = ("Ann", "Bob", "Cyd")


def conv(
    i: int, *, wait: float, state: m.ConversationState = "queued", agent: int = 0
) -> m.Conversation:
    active = state == "active"
    return m.Conversation(
        id=f"c{i:04d}",
        customer_id=f"u{i}",
        customer_name=f"Customer {i:04d}",  # one width: flex columns fit the same way
        department_id=f"d{i % 3}",
        department_name=f"Dept {i % 3}",
        state=state,
        assignee_id=f"a{agent}" if active else None,
        assignee_name=AGENTS[agent] if active else None,
        created_at=NOW - timedelta(seconds=wait),
        queued_at=NOW - timedelta(seconds=wait),
        waiting_since=NOW - timedelta(seconds=wait) if active and wait > 100 else None,
    )


class Pair(App[None]):
    CSS = "ConversationTable { width: 1fr; height: 100%; max-height: 100%; }"

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield ConversationTable(id="live")
            yield ConversationTable(id="fresh")


def lines(table: ConversationTable) -> list[list[tuple[str, object]]]:
    """What the widget paints, line by line (text and style of each segment)."""
    strips = table.render_lines(Region(0, 0, *table.outer_size))
    return [
        [(segment.text, segment.style) for segment in Segment.simplify(strip)] for strip in strips
    ]


step = st.one_of(
    st.tuples(st.just("update"), st.integers(0, 59), st.floats(0, 4000), st.integers(0, 2)),
    st.tuples(st.just("assign"), st.integers(0, 59), st.floats(0, 4000), st.integers(0, 2)),
    st.tuples(st.just("close"), st.integers(0, 59), st.just(0.0), st.just(0)),
    st.tuples(st.just("new"), st.integers(60, 89), st.floats(0, 4000), st.just(0)),
    st.tuples(st.just("scroll"), st.integers(0, 60), st.just(0.0), st.just(0)),
    st.tuples(st.just("cursor"), st.integers(0, 60), st.just(0.0), st.just(0)),
    st.tuples(
        st.just("sort"),
        st.sampled_from(["wait", "department", "agent", "severity"]),
        st.just(0.0),
        st.just(0),
    ),
)


async def replay(steps: list[tuple[object, ...]]) -> None:
    dash = Dashboard()
    dash.load_conversations(conv(i, wait=float(i * 37 % 1800)) for i in range(40))
    app = Pair()
    async with app.run_test(size=(160, 20)) as pilot:
        live = app.query_one("#live", ConversationTable)
        fresh = app.query_one("#fresh", ConversationTable)
        live.can_focus = fresh.can_focus = False  # focus styles the header and cursor
        app.set_focus(None)
        live.apply(dash, dash.take_changes().conversations, NOW)
        await pilot.pause()
        for kind, a, b, c in steps:
            if kind in {"update", "new"}:
                assert isinstance(a, int) and isinstance(b, float)
                dash.apply_conversation(conv(a, wait=b))
            elif kind == "assign":
                assert isinstance(a, int) and isinstance(b, float) and isinstance(c, int)
                dash.apply_conversation(conv(a, wait=b, state="active", agent=c))
            elif kind == "close":
                assert isinstance(a, int)
                dash.apply_conversation(replace(conv(a, wait=0.0), state="closed"))
            elif kind == "scroll":
                live.scroll_to(y=a, animate=False)
            elif kind == "cursor" and live.row_count:
                assert isinstance(a, int)
                live.move_cursor(row=min(a, live.row_count - 1), scroll=False)
            elif kind == "sort":
                assert isinstance(a, str)
                live.sort_by(a, dash, NOW)
            live.apply(dash, dash.take_changes().conversations, NOW)
            await pilot.pause()

            # The same rows rebuilt from scratch, same order key, cursor and scroll.
            fresh.clear()
            fresh._shown.clear()
            fresh.order = live.order
            fresh.rebuild(dash, NOW)
            if fresh.row_count:
                fresh.move_cursor(row=live.cursor_row, scroll=False)
            await pilot.pause()  # the new virtual size first, then the scroll position
            fresh.scroll_to(y=live.scroll_y, animate=False)
            await pilot.pause()

            assert live.visible_order() == fresh.visible_order()
            assert live.visible_order() == dash.sorted_ids(live.order, NOW, live.keys())
            for key in live.keys():
                assert live.get_row(key) == fresh.get_row(key)
            assert live.scroll_y == fresh.scroll_y
            assert lines(live) == lines(fresh), (kind, a)


@settings(
    max_examples=12,
    deadline=None,
    phases=(Phase.explicit, Phase.reuse, Phase.generate),  # a Textual app per example
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(step, min_size=1, max_size=25))
def test_incremental_table_paints_what_a_rebuilt_table_paints(
    steps: list[tuple[object, ...]],
) -> None:
    asyncio.run(replay(steps))


async def test_a_change_off_screen_repaints_nothing() -> None:
    """Cell updates, closes and re-sorts among rows below the window leave the table's
    painted lines alone: no whole-table repaint, no dirty line."""
    dash = Dashboard()
    dash.load_conversations(conv(i, wait=float(5000 - i)) for i in range(1000))
    app = Pair()
    async with app.run_test(size=(160, 20)) as pilot:
        live = app.query_one("#live", ConversationTable)
        live.apply(dash, dash.take_changes().conversations, NOW)
        await pilot.pause()
        assert live.visible_order()[:2] == ["c0000", "c0001"]
        full, sorts = live.full_repaints, live.sorts
        dash.apply_conversation(conv(900, wait=3000.0, state="active", agent=1))  # moves
        dash.apply_conversation(conv(800, wait=4200.0))  # cells only
        dash.apply_conversation(replace(conv(700, wait=0.0), state="closed"))
        dash.apply_conversation(conv(1500, wait=10.0))  # new, at the bottom
        live.apply(dash, dash.take_changes().conversations, NOW)
        # At most the mouse-hover cell (DataTable.remove_row re-sets it), no row.
        assert all(r.height == 1 and r.width < 20 for r in live._repaint_regions)
        await pilot.pause()
        assert live.full_repaints == full
        assert live.sorts == sorts + 1
        assert live.visible_order()[-1] == "c1500"
        # A change on screen repaints that one line.
        dash.apply_conversation(conv(3, wait=4996.0, state="active", agent=2))
        live.apply(dash, dash.take_changes().conversations, NOW)
        assert [r.height for r in live._repaint_regions if r.width > 20] == [1]
        assert live.full_repaints == full
