"""Outbox unit tests: persistence, order, exactly-once, failure handling (no network).

The send function here is a small in-memory "server" that is idempotent on
``client_id`` like the real one; the end-to-end guarantees against the real
reference server are in ``test_native_resilience.py``.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from console.core.outbox import (
    DeliveryUpdate,
    Fail,
    Outbox,
    OutboxFailed,
    Pause,
    Retry,
    default_classify,
    new_client_id,
)
from console.protocol import models as m


class Refused(Exception):
    def __init__(self, message: str, status: int, code: str = "bad_request") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class FakeServer:
    """Stores messages once per client_id; can drop requests or answers."""

    def __init__(self, *, seed: int = 0, fail_rate: float = 0.0) -> None:
        self.stored: dict[str, list[m.Message]] = {}
        self.by_client_id: dict[str, m.Message] = {}
        self.attempts: dict[str, int] = {}
        self.rng = random.Random(seed)
        self.fail_rate = fail_rate
        self.refuse: dict[str, Exception] = {}
        self.gate: asyncio.Event | None = None

    async def send(self, conversation_id: str, request: m.SendMessage) -> m.Message:
        self.attempts[request.client_id] = self.attempts.get(request.client_id, 0) + 1
        if self.gate is not None:
            await self.gate.wait()
        await asyncio.sleep(0)
        if request.client_id in self.refuse:
            raise self.refuse[request.client_id]
        if self.rng.random() < self.fail_rate / 2:
            raise ConnectionError("request lost before the server")
        existing = self.by_client_id.get(request.client_id)
        if existing is None:
            existing = m.Message(
                id=f"msg-{len(self.by_client_id) + 1}",
                conversation_id=conversation_id,
                author_kind="agent",
                body=request.body,
                client_id=request.client_id,
                created_at=datetime.now(UTC),
            )
            self.by_client_id[request.client_id] = existing
            self.stored.setdefault(conversation_id, []).append(existing)
        if self.rng.random() < self.fail_rate / 2:
            raise ConnectionError("answer lost after the server stored the message")
        return existing


def req(body: str, client_id: str | None = None) -> m.SendMessage:
    return m.SendMessage(client_id=client_id or new_client_id(), body=body)


async def test_enqueue_is_on_disk_before_it_returns(tmp_path: Path) -> None:
    """A crash right after enqueue (no close, no delivery) loses nothing."""
    path = tmp_path / "outbox.jsonl"
    server = FakeServer()
    server.gate = asyncio.Event()  # the server never answers
    box = Outbox(path, server.send)
    await box.start()
    entry = await box.enqueue("c1", req("hello"))
    # "Crash": read the file from a fresh Outbox without closing the first one.
    reopened = Outbox(path, FakeServer().send)
    assert [e.client_id for e in reopened.pending()] == [entry.client_id]
    assert reopened.pending()[0].body == "hello"
    await box.aclose()
    await reopened.aclose()


async def test_unreliable_link_delivers_exactly_once_in_order(tmp_path: Path) -> None:
    """Lost requests and lost answers: every message stored once, per-conversation order kept."""
    server = FakeServer(seed=7, fail_rate=0.4)
    box = Outbox(tmp_path / "o.jsonl", server.send, backoff_base=0.001, backoff_cap=0.005)
    await box.start()
    expected: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    sends = []
    for i in range(300):
        conv = "abc"[i % 3]
        body = f"{conv}-{i}"
        expected[conv].append(body)
        sends.append(box.send(conv, req(body)))
    delivered = await asyncio.wait_for(asyncio.gather(*sends), 30)
    assert len({msg.id for msg in delivered}) == 300
    for conv, bodies in expected.items():
        assert [msg.body for msg in server.stored[conv]] == bodies
    assert sum(server.attempts.values()) > 300  # the failures really happened
    assert box.pending() == []
    await box.aclose()


async def test_permanent_refusal_fails_that_entry_only(tmp_path: Path) -> None:
    """A 4xx marks the entry failed with the server's sentence; later entries still go out."""
    server = FakeServer()
    bad = req("x" * 20)
    server.refuse[bad.client_id] = Refused("The message is too long (max 10,000).", 400, "too_long")
    box = Outbox(tmp_path / "o.jsonl", server.send)
    updates: list[DeliveryUpdate] = []
    box.on_update(updates.append)
    await box.start()
    with pytest.raises(OutboxFailed) as info:
        await box.send("c1", bad)
    assert str(info.value) == "The message is too long (max 10,000)."
    assert info.value.code == "too_long"
    good = await box.send("c1", req("fine"))
    assert good.body == "fine"
    assert server.attempts[bad.client_id] == 1  # not retried
    statuses = [(u.entry.body, u.status) for u in updates]
    assert ("x" * 20, "failed") in statuses and ("fine", "sent") in statuses
    assert [u.entry.client_id for u in box.failed()] == [bad.client_id]
    await box.aclose()

    # Failed entries survive a restart (the agent can still copy the text) until dismissed.
    again = Outbox(tmp_path / "o.jsonl", server.send)
    assert [u.entry.body for u in again.failed()] == ["x" * 20]
    assert again.pending() == []
    await again.start()
    await again.dismiss(bad.client_id)
    await again.aclose()
    assert Outbox(tmp_path / "o.jsonl", server.send).failed() == []


