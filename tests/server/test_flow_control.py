"""Stream flow control and slow-client limits, against the real server (issue 11):
no event lost when a reader falls behind, a stalled reader is closed with 1013 while
the server's memory stays bounded, slow requests time out, hostile frames and bad
hellos are answered, stream handshakes are rate limited."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from console.server.stream import QUEUE_LIMIT
from tests.fixtures.reference_server import RefServer
from tests.server.conftest import agent

Frame = dict[str, Any]


def token_of(c: httpx.Client) -> str:
    return str(c.headers["Authorization"].removeprefix("Bearer "))


def ws_connect(server: RefServer, token: str, **kwargs: Any) -> Any:
    kwargs.setdefault("max_queue", None)
    return connect(
        server.ws_url,
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=5,
        **kwargs,
    )


async def hello(ws: ClientConnection, resume_after: Any) -> Frame:
    await ws.send(json.dumps({"type": "hello", "resume_after": resume_after}))
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 5)))


def publish(server: RefServer, count: int, size: int = 0) -> dict[str, int]:
    """Append ``count`` filler events in ONE transaction (one publish to every reader)."""
    r = httpx.post(server.api + "/_debug/events", json={"count": count, "size": size}, timeout=60)
    assert r.status_code == 200, r.text
    return dict(r.json())


def streams(server: RefServer) -> dict[str, Any]:
    r = httpx.get(server.api + "/_debug/streams", timeout=10)
    assert r.status_code == 200, r.text
    return dict(r.json())


def rss_kib(server: RefServer) -> int:
    assert server._proc is not None
    with open(f"/proc/{server._proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def test_reader_that_falls_behind_loses_no_event(server: RefServer) -> None:
    """QUEUE_LIMIT + 1 events in one publish overflow the reader's queue; every one of
    them still arrives, in order, without gap (reconnecting with resume_after if the
    server ends the stream)."""
    a = agent(server)
    count = QUEUE_LIMIT + 1
    async with ws_connect(server, token_of(a)) as ws:
        start = (await hello(ws, None))["last_seq"]
        published = await asyncio.to_thread(publish, server, count)
        assert published["last_seq"] == start + count
        seqs: list[int] = []
        last = start
        while last < published["last_seq"]:
            try:
                frame = json.loads(await asyncio.wait_for(ws.recv(), 30))
            except ConnectionClosed:
                # Ended by the server: resume after the last event received.
                ws = await ws_connect(server, token_of(a)).__aenter__()
                assert (await hello(ws, last))["type"] == "welcome"
                continue
            if "seq" in frame:
                seqs.append(frame["seq"])
                last = frame["seq"]
        await ws.close()
    assert seqs == list(range(start + 1, start + count + 1))
    assert streams(server)["overflows"] >= 1  # the queue really overflowed


async def close_code(ws: ClientConnection) -> int | None:
    """Read until the stream ends; the close code received (``None``: cut off, no frame)."""
    with pytest.raises(ConnectionClosed) as info:
        while True:
            await asyncio.wait_for(ws.recv(), 20)
    return info.value.rcvd.code if info.value.rcvd else None


async def test_stalled_reader_is_closed_with_1013_and_memory_stays_bounded(
    make_ref_server: Callable[..., RefServer],
) -> None:
    """Two readers stop reading while ~60 MB of events are published: the server's
    memory does not grow with them, their streams are ended (queues freed), and each
    reader, when it reads again, finds the stream closed with 1013.

    The close frame waits behind the reader's unread data for ``stream_close_timeout``;
    it is set beyond the test's length so the outcome does not depend on how long
    the publishing takes."""
    srv = make_ref_server(stream_send_timeout=1, stream_close_timeout=600)
    a = agent(srv)
    # max_queue=1: the client stops reading its socket once one frame waits, so TCP
    # back-pressure reaches the server as it would from a frozen reader.
    readers = [ws_connect(srv, token_of(a), max_queue=1) for _ in range(2)]
    conns = [await r.__aenter__() for r in readers]
    try:
        for ws in conns:
            assert (await hello(ws, None))["type"] == "welcome"
        before = rss_kib(srv)
        peak = before
        for _ in range(16):
            await asyncio.to_thread(publish, srv, 450, 8 * 1024)
            peak = max(peak, rss_kib(srv))
            for sub in streams(srv)["subscribers"]:
                assert sub["queued_bytes"] <= 4 * 1024 * 1024
        # ~60 MB went to each reader; the server held at most a bounded part of it.
        assert (peak - before) < 40 * 1024, f"RSS grew by {(peak - before) // 1024} MiB"
        for _ in range(200):
            if not streams(srv)["subscribers"]:
                break
            await asyncio.sleep(0.1)
        assert streams(srv)["subscribers"] == []  # both stalled streams were ended, queues freed
        codes = await asyncio.gather(*(close_code(ws) for ws in conns))
        assert codes == [1013, 1013]
    finally:
        for r in readers:
            await r.__aexit__(None, None, None)


def _read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:
        pass
    return data


def test_slow_request_headers_and_body_time_out(make_ref_server: Callable[..., RefServer]) -> None:
    """A client that never finishes its headers, or its body, does not keep the
    connection: headers → connection dropped; body → 408 then close."""
    srv = make_ref_server(header_timeout=1, body_timeout=1)
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n")  # no blank line: never done
        assert _read_until_closed(sock, 15) == b""
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        sock.sendall(
            b"POST /api/v1/customer/session HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name": '
        )
        reply = _read_until_closed(sock, 15)
        assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
        assert b'"timeout"' in reply
    # an idle connection that sent nothing is dropped too
    with socket.create_connection(("127.0.0.1", srv.port)) as sock:
        assert _read_until_closed(sock, 15) == b""
    assert httpx.get(srv.api + "/health", timeout=5).status_code == 200


async def test_frame_that_breaks_the_json_decoder_closes_with_a_log_line(
    make_ref_server: Callable[..., RefServer],
) -> None:
    """A frame nested too deeply for the decoder closes the stream with 1007, a huge one
    (200,000 ``[``) with 1009, each with a warning in the server log: no silent drop."""
    srv = make_ref_server()
    a = agent(srv)
    for payload, code in (("[" * 50_000, 1007), ("[" * 200_000, 1009)):
        for before_hello in (True, False):
            async with ws_connect(srv, token_of(a)) as ws:
                if not before_hello:
                    await hello(ws, None)
                await ws.send(payload)
                with pytest.raises(ConnectionClosed) as info:
                    while True:
                        await asyncio.wait_for(ws.recv(), 10)
                assert info.value.rcvd is not None and info.value.rcvd.code == code
    log = srv.log_tail(200)
    assert "nests too deeply" in log
    assert "too big" in log


@pytest.mark.parametrize("bad", [-5, "abc", 1.5, True, [1], {"n": 1}])
async def test_invalid_resume_after_gets_an_error_frame(server: RefServer, bad: Any) -> None:
    a = agent(server)
    async with ws_connect(server, token_of(a)) as ws:
        reply = await hello(ws, bad)
        assert reply["type"] == "error", reply
        assert reply["error"]["code"] == "bad_request"
        assert "resume_after" in reply["error"]["message"]
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 5)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1008


async def test_stream_handshakes_are_rate_limited(
    make_ref_server: Callable[..., RefServer],
) -> None:
    """Handshakes take from the same token bucket as REST: 429 with Retry-After."""
    srv = make_ref_server(rate_limit=True, rate_per_second=0.1, rate_burst=3)
    token = srv.token("agent", "Hasty")
    for _ in range(3):
        async with ws_connect(srv, token) as ws:
            assert (await hello(ws, None))["type"] == "welcome"
    with pytest.raises(InvalidStatus) as info:
        async with ws_connect(srv, token):
            pass
    assert info.value.response.status_code == 429
    assert int(info.value.response.headers["Retry-After"]) >= 1
    # bad tokens are limited per client address
    statuses = []
    for _ in range(5):
        with pytest.raises(InvalidStatus) as info:
            async with ws_connect(srv, "ac_wrong"):
                pass
        statuses.append(info.value.response.status_code)
    assert statuses[0] == 401 and statuses[-1] == 429  # (the fixture's health probe used one)


def test_sqlite_synchronous_full_is_an_operator_setting(
    make_ref_server: Callable[..., RefServer], tmp_path: Any
) -> None:
    """``sqlite_synchronous=FULL`` reaches the connection (default NORMAL with WAL)."""
    from console.server.db import Database

    assert Database(tmp_path / "a.sqlite3").one("PRAGMA synchronous")[0] == 1  # type: ignore[index]
    full = Database(tmp_path / "b.sqlite3", synchronous="FULL")
    assert full.one("PRAGMA synchronous")[0] == 2  # type: ignore[index]
    with pytest.raises(ValueError):
        Database(tmp_path / "c.sqlite3", synchronous="OFF")
    srv = make_ref_server(sqlite_synchronous="FULL")
    a = agent(srv)
    assert a.get("/me").status_code == 200
