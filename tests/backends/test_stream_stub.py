"""Stream behaviour against misbehaving loopback WebSocket servers.

The reference server is well behaved, so the failure modes the client must
survive are staged here with a real ``websockets`` server on 127.0.0.1: a
server that closes right after the handshake, one that goes silent, one that
answers the handshake with 429 or 401, and one that replays overlapping and
duplicated events.  Everything else runs against the real reference server
(``test_native_*.py``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

from console.backends.base import ConnectionPhase, ConnectionState
from console.backends.native import NativeBackend, parse_retry_after

Handler = Callable[[ServerConnection], Awaitable[None]]


class Stub:
    def __init__(self) -> None:
        self.handshakes = 0
        self.hellos: list[dict[str, Any]] = []
        self.url = ""


@asynccontextmanager
async def stub_server(
    handler: Handler,
    process_request: Callable[[ServerConnection, Request], Response | None] | None = None,
) -> AsyncIterator[Stub]:
    stub = Stub()

    def count(connection: ServerConnection, request: Request) -> Response | None:
        stub.handshakes += 1
        return process_request(connection, request) if process_request else None

    async def wrapped(ws: ServerConnection) -> None:
        stub.hellos.append(json.loads(await ws.recv()))
        await handler(ws)

    async with serve(wrapped, "127.0.0.1", 0, process_request=count) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        stub.url = f"http://127.0.0.1:{port}"
        yield stub


def welcome(last_seq: int = 0) -> str:
    return json.dumps({"type": "welcome", "last_seq": last_seq, "role": "agent"})


def event(seq: int, message_id: str | None = None) -> str:
    data: dict[str, Any] = {"conversation_id": "c1", "author_kind": "customer", "typing": True}
    kind = "typing"
    if message_id is not None:
        kind = "message.created"
        data = {
            "id": message_id,
            "conversation_id": "c1",
            "author_kind": "customer",
            "body": f"hello {seq}",
            "created_at": "2026-11-26T12:00:00Z",
        }
    return json.dumps({"seq": seq, "type": kind, "at": "2026-11-26T12:00:00Z", "data": data})


def record_states(backend: NativeBackend) -> list[tuple[float, ConnectionState]]:
    states: list[tuple[float, ConnectionState]] = []
    backend.on_connection_change(lambda s: states.append((time.monotonic(), s)))
    return states


async def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


async def test_close_right_after_handshake_backs_off_exponentially() -> None:
    """A server that accepts then hangs up at once must not be hammered: delays grow."""

    async def hang_up(ws: ServerConnection) -> None:
        await ws.send(welcome())
        await ws.close()

    async with stub_server(hang_up) as stub:
        backend = NativeBackend(
            stub.url, "t", backoff_base=0.04, backoff_cap=0.32, stable_after=60.0
        )
        states = record_states(backend)
        backend.events()
        await wait_until(lambda: stub.handshakes >= 6)
        await backend.aclose()
    delays = [
        s.retry_at - at
        for at, s in states
        if s.phase is ConnectionPhase.RECONNECTING and s.retry_at is not None
    ]
    assert len(delays) >= 5
    # Equal jitter: delay n lies in [c/2, c] with c = min(0.32, 0.04 * 2**n).
    for n, delay in enumerate(delays[:5]):
        ceiling = min(0.32, 0.04 * 2**n)
        assert ceiling / 2 - 0.01 <= delay <= ceiling + 0.01, (n, delay)
    phases = [s.phase for _, s in states]
    assert phases[0] is ConnectionPhase.CONNECTING
    assert ConnectionPhase.CONNECTED in phases  # each handshake did succeed
    assert phases[-1] is ConnectionPhase.OFFLINE


async def test_silent_server_is_detected_by_heartbeat() -> None:
    """No frames at all (not even pongs to our pings) for too long: reconnect."""

    async def go_silent(ws: ServerConnection) -> None:
        await ws.send(welcome())
        await ws.wait_closed()

    async with stub_server(go_silent) as stub:
        backend = NativeBackend(stub.url, "t", heartbeat=0.2, timeout=0.4, backoff_base=0.05)
        states = record_states(backend)
        backend.events()
        await wait_until(lambda: stub.handshakes >= 2, timeout=10)
        await backend.aclose()
    phases = [s.phase for _, s in states]
    assert phases[:3] == [
        ConnectionPhase.CONNECTING,
        ConnectionPhase.CONNECTED,
        ConnectionPhase.RECONNECTING,
    ]
    connected_at = states[1][0]
    dropped_at = states[2][0]
    # dead_after = 2 * heartbeat + timeout = 0.8 s, checked every heartbeat.
    assert dropped_at - connected_at >= 0.8


async def test_handshake_429_waits_for_retry_after() -> None:
    def busy_once(connection: ServerConnection, request: Request) -> Response | None:
        if stub_ref[0].handshakes == 1:
            response = connection.respond(429, "Too many requests\n")
            response.headers["Retry-After"] = "1"
            return response
        return None

    async def ok(ws: ServerConnection) -> None:
        await ws.send(welcome())
        await ws.wait_closed()

    stub_ref: list[Stub] = []
    async with stub_server(ok, busy_once) as stub:
        stub_ref.append(stub)
        backend = NativeBackend(stub.url, "t", backoff_base=0.01, backoff_cap=0.02)
        states = record_states(backend)
        backend.events()
        await wait_until(lambda: backend.connection.phase is ConnectionPhase.CONNECTED)
        await backend.aclose()
    waits = [
        (s.retry_at - at, s.detail)
        for at, s in states
        if s.phase is ConnectionPhase.RECONNECTING and s.retry_at is not None
    ]
    assert len(waits) == 1
    delay, detail = waits[0]
    assert 0.95 <= delay <= 1.05  # Retry-After, not the 0.01 s backoff
    assert "rate limited" in detail
    assert stub.handshakes == 2


async def test_handshake_401_stops_retrying() -> None:
    def refuse(connection: ServerConnection, request: Request) -> Response | None:
        return connection.respond(401, '{"error":{"code":"unauthorized","message":"Bad token."}}')

    async def never(ws: ServerConnection) -> None:  # pragma: no cover - handshake refused
        raise AssertionError("handler must not run")

    async with stub_server(never, refuse) as stub:
        backend = NativeBackend(stub.url, "t", backoff_base=0.01, backoff_cap=0.02)
        events = [e async for e in backend.events()]  # ends on fatal auth
        await asyncio.sleep(0.2)
        assert stub.handshakes == 1
        assert events == []
        assert backend.connection.phase is ConnectionPhase.AUTH_FAILED
        assert backend.connection.detail == "Bad token."
        await backend.aclose()
        assert backend.connection.phase is ConnectionPhase.AUTH_FAILED


async def test_replays_overlap_but_each_seq_and_message_is_yielded_once() -> None:
    """Resume sends resume_after; overlapping replays and duplicate message ids are dropped."""
    connections = 0

    async def replay(ws: ServerConnection) -> None:
        nonlocal connections
        connections += 1
        await ws.send(welcome(5))
        if connections == 1:
            for seq, mid in [(1, "m1"), (2, None), (3, "m2"), (3, "m2"), (2, None)]:
                await ws.send(event(seq, mid))
            await ws.close()
        else:
            # A sloppy server replays from the start, and repeats m2 under a new seq.
            for seq, mid in [(1, "m1"), (3, "m2"), (4, "m2"), (5, "m3")]:
                await ws.send(event(seq, mid))
            await ws.wait_closed()

    async with stub_server(replay) as stub:
        backend = NativeBackend(stub.url, "t", backoff_base=0.01, backoff_cap=0.02)
        seen: list[tuple[int, str]] = []
        async for ev in backend.events():
            seen.append((ev.seq, ev.type))
            if ev.seq == 5:
                break
        await backend.aclose()
    assert seen == [
        (1, "message.created"),
        (2, "typing"),
        (3, "message.created"),
        (5, "message.created"),
    ]
    assert [h["resume_after"] for h in stub.hellos] == [None, 3]
    assert backend.last_seq == 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), ("0", 0.0), (None, 1.0), ("soon", 1.0), ("-4", 0.0)],
)
def test_parse_retry_after(value: str | None, expected: float) -> None:
    assert parse_retry_after(value) == expected


def test_parse_retry_after_http_date() -> None:
    from datetime import UTC, datetime, timedelta
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    assert 18 <= parse_retry_after(when) <= 20
