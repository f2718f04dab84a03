"""Helpers for the supervisor tests against the real reference server.

A world is built through the server's own APIs: departments and agents with
the admin helpers, agents put online with their tokens (so routing assigns
chats), customers through ``POST /customer/session`` and
``POST /customer/conversations``.  The supervisor screen runs in a tiny host
app over a real ``NativeBackend`` wrapped in ``ReadOnlyBackend``, and reads the
event stream itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from textual.app import App
from textual.pilot import Pilot

from console.backends.base import ReadOnlyBackend
from console.backends.native import NativeBackend
from console.protocol import models as m
from console.ui.screens.supervisor import SupervisorScreen
from tests.fixtures.reference_server import RefServer

_names = itertools.count(1)


def client(server: RefServer, token: str | None = None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(base_url=server.api, headers=headers, timeout=10.0)


@dataclass
class World:
    server: RefServer
    supervisor_token: str
    departments: dict[str, str] = field(default_factory=dict)  # name → id
    agents: dict[str, tuple[str, str]] = field(default_factory=dict)  # name → (id, token)
    customers: list[tuple[str, str]] = field(default_factory=list)  # (conversation id, token)

    async def agent_client(self, name: str) -> httpx.AsyncClient:
        return client(self.server, self.agents[name][1])

    async def start_chat(
        self, name: str, department: str, message: str = "Hello, I need help."
    ) -> dict[str, Any]:
        async with httpx.AsyncClient(base_url=self.server.api, timeout=10.0) as anon:
            r = await anon.post(
                "/customer/session",
                json={"name": name, "email": f"c{next(_names)}@example.com"},
            )
            assert r.status_code == 201, r.text
            token = r.json()["token"]
        async with client(self.server, token) as cust:
            r = await cust.post(
                "/customer/conversations",
                json={"name": name, "department": department, "message": message},
            )
            assert r.status_code == 201, r.text
            conv = dict(r.json())
        self.customers.append((conv["id"], token))
        return conv

    async def customer_says(self, conversation_id: str, body: str) -> None:
        token = next(tok for cid, tok in self.customers if cid == conversation_id)
        async with client(self.server, token) as cust:
            r = await cust.post(
                f"/customer/conversations/{conversation_id}/messages",
                json={"client_id": f"c-{next(_names)}", "body": body},
            )
            assert r.status_code in (200, 201), r.text

    async def customer_leaves(self, conversation_id: str) -> None:
        token = next(tok for cid, tok in self.customers if cid == conversation_id)
        async with client(self.server, token) as cust:
            r = await cust.post(f"/customer/conversations/{conversation_id}/leave", json={})
            assert r.status_code in (200, 204), r.text

    async def agent_says(self, agent: str, conversation_id: str, body: str) -> None:
        async with await self.agent_client(agent) as c:
            r = await c.post(
                f"/conversations/{conversation_id}/messages",
                json={"client_id": f"a-{next(_names)}", "body": body},
            )
            assert r.status_code in (200, 201), r.text

    async def agent_closes(self, agent: str, conversation_id: str) -> None:
        async with await self.agent_client(agent) as c:
            r = await c.post(f"/conversations/{conversation_id}/close", json={})
            assert r.status_code == 200, r.text

    async def supervisor_get(self, path: str, **params: Any) -> Any:
        async with client(self.server, self.supervisor_token) as c:
            r = await c.get(path, params=params)
            r.raise_for_status()
            return r.json()

    async def queues(self) -> m.QueuesView:
        import msgspec

        return msgspec.convert(await self.supervisor_get("/queues"), m.QueuesView)

    async def agents_view(self) -> m.AgentsView:
        import msgspec

        return msgspec.convert(await self.supervisor_get("/agents"), m.AgentsView)

    async def conversation_states(self) -> dict[str, tuple[Any, ...]]:
        """Every conversation's state-bearing fields, as the server has them."""
        out: dict[str, tuple[Any, ...]] = {}
        for state in ("bot", "queued", "active", "closed"):
            cursor: str | None = None
            while True:
                params: dict[str, Any] = {"state": state, "assignee": "any", "limit": 200}
                if cursor:
                    params["cursor"] = cursor
                page = await self.supervisor_get("/conversations", **params)
                for c in page["items"]:
                    out[c["id"]] = (
                        c["state"],
                        c.get("assignee_id"),
                        c.get("waiting_since"),
                        c.get("last_message_at"),
                        c.get("closed_at"),
                        c.get("first_response_at"),
                    )
                cursor = page.get("next_cursor")
                if not cursor:
                    break
        return out


async def build_world(server: RefServer) -> World:
    """Two departments, two online agents (capacities 1 and 2), one offline agent."""
    world = World(server, server.token("supervisor", "Sam Supervisor"))
    for name in ("Sales", "Billing"):
        world.departments[name] = server.create_department(name)
    for name, deps, capacity, online in (
        ("Ann", ("Sales",), 1, True),
        ("Bob", ("Sales", "Billing"), 2, True),
        ("Cy", ("Billing",), 3, False),
    ):
        agent_id, token = server.create_agent(name, departments=deps, capacity=capacity)
        world.agents[name] = (agent_id, token)
        if online:
            async with client(server, token) as c:
                r = await c.put("/me/status", json={"status": "online"})
                assert r.status_code == 200, r.text
    return world


class HostApp(App[None]):
    """Hosts the supervisor screen over a real NativeBackend (read-only)."""

    def __init__(
        self, server: RefServer, token: str, *, config: Any = None, **screen_kwargs: Any
    ) -> None:
        super().__init__()
        self.config = config  # like AgentConsoleApp.config: the screen reads [sla] from it
        self.native = NativeBackend(server.url, token)
        self.backend = ReadOnlyBackend(self.native)
        self.screen_kwargs = screen_kwargs
        self.supervisor: SupervisorScreen | None = None

    async def on_mount(self) -> None:
        await self.backend.connect()
        self.supervisor = SupervisorScreen(self.backend, None, **self.screen_kwargs)
        await self.push_screen(self.supervisor)

    async def on_unmount(self) -> None:
        await self.native.aclose()


async def wait_for(pilot: Pilot[Any], predicate: Callable[[], bool], what: str) -> None:
    """Pause until ``predicate()`` holds; fail with ``what`` after a generous bound."""
    for _ in range(400):  # ~20 s of 50 ms pauses: a hang, not a timing assertion
        if predicate():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"timed out waiting for: {what}")


async def settle(pilot: Pilot[Any], screen: SupervisorScreen) -> None:
    """Let queued events and workers land, then force one refresh tick."""
    await pilot.pause(0.2)
    screen.refresh_now(force=True)
    await pilot.pause()
