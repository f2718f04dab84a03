"""uvicorn protocol classes with the timeouts uvicorn itself does not have.

* :class:`TimedH11Protocol` closes a connection whose request **headers** do not
  arrive complete within ``header_timeout`` seconds (uvicorn's h11 protocol has
  only a keep-alive timeout, which any byte cancels, so a client trickling one
  header byte at a time could hold a connection forever).  Request *bodies* are
  timed in the app (``console.server.app.RequestGuard``), which can answer 408.
* :class:`AbortingWebSocketProtocol` never lets a ``close`` wait behind a reader
  that stopped reading: the close frame is queued at once and, if the peer has
  not completed the closing handshake within ``close_timeout``, the connection
  is **aborted** (``transport.abort()``) rather than closed, because closing a
  transport waits until its buffer drains, which a stalled reader never lets happen.

Both subclass uvicorn internals (uvicorn 0.55, h11 and websockets-sansio); the
tests in ``tests/server/test_flow_control.py`` cover them against a real server.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

STREAM_CLOSE_TIMEOUT = 5.0


def timed_h11(header_timeout: float) -> type[H11Protocol]:
    class TimedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm_header_timer()

        def data_received(self, data: bytes) -> None:
            if self.conn.their_state is h11.IDLE:
                self._arm_header_timer()
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_timer()
            super().connection_lost(exc)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._disarm_header_timer()  # the keep-alive timer takes over

        def _arm_header_timer(self) -> None:
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(header_timeout, self._header_timeout)

        def _disarm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timeout(self) -> None:
            self._header_timer = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.logger.info("Request headers not received in %.0f s; closing", header_timeout)
                self.transport.abort()

    return TimedH11Protocol


class AbortingWebSocketProtocol(WebSocketsSansIOProtocol):
    stream_close_timeout: float = STREAM_CLOSE_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.close_timeout = self.stream_close_timeout

    async def send(self, message: Any) -> None:
        if message["type"] == "websocket.close" and self.handshake_complete:
            self.writable.set()  # queue the close frame even behind a full buffer
            await super().send(message)
            if self.close_timer is not None:
                self.close_timer.cancel()
                self.close_timer = self.loop.call_later(self.close_timeout, self._abort)
            return
        await super().send(message)

    def _abort(self) -> None:
        if not self.transport.is_closing() or self.transport.get_write_buffer_size():
            self.transport.abort()


def aborting_websocket(close_timeout: float) -> type[AbortingWebSocketProtocol]:
    """:class:`AbortingWebSocketProtocol` with its own ``close_timeout`` (seconds)."""
    return type(
        "AbortingWebSocketProtocol",
        (AbortingWebSocketProtocol,),
        {"stream_close_timeout": close_timeout},
    )
