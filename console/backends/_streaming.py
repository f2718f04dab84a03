"""Link-state plumbing shared by backends that run their own event stream.

The native, Chatwoot and Matrix backends all keep a connection state with
callbacks, feed one queue of events from a background stream task, send
through a persistent outbox and close the same set of resources in the same
order; this base holds that once, and with it:

* the **reconnect loop** (:meth:`StreamingBackend._run_stream`): a backend
  supplies :meth:`~StreamingBackend._one_connection` (connect once and read
  events until the link ends); the base sets the phases (CONNECTING,
  RECONNECTING with ``retry_at``), waits a jittered exponential backoff
  (:class:`~console.core.backoff.Backoff`) that resets only after a connection
  stayed up ``stable_after`` seconds, and stops on :meth:`aclose`;
* **429 handling**: :class:`RateLimitedError` (with ``retry_after`` from
  :func:`parse_retry_after`) for REST calls, :class:`ReconnectAfter` for a
  stream the server asked to come back to later (its delay replaces the
  backoff), and :meth:`StreamingBackend._rate_limit_verdict` so the outbox waits
  what the server asked;
* **auth failure**: :class:`StreamAuthFailed` from a connection, or an
  :class:`~console.backends.base.AuthError` the backend calls fatal
  (:meth:`~StreamingBackend._auth_error_is_fatal`), ends the loop for good
  through :meth:`~StreamingBackend._fatal_auth` (phase AUTH_FAILED, outbox
  paused, the event iterator ends).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from console.backends.base import (
    AuthError,
    Backend,
    BackendError,
    ConnectionPhase,
    ConnectionState,
    UnsentMessage,
)
from console.core.backoff import Backoff
from console.core.outbox import Outbox, OutboxClosed, OutboxFailed, Retry, Verdict
from console.protocol import models as m

log = logging.getLogger(__name__)


class RateLimitedError(BackendError):
    """429 for a call we do not retry (or whose wait is too long); says when to try again."""

    def __init__(self, message: str, *, retry_after: float, code: str = "rate_limited") -> None:
        super().__init__(message, code=code, status=429)
        self.retry_after = retry_after


class StreamAuthFailed(Exception):
    """The stream's handshake was refused (401/403, revoked token): stop reconnecting."""


class ReconnectAfter(Exception):
    """The server asked us to wait (429 on the handshake) or to come back (close 1013)."""

    def __init__(self, delay: float, detail: str = "The server is busy (rate limited).") -> None:
        super().__init__(f"retry after {delay:.1f} s")
        self.delay = delay
        self.detail = detail


async def retry_rate_limited(
    error: BaseException, attempt: int, *, max_attempts: int, max_wait: float, what: str
) -> bool:
    """The one REST 429 rule: sleep ``Retry-After`` and say "try again" while the wait is
    short and attempts remain; False for anything else (the caller raises)."""
    if (
        isinstance(error, RateLimitedError)
        and attempt <= max_attempts
        and error.retry_after <= max_wait
    ):
        log.info("429 on %s; retrying in %.2f s", what, error.retry_after)
        await asyncio.sleep(error.retry_after)
        return True
    return False


