"""The reply composer: a multi-line ``TextArea`` where Enter sends.

Keys (binding ids in brackets, remappable through the app keymap):

* ``enter`` sends the reply (``send-reply``).
* ``ctrl+j`` and ``alt+enter`` insert a newline (``insert-newline``).  Many
  terminals never report shift+enter, so it is not relied on.  ctrl+j is the
  line-feed byte every terminal sends: the reliable key.  alt+enter works only
  where the terminal reports it as such (kitty keyboard protocol: kitty,
  WezTerm, foot, Ghostty, ...); a legacy terminal or tmux sends ESC CR, which
  Textual's parser turns into a plain ``enter`` (checked against
  ``textual._xterm_parser`` 8.2.8), so there alt+enter *sends*.
* ``/`` or ``#`` typed into an empty composer asks for the canned-reply
  palette (``Composer.CannedRequested``); pressing Enter on a lone
  ``/word`` or ``#word`` asks for it with ``word`` as the query instead of
  sending it.

Grapheme clusters: Textual's ``TextArea`` moves and deletes by code point, so
Backspace after 👨‍👩‍👧 would leave 👨‍👩‍ behind.  Cursor movement left/right
and Backspace/Delete here step over whole extended grapheme clusters
(``console.core.text.graphemes``): emoji ZWJ sequences, flags, skin tones,
Hangul jamo sequences and kana with combining (han)dakuten.

Keys that arrive in one burst (one terminal read: a fast typist, an IME
commit followed by Enter, ``tmux send-keys 'text' Enter``, an unbracketed
paste) keep their order.  The two bindings are priority bindings (TextArea
would otherwise turn Enter into a line break), and the app runs those in its
own task the moment it reads the key, while the text keys before it are still
queued for the composer.  So ``send`` and ``insert_newline`` do their work
through the composer's own message queue (``call_later``), after the keys that
came first.  With ``clear_on_submit=False`` the host clears the text (or
points at a problem) when it handles ``Submitted``; until it has answered (at
most ``HOST_ANSWER_TIMEOUT`` seconds) the composer handles no further keys, so
a second Enter in the same burst cannot send the first text again and the
host's clearing cannot wipe what was typed after the Enter.

The other way round, TextArea's own editing keys (Backspace, arrows, ctrl+u,
...) are ordinary bindings, which Textual runs only when the key has bubbled up
to the app, after the characters typed behind them have been inserted
(Textualize/textual#6605: ``abc`` Backspace ``d`` in one read gave ``abcd``).
The composer runs its own non-priority bindings when the key reaches it.

Typing notifications are throttled: ``Typing(True)`` at most once per
``typing_interval`` seconds while keys arrive, ``Typing(False)`` after
``typing_idle`` seconds without an edit, on send and on switching
conversation.  Loading a draft or a canned reply does not count as typing.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import ClassVar

from textual import events
from textual.binding import BindingType
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import TextArea
from textual.widgets.text_area import Location, Selection

from console.core.text import graphemes
from console.protocol.limits import MAX_BODY_CHARS
from console.ui.bindings import bindings_for, translate_bindings
from console.ui.safe import neutralize_controls, widget_text

__all__ = ["CANNED_PREFIXES", "Composer"]

CANNED_PREFIXES = ("/", "#")

HOST_ANSWER_TIMEOUT = 1.0
"""Seconds the composer holds later keys while the host decides about a reply."""


def _boundaries(line: str) -> list[int]:
    """Code-point offsets of the grapheme boundaries in ``line`` (0 and len included)."""
    offsets = [0]
    position = 0
    for cluster in graphemes(line):
        position += len(cluster)
        offsets.append(position)
    return offsets


def _clean(text: str) -> str:
    """Pasted or inserted text with line breaks normalized and controls made visible."""
    return neutralize_controls(text.replace("\r\n", "\n").replace("\r", "\n"))


def _is_canned_trigger(stripped: str) -> bool:
    """``/word`` or ``#word`` alone: a palette request, not a message."""
    return stripped[0] in CANNED_PREFIXES and not any(ch.isspace() for ch in stripped)


