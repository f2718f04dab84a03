"""Link-state plumbing shared by backends that run their own event stream.

The native, Chatwoot and Matrix backends all keep a connection state with
callbacks, feed one queue of events from a background stream task, send
through a persistent outbox and close the same set of resources in the same
order; this base holds that once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from console.backends.base import (
    Backend,
    BackendError,
    ConnectionPhase,
    ConnectionState,
    UnsentMessage,
)
from console.core.outbox import Outbox, OutboxClosed, OutboxFailed
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

    # ----------------------------------------------------------------- outbox
    async def _send_through_outbox(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        """Send via the (started) outbox; a failed entry with this client id is retried."""
        outbox = self._outbox
        assert outbox is not None
        if any(u.entry.client_id == message.client_id for u in outbox.failed()):
            await outbox.retry(message.client_id)  # the UI's "retry" on a failed message
        try:
            return await outbox.send(conversation_id, message)
        except OutboxFailed as exc:
            raise BackendError(str(exc), code=exc.code) from exc
        except OutboxClosed as exc:
            raise BackendError(str(exc), code="queued") from exc

    async def unsent(self) -> list[UnsentMessage]:
        """Pending and refused outbox entries, in the order they were typed."""
        outbox = self._outbox
        if outbox is None:
            return []
        reasons = {u.entry.client_id: u.reason for u in outbox.failed()}
        entries = [*outbox.pending(), *(u.entry for u in outbox.failed())]
        entries.sort(key=lambda entry: entry.enqueued_at)
        return [
            UnsentMessage(
                conversation_id=entry.conversation_id,
                client_id=entry.client_id,
                body=entry.body,
                internal=entry.internal,
                failed=entry.client_id in reasons,
                reason=reasons.get(entry.client_id, ""),
            )
            for entry in entries
        ]

    async def delivery(self, client_id: str) -> m.Message:
        if self._outbox is None:
            return await super().delivery(client_id)
        try:
            return await self._outbox.delivery(client_id)
        except OutboxFailed as exc:
            raise BackendError(str(exc), code=exc.code) from exc
        except OutboxClosed as exc:
            raise BackendError(str(exc), code="queued") from exc

    async def discard_unsent(self, client_id: str) -> None:
        if self._outbox is not None:
            await self._outbox.dismiss(client_id)
