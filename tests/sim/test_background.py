"""The simulator in its own thread (for ``serve --demo`` and ``agent-console demo``)."""

from __future__ import annotations

import time
from typing import Any

from console.sim.background import BackgroundSimulator


def test_background_simulator_chats_until_stopped(ref_server: Any) -> None:
    sim = BackgroundSimulator(ref_server.url, seed=4, rate=30, speed=10)
    sim.start()
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            started = [
                r
                for r in ref_server.request_log()
                if r["path"] == "/api/v1/customer/conversations" and r["status"] == 201
            ]
            if len(started) >= 3:  # the sim counts a start just after the server logs it
                break
            time.sleep(0.1)
    finally:
        stats = sim.stop(timeout=60)
    assert not sim.running
    assert sim.error is None
    assert stats is not None
    assert stats.conversations_started >= 2
    assert stats.errors == [], stats.errors


def test_background_simulator_gives_up_quietly_without_a_server() -> None:
    sim = BackgroundSimulator("http://127.0.0.1:9", wait_for_server=0.3)
    sim.start()
    sim._thread.join(10)
    assert not sim.running
    assert sim.error is None and sim.stats is None


def test_stop_right_after_start_ends_the_thread(ref_server: Any) -> None:
    sim = BackgroundSimulator(ref_server.url, seed=1)
    sim.start()
    sim.stop()
    assert not sim.running and sim.error is None