class Composer(TextArea):
    """Multi-line reply input with per-conversation drafts."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("composer")

    DEFAULT_CSS = """
    Composer {
        height: auto;
        min-height: 3;
        max-height: 10;
    }
    Composer.-note, Composer.-note:focus {
        border: tall $warning;
        background: $warning 12%;
        border-title-color: $warning;
        border-title-style: bold;
    }
    """

    class Submitted(Message):
        """The agent pressed Enter on a non-empty reply (``internal``: a note, never sent
        to the customer)."""

        def __init__(
            self,
            composer: Composer,
            text: str,
            conversation_id: str | None,
            *,
            internal: bool = False,
        ) -> None:
            super().__init__()
            self.composer = composer
            self.text = text
            self.conversation_id = conversation_id
            self.internal = internal

        @property
        def control(self) -> Composer:
            return self.composer

    class Typing(Message):
        """Typing started (repeated at most every ``typing_interval`` s) or stopped."""

        def __init__(self, composer: Composer, active: bool, conversation_id: str | None) -> None:
            super().__init__()
            self.composer = composer
            self.active = active
            self.conversation_id = conversation_id

        @property
        def control(self) -> Composer:
            return self.composer

    class CannedRequested(Message):
        """The agent asked for the canned-reply palette with a ``/`` or ``#`` prefix."""

        def __init__(self, composer: Composer, query: str, prefix: str) -> None:
            super().__init__()
            self.composer = composer
            self.query = query
            self.prefix = prefix

        @property
        def control(self) -> Composer:
            return self.composer

    def __init__(
        self,
        text: str = "",
        *,
        conversation_id: str | None = None,
        drafts: dict[str, str] | None = None,
        clear_on_submit: bool = True,
        typing_interval: float = 2.0,
        typing_idle: float = 5.0,
        max_length: int = MAX_BODY_CHARS,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
        read_only: bool = False,
    ) -> None:
        super().__init__(
            text,
            soft_wrap=True,
            tab_behavior="focus",
            show_line_numbers=False,
            name=name,
            id=id,
            classes=classes,
            disabled=disabled,
            read_only=read_only,
            placeholder=widget_text("widgets.composer.placeholder"),
        )
        translate_bindings(self)
        self.drafts: dict[str, str] = {} if drafts is None else drafts
        """Unsent text per conversation id; may be shared between composers."""
        self.conversation_id = conversation_id
        self.clear_on_submit = clear_on_submit
        self.typing_interval = typing_interval
        self.typing_idle = typing_idle
        self.max_length = max_length
        """Longest reply in characters (the server's body limit); longer ones are refused."""
        self._typing_active = False
        self._typing_sent_at = 0.0
        self._idle_timer: Timer | None = None
        # Set while a Submitted waits for the host's answer (clear_on_submit=False).
        self._host_answer: asyncio.Event | None = None
        # Text that was put here by code (draft, canned reply): not typing.
        self._programmatic_text: str | None = text
        if conversation_id is not None and not text:
            draft = self.drafts.get(conversation_id, "")
            if draft:
                self.load_text(draft)
                self._programmatic_text = draft

    # ------------------------------------------------------------------ drafts

    def save_draft(self) -> None:
        """Store the current text as the draft of the current conversation."""
        if self.conversation_id is None:
            return
        if self.text.strip():
            self.drafts[self.conversation_id] = self.text
        else:
            self.drafts.pop(self.conversation_id, None)

    def load_draft(self, conversation_id: str | None) -> None:
        """Switch to another conversation: keep this one's draft, show that one's."""
        if conversation_id == self.conversation_id:
            return
        self.save_draft()
        self._stop_typing()
        self.conversation_id = conversation_id
        draft = self.drafts.get(conversation_id, "") if conversation_id is not None else ""
        self._set_text_programmatically(draft)

    def set_reply(self, text: str) -> None:
        """Replace the text (e.g. with a filled canned reply); not counted as typing."""
        self._set_text_programmatically(_clean(text))
        self.save_draft()

    def insert_reply(self, text: str) -> None:
        """Put a chosen canned reply in: replaces a lone ``/query`` trigger, else inserts at the cursor."""
        text = _clean(text)
        stripped = self.text.strip()
        if not stripped or _is_canned_trigger(stripped):
            self.set_reply(text)
            return
        start, end = self.selection
        result = self.replace(text, start, end, maintain_selection_offset=False)
        self._programmatic_text = self.text
        self.move_cursor(result.end_location)
        self.save_draft()

    @property
    def note_mode(self) -> bool:
        """Enter saves an internal note instead of sending a reply."""
        return self.has_class("-note")

    def set_note_mode(self, on: bool) -> None:
        """Switch between reply and internal note: warning-coloured border, a label saying
        the customer does not see it, and no typing indicator for the customer."""
        if on == self.note_mode:
            return
        if on:
            self._stop_typing()
        self.set_class(on, "-note")
        self.border_title = widget_text("widgets.composer.note_label") if on else None
        self.placeholder = widget_text(
            "widgets.composer.note_placeholder" if on else "widgets.composer.placeholder"
        )

    def canned_query(self) -> str:
        """The word after a lone ``/`` or ``#`` trigger (what the palette searches), else ``""``."""
        stripped = self.text.strip()
        return stripped[1:] if stripped and _is_canned_trigger(stripped) else ""

    def clear_canned_trigger(self) -> None:
        """Remove a lone ``/word`` or ``#word`` trigger (the palette closed)."""
        stripped = self.text.strip()
        if stripped and _is_canned_trigger(stripped):
            self.set_reply("")

    def select_range(self, start: int, end: int) -> None:
        """Select character offsets ``[start, end)`` of the text (to point at a problem)."""
        self.selection = Selection(self._offset_to_location(start), self._offset_to_location(end))
        self._host_answered()

    def _offset_to_location(self, offset: int) -> Location:
        offset = max(0, min(offset, len(self.text)))
        before = self.text[:offset]
        row = before.count("\n")
        column = offset - (before.rfind("\n") + 1)
        return (row, column)

    def _set_text_programmatically(self, text: str) -> None:
        self._programmatic_text = text
        self.load_text(text)
        self.move_cursor(self.document.end)
        self._host_answered()

    def _host_answered(self) -> None:
        if self._host_answer is not None:
            self._host_answer.set()

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("send", "insert_newline") and self.read_only:
            return False
        return super().check_action(action, parameters)

    def action_send(self) -> None:
        """Post ``Submitted`` (or ``CannedRequested`` for a lone ``/word``).

        Runs after the keys already queued for the composer (see the module
        docstring): Enter at the end of a burst sends the whole burst.
        """
        self.call_later(self._send)

    async def _send(self) -> None:
        if self.read_only:
            return
        text = self.text
        stripped = text.strip()
        if not stripped:
            return
        if _is_canned_trigger(stripped):
            self.post_message(self.CannedRequested(self, stripped[1:], stripped[0]))
            return
        if len(text) > self.max_length:
            # Refuse here with the overflow selected instead of a 400 from the server.
            self.select_range(self.max_length, len(text))
            self.app.bell()
            self.notify(
                widget_text(
                    "widgets.composer.too_long",
                    count=f"{len(text):,}",
                    limit=f"{self.max_length:,}",
                ),
                severity="error",
                markup=False,
            )
            return
        self._stop_typing()
        message = self.Submitted(self, text, self.conversation_id, internal=self.note_mode)
        if self.clear_on_submit:
            self.post_message(message)
            self._set_text_programmatically("")
            if self.conversation_id is not None:
                self.drafts.pop(self.conversation_id, None)
            return
        # The host clears the text or selects a problem.  Keys queued behind this
        # Enter wait for that: straight to the parent, since this queue is held.
        parent = self.parent
        if parent is None:
            return
        self._host_answer = answer = asyncio.Event()
        try:
            if parent.post_message(message):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(answer.wait(), HOST_ANSWER_TIMEOUT)
        finally:
            self._host_answer = None

    def action_insert_newline(self) -> None:
        """Insert a line break where the keys typed before it have put the cursor."""
        self.call_later(self._insert_newline)

    def _insert_newline(self) -> None:
        if self.read_only:
            return
        start, end = self.selection
        self.replace("\n", start, end, maintain_selection_offset=False)

    # ------------------------------------------------------------------ graphemes

    def get_cursor_left_location(self) -> Location:
        row, column = self.cursor_location
        if column == 0:
            return super().get_cursor_left_location()
        line = self.document[row]
        previous = 0
        for boundary in _boundaries(line):
            if boundary >= column:
                break
            previous = boundary
        return (row, previous)

    def get_cursor_right_location(self) -> Location:
        row, column = self.cursor_location
        line = self.document[row]
        if column >= len(line):
            return super().get_cursor_right_location()
        for boundary in _boundaries(line):
            if boundary > column:
                return (row, boundary)
        return (row, len(line))

    # ------------------------------------------------------------------ typing

    async def _on_paste(self, event: events.Paste) -> None:
        # A paste can carry terminal escape sequences (copied coloured output);
        # TextArea would render them raw, so make them visible first.
        event.prevent_default()
        event.stop()
        if self.read_only:
            return
        start, end = self.selection
        result = self.replace(_clean(event.text), start, end, maintain_selection_offset=False)
        self.move_cursor(result.end_location)
        self.focus()

    async def _on_key(self, event: events.Key) -> None:
        if await self._run_own_binding(event):
            return
        if (
            event.character in CANNED_PREFIXES
            and not self.read_only
            and not self.text
            and event.is_printable
        ):
            await super()._on_key(event)
            self.post_message(self.CannedRequested(self, "", event.character or ""))
            return
        await super()._on_key(event)

    async def _run_own_binding(self, event: events.Key) -> bool:
        """Run this widget's (keymap-aware) non-priority binding for the key now, in order."""
        for binding in self._bindings.key_to_bindings.get(event.key, ()):
            if binding.priority:
                continue
            if await self.app.run_action(binding.action, self):
                event.stop()
                event.prevent_default()
                return True
        return False

    def _update_counter(self) -> None:
        """Show ``used/limit`` under the composer from 90% of the limit on."""
        used = len(self.text)
        if used * 10 < self.max_length * 9:
            if self.border_subtitle:
                self.border_subtitle = None
            return
        style = "bold $error" if used > self.max_length else "$warning"
        self.border_subtitle = Content.styled(f"{used:,}/{self.max_length:,}", style)

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if event.text_area is not self:
            return
        self._update_counter()
        self.save_draft()
        if self._programmatic_text is not None and self.text == self._programmatic_text:
            return
        self._programmatic_text = None
        if not self.text:
            self._stop_typing()
            return
        self._note_typing()

    def _note_typing(self) -> None:
        if self.note_mode:
            return  # writing a note: the customer must not see "agent is typing"
        now = time.monotonic()
        if not self._typing_active or now - self._typing_sent_at >= self.typing_interval:
            self._typing_active = True
            self._typing_sent_at = now
            self.post_message(self.Typing(self, True, self.conversation_id))
        if self._idle_timer is not None:
            self._idle_timer.stop()
        self._idle_timer = self.set_timer(self.typing_idle, self._stop_typing)

    def _stop_typing(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.stop()
            self._idle_timer = None
        if self._typing_active:
            self._typing_active = False
            self.post_message(self.Typing(self, False, self.conversation_id))

    @property
    def typing_active(self) -> bool:
        return self._typing_active

    def on_unmount(self) -> None:
        self.save_draft()
