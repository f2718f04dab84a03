"""Fixtures: one real Synapse per test session (per xdist worker), a fresh team per test.

Synapse comes from ``.venv-synapse`` (``make synapse``).  Missing Synapse is a
test *failure* with a sentence saying how to install it; only
``AGENT_CONSOLE_SKIP_MATRIX=1`` turns that into a skip.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.backends.matrix import MatrixBackend
from console.backends.matrix.desk import Desk
from tests.backends_matrix._synapse import SKIP_ENV, Synapse, missing_message, synapse_python

_counter = itertools.count(1)


@pytest.fixture(scope="session")
def synapse() -> Iterator[Synapse]:
    python = synapse_python()
    if python is None:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{SKIP_ENV}=1: Matrix tests skipped on purpose")
        pytest.fail(missing_message(), pytrace=False)
    directory = Path(tempfile.mkdtemp(prefix="synapse-"))
    server = Synapse(python, directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


class MatrixUser:
    """A Matrix account driven by the test over the client-server API (customer, agent, ...)."""

    def __init__(self, server: Synapse, login: dict[str, Any]) -> None:
        self.user_id: str = login["user_id"]
        self.token: str = login["access_token"]
        self.password: str = login["password"]
        self.http = httpx.AsyncClient(
            base_url=server.url + "/_matrix/client/v3",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=30.0,
        )
        self._txn = itertools.count(1)

    async def set_name(self, name: str) -> None:
        r = await self.http.put(f"/profile/{self.user_id}/displayname", json={"displayname": name})
        assert r.status_code == 200, r.text

    async def join(self, room_id: str) -> None:
        r = await self.http.post(f"/join/{room_id}", json={})
        assert r.status_code == 200, r.text

    async def say(self, room_id: str, body: str, txn: str | None = None) -> str:
        txn = txn or f"t{next(self._txn)}-{secrets.token_hex(3)}"
        r = await self.http.put(
            f"/rooms/{room_id}/send/m.room.message/{txn}", json={"msgtype": "m.text", "body": body}
        )
        assert r.status_code == 200, r.text
        return str(r.json()["event_id"])

    async def typing(self, room_id: str, typing: bool) -> None:
        r = await self.http.put(
            f"/rooms/{room_id}/typing/{self.user_id}", json={"typing": typing, "timeout": 30000}
        )
        assert r.status_code == 200, r.text

    async def messages(self, room_id: str) -> list[dict[str, Any]]:
        """Every m.room.message of the room, oldest first."""
        out: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"dir": "b", "limit": 500}
            if token:
                params["from"] = token
            r = await self.http.get(f"/rooms/{room_id}/messages", params=params)
            assert r.status_code == 200, r.text
            data = r.json()
            out.extend(e for e in data["chunk"] if e["type"] == "m.room.message")
            token = data.get("end")
            if not data["chunk"] or not token:
                break
        out.reverse()
        return out

    async def typing_users(self, room_id: str) -> list[str]:
        """Who the homeserver says is typing in ``room_id`` right now (one /sync)."""
        r = await self.http.get("/sync", params={"timeout": 0})
        assert r.status_code == 200, r.text
        room = r.json().get("rooms", {}).get("join", {}).get(room_id, {})
        for event in room.get("ephemeral", {}).get("events", []):
            if event["type"] == "m.typing":
                return list(event["content"]["user_ids"])
        return []

    async def aclose(self) -> None:
        await self.http.aclose()


@dataclass
class Team:
    """A desk, a team room, two agents, a supervisor; customers on demand."""

    server: Synapse
    desk: Desk
    desk_user: MatrixUser
    team_room: str
    agents: list[MatrixUser]
    supervisor: MatrixUser
    departments: dict[str, str]
    tmp: Path
    users: list[MatrixUser] = field(default_factory=list)
    backends: list[MatrixBackend] = field(default_factory=list)

    async def customer(self, name: str) -> MatrixUser:
        user = MatrixUser(
            self.server, self.server.register(f"cust{next(_counter)}{secrets.token_hex(2)}")
        )
        await user.set_name(name)
        self.users.append(user)
        return user

    async def open(self, customer: MatrixUser, name: str, department: str = "billing") -> str:
        """The customer opens a conversation (through the desk, like a widget) and joins it."""
        room = await self.desk.open_conversation(
            self.team_room,
            customer=customer.user_id,
            customer_name=name,
            department=department,
            agents=[a.user_id for a in self.agents],
        )
        await customer.join(room)
        return room

    def backend(
        self, user: MatrixUser, *, outbox: str | None = None, **kwargs: Any
    ) -> MatrixBackend:
        backend = MatrixBackend(
            self.server.url,
            user.token,
            team_room=self.team_room,
            desk_user=self.desk.user_id,
            outbox_path=self.tmp / outbox if outbox else None,
            backoff_base=kwargs.pop("backoff_base", 0.1),
            backoff_cap=kwargs.pop("backoff_cap", 1.0),
            **kwargs,
        )
        self.backends.append(backend)
        return backend


async def make_team(server: Synapse, tmp: Path) -> Team:
    tag = f"{next(_counter)}{secrets.token_hex(2)}"
    desk_login = server.register(f"desk{tag}")
    desk_user = MatrixUser(server, desk_login)
    await desk_user.set_name("Help Desk")
    desk = Desk(server.url, desk_login["access_token"], desk_login["user_id"])
    agents = [MatrixUser(server, server.register(f"agent{n}{tag}")) for n in (1, 2)]
    await agents[0].set_name("Ana Agent")
    await agents[1].set_name("Bo Agent")
    supervisor = MatrixUser(server, server.register(f"super{tag}"))
    await supervisor.set_name("Sue Supervisor")
    departments = {"billing": "Billing", "shipping": "Shipping"}
    team_room = await desk.create_team_room(
        agents=[a.user_id for a in agents],
        supervisors=[supervisor.user_id],
        departments=departments,
    )
    for user in [*agents, supervisor]:
        await user.join(team_room)
    return Team(
        server,
        desk,
        desk_user,
        team_room,
        agents,
        supervisor,
        departments,
        tmp,
        [desk_user, *agents, supervisor],
    )


@pytest.fixture
async def team(synapse: Synapse, tmp_path: Path) -> AsyncIterator[Team]:
    team = await make_team(synapse, tmp_path)
    try:
        yield team
    finally:
        for backend in team.backends:
            await backend.aclose()
        for user in team.users:
            await user.aclose()
        await team.desk.aclose()
