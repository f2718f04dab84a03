"""QueuePanel.apply_rows (issue 10, precise changes): the rows a change names are removed,
appended or rewritten one by one - no rebuild, no other row built, the highlight stays on
the same chat; a row that would land in the middle falls back to a rebuild."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import msgspec

from console.core.changes import Rows
from console.core.workspace import QueueLine
from console.ui.widgets.queue_panel import QueuePanel
from tests.ui_widgets.test_queue_panel import T0, QueueApp, entry

NOW = T0 + timedelta(seconds=60)


async def test_named_rows_are_removed_appended_and_rewritten_without_a_rebuild() -> None:
    app = QueueApp()
    async with app.run_test(size=(60, 14)) as pilot:
        panel = app.query_one(QueuePanel)
        queued = [entry(n, T0 + timedelta(seconds=n)) for n in range(1, 5)]
        panel.show(queued, NOW, 120, 300)
        await pilot.pause()
        queue_list = panel.queue_list
        queue_list.highlighted = 2  # c3
        built: list[str] = []
        rows_before = panel.rebuilds
        original = panel.show

        def no_show(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("fell back to a rebuild")

        panel.show = no_show  # type: ignore[method-assign]
        renamed = entry(4, T0 + timedelta(seconds=4))
        conversation = renamed.conversation
        assert conversation is not None
        renamed = replace(
            renamed,
            conversation=msgspec.structs.replace(conversation, customer_name="Renamed Four"),
        )

        def describe(e: Any) -> Any:
            built.append(e.id)
            return QueueLine()

        after = [queued[1], queued[2], renamed, entry(5, T0 + timedelta(seconds=50))]
        panel.apply_rows(
            Rows.of(removed=["c1"], updated=["c4"], added=["c5"]), after, NOW, 120, 300, describe
        )
        await pilot.pause()
        assert panel.rebuilds == rows_before
        assert sorted(built) == ["c4", "c5"]  # only the named rows were built
        ids = [queue_list.get_option_at_index(i).id for i in range(queue_list.option_count)]
        assert ids == ["c2", "c3", "c4", "c5"]
        assert "Renamed Four" in str(queue_list.get_option("c4").prompt)
        assert queue_list.get_option_at_index(queue_list.highlighted or 0).id == "c3"

        # A chat that sorts before the others (queued earlier): the order changed -> rebuild.
        panel.show = original  # type: ignore[method-assign]
        early = entry(0, T0)
        panel.apply_rows(Rows.of(added=["c0"]), [early, *after], NOW, 120, 300)
        await pilot.pause()
        assert panel.rebuilds == rows_before + 1
        ids = [queue_list.get_option_at_index(i).id for i in range(queue_list.option_count)]
        assert ids == ["c0", "c2", "c3", "c4", "c5"]
        assert queue_list.get_option_at_index(queue_list.highlighted or 0).id == "c3"