async def test_restart_resends_with_the_same_client_ids(tmp_path: Path) -> None:
    """Entries queued by a console that closed (or crashed) go out from the next one, in order."""
    path = tmp_path / "o.jsonl"
    offline = FakeServer()
    offline.gate = asyncio.Event()
    first = Outbox(path, offline.send)
    await first.start()
    queued = [await first.enqueue("c1", req(f"m{i}")) for i in range(5)]
    await first.aclose()
    assert offline.stored == {}

    online = FakeServer()
    second = Outbox(path, online.send)
    got = asyncio.Queue[DeliveryUpdate]()
    second.on_update(got.put_nowait)
    await second.start()
    sent = [await asyncio.wait_for(got.get(), 5) for _ in range(5)]
    assert [u.status for u in sent] == ["sent"] * 5
    assert [msg.client_id for msg in online.stored["c1"]] == [e.client_id for e in queued]
    assert [msg.body for msg in online.stored["c1"]] == [f"m{i}" for i in range(5)]
    await second.aclose()
    # Everything resolved: the file compacts to nothing on the next open.
    Outbox(path, online.send)
    assert path.read_bytes() == b""


async def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    box = Outbox(path, FakeServer().send)
    await box.enqueue("c1", req("kept"))  # not started: written synchronously
    with path.open("ab") as fh:
        fh.write(b'{"op":"enqueue","client_id":"tor')
    reopened = Outbox(path, FakeServer().send)
    assert [e.body for e in reopened.pending()] == ["kept"]


async def test_retry_after_is_reported_and_wake_ends_backoff(tmp_path: Path) -> None:
    calls: list[float] = []
    loop = asyncio.get_running_loop()

    async def flaky(conversation_id: str, request: m.SendMessage) -> m.Message:
        calls.append(loop.time())
        if len(calls) == 1:
            raise Refused("slow down", 429, "rate_limited")
        if len(calls) == 2:
            raise ConnectionError("down")
        return m.Message(
            id="m1",
            conversation_id=conversation_id,
            author_kind="agent",
            body=request.body,
            created_at=datetime.now(UTC),
        )

    def classify(exc: BaseException) -> Retry | Fail | Pause:
        if getattr(exc, "status", None) == 429:
            return Retry(after=0.2, reason=str(exc))
        return Retry(reason=str(exc))

    box = Outbox(None, flaky, classify=classify, backoff_base=60.0, backoff_cap=60.0)
    updates: list[DeliveryUpdate] = []
    box.on_update(updates.append)
    await box.start()
    task = asyncio.create_task(box.send("c1", req("hi")))
    while len(calls) < 2:
        await asyncio.sleep(0.01)
    assert calls[1] - calls[0] >= 0.19  # Retry-After honoured
    await asyncio.sleep(0.05)
    retrying = [u for u in updates if u.status == "pending" and u.retry_at is not None]
    assert retrying and retrying[-1].reason == "down"
    box.wake()  # the stream reconnected: no need to sit out the 60 s backoff
    message = await asyncio.wait_for(task, 2)
    assert message.id == "m1" and len(calls) == 3
    await box.aclose()


async def test_pause_holds_everything_until_resume() -> None:
    server = FakeServer()
    revoked = True

    async def send(conversation_id: str, request: m.SendMessage) -> m.Message:
        if revoked:
            raise Refused("token revoked", 401, "unauthorized")
        return await server.send(conversation_id, request)

    box = Outbox(None, send)
    await box.start()
    task = asyncio.create_task(box.send("c1", req("later")))
    while box.paused is None:
        await asyncio.sleep(0.01)
    assert box.paused == "token revoked"
    assert [e.body for e in box.pending()] == ["later"]
    revoked = False
    box.resume()
    assert (await asyncio.wait_for(task, 2)).body == "later"
    await box.aclose()


def test_default_classification() -> None:
    assert isinstance(default_classify(Refused("no", 400)), Fail)
    assert isinstance(default_classify(Refused("no", 403)), Fail)
    assert isinstance(default_classify(Refused("auth", 401)), Pause)
    assert isinstance(default_classify(Refused("busy", 503)), Retry)
    assert isinstance(default_classify(ConnectionError("x")), Retry)


async def test_enqueue_is_idempotent_on_client_id(tmp_path: Path) -> None:
    """Sending the same client id twice (a UI retry) queues and delivers it once."""
    server = FakeServer()
    server.gate = asyncio.Event()
    box = Outbox(tmp_path / "o.jsonl", server.send)
    await box.start()
    request = req("once")
    first = asyncio.create_task(box.send("c1", request))
    second = asyncio.create_task(box.send("c1", request))
    await asyncio.sleep(0.05)
    assert [e.client_id for e in box.pending()] == [request.client_id]
    server.gate.set()
    a, b = await asyncio.gather(first, second)
    assert a.id == b.id
    assert (await box.send("c1", request)).id == a.id  # after delivery too
    assert server.attempts[request.client_id] == 1
    await box.aclose()


async def test_retry_requeues_a_failed_entry_at_the_end(tmp_path: Path) -> None:
    server = FakeServer()
    path = tmp_path / "o.jsonl"
    box = Outbox(path, server.send)
    await box.start()
    flaky = req("first try refused")
    server.refuse[flaky.client_id] = Refused("Conversation is busy.", 409, "conflict")
    with pytest.raises(OutboxFailed):
        await box.send("c1", flaky)
    await box.send("c1", req("meanwhile"))
    del server.refuse[flaky.client_id]
    entry = await box.retry(flaky.client_id)
    assert (await box.delivery(entry.client_id)).body == "first try refused"
    assert [msg.body for msg in server.stored["c1"]] == ["meanwhile", "first try refused"]
    assert box.failed() == []
    await box.aclose()
    assert Outbox(path, server.send).pending() == []
