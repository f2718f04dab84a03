"""WebSocket ``/api/v1/stream``: resumable, per-role filtered event stream.

Protocol (see ``docs/protocol.md`` §11):

1. Connect with ``Authorization: Bearer <token>`` (or ``?token=``).  A bad token is
   refused during the handshake with HTTP 401 (JSON error body); too many handshakes
   from one token (or one IP without a valid token) get 429 with ``Retry-After``.
2. Client sends ``{"type": "hello", "resume_after": n | null}``.  Any other
   ``resume_after`` (negative, text, fraction, boolean) is answered with an
   ``{"type": "error", ...}`` frame and close code 1008.
3. Server answers ``{"type": "welcome", "last_seq": L, "role": ...}`` and replays
   the events with ``n < seq <= L`` that the caller may see (typing events are not
   replayed: they are stale), or ``{"type": "reset", "last_seq": L}`` when ``n``
   is older than the retained log or newer than ``L`` (the client re-syncs
   over REST and continues from ``L``).  ``resume_after: null`` = welcome, no replay.
4. Live events ``{"seq", "type", "at", "data"}`` follow, with ``seq > L``.
5. Server sends ``{"type": "ping"}`` every ``heartbeat_seconds``; clients may
   answer ``pong``.  A client ``{"type": "ping"}`` gets ``{"type": "pong"}``.

No gap, no duplicate: the subscriber is registered, and ``L`` read from the hub's
last published ``seq``, in one synchronous step on the event-loop thread.  Events
are published on that thread in commit order, so every event with ``seq > L``
reaches the subscriber and none ``<= L`` does.

Flow control (bounded memory per reader, no event ever dropped):

* Each subscriber holds at most :data:`QUEUE_LIMIT` events and
  :data:`QUEUE_BYTES` bytes of event data.  When a publish would exceed either,
  the subscriber's queue is **cleared** (its memory freed) and it is marked
  *behind*; its stream then catches up from the ``events`` table by cursor (the
  highest ``seq`` it has handled), in pages, and returns to live delivery once
  it has caught up.  Nothing is skipped: the table holds every committed event.
  If the cursor has fallen out of the retained log the stream closes with 1013
  and the client's resume gets ``reset``.
* Every wake-up drains all ready events and sends them back to back.
* A send that does not complete within ``send_timeout`` (the reader stopped
  reading and the socket buffers are full) closes the stream with 1013; the
  connection is aborted if the close frame cannot be delivered either (see
  :mod:`console.server.protocols`), which frees its buffers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from console.server.api import Principal
from console.server.db import Database, PendingEvent, frame
from console.server.errors import ApiError, error_response

log = logging.getLogger("console.server.stream")

QUEUE_LIMIT = 10_000
"""Events a subscriber may hold before it is switched to catch-up from the table."""
QUEUE_BYTES = 2 * 1024 * 1024
"""Bytes of event data a subscriber may hold before it is switched to catch-up."""
CATCH_UP_PAGE = 500
"""Rows read from the events table per catch-up query."""
SEND_BATCH_BYTES = 256 * 1024
"""Frames sent per send-timeout window (a wake-up sends several such batches)."""
MAX_CLIENT_FRAME = 64 * 1024
"""Client frames are tiny (hello, ping); a bigger one closes the stream with 1009."""
HELLO_TIMEOUT = 60.0
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


class Subscriber:
    """One stream's bounded queue of published events."""

    __slots__ = ("behind", "events", "nbytes", "wake")

    def __init__(self) -> None:
        self.events: deque[PendingEvent] = deque()
        self.nbytes = 0
        self.behind = False
        self.wake = asyncio.Event()

    def take(self) -> list[PendingEvent]:
        events = list(self.events)
        self.events.clear()
        self.nbytes = 0
        self.wake.clear()
        return events


