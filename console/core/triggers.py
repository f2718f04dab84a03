"""Trigger-statement detection: is this customer getting frustrated, angry or about to leave?

The agent's console highlights the matching words and raises the
conversation's severity so the most-at-risk chat surfaces first.  Detection is
deliberately simple and explainable: lexicons of phrases and regular
expressions per language (``console/core/data/triggers/{en,ko,ja}.toml``)
plus two language-independent signals:

* repeated punctuation: ``???``, ``!!!``, ``?!?`` (three or more ASCII marks),
  ``？？``/``！！`` (two or more full-width marks);
* shouting: three or more consecutive ALL-CAPS English words (each at least two
  letters, so "I" and "A" do not count).

All lexicons are applied to every message (a Korean customer may write "refund
please 환불"), so no language detection is needed.  It does not understand
negation or sarcasm: "I'm not angry at all" triggers ``anger``.  The known
false positives are listed in ``docs/triggers.md``.

API:

* :func:`detect(text) <detect>` → :class:`TriggerResult` with ``spans``
  (``start``, ``end``, ``category``, ``severity``), sorted and non-overlapping,
  and ``severity`` (0 none, 1 mild, 2 high, 3 critical).
* :data:`NO_TRIGGERS` - the empty result.
* :func:`load_lexicons` - the parsed lexicon files (cached).
* :func:`category_label`, :func:`severity_label` - translated labels
  (``core.trigger.*``, ``core.severity.*`` in ``core/locales/<lang>/core.toml``).

Message severity is the maximum span severity, raised by one (up to 3) when
spans of two or more different categories reach severity 2 - an angry
customer who also wants to cancel is more urgent than either alone.
"""

from __future__ import annotations

import enum
import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from console.core.i18n import t

__all__ = [
    "NO_TRIGGERS",
    "Category",
    "Lexicon",
    "Rule",
    "Severity",
    "TriggerResult",
    "TriggerSpan",
    "category_label",
    "detect",
    "load_lexicons",
    "severity_label",
]

LANGUAGES: Final = ("en", "ko", "ja")


class Severity(enum.IntEnum):
    NONE = 0
    MILD = 1
    HIGH = 2
    CRITICAL = 3


class Category(enum.StrEnum):
    FRUSTRATION = "frustration"
    ANGER = "anger"
    CHURN = "churn"  # cancellation, refunds, leaving for a competitor
    ESCALATION = "escalation"  # manager, supervisor, legal threats
    PUNCTUATION = "punctuation"  # ???, !!!, ？？
    SHOUTING = "shouting"  # ALL CAPS (English)


@dataclass(frozen=True, slots=True)
class TriggerSpan:
    start: int
    end: int
    category: Category
    severity: Severity


@dataclass(frozen=True, slots=True)
class TriggerResult:
    spans: tuple[TriggerSpan, ...]
    severity: Severity

    def __bool__(self) -> bool:
        return self.severity > Severity.NONE

    @property
    def categories(self) -> frozenset[Category]:
        return frozenset(span.category for span in self.spans)


NO_TRIGGERS: Final = TriggerResult(spans=(), severity=Severity.NONE)


def category_label(category: Category) -> str:
    """Short label for a category in the active UI language ("angry", "화남", "怒り")."""
    return t(f"core.trigger.{category.value}")


def severity_label(severity: int) -> str:
    """Label for a severity 0-3 in the active UI language ("critical", "심각", "緊急")."""
    return t(f"core.severity.{max(0, min(3, int(severity)))}")


@dataclass(frozen=True, slots=True)
class Rule:
    category: Category
    severity: Severity
    regex: re.Pattern[str]
    # The same rule without IGNORECASE, for text lowered with ``str.lower()``
    # (phrases are stored lowered): case-insensitive literals are about twice as
    # slow in ``re``.  None when a pattern has upper-case literals or inline flags.
    folded: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Lexicon:
    lang: str
    rules: tuple[Rule, ...]
    # Optional pre-check: skip the lexicon when the text has no character of its script.
    script: re.Pattern[str] | None = None
    # Optional pre-check: every rule in one pattern (lowered text / any text, IGNORECASE).
    # No match anywhere means no rule matches: one search instead of one per rule.
    any_folded: re.Pattern[str] | None = None
    any_rule: re.Pattern[str] | None = None


