"""Ingest fast paths give exactly what the slow paths give.

* ``is_clean_text`` / ``is_clean_line``: True only when the sanitizer would return
  the string unchanged (``sanitize_model`` skips such strings).
* ``sanitize_model`` equals sanitizing every field the slow way.
* ``detect`` with the lexicons' one-pattern pre-checks (and the signal pre-checks)
  finds the same spans and severity as running every rule.
* ``Rows.of`` and ``Change | Change`` (which skip merging where one side is empty)
  equal noting every operation / the union of every field.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core import triggers
from console.core.changes import Op, RowLog, Rows
from console.core.reducers import MULTILINE_FIELDS, Area, Change, _clean, sanitize_model
from console.core.sanitize import (
    is_clean_line,
    is_clean_text,
    sanitize_inbound_text,
    sanitize_single_line,
)
from console.protocol import models as m

PIECES = [
    "hello",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\t",
    "\x1b[31m",
    "\u202e",
    "\u200b",
    "e\u0301\u0301\u0301\u0301\u0301",
    "안녕하세요",
    "こんにちは",
    "👍🏽",
    "???",
    "！！",
    "THIS IS NOT OK",
    "REFUND NOW",
    "unacceptable",
    "cancel my account",
    "짜증나요",
    "환불",
    "ふざけるな",
    "最悪",
    "İ",
    "\x85",
    "\u3000",
    "\xa0",
]
texts = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    st.text(max_size=60),
)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_clean_checks_never_skip_work(text: str) -> None:
    if is_clean_text(text):
        assert sanitize_inbound_text(text) == text
    if is_clean_line(text):
        assert sanitize_single_line(text) == text


def slow_sanitize(obj: Any) -> Any:
    """The field-by-field path ``sanitize_model`` had before its fast path."""
    changes = {}
    for name in obj.__struct_fields__:
        value = getattr(obj, name)
        cleaned = _clean(value, name in MULTILINE_FIELDS)
        if cleaned != value:
            changes[name] = cleaned
    return msgspec.structs.replace(obj, **changes) if changes else obj


@settings(max_examples=200, deadline=None)
@given(texts, texts, texts, st.lists(texts, max_size=2))
def test_sanitize_model_equals_the_slow_path(
    body: str, name: str, cid: str, filenames: list[str]
) -> None:
    msg = m.Message(
        id="m1",
        conversation_id=cid,
        author_kind="customer",
        author_id="u1",
        author_name=name,
        body=body,
        created_at=datetime(2026, 1, 2, tzinfo=UTC),
        attachments=[
            m.Attachment(id=f"a{i}", filename=f, content_type="text/plain", size=1, url="")
            for i, f in enumerate(filenames)
        ],
    )
    fast = sanitize_model(msg)
    assert fast == slow_sanitize(msg)
    if fast == msg:
        assert fast is msg  # nothing copied when nothing changed


@settings(max_examples=400, deadline=None)
@given(texts)
def test_prechecks_do_not_change_detection(text: str) -> None:
    lexicons = triggers.load_lexicons()
    every_rule = tuple(dataclasses.replace(lex, any_folded=None, any_rule=None) for lex in lexicons)
    assert triggers.detect(text, lexicons) == triggers.detect(text, every_rule)
    spans = [
        *(
            triggers.TriggerSpan(
                x.start(), x.end(), triggers.Category.PUNCTUATION, triggers.Severity.MILD
            )
            for x in triggers._PUNCTUATION.finditer(text)
        ),
        *(
            triggers.TriggerSpan(
                x.start(), x.end(), triggers.Category.SHOUTING, triggers.Severity.HIGH
            )
            for x in triggers._SHOUTING.finditer(text)
        ),
    ]
    assert triggers._signals(text) == spans


ids = st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=4)


@settings(max_examples=300, deadline=None)
@given(ids, ids, ids)
def test_rows_of_equals_noting_each_operation(
    added: list[str], updated: list[str], removed: list[str]
) -> None:
    log = RowLog()
    for op, group in ((Op.ADDED, added), (Op.UPDATED, updated), (Op.REMOVED, removed)):
        for row_id in group:
            log.note(row_id, op)
    assert Rows.of(added, updated, removed) == log.freeze()


id_sets = st.frozensets(st.sampled_from(["c1", "c2", "c3"]), max_size=2)
areas = st.frozensets(st.sampled_from(list(Area)), max_size=2)
changes = st.builds(
    Change,
    areas=areas,
    conversations=id_sets,
    transcripts=id_sets,
    typing=id_sets,
    customers=id_sets,
    missing=id_sets,
)


@settings(max_examples=300, deadline=None)
@given(changes, changes)
def test_change_merge_is_the_union_of_every_field(a: Change, b: Change) -> None:
    merged = a | b
    for name in ("areas", "conversations", "transcripts", "typing", "customers", "missing"):
        assert getattr(merged, name) == getattr(a, name) | getattr(b, name)
        assert isinstance(getattr(merged, name), frozenset)
