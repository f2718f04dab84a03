"""The single ingest sanitizer for all text that comes from outside.

Customer messages, agent names, canned-reply titles, backend error strings:
everything that did not originate in this process passes through
:func:`sanitize_inbound_text` (or :func:`sanitize_single_line` for names and
titles) exactly once, when the store ingests it.  Widgets never see raw text.

Why here and not in the UI: Textual's ``Content`` strips only BEL, BS, VT, FF
and CR.  ESC/CSI/OSC sequences (OSC 52 writes the clipboard, OSC 0 sets the
window title), C1 controls, bidi overrides and zero-width characters reach the
real terminal unless someone removes them first.

What it does (and refuses to do):

* ``\\r\\n`` and lone ``\\r`` (and U+2028/U+2029) become ``\\n``; tabs expand to
  spaces (tab stops every 4 columns, counted in code points).
* A whole escape sequence (``ESC [ ... final``, ``ESC ] ... BEL|ST``, DCS/SOS/
  PM/APC strings, two-byte ``ESC x``, and the 8-bit C1 introducers CSI/OSC/DCS)
  is dropped and replaced by one visible ``⟨ESC⟩``.  An OSC/DCS string without
  its terminator loses only its introducer; the rest stays as plain text.
* Every other C0/C1 control, DEL, lone surrogate and format character (bidi
  embeddings/overrides/isolates/marks, zero-width space/joiners, word joiner,
  BOM, ...) becomes a visible placeholder ``⟨U+202E⟩``.
* Exceptions that keep emoji intact: U+200D ZERO WIDTH JOINER between two
  pictographic characters (👩‍💻, 👨‍👩‍👧, 🏳️‍🌈) and a well-formed tag sequence
  after a pictographic base (🏴󠁧󠁢󠁥󠁮󠁧󠁿 flag of England).  Stray tag characters
  (used for "ASCII smuggling") are collapsed into one placeholder that shows
  the hidden text: ``⟨TAG "hidden"⟩``.
* Non-spacing/enclosing combining marks are capped at
  :data:`MAX_COMBINING_MARKS` per base character ("Zalgo" text).
* Printable text is otherwise unchanged: Hangul, Kana, Kanji, emoji with skin
  tones and variation selectors, private-use icons.

The function is idempotent: ``sanitize_inbound_text(sanitize_inbound_text(s))
== sanitize_inbound_text(s)``.  Markup is *not* escaped here: the UI must still
render this text as ``Text``/``Content``, never as markup.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

__all__ = [
    "ESC_PLACEHOLDER",
    "FAST_SAFE_RANGES",
    "MAX_COMBINING_MARKS",
    "TAB_SIZE",
    "is_clean_line",
    "is_clean_text",
    "is_extended_pictographic",
    "placeholder_for",
    "sanitize_inbound_text",
    "sanitize_single_line",
]

MAX_COMBINING_MARKS: Final = 4
TAB_SIZE: Final = 4
ESC_PLACEHOLDER: Final = "⟨ESC⟩"

_ESC: Final = "\x1b"
_BEL: Final = "\x07"
_ZWJ: Final = "\u200d"
_C1_ST: Final = "\x9c"
_C1_CSI: Final = "\x9b"
# 8-bit string introducers: DCS, SOS, OSC, PM, APC.
_C1_STRING_INTRODUCERS: Final = frozenset("\x90\x98\x9d\x9e\x9f")
# 7-bit string introducers after ESC: DCS P, SOS X, OSC ], PM ^, APC _.
_ESC_STRING_INTRODUCERS: Final = frozenset("PX]^_")

_TAG_BASE: Final = 0xE0000
_TAG_CANCEL: Final = 0xE007F

# Extended_Pictographic (approximation, covers every RGI emoji base).
_PICTOGRAPHIC_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x00A9, 0x00A9),
    (0x00AE, 0x00AE),
    (0x203C, 0x203C),
    (0x2049, 0x2049),
    (0x2122, 0x2122),
    (0x2139, 0x2139),
    (0x2194, 0x2199),
    (0x21A9, 0x21AA),
    (0x231A, 0x231B),
    (0x2328, 0x2328),
    (0x2388, 0x2388),
    (0x23CF, 0x23CF),
    (0x23E9, 0x23F3),
    (0x23F8, 0x23FA),
    (0x24C2, 0x24C2),
    (0x25AA, 0x25AB),
    (0x25B6, 0x25B6),
    (0x25C0, 0x25C0),
    (0x25FB, 0x25FE),
    (0x2600, 0x27BF),
    (0x2934, 0x2935),
    (0x2B05, 0x2B07),
    (0x2B1B, 0x2B1C),
    (0x2B50, 0x2B50),
    (0x2B55, 0x2B55),
    (0x3030, 0x3030),
    (0x303D, 0x303D),
    (0x3297, 0x3297),
    (0x3299, 0x3299),
    (0x1F000, 0x1FAFF),
    (0x1FC00, 0x1FFFD),
)


def is_extended_pictographic(ch: str) -> bool:
    """True for emoji-like base characters (approximation of Extended_Pictographic)."""
    cp = ord(ch)
    if cp < 0xA9:
        return False
    for lo, hi in _PICTOGRAPHIC_RANGES:
        if cp < lo:
            return False
        if cp <= hi:
            return True
    return False


def _is_emoji_modifier(ch: str) -> bool:
    return 0x1F3FB <= ord(ch) <= 0x1F3FF


def _is_variation_selector(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF


def _is_tag(ch: str) -> bool:
    return _TAG_BASE <= ord(ch) <= _TAG_CANCEL


# Ranges with no control, format, surrogate, combining or line-separator
# character (checked by a test against unicodedata).  Text made only of these
# needs no work: most Korean, Japanese and English chat takes this fast path.
FAST_SAFE_RANGES: Final[tuple[tuple[int, int], ...]] = (
    (0x0020, 0x007E),
    (0x00A0, 0x00AC),
    (0x00AE, 0x02FF),
    (0x0370, 0x0482),
    (0x1100, 0x11FF),
    (0x2010, 0x2027),
    (0x2030, 0x205E),
    (0x2190, 0x23FF),
    (0x2460, 0x27BF),
    (0x3000, 0x3029),
    (0x3030, 0x303F),
    (0x3041, 0x3096),
    (0x309B, 0x30FF),
    (0x3131, 0x318E),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xAC00, 0xD7A3),
    (0xFF01, 0xFFEE),
    (0x1F000, 0x1FAFF),
)
_NEEDS_WORK: Final = re.compile(
    "[^\n" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in FAST_SAFE_RANGES) + "]"
)
_LINE_NEEDS_WORK: Final = re.compile(
    "[^" + "".join(f"{chr(lo)}-{chr(hi)}" for lo, hi in FAST_SAFE_RANGES) + "]"
)


def is_clean_text(s: str) -> bool:
    """``sanitize_inbound_text(s) == s`` without calling it (one precompiled search)."""
    return _NEEDS_WORK.search(s) is None


def is_clean_line(s: str) -> bool:
    """``sanitize_single_line(s) == s``: fast-path characters only, no newline, nothing
    to strip at either end."""
    return _LINE_NEEDS_WORK.search(s) is None and len(s.strip()) == len(s)


def placeholder_for(ch: str) -> str:
    """The visible stand-in for one invisible or control character, e.g. ``⟨U+202E⟩``."""
    return f"⟨U+{ord(ch):04X}⟩"


def _is_unsafe(ch: str) -> bool:
    """Characters that never reach the output as themselves (context decides ZWJ/tags)."""
    if ch == "\n":
        return False
    cat = unicodedata.category(ch)
    return cat in ("Cc", "Cf", "Cs")


def _is_capped_mark(ch: str) -> bool:
    return unicodedata.category(ch) in ("Mn", "Me")


def _skip_escape_sequence(s: str, i: int) -> int | None:
    """``s[i]`` starts an escape sequence; return the index after it, or None if malformed.

    ``None`` means "only the introducer is dropped" (unterminated strings, a
    lone ESC at the end, ESC followed by a non-ASCII character).
    """
    n = len(s)
    ch = s[i]
    if ch == _C1_CSI:
        return _skip_csi_body(s, i + 1)
    if ch in _C1_STRING_INTRODUCERS:
        return _skip_string_body(s, i + 1)
    # ch == ESC
    j = i + 1
    if j >= n:
        return None
    nxt = s[j]
    if nxt == "[":
        return _skip_csi_body(s, j + 1)
    if nxt in _ESC_STRING_INTRODUCERS:
        return _skip_string_body(s, j + 1)
    # nF / Fp / Fe / Fs: intermediates 0x20-0x2F then one final 0x30-0x7E.
    while j < n and "\x20" <= s[j] <= "\x2f":
        j += 1
    if j < n and "\x30" <= s[j] <= "\x7e":
        return j + 1
    return None


def _skip_csi_body(s: str, j: int) -> int | None:
    n = len(s)
    while j < n and "\x30" <= s[j] <= "\x3f":  # parameter bytes
        j += 1
    while j < n and "\x20" <= s[j] <= "\x2f":  # intermediate bytes
        j += 1
    if j < n and "\x40" <= s[j] <= "\x7e":  # final byte
        return j + 1
    # Malformed CSI: drop what looked like parameters, keep the rest visible.
    return j if j > 0 else None


def _skip_string_body(s: str, j: int) -> int | None:
    """OSC/DCS/SOS/PM/APC payload up to BEL, ``ESC \\`` or 8-bit ST."""
    n = len(s)
    k = j
    while k < n:
        c = s[k]
        if c == _BEL or c == _C1_ST:
            return k + 1
        if c == _ESC:
            if k + 1 < n and s[k + 1] == "\\":
                return k + 2
            # An ESC inside the payload ends it (xterm aborts the string).
            return k
        k += 1
    return None


def _valid_tag_sequence_end(s: str, i: int) -> int | None:
    """If ``s[i:]`` is ``tag_spec+ TAG_CANCEL`` (tag_spec in E0020-E007E), return its end."""
    n = len(s)
    j = i
    while j < n and 0xE0020 <= ord(s[j]) <= 0xE007E:
        j += 1
    if j > i and j < n and ord(s[j]) == _TAG_CANCEL:
        return j + 1
    return None


def _tag_run_placeholder(run: str) -> str:
    decoded = "".join(chr(ord(c) - _TAG_BASE) if 0xE0020 <= ord(c) <= 0xE007E else "?" for c in run)
    # The decoded text is plain ASCII 0x20-0x7E, so it is printable and stable.
    return f'⟨TAG "{decoded}"⟩'


def _last_base(out: list[str]) -> str | None:
    """The last emitted character that is not an emoji modifier or variation selector."""
    for piece in reversed(out):
        for ch in reversed(piece):
            if _is_emoji_modifier(ch) or _is_variation_selector(ch):
                continue
            return ch
    return None


def sanitize_inbound_text(s: str) -> str:
    """Make outside text safe to show in a terminal; see the module docstring."""
    if not s:
        return s
    if _NEEDS_WORK.search(s) is None:
        return s  # fast path: only characters from FAST_SAFE_RANGES and newlines
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    out: list[str] = []
    column = 0  # code points since the last newline, for tab stops
    marks = 0  # capped combining marks since the last base character
    i = 0
    n = len(s)
    while i < n:
        ch = s[i]
        if ch == "\n":
            out.append(ch)
            column = 0
            marks = 0
            i += 1
            continue
        if ch == "\t":
            pad = TAB_SIZE - (column % TAB_SIZE)
            out.append(" " * pad)
            column += pad
            marks = 0
            i += 1
            continue
        if ch == _ESC or ch == _C1_CSI or ch in _C1_STRING_INTRODUCERS:
            end = _skip_escape_sequence(s, i)
            out.append(ESC_PLACEHOLDER)
            column += len(ESC_PLACEHOLDER)
            marks = 0
            if end is None:
                # Unterminated string or lone ESC: drop the introducer, keep the rest visible.
                is_string = ch == _ESC and i + 1 < n and s[i + 1] in _ESC_STRING_INTRODUCERS
                end = i + 2 if is_string else i + 1
            i = end
            continue
        if _is_capped_mark(ch):
            marks += 1
            if marks <= MAX_COMBINING_MARKS:
                out.append(ch)
                column += 1
            i += 1
            continue
        if _is_unsafe(ch):
            if ch == _ZWJ:
                before = _last_base(out)
                after = s[i + 1] if i + 1 < n else None
                if (
                    before is not None
                    and after is not None
                    and is_extended_pictographic(before)
                    and is_extended_pictographic(after)
                ):
                    out.append(ch)
                    column += 1
                    i += 1
                    continue
            if _is_tag(ch):
                before = _last_base(out)
                end = _valid_tag_sequence_end(s, i)
                if end is not None and before is not None and is_extended_pictographic(before):
                    out.append(s[i:end])
                    column += end - i
                    i = end
                    continue
                j = i
                while j < n and _is_tag(s[j]):
                    j += 1
                text = _tag_run_placeholder(s[i:j])
                out.append(text)
                column += len(text)
                marks = 0
                i = j
                continue
            text = placeholder_for(ch)
            out.append(text)
            column += len(text)
            marks = 0
            i += 1
            continue
        out.append(ch)
        column += 1
        marks = 0
        i += 1
    return "".join(out)


def sanitize_single_line(s: str) -> str:
    """Sanitize a name, title or label: like :func:`sanitize_inbound_text`, newlines → spaces.

    Runs of whitespace that the newlines produce are collapsed and the result
    is stripped, so ``"Kim\\r\\nMinji"`` becomes ``"Kim Minji"``.
    """
    cleaned = sanitize_inbound_text(s)
    if "\n" in cleaned:
        cleaned = " ".join(part.strip() for part in cleaned.split("\n") if part.strip())
    return cleaned.strip()
