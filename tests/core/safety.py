"""Shared assertion: a string is safe to hand to a terminal."""

from __future__ import annotations

import unicodedata

from console.core.sanitize import is_extended_pictographic

BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def assert_terminal_safe(out: str) -> None:
    """No control, bidi, surrogate or stray format character survives."""
    for index, ch in enumerate(out):
        cat = unicodedata.category(ch)
        if ch == "\n":
            continue
        assert cat not in ("Cc", "Cs"), f"control {ch!r} at {index} in {out!r}"
        assert ch not in BIDI, f"bidi {ch!r} at {index} in {out!r}"
        if cat == "Cf":
            # Only ZWJ inside emoji and tag characters of emoji tag sequences may stay.
            if ch == "\u200d":
                assert index > 0 and index + 1 < len(out)
                assert is_extended_pictographic(out[index + 1])
            else:
                assert 0xE0020 <= ord(ch) <= 0xE007F, f"format char {ch!r} in {out!r}"


# Every hostile case of DESIGN.md "Untrusted text", one string each.
HOSTILE_CASES: dict[str, str] = {
    "osc 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07 copied",
    "osc 0 title": "\x1b]0;you have been pwned\x07 titled",
    "osc 8-bit": "\x9d0;title\x9c after",
    "csi": "\x1b[31mred\x1b[0m \x1b[2J cleared",
    "c1 controls": "\x9b31m C1 CSI \x85 NEL \x90 DCS",
    "c0 controls": "bell\x07 back\x08 nul\x00 del\x7f",
    "bidi overrides": "invoice \u202egnp.exe\u202c \u2066iso\u2069 \u200fmark",
    "zero width": "pay\u200bpal \u2060joined\ufeff \u200c\u200d",
    "tag smuggling": "hi\U000e0068\U000e0069",
    "markup click": "[@click=app.quit]press me[/]",
    "markup link": "[link=https://evil.example]free money[/link] [/] [",
    "unterminated osc": "\x1b]52;c;never ends",
}
