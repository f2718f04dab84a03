"""The ingest sanitizer: every hostile case by name, plus hypothesis properties."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.sanitize import (
    ESC_PLACEHOLDER,
    FAST_SAFE_RANGES,
    MAX_COMBINING_MARKS,
    sanitize_inbound_text,
    sanitize_single_line,
)
from tests.core.safety import assert_terminal_safe

# --------------------------------------------------------------------------- named cases


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("plain text", "plain text"),
        ("안녕하세요, 주문 확인 부탁드립니다.", "안녕하세요, 주문 확인 부탁드립니다."),
        (
            "ご注文ありがとうございます。カタカナ、漢字",
            "ご注文ありがとうございます。カタカナ、漢字",
        ),
        ("ｶﾀｶﾅ half-width", "ｶﾀｶﾅ half-width"),
        ("👩‍💻 and 👨‍👩‍👧 and 👍🏽 and 🏳️‍🌈 and ❤️‍🔥", "👩‍💻 and 👨‍👩‍👧 and 👍🏽 and 🏳️‍🌈 and ❤️‍🔥"),
        ("flags 🇰🇷🇯🇵 keycap 1️⃣", "flags 🇰🇷🇯🇵 keycap 1️⃣"),
        (
            "England 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f!",
            "England 🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f!",
        ),
        ("[@click=app.quit]boom[/]", "[@click=app.quit]boom[/]"),  # markup is the UI's job
        ("line1\r\nline2\rline3\nline4", "line1\nline2\nline3\nline4"),
        ("a\u2028b\u2029c", "a\nb\nc"),
        ("a\tb", "a   b"),
        ("abcd\tx", "abcd    x"),
        ("\tx\n\ty", "    x\n    y"),
        ("red \x1b[31mALERT\x1b[0m", f"red {ESC_PLACEHOLDER}ALERT{ESC_PLACEHOLDER}"),
        ("\x1b[2J\x1b[H", ESC_PLACEHOLDER * 2),
        ("clip \x1b]52;c;ZXZpbA==\x07 end", f"clip {ESC_PLACEHOLDER} end"),
        ("title \x1b]0;pwned\x1b\\ end", f"title {ESC_PLACEHOLDER} end"),
        (
            "link \x1b]8;;http://x\x1b\\text\x1b]8;;\x1b\\",
            f"link {ESC_PLACEHOLDER}text{ESC_PLACEHOLDER}",
        ),
        ("dcs \x1bPq#0;2;0;0;0\x1b\\ end", f"dcs {ESC_PLACEHOLDER} end"),
        ("8bit \x9b31m red \x9d0;t\x9c end", f"8bit {ESC_PLACEHOLDER} red {ESC_PLACEHOLDER} end"),
        (
            "save \x1b7 restore \x1b8 charset \x1b(B",
            f"save {ESC_PLACEHOLDER} restore {ESC_PLACEHOLDER} charset {ESC_PLACEHOLDER}",
        ),
        ("lone \x1b", f"lone {ESC_PLACEHOLDER}"),
        ("unterminated \x1b]52;c;abc", f"unterminated {ESC_PLACEHOLDER}52;c;abc"),
        ("bell\x07 null\x00 bs\x08 del\x7f", "bell⟨U+0007⟩ null⟨U+0000⟩ bs⟨U+0008⟩ del⟨U+007F⟩"),
        ("c1 \x85\x80", "c1 ⟨U+0085⟩⟨U+0080⟩"),
        ("evil\u202egnp.exe", "evil⟨U+202E⟩gnp.exe"),
        ("iso\u2066x\u2069", "iso⟨U+2066⟩x⟨U+2069⟩"),
        ("zw\u200bsp\u2060wj\ufeffbom\u200cnj", "zw⟨U+200B⟩sp⟨U+2060⟩wj⟨U+FEFF⟩bom⟨U+200C⟩nj"),
        ("a\u200db", "a⟨U+200D⟩b"),  # ZWJ outside an emoji sequence
        ("👩\u200d", "👩⟨U+200D⟩"),
        ("lone \ud800 surrogate", "lone ⟨U+D800⟩ surrogate"),
        ("smuggle\U000e0068\U000e0069", 'smuggle⟨TAG "hi"⟩'),
    ],
)
def test_named_cases(raw: str, expected: str) -> None:
    out = sanitize_inbound_text(raw)
    assert out == expected
    assert_terminal_safe(out)
    assert sanitize_inbound_text(out) == out


def test_combining_marks_are_capped_per_base_character() -> None:
    zalgo = "Z" + "\u0301\u0302\u0303\u0304\u0305\u0306\u0307" + "a" + "\u0301" * 20
    out = sanitize_inbound_text(zalgo)
    assert out == "Z\u0301\u0302\u0303\u0304" + "a" + "\u0301" * MAX_COMBINING_MARKS


def test_ordinary_combining_marks_survive() -> None:
    for text in ("café", "cafe\u0301", "か\u3099", "Tiếng Việt", "ḍ\u0323\u0304"):
        assert sanitize_inbound_text(text) == text


def test_conjoining_hangul_jamo_survive() -> None:
    text = "\u1100\u1161\u11a8 \u1112\u1161\u11ab"
    assert sanitize_inbound_text(text) == text


def test_single_line_turns_newlines_into_spaces() -> None:
    assert sanitize_single_line("Kim\r\nMinji") == "Kim Minji"
    assert sanitize_single_line("  Tanaka\n\n Hanako  ") == "Tanaka Hanako"
    assert sanitize_single_line("名前\x1b]0;x\x07") == f"名前{ESC_PLACEHOLDER}"
    assert "\n" not in sanitize_single_line("a\u2028b\rc")


def test_every_control_character_becomes_visible() -> None:
    for cp in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)]:
        ch = chr(cp)
        if ch in "\n\t\r\x1b\x9b\x90\x98\x9d\x9e\x9f":
            continue
        out = sanitize_inbound_text(f"x{ch}y")
        assert out == f"x⟨U+{cp:04X}⟩y"


# --------------------------------------------------------------------------- properties

# Printable text: letters, numbers, punctuation, symbols, spaces, plus a few marks.
printable_chars = st.characters(
    categories=(
        "Lu",
        "Ll",
        "Lt",
        "Lm",
        "Lo",
        "Nd",
        "Nl",
        "No",
        "Pc",
        "Pd",
        "Ps",
        "Pe",
        "Pi",
        "Pf",
        "Po",
        "Sm",
        "Sc",
        "Sk",
        "So",
        "Zs",
    ),
)
cjk_chars = st.sampled_from(list("가나다라한국어ㄱㅏあいうアイウ漢字東京ｶﾀ。、！？"))
emoji = st.sampled_from(["👩‍💻", "👨‍👩‍👧", "👍🏽", "🏳️‍🌈", "🇰🇷", "❤️", "1️⃣", "🧑🏻‍❤️‍💋‍🧑🏼"])
printable_text = st.lists(
    st.one_of(printable_chars, cjk_chars, emoji, st.just("\n"), st.just("e\u0301")), max_size=40
).map("".join)


@settings(max_examples=300, deadline=None)
@given(printable_text)
def test_printable_text_round_trips(text: str) -> None:
    assert sanitize_inbound_text(text) == text


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=60))
def test_output_is_terminal_safe_for_any_input(text: str) -> None:
    assert_terminal_safe(sanitize_inbound_text(text))


hostile_pieces = st.sampled_from(
    [
        "\x1b",
        "\x1b[",
        "\x1b]",
        "\x07",
        "\x1b\\",
        "\x9b",
        "\x9c",
        "\x9d",
        "\r",
        "\t",
        "\u200d",
        "\u202e",
        "\U000e0041",
        "\U000e007f",
        "\u0301",
        "👩",
        "🏴",
        "\ud800",
        "[",
        "m",
        ";",
        "0",
    ]
)
hostile_text = st.lists(st.one_of(hostile_pieces, st.characters()), max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(hostile_text)
def test_hostile_mixtures_are_safe_and_idempotent(text: str) -> None:
    once = sanitize_inbound_text(text)
    assert_terminal_safe(once)
    assert sanitize_inbound_text(once) == once


@settings(max_examples=300, deadline=None)
@given(hostile_text)
def test_single_line_has_no_newlines_and_is_idempotent(text: str) -> None:
    once = sanitize_single_line(text)
    assert "\n" not in once
    assert_terminal_safe(once)
    assert sanitize_single_line(once) == once


def test_fast_path_ranges_hold_no_character_that_needs_work() -> None:
    unsafe = {"Cc", "Cf", "Cs", "Mn", "Me", "Zl", "Zp"}
    for lo, hi in FAST_SAFE_RANGES:
        for cp in range(lo, hi + 1):
            assert unicodedata.category(chr(cp)) not in unsafe, hex(cp)