class LexiconError(ValueError):
    """A trigger lexicon file that cannot be used; the message names the file and rule."""


def _trie_regex(phrases: list[str]) -> str:
    """One regex for many literal phrases, factored by common prefix.

    Python's ``re`` tries alternatives one by one at every position; a trie
    makes most positions fail on the first character (measured: English
    lexicon 20 ms → under 2 ms for 2,400 characters).  Children are tried
    before the end of a phrase, so the longest phrase wins ("cancel my
    account" over "cancel").  A space matches any run of whitespace.
    """
    trie: dict[str, Any] = {}
    for phrase in phrases:
        if not phrase:
            continue
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [
            (r"\s+" if ch == " " else re.escape(ch)) + build(child)
            for ch, child in sorted(node.items())
            if ch != ""
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?"
        return body

    return build(trie)


_ESCAPE: Final = re.compile(r"\\.")
_CASED_SOURCE: Final = re.compile(r"[A-Z]|\(\?[a-zA-Z]")


def _compile_rule(lang: str, index: int, raw: dict[str, object], word_boundaries: bool) -> Rule:
    where = f"triggers/{lang}.toml rule #{index + 1}"
    try:
        category = Category(str(raw["category"]))
        severity = Severity(int(str(raw["severity"])))
    except (KeyError, ValueError) as exc:
        raise LexiconError(f"{where}: needs a known category and a severity 1-3 ({exc}).") from exc
    phrases = raw.get("phrases", [])
    patterns = raw.get("patterns", [])
    if not isinstance(phrases, list) or not isinstance(patterns, list):
        raise LexiconError(f"{where}: phrases and patterns must be lists of strings.")
    alternatives: list[str] = []
    folded: list[str] = []
    if phrases:
        lowered = [str(p).lower() for p in phrases]
        trie = _trie_regex(lowered)
        if word_boundaries:
            # \b is much cheaper than a lookbehind at every position; it equals
            # (?<!\w) when every phrase starts with a word character.
            start = r"\b" if all(p[:1].isalnum() or p[:1] == "_" for p in lowered) else r"(?<!\w)"
            trie = rf"{start}{trie}(?!\w)"
        alternatives.append(trie)
        folded.append(trie)
    alternatives.extend(str(p) for p in patterns)
    folded.extend(str(p) for p in patterns)
    if not alternatives:
        raise LexiconError(f"{where}: has neither phrases nor patterns.")
    try:
        regex = re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE)
    except re.error as exc:
        raise LexiconError(f"{where}: bad regular expression: {exc}.") from exc
    # Lowered text matches lowercase patterns without IGNORECASE; a pattern with an
    # upper-case literal or an inline flag keeps the rule on the IGNORECASE regex.
    foldable = not any(_CASED_SOURCE.search(_ESCAPE.sub("", str(p))) for p in patterns)
    folded_regex = (
        re.compile("|".join(f"(?:{a})" for a in folded)) if foldable and folded else None
    )
    return Rule(category=category, severity=severity, regex=regex, folded=folded_regex)


