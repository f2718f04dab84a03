"""Waiting conversations, longest wait first, with accept on Enter.

Prompts are ``Content`` built from plain strings: an ``OptionList`` given a
``str`` would parse a customer's name as markup.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.core.store import ConversationEntry
from console.core.workspace import tr, wait_seconds
from console.ui.bindings import bindings_for, translate_bindings
from console.ui.widgets.pane import format_duration, wait_level


def queue_prompt(
    entry: ConversationEntry, now: datetime, warning: float, critical: float
) -> Content:
    conversation = entry.conversation
    assert conversation is not None
    waited = wait_seconds(entry, now) or 0.0
    level = wait_level(waited, warning, critical)
    style = {"ok": "", "warning": "$warning", "critical": "bold $error"}[level]
    parts: list[str | tuple[str, str]] = [
        (format_duration(waited).rjust(6), style),
        "  ",
        (conversation.customer_name, "bold"),
    ]
    if conversation.department_name:
        parts += [" · ", (conversation.department_name, "dim")]
    return Content.assemble(*parts)


class QueueList(OptionList):
    BINDINGS = bindings_for("queue")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        translate_bindings(self)

    class AcceptRequested(Message):
        def __init__(self, conversation_id: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    def action_accept_selected(self) -> None:
        if self.highlighted is None:
            return
        option = self.get_option_at_index(self.highlighted)
        if option.id:
            self.post_message(self.AcceptRequested(option.id))


class QueuePanel(Vertical):
    """Title line with the count, then the list."""

    DEFAULT_CSS = """
    QueuePanel { height: 1fr; border-top: solid $panel-lighten-2; }
    QueuePanel > #queue-title { height: 1; text-style: bold; padding: 0 1; }
    QueuePanel > QueueList { height: 1fr; border: none; }
    """

    jump_key = "q"

    _title: Content | None = None
    _shown: tuple[tuple[str, Content], ...] = ()
    rebuilds = 0
    """Times the list was rebuilt (a probe for tests; a tick only rewrites prompts)."""

    def compose(self) -> ComposeResult:
        yield Static(Content(tr("queue_title", count=0)), id="queue-title")
        yield QueueList(id="queue-list")

    @property
    def queue_list(self) -> QueueList:
        return self.query_one(QueueList)

    def show(
        self, queued: list[ConversationEntry], now: datetime, warning: float, critical: float
    ) -> None:
        title = Content(tr("queue_title", count=len(queued)))
        if title != self._title:
            # One row of a fixed height, as wide as the panel: no layout needed.
            self.query_one("#queue-title", Static).update(title, layout=False)
            self._title = title
        queue_list = self.queue_list
        shown = tuple((c.id, queue_prompt(c, now, warning, critical)) for c in queued)
        if len(shown) == len(self._shown) and all(
            cid == old_id and len(prompt.plain) == len(old.plain)
            for (cid, prompt), (old_id, old) in zip(shown, self._shown, strict=True)
        ):
            # The once-a-second tick: same chats, same widths, new wait times.  Rewrite
            # the prompts that changed; the list keeps its options, size and highlight.
            for (cid, prompt), (_, old) in zip(shown, self._shown, strict=True):
                if prompt != old:
                    queue_list.replace_option_prompt(cid, prompt)
            self._shown = shown
            return
        self._shown = shown
        self.rebuilds += 1
        highlighted = (
            queue_list.get_option_at_index(queue_list.highlighted).id
            if queue_list.highlighted is not None and queue_list.option_count
            else None
        )
        queue_list.clear_options()
        queue_list.add_options([Option(prompt, id=cid) for cid, prompt in shown])
        if highlighted is not None:
            for index, conversation in enumerate(queued):
                if conversation.id == highlighted:
                    queue_list.highlighted = index
                    break
        elif queued:
            queue_list.highlighted = 0
