"""StreamingBackend's one reconnect loop, driven through its hooks with a scripted
backend: phases, the server's delay instead of the backoff, fatal auth, 429 verdicts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from console.backends._streaming import (
    RateLimitedError,
    ReconnectAfter,
    StreamAuthFailed,
    StreamingBackend,
)
from console.backends.base import AuthError, ConnectionPhase, ConnectionState
from console.core.outbox import Retry
from console.protocol import models as m


class Scripted(StreamingBackend):
    """Each connection runs the next step: a callable that returns or raises."""

    def __init__(self, steps: list[Callable[[], Any]], *, fatal: bool = True) -> None:
        self._state = ConnectionState(ConnectionPhase.OFFLINE)
        self._closed = False
        self._stop = None
        self._ws = None
        self._stream_task = None
        self._events = None
        self._outbox = None
        self._client = None
        self._auth_failed = False
        self._backoff_base = 0.01
        self._backoff_cap = 0.02
        self._stable_after = 60.0
        self._steps = steps
        self._fatal = fatal
        self.phases: list[tuple[ConnectionPhase, str]] = []
        self.on_connection_change(lambda s: self.phases.append((s.phase, s.detail)))

    async def _one_connection(self) -> float | None:
        if not self._steps:
            await asyncio.Event().wait()  # stay connected
        result = self._steps.pop(0)()
        return result if isinstance(result, float) else None

    def _auth_error_is_fatal(self, exc: AuthError) -> bool:
        return self._fatal

    # The REST side is not under test.
    async def connect(self) -> m.Me:
        raise NotImplementedError

    async def me(self) -> m.Me:
        raise NotImplementedError

    async def list_conversations(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        raise NotImplementedError

    async def list_messages(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        raise NotImplementedError


def raise_(exc: BaseException) -> Callable[[], Any]:
    def step() -> Any:
        raise exc

    return step


async def run_until_end(backend: Scripted) -> list[m.Event]:
    return [event async for event in backend.events()]


async def test_retry_after_replaces_the_backoff_then_auth_failure_ends_the_stream() -> None:
    backend = Scripted(
        [
            raise_(ConnectionError("refused")),
            raise_(ReconnectAfter(0.05, "The server is busy (rate limited).")),
            raise_(StreamAuthFailed("token revoked")),
        ]
    )
    await asyncio.wait_for(run_until_end(backend), 10)
    assert [phase for phase, _ in backend.phases] == [
        ConnectionPhase.CONNECTING,
        ConnectionPhase.RECONNECTING,
        ConnectionPhase.RECONNECTING,
        ConnectionPhase.AUTH_FAILED,
    ]
    assert backend.phases[2][1] == "The server is busy (rate limited)."
    assert backend.phases[3][1] == "token revoked"
    await backend.aclose()
    assert backend.connection.phase == ConnectionPhase.AUTH_FAILED  # not OFFLINE


@pytest.mark.parametrize("fatal", [True, False])
async def test_an_auth_error_is_fatal_only_when_the_backend_says_so(fatal: bool) -> None:
    backend = Scripted([raise_(AuthError("forbidden", status=403))], fatal=fatal)
    events = asyncio.ensure_future(run_until_end(backend))
    for _ in range(200):
        if len(backend.phases) >= 2:
            break
        await asyncio.sleep(0.01)
    assert backend.phases[1][0] == (
        ConnectionPhase.AUTH_FAILED if fatal else ConnectionPhase.RECONNECTING
    )
    await backend.aclose()
    assert await asyncio.wait_for(events, 5) == []


def test_a_429_tells_the_outbox_how_long_to_wait() -> None:
    verdict = StreamingBackend._rate_limit_verdict(
        RateLimitedError("slow down", retry_after=7.0, code="M_LIMIT_EXCEEDED")
    )
    assert isinstance(verdict, Retry) and verdict.after == 7.0
    assert StreamingBackend._rate_limit_verdict(ConnectionError()) is None
