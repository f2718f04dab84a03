"""Supervisor screen under load: 1,000 open conversations × 200 events/s, headless.

Prints one JSON object:

* ``cpu_share_of_one_core``: process CPU time / wall time while events flow
  (1.0 = one core saturated).  Includes Textual's rendering (headless
  ``App.run_test``), the event ingest and the refresh timer.
* ``refresh_latency_ms``: per conversation touched by an event, the time from
  the event being applied (``SupervisorScreen.ingest_event`` → dashboard
  marks the row dirty) to the timer tick that wrote the new cells into the
  ``DataTable`` (``update_cell``); percentiles over every dirty row.  The
  paint itself follows on the next frame.
* counters: events applied, refresh ticks, cell updates, rows added, re-sorts.

Feed: protocol ``Event`` objects are generated up front (seeded) and fed
directly into ``SupervisorScreen.ingest_event`` on the app's event loop, in
batches every 10 ms; no server, no network.  The screen applies each event to
its ``Dashboard`` and to its own client ``Store`` (trigger severities), exactly
as it does with a live stream.

    .venv/bin/python bench/supervisor.py [--seconds 10] [--rate 200] [--conversations 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from msgspec.structs import replace
from textual.app import App

from console.backends.base import (
    Backend,
    ConnectionPhase,
    ConnectionState,
    ReadOnlyBackend,
)
from console.protocol import models as m
from console.ui.screens.supervisor import SupervisorScreen

START = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PHRASES = [
    "Hello, my order has not arrived yet.",
    "Can you check my invoice please?",
    "This is the third time I am asking!!",
    "주문이 아직 도착하지 않았어요.",
    "請求書を確認してもらえますか？",
    "Thanks, that helps.",
    "I want a refund, this is unacceptable.",
]


class SilentBackend(Backend):
    """No network: the benchmark feeds events itself."""

    name = "bench"

    async def connect(self) -> m.Me:
        return await self.me()

    async def aclose(self) -> None:
        return None

    async def _never(self) -> AsyncIterator[m.Event]:
        await asyncio.Event().wait()
        yield m.Event(seq=0, type="never", at=START, data={})

    def events(self) -> AsyncIterator[m.Event]:
        return self._never()

    @property
    def connection(self) -> ConnectionState:
        return ConnectionState(ConnectionPhase.CONNECTED)

    async def me(self) -> m.Me:
        return m.Me(id="sup", name="Bench", role="supervisor")

    async def list_conversations(self, **_: Any) -> m.ConversationPage:
        return m.ConversationPage(items=[])

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        raise KeyError(conversation_id)

    async def list_messages(self, conversation_id: str, **_: Any) -> m.MessagePage:
        return m.MessagePage(items=[])

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        raise AssertionError("never")


class World:
    """A seeded model of 1,000 open conversations that produces realistic events."""

    def __init__(self, rng: random.Random, conversations: int) -> None:
        self.rng = rng
        self.now = START
        self.seq = 0
        self.departments = [m.Department(id=f"d{i}", name=f"Dept {i}") for i in range(5)]
        self.agents = [
            m.Agent(
                id=f"a{i}",
                name=f"Agent {i}",
                status="online",
                capacity=20,
                accepting=True,
                department_ids=[f"d{i % 5}"],
            )
            for i in range(40)
        ]
        self.open: dict[str, m.Conversation] = {}
        self.next_id = 0
        for _ in range(conversations):
            conv = self._new_conversation(queued=self.rng.random() < 0.4)
            self.open[conv.id] = conv

    def _new_conversation(self, *, queued: bool) -> m.Conversation:
        self.next_id += 1
        cid = f"c{self.next_id}"
        dep = self.rng.choice(self.departments)
        created = self.now - timedelta(seconds=self.rng.uniform(0, 1800))
        agent = None if queued else self.rng.choice(self.agents)
        return m.Conversation(
            id=cid,
            customer_id=f"cu{self.next_id}",
            customer_name=f"Customer {self.next_id}",
            department_id=dep.id,
            department_name=dep.name,
            state="queued" if queued else "active",
            assignee_id=agent.id if agent else None,
            assignee_name=agent.name if agent else None,
            created_at=created,
            queued_at=created,
            waiting_since=created if queued else None,
        )

    def _event(self, kind: str, data: Any) -> m.Event:
        self.seq += 1
        return m.Event(seq=self.seq, type=kind, at=self.now, data=m.to_builtins(data))

    def step(self) -> m.Event:
        """One event: 70% messages, 20% conversation updates, 6% new/closed, 4% agents."""
        self.now += timedelta(milliseconds=5)
        roll = self.rng.random()
        conv = self.open[self.rng.choice(list(self.open))] if roll < 0.9 else None
        if conv is not None and roll < 0.7:
            from_customer = conv.state == "queued" or self.rng.random() < 0.55
            msg = m.Message(
                id=f"m{self.seq}",
                conversation_id=conv.id,
                author_kind="customer" if from_customer else "agent",
                author_id=conv.customer_id if from_customer else conv.assignee_id,
                author_name=conv.customer_name if from_customer else (conv.assignee_name or ""),
                body=self.rng.choice(PHRASES),
                created_at=self.now,
            )
            return self._event("message.created", msg)
        if conv is not None:
            if conv.state == "queued":
                agent = self.rng.choice(self.agents)
                updated = replace(
                    conv,
                    state="active",
                    assignee_id=agent.id,
                    assignee_name=agent.name,
                    assigned_at=self.now,
                )
            else:
                updated = replace(
                    conv,
                    waiting_since=None if conv.waiting_since else self.now,
                    last_message_at=self.now,
                )
            self.open[conv.id] = updated
            return self._event("conversation.updated", updated)
        if roll < 0.93:
            new = self._new_conversation(queued=True)
            self.open[new.id] = new
            return self._event("conversation.created", new)
        if roll < 0.96:
            victim = self.open.pop(self.rng.choice(list(self.open)))
            return self._event("conversation.updated", replace(victim, state="closed"))
        agent = self.rng.choice(self.agents)
        status = self.rng.choice(["online", "online", "away"])
        return self._event(
            "agent.updated",
            m.Agent(
                id=agent.id,
                name=agent.name,
                status=status,  # type: ignore[arg-type]
                capacity=agent.capacity,
                accepting=True,
            ),
        )


class BenchApp(App[None]):
    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.screen_ref: SupervisorScreen | None = None

    async def on_mount(self) -> None:
        screen = SupervisorScreen(
            ReadOnlyBackend(SilentBackend()),
            None,
            clock=lambda: self.world.now,
            load_on_mount=False,
        )
        self.screen_ref = screen
        await self.push_screen(screen)
        screen.load_models(
            departments=self.world.departments,
            conversations=list(self.world.open.values()),
        )
        for agent in self.world.agents:
            screen.dashboard.apply_agent(agent)


async def run(
    seconds: float, rate: int, conversations: int, view: str, seed: int
) -> dict[str, Any]:
    rng = random.Random(seed)
    world = World(rng, conversations)
    total = int(seconds * rate)
    events = [world.step() for _ in range(total)]
    world.now = START + timedelta(seconds=1)  # the clock the screen reads
    app = BenchApp(world)
    async with app.run_test(size=(200, 50), notifications=False) as pilot:
        screen = app.screen_ref
        assert screen is not None
        await pilot.pause(0.5)
        screen.refresh_now(force=True)
        await pilot.pause(0.2)
        screen.view = view
        await pilot.pause(0.2)
        table = screen.conversations_table
        base_updates, base_added, base_sorts = table.cell_updates, table.rows_added, table.sorts
        base_ticks = screen.ticks
        screen.latency_samples = []
        batch = max(1, rate // 100)  # every 10 ms
        wall0, cpu0 = time.perf_counter(), time.process_time()
        sent = 0
        while sent < total:
            due = wall0 + sent / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            for event in events[sent : sent + batch]:
                screen.ingest_event(event)
            sent += batch
        await asyncio.sleep(0.3)  # let the last tick land
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        samples = sorted(screen.latency_samples)
        screen.latency_samples = None
        open_rows = table.row_count

    def pct(p: float) -> float:
        if not samples:
            return float("nan")
        return round(samples[min(len(samples) - 1, int(p * len(samples)))] * 1000, 1)

    return {
        "benchmark": "supervisor",
        "feed": "direct: seeded protocol Events into SupervisorScreen.ingest_event (Dashboard + own Store); no server",
        "view": view,
        "terminal": "200x50 headless (App.run_test)",
        "conversations_open_at_start": conversations,
        "conversation_rows_at_end": open_rows,
        "events": total,
        "events_per_second_target": rate,
        "events_per_second_achieved": round(total / wall, 1),
        "wall_seconds": round(wall, 2),
        "cpu_seconds": round(cpu, 2),
        "cpu_share_of_one_core": round(cpu / wall, 3),
        "refresh_hz": screen.refresh_hz,
        "refresh_latency_ms": {
            "samples": len(samples),
            "p50": pct(0.50),
            "p95": pct(0.95),
            "p99": pct(0.99),
            "max": round(samples[-1] * 1000, 1) if samples else None,
            "mean": round(statistics.fmean(samples) * 1000, 1) if samples else None,
        },
        "refresh_ticks": screen.ticks - base_ticks,
        "table_cell_updates": table.cell_updates - base_updates,
        "table_rows_added": table.rows_added - base_added,
        "table_resorts": table.sorts - base_sorts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=200)
    parser.add_argument("--conversations", type=int, default=1000)
    parser.add_argument(
        "--view", choices=("dashboard", "conversations", "watch"), default="conversations"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    result = asyncio.run(run(args.seconds, args.rate, args.conversations, args.view, args.seed))
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
