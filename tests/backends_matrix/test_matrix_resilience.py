"""Synapse SIGKILLed and restarted while replies and customer messages flow; console restarts.

Nothing may be lost or doubled, and the order per conversation is kept: checked
on the homeserver (what the customer reads) and on the console's event stream.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter

import httpx

from console.backends.base import ConnectionPhase
from console.backends.matrix import conversation_id_for as cid
from console.protocol import models as m
from tests.backends_matrix.conftest import MatrixUser, Team
from tests.backends_matrix.test_matrix_backend import collect, until

REPLIES = 300
CUSTOMER_MESSAGES = 300
KILLS = 3


async def say_until_stored(user: MatrixUser, room: str, body: str, txn: str) -> None:
    """A customer client: retry the same transaction id until the homeserver answers."""
    while True:
        try:
            r = await user.http.put(
                f"/rooms/{room}/send/m.room.message/{txn}", json={"msgtype": "m.text", "body": body}
            )
        except httpx.TransportError:
            await asyncio.sleep(0.1)
            continue
        if r.status_code == 200:
            return
        assert r.status_code >= 500 or r.status_code == 429, r.text
        await asyncio.sleep(0.1)


async def test_kill_and_restart_synapse_three_times_while_600_messages_flow(team: Team) -> None:
    ana = team.agents[0]
    customers = [await team.customer(f"Cust {n}") for n in range(2)]
    rooms = [await team.open(c, f"Cust {n}") for n, c in enumerate(customers)]
    backend = team.backend(ana, outbox="ana.jsonl")
    await backend.connect()
    for room in rooms:
        await backend.accept(room)
    events: list[m.Event] = []
    task = await collect(backend, events)
    await until(lambda: backend.connection.phase is ConnectionPhase.CONNECTED, "connected")

    per_room_replies = REPLIES // len(rooms)
    per_room_customer = CUSTOMER_MESSAGES // len(rooms)
    progress = Counter[str]()

    async def agent_side(index: int) -> None:
        room = rooms[index]
        sends = [
            asyncio.create_task(
                backend.send_message(
                    room, m.SendMessage(client_id=f"r{index}-{n}", body=f"reply {index}-{n}")
                )
            )
            for n in range(per_room_replies)
        ]
        for send in sends:
            await send
            progress["sent"] += 1

    async def customer_side(index: int) -> None:
        salt = secrets.token_hex(3)
        for n in range(per_room_customer):
            await say_until_stored(
                customers[index], rooms[index], f"cust {index}-{n}", f"c{salt}-{n}"
            )
            progress["sent"] += 1

    async def chaos() -> None:
        total = REPLIES + CUSTOMER_MESSAGES
        for kill in range(1, KILLS + 1):
            await until(
                lambda k=kill: progress["sent"] >= total * k // (KILLS + 1), "progress", 120
            )
            await asyncio.to_thread(team.server.kill)
            await asyncio.sleep(0.3)
            await asyncio.to_thread(team.server.start)

    await asyncio.gather(
        *(agent_side(i) for i in range(len(rooms))),
        *(customer_side(i) for i in range(len(rooms))),
        chaos(),
    )

    for index, room in enumerate(rooms):
        replies = [f"reply {index}-{n}" for n in range(per_room_replies)]
        said = [f"cust {index}-{n}" for n in range(per_room_customer)]
        # On the homeserver (what the customer reads): each once, in order.
        bodies = [e["content"]["body"] for e in await customers[index].messages(room)]
        assert sorted(bodies) == sorted(replies + said), "lost or doubled on the homeserver"
        assert [b for b in bodies if b.startswith("reply")] == replies
        assert [b for b in bodies if b.startswith("cust")] == said

        def streamed(room: str = room) -> list[str]:
            return [
                d.body
                for d in (m.decode_event_data(e) for e in events if e.type == "message.created")
                if isinstance(d, m.Message) and d.conversation_id == cid(room)
            ]

        await until(lambda b=bodies, s=streamed: len(s()) >= len(b), "stream caught up", 60)
        # On the console's event stream: the same messages, once each, same order.
        assert streamed() == bodies
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    assert backend.outbox is not None and backend.outbox.pending() == []
    task.cancel()


async def test_a_restarted_console_resumes_from_its_stored_since_token_and_fills_gaps(
    team: Team,
) -> None:
    """Closed console, 150 customer messages (more than one /sync timeline), new console."""
    ana = team.agents[0]
    customer = await team.customer("Rin")
    room = await team.open(customer, "Rin")
    first = team.backend(ana, outbox="ana.jsonl")
    await first.connect()
    await first.accept(room)
    events: list[m.Event] = []
    task = await collect(first, events)
    await customer.say(room, "before")
    await until(
        lambda: any(e.type == "message.created" for e in events), "first console got 'before'"
    )
    task.cancel()
    await first.aclose()

    for n in range(150):
        await customer.say(room, f"while closed {n}")
    second = team.backend(ana, outbox="ana.jsonl")
    await second.connect()
    later: list[m.Event] = []
    task = await collect(second, later)
    await customer.say(room, "after")

    def bodies() -> list[str]:
        return [
            d.body
            for d in (m.decode_event_data(e) for e in later if e.type == "message.created")
            if isinstance(d, m.Message)
        ]

    await until(lambda: "after" in bodies(), "resumed stream")
    assert bodies() == [f"while closed {n}" for n in range(150)] + ["after"]
    task.cancel()
