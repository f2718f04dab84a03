"""Trigger detection with real customer sentences in en, ko and ja.

The ``KNOWN_FALSE_POSITIVES`` table mirrors docs/triggers.md: sentences that
trigger although the customer is calm.  The test pins them so the document
stays honest - if a lexicon change fixes one, move it to ``CALM``.
"""

from __future__ import annotations

import itertools

import pytest

from console.core.triggers import (
    Category,
    LexiconError,
    Severity,
    detect,
    load_lexicons,
    parse_lexicon,
)

C = Category

# (sentence, expected minimum severity, categories that must be found)
TRIGGERS: list[tuple[str, int, set[Category]]] = [
    # English
    ("This is so frustrating, I've been waiting for an hour.", 1, {C.FRUSTRATION}),
    ("It still doesn't work after the update.", 1, {C.FRUSTRATION}),
    ("Honestly this is unacceptable.", 2, {C.ANGER}),
    ("I'm furious about the double charge", 2, {C.ANGER}),
    ("Please cancel my subscription today.", 2, {C.CHURN}),
    ("Give me my money back, I'm done", 2, {C.CHURN}),
    ("I'll never order from you again.", 2, {C.CHURN}),
    ("Let me speak to a manager.", 3, {C.ESCALATION}),
    ("Can I talk to your supervisor please", 3, {C.ESCALATION}),
    ("My lawyer will hear about this", 3, {C.ESCALATION}),
    ("Where is my order???", 1, {C.PUNCTUATION}),
    ("Answer me!!!", 1, {C.PUNCTUATION}),
    ("WHY IS NOBODY ANSWERING", 2, {C.SHOUTING}),
    ("I've been waiting for 2 hours for a reply", 1, {C.FRUSTRATION}),
    ("I am angry and I will cancel my account", 3, {C.ANGER, C.CHURN}),
    # Korean
    ("배송이 아직도 안 왔어요. 진짜 짜증나네요.", 1, {C.FRUSTRATION}),
    ("너무 답답해서 연락드렸습니다", 1, {C.FRUSTRATION}),
    ("언제까지 기다려야 돼요?", 1, {C.FRUSTRATION}),
    ("이건 좀 너무하네요", 1, {C.FRUSTRATION}),
    ("어이없네요 정말", 1, {C.FRUSTRATION}),
    ("지금 장난하세요?", 2, {C.ANGER}),
    ("너무 화나요", 2, {C.ANGER}),
    ("화가 납니다 정말", 2, {C.ANGER}),
    ("환불 안 해주면 소비자원에 신고할게요", 3, {C.CHURN, C.ESCALATION}),
    ("당장 돈 돌려줘", 2, {C.CHURN}),
    ("서비스 해지하고 싶어요", 2, {C.CHURN}),
    ("회원 탈퇴 어떻게 하나요", 2, {C.CHURN}),
    ("매니저 바꿔 주세요", 3, {C.ESCALATION}),
    ("책임자 연결해 주세요", 3, {C.ESCALATION}),
    ("소비자원에 신고할 거예요", 3, {C.ESCALATION}),
    ("언제 와요？？", 1, {C.PUNCTUATION}),
    # Japanese
    ("ふざけないでください", 2, {C.ANGER}),
    ("対応が最悪です", 2, {C.ANGER}),
    ("いい加減にしてください！！", 2, {C.ANGER, C.PUNCTUATION}),
    ("何度も同じことを説明しています", 1, {C.FRUSTRATION}),
    ("いつまで待たせるんですか", 1, {C.FRUSTRATION}),
    ("対応が遅すぎます", 1, {C.FRUSTRATION}),
    ("1時間も待たされています", 1, {C.FRUSTRATION}),
    ("解約したいです", 2, {C.CHURN}),
    ("早く金返せ", 2, {C.CHURN}),
    ("責任者を出してください", 3, {C.ESCALATION}),
    ("上司を出せ", 3, {C.ESCALATION}),
    ("消費者センターに相談します", 3, {C.ESCALATION}),
    ("まだですか？？？", 1, {C.FRUSTRATION, C.PUNCTUATION}),
]

CALM: list[str] = [
    "Thanks, that fixed it!",
    "Could you check the delivery date for order 1234?",
    "Is the Pro plan available in Korea?",
    "I need help with my account settings.",
    "My name is ANNA and I live in the USA.",  # two caps words are not shouting
    "Great, have a nice day :)",
    "Really? That's great!",
    "Wait, what?!",  # two marks only
    "안녕하세요, 주문 확인 부탁드립니다.",
    "전화나 이메일로 연락 주세요.",  # 전화나 = "phone or", not 화나
    "대화나 메일 중 편한 쪽으로요",
    "날씨가 따뜻해지네요",  # -해지다 ending, not 해지 (terminate)
    "점점 편해지고 있어요",
    "감사합니다! 좋은 하루 되세요",
    "ありがとうございます。助かりました。",
    "注文番号を教えていただけますか？",
    "明日届く予定です",
    "お待たせしました",  # "sorry to keep you waiting": only 待たせる/待たされ count
    "I was waiting for the bus when it arrived, thanks",
    "了解です！",
    # A refund question in a billing chat is routine, not "may cancel" (issue 14).
    "환불",
    "환불해 주세요",
    "결제가 두 번 되었어요. 환불 가능할까요?",
    "환불 받을 수 있나요?",
    "Where is my refund?",
    "I want a refund for last month",
    "Can I get a full refund for the duplicate charge?",
    "返金してください",
    "返品と返金の方法を教えてください",
]

