"""Hostile strings every widget that shows outside text must render literally."""

from __future__ import annotations

MARKUP = [
    "[@click=app.quit]click me[/]",
    "[/]",
    "[link=https://evil.example]free money[/link]",
    "[b]bold?[/b] [red]red?[/red]",
    "[@click=app.bell]ring",
    "\\[escaped] [/",
    "$name ${name} {customer.name}",
]

CONTROLS = [
    "\x1b]52;c;ZXZpbA==\x07 clipboard",  # OSC 52 clipboard write
    "\x1b]0;owned title\x1b\\ title",  # OSC 0 window title
    "\x1b[2J\x1b[H clear screen",
    "\x9b31m C1 CSI",
    "bell\x07 backspace\x08 cr\r lf",
]

UNICODE = [
    "\u202eevil\u202c reversed",  # bidi override
    "\u2066isolate\u2069 and \u200fmark",
    "zero\u200bwidth\u200c\u2060joiners\ufeff",
    "Z̸̨̛̛̛̛̛a̶̡̢̢l̷g̸o̷",
    "👨‍👩‍👧 family 🇰🇷 flag 👍🏽 thumbs",
    "한국어 日本語 ｶﾀｶﾅ",
]

ALL = MARKUP + CONTROLS + UNICODE

FORBIDDEN_IN_OUTPUT = ["\x1b", "\x9b", "\x07", "\x08", "\u202e", "\u2066", "\u200f"]
