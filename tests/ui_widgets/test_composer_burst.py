"""Composer: keys that arrive in one burst (one terminal read) keep their order.

A fast typist, an IME commit followed by Enter, ``tmux send-keys 'text' Enter``
or an unbracketed paste ending in a line break all hand the app several keys in
one ``read()``.  The bytes here go through the same path as in a terminal:
Textual's ``XTermParser`` in a thread of its own, then
``Driver.process_message`` (what ``LinuxDriver.run_input_thread`` does), so all
the key events are queued on the app before it handles the first one.
``Pilot.press`` waits for the app to go idle after every key and so never
showed the bug: Enter's priority binding ran in the app's task while the text
keys were still waiting in the composer's queue, found the composer empty and
sent nothing.
"""

from __future__ import annotations

import asyncio

from textual._xterm_parser import XTermParser
from textual.pilot import Pilot

from console.ui.widgets.composer import Composer
from tests.ui_widgets.test_composer import ComposerApp


def _feed_burst(app: ComposerApp, data: str) -> None:
    """Parse ``data`` as one terminal read and hand the events to the driver (input thread)."""
    driver = app._driver
    assert driver is not None
    parser = XTermParser()
    for event in parser.feed(data):
        driver.process_message(event)
    for event in parser.tick():
        driver.process_message(event)


async def _burst(app: ComposerApp, pilot: Pilot[None], data: str) -> None:
    await asyncio.to_thread(_feed_burst, app, data)
    # The posts are scheduled on the loop from the thread; let them all run.
    for _ in range(3):
        await pilot.pause()


async def test_text_and_enter_in_one_burst_sends_once() -> None:
    """``third test`` + CR in one read sends ``third test`` exactly once and clears."""
    app = ComposerApp(conversation_id="c1")
    async with app.run_test() as pilot:
        app.composer.focus()
        await pilot.pause()
        await _burst(app, pilot, "third test\r")
        assert [m.text for m in app.of(Composer.Submitted)] == ["third test"]
        assert app.composer.text == ""
        assert "c1" not in app.composer.drafts


async def test_two_lines_in_one_burst_send_two_messages_in_order() -> None:
    """``a`` Enter ``b`` Enter in one read: two replies, in typing order."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        app.composer.focus()
        await pilot.pause()
        await _burst(app, pilot, "first\rsecond\r")
        assert [m.text for m in app.of(Composer.Submitted)] == ["first", "second"]
        assert app.composer.text == ""


async def test_ctrl_j_in_a_burst_breaks_the_line_where_it_was_typed() -> None:
    """``abc`` ctrl+j (LF) ``def`` in one read is ``abc\\ndef``, not ``\\nabcdef``."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        app.composer.focus()
        await pilot.pause()
        await _burst(app, pilot, "abc\ndef")
        assert app.composer.text == "abc\ndef"
        assert not app.of(Composer.Submitted)


async def test_bracketed_paste_with_line_breaks_inserts_them_without_sending() -> None:
    """A real (bracketed) paste keeps its line breaks and sends nothing."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        app.composer.focus()
        await pilot.pause()
        await _burst(app, pilot, "\x1b[200~line one\rline two\r\n\x1b[201~")
        assert app.composer.text == "line one\nline two\n"
        assert not app.of(Composer.Submitted)
        await _burst(app, pilot, "\r")
        assert [m.text for m in app.of(Composer.Submitted)] == ["line one\nline two\n"]


async def test_paste_then_enter_in_one_burst_sends_the_paste_once() -> None:
    """A bracketed paste directly followed by Enter in the same read sends it once."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        app.composer.focus()
        await pilot.pause()
        await _burst(app, pilot, "\x1b[200~pasted\x1b[201~\r")
        assert [m.text for m in app.of(Composer.Submitted)] == ["pasted"]
        assert app.composer.text == ""


class HostClearsApp(ComposerApp):
    """Like the agent screen: the composer keeps its text, the host clears it when it
    accepts a reply and selects the problem when it refuses one (here: ``{``)."""

    def __init__(self) -> None:
        super().__init__(conversation_id="c1", clear_on_submit=False)

    def on_composer_submitted(self, message: Composer.Submitted) -> None:
        # Textual also runs ComposerApp's handler (every class in the MRO), which records it.
        if "{" in message.text:
            start = message.text.index("{")
            message.composer.select_range(start, start + 1)
        else:
            message.composer.set_reply("")


async def test_two_lines_in_one_burst_when_the_host_clears_the_composer() -> None:
    """The host's clearing of reply one neither resends it nor wipes reply two."""
    app = HostClearsApp()
    async with app.run_test() as pilot:
        app.composer.focus()
        await pilot.pause()
        await _burst(app, pilot, "first\rsecond\rthi")
        await pilot.pause()
        assert [m.text for m in app.of(Composer.Submitted)] == ["first", "second"]
        assert app.composer.text == "thi"


async def test_refused_reply_in_a_burst_keeps_its_text_and_what_follows() -> None:
    """A refused reply stays; keys after its Enter are added after the host answered."""
    app = HostClearsApp()
    async with app.run_test() as pilot:
        app.composer.focus()
        await pilot.pause()
        await _burst(app, pilot, "a{b\r")
        assert [m.text for m in app.of(Composer.Submitted)] == ["a{b"]
        assert app.composer.text == "a{b"
        assert app.composer.selected_text == "{"


async def test_editing_keys_in_a_burst_apply_where_they_were_typed() -> None:
    """Backspace and Left in one read act between the characters around them
    (Textualize/textual#6605: TextArea's own bindings used to run last)."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        app.composer.focus()
        await pilot.pause()
        await _burst(app, pilot, "abc\x7fd")
        assert app.composer.text == "abd"
        await _burst(app, pilot, "\x1b[D\x1b[DX")
        assert app.composer.text == "aXbd"
        assert not app.of(Composer.Submitted)
