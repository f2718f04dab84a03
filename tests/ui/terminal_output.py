"""What the app would write to a real terminal, and the check that nothing hostile is in it.

Under ``run_test`` the headless driver discards output, so ``frame_bytes``
renders the current screen the way ``App._display`` does for a real driver: a
full compositor update turned into terminal sequences by the app's Rich
console (the same escape codes, the same text).  ``foreign_controls`` removes
the sequences Textual itself emits (SGR colours, cursor moves, OSC 8
hyperlinks that Rich writes for ``link`` styles) and reports any control
character left: whatever remains came from outside text.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

# Textual's own output: CSI sequences for SGR (m), cursor moves (H, A-D, G) and
# erase (J, K), and OSC 8 hyperlinks (ESC ] 8 ; params ; uri ESC \).
_OWN_SEQUENCES = re.compile(
    r"\x1b\[[0-9;:?]*[mHABCDGJKlh]"
    r"|\x1b\]8;[^\x07\x1b]*;[^\x07\x1b]*\x1b\\"
)
_ALLOWED = {"\n", "\r"}
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
ZERO_WIDTH = set("\u200b\u200c\u2060\ufeff")


def frame_bytes(app: Any) -> str:
    """The terminal sequence a real driver would receive for a full repaint of the screen."""
    screen = app.screen
    update = screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    return str(update.render_segments(app.console))


def foreign_controls(frame: str) -> list[str]:
    """Control, C1, bidi and zero-width characters not produced by Textual itself."""
    rest = _OWN_SEQUENCES.sub("", frame)
    found: list[str] = []
    for ch in rest:
        if ch in _ALLOWED:
            continue
        if unicodedata.category(ch) == "Cc" or ch in BIDI or ch in ZERO_WIDTH:
            found.append(f"U+{ord(ch):04X}")
    return found


def links_in(frame: str) -> list[str]:
    """Targets of OSC 8 hyperlinks in the frame (hostile ``[link=…]`` must make none)."""
    targets = re.findall(r"\x1b\]8;[^;\x07\x1b]*;([^\x07\x1b]*)\x1b\\", frame)
    return [target for target in targets if target]  # an empty target closes a link
