"""Deterministic plans for simulated customers (no I/O).

``plan_customers(seed, n)`` decides everything random up front: who the
customer is, which scenario they bring, what they say and when, whether they
are frustrated, attach a file, give up when ignored, rate the chat or ask for
the transcript.  Each customer draws from its own ``random.Random(f"{seed}:{i}")``
so the plan for customer *i* does not depend on network timing or on how many
customers run at once: the same seed gives the same words in the same order.
Only *when* things happen on the wire depends on the server.

Times in a plan are seconds at ``speed=1.0`` (a realistic pace); the runner
divides them by its speed multiplier.
"""

from __future__ import annotations

import itertools
import random
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from console.sim.scripts import (
    ANGRY_NUDGES,
    EXTRA_PEOPLE,
    LANGS,
    NUDGES,
    RATING_COMMENTS,
    Scenario,
    scenarios_for,
)

LANG_WEIGHTS: dict[str, float] = {"en": 0.45, "ko": 0.3, "ja": 0.25}


@dataclass(frozen=True, slots=True)
class FileSpec:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CustomerPlan:
    index: int
    arrival_seconds: float  # after the simulator starts
    lang: str
    name: str
    email: str
    scenario: Scenario
    department: str  # department name sent in StartConversation (resolved like an id)
    opening: str
    lines: tuple[str, ...]  # sent one per agent reply, in order
    prechat: dict[str, str]  # the scenario's pre-chat answers with this customer's numbers
    bot_reply: str  # answer to the bot's pre-chat question ("" for the generic one)
    think_seconds: tuple[float, ...]  # before each of ``lines`` (reading + typing)
    thanks: str
    frustrated: bool
    patience_seconds: float  # how long they wait for an answer before a nudge
    nudges: tuple[str, ...]  # sent, one per patience period, while nobody answers
    leaves_if_ignored: bool  # after the nudges run out: leave (True) or keep waiting once more
    attachment: FileSpec | None
    attachment_after_line: int  # 0: right after the opening; k: with line k
    attachment_text: str
    rating: int | None
    rating_comment: str
    transcript: bool


def tiny_png(rgb: tuple[int, int, int], size: int = 16) -> bytes:
    """A valid ``size``×``size`` one-colour PNG (real bytes for type sniffing)."""

    def chunk(tag: bytes, payload: bytes) -> bytes:
        body = tag + payload
        return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


def _people(lang: str) -> list[tuple[str, str]]:
    """(name, email) of demo customers speaking ``lang`` first, then extra people."""
    # Deferred: plain data shared with the server's demo loader, read only when needed.
    from console.seed_data import DEMO_CUSTOMERS

    people = [(c["name"], c["email"]) for c in DEMO_CUSTOMERS if c.get("lang") == lang]
    people += [(name, f"{local}@sim.example.com") for name, local in EXTRA_PEOPLE[lang]]
    return people


def _department_name(key: str) -> str:
    from console.seed_data import DEMO_DEPARTMENTS

    for dept in DEMO_DEPARTMENTS:
        if dept["id"] == key:
            return str(dept["name"])
    return ""


def _think(rng: random.Random, text: str) -> float:
    reading = rng.uniform(1.5, 5.0)
    typing = len(text) / rng.uniform(3.0, 7.0)
    return round(reading + typing, 3)


def _attachment(rng: random.Random, scenario: Scenario, index: int) -> FileSpec:
    if rng.random() < 0.6:
        rgb = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        return FileSpec(f"screenshot-{index}.png", "image/png", tiny_png(rgb))
    log = "\n".join(
        f"2026-11-26T10:{m:02d}:00Z ERROR {scenario.key}: request failed (code {rng.randint(400, 599)})"
        for m in range(rng.randint(2, 6))
    )
    return FileSpec(f"error-log-{index}.txt", "text/plain", (log + "\n").encode())


# Invoice and order numbers in the scripts (INV-20931, A-55812, K-20417, J-10422).
_DOCUMENT_ID = re.compile(r"(?<![A-Za-z0-9])([A-Z]{1,3})-(\d{4,6})(?!\d)")
# Said before an opening that names no number, so two customers with the same
# scenario do not open with the same words (picked by customer index).
_OPENERS: dict[str, tuple[str, ...]] = {
    "en": ("", "Hello. ", "Hi there! ", "Good morning. ", "Quick question. "),
    "ko": ("", "안녕하세요. ", "문의드립니다. ", "수고하십니다. ", "급한 건 아니지만요. "),
    "ja": ("", "こんにちは。", "お世話になっております。", "すみません、", "質問です。"),
}


