"""Benchmark: what the outbox costs (disk) and how fast it delivers (real server).

Prints one JSON object.

* ``enqueue_ms_p50`` / ``enqueue_ms_p95``: one ``Outbox.enqueue`` awaited at a
  time (append + fsync before it returns), the server never answering.
* ``enqueue_burst_ms``: ``--burst`` enqueues started at once (group commit:
  one fsync covers every record queued meanwhile), total wall time.
* ``deliver_per_s_1conv`` / ``deliver_per_s_4conv``: ``NativeBackend.send_message``
  through the outbox to the reference server (subprocess on a free loopback
  port, rate limit off), ``--messages`` replies in one conversation (strictly
  one at a time: order) and spread over four (conversations in parallel).

Run: ``.venv/bin/python bench/outbox.py`` (``--messages N --burst N``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from console.backends.native import NativeBackend
from console.core.outbox import Outbox, new_client_id
from console.protocol import models as m


async def never_answers(conversation_id: str, request: m.SendMessage) -> m.Message:
    await asyncio.Event().wait()
    raise AssertionError("unreachable")


async def bench_enqueue(root: Path, count: int, burst: int) -> dict[str, float]:
    box = Outbox(root / "sequential.jsonl", never_answers)
    await box.start()
    samples = []
    for i in range(count):
        started = time.perf_counter()
        await box.enqueue("c1", m.SendMessage(client_id=new_client_id(), body=f"m{i}"))
        samples.append((time.perf_counter() - started) * 1000)
    await box.aclose()
    box = Outbox(root / "burst.jsonl", never_answers)
    await box.start()
    started = time.perf_counter()
    await asyncio.gather(
        *(
            box.enqueue(f"c{i % 4}", m.SendMessage(client_id=new_client_id(), body=f"m{i}"))
            for i in range(burst)
        )
    )
    burst_ms = (time.perf_counter() - started) * 1000
    await box.aclose()
    samples.sort()
    return {
        "enqueue_ms_p50": round(statistics.median(samples), 3),
        "enqueue_ms_p95": round(samples[int(len(samples) * 0.95) - 1], 3),
        "enqueue_burst_ms": round(burst_ms, 1),
    }


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    argv = [
        sys.executable, "-m", "console.server", "--host", "127.0.0.1", "--port", str(port),
        "--db", str(root / "db.sqlite3"), "--data-dir", str(root / "data"), "--no-rate-limit",
    ]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("reference server did not start")


async def bench_delivery(root: Path, messages: int) -> dict[str, float]:
    from console.server.admin import create_token

    proc, url = start_server(root)
    try:
        agent = create_token(root / "db.sqlite3", "agent", "Bench Agent")
        conversations = []
        for i in range(4):
            customer = create_token(root / "db.sqlite3", "customer", f"Customer {i}")
            response = httpx.post(
                url + "/api/v1/customer/conversations",
                json={"name": f"Customer {i}", "message": "hi"},
                headers={"Authorization": f"Bearer {customer}"},
            )
            conversations.append(response.json()["id"])
        result: dict[str, float] = {}
        for label, convs in (("1conv", conversations[:1]), ("4conv", conversations)):
            backend = NativeBackend(url, agent, outbox_path=root / f"outbox-{label}.jsonl")
            await backend.connect()
            started = time.perf_counter()
            await asyncio.gather(
                *(
                    backend.send_message(
                        convs[i % len(convs)],
                        m.SendMessage(client_id=new_client_id(), body=f"reply {i}"),
                    )
                    for i in range(messages)
                )
            )
            result[f"deliver_per_s_{label}"] = round(messages / (time.perf_counter() - started), 1)
            await backend.aclose()
        return result
    finally:
        proc.kill()
        proc.wait()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=400)
    parser.add_argument("--burst", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        figures = await bench_enqueue(root, 200, args.burst)
        figures |= await bench_delivery(root, args.messages)
    print(
        json.dumps(
            {
                "bench": "outbox",
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "messages": args.messages,
                "burst": args.burst,
                **figures,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