# Calm sentences that do trigger today; documented in docs/triggers.md.
KNOWN_FALSE_POSITIVES: list[tuple[str, Category]] = [
    ("Can I cancel the meeting reminder?", C.CHURN),
    ("I'm not angry at all, just curious.", C.ANGER),
    ("My manager asked me to buy more seats.", C.ESCALATION),
    ("This is the worst weather, anyway about my order", C.ANGER),
    ("I read the FAQ, USA, GDPR pages already", C.SHOUTING),
    ("예약 취소는 어디서 하나요?", C.CHURN),
    ("매니저님께 감사 인사 전해 주세요", C.ESCALATION),
    ("最悪の場合、明日になりますか", C.ANGER),
    ("上司に確認してから注文します", C.ESCALATION),
]


@pytest.mark.parametrize(("sentence", "severity", "categories"), TRIGGERS)
def test_trigger_sentences(sentence: str, severity: int, categories: set[Category]) -> None:
    result = detect(sentence)
    assert result.severity >= severity, result
    assert categories <= result.categories, result
    for span in result.spans:
        assert 0 <= span.start < span.end <= len(sentence)


@pytest.mark.parametrize("sentence", CALM)
def test_calm_sentences_do_not_trigger(sentence: str) -> None:
    result = detect(sentence)
    assert result.severity == Severity.NONE, [
        (sentence[s.start : s.end], s.category) for s in result.spans
    ]


@pytest.mark.parametrize(("sentence", "category"), KNOWN_FALSE_POSITIVES)
def test_known_false_positives_are_documented(sentence: str, category: Category) -> None:
    assert category in detect(sentence).categories


def test_spans_point_at_the_words_and_do_not_overlap() -> None:
    text = "I want to speak to a manager NOW!!! 돈 돌려줘"
    result = detect(text)
    found = {(text[s.start : s.end], s.category) for s in result.spans}
    assert ("speak to a manager", C.ESCALATION) in found
    assert ("!!!", C.PUNCTUATION) in found
    assert ("돈 돌려줘", C.CHURN) in found
    ordered = sorted(result.spans, key=lambda s: s.start)
    assert list(result.spans) == ordered
    assert all(a.end <= b.start for a, b in itertools.pairwise(ordered))


def test_two_high_categories_raise_severity_to_critical() -> None:
    assert detect("This is unacceptable").severity == Severity.HIGH
    assert detect("This is unacceptable, cancel my account").severity == Severity.CRITICAL


def test_empty_and_plain_text() -> None:
    assert detect("") == detect("hello") and not detect("hello")


def test_docs_list_every_known_false_positive() -> None:
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "triggers.md").read_text(encoding="utf-8")
    for sentence, _ in KNOWN_FALSE_POSITIVES:
        assert sentence in doc, sentence


def test_packaged_lexicons_load_for_every_language() -> None:
    lexicons = load_lexicons()
    assert [lx.lang for lx in lexicons] == ["en", "ko", "ja"]
    for lexicon in lexicons:
        assert {r.category for r in lexicon.rules} >= {
            C.FRUSTRATION,
            C.ANGER,
            C.CHURN,
            C.ESCALATION,
        }


def test_bad_lexicons_give_clear_errors() -> None:
    with pytest.raises(LexiconError, match="severity"):
        parse_lexicon("xx", '[[rule]]\ncategory = "anger"\nseverity = 7\nphrases = ["x"]\n')
    with pytest.raises(LexiconError, match="regular expression"):
        parse_lexicon(
            "xx", '[[rule]]\ncategory = "anger"\nseverity = 1\npatterns = ["(unclosed"]\n'
        )
    with pytest.raises(LexiconError, match="not valid TOML"):
        parse_lexicon("xx", "[[rule]\n")
    custom = parse_lexicon("xx", '[[rule]]\ncategory = "anger"\nseverity = 2\nphrases = ["grr"]\n')
    assert detect("grr!", (custom,)).severity == Severity.HIGH


def test_labels_are_translated() -> None:
    from console.core import i18n
    from console.core.triggers import category_label, severity_label

    try:
        i18n.set_language("ko")
        assert category_label(C.ANGER) == "화남"
        assert severity_label(3) == "심각"
        i18n.set_language("ja")
        assert category_label(C.CHURN) == "解約の恐れ"
    finally:
        i18n.set_language("en")
    assert severity_label(9) == "critical"
    for category in C:
        assert category_label(category) != f"core.trigger.{category.value}"


def _case_insensitive_only() -> tuple:
    """The packaged lexicons with the lowered-text fast path switched off."""
    import dataclasses

    return tuple(
        dataclasses.replace(lx, rules=tuple(dataclasses.replace(r, folded=None) for r in lx.rules))
        for lx in load_lexicons()
    )


@pytest.mark.parametrize(
    "transform", [str, str.upper, str.title, str.swapcase], ids=["as-is", "upper", "title", "swap"]
)
def test_lowered_fast_path_finds_what_ignorecase_finds(transform) -> None:
    """Rules run case-sensitively on ``text.lower()`` when they can; the spans are the
    ones the IGNORECASE regexes find on the original text."""
    slow = _case_insensitive_only()
    assert any(r.folded is not None for lx in load_lexicons() for r in lx.rules)
    for sentence in [s for s, _, _ in TRIGGERS] + CALM + ["İstanbul: CANCEL MY ACCOUNT now"]:
        text = transform(sentence)
        assert detect(text) == detect(text, slow), text


def test_upper_case_pattern_keeps_the_ignorecase_regex() -> None:
    lexicon = parse_lexicon(
        "en",
        'word_boundaries = true\n[[rule]]\ncategory = "anger"\nseverity = 2\n'
        'patterns = ["\\\\bABC\\\\b"]\n',
    )
    assert lexicon.rules[0].folded is None
    assert detect("so abc today", (lexicon,)).severity == Severity.HIGH
