"""Expectation templates and promise timers (clock injected)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from console.core.expectations import (
    Promises,
    PromiseState,
    PromiseTimer,
    TemplateError,
    parse_templates,
    template,
    templates,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_packaged_templates_cover_every_language() -> None:
    ids = [t.id for t in templates()]
    assert ids == ["researching", "colleague", "minutes", "still_working"]
    for tpl in templates():
        for lang in ("en", "ko", "ja"):
            assert tpl.text(lang) and tpl.follow_up_text(lang) and tpl.label(lang)
            assert "{minutes}" not in tpl.text(lang) + tpl.follow_up_text(lang)
    assert template("researching").duration == timedelta(minutes=2)
    assert template("colleague").duration == timedelta(minutes=5)
    with pytest.raises(KeyError):
        template("nope")


def test_texts_fill_minutes_and_fall_back_to_english() -> None:
    tpl = template("minutes")
    assert tpl.ask_minutes
    assert "15 minutes" in tpl.text("en", 15)
    assert "15분" in tpl.text("ko", 15)
    assert "15分" in tpl.text("ja", 15)
    assert tpl.text("fr", 15) == tpl.text("en", 15)
    assert "5분" in template("colleague").text("ko")


def test_two_minute_promise_warns_in_the_last_30_seconds_then_expires() -> None:
    timer = PromiseTimer.start("c1", template("researching"), T0)
    assert timer.state(at(0)) is PromiseState.OK
    assert timer.state(at(89)) is PromiseState.OK
    assert timer.state(at(90)) is PromiseState.WARN
    assert timer.remaining(at(90)) == timedelta(seconds=30)
    assert timer.state(at(120)) is PromiseState.EXPIRED
    assert timer.remaining(at(200)) == timedelta(0)
    assert timer.overdue(at(200)) == timedelta(seconds=80)


def test_long_promises_warn_in_the_last_quarter() -> None:
    timer = PromiseTimer.start("c1", template("minutes"), T0, minutes=20)
    assert timer.duration == timedelta(minutes=20)
    assert timer.state(at(14 * 60)) is PromiseState.OK
    assert timer.state(at(15 * 60)) is PromiseState.WARN
    assert "20" in timer.text("en")


def test_follow_up_restarts_the_countdown() -> None:
    timer = PromiseTimer.start("c1", template("colleague"), T0)
    assert timer.follow_up_text("ja") == template("colleague").follow_up_text("ja")
    later = timer.extended(at(300))
    assert later.follow_ups_sent == 1
    assert later.state(at(301)) is PromiseState.OK
    assert later.deadline == at(600)


def test_invalid_minutes_are_refused() -> None:
    with pytest.raises(ValueError, match="between 1 and"):
        PromiseTimer.start("c1", template("minutes"), T0, minutes=0)


def test_promises_keep_one_timer_per_conversation_and_list_due_ones() -> None:
    promises = Promises()
    promises.promise("a", template("colleague"), at(0))
    promises.promise("b", template("researching"), at(0))
    promises.promise("c", template("researching"), at(0))
    promises.promise("c", template("minutes"), at(0), minutes=30)  # replaces
    assert len(promises) == 3
    assert promises.due(at(10)) == []
    due = promises.due(at(100))
    assert [(t.conversation_id, s) for t, s in due] == [("b", PromiseState.WARN)]
    due = promises.due(at(290))
    assert [(t.conversation_id, s) for t, s in due] == [
        ("b", PromiseState.EXPIRED),
        ("a", PromiseState.WARN),
    ]
    assert promises.follow_up_sent("b", at(290)) is not None
    assert [t.conversation_id for t, _ in promises.due(at(290))] == ["a"]
    assert promises.fulfil("a") is not None and promises.fulfil("a") is None
    assert promises.follow_up_sent("zzz", at(0)) is None


@given(st.integers(1, 600), st.integers(0, 40000))
def test_state_is_monotonic_in_time(minutes: int, seconds: int) -> None:
    timer = PromiseTimer.start("c", template("minutes"), T0, minutes=minutes)
    order = [PromiseState.OK, PromiseState.WARN, PromiseState.EXPIRED]
    now, later = at(seconds), at(seconds + 29)
    assert order.index(timer.state(now)) <= order.index(timer.state(later))
    assert timer.remaining(now) >= timer.remaining(later)


def test_bad_template_files_say_what_is_wrong() -> None:
    with pytest.raises(TemplateError, match="minutes"):
        parse_templates("[x]\nminutes = 0\n")
    with pytest.raises(TemplateError, match="no text in: ko, ja"):
        parse_templates(
            "[x]\nminutes = 1\n[x.label]\nen='a'\nko='b'\nja='c'\n[x.text]\nen='t'\n"
            "[x.follow_up]\nen='f'\nko='g'\nja='h'\n"
        )
    with pytest.raises(TemplateError, match="not valid TOML"):
        parse_templates("[x")
