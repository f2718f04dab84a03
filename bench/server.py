"""Reference server under load vs the floor: N customers posting × K stream readers.

For each configuration (customers × readers, saturating or at a fixed rate) the
script runs the reference server (``python -m console.server``, rate limit off,
fresh database) and ``bench/baseline_server.py`` (one SQLite WAL insert per POST
on the event loop plus the same per-reader fan-out) one after the other, in the
same run, with the same load client, and prints one JSON object:

* ``persisted_per_s``: 201 answers per second (each one a committed message);
* ``delivered_per_s_min`` / ``_mean``: per stream reader, bench messages received
  during the load window per second (``every stream at the persisted rate``
  means min ≈ persisted);
* ``delivered_share_min``: per reader, received / persisted after a grace period;
* ``latency_ms_p50`` / ``_p99``: POST sent → frame received by a reader, over
  every (message, reader) pair; the body carries ``time.monotonic_ns()``;
* ``ratio_to_floor``: reference persisted_per_s / baseline persisted_per_s.

Load client: raw asyncio HTTP/1.1 keep-alive connections, one per customer,
spread over ``--load-procs`` processes; readers are websockets clients spread over
``--reader-procs`` processes and find the timestamp with a string search (no
JSON decode), so neither side is the bottleneck before the server.  Everything
shares the machine with the servers: on 2 busy cores the figures are noisy.

    .venv/bin/python bench/server.py [--seconds 5] [--configs 10x1,50x5,50x20,50x21@1000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
MARK = b'"bench:'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        with contextlib.suppress(httpx.TransportError):
            httpx.get(url, timeout=1, trust_env=False)
            return
        time.sleep(0.05)
    raise RuntimeError("server did not start")


# --------------------------------------------------------------------------- servers


class Target:
    name = ""
    proc: subprocess.Popen[bytes]

    def start(self, tmp: Path) -> None: ...
    def setup(
        self, customers: int, readers: int
    ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        raise NotImplementedError

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


class Reference(Target):
    name = "reference"

    def start(self, tmp: Path) -> None:
        self.port = free_port()
        self.db = tmp / "ref.sqlite3"
        argv = [
            sys.executable,
            "-m",
            "console.server",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            "--data-dir",
            str(tmp / "ref-data"),
            "--no-rate-limit",
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.DEVNULL)
        wait_ready(f"http://127.0.0.1:{self.port}/api/v1/health", self.proc)

    def setup(
        self, customers: int, readers: int
    ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        from console.server.admin import create_token

        api = f"http://127.0.0.1:{self.port}/api/v1"
        posts = []
        with httpx.Client(base_url=api, timeout=30, trust_env=False) as http:
            for i in range(customers):
                r = http.post("/customer/session", json={"name": f"Bench customer {i}"})
                r.raise_for_status()
                token = r.json()["token"]
                auth = {"Authorization": f"Bearer {token}"}
                r = http.post("/customer/conversations", json={"name": f"Bench {i}"}, headers=auth)
                r.raise_for_status()
                posts.append((f"/api/v1/customer/conversations/{r.json()['id']}/messages", token))
        streams = [
            {
                "url": f"ws://127.0.0.1:{self.port}/api/v1/stream",
                "headers": {
                    "Authorization": f"Bearer {create_token(self.db, 'agent', f'Reader {j}')}"
                },
            }
            for j in range(readers)
        ]
        return posts, streams


class Baseline(Target):
    name = "baseline"

    def start(self, tmp: Path) -> None:
        self.port = free_port()
        argv = [
            sys.executable,
            str(ROOT / "bench" / "baseline_server.py"),
            str(self.port),
            str(tmp / "base.sqlite3"),
        ]
        self.proc = subprocess.Popen(argv, cwd=ROOT)
        wait_ready(f"http://127.0.0.1:{self.port}/nothing", self.proc)

    def setup(
        self, customers: int, readers: int
    ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        posts = [(f"/c/conv{i}/messages", "none") for i in range(customers)]
        streams = [
            {"url": f"ws://127.0.0.1:{self.port}/stream", "headers": {}} for _ in range(readers)
        ]
        return posts, streams


# --------------------------------------------------------------------------- load client


async def _post_loop(
    port: int, path: str, token: str, start: float, end: float, interval: float, tag: str
) -> tuple[int, int]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    ok = sent = 0
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
    ).encode()
    next_at = start
    while True:
        now = time.monotonic()
        if now >= end:
            break
        if interval and next_at > now:
            await asyncio.sleep(next_at - now)
            if time.monotonic() >= end:
                break
        next_at += interval
        body = json.dumps(
            {"client_id": f"{tag}-{sent}", "body": f"bench:{time.monotonic_ns()}"}
        ).encode()
        writer.write(head + b"Content-Length: %d\r\n\r\n" % len(body) + body)
        sent += 1
        header = await reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await reader.readexactly(length)
        if status in (200, 201):
            ok += 1
    writer.close()
    return sent, ok


def load_proc(
    port: int,
    posts: list[tuple[str, str]],
    start: float,
    end: float,
    rate_per_conn: float,
    out: Any,
    tag: str,
) -> None:
    async def run() -> list[tuple[int, int]]:
        interval = 1.0 / rate_per_conn if rate_per_conn else 0.0
        return await asyncio.gather(
            *(
                _post_loop(port, p, t, start + (i % 50) * interval / 50, end, interval, f"{tag}{i}")
                for i, (p, t) in enumerate(posts)
            )
        )

    results = asyncio.run(run())
    out.put(("load", sum(s for s, _ in results), sum(o for _, o in results)))


def reader_proc(
    streams: list[dict[str, Any]],
    hello: bool,
    ready: Any,
    start: float,
    end: float,
    grace_until: float,
    out: Any,
) -> None:
    from websockets.asyncio.client import connect

    async def one(spec: dict[str, Any]) -> tuple[int, int, list[float]]:
        in_window = total = 0
        lat: list[float] = []
        async with connect(
            spec["url"],
            additional_headers=spec["headers"],
            max_queue=None,
            compression=None,
            max_size=None,
        ) as ws:
            await ws.send(json.dumps({"type": "hello", "resume_after": None}))
            ready.put(1)
            while True:
                left = grace_until - time.monotonic()
                if left <= 0:
                    break
                try:
                    msg = await asyncio.wait_for(ws.recv(decode=False), left)
                except TimeoutError:
                    break
                now = time.monotonic_ns()
                i = msg.find(MARK)
                if i < 0:
                    continue
                j = msg.index(b'"', i + 7)
                sent_ns = int(msg[i + 7 : j])
                total += 1
                if now / 1e9 <= end:
                    in_window += 1
                lat.append((now - sent_ns) / 1e6)
        return in_window, total, lat

    async def run() -> None:
        results = await asyncio.gather(*(one(s) for s in streams))
        for in_window, total, lat in results:
            out.put(("reader", in_window, total, lat))

    asyncio.run(run())


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return round(values[min(len(values) - 1, int(p / 100 * len(values)))], 1)


def measure(
    target: Target,
    customers: int,
    readers: int,
    rate: float | None,
    seconds: float,
    load_procs: int,
    reader_procs: int,
) -> dict[str, Any]:
    posts, streams = target.setup(customers, readers)
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    ready = ctx.Queue()
    t0 = time.monotonic() + 3.0
    end = t0 + seconds
    grace = end + 5.0
    procs = []
    for k in range(reader_procs):
        part = streams[k::reader_procs]
        if part:
            procs.append(
                ctx.Process(target=reader_proc, args=(part, True, ready, t0, end, grace, out))
            )
    for p in procs:
        p.start()
    for _ in range(readers):
        ready.get(timeout=30)
    per_conn = (rate / customers) if rate else 0.0
    loaders = []
    for k in range(load_procs):
        part = posts[k::load_procs]
        if part:
            loaders.append(
                ctx.Process(
                    target=load_proc, args=(target.port, part, t0, end, per_conn, out, f"p{k}c")
                )
            )
    for p in loaders:
        p.start()
    sent = ok = 0
    per_reader: list[tuple[int, int]] = []
    latencies: list[float] = []
    for _ in range(len(loaders) + readers):
        item = out.get(timeout=seconds + 60)
        if item[0] == "load":
            sent += item[1]
            ok += item[2]
        else:
            per_reader.append((item[1], item[2]))
            latencies += item[3]
    for p in procs + loaders:
        p.join(10)
    persisted = ok / seconds
    return {
        "persisted_per_s": round(persisted, 1),
        "errors": sent - ok,
        "delivered_per_s_min": round(min(w for w, _ in per_reader) / seconds, 1)
        if per_reader
        else None,
        "delivered_per_s_mean": round(statistics.mean(w for w, _ in per_reader) / seconds, 1)
        if per_reader
        else None,
        "delivered_share_min": round(min(t for _, t in per_reader) / ok, 3)
        if per_reader and ok
        else None,
        "latency_ms_p50": pct(latencies, 50),
        "latency_ms_p99": pct(latencies, 99),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--configs", default="10x1,50x5,50x20,50x21@1000")
    ap.add_argument("--load-procs", type=int, default=2)
    ap.add_argument("--reader-procs", type=int, default=2)
    args = ap.parse_args()
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
        "seconds": args.seconds,
        "configs": [],
    }
    for spec in args.configs.split(","):
        shape, _, rate_s = spec.partition("@")
        n, k = (int(x) for x in shape.split("x"))
        rate = float(rate_s) if rate_s else None
        entry: dict[str, Any] = {"customers": n, "readers": k, "rate": rate or "saturating"}
        for target in (Reference(), Baseline()):
            with tempfile.TemporaryDirectory() as tmp:
                target.start(Path(tmp))
                try:
                    entry[target.name] = measure(
                        target, n, k, rate, args.seconds, args.load_procs, args.reader_procs
                    )
                finally:
                    target.stop()
        ref, base = entry["reference"]["persisted_per_s"], entry["baseline"]["persisted_per_s"]
        entry["ratio_to_floor"] = round(ref / base, 3) if base else None
        report["configs"].append(entry)
        print(json.dumps(entry), file=sys.stderr, flush=True)
    report["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
