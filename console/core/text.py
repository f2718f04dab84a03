"""Width and grapheme helpers for CJK and emoji text.

Widths come from Rich's cell measurement (``rich.cells.cell_len``) so they
agree with what Textual paints.  Cutting happens only at grapheme-cluster
boundaries: a wide character, a Hangul syllable built from conjoining jamo, a
flag (two regional indicators), an emoji ZWJ sequence with skin tones, or a
base letter with its combining marks is never split.

The segmenter is a compact implementation of the Unicode extended grapheme
cluster rules (UAX #29: GB3-GB13) without the Prepend class, without
GB9c (Indic conjuncts such as क्ष split after the virama) and with an
approximate Extended_Pictographic set; good enough for chat text in our three
languages, and free of extra dependencies.

API:

* :func:`graphemes` - list of grapheme clusters.
* :func:`cell_width` - terminal cells a string occupies.
* :func:`truncate` - cut to at most N cells, adding an ellipsis if cut.
* :func:`fit` - truncate, then pad with spaces to exactly N cells.
* :func:`delete_last_grapheme` - what Backspace should leave behind.
* :func:`guess_language` - "en", "ko" or "ja" from the script of a text (or None).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

from rich.cells import cell_len

from console.core.sanitize import is_extended_pictographic

__all__ = [
    "ELLIPSIS",
    "cell_width",
    "delete_last_grapheme",
    "fit",
    "graphemes",
    "guess_language",
    "truncate",
]

ELLIPSIS: Final = "…"

# Grapheme break classes (subset of UAX #29).
_OTHER: Final = 0
_CR: Final = 1
_LF: Final = 2
_CONTROL: Final = 3
_EXTEND: Final = 4
_ZWJ: Final = 5
_RI: Final = 6
_SPACING_MARK: Final = 7
_L: Final = 8
_V: Final = 9
_T: Final = 10
_LV: Final = 11
_LVT: Final = 12


@lru_cache(maxsize=8192)
def _break_class(ch: str) -> int:
    cp = ord(ch)
    if cp < 0x7F:
        if ch == "\r":
            return _CR
        if ch == "\n":
            return _LF
        return _CONTROL if cp < 0x20 else _OTHER
    if cp == 0x200D:
        return _ZWJ
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return _RI
    if 0x1100 <= cp <= 0x115F or 0xA960 <= cp <= 0xA97C:
        return _L
    if 0x1160 <= cp <= 0x11A7 or 0xD7B0 <= cp <= 0xD7C6:
        return _V
    if 0x11A8 <= cp <= 0x11FF or 0xD7CB <= cp <= 0xD7FB:
        return _T
    if 0xAC00 <= cp <= 0xD7A3:
        return _LV if (cp - 0xAC00) % 28 == 0 else _LVT
    if 0x1F3FB <= cp <= 0x1F3FF or 0xE0020 <= cp <= 0xE007F or cp == 0x200C:
        return _EXTEND
    cat = unicodedata.category(ch)
    if cat in ("Mn", "Me"):
        return _EXTEND
    if cat == "Mc":
        return _SPACING_MARK
    if cat in ("Cc", "Zl", "Zp") or (cat == "Cf" and cp not in (0x200C, 0x200D)):
        return _CONTROL
    return _OTHER


def _is_boundary(prev: int, cur: int, pict_before_zwj: bool, ri_count: int) -> bool:
    """Break between two characters?  ``ri_count``: regional indicators run before ``cur``."""
    if prev == _CR and cur == _LF:
        return False  # GB3
    if prev in (_CR, _LF, _CONTROL) or cur in (_CR, _LF, _CONTROL):
        return True  # GB4, GB5
    if prev == _L and cur in (_L, _V, _LV, _LVT):
        return False  # GB6
    if prev in (_LV, _V) and cur in (_V, _T):
        return False  # GB7
    if prev in (_LVT, _T) and cur == _T:
        return False  # GB8
    if cur in (_EXTEND, _ZWJ, _SPACING_MARK):
        return False  # GB9, GB9a
    if prev == _ZWJ and pict_before_zwj:
        return False  # GB11 (checked by the caller for the current char being pictographic)
    if prev == _RI and cur == _RI:
        return ri_count % 2 == 0  # GB12, GB13
    return True  # GB999


def graphemes(text: str) -> list[str]:
    """Split ``text`` into extended grapheme clusters."""
    if not text:
        return []
    if text.isascii():
        # ASCII: only CR LF joins.
        if "\r\n" not in text:
            return list(text)
    clusters: list[str] = []
    start = 0
    prev = _break_class(text[0])
    # GB11 state: does the text so far end in "ExtPict Extend*" / "ExtPict Extend* ZWJ"?
    pict_extend = is_extended_pictographic(text[0])
    zwj_ready = False
    ri_count = 1 if prev == _RI else 0
    for index in range(1, len(text)):
        ch = text[index]
        cur = _break_class(ch)
        is_pict = is_extended_pictographic(ch)
        if _is_boundary(prev, cur, zwj_ready and is_pict, ri_count):
            clusters.append(text[start:index])
            start = index
            ri_count = 0
        ri_count = ri_count + 1 if cur == _RI else 0
        zwj_ready = cur == _ZWJ and pict_extend
        pict_extend = is_pict or (cur == _EXTEND and pict_extend)
        prev = cur
    clusters.append(text[start:])
    return clusters


def cell_width(text: str) -> int:
    """Cells ``text`` occupies in a terminal, as Rich (and so Textual) measures it."""
    return cell_len(text)


def truncate(text: str, width: int, ellipsis: str = ELLIPSIS) -> str:
    """Cut ``text`` to at most ``width`` cells at a grapheme boundary.

    If anything was cut, ``ellipsis`` is appended (and counted in the width).
    A wide character that would straddle the limit is dropped whole, so the
    result may be one cell narrower than ``width``.  Newlines count as cells
    of zero width; callers that show one line should pass a single line.
    """
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    budget = width - cell_len(ellipsis)
    if budget < 0:
        return truncate(ellipsis, width, "")
    used = 0
    out: list[str] = []
    for cluster in graphemes(text):
        size = cell_len(cluster)
        if used + size > budget:
            break
        out.append(cluster)
        used += size
    return "".join(out) + ellipsis


def fit(text: str, width: int, ellipsis: str = ELLIPSIS) -> str:
    """Truncate to ``width`` cells, then pad with spaces to exactly ``width`` cells."""
    cut = truncate(text, width, ellipsis)
    return cut + " " * max(0, width - cell_len(cut))


def delete_last_grapheme(text: str) -> str:
    """``text`` without its last grapheme cluster (Backspace on 👨‍👩‍👧 removes the family)."""
    if not text:
        return text
    # A boundary always follows a newline (GB4), so only the last line needs segmenting.
    line_start = text.rfind("\n", 0, len(text) - 1) + 1
    clusters = graphemes(text[line_start:])
    return text[: len(text) - len(clusters[-1])]


_HANGUL = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


def guess_language(text: str) -> str | None:
    """Which of en/ko/ja a customer writes, from the script alone.

    Hangul → ``ko``; kana, or kanji without Hangul → ``ja``; otherwise Latin
    letters → ``en``; no letters at all (emoji, numbers) → ``None``.  Used to
    pick the language of expectation templates and canned replies; the agent
    can always override it.
    """
    hangul = len(_HANGUL.findall(text))
    kana = len(_KANA.findall(text))
    kanji = len(_KANJI.findall(text))
    if hangul and hangul >= kana + kanji:
        return "ko"
    if kana or kanji:
        return "ja"
    if _LATIN.search(text):
        return "en"
    return None
