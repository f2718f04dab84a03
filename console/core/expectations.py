"""Expectation setting: "one moment", "checking with a colleague", "~N minutes".

An agent juggling four chats sends a template that *promises* a duration.
A :class:`PromiseTimer` per conversation counts it down, warns before the
promise runs out and offers the template's follow-up text, so no customer is
left wondering.  Pure and clock-injected: every method takes ``now``.

Templates live in ``console/core/data/expectations.toml`` (en, ko, ja; each
with a label for the agent, the customer text and a follow-up).

API::

    templates()                          # list[ExpectationTemplate], palette order
    template("colleague")                # by id; KeyError for an unknown id
    tpl.text("ko", minutes=None)         # customer text; {minutes} filled
    tpl.follow_up_text("ja")
    tpl.label("en")

    timer = PromiseTimer.start(conv_id, tpl, now, minutes=None)
    timer.remaining(now)                 # timedelta, never negative
    timer.state(now)                     # PromiseState.OK / WARN / EXPIRED
    timer.follow_up_text("en")
    timer.extended(now)                  # a new timer after the follow-up was sent

    promises = Promises()                # one timer per conversation
    promises.promise(conv_id, tpl, now)  # replaces any earlier promise
    promises.fulfil(conv_id)             # the agent answered: drop the timer
    promises.due(now)                    # [(timer, state)] in WARN or EXPIRED, most urgent first

Warning window: the last quarter of the promise, but at least 30 seconds
(and never longer than the promise itself): a 2-minute promise warns at
1:30, a 10-minute one at 7:30.
"""

from __future__ import annotations

import enum
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Final

__all__ = [
    "FALLBACK_LANG",
    "MIN_WARN",
    "WARN_FRACTION",
    "ExpectationTemplate",
    "PromiseState",
    "PromiseTimer",
    "Promises",
    "TemplateError",
    "parse_templates",
    "template",
    "templates",
]

LANGS: Final = ("en", "ko", "ja")
FALLBACK_LANG: Final = "en"
WARN_FRACTION: Final = 0.25
MIN_WARN: Final = timedelta(seconds=30)
MAX_MINUTES: Final = 24 * 60


class TemplateError(ValueError):
    """A broken expectations file; the message names the template and field."""


class PromiseState(enum.StrEnum):
    OK = "ok"
    WARN = "warn"  # about to run out: offer the follow-up now
    EXPIRED = "expired"  # the promised time has passed


@dataclass(frozen=True, slots=True)
class ExpectationTemplate:
    id: str
    minutes: int
    labels: dict[str, str]
    texts: dict[str, str]
    follow_ups: dict[str, str]
    ask_minutes: bool = False  # the agent chooses N ("this may take ~N minutes")
    order: int = 0

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.minutes)

    def label(self, lang: str) -> str:
        return _pick(self.labels, lang)

    def text(self, lang: str, minutes: int | None = None) -> str:
        """The customer-facing text with ``{minutes}`` filled in."""
        return _pick(self.texts, lang).replace("{minutes}", str(minutes or self.minutes))

    def follow_up_text(self, lang: str, minutes: int | None = None) -> str:
        return _pick(self.follow_ups, lang).replace("{minutes}", str(minutes or self.minutes))


def _pick(texts: dict[str, str], lang: str) -> str:
    return texts.get(lang) or texts[FALLBACK_LANG]


def _warn_window(duration: timedelta) -> timedelta:
    return min(duration, max(MIN_WARN, duration * WARN_FRACTION))


@dataclass(frozen=True, slots=True)
class PromiseTimer:
    """A promise made in one conversation at ``started_at`` for ``duration``."""

    conversation_id: str
    template: ExpectationTemplate
    started_at: datetime
    duration: timedelta
    follow_ups_sent: int = 0

    @classmethod
    def start(
        cls,
        conversation_id: str,
        template: ExpectationTemplate,
        now: datetime,
        minutes: int | None = None,
    ) -> PromiseTimer:
        if minutes is not None and not 1 <= minutes <= MAX_MINUTES:
            raise ValueError(f"Promise between 1 and {MAX_MINUTES} minutes, not {minutes}.")
        duration = timedelta(minutes=minutes) if minutes else template.duration
        return cls(conversation_id, template, now, duration)

    @property
    def deadline(self) -> datetime:
        return self.started_at + self.duration

    @property
    def minutes(self) -> int:
        return max(1, round(self.duration.total_seconds() / 60))

    def remaining(self, now: datetime) -> timedelta:
        return max(timedelta(0), self.deadline - now)

    def overdue(self, now: datetime) -> timedelta:
        return max(timedelta(0), now - self.deadline)

    def state(self, now: datetime) -> PromiseState:
        left = self.deadline - now
        if left <= timedelta(0):
            return PromiseState.EXPIRED
        if left <= _warn_window(self.duration):
            return PromiseState.WARN
        return PromiseState.OK

    def text(self, lang: str) -> str:
        return self.template.text(lang, self.minutes)

    def follow_up_text(self, lang: str) -> str:
        return self.template.follow_up_text(lang, self.minutes)

    def extended(self, now: datetime, duration: timedelta | None = None) -> PromiseTimer:
        """The timer after a follow-up was sent: counts down again from ``now``."""
        return PromiseTimer(
            self.conversation_id,
            self.template,
            now,
            duration or self.duration,
            self.follow_ups_sent + 1,
        )


