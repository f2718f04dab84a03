"""Read-only watch panes: live transcript plus customer info, up to six side by side.

A watch pane has no composer, sends no typing indicator and never marks a
conversation read: it only renders what the screen hands it (history loaded
with GET requests through the read-only backend, then live messages from the
event stream).  Message bodies are sanitized and rendered as ``Text``; nothing
from a customer is parsed as markup.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Container, Vertical
from textual.content import Content
from textual.widgets import Static

from console.core.duration import format_duration
from console.core.i18n import t
from console.protocol import models as m
from console.ui.widgets.supervisor.cells import clean
from console.ui.widgets.transcript import TranscriptAttachment, TranscriptItem, TranscriptView

MAX_WATCHED = 6


def transcript_item(msg: m.Message) -> TranscriptItem:
    """A protocol message as a transcript entry (text sanitized; rendered literally)."""
    return TranscriptItem(
        id=msg.id,
        author=clean(msg.author_name or msg.author_kind),
        author_kind=msg.author_kind,
        body=msg.body,  # sanitized by the gateway or the typed event
        created_at=msg.created_at,
        internal=msg.internal,
        delivery=None,  # read-only: no delivery state of "our" messages
        attachments=tuple(
            TranscriptAttachment(filename=clean(a.filename), size=a.size) for a in msg.attachments
        ),
    )


class WatchPane(Vertical, can_focus=True):
    """One watched conversation."""

    DEFAULT_CSS = """
    WatchPane {
        border: round $primary 60%;
        border-title-color: $foreground;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
        height: 1fr;
        width: 1fr;
    }
    WatchPane:focus-within, WatchPane:focus {
        border: round $accent;
        border-title-color: $accent;
        border-subtitle-color: $accent;
    }
    WatchPane > .watch-info { height: auto; max-height: 5; padding: 0 1; color: $text-muted; }
    WatchPane > TranscriptView { height: 1fr; padding: 0 0 0 1; }
    """

    def __init__(self, conversation_id: str) -> None:
        super().__init__(id=f"watch-{conversation_id}", classes="watch-pane")
        self.conversation_id = conversation_id
        self.conversation: m.Conversation | None = None
        self.customer: m.Customer | None = None
        self.loaded = False
        self.title_plain = ""

    def compose(self) -> ComposeResult:
        yield Static(Content(t("supervisor.watch.loading")), classes="watch-info", markup=False)
        yield TranscriptView()

    @property
    def transcript(self) -> TranscriptView:
        return self.query_one(TranscriptView)

    @property
    def message_count(self) -> int:
        return self.transcript.item_count

    def show_conversation(
        self, conv: m.Conversation, now: datetime, customer: m.Customer | None = None
    ) -> None:
        self.conversation = conv
        if customer is not None:
            self.customer = customer
        # Border titles parse markup when given a str: always hand them Content.
        self.title_plain = clean(conv.customer_name)
        self.border_title = Content(self.title_plain)
        self.border_subtitle = Content(t(f"supervisor.state.{conv.state}"))
        lines: list[Content] = []
        info = [
            t("supervisor.watch.department", department=clean(conv.department_name or "-")),
            t(
                "supervisor.watch.assignee",
                agent=clean(conv.assignee_name or t("supervisor.department.unassigned")),
            ),
        ]
        lines.append(Content(" · ".join(info)))
        wait_from = conv.queued_at if conv.state == "queued" else conv.waiting_since
        extra: list[str] = []
        if wait_from is not None and conv.state != "closed":
            seconds = max(0.0, (now - wait_from).total_seconds())
            extra.append(t("supervisor.watch.wait", wait=format_duration(seconds)))
        if conv.customer_email:  # second line: narrow panes wrapped it mid-label on the first
            extra.append(t("supervisor.watch.email", email=clean(conv.customer_email)))
        if self.customer is not None:
            for key, value in list(self.customer.account.items())[:3]:
                extra.append(f"{clean(key)}: {clean(value)}")
            if self.customer.tags:
                extra.append("#" + " #".join(clean(tag) for tag in self.customer.tags[:5]))
        if extra:
            lines.append(Content(" · ".join(extra)))
        if conv.state == "closed":
            lines.append(Content.styled(t("supervisor.watch.closed"), "$warning"))
        self.query_one(".watch-info", Static).update(Content("\n").join(lines))

    @property
    def info_plain(self) -> str:
        """The customer-info header as plain text (tests)."""
        content = self.query_one(".watch-info", Static).render()
        return content.plain if isinstance(content, Content) else str(content)

    def show_error(self, sentence: str) -> None:
        self.query_one(".watch-info", Static).update(Content.styled(sentence, "$error"))

    def add_messages(self, messages: Iterable[m.Message]) -> int:
        """Append messages of this conversation not shown yet; returns how many were new."""
        view = self.transcript
        fresh = [
            transcript_item(msg)
            for msg in sorted(messages, key=lambda x: (x.created_at, x.id))
            if msg.conversation_id == self.conversation_id and view.get_item(msg.id) is None
        ]
        if fresh:
            view.extend(fresh)
        return len(fresh)

    def add_older(self, messages: Iterable[m.Message], *, has_older: bool) -> None:
        items = [
            transcript_item(msg) for msg in messages if msg.conversation_id == self.conversation_id
        ]
        self.transcript.prepend_items(items, has_older=has_older)

    def transcript_plain(self) -> str:
        """Authors and bodies of every message shown, as plain text (tests)."""
        return "\n".join(f"{item.author}: {item.body}" for item in self.transcript.items())


class WatchGrid(Container):
    """Up to :data:`MAX_WATCHED` panes; columns grow with the count (1, 2, 3, 2×2, 3×2)."""

    DEFAULT_CSS = """
    WatchGrid { layout: grid; grid-size: 1; height: 1fr; }
    WatchGrid > #watch-empty { height: auto; padding: 1 2; color: $text-muted; }
    """

    def compose(self) -> ComposeResult:
        yield Static(Content(t("supervisor.watch.empty")), id="watch-empty", markup=False)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._panes: dict[str, WatchPane] = {}  # in opening order; no DOM query per event

    @property
    def panes(self) -> list[WatchPane]:
        return list(self._panes.values())

    def pane(self, conversation_id: str) -> WatchPane | None:
        return self._panes.get(conversation_id)

    def _relayout(self, count: int) -> None:
        columns = {0: 1, 1: 1, 2: 2, 3: 3, 4: 2}.get(count, 3)
        self.styles.grid_size_columns = columns
        self.styles.grid_size_rows = 1 if count <= 3 else 2
        self.query_one("#watch-empty").display = count == 0

    async def add_pane(self, conversation_id: str) -> WatchPane:
        pane = WatchPane(conversation_id)
        self._panes[conversation_id] = pane
        await self.mount(pane)
        self._relayout(len(self.panes))
        return pane

    async def remove_pane(self, conversation_id: str) -> bool:
        pane = self._panes.pop(conversation_id, None)
        if pane is None:
            return False
        await pane.remove()
        self._relayout(len(self.panes))
        return True
