"""console.core.followups: when the agent means, in the customer's zone and business hours;
the promise in the customer's language; reminders once, missed after 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from console.core.followups import (
    BusinessHours,
    FollowUpTracker,
    WhenError,
    customer_offset,
    promise_text,
    resolve_when,
)
from console.protocol import models as m

MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
KST = timezone(timedelta(hours=9))


def test_in_n_hours_stays_inside_business_hours() -> None:
    assert resolve_when("in 3 hours", MONDAY_10) == MONDAY_10 + timedelta(hours=3)
    assert resolve_when("3h", MONDAY_10) == MONDAY_10 + timedelta(hours=3)
    assert resolve_when("3시간 후", MONDAY_10) == MONDAY_10 + timedelta(hours=3)
    # 10:00 + 9 h = 19:00, after closing: the next opening, Tuesday 09:00.
    assert resolve_when("in 9 hours", MONDAY_10) == datetime(2026, 12, 8, 9, 0, tzinfo=UTC)


def test_a_clock_time_is_read_in_the_customers_zone() -> None:
    # 10:00 UTC is 19:00 in Seoul: 14:30 has passed there, so tomorrow 14:30 KST.
    due = resolve_when("14:30", MONDAY_10, KST)
    assert due == datetime(2026, 12, 8, 14, 30, tzinfo=KST)


def test_friday_evening_moves_to_monday_morning() -> None:
    friday = datetime(2026, 12, 11, 17, 0, tzinfo=UTC)
    assert resolve_when("in 2 hours", friday) == datetime(2026, 12, 14, 9, 0, tzinfo=UTC)
    assert BusinessHours().clamp(datetime(2026, 12, 12, 12, 0, tzinfo=UTC)).weekday() == 0


@pytest.mark.parametrize("text", ["", "soon", "25:00", "in 0 hours", "2020-01-01 10:00"])
def test_what_is_not_a_time_says_so(text: str) -> None:
    with pytest.raises(WhenError):
        resolve_when(text, MONDAY_10)


def customer(**fields: str) -> m.Customer:
    return m.Customer(id="c", name="n", custom_fields=fields, created_at=MONDAY_10)


@pytest.mark.parametrize(
    ("value", "hours"),
    [("+09:00", 9), ("UTC-5", -5), ("Asia/Seoul", 9), ("GMT+0530", 5.5)],
)
def test_customer_zone_from_profile(value: str, hours: float) -> None:
    zone = customer_offset(customer(timezone=value))
    assert zone is not None and zone.utcoffset(None) == timedelta(hours=hours)


def test_unknown_zone_is_none() -> None:
    assert customer_offset(customer()) is None
    assert customer_offset(customer(timezone="Mars/Olympus")) is None
    assert customer_offset(None) is None


def test_promise_in_each_language_names_the_local_time() -> None:
    due = datetime(2026, 12, 8, 5, 30, tzinfo=UTC)
    assert promise_text("phone", due, "en", KST).startswith(
        "I'll call you on 2026-12-08 14:30 (UTC+09:00)"
    )
    assert "2026-12-08 14:30 (UTC+09:00)에 전화드리겠습니다" in promise_text(
        "phone", due, "ko", KST
    )
    assert "メール" in promise_text("email", due, "ja", None)
    assert "(UTC)" in promise_text("chat", due, "xx", None)  # unknown language: English


def follow_up(fid: str, due: datetime) -> m.FollowUp:
    return m.FollowUp(
        id=fid,
        conversation_id="conv",
        customer_id="cust",
        agent_id="a",
        channel="phone",
        due_at=due,
        created_at=MONDAY_10,
    )


def test_tracker_reports_each_due_follow_up_once_and_knows_missed() -> None:
    tracker = FollowUpTracker()
    tracker.replace(
        [follow_up("later", MONDAY_10 + timedelta(hours=1)), follow_up("now", MONDAY_10)]
    )
    assert [f.id for f in tracker.open()] == ["now", "later"]
    assert [f.id for f in tracker.due(MONDAY_10)] == ["now"]
    assert tracker.due(MONDAY_10) == []
    assert not FollowUpTracker.missed(tracker.items["now"], MONDAY_10 + timedelta(minutes=15))
    assert FollowUpTracker.missed(tracker.items["now"], MONDAY_10 + timedelta(minutes=16))
    tracker.upsert(m.FollowUp(**{**_fields(tracker.items["now"]), "state": "done"}))
    assert [f.id for f in tracker.open()] == ["later"]


def _fields(f: m.FollowUp) -> dict[str, object]:
    return {name: getattr(f, name) for name in f.__struct_fields__}
