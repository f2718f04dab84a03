"""Waiting conversations, longest wait first, with accept on Enter.

Prompts are ``Content`` built from plain strings: an ``OptionList`` given a
``str`` would parse a customer's name as markup.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from console.core.changes import Rows
from console.core.duration import format_duration
from console.core.store import ConversationEntry
from console.core.text import cell_width, truncate
from console.core.workspace import QueueLine, tr, wait_seconds
from console.ui.bindings import bindings_for, translate_bindings
from console.ui.widgets.pane import wait_level


def queue_prompt(
    entry: ConversationEntry,
    now: datetime,
    warning: float,
    critical: float,
    line: QueueLine | None = None,
    width: int = 36,
) -> Content:
    """``  2:05  정하늘 · Billing ⚑ anger ↺ returning``, then the customer's last line
    (cut to ``width`` cells) on a second row; the department's hours when it is closed."""
    conversation = entry.conversation
    assert conversation is not None
    waited = wait_seconds(entry, now) or 0.0
    level = wait_level(waited, warning, critical)
    style = {"ok": "", "warning": "$warning", "critical": "bold $error"}[level]
    waited_text = format_duration(waited)
    waited_text = " " * max(0, 6 - cell_width(waited_text)) + waited_text  # right-aligned, CJK too
    parts: list[str | tuple[str, str]] = [
        (waited_text, style),
        "  ",
        (conversation.customer_name, "bold"),
    ]
    if conversation.department_name:
        parts += [" · ", (conversation.department_name, "dim")]
    if line is None:
        return Content.assemble(*parts)
    if line.triggers:
        parts += ["  ", ("⚑ " + ", ".join(line.triggers), "bold $error")]
    if line.returning:
        parts += ["  ", ("↺ " + tr("queue_returning"), "$accent")]
    if not line.department_open:
        parts += ["  ", ("☾ " + tr("queue_department_closed"), "$warning")]
    if line.preview:
        # width is the panel's minus 2; the list's scrollbar and padding take ~3 more: a
        # longer preview wrapped into a second row holding only its tail (seen at 80x24).
        parts += ["\n    ", (truncate(line.preview, max(8, width - 7)), "italic $text-muted")]
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

    def apply_rows(
        self,
        rows: Rows,
        queued: list[ConversationEntry],
        now: datetime,
        warning: float,
        critical: float,
        describe: Callable[[ConversationEntry], QueueLine] | None = None,
    ) -> None:
        """Apply exactly the queue rows a change names: removed rows leave, added ones
        are appended, updated ones get a new prompt; no other row is built or compared
        (the once-a-second ``show`` moves the wait times).  A row that would land
        anywhere but the end (the queue order changed) falls back to ``show``."""
        ids = [entry.id for entry in queued]
        kept = [cid for cid, _ in self._shown if cid not in rows.removed]
        if ids[: len(kept)] != kept or not set(ids[len(kept) :]) <= rows.added:
            self.show(queued, now, warning, critical, describe)
            return
        title = Content(tr("queue_title", count=len(queued)))
        if title != self._title:
            self.query_one("#queue-title", Static).update(title, layout=False)
            self._title = title
        queue_list = self.queue_list
        width = (self.size.width or 36) - 2
        by_id = {entry.id: entry for entry in queued}

        def prompt(cid: str) -> Content:
            entry = by_id[cid]
            return queue_prompt(
                entry, now, warning, critical, describe(entry) if describe else None, width
            )

        shown = dict(self._shown)
        removed = [cid for cid in shown if cid in rows.removed]
        if removed:
            index = queue_list.highlighted
            highlighted = (
                queue_list.get_option_at_index(index).id
                if index is not None and queue_list.option_count
                else None
            )
            for cid in removed:
                queue_list.remove_option(cid)
                del shown[cid]
            if kept:
                queue_list.highlighted = (
                    kept.index(highlighted)
                    if highlighted in kept
                    else min(index or 0, len(kept) - 1)
                )
        for cid in rows.updated:
            if cid in shown:
                new = prompt(cid)
                if new != shown[cid]:
                    queue_list.replace_option_prompt(cid, new)
                    shown[cid] = new
        added = [(cid, prompt(cid)) for cid in ids[len(kept) :]]
        if added:
            queue_list.add_options([Option(content, id=cid) for cid, content in added])
            shown.update(added)
            if queue_list.highlighted is None:
                queue_list.highlighted = 0
        self._shown = tuple((cid, shown[cid]) for cid in ids)

    def show(
        self,
        queued: list[ConversationEntry],
        now: datetime,
        warning: float,
        critical: float,
        describe: Callable[[ConversationEntry], QueueLine] | None = None,
    ) -> None:
        title = Content(tr("queue_title", count=len(queued)))
        if title != self._title:
            # One row of a fixed height, as wide as the panel: no layout needed.
            self.query_one("#queue-title", Static).update(title, layout=False)
            self._title = title
        queue_list = self.queue_list
        width = self.size.width or 36
        shown = tuple(
            (
                c.id,
                queue_prompt(
                    c, now, warning, critical, describe(c) if describe else None, width - 2
                ),
            )
            for c in queued
        )
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
        index = queue_list.highlighted
        highlighted = (
            queue_list.get_option_at_index(index).id
            if index is not None and queue_list.option_count
            else None
        )
        queue_list.clear_options()
        queue_list.add_options([Option(prompt, id=cid) for cid, prompt in shown])
        if queued:
            # The same chat stays highlighted; if it left the queue (accepted, taken by a
            # colleague), the row now at its place: Enter on the queue always has a target.
            ids = [conversation.id for conversation in queued]
            queue_list.highlighted = (
                ids.index(highlighted) if highlighted in ids else min(index or 0, len(ids) - 1)
            )
