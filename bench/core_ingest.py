"""Benchmark: what the client core costs per incoming message.

Prints one JSON object.  Workload: seeded mix of English, Korean and Japanese
customer and agent messages (3-40 words, some with control characters,
triggers and emoji), spread over 20 conversations.

* ``sanitize_us_per_msg``: ``sanitize_inbound_text`` on message bodies
  (``clean`` = typical text that takes the fast path; ``hostile`` = bodies
  with ESC/bidi/zero-width characters that take the slow path).
* ``triggers_us_per_msg``: ``detect`` on customer bodies.
* ``store_live_us_per_msg``: ``Store.apply`` of ``message.created`` events
  (decode + sanitize every field + triggers + reducers + ordered insert).
* ``store_history_ms_per_page``: ``Store.load_messages`` of 50-message pages,
  oldest page last (each page is inserted before everything loaded).

Wall time and CPU time of this process (``*_cpu``) are both reported; the CPU
figure is steadier on a shared machine.  Run: ``.venv/bin/python bench/core_ingest.py``
(``--messages N``).
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from console.core.sanitize import sanitize_inbound_text
from console.core.store import Store
from console.core.triggers import detect
from console.protocol import models as m

_WORDS = {
    "en": "hello there I need help with my order it has not arrived yet could you please check the status thanks".split(),
    "ko": "안녕하세요 주문 배송 확인 부탁드립니다 감사합니다 아직 도착하지 않았어요 환불".split(),
    "ja": "こんにちは 注文が まだ 届いていません 確認して いただけますか ありがとう 返金".split(),
}
_SPICE = [
    "???",
    "this is unacceptable",
    "짜증나요",
    "ふざけるな",
    "👩‍💻",
    "👍🏽",
    "cancel my account",
]
_HOSTILE = ["\x1b[31m", "\u202e", "\u200b", "\x1b]52;c;ZXZpbA==\x07", "\x07"]


def make_messages(count: int, seed: int = 7, hostile: bool = False) -> list[m.Message]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for i in range(count):
        lang = rng.choice(["en", "en", "ko", "ja"])
        words = [rng.choice(_WORDS[lang]) for _ in range(rng.randint(3, 40))]
        if rng.random() < 0.2:
            words.insert(rng.randrange(len(words)), rng.choice(_SPICE))
        if hostile:
            words.insert(rng.randrange(len(words)), rng.choice(_HOSTILE))
        kind: m.AuthorKind = "customer" if rng.random() < 0.6 else "agent"
        out.append(
            m.Message(
                id=f"m{i:07d}",
                conversation_id=f"c{i % 20}",
                author_kind=kind,
                author_id="cu" if kind == "customer" else "ag",
                author_name="Kim Minji" if kind == "customer" else "Tanaka",
                body=" ".join(words),
                created_at=start + timedelta(seconds=i),
            )
        )
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    args = parser.parse_args()
    n = args.messages
    clean = make_messages(n)
    hostile = make_messages(n, hostile=True)
    customer_bodies = [x.body for x in clean if x.author_kind == "customer"]
    results: dict[str, Any] = {
        "benchmark": "core_ingest",
        "messages": n,
        "python": platform.python_version(),
    }

    for name, msgs in (("clean", clean), ("hostile", hostile)):
        wall, cpu = timed(lambda msgs=msgs: [sanitize_inbound_text(x.body) for x in msgs])
        results[f"sanitize_{name}_us_per_msg"] = round(wall / n * 1e6, 2)
        results[f"sanitize_{name}_us_per_msg_cpu"] = round(cpu / n * 1e6, 2)

    wall, cpu = timed(lambda: [detect(b) for b in customer_bodies])
    results["triggers_us_per_msg"] = round(wall / len(customer_bodies) * 1e6, 2)
    results["triggers_us_per_msg_cpu"] = round(cpu / len(customer_bodies) * 1e6, 2)

    events = [
        m.Event(seq=i + 1, type="message.created", at=x.created_at, data=m.to_builtins(x))
        for i, x in enumerate(clean)
    ]
    store = Store(me=m.Me(id="ag", name="Tanaka", role="agent"))
    now = datetime(2026, 1, 2, tzinfo=UTC)
    wall, cpu = timed(lambda: [store.apply(e, now) for e in events])
    results["store_live_us_per_msg"] = round(wall / n * 1e6, 2)
    results["store_live_us_per_msg_cpu"] = round(cpu / n * 1e6, 2)

    one_conv = [x for x in clean if x.conversation_id == "c0"]
    pages = [one_conv[i : i + 50] for i in range(0, len(one_conv), 50)]
    history = Store()
    wall, cpu = timed(
        lambda: [
            history.load_messages("c0", m.MessagePage(items=page, has_more=True))
            for page in reversed(pages)
        ]
    )
    results["store_history_pages"] = len(pages)
    results["store_history_ms_per_page"] = round(wall / max(1, len(pages)) * 1e3, 3)
    results["store_history_ms_per_page_cpu"] = round(cpu / max(1, len(pages)) * 1e3, 3)
    assert len(history.transcript("c0")) == len(one_conv)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