class Promises:
    """At most one running promise per conversation."""

    def __init__(self) -> None:
        self._timers: dict[str, PromiseTimer] = {}

    def promise(
        self,
        conversation_id: str,
        template: ExpectationTemplate,
        now: datetime,
        minutes: int | None = None,
    ) -> PromiseTimer:
        timer = PromiseTimer.start(conversation_id, template, now, minutes)
        self._timers[conversation_id] = timer
        return timer

    def follow_up_sent(self, conversation_id: str, now: datetime) -> PromiseTimer | None:
        timer = self._timers.get(conversation_id)
        if timer is None:
            return None
        self._timers[conversation_id] = timer = timer.extended(now)
        return timer

    def fulfil(self, conversation_id: str) -> PromiseTimer | None:
        return self._timers.pop(conversation_id, None)

    def get(self, conversation_id: str) -> PromiseTimer | None:
        return self._timers.get(conversation_id)

    def __len__(self) -> int:
        return len(self._timers)

    def due(self, now: datetime) -> list[tuple[PromiseTimer, PromiseState]]:
        """Timers in WARN or EXPIRED state, the earliest deadline first."""
        found = [(t, t.state(now)) for t in self._timers.values()]
        due = [(t, s) for t, s in found if s is not PromiseState.OK]
        return sorted(due, key=lambda ts: (ts[0].deadline, ts[0].conversation_id))


# --------------------------------------------------------------------------- loading


def _texts(tid: str, raw: dict[str, object], name: str) -> dict[str, str]:
    table = raw.get(name)
    if not isinstance(table, dict):
        raise TemplateError(f"Template '{tid}' needs a [{tid}.{name}] table with en, ko and ja.")
    texts = {str(k): str(v) for k, v in table.items()}
    missing = [lang for lang in LANGS if not texts.get(lang)]
    if missing:
        raise TemplateError(f"Template '{tid}' has no {name} in: {', '.join(missing)}.")
    return texts


def parse_templates(text: str) -> tuple[ExpectationTemplate, ...]:
    """Parse expectations TOML (exposed for tests and user template files)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TemplateError(f"The expectations file is not valid TOML: {exc}.") from exc
    result: list[ExpectationTemplate] = []
    for tid, raw in data.items():
        if not isinstance(raw, dict):
            raise TemplateError(f"'{tid}' must be a table like [{tid}].")
        minutes = raw.get("minutes")
        if not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES:
            raise TemplateError(f"Template '{tid}' needs minutes = 1..{MAX_MINUTES}.")
        result.append(
            ExpectationTemplate(
                id=tid,
                minutes=minutes,
                labels=_texts(tid, raw, "label"),
                texts=_texts(tid, raw, "text"),
                follow_ups=_texts(tid, raw, "follow_up"),
                ask_minutes=bool(raw.get("ask_minutes", False)),
                order=int(raw.get("order", 0)),
            )
        )
    return tuple(sorted(result, key=lambda t: (t.order, t.id)))


@lru_cache(maxsize=1)
def _packaged() -> tuple[ExpectationTemplate, ...]:
    path = resources.files("console.core").joinpath("data").joinpath("expectations.toml")
    return parse_templates(path.read_text(encoding="utf-8"))


def templates() -> list[ExpectationTemplate]:
    """The packaged templates in palette order."""
    return list(_packaged())


def template(template_id: str) -> ExpectationTemplate:
    for tpl in _packaged():
        if tpl.id == template_id:
            return tpl
    raise KeyError(template_id)
