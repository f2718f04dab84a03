"""WebSocket ``/api/v1/stream``: resumable, per-role filtered event stream.

Protocol (see ``docs/protocol.md``):

1. Connect with ``Authorization: Bearer <token>`` (or ``?token=``).  A bad token is
   refused during the handshake with HTTP 401 (JSON error body).
2. Client sends ``{"type": "hello", "resume_after": n | null}``.
3. Server answers ``{"type": "welcome", "last_seq": L, "role": ...}`` and replays
   the events with ``n < seq <= L`` that the caller may see (typing events are not
   replayed: they are stale), or ``{"type": "reset", "last_seq": L}`` when ``n``
   is older than the retained log or newer than ``L`` (the client re-syncs
   over REST and continues from ``L``).  ``resume_after: null`` = welcome, no replay.
4. Live events ``{"seq", "type", "at", "data"}`` follow, with ``seq > L``.
5. Server sends ``{"type": "ping"}`` every ``heartbeat_seconds``; clients may
   answer ``pong``.  A client ``{"type": "ping"}`` gets ``{"type": "pong"}``.

No gap, no duplicate: the subscriber queue is registered, and ``L`` read, in one
synchronous step on the event-loop thread.  Every commit happens on that
thread, so every event with ``seq > L`` reaches the queue and none ``<= L`` does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from console.server.api import Principal
from console.server.db import Database, PendingEvent
from console.server.errors import error_response

log = logging.getLogger("console.server.stream")

QUEUE_LIMIT = 10_000
CUSTOMER_TYPES = frozenset(
    {"message.created", "conversation.created", "conversation.updated", "typing"}
)


def visible(
    principal: Principal, type: str, customer_id: str | None, public: bool, actor_id: str | None
) -> bool:
    """May ``principal`` see this event?  Nobody gets their own typing back."""
    if type == "typing" and actor_id == principal.subject_id:
        return False
    if principal.role in ("agent", "supervisor"):
        return True
    return public and customer_id == principal.subject_id and type in CUSTOMER_TYPES


def frame(seq: int, type: str, at: str, data: str) -> str:
    return f'{{"seq":{seq},"type":{json.dumps(type)},"at":"{at}","data":{data}}}'


class Hub:
    """Fan-out of committed events to connected streams."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.queues: set[asyncio.Queue[PendingEvent | None]] = set()
        db.subscribers.append(self.publish)

    def publish(self, events: list[PendingEvent]) -> None:
        for queue in list(self.queues):
            for event in events:
                try:
                    queue.put_nowait(event)
                except asyncio.QueueFull:
                    # Too slow a reader: end its stream; it resumes from its last seq.
                    self.queues.discard(queue)
                    with contextlib.suppress(asyncio.QueueFull):
                        queue.get_nowait()
                        queue.put_nowait(None)
                    break


async def stream_endpoint(
    websocket: WebSocket,
    *,
    authenticate: Callable[[str | None], Principal | None],
    hub: Hub,
    heartbeat_seconds: float,
) -> None:
    token = None
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    token = token or websocket.query_params.get("token")
    principal = authenticate(token)
    if principal is None:
        await websocket.send_denial_response(
            error_response(401, "unauthorized", "Missing or invalid token; sign in again.")
        )
        return
    await websocket.accept()
    try:
        await _serve(websocket, principal, hub, heartbeat_seconds)
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass  # the client went away (uvicorn raises ClientDisconnected, an OSError, on send)
    except TimeoutError:
        with contextlib.suppress(Exception):
            await websocket.close(code=1008, reason="send hello first")


async def _receive_json(websocket: WebSocket) -> dict[str, Any] | None:
    """Next JSON object from the client; ``None`` for frames that are not one."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        text = (message.get("bytes") or b"").decode("utf-8", "replace")
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


async def _serve(websocket: WebSocket, principal: Principal, hub: Hub, heartbeat: float) -> None:
    lock = asyncio.Lock()

    async def send(text: str) -> None:
        async with lock:  # the receive loop answers pings concurrently
            await websocket.send_text(text)

    # Wait for hello (answer pings meanwhile).
    resume_after: int | None = None
    while True:
        msg = await asyncio.wait_for(_receive_json(websocket), timeout=60)
        if msg is None:
            continue
        if msg.get("type") == "ping":
            await send('{"type":"pong"}')
            continue
        if msg.get("type") == "hello":
            raw = msg.get("resume_after")
            if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
                resume_after = raw
            break
    db = hub.db
    queue: asyncio.Queue[PendingEvent | None] = asyncio.Queue(maxsize=QUEUE_LIMIT)
    # --- synchronous section: register + read the log position, no await in between.
    hub.queues.add(queue)
    last = db.last_seq()
    reset = resume_after is not None and (resume_after > last or resume_after < db.pruned_through())
    # ---
    try:
        if reset:
            await send(json.dumps({"type": "reset", "last_seq": last}))
        else:
            await send(json.dumps({"type": "welcome", "last_seq": last, "role": principal.role}))
            if resume_after is not None:
                cursor = resume_after
                while cursor < last:
                    rows = db.all(
                        "SELECT * FROM events WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 500",
                        (cursor, last),
                    )
                    if not rows:
                        break
                    for r in rows:
                        cursor = int(r["seq"])
                        if r["type"] == "typing":
                            continue
                        if visible(
                            principal, r["type"], r["customer_id"], bool(r["public"]), r["actor_id"]
                        ):
                            await send(frame(r["seq"], r["type"], r["at"], r["data"]))
        receiver = asyncio.create_task(_receive_loop(websocket, send))
        try:
            while not receiver.done():
                getter = asyncio.ensure_future(queue.get())
                done, _ = await asyncio.wait(
                    {getter, receiver}, timeout=heartbeat, return_when=asyncio.FIRST_COMPLETED
                )
                if getter not in done:
                    getter.cancel()
                    if receiver in done:
                        break
                    await send('{"type":"ping"}')
                    continue
                event = getter.result()
                if event is None:
                    await websocket.close(code=1013, reason="too slow; resume from your last seq")
                    return
                if event.seq <= last:
                    continue
                if visible(principal, event.type, event.customer_id, event.public, event.actor_id):
                    await send(frame(event.seq, event.type, event.at, event.data))
        finally:
            receiver.cancel()
            with contextlib.suppress(BaseException):
                await receiver
    finally:
        hub.queues.discard(queue)


async def _receive_loop(websocket: WebSocket, send: Callable[[str], Awaitable[None]]) -> None:
    """Answer client pings until the client goes away."""
    while True:
        msg = await _receive_json(websocket)
        if msg is not None and msg.get("type") == "ping":
            await send('{"type":"pong"}')
