"""The native backend against the real server's stream close codes and error frame
(issue 11, docs/protocol.md §11): 1008 after a revocation → AUTH_FAILED with a
sentence saying so; 1013 (a reader too far behind) → reconnect and carry on; an
``error`` frame (a refused resume point) → logged, then a fresh start with a re-sync."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from typing import Any

import httpx
import pytest

from console.backends.base import ConnectionPhase, ConnectionState
from console.backends.native import NativeBackend
from console.protocol import models as m

from .conftest import customer_says, start_conversation, wait_until
from .test_native_resilience import consume, fast_backend, streamed_message_ids

CONNECTED = ConnectionPhase.CONNECTED


def _revoke_with_the_cli(server: Any, token: str) -> None:
    from console.server.admin import token_id_of

    token_id = token_id_of(server.db_path, token)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "console",
            "token",
            "revoke",
            str(token_id),
            "--db",
            str(server.db_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


async def test_revoked_token_closes_the_stream_and_is_shown_as_auth_failed(
    ref_server: Any, backends: list[NativeBackend]
) -> None:
    token = ref_server.token("agent", "Rev")
    backend = fast_backend(ref_server, token)
    backends.append(backend)
    states: list[ConnectionState] = []
    backend.on_connection_change(states.append)
    await backend.connect()
    events: list[m.Event] = []
    consumer = consume(backend, events)
    await wait_until(lambda: backend.connection.phase is CONNECTED)

    await asyncio.to_thread(_revoke_with_the_cli, ref_server, token)
    await wait_until(lambda: backend.connection.phase is ConnectionPhase.AUTH_FAILED, 10)
    await asyncio.wait_for(consumer, 5)  # the event stream ended
    detail = backend.connection.detail
    assert "revoked" in detail and "new token" in detail
    # Straight from CONNECTED to AUTH_FAILED: no reconnect attempt in between.
    assert [s.phase for s in states][-2:] == [CONNECTED, ConnectionPhase.AUTH_FAILED]
    assert ConnectionPhase.RECONNECTING not in [s.phase for s in states]


async def test_1013_reconnects_and_carries_on(
    make_ref_server: Any, backends: list[NativeBackend]
) -> None:
    """A burst bigger than the reader's queue puts the stream into catch-up; the
    catch-up point has left the (small) retained log, so the server closes with 1013.
    The backend reconnects at once, re-syncs (its resume point is gone) and streams on."""
    server = make_ref_server(event_log_retention=1000)
    conversation, customer = start_conversation(server, "Burst")
    backend = fast_backend(server, server.token("agent", "Reader"))
    backends.append(backend)
    states: list[ConnectionState] = []
    backend.on_connection_change(states.append)
    events: list[m.Event] = []
    consume(backend, events)
    await wait_until(lambda: backend.connection.phase is CONNECTED)

    # 3,000 events of 1 KiB in one transaction: over the 2 MiB queue bound at once.
    r = httpx.post(server.api + "/_debug/events", json={"count": 3000, "size": 1024}, timeout=60)
    assert r.status_code == 200, r.text
    await wait_until(lambda: any(e.type == m.RESYNC_EVENT_TYPE for e in events))
    reconnecting = [s for s in states if s.phase is ConnectionPhase.RECONNECTING]
    assert reconnecting and "asked the console to reconnect" in reconnecting[0].detail
    await wait_until(lambda: backend.connection.phase is CONNECTED)
    customer_says(server, customer, conversation, "after the burst")
    await wait_until(lambda: "after the burst" in [e.data.get("body") for e in events])
    seqs = [e.seq for e in events if e.type != m.RESYNC_EVENT_TYPE]
    assert seqs == sorted(set(seqs))  # never repeated, never backwards
    assert backend.connection.phase is CONNECTED


async def test_error_frame_is_logged_and_the_backend_starts_over(
    ref_server: Any, backends: list[NativeBackend], caplog: pytest.LogCaptureFixture
) -> None:
    """A resume point the server refuses (error frame + 1008) is not an auth failure:
    the backend logs the server's sentence, reconnects without it, re-syncs, streams on."""
    conversation, customer = start_conversation(ref_server, "Err")
    backend = fast_backend(ref_server, ref_server.token("agent", "Cursor"), resume_after=-5)
    backends.append(backend)
    events: list[m.Event] = []
    with caplog.at_level(logging.WARNING, logger="console.backends.native"):
        consume(backend, events)
        await wait_until(lambda: any(e.type == m.RESYNC_EVENT_TYPE for e in events))
        await wait_until(lambda: backend.connection.phase is CONNECTED)
    assert any("the server sent an error" in r.getMessage() for r in caplog.records)
    customer_says(ref_server, customer, conversation, "still here")
    await wait_until(lambda: streamed_message_ids(events) != [])
    assert backend.connection.phase is CONNECTED
