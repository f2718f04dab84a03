"""Benchmark: customer message → bytes on the agent's terminal, the real console vs a minimal app.

Prints one JSON object.  The reference server runs in a subprocess.  Each app
runs in a real terminal: a detached ``tmux`` session (160x45) whose output is
copied raw to a file with ``pipe-pane``.  A customer (the public customer API)
posts a message carrying a unique marker into a chat the agent has open; the
sample is the time from just before the POST to the marker's bytes appearing in
that file (polled every 0.5 ms; the POST round trip is included for both apps).

* ``console``: ``agent-console --server URL --token T`` (the real start path).
* ``minimal``: a minimal Textual app holding the same agent's event stream (a
  websocket, the same ``hello``) and writing each message body to a ``Log``.

Each app is measured idle and loaded: 20 more chats where customers post 5
messages/s each (100 messages/s, a separate process) while the samples run.
``--samples`` per case (default 200), one every ``--gap`` seconds.  p50/p95/p99
per case and ``console/minimal`` ratios.  Noisy on the shared 2-core machine.

Run: ``.venv/bin/python bench/latency.py`` (``--samples 50`` for a quick run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.reference_server import RefServer, start_ref_server  # noqa: E402

SIZE = (160, 45)

MINIMAL_APP = """
import asyncio, json, sys
from textual.app import App, ComposeResult
from textual.widgets import Log
from websockets.asyncio.client import connect

URL, TOKEN = sys.argv[1], sys.argv[2]

class Minimal(App):
    def compose(self) -> ComposeResult:
        yield Log()

    def on_mount(self) -> None:
        self.run_worker(self.stream())

    async def stream(self) -> None:
        log = self.query_one(Log)
        async with connect(URL, additional_headers={"Authorization": "Bearer " + TOKEN}) as ws:
            await ws.send(json.dumps({"type": "hello", "resume_after": None}))
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "message.created":
                    log.write_line(str(frame.get("data", {}).get("body", "")))

Minimal().run()
"""

LOAD = """
import sys, time, httpx
api, dept, chats, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
clients = []
for i in range(chats):
    s = httpx.post(api + "/customer/session", json={"name": f"Load {i}"}, timeout=10).json()
    c = httpx.Client(base_url=api, headers={"Authorization": "Bearer " + s["token"]}, timeout=10)
    conv = c.post("/customer/conversations",
                  json={"name": f"Load {i}", "department": dept, "message": "hi"}).json()
    clients.append((c, conv["id"]))
print("ready", flush=True)
start, n = time.perf_counter(), 0
while True:
    for c, cid in clients:
        due = start + n / (chats * rate)
        time.sleep(max(0.0, due - time.perf_counter()))
        c.post(f"/customer/conversations/{cid}/messages",
               json={"client_id": f"l{n}", "body": f"background message {n}"})
        n += 1
"""


class Terminal:
    """A detached tmux session running ``argv``; its output goes raw to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], out: Path) -> None:
        self.name = name
        self.out = out
        out.write_bytes(b"")
        command = " ".join(shlex.quote(a) for a in argv)
        env_prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                name,
                "-x",
                str(SIZE[0]),
                "-y",
                str(SIZE[1]),
                f"env {env_prefix} {command}",
            ],
            check=True,
        )
        subprocess.run(
            ["tmux", "pipe-pane", "-o", "-t", name, f"cat >> {shlex.quote(str(out))}"], check=True
        )
        self.fh = out.open("rb")

    def read_new(self) -> bytes:
        return self.fh.read()

    def wait_for(self, marker: bytes, timeout: float, tail: bytes = b"") -> bytes | None:
        """Poll until ``marker`` shows up; returns the bytes seen (for the next search)."""
        deadline = time.perf_counter() + timeout
        seen = tail
        while time.perf_counter() < deadline:
            chunk = self.read_new()
            if chunk:
                seen = seen[-256:] + chunk
                if marker in seen:
                    return seen
            else:
                time.sleep(0.0005)
        return None

    def close(self) -> None:
        self.fh.close()
        subprocess.run(["tmux", "kill-session", "-t", self.name], check=False)


def percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"samples": len(values)}
    q = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "samples": len(values),
        "p50_ms": round(statistics.median(values), 1),
        "p95_ms": round(q[94], 1),
        "p99_ms": round(q[98], 1),
        "max_ms": round(max(values), 1),
    }


def measure(
    server: RefServer, which: str, samples: int, gap: float, loaded: bool, tmp: Path
) -> dict[str, Any]:
    dept = f"Latency {which} {'loaded' if loaded else 'idle'}"
    server.create_department(dept)
    _, token = server.create_agent(f"Lat {which} {loaded}", departments=(dept,), capacity=30)
    httpx.put(
        server.api + "/me/status",
        json={"status": "online", "accepting": True},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    ).raise_for_status()
    env = {
        "PYTHONPATH": str(ROOT),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        "TERM": "xterm-256color",
        "XDG_CONFIG_HOME": str(tmp / "cfg"),
        "XDG_DATA_HOME": str(tmp / "data"),
        "XDG_STATE_HOME": str(tmp / "state"),
        "XDG_CACHE_HOME": str(tmp / "cache"),
    }
    if which == "console":
        argv = [sys.executable, "-m", "console", "--server", server.url, "--token", token]
        argv += ["--lang", "en"]
    else:
        argv = [sys.executable, "-c", MINIMAL_APP, server.ws_url, token]
    # The marker chat first: the console opens it as the first (active) pane.
    s = httpx.post(server.api + "/customer/session", json={"name": "Marker"}, timeout=10).json()
    customer = httpx.Client(
        base_url=server.api, headers={"Authorization": f"Bearer {s['token']}"}, timeout=10
    )
    term = Terminal(f"lat-{which}-{int(loaded)}-{os.getpid()}", argv, env, tmp / f"{which}.out")
    load: subprocess.Popen[str] | None = None
    latencies: list[float] = []
    missed = 0
    try:
        time.sleep(3.0)  # first frame, connect
        conv = customer.post(
            "/customer/conversations",
            json={"name": "Marker", "department": dept, "message": "marker chat"},
        ).json()
        if term.wait_for(b"marker chat", 30) is None:
            raise RuntimeError(f"{which}: the marker chat never reached the terminal")
        if loaded:
            load = subprocess.Popen(
                [sys.executable, "-c", LOAD, server.api, dept, "20", "5"],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert load.stdout is not None
            load.stdout.readline()
            time.sleep(3.0)
        tail = b""
        for i in range(samples):
            marker = f"LAT{i:04d}Q{os.getpid()}".encode()
            term.read_new()
            start = time.perf_counter()
            customer.post(
                f"/customer/conversations/{conv['id']}/messages",
                json={"client_id": f"lat-{which}-{loaded}-{i}", "body": marker.decode()},
            ).raise_for_status()
            seen = term.wait_for(marker, 5.0, tail)
            if seen is None:
                missed += 1
            else:
                latencies.append((time.perf_counter() - start) * 1000)
                tail = seen[-64:]
            time.sleep(gap)
    finally:
        if load is not None:
            load.kill()
            load.wait()
        term.close()
    return {**percentiles(latencies), "missed": missed}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.1)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "latency",
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        "loadavg_1min": round(os.getloadavg()[0], 2),
        "terminal": f"tmux {SIZE[0]}x{SIZE[1]}, raw bytes via pipe-pane",
    }
    with tempfile.TemporaryDirectory(prefix="bench-latency-") as tmp_name:
        tmp = Path(tmp_name)
        server = start_ref_server(tmp / "server")
        try:
            for loaded in (False, True):
                for which in ("console", "minimal"):
                    key = f"{which}_{'loaded' if loaded else 'idle'}"
                    results[key] = measure(server, which, args.samples, args.gap, loaded, tmp)
        finally:
            server.stop()
    ratios = {}
    for case in ("idle", "loaded"):
        for p in ("p50_ms", "p95_ms", "p99_ms"):
            mine, base = results[f"console_{case}"].get(p), results[f"minimal_{case}"].get(p)
            if mine and base:
                ratios[f"{case}.{p}"] = round(mine / base, 2)
    results["console_over_minimal"] = ratios
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
