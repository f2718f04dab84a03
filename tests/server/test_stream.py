"""The WebSocket stream: live events, per-role filtering, resume without gap or duplicate,
replay after a hard restart, reset, heartbeats."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from tests.fixtures.reference_server import RefServer
from tests.server.conftest import agent, customer, start_chat

Frame = dict[str, Any]


def ws_connect(server: RefServer, token: str) -> Any:
    # max_queue=None: a test that reads one connection while another fills up must not
    # stall the server's sends through TCP back-pressure on a busy machine.
    return connect(
        server.ws_url,
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=5,
        max_queue=None,
    )


async def hello(ws: ClientConnection, resume_after: int | None) -> Frame:
    await ws.send(json.dumps({"type": "hello", "resume_after": resume_after}))
    return dict(json.loads(await asyncio.wait_for(ws.recv(), 5)))


async def collect(
    ws: ClientConnection, until: Callable[[list[Frame]], bool], timeout: float = 5.0
) -> list[Frame]:
    """Frames with a seq, until ``until(frames)`` holds (pings are skipped)."""
    frames: list[Frame] = []

    async def run() -> None:
        while not until(frames):
            frame = json.loads(await ws.recv())
            if "seq" in frame:
                frames.append(frame)

    await asyncio.wait_for(run(), timeout)
    return frames


async def drain(ws: ClientConnection, quiet: float = 0.3) -> list[Frame]:
    """Everything that arrives until the stream is quiet for ``quiet`` seconds."""
    frames: list[Frame] = []
    while True:
        try:
            frame = json.loads(await asyncio.wait_for(ws.recv(), quiet))
        except TimeoutError:
            return frames
        if "seq" in frame:
            frames.append(frame)


def token_of(c: httpx.Client) -> str:
    return str(c.headers["Authorization"].removeprefix("Bearer "))


async def test_bad_token_is_refused_in_handshake(server: RefServer) -> None:
    """A bad token gets HTTP 401 during the handshake, not an open socket."""
    with pytest.raises(InvalidStatus) as info:
        async with ws_connect(server, "ac_wrong"):
            pass
    assert info.value.response.status_code == 401


async def test_token_in_query_string_is_refused(server: RefServer) -> None:
    """A token in the URL would land in access logs: ?token= is refused (401); browsers
    use a single-use ticket instead (tests/server/test_security.py)."""
    a = agent(server)
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"{server.ws_url}?token={token_of(a)}", open_timeout=5):
            pass
    assert info.value.response.status_code == 401


async def test_live_events_are_filtered_per_role(server: RefServer) -> None:
    """Agents see everything; a customer sees only its own chat's public events."""
    a = agent(server)
    cust, _ = customer(server)
    other, _ = customer(server)
    async with ws_connect(server, token_of(a)) as aws, ws_connect(server, token_of(cust)) as cws:
        welcome = await hello(aws, None)
        assert welcome["type"] == "welcome" and welcome["role"] == "agent"
        assert (await hello(cws, None))["role"] == "customer"
        conv = await asyncio.to_thread(start_chat, cust, message="hello from me")
        other_conv = await asyncio.to_thread(start_chat, other, message="someone else")
        await asyncio.to_thread(
            a.post,
            f"/conversations/{conv['id']}/messages",
            json={"client_id": "pub", "body": "public reply"},
        )
        await asyncio.to_thread(
            a.post,
            f"/conversations/{conv['id']}/messages",
            json={"client_id": "int", "body": "secret note", "internal": True},
        )
        await asyncio.to_thread(
            a.post, f"/conversations/{conv['id']}/typing", json={"typing": True}
        )
        agent_frames = await drain(aws)
        customer_frames = await drain(cws)
    seqs = [f["seq"] for f in agent_frames]
    assert seqs == sorted(seqs) and len(seqs) == len(set(seqs))
    agent_bodies = [f["data"]["body"] for f in agent_frames if f["type"] == "message.created"]
    assert {"hello from me", "someone else", "public reply", "secret note"} <= set(agent_bodies)
    assert any(f["type"] == "queue.updated" for f in agent_frames)
    assert not any(f["type"] == "typing" for f in agent_frames)  # own typing is not echoed
    cust_bodies = [f["data"]["body"] for f in customer_frames if f["type"] == "message.created"]
    assert "public reply" in cust_bodies and "hello from me" in cust_bodies
    assert "secret note" not in cust_bodies and "someone else" not in cust_bodies
    assert all(
        f["type"] in {"message.created", "conversation.created", "conversation.updated", "typing"}
        for f in customer_frames
    )
    assert all(
        f["data"].get("conversation_id", f["data"].get("id")) == conv["id"] for f in customer_frames
    )
    assert other_conv["id"] not in json.dumps(customer_frames)
    assert any(
        f["type"] == "typing" and f["data"]["author_kind"] == "agent" for f in customer_frames
    )


