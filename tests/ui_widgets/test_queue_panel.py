"""QueuePanel: the once-a-second tick rewrites wait times in place; the list is rebuilt
only when the chats in it change (no clear/add of every option, no layout per tick)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from textual.app import App, ComposeResult

from console.core.reducers import ConversationEntry
from console.protocol import models as m
from console.ui.widgets.queue_panel import QueuePanel

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def entry(n: int, waited_from: datetime) -> ConversationEntry:
    conversation = m.Conversation(
        id=f"c{n}",
        customer_id=f"cu{n}",
        customer_name=f"Customer {n}",
        department_id="d1",
        department_name="Support",
        state="queued",
        created_at=waited_from,
        queued_at=waited_from,
    )
    return ConversationEntry(id=conversation.id, conversation=conversation)


class QueueApp(App[None]):
    def compose(self) -> ComposeResult:
        yield QueuePanel()


async def test_ticks_rewrite_prompts_in_place_and_rebuild_only_when_chats_change() -> None:
    app = QueueApp()
    async with app.run_test(size=(60, 12)) as pilot:
        panel = app.query_one(QueuePanel)
        queued = [entry(1, T0), entry(2, T0 + timedelta(seconds=5))]
        panel.show(queued, T0 + timedelta(seconds=20), 120, 300)
        await pilot.pause()
        assert panel.rebuilds == 1
        options = [panel.queue_list.get_option_at_index(i) for i in range(2)]
        panel.queue_list.highlighted = 1
        for second in range(21, 30):
            panel.show(queued, T0 + timedelta(seconds=second), 120, 300)
            await pilot.pause()
        assert panel.rebuilds == 1  # nine ticks, no rebuild
        assert [panel.queue_list.get_option_at_index(i) for i in range(2)] == options
        assert panel.queue_list.highlighted == 1
        prompts = [str(o.prompt) for o in options]
        assert "29s" in prompts[0] and "24s" in prompts[1], prompts
        assert "Customer 1" in prompts[0]

        panel.show(
            [*queued, entry(3, T0 + timedelta(seconds=28))], T0 + timedelta(seconds=30), 120, 300
        )
        await pilot.pause()
        assert panel.rebuilds == 2  # a new chat: rebuilt, highlight kept on the same chat
        assert panel.queue_list.option_count == 3
        highlighted = panel.queue_list.highlighted
        assert highlighted is not None
        assert panel.queue_list.get_option_at_index(highlighted).id == "c2"


async def test_when_the_highlighted_chat_leaves_the_row_at_its_place_is_highlighted() -> None:
    """Accepted (F9) or taken by a colleague: Enter on the queue still has a target."""
    app = QueueApp()
    async with app.run_test(size=(60, 12)) as pilot:
        panel = app.query_one(QueuePanel)
        now = T0 + timedelta(seconds=20)
        panel.show([entry(1, T0), entry(2, T0), entry(3, T0)], now, 120, 300)
        await pilot.pause()
        assert panel.queue_list.highlighted == 0
        panel.show([entry(2, T0), entry(3, T0)], now, 120, 300)  # the first one left
        await pilot.pause()
        assert panel.queue_list.highlighted == 0
        panel.queue_list.highlighted = 1
        panel.show([entry(2, T0)], now, 120, 300)  # the last one left
        await pilot.pause()
        assert panel.queue_list.highlighted == 0
        panel.show([], now, 120, 300)
        panel.show([entry(4, T0)], now, 120, 300)  # a new chat in an emptied queue
        await pilot.pause()
        assert panel.queue_list.highlighted == 0
