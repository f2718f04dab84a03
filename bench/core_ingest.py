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
* ``wire``: wire → Store against a floor, same frames, same run.  A websockets
  server in a subprocess sends the ``message.created`` event frames (as the
  reference server writes them) as fast as it can; this process receives them
  (``websockets`` asyncio client) and either only ``json.loads`` each frame
  (``floor_events_per_s``) or runs the console's stream path: the native
  backend's frame decode + ``msgspec.convert`` to ``Event`` + ``Store.apply``
  (``ingest_events_per_s``).  ``ratio_to_floor`` = ingest / floor (goal ≥ 0.5),
  medians of ``--wire-rounds`` alternating rounds; ``ratio_to_floor_cpu`` the
  same per CPU second of this process (the wall floor is bounded by the sender).

Wall time and CPU time of this process (``*_cpu``) are both reported; the CPU
figure is steadier on a shared machine.  Run: ``.venv/bin/python bench/core_ingest.py``
(``--messages N``).
"""

from __future__ import annotations

import argparse
import json
import os
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


WIRE_SERVER = """
import asyncio, sys
from websockets.asyncio.server import serve

frames = open(sys.argv[1], encoding="utf-8").read().splitlines()

async def handler(ws):
    for frame in frames:
        await ws.send(frame)
    await ws.close()

async def main():
    async with serve(handler, "127.0.0.1", 0, compression=None, max_queue=None) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()

asyncio.run(main())
"""


async def _receive(port: int, handle: Callable[[str | bytes], Any]) -> tuple[int, float, float]:
    from websockets.asyncio.client import connect

    count = 0
    async with connect(
        f"ws://127.0.0.1:{port}", compression=None, max_size=None, max_queue=None
    ) as ws:
        wall, cpu = time.perf_counter(), time.process_time()
        async for raw in ws:
            handle(raw)
            count += 1
        return count, time.perf_counter() - wall, time.process_time() - cpu


def wire(events: list[m.Event], rounds: int) -> dict[str, Any]:
    """Events/s received over a real websocket: json.loads floor vs the console path."""
    import asyncio
    import statistics
    import subprocess
    import sys
    import tempfile

    import msgspec

    from console.backends.native import _decode_frame

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        for event in events:
            fh.write(msgspec.json.encode(event).decode() + "\n")
        path = fh.name
    server = subprocess.Popen(
        [sys.executable, "-c", WIRE_SERVER, path], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        floor: list[float] = []
        ingest: list[float] = []
        floor_cpu: list[float] = []
        ingest_cpu: list[float] = []
        now = datetime(2026, 1, 2, tzinfo=UTC)
        for _ in range(rounds):
            n, wall, cpu = asyncio.run(_receive(port, json.loads))
            floor.append(n / wall)
            floor_cpu.append(n / cpu)
            store = Store(me=m.Me(id="ag", name="Tanaka", role="agent"))

            def apply(raw: str | bytes, store: Store = store) -> None:
                store.apply(msgspec.convert(_decode_frame(raw), m.Event), now)

            n, wall, cpu = asyncio.run(_receive(port, apply))
            ingest.append(n / wall)
            ingest_cpu.append(n / cpu)
    finally:
        server.terminate()
        server.wait()
        os.unlink(path)
    f, i = statistics.median(floor), statistics.median(ingest)
    return {
        "events": len(events),
        "rounds": rounds,
        "floor_events_per_s": round(f),
        "ingest_events_per_s": round(i),
        "ratio_to_floor": round(i / f, 3),
        "floor_events_per_cpu_s": round(statistics.median(floor_cpu)),
        "ingest_events_per_cpu_s": round(statistics.median(ingest_cpu)),
        # The floor's wall rate is bounded by the sending process; CPU per event is
        # what the console spends, and the steadier figure on a busy machine.
        "ratio_to_floor_cpu": round(
            statistics.median(ingest_cpu) / statistics.median(floor_cpu), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--wire-rounds", type=int, default=3)
    args = parser.parse_args()
    n = args.messages
    clean = make_messages(n)
    hostile = make_messages(n, hostile=True)
    customer_bodies = [x.body for x in clean if x.author_kind == "customer"]
    results: dict[str, Any] = {
        "benchmark": "core_ingest",
        "messages": n,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        "loadavg_1min": round(os.getloadavg()[0], 2),
    }
    detect("warm-up: compile the lexicons outside the timed loop")

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
    results["wire"] = wire(events, args.wire_rounds)

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
