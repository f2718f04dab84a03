"""Routing goes only to agents with a console attached (issue 14, demo honesty).

An agent marked ``online`` whose console is not connected (no open stream) is
not given new chats; the chats wait in the queue and go to them as soon as a
stream of theirs opens.  A stream that closes keeps its agent present for the
grace period, so a reconnect does not lose their place.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.fixtures.reference_server import RefServer
from tests.server.conftest import client, customer, start_chat

_names = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RefServer]:
    from tests.fixtures.reference_server import start_ref_server

    srv = start_ref_server(
        tmp_path_factory.mktemp("presence"), presence=True, presence_grace_seconds=1.0
    )
    try:
        yield srv
    finally:
        srv.stop()


def online_agent(server: RefServer, department: str) -> tuple[httpx.Client, str, str]:
    name = f"Present {next(_names)}"
    agent_id, token = server.create_agent(name, departments=(department,))
    c = client(server, token)
    assert c.put("/me/status", json={"status": "online", "accepting": True}).status_code == 200
    return c, agent_id, token


def new_department(server: RefServer) -> str:
    name = f"Presence {next(_names)}"
    server.create_department(name)
    return name


def conversation(agent: httpx.Client, conv_id: str) -> dict[str, Any]:
    r = agent.get(f"/conversations/{conv_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Console:
    """An open stream for an agent (what the console keeps while it runs)."""

    def __init__(self, server: RefServer, token: str) -> None:
        self.server = server
        self.token = token
        self._ws: Any = None

    async def __aenter__(self) -> Console:
        self._ws = await connect(
            self.server.ws_url,
            additional_headers={"Authorization": f"Bearer {self.token}"},
            open_timeout=5,
        )
        await self._ws.send(json.dumps({"type": "hello", "resume_after": None}))
        await asyncio.wait_for(self._ws.recv(), 5)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._ws.close()


async def test_an_online_agent_without_a_console_gets_no_chats(server: RefServer) -> None:
    """Online with no stream: the chat waits; the stream opens: the chat is theirs."""
    dept = new_department(server)
    agent, agent_id, token = online_agent(server, dept)
    cust, _ = customer(server)
    conv = await asyncio.to_thread(start_chat, cust, department=dept, message="hello?")
    assert conv["assignee_id"] is None
    assert conversation(agent, conv["id"])["state"] == "queued"
    async with Console(server, token):
        await asyncio.to_thread(
            wait_until,
            lambda: conversation(agent, conv["id"])["assignee_id"] == agent_id,
            "the queued chat to go to the agent who connected",
        )
        # While the console is attached, new chats go straight to them.
        second = await asyncio.to_thread(start_chat, cust, department=dept, message="again")
        assert second["assignee_id"] == agent_id


async def test_presence_outlives_a_short_disconnect_then_ends(server: RefServer) -> None:
    """Within the grace period a reconnecting console keeps getting chats; after it, no."""
    dept = new_department(server)
    agent, agent_id, token = online_agent(server, dept)
    cust, _ = customer(server)
    async with Console(server, token):
        pass
    # Just closed: still present (grace 1 s on this server).
    conv = await asyncio.to_thread(start_chat, cust, department=dept, message="right away")
    assert conv["assignee_id"] == agent_id
    await asyncio.sleep(1.5)  # past the grace period (no assertion on elapsed time)
    later = await asyncio.to_thread(start_chat, cust, department=dept, message="later")
    assert later["assignee_id"] is None
    assert conversation(agent, later["id"])["state"] == "queued"


async def test_the_present_agent_wins_over_an_absent_one(server: RefServer) -> None:
    """Two online agents, one with a console: every chat goes to that one."""
    dept = new_department(server)
    _absent, absent_id, _ = online_agent(server, dept)
    _present, present_id, token = online_agent(server, dept)
    cust, _ = customer(server)
    async with Console(server, token):
        chats = [
            await asyncio.to_thread(start_chat, cust, department=dept, message=f"chat {i}")
            for i in range(3)
        ]
    assert [c["assignee_id"] for c in chats] == [present_id] * 3
    assert absent_id not in {c["assignee_id"] for c in chats}
