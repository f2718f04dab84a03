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