def parse_lexicon(lang: str, text: str) -> Lexicon:
    """Parse one lexicon file's TOML text (exposed for tests and custom lexicons)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LexiconError(f"triggers/{lang}.toml is not valid TOML: {exc}.") from exc
    word_boundaries = bool(data.get("word_boundaries", False))
    rules_raw = data.get("rule", [])
    if not isinstance(rules_raw, list):
        raise LexiconError(f"triggers/{lang}.toml: [[rule]] must be an array of tables.")
    rules = tuple(_compile_rule(lang, i, raw, word_boundaries) for i, raw in enumerate(rules_raw))
    script_raw = data.get("script")
    try:
        script = re.compile(str(script_raw)) if script_raw else None
    except re.error as exc:
        raise LexiconError(f"triggers/{lang}.toml: bad script pattern: {exc}.") from exc
    return Lexicon(lang=lang, rules=rules, script=script, **_prefilters(rules))


def _prefilters(rules: tuple[Rule, ...]) -> dict[str, re.Pattern[str] | None]:
    if not rules:
        return {}
    folded = [rule.folded for rule in rules]
    return {
        "any_folded": re.compile("|".join(f"(?:{p.pattern})" for p in folded if p is not None))
        if all(p is not None for p in folded)
        else None,
        "any_rule": re.compile(
            "|".join(f"(?:{rule.regex.pattern})" for rule in rules), re.IGNORECASE
        ),
    }


@lru_cache(maxsize=1)
def load_lexicons() -> tuple[Lexicon, ...]:
    """The packaged lexicons for en, ko and ja (read once)."""
    root = resources.files("console.core").joinpath("data").joinpath("triggers")
    return tuple(
        parse_lexicon(lang, root.joinpath(f"{lang}.toml").read_text(encoding="utf-8"))
        for lang in LANGUAGES
    )


_PUNCTUATION = re.compile(r"[?!]{3,}|[？！]{2,}|[?!？！]{3,}")
# An ALL-CAPS word: two or more capitals (apostrophes allowed: DON'T).
_CAPS_WORD = r"[A-Z][A-Z']*[A-Z]"
_SHOUTING = re.compile(rf"\b{_CAPS_WORD}(?:[\s,.!?;:-]+{_CAPS_WORD}){{2,}}\b")


# Necessary conditions, each a cheap scan (a leading character class): most text has
# neither two punctuation marks in a row nor two capitals in a row.
_PUNCTUATION_PAIR = re.compile(r"[?!？！]{2}")
_CAPS_PAIR = re.compile(_CAPS_WORD)


def _signals(text: str) -> list[TriggerSpan]:
    spans: list[TriggerSpan] = []
    if _PUNCTUATION_PAIR.search(text) is not None:
        spans.extend(
            TriggerSpan(m.start(), m.end(), Category.PUNCTUATION, Severity.MILD)
            for m in _PUNCTUATION.finditer(text)
        )
    if _CAPS_PAIR.search(text) is not None:
        spans.extend(
            TriggerSpan(m.start(), m.end(), Category.SHOUTING, Severity.HIGH)
            for m in _SHOUTING.finditer(text)
        )
    return spans


def _merge(spans: list[TriggerSpan]) -> tuple[TriggerSpan, ...]:
    """Non-overlapping spans: on overlap keep the more severe, then the longer one."""
    ranked = sorted(spans, key=lambda s: (-s.severity, -(s.end - s.start), s.start))
    taken: list[TriggerSpan] = []
    for span in ranked:
        if all(span.end <= t.start or span.start >= t.end for t in taken):
            taken.append(span)
    return tuple(sorted(taken, key=lambda s: s.start))


def detect(text: str, lexicons: tuple[Lexicon, ...] | None = None) -> TriggerResult:
    """Find trigger statements in ``text`` (already sanitized; spans index into it)."""
    if not text:
        return NO_TRIGGERS
    found: list[TriggerSpan] = []
    lowered: str | None = text.lower()
    if lowered is not None and len(lowered) != len(text):
        lowered = None  # e.g. "İ" lowers to two characters: spans would shift
    for lexicon in lexicons if lexicons is not None else load_lexicons():
        if lexicon.script is not None and lexicon.script.search(text) is None:
            continue
        if lowered is not None and lexicon.any_folded is not None:
            if lexicon.any_folded.search(lowered) is None:
                continue
        elif lexicon.any_rule is not None and lexicon.any_rule.search(text) is None:
            continue
        for rule in lexicon.rules:
            if lowered is not None and rule.folded is not None:
                matches = rule.folded.finditer(lowered)
            else:
                matches = rule.regex.finditer(text)
            found.extend(
                TriggerSpan(m.start(), m.end(), rule.category, rule.severity)
                for m in matches
                if m.end() > m.start()
            )
    found.extend(_signals(text))
    if not found:
        return NO_TRIGGERS
    spans = _merge(found)
    severity = max(s.severity for s in spans)
    high_categories = {s.category for s in spans if s.severity >= Severity.HIGH}
    if len(high_categories) >= 2:
        severity = Severity(min(int(Severity.CRITICAL), severity + 1))
    return TriggerResult(spans=spans, severity=Severity(severity))