async def test_resume_after_disconnect_has_no_gap_and_no_duplicate(server: RefServer) -> None:
    """Events missed while disconnected are replayed exactly once, in order."""
    watcher = agent(server)
    a = agent(server)
    cust, _ = customer(server)
    conv = await asyncio.to_thread(start_chat, cust, message="resume test")
    async with ws_connect(server, token_of(watcher)) as always:
        await hello(always, None)
        async with ws_connect(server, token_of(a)) as first:
            start = await hello(first, None)
            for i in range(3):
                await asyncio.to_thread(
                    cust.post,
                    f"/customer/conversations/{conv['id']}/messages",
                    json={"client_id": f"r{i}", "body": f"before {i}"},
                )
            seen = await collect(
                first, lambda fs: sum(f["type"] == "message.created" for f in fs) >= 3
            )
        last_seen = seen[-1]["seq"]
        assert last_seen > start["last_seq"]
        for i in range(4):  # while "a" is away
            await asyncio.to_thread(
                cust.post,
                f"/customer/conversations/{conv['id']}/messages",
                json={"client_id": f"w{i}", "body": f"while away {i}"},
            )
        async with ws_connect(server, token_of(a)) as second:
            welcome = await hello(second, last_seen)
            assert welcome["type"] == "welcome"
            await asyncio.to_thread(
                cust.post,
                f"/customer/conversations/{conv['id']}/messages",
                json={"client_id": "after", "body": "after resume"},
            )
            resumed = await collect(
                second,
                lambda fs: any(
                    f["type"] == "message.created" and f["data"]["body"] == "after resume"
                    for f in fs
                ),
            )
        reference = await collect(
            always,
            lambda fs: any(
                f["type"] == "message.created" and f["data"]["body"] == "after resume" for f in fs
            ),
        )
    expected = [f for f in reference if f["seq"] > last_seen and f["type"] != "typing"]
    assert [f["seq"] for f in resumed] == [f["seq"] for f in expected]
    assert resumed == expected
    bodies = [f["data"]["body"] for f in resumed if f["type"] == "message.created"]
    assert bodies == [f"while away {i}" for i in range(4)] + ["after resume"]


async def test_replay_after_hard_restart_is_exact(
    make_ref_server: Callable[..., RefServer],
) -> None:
    """After SIGKILL and restart, resume_after=0 replays the same events with the same seqs."""
    srv = make_ref_server()
    a = agent(srv)
    cust, _ = customer(srv)
    async with ws_connect(srv, token_of(a)) as ws:
        await hello(ws, 0)
        conv = await asyncio.to_thread(start_chat, cust, message="before crash")
        await asyncio.to_thread(a.post, f"/conversations/{conv['id']}/accept")
        await asyncio.to_thread(
            a.post,
            f"/conversations/{conv['id']}/messages",
            json={"client_id": "k1", "body": "reply"},
        )
        live = await drain(ws)
    srv.stop()
    srv.start()
    async with ws_connect(srv, token_of(a)) as ws:
        welcome = await hello(ws, 0)
        assert welcome["last_seq"] == live[-1]["seq"]
        replayed = await collect(ws, lambda fs: len(fs) >= len(live))
        # new events continue after the old ones
        await asyncio.to_thread(
            a.post,
            f"/conversations/{conv['id']}/messages",
            json={"client_id": "k2", "body": "after restart"},
        )
        new = await collect(ws, lambda fs: any(f["type"] == "message.created" for f in fs))
    assert replayed == live
    assert new[0]["seq"] > live[-1]["seq"]
    # and the idempotency key survived the restart too
    again = a.post(
        f"/conversations/{conv['id']}/messages", json={"client_id": "k1", "body": "reply"}
    )
    assert again.status_code == 200


