"""One chat pane: header, transcript, composer.

The header shows what an agent needs at a glance: customer, department, page,
how long the customer has waited for us (warning/critical colours from the
config SLA), unread count, trigger badge, typing indicator and the countdown of
a promise made with an expectation shortcut.  Every piece of it except our own
labels is untrusted, so the header is assembled as ``Content`` from plain
strings (no markup is ever parsed).

The transcript and composer are the widgets engineer's ``TranscriptView`` and
``Composer``; this module only wires them to the controller.
"""

from __future__ import annotations

from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widget import Widget

from console.core.changes import Rows
from console.core.duration import format_duration
from console.core.expectations import PromiseState, PromiseTimer
from console.core.store import ConversationEntry, StoredMessage, Transcript
from console.core.triggers import Category, category_label
from console.core.workspace import PaneState, tr, wait_seconds
from console.protocol import models as m
from console.ui.widgets.composer import Composer
from console.ui.widgets.transcript import (
    Delivery,
    TranscriptAttachment,
    TranscriptItem,
    TranscriptView,
)

if TYPE_CHECKING:
    from console.core.workspace import WorkspaceController

CIRCLED = "①②③④⑤⑥⑦⑧⑨"


def wait_level(waited: float | None, warning: float, critical: float) -> str:
    if waited is None:
        return "ok"
    if waited >= critical:
        return "critical"
    if waited >= warning:
        return "warning"
    return "ok"


def header_content(
    index: int,
    entry: ConversationEntry,
    state: PaneState,
    now: datetime,
    *,
    promise: PromiseTimer | None,
    typing: bool,
    warning: float,
    critical: float,
) -> Content:
    """Two header lines: who + timers/badges first (they must not be cut off), then
    department and page.  Plain data + our own styles; never markup."""
    conversation = entry.conversation
    assert conversation is not None
    parts: list[str | Content | tuple[str, str]] = []
    number = CIRCLED[index] if 0 <= index < len(CIRCLED) else f"{index + 1}."
    parts += [(number, "bold"), " ", (conversation.customer_name, "bold")]
    waited = wait_seconds(entry, now)
    level = wait_level(waited, warning, critical)
    if waited is not None:
        style = {"ok": "", "warning": "bold $warning", "critical": "bold reverse $error"}[level]
        parts += ["  ", (f"⏱ {tr('waiting_for_you', time=format_duration(waited))}", style)]
    if entry.unread:
        parts += ["  ", (f"✉ {entry.unread}", "bold $accent")]
    if conversation.escalated_at is not None:  # why: in the sidebar and the transcript
        parts += ["  ", (f"⇪ {tr('escalated_header')}", "bold $error")]
    if entry.severity > 0 or state.trigger_categories:
        label = ", ".join(state.trigger_categories) or tr("trigger_badge", count=entry.severity)
        parts += [
            "  ",
            (f"⚑ {label}", "bold reverse $error" if entry.severity >= 2 else "bold $error"),
        ]
    if typing:
        parts += ["  ", (tr("typing"), "italic")]
    if promise is not None:
        left = (promise.deadline - now).total_seconds()
        urgent = promise.state(now) is not PromiseState.OK
        style = "bold reverse $warning" if urgent else "$secondary"
        parts += ["  ", (f"⌛ {tr('promise_left', time=format_duration(left))}", style)]
    where: list[str | Content | tuple[str, str]] = []
    if conversation.department_name:
        where.append(conversation.department_name)
    if conversation.channel:
        where += [" · " if where else "", (conversation.channel, "italic")]
    if conversation.page_url:
        where += [" · " if where else "", (conversation.page_url, "dim")]
    return Content.assemble(*parts, "\n", *where)


class PaneHeader(Widget):
    """One-line header; re-rendered by the screen's one-second tick."""

    DEFAULT_CSS = """
    PaneHeader {
        height: 2; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; padding: 0 1;
    }
    """

    def __init__(self, pane: ChatPane) -> None:
        super().__init__()
        self._pane = pane

    def render(self) -> Content:
        return self._pane.header()


def transcript_item(stored: StoredMessage, revision: int = 0) -> TranscriptItem:
    """Map a stored (already sanitized) message to what the transcript draws.

    The item id is the client id when there is one, so the pending copy is
    replaced in place when the server confirms it.
    """
    message = stored.message
    delivery: Delivery | None = None
    if message.author_kind == "agent" and message.client_id:
        delivery = stored.delivery.value
    return TranscriptItem(
        id=item_id(stored),
        author=message.author_name or message.author_kind,
        author_kind=message.author_kind,
        body=message.body,
        created_at=message.created_at,
        internal=message.internal,
        delivery=delivery,
        attachments=tuple(TranscriptAttachment(a.filename, a.size) for a in message.attachments),
        trigger_spans=tuple(
            (span.start, span.end, str(span.category)) for span in stored.triggers.spans
        ),
        revision=_DELIVERY_REVISION[stored.delivery.value] + revision,
    )


