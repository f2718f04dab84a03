"""The simulator against the real reference server (subprocess on loopback).

A small "agent" written here answers over REST, so these tests check the whole
loop: simulated customers start chats, agent replies reach them over the
stream, they answer with the next line of their script, rate and leave.
Speeds are high (8–300×) so each test takes seconds; nothing asserts on time.
With a replying agent the speed stays ≤ 10 so even the least patient customer
waits ≥ 2.7 s, far more than the agent's polling needs on a loaded machine.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from console.sim import CustomerPlan, SimStats, plan_customers, run_load, run_simulator
from console.sim.scripts import LEAVING, SCENARIOS, looks_frustrated

RATE = 120.0  # customers per minute at speed 1
THANKS = {s.thanks for s in SCENARIOS}


def find_seed(count: int, wanted: Callable[[list[CustomerPlan]], bool]) -> int:
    """First seed whose first ``count`` plans satisfy ``wanted`` (deterministic)."""
    for seed in range(2000):
        if wanted(plan_customers(seed, count, per_minute=RATE)):
            return seed
    raise AssertionError("no seed found; the plan generator changed")


class ReplyingAgent:
    """An online agent that accepts everything, answers each customer message once
    (idempotent ``client_id`` per customer message) and closes after the thanks."""

    def __init__(self, api: str, token: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=api, headers={"Authorization": f"Bearer {token}"}, trust_env=False, timeout=10
        )
        self.replies = 0
        self.closed: set[str] = set()
        self.seen: dict[str, str | None] = {}  # conversation id → last_message_at already handled

    async def run(self, stop: asyncio.Event) -> None:
        async with self.client as c:
            r = await c.put("/me/status", json={"status": "online", "capacity": 20})
            r.raise_for_status()
            while not stop.is_set():
                queued = (
                    await c.get("/conversations", params={"state": "queued", "limit": 200})
                ).json()
                for conv in queued["items"]:
                    await c.post(f"/conversations/{conv['id']}/accept")
                active = (
                    await c.get(
                        "/conversations", params={"state": "active", "assignee": "me", "limit": 200}
                    )
                ).json()
                for conv in active["items"]:
                    if self.seen.get(conv["id"]) != conv["last_message_at"]:
                        self.seen[conv["id"]] = conv["last_message_at"]
                        await self.answer(c, conv["id"])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.05)

    async def answer(self, c: httpx.AsyncClient, conv_id: str) -> None:
        page = (await c.get(f"/conversations/{conv_id}/messages", params={"limit": 200})).json()
        said = [m for m in page["items"] if m["author_kind"] in ("customer", "agent")]
        if not said or said[-1]["author_kind"] != "customer":
            return
        last = said[-1]
        if last["body"] in THANKS:
            r = await c.post(f"/conversations/{conv_id}/close", json={"request_csat": True})
            if r.status_code == 200:
                self.closed.add(conv_id)
            return
        r = await c.post(
            f"/conversations/{conv_id}/messages",
            json={"client_id": f"agent-{last['id']}", "body": "Thanks, let me check that for you."},
        )
        if r.status_code == 201:
            self.replies += 1


async def run_with_agent(
    server: Any, *, seed: int, customers: int, speed: float
) -> tuple[SimStats, ReplyingAgent]:
    agent = ReplyingAgent(server.api, server.token("agent", "Sim Tester"))
    stop = asyncio.Event()
    agent_task = asyncio.create_task(agent.run(stop))
    try:
        stats = await asyncio.wait_for(
            run_simulator(server.url, seed=seed, customers=customers, rate=RATE, speed=speed), 90
        )
    finally:
        stop.set()
        await agent_task
    return stats, agent


def customer_bodies(server: Any, token: str, conv_id: str) -> list[dict[str, Any]]:
    r = httpx.get(
        f"{server.api}/conversations/{conv_id}/messages",
        params={"limit": 200},
        headers={"Authorization": f"Bearer {token}"},
        trust_env=False,
    )
    r.raise_for_status()
    return [m for m in r.json()["items"] if m["author_kind"] == "customer"]


def conversation_for(stats: SimStats, index: int) -> str:
    return next(
        s.conversation_id for s in stats.sent if s.customer == index and s.kind == "opening"
    )


async def test_customers_chat_with_a_replying_agent_until_closed_and_rated(ref_server: Any) -> None:
    count = 4
    seed = find_seed(
        count,
        lambda ps: (
            any(p.frustrated for p in ps)
            and any(p.rating is not None for p in ps)
            and len({p.lang for p in ps}) >= 2
        ),
    )
    plans = plan_customers(seed, count, per_minute=RATE)
    stats, agent = await run_with_agent(ref_server, seed=seed, customers=count, speed=8)

    assert stats.errors == [], stats.errors
    assert stats.conversations_started == count
    assert stats.customers_finished == count
    assert agent.replies > 0 and stats.agent_replies >= agent.replies
    assert stats.conversations_closed == count == len(agent.closed)
    assert stats.rated == sum(p.rating is not None for p in plans)

    reader = ref_server.token("supervisor", "Sim Reader")
    for plan in plans:
        conv_id = conversation_for(stats, plan.index)
        said = [m["body"] for m in customer_bodies(ref_server, reader, conv_id)]
        script = [plan.opening, *plan.lines, plan.thanks]
        # Every line of the script arrived, in order (nudges/attachment notes may sit between).
        assert [b for b in said if b in script] == script
        if plan.frustrated:
            assert any(looks_frustrated(b) for b in said), said
        r = httpx.get(
            f"{ref_server.api}/conversations/{conv_id}",
            headers={"Authorization": f"Bearer {reader}"},
            trust_env=False,
        )
        conv = r.json()
        assert conv["state"] == "closed"
        assert conv["csat_score"] == plan.rating


async def test_ignored_customers_nudge_then_leave_and_attachments_arrive_intact(
    ref_server: Any,
) -> None:
    count = 4
    seed = find_seed(
        count,
        lambda ps: (
            any(p.attachment is not None and p.attachment_after_line == 0 for p in ps)
            and any(p.leaves_if_ignored for p in ps)
        ),
    )
    plans = plan_customers(seed, count, per_minute=RATE)
    stats = await asyncio.wait_for(
        run_simulator(ref_server.url, seed=seed, customers=count, rate=RATE, speed=300), 90
    )

    assert stats.errors == [], stats.errors
    assert stats.agent_replies == 0
    assert stats.abandoned == count
    reader = ref_server.token("supervisor", "Sim Reader")
    headers = {"Authorization": f"Bearer {reader}"}
    for plan in plans:
        conv_id = conversation_for(stats, plan.index)
        said = customer_bodies(ref_server, reader, conv_id)
        bodies = [m["body"] for m in said]
        assert bodies[0] == plan.opening
        assert len(bodies) > 1 + len(plan.nudges) - 1  # at least one nudge was sent
        assert (LEAVING[plan.lang] in bodies) == plan.leaves_if_ignored
        conv = httpx.get(
            f"{ref_server.api}/conversations/{conv_id}", headers=headers, trust_env=False
        ).json()
        assert conv["state"] == "closed" and conv["abandoned"] is True
        if plan.attachment is not None and plan.attachment_after_line == 0:
            files = [a for m in said for a in m["attachments"]]
            assert len(files) == 1
            blob = httpx.get(
                f"{ref_server.api}/attachments/{files[0]['id']}", headers=headers, trust_env=False
            )
            assert blob.status_code == 200
            assert blob.content == plan.attachment.data


async def test_the_same_seed_says_the_same_things_twice(ref_server: Any) -> None:
    runs = []
    for _ in range(2):
        stats, _agent = await run_with_agent(ref_server, seed=11, customers=3, speed=10)
        assert stats.errors == [], stats.errors
        # Nudges depend on timing; everything else is the plan.
        runs.append(
            sorted(
                (s.customer, s.client_id or "", s.kind, s.body)
                for s in stats.sent
                if s.kind != "nudge"
            )
        )
    assert runs[0] == runs[1]
    assert runs[0]


async def test_stop_event_ends_an_open_ended_run(ref_server: Any) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(run_simulator(ref_server.url, seed=5, rate=60, speed=5, stop=stop))
    await asyncio.sleep(1.0)
    stop.set()
    stats = await asyncio.wait_for(task, 20)
    # Nobody answers and the least patient customer waits 5 s at this speed: all were cut off.
    assert stats.customers_started >= 1
    assert stats.customers_interrupted == stats.customers_started
    assert stats.customers_finished == 0
    assert stats.errors == [], stats.errors


async def test_load_mode_opens_many_conversations(ref_server: Any) -> None:
    stats = await asyncio.wait_for(
        run_load(
            ref_server.url, seed=3, conversations=12, concurrency=4, messages_per_conversation=2
        ),
        60,
    )
    assert stats.errors == [], stats.errors
    assert stats.conversations_started == 12 and len(set(stats.conversation_ids)) == 12
    reader = ref_server.token("supervisor", "Load Reader")
    page = httpx.get(
        f"{ref_server.api}/conversations",
        params={"state": "queued", "limit": 200},
        headers={"Authorization": f"Bearer {reader}"},
        trust_env=False,
    ).json()
    assert {c["id"] for c in page["items"]} == set(stats.conversation_ids)


@pytest.mark.parametrize("bad_speed", [0, -1])
async def test_speed_must_be_positive(bad_speed: float) -> None:
    with pytest.raises(ValueError, match="speed"):
        await run_simulator("http://127.0.0.1:9", customers=1, speed=bad_speed)


async def test_demo_server_routes_simulated_chats_to_the_seeded_departments(
    make_ref_server: Callable[..., Any],
) -> None:
    from console.server.seed_data import DEMO_AGENTS

    server = make_ref_server(demo=True)
    count = 3
    seed = find_seed(count, lambda ps: len({p.department for p in ps}) == count)
    plans = plan_customers(seed, count, per_minute=RATE)
    agent = ReplyingAgent(server.api, server.token("agent", DEMO_AGENTS[0]["name"]))
    stop = asyncio.Event()
    agent_task = asyncio.create_task(agent.run(stop))
    try:
        stats = await asyncio.wait_for(
            run_simulator(server.url, seed=seed, customers=count, rate=RATE, speed=20), 90
        )
    finally:
        stop.set()
        await agent_task
    assert stats.errors == [], stats.errors
    assert stats.conversations_started == count
    reader = server.token("supervisor", "Demo Reader")
    headers = {"Authorization": f"Bearer {reader}"}
    for plan in plans:
        conv_id = conversation_for(stats, plan.index)
        conv = httpx.get(
            f"{server.api}/conversations/{conv_id}", headers=headers, trust_env=False
        ).json()
        assert conv["department_name"] == plan.department
        assert conv["customer_email"] == plan.email
        assert conv["assignee_name"] == DEMO_AGENTS[0]["name"]


async def test_max_concurrent_caps_customers_chatting_at_once(ref_server: Any) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_simulator(ref_server.url, seed=8, rate=6000, speed=5, stop=stop, max_concurrent=3)
    )
    await asyncio.sleep(1.5)
    stop.set()
    stats = await asyncio.wait_for(task, 20)
    # Nobody answers, so nobody leaves within 1.5 s: exactly the first three ever started.
    assert stats.customers_started == 3
    assert stats.errors == [], stats.errors
