"""Pane keys that work in tmux (issue 14 fix 3), against the real reference server.

xterm, tmux and ssh send Alt+2 as ``ESC 2``.  Textual used to parse that as the
macOS Option character ``™`` (a printable key), so with the composer focused
the pane key was dropped and ``™`` was typed into the reply.
"""

from __future__ import annotations

import asyncio

from textual._xterm_parser import XTermParser

from console.ui.bindings import human_key, install_alt_digit_keys
from console.ui.screens.help import active_binding_rows
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for


def terminal_keys(data: str) -> list[object]:
    """The key events Textual's own parser makes of the bytes a terminal sends."""
    parser = XTermParser()
    return [*parser.feed(data), *parser.feed("")]


def test_alt_digit_from_xterm_parses_as_alt_digit() -> None:
    install_alt_digit_keys()
    for digit in "123456":
        (event,) = terminal_keys(f"\x1b{digit}")
        assert getattr(event, "key", None) == f"alt+{digit}"
    # A pound sign typed on a UK keyboard is still a pound sign.
    (event,) = terminal_keys("£")
    assert getattr(event, "key", None) == "pound_sign"


def test_unicode_key_names_are_shown_as_the_character() -> None:
    assert human_key("trade_mark_sign") == "™"
    assert human_key("alt+inverted_exclamation_mark") == "alt+¡"
    assert human_key("ctrl+f") == "ctrl+f"
    assert human_key("shift+f8") == "shift+f8"


async def test_alt_2_from_tmux_moves_to_chat_2_while_typing(ref_server: RefServer) -> None:
    """``ESC 2`` with the first chat's composer focused: chat 2 gets focus, no ™ typed;
    the help lists ™, not trade_mark_sign."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Kai Ito", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        for name in ("Mina Park", "Yui Sato"):
            customer = Customer(ref_server, name)
            await asyncio.to_thread(customer.start, dept, f"hello from {name}")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: len(screen.grid.panes) == 2, what="two panes")
        first, second = screen.grid.panes
        first.composer.focus()
        await pilot.press(*"draft")
        await wait_for(pilot, lambda: first.composer.text == "draft", what="typing")
        for event in terminal_keys("\x1b2"):
            app.post_message(event)  # type: ignore[arg-type]
        await wait_for(pilot, lambda: screen.active_pane is second, what="chat 2 focused")
        assert first.composer.text == "draft"
        assert "™" not in second.composer.text
        rows = {row.id: row.keys for row in active_binding_rows(app, {})}
        assert "™" in rows["focus-chat-2"] and "trade_mark_sign" not in rows["focus-chat-2"]