_DELIVERY_REVISION = {"pending": 0, "sent": 1, "failed": 2}


def item_id(stored: StoredMessage) -> str:
    """The transcript item id: the message's ``stable_key``, the key a change names it by."""
    return stored.stable_key


def _has_older(transcript: Transcript) -> bool:
    """Older history to load from the top: unknown (so not offered) until a page came."""
    return transcript.loaded and transcript.has_more_before


class ChatPane(Vertical):
    """A conversation: header, transcript and composer."""

    # Focus is a shape, not only a colour (issue 14): in a 256- or 16-colour
    # terminal the accent and warning colours can be the same, so the focused
    # pane alone has a double border and an inverse title; the SLA level keeps
    # its colour on either shape (round/heavy unfocused, double focused).
    DEFAULT_CSS = """
    ChatPane {
        border: round $panel-lighten-2; height: 1fr; width: 1fr;
        border-title-align: left; border-title-color: $text-muted;
    }
    ChatPane.-warning { border: round $warning; }
    ChatPane.-critical { border: heavy $error; }
    ChatPane:focus-within {
        border: double $accent;
        border-title-color: $accent; border-title-style: reverse bold;
    }
    ChatPane:focus-within.-warning { border: double $warning; border-title-color: $warning; }
    ChatPane:focus-within.-critical { border: double $error; border-title-color: $error; }
    ChatPane.-trigger PaneHeader { background: $error 30%; }
    ChatPane > TranscriptView { height: 1fr; }
    ChatPane > Composer, ChatPane > Composer:focus {
        border: none; border-top: hkey $panel-lighten-2; padding: 0 1; max-height: 8;
    }
    ChatPane > Composer:focus { border-top: hkey $accent; }
    """

    def __init__(
        self, conversation_id: str, controller: WorkspaceController, drafts: dict[str, str]
    ) -> None:
        super().__init__(id=f"pane-{conversation_id}", classes="chat-pane")
        self.conversation_id = conversation_id
        self.controller = controller
        self.drafts = drafts
        self._index = -1
        self.index = 0
        self.warning_seconds = 60.0
        self.critical_seconds = 180.0
        self._revision = -1
        self._loaded = False  # the transcript view holds the whole transcript once mounted
        self._labels_revision = -2

    @property
    def index(self) -> int:
        """Place in the grid (0-based); shown as the border title, inverse when focused."""
        return self._index

    @index.setter
    def index(self, value: int) -> None:
        if value == self._index:
            return
        self._index = value
        number = CIRCLED[value] if 0 <= value < len(CIRCLED) else f"{value + 1}"
        self.border_title = Content(f" {number} ")

    @property
    def jump_key(self) -> str:
        return str(self.index + 1)

    @property
    def entry(self) -> ConversationEntry | None:
        return self.controller.entry(self.conversation_id)

    @property
    def conversation(self) -> m.Conversation | None:
        entry = self.entry
        return entry.conversation if entry is not None else None

    def compose(self) -> ComposeResult:
        yield PaneHeader(self)
        yield TranscriptView(id=f"transcript-{self.conversation_id}")
        yield Composer(
            conversation_id=self.conversation_id,
            drafts=self.drafts,
            clear_on_submit=False,
            id=f"composer-{self.conversation_id}",
        )

    def on_mount(self) -> None:
        # After the first layout, so the view knows its size when it scrolls to the newest
        # message (a key pressed before that would find it not laid out).
        self.call_after_refresh(self._first_load)

    def _first_load(self) -> None:
        if not self._loaded:
            self.refresh_messages()

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def transcript(self) -> TranscriptView:
        return self.query_one(TranscriptView)

    def focus_composer(self) -> None:
        self.composer.focus()

    def refresh_messages(self) -> None:
        """Show the whole transcript (when the pane mounts); later changes come precisely
        through :meth:`apply_messages`."""
        views = self.query(TranscriptView)  # composed before on_mount runs (is_mounted is not)
        if not views:
            return
        transcript = self.controller.store.transcript(self.conversation_id)
        self._revision = transcript.revision
        self._loaded = True
        views.first().set_items(
            [transcript_item(stored) for stored in transcript], has_older=_has_older(transcript)
        )

    def apply_messages(self, rows: Rows) -> None:
        """Apply exactly the messages a change names (by ``StoredMessage.stable_key``):
        removed ones leave, updated ones (delivery state) are replaced in place, added
        ones go where the transcript has them - appended after the newest (the usual
        case), prepended before the oldest shown (history), or inserted before the
        message they precede (a gap filled after a reconnect).  Nothing else is
        compared or redrawn."""
        if not self._loaded:
            self.refresh_messages()  # not composed yet: on_mount shows the whole transcript
            return
        transcript = self.controller.store.transcript(self.conversation_id)
        self._revision = transcript.revision
        view = self.transcript
        if rows.removed:
            view.remove_items(rows.removed)
        for key in rows.updated:
            stored = transcript.find(key)
            if stored is None:
                view.remove_items((key,))
                continue
            item = transcript_item(stored)
            if view.get_item(key) != item:
                view.update_item(item)
        if rows.added:
            self._place(transcript, transcript.in_order(rows.added))
        view.has_older = _has_older(transcript)

    def _place(self, transcript: Transcript, added: list[tuple[int, StoredMessage]]) -> None:
        """Put new messages (in transcript order) before the shown message that follows
        them; none follows: at the end."""
        view = self.transcript
        placed: list[tuple[str | None, TranscriptItem]] = []
        successor: str | None = None
        next_index: int | None = None
        for index, stored in reversed(added):
            item = transcript_item(stored)
            if next_index is None or index + 1 != next_index:
                successor = self._shown_after(transcript, index)
            next_index = index
            known = view.get_item(item.id)
            if known is not None:  # shown already (a pane mounted after the change)
                if known != item:
                    view.update_item(item)
                successor = item.id
                continue
            placed.append((successor, item))
        placed.reverse()
        for before, group in groupby(placed, key=lambda pair: pair[0]):
            items = [item for _, item in group]
            if before is None:
                view.extend(items)
            else:
                view.insert_items(items, before=before)

    def _shown_after(self, transcript: Transcript, index: int) -> str | None:
        """The first sent message after ``index`` that the view shows.  Unsent replies
        (pending, failed) do not count: a message arriving while one of ours waits goes
        at the end, as it did before."""
        view = self.transcript
        for later in range(index + 1, len(transcript)):
            stored = transcript[later]
            if stored.delivery != "sent":
                return None
            if view.get_item(stored.stable_key) is not None:
                return stored.stable_key
        return None

    def prepend_older(self) -> None:
        """After a history page: put the messages older than what is shown on top."""
        transcript = self.controller.store.transcript(self.conversation_id)
        view = self.transcript
        older: list[TranscriptItem] = []
        for index in range(len(transcript)):
            stored = transcript[index]
            if view.get_item(stored.stable_key) is not None:
                break
            older.append(transcript_item(stored))
        self._revision = transcript.revision
        view.prepend_items(older, has_older=transcript.has_more_before)

    def recent_trigger_labels(self) -> list[str]:
        """Labels of the trigger categories in the last five customer messages since the
        agent last answered (an answered trigger clears the badge)."""
        transcript = self.controller.store.transcript(self.conversation_id)
        categories: list[Category] = []
        seen = 0
        for index in range(len(transcript) - 1, -1, -1):
            stored = transcript[index]
            if (
                stored.message.author_kind == "agent"
                and not stored.message.internal
                and stored.delivery == "sent"
            ):
                break
            if stored.message.author_kind != "customer" or stored.message.internal:
                continue
            for span in stored.triggers.spans:
                if span.category not in categories:
                    categories.append(span.category)
            seen += 1
            if seen >= 5:
                break
        return [category_label(category) for category in categories]

    def header(self) -> Content:
        entry = self.entry
        if entry is None or entry.conversation is None:
            return Content(tr("chat_closed"))
        state = self.controller.pane(self.conversation_id)
        if self._revision != self._labels_revision:
            state.trigger_categories = self.recent_trigger_labels()
            self._labels_revision = self._revision
        now = self.controller.clock()
        typing = any(
            t.author_kind == "customer"
            for t in self.controller.store.typing(self.conversation_id, now)
        )
        return header_content(
            self.index,
            entry,
            state,
            now,
            promise=self.controller.promises.get(self.conversation_id),
            typing=typing,
            warning=self.warning_seconds,
            critical=self.critical_seconds,
        )

    def tick(self) -> None:
        """Refresh timers and colours (once a second)."""
        if not self.is_mounted:
            return
        entry = self.entry
        if entry is not None:
            waited = wait_seconds(entry, self.controller.clock())
            level = wait_level(waited, self.warning_seconds, self.critical_seconds)
            self.set_class(level == "warning", "-warning")
            self.set_class(level == "critical", "-critical")
            self.set_class(entry.severity > 0, "-trigger")
        for header in self.query(PaneHeader):
            header.refresh()
