"""Native backend: our REST API over httpx and our event stream over websockets.

What this module promises the UI (see ``docs/backends.md``):

* Every REST answer is decoded with msgspec into ``console.protocol.models``;
  every failure becomes a :class:`BackendError` whose text is a sentence the
  UI can show (the server's ``error.message`` when it sent one).  401 (and 403
  on ``/me`` or on the stream handshake) is fatal: :class:`AuthError`, phase
  ``AUTH_FAILED``, no more retries.  403 ``read_only`` is a plain BackendError.
* 429 honours ``Retry-After``: idempotent calls (GET/PUT/DELETE, typing, read
  marks, sends — the server dedupes on ``client_id``) wait and retry; other
  calls raise :class:`RateLimitedError` saying when to try again.
* :meth:`NativeBackend.events` is one stream across reconnects: hello with
  ``resume_after``, replay, live events; ``seq`` never repeats or goes
  backwards and ``message.created`` is deduplicated by message id.  On
  ``reset`` it re-syncs over REST and yields one synthetic
  ``client.resync`` event (:class:`console.protocol.models.Resync`).
* Reconnect loop with jittered exponential backoff (cap 30 s), including
  after a server closes right after the handshake (the backoff only resets
  after a connection stayed healthy); heartbeats detect dead links.
* ``send_message`` goes through the persistent :class:`~console.core.outbox.Outbox`
  when ``outbox_path`` is set.

httpx and websockets are imported inside functions: ~90 ms that the UI should
not pay before its first frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import msgspec

from console.backends._streaming import (
    RateLimitedError,
    ReconnectAfter,
    StreamAuthFailed,
    StreamingBackend,
    parse_retry_after,
    retry_rate_limited,
)
from console.backends.base import (
    AuthError,
    BackendError,
    Capability,
    ConnectionPhase,
    ConnectionState,
)
from console.core.backoff import Backoff
from console.core.outbox import Fail, Pause, Retry, Verdict
from console.protocol import limits
from console.protocol import models as m

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

T = TypeVar("T")

RESYNC_EVENT = m.RESYNC_EVENT_TYPE
_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_MAX_RETRY_AFTER = 30.0  # longer server waits are reported instead of slept through
_SEEN_MESSAGE_IDS = 20_000


def _split_base_url(base_url: str) -> tuple[str, str]:
    """(API root "http://h:p/api/v1", stream URL "ws://h:p/api/v1/stream")."""
    base = base_url.strip().rstrip("/")
    if base.endswith(limits.API_PREFIX):
        base = base[: -len(limits.API_PREFIX)]
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"Server address {base_url!r} is not an http:// or https:// URL. "
            "Use something like http://127.0.0.1:8765."
        )
    api = base + limits.API_PREFIX
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    ws = urlunsplit((ws_scheme, parts.netloc, parts.path + limits.API_PREFIX + "/stream", "", ""))
    return api, ws


def _seg(value: str) -> str:
    """One URL path segment (ids come from the server, but never trust them in a path)."""
    return quote(value, safe="")


_DEFAULT_SENTENCES: dict[int, str] = {
    400: "The server refused the request as invalid.",
    401: "The server did not accept your token. Sign in again with a valid token.",
    403: "Your account is not allowed to do that.",
    404: "That item was not found on the server; it may have been deleted.",
    409: "That change conflicts with the current state; refresh and try again.",
    413: "That is too large for the server.",
    429: "The server is rate limiting this console; wait a moment and try again.",
}


class NativeBackend(StreamingBackend):
    """Backend for the agent-console reference server (and any server speaking its protocol).

    ``base_url``: ``http(s)://host:port`` (a trailing ``/api/v1`` is accepted).
    ``outbox_path``: JSON-lines file of the persistent outbox (one per server
    and user); ``None`` sends directly.  ``timeout``: seconds per request and
    for the stream handshake.  ``backoff_base``/``backoff_cap``: reconnect and
    resend delays; the backoff resets after a connection stayed up
    ``stable_after`` seconds.  ``heartbeat``: ping interval; nothing heard for
    ``2 * heartbeat + timeout`` seconds means a dead link.  ``resume_after``:
    stream position to resume from (a ``seq`` saved by an earlier session).
    ``event_hooks``/``transport`` go to ``httpx.AsyncClient`` (tests, proxies).
    """

    name = "native"
    capabilities: frozenset[Capability] = frozenset(Capability)

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        outbox_path: Path | str | None = None,
        timeout: float = 10.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        stable_after: float = 10.0,
        heartbeat: float = limits.HEARTBEAT_SECONDS,
        max_429_retries: int = 5,
        resume_after: int | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        transport: Any = None,
    ) -> None:
        self.base_url = base_url
        self._api, self._ws_url = _split_base_url(base_url)
        self._token = token
        self._timeout = timeout
        Backoff(backoff_base, backoff_cap)  # validate now, not inside the stream task
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._stable_after = stable_after
        self._heartbeat = heartbeat
        self._max_429_retries = max_429_retries
        self._event_hooks = dict(event_hooks or {})
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._state = ConnectionState(ConnectionPhase.OFFLINE)
        self._me: m.Me | None = None
        self._closed = False
        self._auth_failed = False
        # Event stream state.
        self._last_seq: int | None = resume_after
        self._resync_on_welcome = False  # our resume point was refused (error frame + 1008)
        self._welcome_seq: int | None = None  # resume point before the first event
        self._seen_messages: OrderedDict[str, None] = OrderedDict()
        self._events: asyncio.Queue[m.Event | None] | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._ws: Any = None
        self._bg_close: asyncio.Future[None] | None = None
        # Outbox.
        self._open_outbox(
            outbox_path, self._post_message_once, backoff_base=backoff_base, backoff_cap=backoff_cap
        )

    # ================================================================ state

    @property
    def last_seq(self) -> int | None:
        """Highest stream ``seq`` handed to the consumer (resume point)."""
        return self._last_seq

    def _on_fatal_auth(self) -> None:
        if self._ws is not None:
            # A live stream would keep going with a revoked token: end it now.
            self._bg_close = asyncio.ensure_future(self._ws.close(code=1000, reason="auth failed"))

    # ================================================================ HTTP

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx  # deferred: ~57 ms at import

            from console import __version__

            self._client = httpx.AsyncClient(
                base_url=self._api,
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Accept": "application/json",
                    "User-Agent": f"agent-console/{__version__}",
                },
                timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 5.0)),
                limits=httpx.Limits(
                    max_connections=32, max_keepalive_connections=16, keepalive_expiry=30.0
                ),
                http1=True,
                http2=False,
                event_hooks=self._event_hooks,
                transport=self._transport,
            )
        return self._client

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        files: Any = None,
        idempotent: bool | None = None,
        retry_429: bool = True,
    ) -> httpx.Response:
        """Send one call; raise BackendError with a sentence on any failure."""
        import httpx

        if self._closed:
            raise BackendError("The console is disconnecting; try again after it reconnects.")
        if idempotent is None:
            idempotent = method in _IDEMPOTENT_METHODS
        content = msgspec.json.encode(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self._http().request(
                    method,
                    path,
                    params={k: v for k, v in (params or {}).items()} or None,
                    content=content,
                    files=files,
                    headers=headers,
                )
            except httpx.TimeoutException as exc:
                raise BackendError(
                    f"The server at {self.base_url} did not answer within {self._timeout:g} s. "
                    "Check your network; the console keeps trying to reconnect.",
                    code="timeout",
                ) from exc
            except httpx.TransportError as exc:
                raise BackendError(
                    f"Cannot reach the server at {self.base_url}. Check that it is running and "
                    "that your network is up; the console keeps trying to reconnect.",
                    code="unreachable",
                ) from exc
            if response.status_code < 400:
                return response
            error = self._error_from(response, path)
            if (
                retry_429
                and idempotent
                and await retry_rate_limited(
                    error,
                    attempt,
                    max_attempts=self._max_429_retries,
                    max_wait=_MAX_RETRY_AFTER,
                    what=f"{method} {path}",
                )
            ):
                continue
            raise error

    def _error_from(self, response: httpx.Response, path: str) -> BackendError:
        status = response.status_code
        code = f"http_{status}"
        message = ""
        with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
            detail = msgspec.json.decode(response.content, type=m.ErrorBody).error
            code, message = _clean(detail.code)[:64], _clean(detail.message)
        if len(message) > 500:
            message = message[:500] + "…"
        from_server = bool(message)
        if not message:
            if status >= 500:
                message = (
                    f"The server had an internal error ({status}). Try again; if it keeps "
                    "happening, tell whoever runs the server."
                )
            else:
                message = _DEFAULT_SENTENCES.get(
                    status, f"The server refused the request ({status})."
                )
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if not from_server:
                message = f"{message} Try again in {max(1, round(retry_after))} s."
            return RateLimitedError(message, retry_after=retry_after, code=code)
        if status == 401:
            self._fatal_auth(message)
            return AuthError(message, code=code, status=status)
        if status == 403:
            if code == "read_only":
                return BackendError(message, code=code, status=status)
            if path == "/me":
                self._fatal_auth(message)
            return AuthError(message, code=code, status=status)
        return BackendError(message, code=code, status=status)

    def _decode(self, response: httpx.Response, kind: type[T]) -> T:
        try:
            return msgspec.json.decode(response.content, type=kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise BackendError(
                f"The server sent an answer the console cannot read ({exc}). "
                "The server may run a different version; update one of them.",
                code="bad_response",
            ) from exc

    async def _get(self, path: str, kind: type[T], params: Mapping[str, Any] | None = None) -> T:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self._decode(await self._request("GET", path, params=clean), kind)

    async def _call(
        self,
        method: str,
        path: str,
        kind: type[T],
        body: Any = None,
        *,
        idempotent: bool | None = None,
    ) -> T:
        response = await self._request(method, path, body=body, idempotent=idempotent)
        return self._decode(response, kind)

    # ================================================================ lifecycle

    async def connect(self) -> m.Me:
        """``GET /me``; a 401/403 here is fatal (AUTH_FAILED). Starts the outbox for agents."""
        try:
            me = await self.me()
        except AuthError:
            raise
        except BackendError:
            # Unreachable right now: the stream loop and the outbox keep trying.
            await self._start_outbox()
            raise
        await self._start_outbox()
        return me

    async def _start_outbox(self) -> None:
        if self._outbox is None or self._outbox.started or self._closed or self._auth_failed:
            return
        if self._me is not None and self._me.role != "agent":
            # A supervisor session must never deliver what an agent queued in this file.
            return
        await self._outbox.start()

    # ================================================================ reads

    async def me(self) -> m.Me:
        self._me = await self._get("/me", m.Me)
        return self._me

    async def list_departments(self) -> list[m.Department]:
        return await self._get("/departments", list[m.Department])

    async def list_conversations(
        self,
        *,
        state: m.ConversationState | None = None,
        assignee: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.ConversationPage:
        params = {"state": state, "assignee": assignee, "cursor": cursor, "limit": limit}
        return await self._get("/conversations", m.ConversationPage, params)

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        return await self._get(f"/conversations/{_seg(conversation_id)}", m.Conversation)

    async def list_messages(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> m.MessagePage:
        params = {"before": before, "after": after, "limit": limit}
        return await self._get(
            f"/conversations/{_seg(conversation_id)}/messages", m.MessagePage, params
        )

    async def get_customer(self, customer_id: str) -> m.Customer:
        return await self._get(f"/customers/{_seg(customer_id)}", m.Customer)

    async def list_customer_notes(self, customer_id: str) -> list[m.CustomerNote]:
        return await self._get(f"/customers/{_seg(customer_id)}/notes", list[m.CustomerNote])

    async def list_customer_conversations(self, customer_id: str) -> list[m.Conversation]:
        return await self._get(
            f"/customers/{_seg(customer_id)}/conversations", list[m.Conversation]
        )

    async def list_canned_replies(self, query: str = "") -> list[m.CannedReply]:
        return await self._get("/canned-replies", list[m.CannedReply], {"q": query or None})

    async def search(self, query: str) -> m.SearchResults:
        return await self._get("/search", m.SearchResults, {"q": query})

    async def queues(self) -> m.QueuesView:
        return await self._get("/queues", m.QueuesView)

    async def history(self) -> m.HistoryView | None:
        return await self._get("/history", m.HistoryView)

    async def agents(self) -> m.AgentsView:
        return await self._get("/agents", m.AgentsView)

    async def download_attachment(self, attachment_id: str) -> bytes:
        response = await self._request("GET", f"/attachments/{_seg(attachment_id)}")
        return response.content

    # ================================================================ writes

    async def set_status(self, update: m.StatusUpdate) -> m.Me:
        self._me = await self._call("PUT", "/me/status", m.Me, update)
        return self._me

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        """Send one message (idempotent on ``message.client_id``).

        With an outbox the message is on disk before this awaits the server, and
        it is delivered even if this call is cancelled or the console restarts.
        Raises BackendError if the server refuses it for good.
        """
        if self._outbox is None:
            return await self._post_message(conversation_id, message)
        await self._start_outbox()
        if not self._outbox.started:
            raise BackendError(
                "This session cannot send messages (not signed in as an agent).",
                code="read_only",
                status=403,
            )
        return await self._send_through_outbox(conversation_id, message)

    async def _post_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        # Sends are safe to repeat: the server returns the stored message for a known client_id.
        return await self._call(
            "POST",
            f"/conversations/{_seg(conversation_id)}/messages",
            m.Message,
            message,
            idempotent=True,
        )

    async def _post_message_once(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        """One attempt for the outbox (it handles waits and retries itself)."""
        response = await self._request(
            "POST",
            f"/conversations/{_seg(conversation_id)}/messages",
            body=message,
            idempotent=True,
            retry_429=False,
        )
        return self._decode(response, m.Message)

    def _classify_send_error(self, exc: BaseException) -> Verdict:
        if (verdict := self._rate_limit_verdict(exc)) is not None:
            return verdict
        if isinstance(exc, AuthError) and exc.status == 401:
            return Pause(str(exc))
        if isinstance(exc, BackendError) and exc.code == "read_only":
            # A read-only session (role unknown while the server was down): keep the
            # entries for an agent session instead of failing them.
            return Pause(str(exc))
        if isinstance(exc, BackendError) and exc.status is not None:
            if 400 <= exc.status < 500 and exc.status not in (408, 425):
                return Fail(str(exc), exc.code)
            return Retry(reason=str(exc))
        if isinstance(exc, BackendError) and exc.code == "bad_response":
            return Retry(reason=str(exc))
        return Retry(reason=str(exc))

    async def accept(self, conversation_id: str) -> m.Conversation:
        return await self._call(
            "POST", f"/conversations/{_seg(conversation_id)}/accept", m.Conversation
        )

    async def transfer(self, conversation_id: str, request: m.TransferRequest) -> m.Conversation:
        return await self._call(
            "POST", f"/conversations/{_seg(conversation_id)}/transfer", m.Conversation, request
        )

    async def close(self, conversation_id: str, request: m.CloseRequest) -> m.Conversation:
        return await self._call(
            "POST", f"/conversations/{_seg(conversation_id)}/close", m.Conversation, request
        )

    async def set_typing(self, conversation_id: str, typing: bool) -> None:
        await self._request(
            "POST",
            f"/conversations/{_seg(conversation_id)}/typing",
            body=m.TypingRequest(typing=typing),
            idempotent=True,
        )

    async def mark_read(self, conversation_id: str) -> None:
        await self._request("POST", f"/conversations/{_seg(conversation_id)}/read", idempotent=True)

    async def upload_attachment(
        self, filename: str, content: bytes, content_type: str | None = None
    ) -> m.Attachment:
        if len(content) > limits.MAX_ATTACHMENT_BYTES:
            raise BackendError(
                f"'{filename}' is {len(content) / 1e6:.1f} MB; the limit is "
                f"{limits.MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB. Send a smaller file.",
                code="too_large",
                status=413,
            )
        files = {"file": (filename, content, content_type or "application/octet-stream")}
        response = await self._request("POST", "/attachments", files=files)
        return self._decode(response, m.Attachment)

    async def set_customer_tags(self, customer_id: str, tags: list[str]) -> m.Customer:
        return await self._call(
            "PUT", f"/customers/{_seg(customer_id)}/tags", m.Customer, m.TagsUpdate(tags=tags)
        )

    async def list_follow_ups(self, assignee: str = "me") -> list[m.FollowUp]:
        return await self._get("/follow-ups", list[m.FollowUp], {"assignee": assignee})

    async def list_customer_follow_ups(self, customer_id: str) -> list[m.FollowUp]:
        return await self._get(f"/customers/{_seg(customer_id)}/follow-ups", list[m.FollowUp])

    async def create_follow_up(self, conversation_id: str, request: m.FollowUpCreate) -> m.FollowUp:
        return await self._call(
            "POST", f"/conversations/{_seg(conversation_id)}/follow-ups", m.FollowUp, request
        )

    async def complete_follow_up(self, follow_up_id: str) -> m.FollowUp:
        return await self._call("POST", f"/follow-ups/{_seg(follow_up_id)}/done", m.FollowUp)

    async def escalate(self, conversation_id: str, request: m.EscalateRequest) -> m.Conversation:
        return await self._call(
            "POST", f"/conversations/{_seg(conversation_id)}/escalate", m.Conversation, request
        )

    async def add_customer_note(self, customer_id: str, body: str) -> m.CustomerNote:
        return await self._call(
            "POST",
            f"/customers/{_seg(customer_id)}/notes",
            m.CustomerNote,
            m.NoteCreate(body=body),
        )

    async def create_canned_reply(self, reply: m.CannedReplyCreate) -> m.CannedReply:
        return await self._call("POST", "/canned-replies", m.CannedReply, reply)

    # ================================================================ event stream

    def _emit_event(self, event: m.Event) -> None:
        assert self._events is not None
        self._events.put_nowait(event)

    stream_name = "native-stream"

    def _describe_disconnect(self, exc: Exception) -> str:
        return _describe_stream_error(exc)

    async def _one_connection(self) -> float | None:
        """Connect, say hello, pump frames until the link ends. Returns when it connected."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus

        assert self._stop is not None
        try:
            ws = await connect(
                self._ws_url,
                additional_headers={"Authorization": f"Bearer {self._token}"},
                open_timeout=self._timeout,
                ping_interval=self._heartbeat,
                ping_timeout=self._heartbeat,
                close_timeout=2.0,
                max_size=limits.MAX_JSON_BYTES * 4,
                proxy=None,
                user_agent_header="agent-console",
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            if status in (401, 403):
                body = exc.response.body or b""
                message = ""
                with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
                    message = _clean(msgspec.json.decode(body, type=m.ErrorBody).error.message)
                raise StreamAuthFailed(
                    message or _DEFAULT_SENTENCES[401 if status == 401 else 403]
                ) from exc
            if status == 429:
                raise ReconnectAfter(
                    parse_retry_after(exc.response.headers.get("Retry-After"))
                ) from exc
            raise
        self._ws = ws
        connected_at: float | None = None
        try:
            resume = self._last_seq if self._last_seq is not None else self._welcome_seq
            await ws.send(msgspec.json.encode(m.Hello(resume_after=resume)).decode())
            first = await asyncio.wait_for(ws.recv(), self._timeout)
            frame = _decode_frame(first)
            frame_type = frame.get("type")
            if frame_type == "welcome":
                welcome = msgspec.convert(frame, m.Welcome)
                if self._resync_on_welcome:
                    # We connected without a resume point: fetch what we may have missed.
                    self._resync_on_welcome = False
                    await self._resync(welcome.last_seq, "reset")
                elif self._last_seq is not None and welcome.last_seq < self._last_seq:
                    # The server's log is behind what we saw (restored or replaced database).
                    await self._resync(welcome.last_seq, "server_behind")
                if self._last_seq is None:
                    # Live from here: a reconnect (e.g. after 1013) before any event
                    # resumes after this point instead of starting from "now" again.
                    self._welcome_seq = welcome.last_seq
            elif frame_type == "reset":
                reset = msgspec.convert(frame, m.Reset)
                await self._resync(reset.last_seq, "reset")
            elif frame_type == "error":
                _log_error_frame(frame)
                self._refused_hello()
            else:
                raise ConnectionError(f"expected welcome or reset, got {frame_type!r}")
            connected_at = time.monotonic()
            self._set_state(ConnectionPhase.CONNECTED)
            if self._outbox is not None:
                self._outbox.wake()
            await self._pump(ws)
            return connected_at
        except Exception as exc:
            exc.connected_at = connected_at  # type: ignore[attr-defined]
            raise
        finally:
            self._ws = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2.0)

    async def _pump(self, ws: Any) -> None:
        """Read frames until the link closes; app-level pings detect a dead link."""
        last_rx = time.monotonic()
        dead_after = self._heartbeat * 2 + self._timeout

        async def heartbeat() -> None:
            ping = msgspec.json.encode(m.Ping()).decode()
            while True:
                await asyncio.sleep(self._heartbeat)
                if time.monotonic() - last_rx > dead_after:
                    log.info("stream: nothing heard for %.1f s; reconnecting", dead_after)
                    await ws.close(code=1011, reason="heartbeat timeout")
                    return
                await ws.send(ping)

        from websockets.exceptions import ConnectionClosed

        beat = asyncio.create_task(heartbeat(), name="native-heartbeat")
        error_frame: dict[str, Any] | None = None
        try:
            async for raw in ws:
                last_rx = time.monotonic()
                frame = _decode_frame(raw)
                if "seq" in frame:
                    self._on_event(frame)
                    continue
                kind = frame.get("type")
                if kind == "ping":
                    await ws.send(msgspec.json.encode(m.Pong()).decode())
                elif kind == "pong":
                    pass
                elif kind == "reset":
                    await self._resync(msgspec.convert(frame, m.Reset).last_seq, "reset")
                elif kind == "error":
                    error_frame = frame
                    _log_error_frame(frame)
                else:
                    log.debug("stream: ignoring frame type %r", kind)
        except ConnectionClosed:
            pass  # the close code decides below
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await beat
        if self._stop is not None and self._stop.is_set():
            return
        await self._after_close(ws.close_code, ws.close_reason or "", error_frame)

    def _refused_hello(self) -> NoReturn:
        """Our hello was refused (a resume point the server cannot use): start over
        without one and re-sync over REST, instead of repeating it forever."""
        self._last_seq = self._welcome_seq = None
        self._resync_on_welcome = True
        raise ConnectionError("The server refused the stream's resume point; re-syncing.")

    async def _after_close(
        self, code: int | None, reason: str, error_frame: dict[str, Any] | None
    ) -> None:
        """Decide what a close code means (docs/protocol.md §11); always raises."""
        reason = _clean(reason)[:120]
        if code == 1008 and error_frame is not None:
            self._refused_hello()
        if code == 1008:
            # Policy: the token was revoked or has expired (a reconnect would get 401).
            # Ask REST to be sure; a network error here just means "reconnect".
            status = 0
            with contextlib.suppress(Exception):
                status = (await self._http().get("/me")).status_code
            if status == 401:
                why = f" ({reason})" if reason else ""
                raise StreamAuthFailed(
                    f"The server ended the session{why}: the token was revoked or has "
                    "expired. Ask for a new token."
                )
            raise ConnectionError(f"The server closed the event stream (1008 {reason}).")
        if code == 1013:
            # The server dropped a reader that fell behind or stalled: come back soon and
            # resume after the last seq we handed out (the server replays the rest).
            log.info("stream: the server asked us to reconnect (1013 %s)", reason)
            raise ReconnectAfter(
                self._backoff_base,
                "The server asked the console to reconnect; resuming where it left off.",
            )
        if code in (1007, 1009):
            log.warning("stream: the server refused a frame we sent (%d %s)", code, reason)
        raise ConnectionError(
            f"The server closed the event stream ({code} {reason})."
            if code not in (None, 1000, 1001, 1006)
            else "The server closed the event stream."
        )

    def _on_event(self, frame: dict[str, Any]) -> None:
        try:
            event = msgspec.convert(frame, m.Event)
        except msgspec.ValidationError as exc:
            log.warning("stream: dropping malformed event: %s", exc)
            return
        if self._last_seq is not None and event.seq <= self._last_seq:
            return  # replayed twice or out of order: already handed out
        self._last_seq = event.seq
        if event.type == "message.created":
            message_id = event.data.get("id")
            if isinstance(message_id, str):
                if message_id in self._seen_messages:
                    return
                self._seen_messages[message_id] = None
                while len(self._seen_messages) > _SEEN_MESSAGE_IDS:
                    self._seen_messages.popitem(last=False)
        self._emit_event(event)

    async def _resync(self, last_seq: int, reason: str) -> None:
        """Fetch open conversations over REST and hand the store one ``client.resync`` event."""
        conversations: list[m.Conversation] = []
        for state in ("bot", "queued", "active"):
            cursor: str | None = None
            for _page in range(100):
                page = await self.list_conversations(
                    state=state, cursor=cursor, limit=limits.MAX_PAGE_SIZE
                )
                conversations.extend(page.items)
                cursor = page.next_cursor
                if not cursor:
                    break
        resync = m.Resync(reason=reason, last_seq=last_seq, conversations=conversations)
        self._last_seq = last_seq
        self._emit_event(
            m.Event(
                seq=last_seq,
                type=RESYNC_EVENT,
                at=datetime.now(UTC),
                data=msgspec.to_builtins(resync),
            )
        )


def _clean(text: str) -> str:
    """Server sentences are outside text: sanitize them before any UI shows them."""
    from console.core.sanitize import sanitize_single_line  # ~30 ms; only needed on errors

    return sanitize_single_line(text)


def _log_error_frame(frame: dict[str, Any]) -> None:
    error = frame.get("error")
    text = error.get("message") or error.get("code") if isinstance(error, dict) else None
    log.warning("stream: the server sent an error: %s", _clean(str(text or frame)[:300]))


def _decode_frame(raw: str | bytes) -> dict[str, Any]:
    try:
        frame = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ConnectionError(f"unreadable frame from the server: {exc}") from exc
    if not isinstance(frame, dict):
        raise ConnectionError("unexpected frame from the server (not a JSON object)")
    return frame


def _describe_stream_error(exc: BaseException) -> str:
    """A sentence for ConnectionState.detail."""
    if isinstance(exc, TimeoutError):
        return "The server did not answer in time."
    if isinstance(exc, ConnectionRefusedError):
        return "Cannot reach the server (connection refused)."
    if isinstance(exc, BackendError):
        return str(exc)
    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
        return "Cannot reach the server."
    return f"Connection lost: {str(exc) or type(exc).__name__}"
