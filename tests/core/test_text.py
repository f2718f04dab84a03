"""Width helpers: grapheme clusters, truncation by cells, Backspace on emoji and jamo."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from console.core.text import cell_width, delete_last_grapheme, fit, graphemes, truncate

FAMILY = "👨\u200d👩\u200d👧"
CODER = "👩\u200d💻"
THUMB = "👍🏽"
KOREA = "🇰🇷"
JAPAN = "🇯🇵"
ENGLAND = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
JAMO = "\u1100\u1161\u11a8"  # 각 from conjoining jamo


@pytest.mark.parametrize(
    ("text", "clusters"),
    [
        ("abc", ["a", "b", "c"]),
        ("a\r\nb", ["a", "\r\n", "b"]),
        ("한국어", ["한", "국", "어"]),
        (JAMO + "x", [JAMO, "x"]),
        ("e\u0301x", ["e\u0301", "x"]),
        (f"{FAMILY}{CODER}", [FAMILY, CODER]),
        (f"{THUMB}!", [THUMB, "!"]),
        (f"{KOREA}{JAPAN}", [KOREA, JAPAN]),
        ("🇰🇷🇯", [KOREA, "🇯"]),
        (ENGLAND + "a", [ENGLAND, "a"]),
        ("1️⃣2", ["1️⃣", "2"]),
        ("か\u3099", ["か\u3099"]),
        ("a\u200db", ["a\u200d", "b"]),  # ZWJ between letters does not join them
        ("👩\u200d\u200d💻", ["👩\u200d\u200d", "💻"]),  # GB11 needs exactly one ZWJ
        ("👍🏽\u200d👍", ["👍🏽\u200d👍"]),  # modifiers are Extend before the ZWJ
    ],
)
def test_graphemes(text: str, clusters: list[str]) -> None:
    assert graphemes(text) == clusters


def test_cell_width_counts_wide_characters_twice() -> None:
    assert cell_width("abc") == 3
    assert cell_width("한국어") == 6
    assert cell_width("日本語テキスト") == 14
    assert cell_width("ｶﾀｶﾅ") == 4
    assert cell_width(FAMILY) == 2


def test_truncate_never_splits_a_wide_character() -> None:
    assert truncate("한국어 텍스트", 6) == "한국…"  # 2+2 cells + ellipsis, not a half 어
    assert truncate("한국어", 6) == "한국어"
    assert truncate("한국어", 4) == "한…"
    assert truncate("日本語", 2) == "…"
    assert cell_width(truncate("日本語", 4)) <= 4


def test_truncate_keeps_emoji_sequences_whole() -> None:
    text = f"hi {FAMILY}{CODER}{THUMB}"
    for width in range(1, cell_width(text) + 2):
        cut = truncate(text, width)
        assert cell_width(cut) <= width
        body = cut.removesuffix("…")
        assert text.startswith(body)
        # The cut falls on a cluster boundary.
        assert "".join(graphemes(text)[: len(graphemes(body))]) == body


def test_truncate_edge_widths() -> None:
    assert truncate("abc", 0) == ""
    assert truncate("abcdef", 1) == "…"
    assert truncate("abcdef", 3, ellipsis="...") == "..."
    assert truncate("abcdef", 2, ellipsis="...") == ".."


def test_fit_pads_to_exact_width() -> None:
    assert fit("한국", 6) == "한국  "
    assert cell_width(fit("한국어 텍스트", 7)) == 7
    assert cell_width(fit("日本語", 3)) == 3


@pytest.mark.parametrize(
    ("text", "after"),
    [
        ("", ""),
        ("abc", "ab"),
        (f"hi {FAMILY}", "hi "),
        (f"ok {THUMB}", "ok "),
        (f"go {KOREA}{JAPAN}", f"go {KOREA}"),
        (f"x{ENGLAND}", "x"),
        ("안녕" + JAMO, "안녕"),
        ("cafe\u0301", "caf"),
        ("line\n", "line"),
        ("a\nb", "a\n"),
    ],
)
def test_delete_last_grapheme(text: str, after: str) -> None:
    assert delete_last_grapheme(text) == after


text_with_clusters = st.lists(
    st.one_of(
        st.characters(exclude_categories=("Cs",)),
        st.sampled_from([FAMILY, CODER, THUMB, KOREA, JAPAN, ENGLAND, JAMO, "한", "日", "e\u0301"]),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(text_with_clusters)
def test_graphemes_partition_the_text(text: str) -> None:
    clusters = graphemes(text)
    assert "".join(clusters) == text
    assert all(clusters)


@settings(max_examples=300, deadline=None)
@given(text_with_clusters, st.integers(min_value=0, max_value=40))
def test_truncate_fits_and_is_a_prefix(text: str, width: int) -> None:
    single = text.replace("\n", " ").replace("\r", " ")
    cut = truncate(single, width)
    assert cell_len(cut) <= width or width == 0
    assert single.startswith(cut.removesuffix("…")) or cut == single


@settings(max_examples=300, deadline=None)
@given(text_with_clusters)
def test_delete_last_grapheme_removes_exactly_one_cluster(text: str) -> None:
    clusters = graphemes(text)
    assert delete_last_grapheme(text) == "".join(clusters[:-1])


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Where is my order?", "en"),
        ("주문이 아직 안 왔어요", "ko"),
        ("注文がまだ届いていません", "ja"),
        ("東京", "ja"),
        ("ｶﾀｶﾅ", "ja"),
        ("order 1234 환불해 주세요", "ko"),
        ("👍 123", None),
        ("", None),
    ],
)
def test_guess_language(text: str, lang: str | None) -> None:
    from console.core.text import guess_language

    assert guess_language(text) == lang
