"""Tiles 1–6 chat panes so every open chat is visible at once.

Layout rule (re-evaluated on every resize and every pane change):

* a maximized pane is shown alone, with the tab strip;
* if the grid cells would be smaller than ``MIN_CELL`` (e.g. 80×24 with two
  or more chats), fall back to one pane plus a tab strip naming every chat,
  with the active one highlighted — nothing disappears without a trace;
* otherwise a grid: 1 column for one chat, 2 for 2–4, 3 for 5–6 (2 if too
  narrow), rows as needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from textual.app import ComposeResult
from textual.containers import Container
from textual.content import Content
from textual.events import Click, Resize
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from console.core.workspace import tr
from console.ui.widgets.pane import CIRCLED, ChatPane

if TYPE_CHECKING:
    from console.core.workspace import WorkspaceController

MIN_CELL = (50, 12)  # (width, height) below which a grid cell is not usable


def grid_shape(count: int, width: int, height: int) -> tuple[int, int] | None:
    """(columns, rows) for ``count`` panes in ``width``×``height``; None → single + tabs."""
    if count <= 1:
        return (1, 1)
    columns = 2 if count <= 4 else 3
    if columns == 3 and width // 3 < MIN_CELL[0]:
        columns = 2
    rows = -(-count // columns)
    if width // columns < MIN_CELL[0] or height // rows < MIN_CELL[1]:
        return None
    return (columns, rows)


class TabStrip(Static):
    """One line naming every chat; shown when panes do not fit side by side."""

    DEFAULT_CSS = """
    TabStrip { height: 1; background: $panel; display: none; }
    TabStrip.-visible { display: block; }
    """

    class TabClicked(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cells: list[tuple[int, int]] = []  # cell range of each tab

    def show_tabs(self, names: list[tuple[str, bool, bool]]) -> None:
        """``names``: (customer name, is active, needs attention)."""
        parts: list[str | Content | tuple[str, str]] = []
        self._cells = []
        x = 0
        for index, (name, active, attention) in enumerate(names):
            number = CIRCLED[index] if index < len(CIRCLED) else str(index + 1)
            style = "reverse bold" if active else ("bold $warning" if attention else "")
            tab = Content.assemble((f" {number} ", style), (name, style))
            self._cells.append((x, x + tab.cell_length))
            x += tab.cell_length + 2
            parts += [tab, ("  ", "")]
        self.update(Content.assemble(*parts) if parts else Content(""))

    def tab_x(self, index: int) -> int | None:
        """Cell where tab ``index`` starts (jump mode labels hidden chats there)."""
        return self._cells[index][0] if 0 <= index < len(self._cells) else None

    def on_click(self, event: Click) -> None:
        for index, (start, end) in enumerate(self._cells):
            if start <= event.x < end:
                self.post_message(self.TabClicked(index))
                return


class PaneGrid(Container):
    """Holds the ChatPanes and lays them out."""

    DEFAULT_CSS = """
    PaneGrid { height: 1fr; width: 1fr; }
    PaneGrid > #panes { layout: grid; grid-size: 1 1; height: 1fr; }
    PaneGrid > #panes > ChatPane.-hidden { display: none; }
    PaneGrid > #empty { height: 1fr; content-align: center middle; color: $text-muted; }
    """

    def __init__(self, controller: WorkspaceController, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.controller = controller
        self.active_id: str | None = None
        self.maximized = False
        self.single_mode = False
        self.warning_seconds = 60.0
        self.critical_seconds = 180.0
        self.drafts: dict[str, str] = controller.drafts  # saved at quit, restored at start
        """Unsent text per conversation, shared by every composer."""
        self._sync_lock = asyncio.Lock()
        self._leaving: set[ChatPane] = set()

    def compose(self) -> ComposeResult:
        yield TabStrip(id="tabs")
        yield Static(Content(tr("no_chats")), id="empty")
        yield Container(id="panes")

    @property
    def panes(self) -> list[ChatPane]:
        """The panes in order, each with its header, transcript and composer mounted.

        A pane joins the DOM before its children are composed and leaves it after
        they are removed; in between (while :meth:`sync` awaits) it is not listed,
        so no caller ever meets a half-mounted pane (``pane.transcript`` raising
        ``NoMatches``)."""
        return [
            pane for pane in self._children_panes() if pane.is_mounted and pane not in self._leaving
        ]

    def _children_panes(self) -> list[ChatPane]:
        return list(self.query_one("#panes").query_children(ChatPane))

    def pane_for(self, conversation_id: str) -> ChatPane | None:
        for pane in self.panes:
            if pane.conversation_id == conversation_id:
                return pane
        return None

    async def sync(self, order: Iterable[str]) -> None:
        """Add, remove and reorder panes to match ``order``; returns with every pane mounted.

        One sync at a time: a second caller waits, so a pane being mounted is never
        created twice."""
        async with self._sync_lock:
            await self._sync(list(order))

    async def _sync(self, wanted: list[str]) -> None:
        container = self.query_one("#panes", Container)
        existing = {pane.conversation_id: pane for pane in self._children_panes()}
        leaving = [pane for cid, pane in existing.items() if cid not in wanted]
        self._leaving.update(leaving)
        try:
            for pane in leaving:
                await pane.remove()
        finally:
            self._leaving.difference_update(leaving)
        new = [ChatPane(cid, self.controller, self.drafts) for cid in wanted if cid not in existing]
        for pane in new:
            pane.warning_seconds = self.warning_seconds
            pane.critical_seconds = self.critical_seconds
        if new:
            await container.mount_all(new)
        panes = {pane.conversation_id: pane for pane in self._children_panes()}
        for index, cid in enumerate(wanted):
            pane = panes[cid]
            pane.index = index
            if index > 0:
                container.move_child(pane, after=panes[wanted[index - 1]])
        if self.active_id not in panes:
            self.active_id = wanted[0] if wanted else None
            self.maximized = False
        self.query_one("#empty").display = not wanted
        self.relayout()

    def relayout(self) -> None:
        panes = self.panes
        container = self.query_one("#panes", Container)
        tabs = self.query_one(TabStrip)
        shape = grid_shape(len(panes), self.size.width or 200, (self.size.height or 50) - 1)
        self.single_mode = self.maximized or shape is None
        if self.single_mode:
            container.styles.grid_size_columns = 1
            container.styles.grid_size_rows = 1
            for pane in panes:
                pane.set_class(pane.conversation_id != self.active_id, "-hidden")
        else:
            assert shape is not None
            container.styles.grid_size_columns = shape[0]
            container.styles.grid_size_rows = shape[1]
            for pane in panes:
                pane.remove_class("-hidden")
        tabs.set_class(self.single_mode and len(panes) > 1, "-visible")
        self.refresh_tabs()

    def refresh_tabs(self) -> None:
        tabs = self.query_one(TabStrip)
        if not tabs.has_class("-visible"):
            return
        names: list[tuple[str, bool, bool]] = []
        for pane in self.panes:
            entry = pane.entry
            attention = bool(entry and (entry.unread or entry.severity))
            names.append(
                (
                    entry.customer_name if entry else "?",
                    pane.conversation_id == self.active_id,
                    attention,
                )
            )
        tabs.show_tabs(names)

    def activate(self, conversation_id: str, *, focus: bool = True) -> ChatPane | None:
        pane = self.pane_for(conversation_id)
        if pane is None:
            return None
        self.active_id = conversation_id
        if self.single_mode:
            self.relayout()
        else:
            self.refresh_tabs()
        if focus:
            pane.focus_composer()
        return pane

    def on_resize(self, event: Resize) -> None:
        self.relayout()

    def on_tab_strip_tab_clicked(self, event: TabStrip.TabClicked) -> None:
        panes = self.panes
        if 0 <= event.index < len(panes):
            self.activate(panes[event.index].conversation_id)

    def tick(self) -> None:
        for pane in self.panes:
            if not pane.has_class("-hidden"):
                pane.tick()
        self.refresh_tabs()

    def visible_panes(self) -> list[Widget]:
        return [pane for pane in self.panes if not pane.has_class("-hidden")]