class Hub:
    """Fan-out of committed events to connected streams."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.subscribers: set[Subscriber] = set()
        self.last_seq = db.last_seq()
        self.overflows = 0
        db.subscribers.append(self.publish)

    def publish(self, events: list[PendingEvent]) -> None:
        """Called on the event-loop thread after each commit, in commit order."""
        if not events:
            return
        self.last_seq = max(self.last_seq, events[-1].seq)
        size = 0
        for event in events:
            size += len(event.data) + 64
        for sub in self.subscribers:
            if not sub.behind:
                sub.events.extend(events)
                sub.nbytes += size
                if len(sub.events) > QUEUE_LIMIT or sub.nbytes > QUEUE_BYTES:
                    # Too slow a reader: free its queue; it catches up from the table.
                    sub.events.clear()
                    sub.nbytes = 0
                    sub.behind = True
                    self.overflows += 1
                    log.info(
                        "stream reader fell behind at seq %d; catching up from the log",
                        events[0].seq,
                    )
            sub.wake.set()

    def stats(self) -> list[dict[str, Any]]:
        return [
            {"queued_events": len(s.events), "queued_bytes": s.nbytes, "behind": s.behind}
            for s in self.subscribers
        ]


class _Refuse(Exception):
    """Close the stream with ``code``/``reason`` (after an optional error frame)."""

    def __init__(self, code: int, reason: str, error: dict[str, Any] | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.error = error


async def stream_endpoint(
    websocket: WebSocket,
    *,
    authenticate: Callable[[str | None], Principal | None],
    hub: Hub,
    heartbeat_seconds: float,
    rate_check: Callable[[str], None] | None = None,
    send_timeout: float = 10.0,
) -> None:
    token = None
    header = websocket.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    token = token or websocket.query_params.get("token")
    principal = authenticate(token)
    if rate_check is not None:
        client = websocket.client.host if websocket.client else "unknown"
        try:
            rate_check(principal.key if principal else "ip:" + client)
        except ApiError as exc:
            await websocket.send_denial_response(
                error_response(exc.status, exc.code, exc.message, exc.headers)
            )
            return
    if principal is None:
        await websocket.send_denial_response(
            error_response(401, "unauthorized", "Missing or invalid token; sign in again.")
        )
        return
    await websocket.accept()
    try:
        await _serve(websocket, principal, hub, heartbeat_seconds, send_timeout)
    except (WebSocketDisconnect, OSError):
        pass  # the client went away (uvicorn raises ClientDisconnected, an OSError, on send)
    except _Refuse as refuse:
        with contextlib.suppress(Exception):
            if refuse.error is not None:
                await asyncio.wait_for(
                    websocket.send_text(json.dumps({"type": "error", "error": refuse.error})), 1
                )
            await websocket.close(code=refuse.code, reason=refuse.reason)
    except RuntimeError:
        pass  # send after the client's close


async def _receive_json(websocket: WebSocket) -> dict[str, Any] | None:
    """Next JSON object from the client; ``None`` for frames that are not one.

    A frame that is too big or that the decoder cannot handle (nesting too deep)
    closes the stream: it is an attack or a broken client, not a stray frame.
    """
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000))
    text = message.get("text")
    if text is None:
        text = (message.get("bytes") or b"").decode("utf-8", "replace")
    if len(text) > MAX_CLIENT_FRAME:
        log.warning("stream: closing, client frame of %d characters is too big", len(text))
        raise _Refuse(1009, "frame too big")
    try:
        value = json.loads(text)
    except RecursionError:
        log.warning("stream: closing, client frame nests too deeply to decode")
        raise _Refuse(1007, "frame nests too deeply") from None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _resume_point(msg: dict[str, Any]) -> int | None:
    raw = msg.get("resume_after")
    if raw is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
        return raw
    log.info("stream: refusing hello with resume_after=%.40r", raw)
    raise _Refuse(
        1008,
        "bad hello",
        {
            "code": "bad_request",
            "message": "resume_after must be null or a whole number >= 0 "
            "(the highest seq you processed).",
        },
    )


async def _serve(
    websocket: WebSocket, principal: Principal, hub: Hub, heartbeat: float, send_timeout: float
) -> None:
    lock = asyncio.Lock()

    async def send(text: str) -> None:
        async with lock:  # the receive loop answers pings concurrently
            async with asyncio.timeout(send_timeout):
                await websocket.send_text(text)

    async def send_many(frames: list[str]) -> None:
        """Send back to back; each batch of about SEND_BATCH_BYTES must go out in time."""
        async with lock:
            i = 0
            while i < len(frames):
                budget = 0
                async with asyncio.timeout(send_timeout):
                    while i < len(frames) and budget < SEND_BATCH_BYTES:
                        budget += len(frames[i])
                        await websocket.send_text(frames[i])
                        i += 1

    # Wait for hello (answer pings meanwhile).
    try:
        async with asyncio.timeout(HELLO_TIMEOUT):
            while True:
                msg = await _receive_json(websocket)
                if msg is None:
                    continue
                if msg.get("type") == "ping":
                    await send('{"type":"pong"}')
                    continue
                if msg.get("type") == "hello":
                    resume_after = _resume_point(msg)
                    break
    except TimeoutError:
        raise _Refuse(1008, "send hello first") from None
    sub = Subscriber()
    # --- synchronous section: register + read the log position, no await in between.
    hub.subscribers.add(sub)
    last = hub.last_seq
    # ---
    try:
        await _deliver(
            websocket, principal, hub, sub, last, resume_after, heartbeat, send, send_many
        )
    except TimeoutError:
        log.info("stream: reader stalled for %.0f s, closing with 1013", send_timeout)
        raise _Refuse(1013, "reader stalled; resume from your last seq") from None
    finally:
        hub.subscribers.discard(sub)


async def _deliver(
    websocket: WebSocket,
    principal: Principal,
    hub: Hub,
    sub: Subscriber,
    last: int,
    resume_after: int | None,
    heartbeat: float,
    send: Callable[[str], Awaitable[None]],
    send_many: Callable[[list[str]], Awaitable[None]],
) -> None:
    db = hub.db
    reset = resume_after is not None and (resume_after > last or resume_after < db.pruned_through())
    cursor = last  # highest seq handled (sent or filtered out)
    if reset:
        await send(json.dumps({"type": "reset", "last_seq": last}))
    else:
        await send(json.dumps({"type": "welcome", "last_seq": last, "role": principal.role}))
        if resume_after is not None:
            await _replay(send_many, principal, db, resume_after, last)
    receiver = asyncio.create_task(_receive_loop(websocket, send))
    try:
        while not receiver.done():
            if sub.behind:
                # Cleared on overflow: everything after the cursor is in the table.
                sub.behind = False
                sub.take()
                target = hub.last_seq
                if cursor < db.pruned_through():
                    raise _Refuse(1013, "too far behind; resume from your last seq")
                await _replay(send_many, principal, db, cursor, target)
                cursor = max(cursor, target)
                continue
            if sub.events:
                frames: list[str] = []
                for event in sub.take():
                    if event.seq <= cursor:
                        continue
                    cursor = event.seq
                    if visible(
                        principal, event.type, event.customer_id, event.public, event.actor_id
                    ):
                        frames.append(event.frame)
                if frames:
                    await send_many(frames)
                continue
            waiter = asyncio.ensure_future(sub.wake.wait())
            done, _ = await asyncio.wait(
                {waiter, receiver}, timeout=heartbeat, return_when=asyncio.FIRST_COMPLETED
            )
            if waiter not in done:
                waiter.cancel()
                if receiver in done:
                    break
                await send('{"type":"ping"}')
    finally:
        receiver.cancel()
        with contextlib.suppress(BaseException):
            await receiver
    if receiver.done() and not receiver.cancelled():
        exc = receiver.exception()
        if isinstance(exc, (_Refuse, TimeoutError)):
            raise exc


async def _replay(
    send_many: Callable[[list[str]], Awaitable[None]],
    principal: Principal,
    db: Database,
    after: int,
    upto: int,
) -> None:
    """Send the visible events with ``after < seq <= upto`` from the table (no typing)."""
    cursor = after
    while cursor < upto:
        rows = db.events_between(cursor, upto, CATCH_UP_PAGE)
        if not rows:
            break
        frames: list[str] = []
        for r in rows:
            cursor = int(r["seq"])
            if r["type"] == "typing":
                continue
            if visible(principal, r["type"], r["customer_id"], bool(r["public"]), r["actor_id"]):
                frames.append(frame(r["seq"], r["type"], r["at"], r["data"]))
        if frames:
            await send_many(frames)


async def _receive_loop(websocket: WebSocket, send: Callable[[str], Awaitable[None]]) -> None:
    """Answer client pings until the client goes away."""
    while True:
        msg = await _receive_json(websocket)
        if msg is not None and msg.get("type") == "ping":
            await send('{"type":"pong"}')
