"""shift+F8 / ctrl+F8 as terminals send them, through Textual's own xterm parser.

xterm, VTE terminals and tmux send shift+F8 as ``CSI 19;2~``: Textual 8 reads it as
``shift+f8``, but as ``f20`` (the terminfo name) when its kitty-key parsing is off
(``TEXTUAL_DISABLE_KITTY_KEY``), and a VT220-style keyboard sends F20 (``CSI 34~``).
ctrl+F8 is ``CSI 19;5~`` (xterm, tmux) or ``CSI 19^`` (rxvt).
"""

from __future__ import annotations

from unittest.mock import patch

import pytest
import textual.constants
from textual import events
from textual._xterm_parser import XTermParser

from console.ui.bindings import effective_keys

SHIFT_F8 = "\x1b[19;2~"
F20_VT220 = "\x1b[34~"
CTRL_F8_XTERM = "\x1b[19;5~"
CTRL_F8_RXVT = "\x1b[19^"


def terminal_keys(data: str, *, kitty: bool = True) -> list[events.Key]:
    """The key events Textual's parser makes of bytes from the terminal."""
    with patch.object(textual.constants, "DISABLE_KITTY_KEY", not kitty):
        parser = XTermParser()
        parsed = [*parser.feed(data), *parser.feed("")]
    return [event for event in parsed if isinstance(event, events.Key)]


@pytest.mark.parametrize(
    ("data", "kitty", "binding"),
    [
        (SHIFT_F8, True, "retry-failed"),
        (SHIFT_F8, False, "retry-failed"),
        (F20_VT220, False, "retry-failed"),
        (CTRL_F8_XTERM, True, "discard-failed"),
        (CTRL_F8_XTERM, False, "discard-failed"),
        (CTRL_F8_RXVT, True, "discard-failed"),
        (CTRL_F8_RXVT, False, "discard-failed"),
    ],
)
def test_the_keys_terminals_send_reach_the_binding(data: str, kitty: bool, binding: str) -> None:
    (event,) = terminal_keys(data, kitty=kitty)
    keys = effective_keys({})
    assert event.key in keys[binding], (data, event.key)
    owners = [bid for bid, bound in keys.items() if event.key in bound]
    assert owners == [binding]  # no other binding takes the same key
