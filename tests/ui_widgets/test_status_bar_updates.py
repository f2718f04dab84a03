"""StatusBar.show_me runs for every change the workspace applies (each message): it
updates a field only when its text changes, and asks for layout only when its width does."""

from __future__ import annotations

from unittest import mock

from textual.app import App, ComposeResult
from textual.widgets import Static

from console.protocol import models as m
from console.ui.widgets.status_bar import StatusBar


class BarApp(App[None]):
    def compose(self) -> ComposeResult:
        yield StatusBar()


async def test_show_me_updates_only_what_changed_and_lays_out_only_on_width_changes() -> None:
    app = BarApp()
    async with app.run_test(size=(100, 5)) as pilot:
        bar = app.query_one(StatusBar)
        me = m.Me(id="a1", name="Ana", role="agent", status="online", accepting=True, capacity=3)
        bar.show_me(me, 1, 2)
        await pilot.pause()
        calls: list[tuple[str | None, bool]] = []
        original = Static.update

        def spy(self: Static, content: object = "", *, layout: bool = True) -> None:
            calls.append((self.id, layout))
            original(self, content, layout=layout)  # type: ignore[arg-type]

        with mock.patch.object(Static, "update", spy):
            for _ in range(20):  # twenty messages, nothing in the bar changed
                bar.show_me(me, 1, 2)
            assert calls == []
            bar.show_me(me, 2, 2)  # same width
            assert calls == [("load", False)]
            bar.show_me(me, 2, 12)  # one cell wider
            assert calls[-1] == ("load", True)
        await pilot.pause()
        assert "12" in str(app.query_one("#load", Static).render())