async def test_reset_when_resume_point_is_gone(make_ref_server: Callable[..., RefServer]) -> None:
    """resume_after older than the retained log, or newer than the server's, gets reset."""
    srv = make_ref_server(event_log_retention=20)
    cust, _ = customer(srv)
    conv = start_chat(cust)
    for i in range(40):
        cust.post(
            f"/customer/conversations/{conv['id']}/messages",
            json={"client_id": f"n{i}", "body": f"n{i}"},
        )
    a = agent(srv)
    async with ws_connect(srv, token_of(a)) as ws:
        frame = await hello(ws, 1)
        assert frame["type"] == "reset" and frame["last_seq"] > 40
    async with ws_connect(srv, token_of(a)) as ws:
        last = (await hello(ws, None))["last_seq"]
    async with ws_connect(srv, token_of(a)) as ws:
        assert (await hello(ws, last + 1000))["type"] == "reset"
    async with ws_connect(srv, token_of(a)) as ws:
        assert (await hello(ws, last - 5))["type"] == "welcome"


async def test_heartbeats(make_ref_server: Callable[..., RefServer]) -> None:
    """The server pings on its own and answers client pings with pong."""
    srv = make_ref_server(heartbeat_seconds=0.2)
    a = agent(srv)
    async with ws_connect(srv, token_of(a)) as ws:
        await ws.send(json.dumps({"type": "ping"}))  # before hello too
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}
        await hello(ws, None)
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "ping"}
        await ws.send(json.dumps({"type": "ping"}))
        frames = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(3)]
        assert {"type": "pong"} in frames


async def test_junk_frames_are_ignored(server: RefServer) -> None:
    """Binary, non-JSON and unknown frames neither crash the stream nor count as hello."""
    a = agent(server)
    async with ws_connect(server, token_of(a)) as ws:
        await ws.send(b"\x00\xff binary")
        await ws.send("not json")
        await ws.send(json.dumps([1, 2]))
        await ws.send(json.dumps({"type": "mystery"}))
        assert (await hello(ws, None))["type"] == "welcome"
        await ws.send(b'{"type": "ping"}')
        assert json.loads(await asyncio.wait_for(ws.recv(), 5)) == {"type": "pong"}


async def test_reconnecting_during_concurrent_writes_loses_and_repeats_nothing(
    server: RefServer,
) -> None:
    """While 60 messages are sent concurrently, a client that keeps reconnecting with
    resume_after ends up with exactly the events a never-disconnected client saw."""
    watcher = agent(server)
    flaky = agent(server)
    cust, _ = customer(server)
    conv = await asyncio.to_thread(start_chat, cust, message="stress")
    marker = "stress-end"

    async def writer() -> None:
        async with httpx.AsyncClient(
            base_url=server.api, headers=dict(cust.headers), trust_env=False
        ) as http:
            for batch in range(6):
                await asyncio.gather(
                    *(
                        http.post(
                            f"/customer/conversations/{conv['id']}/messages",
                            json={"client_id": f"s{batch}-{i}", "body": f"s{batch}-{i}"},
                        )
                        for i in range(10)
                    )
                )
            await http.post(
                f"/customer/conversations/{conv['id']}/messages",
                json={"client_id": "end", "body": marker},
            )

    def has_marker(frames: list[Frame]) -> bool:
        return any(f["type"] == "message.created" and f["data"]["body"] == marker for f in frames)

    async with ws_connect(server, token_of(watcher)) as always:
        start = (await hello(always, None))["last_seq"]
        write_task = asyncio.create_task(writer())
        got: list[Frame] = []
        last = start
        connections = 0
        while not has_marker(got):
            connections += 1
            async with ws_connect(server, token_of(flaky)) as ws:
                assert (await hello(ws, last))["type"] == "welcome"
                try:
                    got += await collect(ws, lambda fs: len(fs) >= 7 or has_marker(fs), timeout=0.5)
                except TimeoutError:
                    pass
                if got:
                    last = got[-1]["seq"]
        await write_task
        reference = await collect(always, has_marker, timeout=30)
    seqs = [f["seq"] for f in got]
    assert seqs == sorted(set(seqs)), "duplicate or out-of-order events"
    assert got == [f for f in reference if f["seq"] <= got[-1]["seq"]]
    bodies = [f["data"]["body"] for f in got if f["type"] == "message.created"]
    assert len(bodies) == 61
    assert connections >= 5  # it really did resume many times
