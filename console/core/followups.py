"""Follow-ups: "I'll call you tomorrow at 10": when, the promise text, reminders.

UI-free and clock-injected.  The backend stores follow-ups
(``Backend.create_follow_up``, ``Capability.FOLLOW_UPS``); this module turns what
the agent typed into a due time, writes the customer's promise in their language
(``console/core/data/followups.toml``, en/ko/ja) and tracks which follow-ups are
due (a reminder, once each) and which were missed (critical).

When (``resolve_when``): ``"in 3 hours"``, ``"3h"``, ``"3"`` (hours), ``"14:30"`` (today,
or tomorrow when that has passed) or ``"2026-12-08 10:00"``, all in the customer's time
zone (a UTC offset) where known, else the agent's (UTC).  The result is then moved
inside business hours (``BusinessHours``, default Monday–Friday 09:00–18:00 in the
same zone): a time outside them becomes the next opening.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, timezone
from functools import lru_cache
from importlib import resources
from typing import Final

from console.protocol import models as m

__all__ = [
    "CHANNELS",
    "MISSED_AFTER",
    "BusinessHours",
    "FollowUpTracker",
    "WhenError",
    "customer_offset",
    "promise_text",
    "resolve_when",
]

CHANNELS: Final = ("phone", "email", "chat")
LANGS: Final = ("en", "ko", "ja")
# A follow-up still open this long after its due time was missed: it turns critical.
MISSED_AFTER: Final = timedelta(minutes=15)


class WhenError(ValueError):
    """What the agent typed is not a time we understand (the message says what is)."""


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """Opening hours in the customer's zone: ``days`` (0 = Monday) from ``start`` to ``end``."""

    start: time = time(9, 0)
    end: time = time(18, 0)
    days: frozenset[int] = frozenset(range(5))

    def clamp(self, local: datetime) -> datetime:
        """``local`` if inside the hours, else the next opening (same tzinfo)."""
        for _ in range(8):
            if local.weekday() in self.days:
                opening = local.replace(hour=self.start.hour, minute=self.start.minute)
                opening = opening.replace(second=0, microsecond=0)
                closing = local.replace(
                    hour=self.end.hour, minute=self.end.minute, second=0, microsecond=0
                )
                if local < opening:
                    return opening
                if local < closing:
                    return local
            local = (local + timedelta(days=1)).replace(
                hour=self.start.hour, minute=self.start.minute, second=0, microsecond=0
            )
            if local.weekday() in self.days:
                return local
        return local


_OFFSET = re.compile(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$", re.IGNORECASE)
# Zones customers commonly give, without depending on the system tz database.
_ZONES: Final = {
    "asia/seoul": 9 * 60,
    "asia/tokyo": 9 * 60,
    "kst": 9 * 60,
    "jst": 9 * 60,
    "utc": 0,
    "gmt": 0,
    "europe/london": 0,
}


def customer_offset(customer: m.Customer | None) -> timezone | None:
    """The customer's time zone from ``timezone``/``utc_offset`` in account or custom fields
    (``+09:00``, ``UTC-5``, ``Asia/Seoul``); ``None`` when unknown."""
    if customer is None:
        return None
    for fields in (customer.custom_fields, customer.account):
        for key in ("timezone", "time_zone", "tz", "utc_offset"):
            value = fields.get(key, "").strip()
            if not value:
                continue
            if value.lower() in _ZONES:
                return timezone(timedelta(minutes=_ZONES[value.lower()]))
            match = _OFFSET.match(value)
            if match:
                sign = -1 if match.group(1) == "-" else 1
                minutes = int(match.group(2)) * 60 + int(match.group(3) or 0)
                if minutes <= 14 * 60:
                    return timezone(sign * timedelta(minutes=minutes))
    return None


_IN_HOURS = re.compile(
    r"^(?:in\s+)?(\d{1,3})(?:\s*(?:h|hr|hrs|hour|hours|시간|時間))?(?:\s*(?:후|後))?$",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})$")


