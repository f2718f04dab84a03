"""Resilience of the native backend against the REAL reference server (a subprocess).

The server is killed with SIGKILL and restarted on the same port and database
(``ref_server.stop()`` / ``.start()``), which is what a crash and a restart
look like to the console.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from console.backends.base import AuthError, BackendError, ConnectionPhase, ConnectionState
from console.backends.native import NativeBackend
from console.core.outbox import DeliveryUpdate, new_client_id
from console.protocol import models as m

from .conftest import all_messages, customer_says, start_conversation, wait_until

CONNECTED = ConnectionPhase.CONNECTED
RECONNECTING = ConnectionPhase.RECONNECTING


def fast_backend(server: Any, token: str, **options: Any) -> NativeBackend:
    """Short backoff so restarts in tests are quick (the production default caps at 30 s)."""
    defaults: dict[str, Any] = {"timeout": 5.0, "backoff_base": 0.05, "backoff_cap": 0.5}
    return NativeBackend(server.url, token, **{**defaults, **options})


def consume(backend: NativeBackend, into: list[m.Event]) -> asyncio.Task[None]:
    async def run() -> None:
        async for event in backend.events():
            into.append(event)

    return asyncio.create_task(run())


def streamed_message_ids(events: list[m.Event]) -> list[str]:
    return [str(e.data["id"]) for e in events if e.type == "message.created"]


@pytest.mark.timeout(240)
async def test_thousand_messages_survive_three_server_restarts(
    ref_server: Any, tmp_path: Path, backends: list[NativeBackend]
) -> None:
    """1,000 replies sent concurrently while the server is killed 3 times: each stored once, in order."""
    token = ref_server.token("agent", "Alice")
    conversations = [start_conversation(ref_server, f"Customer {i}")[0] for i in range(4)]
    backend = fast_backend(ref_server, token, outbox_path=tmp_path / "outbox.jsonl")
    backends.append(backend)
    states: list[ConnectionState] = []
    backend.on_connection_change(states.append)
    await backend.connect()
    events: list[m.Event] = []
    consumer = consume(backend, events)
    await wait_until(lambda: backend.connection.phase is CONNECTED)
    assert backend.outbox is not None
    sent = 0
    retried = 0

    def on_update(update: DeliveryUpdate) -> None:
        nonlocal sent, retried
        if update.status == "sent":
            sent += 1
        elif update.status == "pending" and update.attempts > 0:
            retried += 1

    backend.outbox.on_update(on_update)

    expected: dict[str, list[str]] = {c: [] for c in conversations}
    tasks = []
    for i in range(1000):
        conversation = conversations[i % len(conversations)]
        body = f"reply {i:04d}"
        expected[conversation].append(body)
        request = m.SendMessage(client_id=new_client_id(), body=body)
        tasks.append(asyncio.create_task(backend.send_message(conversation, request)))

    for threshold in (150, 450, 750):
        await wait_until(lambda t=threshold: sent >= t, timeout=60)  # type: ignore[misc]
        await asyncio.to_thread(ref_server.stop)
        await wait_until(lambda: backend.connection.phase is RECONNECTING)
        await asyncio.to_thread(ref_server.start)

    results = await asyncio.wait_for(asyncio.gather(*tasks), 120)
    assert len({msg.id for msg in results}) == 1000
    for conversation in conversations:
        stored = [msg for msg in await all_messages(backend, conversation)]
        agent_bodies = [msg.body for msg in stored if msg.author_kind == "agent"]
        assert agent_bodies == expected[conversation]  # exactly once, in order
    assert backend.outbox.pending() == [] and backend.outbox.failed() == []
    assert retried > 0  # the restarts really interrupted deliveries

    reconnecting = [s for s in states if s.phase is RECONNECTING]
    assert len(reconnecting) >= 3
    assert all(s.retry_at is not None and s.detail for s in reconnecting)

    # The stream resumed after each restart: every reply exactly once, seq strictly increasing.
    wanted = {msg.id for msg in results}
    await wait_until(lambda: wanted <= set(streamed_message_ids(events)), timeout=30)
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    ids = streamed_message_ids(events)
    assert len(ids) == len(set(ids))
    assert all(e.type != m.RESYNC_EVENT_TYPE for e in events)  # resumed, never reset
    consumer.cancel()


async def test_stream_resumes_without_gaps_after_restart(
    ref_server: Any, backends: list[NativeBackend]
) -> None:
    """Customer messages written before, around and after a server crash all arrive once."""
    conversation, customer = start_conversation(ref_server, "Dana")
    # A slower backoff leaves a window where the server is back but the console is not.
    backend = fast_backend(
        ref_server, ref_server.token("agent", "Bo"), backoff_base=1.0, backoff_cap=1.0
    )
    backends.append(backend)
    await backend.connect()
    events: list[m.Event] = []
    consumer = consume(backend, events)
    await wait_until(lambda: backend.connection.phase is CONNECTED)

    for i in range(5):
        customer_says(ref_server, customer, conversation, f"before {i}")
    await wait_until(lambda: len(streamed_message_ids(events)) >= 5)
    await asyncio.to_thread(ref_server.stop)
    await asyncio.to_thread(ref_server.start)
    for i in range(5):
        customer_says(ref_server, customer, conversation, f"between {i}")
    await wait_until(lambda: backend.connection.phase is CONNECTED)
    for i in range(5):
        customer_says(ref_server, customer, conversation, f"after {i}")

    stored = [
        msg for msg in await all_messages(backend, conversation) if msg.author_kind == "customer"
    ]
    assert len(stored) == 16  # the opening message + 15
    wanted = [msg.id for msg in stored[1:]]
    await wait_until(lambda: set(wanted) <= set(streamed_message_ids(events)))
    ids = streamed_message_ids(events)
    assert len(ids) == len(set(ids))
    assert [i for i in ids if i in set(wanted)] == wanted  # in order, no gap
    seqs = [e.seq for e in events]
    assert seqs == sorted(set(seqs))
    consumer.cancel()


async def test_resume_after_replays_what_a_closed_console_missed(
    ref_server: Any, backends: list[NativeBackend]
) -> None:
    conversation, customer = start_conversation(ref_server, "Eve")
    token = ref_server.token("agent", "Cy")
    first = fast_backend(ref_server, token)
    events: list[m.Event] = []
    consumer = consume(first, events)
    await wait_until(lambda: first.connection.phase is CONNECTED)
    customer_says(ref_server, customer, conversation, "one")
    await wait_until(lambda: len(streamed_message_ids(events)) == 1)
    resume_from = first.last_seq
    await first.aclose()
    consumer.cancel()

    for body in ("two", "three"):
        customer_says(ref_server, customer, conversation, body)
    second = fast_backend(ref_server, token, resume_after=resume_from)
    backends.append(second)
    later: list[m.Event] = []
    consume(second, later)
    await wait_until(lambda: len(streamed_message_ids(later)) == 2)
    assert [e.data["body"] for e in later if e.type == "message.created"] == ["two", "three"]
    assert all(e.seq > (resume_from or 0) for e in later)


async def test_reset_resyncs_over_rest_then_streams_live(
    make_ref_server: Any, backends: list[NativeBackend]
) -> None:
    """Resuming from before the retained log: one client.resync with the open chats, then live events."""
    server = make_ref_server(event_log_retention=10)
    conversation, customer = start_conversation(server, "Fay")
    token = server.token("agent", "Di")
    first = fast_backend(server, token)
    events: list[m.Event] = []
    consumer = consume(first, events)
    await wait_until(lambda: first.connection.phase is CONNECTED)
    customer_says(server, customer, conversation, "seen")
    await wait_until(lambda: len(streamed_message_ids(events)) == 1)
    stale = first.last_seq
    await first.aclose()
    consumer.cancel()
    for i in range(15):  # pushes the stale seq out of the 10-event log
        customer_says(server, customer, conversation, f"missed {i}")

    second = fast_backend(server, token, resume_after=stale)
    backends.append(second)
    later: list[m.Event] = []
    consume(second, later)
    await wait_until(lambda: len(later) >= 1)
    resync_event = later[0]
    assert resync_event.type == m.RESYNC_EVENT_TYPE
    resync = m.decode_event_data(resync_event)
    assert isinstance(resync, m.Resync)
    assert resync.reason == "reset"
    assert conversation in {c.id for c in resync.conversations}
    assert resync_event.seq == resync.last_seq > (stale or 0)
    customer_says(server, customer, conversation, "live")
    await wait_until(lambda: len(streamed_message_ids(later)) == 1)
    live = [e for e in later if e.type == "message.created"]
    assert live[0].data["body"] == "live" and live[0].seq > resync.last_seq


async def test_outbox_survives_a_console_restart(
    ref_server: Any, tmp_path: Path, backends: list[NativeBackend]
) -> None:
    """Typed while the server is down, console closed, new console delivers with the same ids."""
    conversation, _ = start_conversation(ref_server, "Gus")
    token = ref_server.token("agent", "Ed")
    outbox_path = tmp_path / "outbox.jsonl"
    ref_server.stop()

    first = fast_backend(ref_server, token, outbox_path=outbox_path)
    with pytest.raises(BackendError) as unreachable:
        await first.connect()
    assert "Cannot reach the server" in str(unreachable.value)
    sends = [
        asyncio.create_task(
            first.send_message(conversation, m.SendMessage(client_id=new_client_id(), body=f"q{i}"))
        )
        for i in range(5)
    ]
    assert first.outbox is not None
    await wait_until(lambda: len(first.outbox.pending()) == 5)  # type: ignore[union-attr]
    queued_ids = [e.client_id for e in first.outbox.pending()]
    await first.aclose()
    for task in sends:
        with pytest.raises(BackendError) as queued:
            await task
        assert queued.value.code == "queued"
        assert "will be sent the next time" in str(queued.value)

    ref_server.start()
    second = fast_backend(ref_server, token, outbox_path=outbox_path)
    backends.append(second)
    assert second.outbox is not None
    assert [e.client_id for e in second.outbox.pending()] == queued_ids
    await second.connect()
    await wait_until(lambda: second.outbox.pending() == [])  # type: ignore[union-attr]
    stored = [msg for msg in await all_messages(second, conversation) if msg.author_kind == "agent"]
    assert [msg.body for msg in stored] == [f"q{i}" for i in range(5)]
    assert [msg.client_id for msg in stored] == queued_ids


async def test_crash_between_server_ack_and_disk_does_not_duplicate(
    ref_server: Any, tmp_path: Path, backends: list[NativeBackend]
) -> None:
    """The server stored it but the 'sent' record never hit the disk: the resend is a replay."""
    conversation, _ = start_conversation(ref_server, "Hal")
    token = ref_server.token("agent", "Flo")
    outbox_path = tmp_path / "outbox.jsonl"
    first = fast_backend(ref_server, token, outbox_path=outbox_path)
    await first.connect()
    original = await first.send_message(
        conversation, m.SendMessage(client_id=new_client_id(), body="only once")
    )
    await first.aclose()
    lines = outbox_path.read_bytes().splitlines(keepends=True)
    outbox_path.write_bytes(b"".join(line for line in lines if b'"op":"sent"' not in line))

    second = fast_backend(ref_server, token, outbox_path=outbox_path)
    backends.append(second)
    assert second.outbox is not None and len(second.outbox.pending()) == 1
    updates: list[DeliveryUpdate] = []
    second.outbox.on_update(updates.append)
    await second.connect()
    await wait_until(lambda: any(u.status == "sent" for u in updates))
    assert [u.message.id for u in updates if u.message is not None] == [original.id]
    stored = [msg for msg in await all_messages(second, conversation) if msg.author_kind == "agent"]
    assert [msg.body for msg in stored] == ["only once"]


async def test_permanent_refusal_marks_the_entry_failed_with_the_servers_sentence(
    ref_server: Any, tmp_path: Path, backends: list[NativeBackend]
) -> None:
    conversation, _ = start_conversation(ref_server, "Ivy")
    backend = fast_backend(
        ref_server, ref_server.token("agent", "Gil"), outbox_path=tmp_path / "o.jsonl"
    )
    backends.append(backend)
    await backend.connect()
    with pytest.raises(BackendError) as refused:
        await backend.send_message(
            conversation, m.SendMessage(client_id=new_client_id(), body="   ")
        )
    assert str(refused.value) == "The message is empty: write some text or attach a file."
    assert backend.outbox is not None
    [failed] = backend.outbox.failed()
    assert failed.entry.body == "   " and failed.code == "bad_request"
    # The next reply in the same conversation is not held up.
    ok = await backend.send_message(
        conversation, m.SendMessage(client_id=new_client_id(), body="hi")
    )
    assert ok.body == "hi"


async def test_bad_token_is_fatal_and_never_retried(ref_server: Any) -> None:
    backend = fast_backend(ref_server, "not-a-token")
    states: list[ConnectionState] = []
    backend.on_connection_change(states.append)
    with pytest.raises(AuthError) as info:
        await backend.connect()
    assert "token" in str(info.value).lower()  # the server's own sentence
    assert backend.connection.phase is ConnectionPhase.AUTH_FAILED
    assert [e async for e in backend.events()] == []  # the stream does not even try
    await backend.aclose()
    assert [s.phase for s in states] == [ConnectionPhase.AUTH_FAILED]


async def test_token_revoked_during_a_session_stops_the_reconnect_loop(
    ref_server: Any, tmp_path: Path, backends: list[NativeBackend]
) -> None:
    """After a restart the handshake answers 401: AUTH_FAILED, no more attempts, outbox kept."""
    conversation, _ = start_conversation(ref_server, "Jo")
    token = ref_server.token("agent", "Hu")
    backend = fast_backend(ref_server, token, outbox_path=tmp_path / "o.jsonl")
    backends.append(backend)
    states: list[ConnectionState] = []
    backend.on_connection_change(states.append)
    await backend.connect()
    events: list[m.Event] = []
    consumer = consume(backend, events)
    await wait_until(lambda: backend.connection.phase is CONNECTED)

    ref_server.stop()
    with sqlite3.connect(ref_server.db_path) as db:
        db.execute("UPDATE tokens SET revoked = 1")
    ref_server.start()
    await wait_until(lambda: backend.connection.phase is ConnectionPhase.AUTH_FAILED)
    await asyncio.wait_for(consumer, 5)  # the event stream ended
    phases_then = len(states)
    assert backend.outbox is not None
    task = asyncio.create_task(
        backend.send_message(conversation, m.SendMessage(client_id=new_client_id(), body="kept"))
    )
    await asyncio.sleep(1.0)  # 20 backoff periods: nothing may retry meanwhile
    assert len(states) == phases_then
    assert [e.body for e in backend.outbox.pending()] == ["kept"]  # paused, not failed
    task.cancel()


async def test_rate_limit_is_honoured(
    make_ref_server: Any, tmp_path: Path, backends: list[NativeBackend]
) -> None:
    """429 + Retry-After: reads and outbox sends wait and succeed; other calls say when to retry."""
    server = make_ref_server(rate_limit=True, rate_per_second=4, rate_burst=4)
    conversation, _ = start_conversation(server, "Kim")
    statuses: list[int] = []

    async def record(response: Any) -> None:
        statuses.append(response.status_code)

    backend = fast_backend(
        server,
        server.token("agent", "Io"),
        outbox_path=tmp_path / "o.jsonl",
        event_hooks={"response": [record]},
    )
    backends.append(backend)
    await backend.connect()
    loop = asyncio.get_running_loop()
    started = loop.time()
    results = await asyncio.gather(*(backend.me() for _ in range(10)))
    assert all(me.name == "Io" for me in results)
    assert 429 in statuses  # the server did push back ...
    assert loop.time() - started >= 1.0  # ... and we waited (Retry-After is at least 1 s)

    # Drain the bucket, then: an outbox send waits and goes through,
    statuses.clear()
    await asyncio.gather(*(backend.me() for _ in range(6)))
    message = await backend.send_message(
        conversation, m.SendMessage(client_id=new_client_id(), body="patient")
    )
    assert message.body == "patient"
    # and a non-idempotent call reports the wait instead of retrying it.
    from console.backends.native import RateLimitedError

    await asyncio.gather(*(backend.me() for _ in range(6)))
    with pytest.raises(RateLimitedError) as limited:
        for i in range(10):
            await backend.create_canned_reply(m.CannedReplyCreate(title=f"t{i}", body="b"))
    assert limited.value.retry_after >= 1
    assert "try again" in str(limited.value).lower()
