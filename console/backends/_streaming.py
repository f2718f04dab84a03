"""Link-state plumbing shared by backends that run their own event stream.

The native and Chatwoot backends both keep a connection state with
callbacks, feed one queue of events from a background stream task, and close
the same set of resources in the same order; this base holds that once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from console.backends.base import Backend, ConnectionPhase, ConnectionState
from console.core.outbox import Outbox
from console.protocol import models as m

log = logging.getLogger(__name__)


class StreamingBackend(Backend):
    """A Backend with an observable link state, an event queue and an orderly close."""

    _state: ConnectionState
    _closed: bool
    _stop: asyncio.Event | None
    _ws: Any
    _stream_task: asyncio.Task[Any] | None
    _events: asyncio.Queue[m.Event | None] | None
    _outbox: Outbox | None
    _client: Any

    @property
    def connection(self) -> ConnectionState:
        return self._state

    def _set_state(
        self, phase: ConnectionPhase, *, retry_at: float | None = None, detail: str = ""
    ) -> None:
        state = ConnectionState(phase, retry_at=retry_at, detail=detail)
        if state == self._state:
            return
        self._state = state
        for callback in list(self._connection_callbacks()):
            try:
                callback(state)
            except Exception:
                log.exception("connection-state callback failed")

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._stop is not None:
            self._stop.set()
        if self._ws is not None:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._stream_task is not None:
            self._stream_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._stream_task
        if self._events is not None:
            self._events.put_nowait(None)
        if self._outbox is not None:
            await self._outbox.aclose()
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        if self._state.phase != ConnectionPhase.AUTH_FAILED:
            self._set_state(ConnectionPhase.OFFLINE, detail="closed")

    async def _drain_events(self, queue: asyncio.Queue[m.Event | None]) -> AsyncIterator[m.Event]:
        while True:
            event = await queue.get()
            if event is None:
                queue.put_nowait(None)  # wake any other iterator too
                return
            yield event