def resolve_when(
    text: str,
    now: datetime,
    zone: timezone | None = None,
    hours: BusinessHours | None = None,
) -> datetime:
    """The due time (UTC) for what the agent typed; see the module docstring."""
    tz = zone or UTC
    local_now = now.astimezone(tz)
    raw = " ".join(text.strip().split())
    if not raw:
        raise WhenError("Say when: a time (14:30), a date and time, or in N hours.")
    if match := _IN_HOURS.match(raw):
        n = int(match.group(1))
        if not 1 <= n <= 24 * 14:
            raise WhenError("Hours must be between 1 and 336.")
        local = local_now + timedelta(hours=n)
    elif match := _CLOCK.match(raw):
        hh, mm = int(match.group(1)), int(match.group(2))
        if hh > 23 or mm > 59:
            raise WhenError(f"{raw} is not a time of day.")
        local = local_now.replace(hour=hh, minute=mm, second=0, microsecond=0)
        if local <= local_now:
            local += timedelta(days=1)
    elif match := _DATE_TIME.match(raw):
        try:
            y, mo, d, hh, mm = (int(g) for g in match.groups())
            local = datetime(y, mo, d, hh, mm, tzinfo=tz)
        except ValueError as error:
            raise WhenError(f"{raw} is not a valid date and time.") from error
        if local <= local_now:
            raise WhenError("That time has passed.")
    else:
        raise WhenError(f"Not a time: {raw!r}. Use 14:30, 2026-12-08 10:00 or in 3 hours.")
    local = (hours or BusinessHours()).clamp(local)
    return local.astimezone(UTC)


@lru_cache(maxsize=1)
def _templates() -> dict[str, dict[str, str]]:
    data = tomllib.loads(
        resources.files("console.core")
        .joinpath("data")
        .joinpath("followups.toml")
        .read_text("utf-8")
    )
    return {str(k): {str(lang): str(t) for lang, t in v.items()} for k, v in data.items()}


def promise_text(channel: str, due_at: datetime, lang: str, zone: timezone | None) -> str:
    """The message telling the customer what was promised, in ``lang`` (en/ko/ja)."""
    texts = _templates()[channel]
    local = due_at.astimezone(zone or UTC)
    offset = local.strftime("%z")
    label = "UTC" if offset in ("+0000", "") else f"UTC{offset[:3]}:{offset[3:]}"
    when = f"{local:%Y-%m-%d %H:%M} ({label})"
    return texts.get(lang, texts["en"]).format(when=when)


@dataclass
class FollowUpTracker:
    """The agent's own open follow-ups; reports each one once when it falls due."""

    items: dict[str, m.FollowUp] = field(default_factory=dict)
    reminded: set[str] = field(default_factory=set)

    def replace(self, follow_ups: list[m.FollowUp]) -> None:
        self.items = {f.id: f for f in follow_ups if f.state == "open"}

    def upsert(self, follow_up: m.FollowUp) -> None:
        if follow_up.state == "open":
            self.items[follow_up.id] = follow_up
        else:
            self.items.pop(follow_up.id, None)

    def open(self) -> list[m.FollowUp]:
        """Earliest due first."""
        return sorted(self.items.values(), key=lambda f: (f.due_at, f.id))

    def for_customer(self, customer_id: str) -> list[m.FollowUp]:
        return [f for f in self.open() if f.customer_id == customer_id]

    def due(self, now: datetime) -> list[m.FollowUp]:
        """Follow-ups that fell due since the last call (each reported once)."""
        out = [f for f in self.open() if f.due_at <= now and f.id not in self.reminded]
        self.reminded.update(f.id for f in out)
        return out

    @staticmethod
    def missed(follow_up: m.FollowUp, now: datetime) -> bool:
        return follow_up.state == "open" and now - follow_up.due_at > MISSED_AFTER
