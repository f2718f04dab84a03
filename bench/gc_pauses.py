"""Benchmark: garbage-collection pauses of the real console while a chat is busy.

Prints one JSON object.  The reference server runs in a subprocess; for each
configuration the real start path (``console.cli.prepare_console``, NativeBackend)
runs headless at 160x45 in a fresh child (Textual still lays out and renders
every frame).  When the agent screen is up, ``gc.callbacks`` start recording
every collection (generation, pause in ms, objects collected); a customer then
posts ``--messages`` messages at ``--rate`` per second into a chat the agent
has open, through the public customer API.  The child stops when all arrived.

Configurations (same server, same messages):

* ``default``: CPython's defaults (thresholds 700/10/10, nothing frozen).
* ``tuned``: what ``agent-console`` does (``AgentConsoleApp(gc_tuning=True)``):
  after the first role screen is painted, ``gc.collect(); gc.freeze()`` and
  thresholds ``GC_THRESHOLDS``.

Figures per configuration: collections per generation, pause total/max/p99
(ms), ``cyclic_garbage_per_message`` (objects the collector freed, i.e. garbage
that reference counting could not free, divided by the messages), child CPU ms
per message over the window.  Noisy on the shared 2-core machine: compare the
two configurations of one run.  Run: ``.venv/bin/python bench/gc_pauses.py``
(``--messages 300 --rate 20``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
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

from tests.fixtures.reference_server import start_ref_server  # noqa: E402

CHILD = """
import asyncio, gc, json, sys, time
from console.cli import build_parser, prepare_console

args = build_parser().parse_args(["--server", {url!r}, "--token", {token!r}, "--lang", "en"])
app = prepare_console(args, interactive=False)
app.gc_tuning = {tuned!r}
want = {messages!r}
pauses = []
started = [0.0]

def record(phase, info):
    if phase == "start":
        started[0] = time.perf_counter()
    else:
        ms = (time.perf_counter() - started[0]) * 1000
        pauses.append((info["generation"], ms, info["collected"]))

def arrived():
    store = app.controller.store
    return sum(len(store.messages(e.conversation.id)) for e in app.controller.active())

async def drive():
    async with app.run_test(headless=True, size=(160, 45)) as pilot:
        while not app.workspace_ready:
            await pilot.pause(0.05)
        await pilot.pause(1.0)  # settle_heap runs after the first paint (tuned)
        print("ready", flush=True)
        while arrived() < 1:
            await pilot.pause(0.05)
        gc.callbacks.append(record)
        t0, c0 = time.perf_counter(), time.process_time()
        deadline = t0 + 300
        while arrived() < want + 1 and time.perf_counter() < deadline:
            await pilot.pause(0.05)
        gc.callbacks.remove(record)
        out = dict(
            seconds=time.perf_counter() - t0,
            cpu_ms=(time.process_time() - c0) * 1000,
            arrived=arrived() - 1,
            pauses=pauses,
            thresholds=gc.get_threshold(),
            frozen=gc.get_freeze_count(),
        )
        print(json.dumps(out), flush=True)

asyncio.run(drive())
"""


def run_config(server: Any, dept: str, tuned: bool, messages: int, rate: float) -> dict[str, Any]:
    _, token = server.create_agent(
        f"GC {'tuned' if tuned else 'default'}", departments=(dept,), capacity=3
    )
    r = httpx.put(
        server.api + "/me/status",
        json={"status": "online", "accepting": True},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    r.raise_for_status()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    code = CHILD.format(url=server.url, token=token, tuned=tuned, messages=messages)
    child = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env
    )
    assert child.stdout is not None
    try:
        assert child.stdout.readline().strip() == "ready"
        session = httpx.post(
            server.api + "/customer/session", json={"name": "Busy Customer"}, timeout=10.0
        ).json()
        customer = httpx.Client(
            base_url=server.api,
            headers={"Authorization": f"Bearer {session['token']}"},
            timeout=10.0,
        )
        conv = customer.post(
            "/customer/conversations",
            json={"name": "Busy Customer", "department": dept, "message": "hello"},
        ).json()
        time.sleep(1.0)
        start = time.perf_counter()
        for i in range(messages):
            due = start + i / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            customer.post(
                f"/customer/conversations/{conv['id']}/messages",
                json={
                    "client_id": f"gc-{tuned}-{i}",
                    "body": f"message {i}: my order still has not arrived, can you check?",
                },
            ).raise_for_status()
        data = json.loads(child.stdout.readline())
    finally:
        child.wait(timeout=60)
    pauses = data.pop("pauses")
    ms = [p[1] for p in pauses]
    per_gen = {g: sum(1 for p in pauses if p[0] == g) for g in (0, 1, 2)}
    arrived = max(1, data["arrived"])
    return {
        "messages_arrived": data["arrived"],
        "seconds": round(data["seconds"], 2),
        "thresholds": data["thresholds"],
        "frozen_objects": data["frozen"],
        "collections": per_gen,
        "pause_total_ms": round(sum(ms), 1),
        "pause_max_ms": round(max(ms), 2) if ms else 0.0,
        "pause_p99_ms": round(statistics.quantiles(ms, n=100)[98], 2) if len(ms) >= 2 else 0.0,
        "gen2_pause_max_ms": round(max((p[1] for p in pauses if p[0] == 2), default=0.0), 2),
        "cyclic_garbage_per_message": round(sum(p[2] for p in pauses) / arrived, 1),
        "cpu_ms_per_message": round(data["cpu_ms"] / arrived, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    results: dict[str, Any] = {
        "benchmark": "gc_pauses",
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        "loadavg_1min": round(os.getloadavg()[0], 2),
        "messages": args.messages,
        "rate_per_s": args.rate,
    }
    with tempfile.TemporaryDirectory(prefix="bench-gc-") as tmp:
        server = start_ref_server(Path(tmp))
        try:
            for tuned in (False, True):
                dept = f"GC dept {tuned}"
                server.create_department(dept)
                name = "tuned" if tuned else "default"
                results[name] = run_config(server, dept, tuned, args.messages, args.rate)
        finally:
            server.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
