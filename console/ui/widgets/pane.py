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
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import RichLog, TextArea

from console.protocol import models as m
from console.ui.controller import PaneState, tr, wait_seconds

if TYPE_CHECKING:
    from console.ui.controller import WorkspaceController

CIRCLED = "①②③④⑤⑥⑦⑧⑨"


def format_duration(seconds: float) -> str:
    """``75`` → ``1:15``; ``3700`` → ``1:01:40``; negative → ``-0:05``."""
    sign = "-" if seconds < 0 else ""
    total = int(abs(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{sign}{hours}:{minutes:02d}:{secs:02d}"
    return f"{sign}{minutes}:{secs:02d}"


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
    conversation: m.Conversation,
    state: PaneState,
    now: datetime,
    *,
    warning: float,
    critical: float,
) -> Content:
    """The pane header line (plain data + our own styles; never markup)."""
    parts: list[str | Content | tuple[str, str]] = []
    number = CIRCLED[index] if 0 <= index < len(CIRCLED) else f"{index + 1}."
    parts += [(number, "bold"), " ", (conversation.customer_name, "bold")]
    if conversation.department_name:
        parts += [" · ", conversation.department_name]
    if conversation.page_url:
        parts += [" · ", (conversation.page_url, "dim")]
    waited = wait_seconds(conversation, now)
    level = wait_level(waited, warning, critical)
    if waited is not None:
        style = {"ok": "", "warning": "bold $warning", "critical": "bold reverse $error"}[level]
        parts += ["  ", (f"⏱ {tr('waiting_for_you', time=format_duration(waited))}", style)]
    if state.unread:
        parts += ["  ", (f"✉ {state.unread}", "bold $accent")]
    if state.trigger_hits:
        parts += ["  ", (f"⚑ {tr('trigger_badge', count=len(state.trigger_hits))}", "bold $error")]
    if state.customer_typing:
        parts += ["  ", (tr("typing"), "italic")]
    if state.promise is not None:
        left = (state.promise.deadline - now).total_seconds()
        style = "bold reverse $warning" if state.promise.alerted or left <= 0 else "$secondary"
        parts += ["  ", (f"⌛ {tr('promise_left', time=format_duration(left))}", style)]
    return Content.assemble(*parts)


class PaneHeader(Widget):
    """One-line header; re-rendered by the screen's one-second tick."""

    DEFAULT_CSS = """
    PaneHeader { height: 1; background: $boost; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def __init__(self, pane: ChatPane) -> None:
        super().__init__()
        self._pane = pane

    def render(self) -> Content:
        return self._pane.header()


class ChatPane(Vertical):
    """A conversation: header, transcript and composer."""

    DEFAULT_CSS = """
    ChatPane { border: round $panel-lighten-2; height: 1fr; width: 1fr; }
    ChatPane:focus-within { border: round $accent; }
    ChatPane.-warning { border: round $warning; }
    ChatPane.-critical { border: heavy $error; }
    ChatPane.-trigger PaneHeader { background: $error 30%; }
    """

    def __init__(self, conversation_id: str, controller: WorkspaceController) -> None:
        super().__init__(id=f"pane-{conversation_id}", classes="chat-pane")
        self.conversation_id = conversation_id
        self.controller = controller
        self.index = 0
        self.warning_seconds = 60.0
        self.critical_seconds = 180.0

    @property
    def jump_key(self) -> str:
        return str(self.index + 1)

    @property
    def conversation(self) -> m.Conversation | None:
        return self.controller.conversations.get(self.conversation_id)

    def compose(self) -> ComposeResult:
        yield PaneHeader(self)
        yield from self.compose_body()

    def compose_body(self) -> ComposeResult:
        yield FallbackTranscript(self.controller, self.conversation_id)
        yield FallbackComposer(self.conversation_id)

    @property
    def composer(self) -> FallbackComposer:
        return self.query_one(FallbackComposer)

    @property
    def transcript(self) -> FallbackTranscript:
        return self.query_one(FallbackTranscript)

    def refresh_messages(self) -> None:
        self.transcript.sync()

    def focus_composer(self) -> None:
        self.composer.focus()

    def header(self) -> Content:
        conversation = self.conversation
        if conversation is None:
            return Content(tr("chat_closed"))
        return header_content(
            self.index,
            conversation,
            self.controller.pane(self.conversation_id),
            self.controller.clock(),
            warning=self.warning_seconds,
            critical=self.critical_seconds,
        )

    def tick(self) -> None:
        """Refresh timers and colours (once a second)."""
        conversation = self.conversation
        if conversation is not None:
            waited = wait_seconds(conversation, self.controller.clock())
            level = wait_level(waited, self.warning_seconds, self.critical_seconds)
            self.set_class(level == "warning", "-warning")
            self.set_class(level == "critical", "-critical")
        self.set_class(bool(self.controller.pane(self.conversation_id).trigger_hits), "-trigger")
        self.query_one(PaneHeader).refresh()


class FallbackTranscript(RichLog):
    """Stand-in until the Line-API TranscriptView is wired in: plain Text only."""

    def __init__(self, controller: WorkspaceController, conversation_id: str) -> None:
        super().__init__(markup=False, wrap=True, highlight=False)
        self.controller = controller
        self.conversation_id = conversation_id
        self._shown = 0

    def on_mount(self) -> None:
        self.sync()

    def sync(self) -> None:
        messages = self.controller.messages.get(self.conversation_id, [])
        if len(messages) < self._shown:
            self.clear()
            self._shown = 0
        for message in messages[self._shown :]:
            line = Text()
            line.append(message.author_name or message.author_kind, style="bold")
            line.append(": ")
            line.append(message.body)
            self.write(line)
        self._shown = len(messages)


class FallbackComposer(TextArea):
    """Stand-in composer: Enter sends, shift+enter/ctrl+j inserts a newline."""

    class Submitted(Message):
        def __init__(self, composer: FallbackComposer, text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    BINDINGS = [("enter", "submit", "Send")]

    def __init__(self, conversation_id: str) -> None:
        super().__init__(soft_wrap=True, show_line_numbers=False, compact=True)
        self.conversation_id = conversation_id

    def action_submit(self) -> None:
        self.post_message(self.Submitted(self, self.text))