def _own_numbers(index: int, texts: list[str]) -> dict[str, str]:
    """Each invoice/order number in ``texts`` → one of this customer's own (distinct per
    index for a long while; same prefix and length)."""
    mapping: dict[str, str] = {}
    for text in texts:
        for match in _DOCUMENT_ID.finditer(text):
            original = match.group(0)
            if original in mapping:
                continue
            digits = match.group(2)
            span = 10 ** len(digits)
            number = (int(digits) + 7919 * (index + 1) + 104729 * len(mapping)) % span
            mapping[original] = f"{match.group(1)}-{number:0{len(digits)}d}"
    return mapping


def _renumber(text: str, mapping: dict[str, str]) -> str:
    return _DOCUMENT_ID.sub(lambda m: mapping.get(m.group(0), m.group(0)), text)


def plan_customer(
    seed: int,
    index: int,
    arrival_seconds: float,
    used_emails: set[str],
    used_openings: set[str] | None = None,
) -> CustomerPlan:
    rng = random.Random(f"{seed}:{index}")
    lang = rng.choices(LANGS, weights=[LANG_WEIGHTS[x] for x in LANGS])[0]
    scenario = rng.choice(scenarios_for(lang))
    name, email = rng.choice(_people(lang))
    if email in used_emails:
        local, _, domain = email.partition("@")
        email = f"{local}+{index}@{domain}"
    used_emails.add(email)

    frustrated = rng.random() < 0.3
    lines = list(scenario.followups)
    if frustrated and scenario.frustrated:
        # Anger builds up: trigger statements go in the middle and at the end.
        for k, angry in enumerate(scenario.frustrated):
            pos = min(len(lines), 1 + k * 2)
            lines.insert(pos, angry)
    # Two customers with the same scenario get their own numbers and words.
    numbers = _own_numbers(
        index,
        [scenario.opening, *scenario.prechat.values(), *lines, scenario.bot_reply],
    )
    lines = [_renumber(line, numbers) for line in lines]
    opening = _renumber(scenario.opening, numbers)
    if opening == scenario.opening:
        openers = _OPENERS[lang]
        candidates = [openers[(index + k) % len(openers)] + opening for k in range(len(openers))]
        taken = used_openings or set()
        opening = next((c for c in candidates if c not in taken), candidates[0])
    if used_openings is not None:
        used_openings.add(opening)
    if frustrated and lang == "en" and rng.random() < 0.3:
        opening = opening.upper()

    patience = round(rng.uniform(45.0, 240.0) * (0.6 if frustrated else 1.0), 3)
    nudge_pool = ANGRY_NUDGES[lang] if frustrated else NUDGES[lang]
    nudges = tuple(rng.sample(nudge_pool, k=min(len(nudge_pool), rng.randint(1, 2))))
    leaves = rng.random() < 0.25

    attachment = _attachment(rng, scenario, index) if rng.random() < 0.25 else None
    attach_after = rng.randint(0, max(0, len(lines) - 1)) if attachment else 0
    attachment_text = (
        scenario.attachment_text
        or {
            "en": "Attached a file.",
            "ko": "파일 첨부합니다.",
            "ja": "ファイルを添付します。",
        }[lang]
    )

    rating: int | None = None
    if rng.random() < 0.6:
        rating = rng.randint(1, 3) if frustrated else rng.randint(3, 5)
    comment = RATING_COMMENTS[lang][rating] if rating is not None and rng.random() < 0.7 else ""

    return CustomerPlan(
        index=index,
        arrival_seconds=round(arrival_seconds, 3),
        lang=lang,
        name=name,
        email=email,
        scenario=scenario,
        department=_department_name(scenario.department),
        opening=opening,
        lines=tuple(lines),
        prechat={key: _renumber(value, numbers) for key, value in scenario.prechat.items()},
        bot_reply=_renumber(scenario.bot_reply, numbers),
        think_seconds=tuple(_think(rng, line) for line in lines),
        thanks=scenario.thanks,
        frustrated=frustrated,
        patience_seconds=patience,
        nudges=nudges,
        leaves_if_ignored=leaves,
        attachment=attachment,
        attachment_after_line=attach_after,
        attachment_text=attachment_text,
        rating=rating,
        rating_comment=comment,
        transcript=rng.random() < 0.3,
    )


def iter_plans(seed: int, *, per_minute: float = 3.0) -> Iterator[CustomerPlan]:
    """Endless plans for customers 0, 1, 2 … arriving as a Poisson process of ``per_minute``."""
    arrivals = random.Random(seed)
    used: set[str] = set()
    openings: set[str] = set()
    at = 0.0
    for i in itertools.count():
        if i:
            at += arrivals.expovariate(per_minute / 60.0) if per_minute > 0 else 0.0
        yield plan_customer(seed, i, at, used, openings)


def plan_customers(seed: int, count: int, *, per_minute: float = 3.0) -> list[CustomerPlan]:
    """The first ``count`` plans of :func:`iter_plans`."""
    return list(itertools.islice(iter_plans(seed, per_minute=per_minute), count))
