"""A loopback ActionCable server that speaks like Chatwoot's, fed by the fake's events.

NOTES.md §5: ``welcome`` on connect, ``subscribe`` with a RoomChannel
identifier (JSON string with pubsub_token, account_id, user_id),
``confirm_subscription`` echoing the identifier (a wrong token gets *no*
answer, as in Chatwoot), ``ping`` frames, app events as
``{"identifier", "message": {"event", "data"}}``.  Every event the REST fake
broadcasts goes to the subscribed users among its recipients (inbox members
and administrators, as ``ActionCableListener`` picks them), in order.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.typing import Subprotocol

from console.backends.chatwoot import ChatwootBackend
from console.protocol import models as m
from tests.backends_chatwoot._fake import ACCOUNT_ID, TOKEN, FakeChatwoot

BASE = "https://chatwoot.test"


@dataclass
class CableFake:
    rest: FakeChatwoot
    ping_every: float = 0.2
    subscribed: list[tuple[ServerConnection, str]] = field(default_factory=list)
    presence: list[str] = field(default_factory=list)
    connections: int = 0
    subprotocols: list[str | None] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    confirmed: asyncio.Event = field(default_factory=asyncio.Event)
    users: dict[ServerConnection, int] = field(default_factory=dict)
    outbox: asyncio.Queue[tuple[str, dict[str, Any], set[int]]] = field(
        default_factory=asyncio.Queue
    )

    def attach(self) -> asyncio.Task[None]:
        """Deliver the REST fake's broadcasts from now on (in order)."""
        self.rest.listeners.append(lambda e, d, to: self.outbox.put_nowait((e, d, to)))
        return asyncio.create_task(self._deliver())

    async def _deliver(self) -> None:
        while True:
            event, data, to = await self.outbox.get()
            for ws, ident in list(self.subscribed):
                if self.users.get(ws) in to:
                    frame = {"identifier": ident, "message": {"event": event, "data": data}}
                    try:
                        await ws.send(json.dumps(frame))
                    except Exception:  # a dropped link loses the event, as in Chatwoot
                        pass

    async def handler(self, ws: ServerConnection) -> None:
        self.connections += 1
        self.subprotocols.append(ws.subprotocol)
        self.paths.append(ws.request.path if ws.request else "")
        await ws.send(json.dumps({"type": "welcome"}))
        pinger = asyncio.create_task(self._ping(ws))
        try:
            async for raw in ws:
                frame = json.loads(raw)
                ident = frame["identifier"]
                params = json.loads(ident)
                if frame["command"] == "subscribe":
                    tokens = {u["pubsub_token"]: uid for uid, u in self.rest.users.items()}
                    ok = (
                        params.get("channel") == "RoomChannel"
                        and tokens.get(params.get("pubsub_token")) == params.get("user_id")
                        and params.get("account_id") == ACCOUNT_ID
                    )
                    if ok:  # else: find_by! raises server-side, nothing is sent (NOTES §5)
                        self.subscribed.append((ws, ident))
                        self.users[ws] = params["user_id"]
                        await ws.send(
                            json.dumps({"identifier": ident, "type": "confirm_subscription"})
                        )
                        self.confirmed.set()
                elif frame["command"] == "message":
                    assert json.loads(frame["data"]) == {"action": "update_presence"}
                    self.presence.append(ident)
        finally:
            pinger.cancel()
            self.subscribed = [(w, i) for w, i in self.subscribed if w is not ws]

    async def _ping(self, ws: ServerConnection) -> None:
        while True:
            await asyncio.sleep(self.ping_every)
            await ws.send(json.dumps({"type": "ping", "message": int(time.time())}))

    async def broadcast(self, event: str, data: dict[str, Any]) -> None:
        for ws, ident in list(self.subscribed):
            await ws.send(
                json.dumps({"identifier": ident, "message": {"event": event, "data": data}})
            )

    async def drop_all(self) -> None:
        self.confirmed.clear()
        for ws, _ in list(self.subscribed):
            await ws.close()


@asynccontextmanager
async def cable(
    fake: FakeChatwoot, **backend_options: Any
) -> AsyncIterator[tuple[CableFake, ChatwootBackend]]:
    server_state = CableFake(fake)
    deliver = server_state.attach()
    async with serve(
        server_state.handler, "127.0.0.1", 0, subprotocols=[Subprotocol("actioncable-v1-json")]
    ) as server:
        port = server.sockets[0].getsockname()[1]
        options: dict[str, Any] = {
            "transport": fake.transport(),
            "cable_url": f"ws://127.0.0.1:{port}/cable",
            "backoff_base": 0.05,
            "backoff_cap": 0.2,
            "stale_after": 2.0,
            "subscribe_timeout": 1.0,
            "send_presence": False,
        }
        options.update(backend_options)
        backend = ChatwootBackend(BASE, options.pop("token", TOKEN), ACCOUNT_ID, **options)
        try:
            yield server_state, backend
        finally:
            await backend.aclose()
            deliver.cancel()


async def until(predicate: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def next_event(it: AsyncIterator[m.Event], timeout: float = 5.0) -> m.Event:
    return await asyncio.wait_for(anext(it), timeout)