def parse_retry_after(value: str | None, *, default: float = 1.0) -> float:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if not value:
        return default
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


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
    _auth_failed: bool
    _backoff_base: float
    _backoff_cap: float
    _stable_after: float

    stream_name = "stream"
    """Name of the background task and of the link in log lines."""
    closed_detail = "The server closed the connection."
    """Why the link is down when :meth:`_one_connection` returned without an error."""

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

    # ----------------------------------------------------------- event stream
    def events(self) -> AsyncIterator[m.Event]:
        """The event stream (single consumer). Starts the connection loop on first call."""
        if self._events is None:
            self._events = asyncio.Queue()
            self._stop = asyncio.Event()
            if self._auth_failed or self._closed:
                self._events.put_nowait(None)
            else:
                self._stream_task = asyncio.create_task(self._run_stream(), name=self.stream_name)
        return self._drain_events(self._events)

    async def _one_connection(self) -> float | None:
        """Connect once and read events until the link ends; the ``time.monotonic()`` at
        which it was up (``None``: it never was).

        Raise :class:`StreamAuthFailed` when the credentials are refused,
        :class:`ReconnectAfter` when the server says when to come back, anything else
        for a lost link (with a ``connected_at`` attribute if it had been up)."""
        raise NotImplementedError

    def _auth_error_is_fatal(self, exc: AuthError) -> bool:
        """Whether an :class:`AuthError` out of :meth:`_one_connection` ends the stream."""
        return True

    def _describe_disconnect(self, exc: Exception) -> str:
        """A sentence for the connection banner about a lost link."""
        return f"Connection lost: {exc or type(exc).__name__}"

    def _on_fatal_auth(self) -> None:
        """Backend-specific teardown once the credentials are refused (default: none)."""

    def _fatal_auth(self, detail: str) -> None:
        """The credentials were refused: AUTH_FAILED for good, outbox paused, stream ended."""
        self._auth_failed = True
        self._set_state(ConnectionPhase.AUTH_FAILED, detail=detail)
        if self._outbox is not None:
            self._outbox.pause(detail)
        if self._stop is not None:
            self._stop.set()
        self._on_fatal_auth()

    async def _run_stream(self) -> None:
        """Reconnect loop around :meth:`_one_connection` until closed or auth fails."""
        assert self._stop is not None
        backoff = Backoff(self._backoff_base, self._backoff_cap)
        self._set_state(ConnectionPhase.CONNECTING)
        try:
            while not self._stop.is_set():
                connected_at: float | None = None
                delay: float | None = None
                try:
                    connected_at = await self._one_connection()
                    detail = self.closed_detail
                except StreamAuthFailed as exc:
                    self._fatal_auth(str(exc))
                    return
                except ReconnectAfter as exc:
                    delay = exc.delay
                    detail = exc.detail
                except AuthError as exc:
                    if self._auth_failed:
                        return
                    if self._auth_error_is_fatal(exc):
                        self._fatal_auth(str(exc))
                        return
                    connected_at = getattr(exc, "connected_at", None)
                    detail = str(exc)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    connected_at = getattr(exc, "connected_at", None)
                    detail = self._describe_disconnect(exc)
                    log.info("%s disconnected: %s", self.stream_name, detail)
                if self._stop.is_set() or self._auth_failed:
                    return
                if (
                    connected_at is not None
                    and time.monotonic() - connected_at >= self._stable_after
                ):
                    backoff.reset()
                if delay is None:
                    delay = backoff.next_delay()
                self._set_state(
                    ConnectionPhase.RECONNECTING,
                    retry_at=time.monotonic() + delay,
                    detail=detail,
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay)
        finally:
            if self._events is not None and (self._closed or self._auth_failed):
                self._events.put_nowait(None)

    async def _drain_events(self, queue: asyncio.Queue[m.Event | None]) -> AsyncIterator[m.Event]:
        while True:
            event = await queue.get()
            if event is None:
                queue.put_nowait(None)  # wake any other iterator too
                return
            yield event

    # ----------------------------------------------------------------- outbox
    @staticmethod
    def _rate_limit_verdict(exc: BaseException) -> Verdict | None:
        """A 429 tells the outbox how long to wait (``None``: not a 429)."""
        if isinstance(exc, RateLimitedError):
            return Retry(after=exc.retry_after, reason=str(exc))
        return None

    def _classify_send_error(self, exc: BaseException) -> Verdict:
        """How the outbox treats a failed send: each backend knows its errors."""
        raise NotImplementedError

    def _open_outbox(
        self,
        path: Any,
        send_once: Any,
        *,
        backoff_base: float,
        backoff_cap: float,
    ) -> Outbox | None:
        """The persistent outbox every backend sends through (``None`` without a path)."""
        self._outbox = None
        if path is not None:
            self._outbox = Outbox(
                path,
                send_once,
                classify=self._classify_send_error,
                backoff_base=backoff_base,
                backoff_cap=backoff_cap,
            )
        return self._outbox

    @property
    def outbox(self) -> Outbox | None:
        """The persistent outbox (``None`` without ``outbox_path``); subscribe for pending/sent/failed."""
        return self._outbox

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
