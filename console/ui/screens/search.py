"""Transcript search (issue 14): the server's full-text search over every transcript.

A modal over the dimmed workspace: type words (every word must match; the
server's trigram index finds them inside Korean and Japanese text too), Enter
searches, ↓ goes to the results, Enter on a result dismisses with the hit and
the agent screen opens that conversation at the message (its pane when it is
one of mine, else the read-only window).  Results come through
``WorkspaceController.search`` (sanitized); names and snippets are shown as
``Content`` with the searched words highlighted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.backends.base import BackendError
from console.core.workspace import tr
from console.protocol import models as m

if TYPE_CHECKING:
    from console.core.workspace import WorkspaceController


def hit_prompt(hit: m.SearchHit, terms: list[str], mine: bool) -> Content:
    """Date, customer, (read-only), then the snippet with every searched word marked."""
    snippet = Content(hit.snippet.replace("\n", " "))
    lowered = hit.snippet.replace("\n", " ").casefold()
    for term in terms:
        needle = term.casefold()
        start = lowered.find(needle) if needle else -1
        while start >= 0:
            snippet = snippet.stylize("bold reverse", start, start + len(needle))
            start = lowered.find(needle, start + len(needle))
    head: list[str | tuple[str, str]] = [
        (hit.created_at.strftime("%Y-%m-%d %H:%M") + "  ", "dim"),
        (hit.customer_name, "bold"),
    ]
    if not mine:
        head.append(("  " + tr("read_only"), "$warning"))
    return Content.assemble(*head, "\n  ", snippet)


class SearchScreen(ModalScreen[m.SearchHit | None]):
    """Search box, result list; dismisses with the chosen hit (or None)."""

    DEFAULT_CSS = """
    SearchScreen { align: center middle; }
    SearchScreen > Vertical { width: 90%; height: 90%; border: round $accent;
                              background: $surface; padding: 0 1; }
    SearchScreen #search-title { text-style: bold; }
    SearchScreen #search-results { height: 1fr; }
    SearchScreen #search-status { height: auto; max-height: 2; color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, controller: WorkspaceController) -> None:
        super().__init__(id="search-dialog")
        self.controller = controller
        self.hits: dict[str, m.SearchHit] = {}
        self.searched = ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(tr("search_title")), id="search-title")
            yield Input(placeholder=tr("search_placeholder"), id="search-query")
            yield Static(Content(tr("search_hint")), id="search-status")
            yield OptionList(id="search-results")

    def on_mount(self) -> None:
        self.query_one("#search-query", Input).focus()

    def _status(self, text: str) -> None:
        self.query_one("#search-status", Static).update(Content(text))

    @on(Input.Submitted, "#search-query")
    def submitted(self, event: Input.Submitted) -> None:
        query = event.value.strip()
        if query:
            self._status(tr("search_running"))
            self._search(query)

    @work(group="search", exclusive=True)
    async def _search(self, query: str) -> None:
        try:
            results = await self.controller.search(query)
        except BackendError as error:
            self._status(tr("search_failed", reason=str(error)))
            return
        if not self.is_attached:
            return
        self.searched = query
        terms = query.split()
        mine = set(self.controller.pane_order)
        self.hits = {f"h{index}": hit for index, hit in enumerate(results.items)}
        options = self.query_one("#search-results", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(hit_prompt(hit, terms, hit.conversation_id in mine), id=key)
                for key, hit in self.hits.items()
            ]
        )
        if self.hits:
            options.highlighted = 0
            self._status(tr("search_count", count=len(self.hits)))
        else:
            self._status(tr("search_none", query=query))

    def on_key(self, event: events.Key) -> None:
        query = self.query_one("#search-query", Input)
        options = self.query_one("#search-results", OptionList)
        if event.key == "down" and query.has_focus and options.option_count:
            options.focus()
            event.stop()

    @on(OptionList.OptionSelected, "#search-results")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        hit = self.hits.get(event.option.id or "")
        if hit is not None:
            self.dismiss(hit)

    def action_cancel(self) -> None:
        self.dismiss(None)
