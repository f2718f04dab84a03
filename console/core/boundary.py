"""The backend boundary: everything a backend returns is typed and sanitized here, once.

:class:`SanitizingBackend` wraps any :class:`~console.backends.base.Backend`
(native, Chatwoot, Matrix, a future one).  Every model a call returns, every
stream event (decoded once into a :class:`~console.core.events.TypedEvent`),
the connection state's ``detail`` and the sentence of a ``BackendError`` pass
through :mod:`console.core.sanitize` before anyone else sees them.  Features
do not have to remember a sanitize call: the wrapper is applied where the
backend is built (``cli``, ``demo``) and, defensively, by the app
(:func:`ensure_sanitized`).  ``ReadOnlyBackend`` goes *outside* it, so reads
through a read-only console are sanitized as well.

Methods a backend adds beyond the ``Backend`` interface are forwarded; their
coroutine results are sanitized the same way.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import msgspec

from console.backends.base import Backend, BackendError, ConnectionState, ReadOnlyBackend
from console.core.events import typed_event
from console.core.reducers import sanitize_model
from console.core.sanitize import sanitize_single_line
from console.protocol import models as m

__all__ = ["SanitizingBackend", "clean_result", "ensure_sanitized", "is_sanitized"]

T = TypeVar("T")


def clean_result(value: T) -> T:
    """A backend result with every string sanitized (Structs, lists and dicts of them)."""
    if isinstance(value, msgspec.Struct):
        return sanitize_model(value)
    if isinstance(value, list):
        return [clean_result(v) for v in value]  # type: ignore[return-value]
    if isinstance(value, tuple):
        return tuple(clean_result(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {  # type: ignore[return-value]
            (sanitize_single_line(k) if isinstance(k, str) else k): clean_result(v)
            for k, v in value.items()
        }
    if isinstance(value, str):
        return sanitize_single_line(value)  # type: ignore[return-value]
    return value


def _clean_error(error: BackendError) -> BackendError:
    """The sentence of a backend error is outside text too (the UI shows it as it is)."""
    if error.args and isinstance(error.args[0], str):
        cleaned = sanitize_single_line(error.args[0])
        if cleaned != error.args[0]:
            error.args = (cleaned, *error.args[1:])
    return error


class SanitizingBackend(Backend):
    """Wraps a backend; what comes out of it is typed and sanitized (see the module docstring)."""

    def __init__(self, inner: Backend) -> None:
        self._inner = inner
        self.name = inner.name
        self.capabilities = inner.capabilities

    @property
    def inner(self) -> Backend:
        return self._inner

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this class does not define: backend extras.
        value = getattr(self._inner, name)
        if inspect.iscoroutinefunction(value):

            @functools.wraps(value)
            async def call(*args: Any, **kwargs: Any) -> Any:
                return await self._call(value(*args, **kwargs))

            return call
        return value

    async def _call(self, coroutine: Any) -> Any:
        try:
            result = await coroutine
        except BackendError as error:
            _clean_error(error)
            raise
        return clean_result(result)

    # ----------------------------------------------------------------- lifecycle
    async def connect(self) -> m.Me:
        result: m.Me = await self._call(self._inner.connect())
        return result

    async def aclose(self) -> None:
        await self._inner.aclose()

    def events(self) -> AsyncIterator[m.Event]:
        # Call the inner events() now: backends subscribe when it is called, and the
        # controller relies on "subscribe, then load over REST".
        return self._typed(self._inner.events())

    @staticmethod
    async def _typed(events: AsyncIterator[m.Event]) -> AsyncIterator[m.Event]:
        async for event in events:
            yield typed_event(event)

    @property
    def connection(self) -> ConnectionState:
        return _clean_state(self._inner.connection)

    def on_connection_change(self, callback: Callable[[ConnectionState], None]) -> None:
        self._inner.on_connection_change(lambda state: callback(_clean_state(state)))

    # ----------------------------------------------------------------- reads
    async def me(self) -> m.Me:
        result: m.Me = await self._call(self._inner.me())
        return result

    async def list_conversations(
        self,
        *,
        state: m.ConversationState | None = None,
        assignee: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.ConversationPage:
        result: m.ConversationPage = await self._call(
            self._inner.list_conversations(
                state=state, assignee=assignee, cursor=cursor, limit=limit
            )
        )
        return result

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        result: m.Conversation = await self._call(self._inner.get_conversation(conversation_id))
        return result

    async def list_messages(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> m.MessagePage:
        result: m.MessagePage = await self._call(
            self._inner.list_messages(conversation_id, before=before, after=after, limit=limit)
        )
        return result

    async def get_customer(self, customer_id: str) -> m.Customer:
        result: m.Customer = await self._call(self._inner.get_customer(customer_id))
        return result

    async def list_customer_notes(self, customer_id: str) -> list[m.CustomerNote]:
        result: list[m.CustomerNote] = await self._call(
            self._inner.list_customer_notes(customer_id)
        )
        return result

    async def list_customer_conversations(self, customer_id: str) -> list[m.Conversation]:
        result: list[m.Conversation] = await self._call(
            self._inner.list_customer_conversations(customer_id)
        )
        return result

    async def list_canned_replies(self, query: str = "") -> list[m.CannedReply]:
        result: list[m.CannedReply] = await self._call(self._inner.list_canned_replies(query))
        return result

    async def search(self, query: str) -> m.SearchResults:
        result: m.SearchResults = await self._call(self._inner.search(query))
        return result

    async def queues(self) -> m.QueuesView:
        result: m.QueuesView = await self._call(self._inner.queues())
        return result

    async def agents(self) -> m.AgentsView:
        result: m.AgentsView = await self._call(self._inner.agents())
        return result

    async def history(self) -> m.HistoryView | None:
        result: m.HistoryView | None = await self._call(self._inner.history())
        return result

    async def list_departments(self) -> list[m.Department]:
        result: list[m.Department] = await self._call(self._inner.list_departments())
        return result

    async def download_attachment(self, attachment_id: str) -> bytes:
        # Bytes, not text: saved to a file, never drawn.
        try:
            return await self._inner.download_attachment(attachment_id)
        except BackendError as error:
            _clean_error(error)
            raise

    # ----------------------------------------------------------------- writes
    async def set_status(self, update: m.StatusUpdate) -> m.Me:
        result: m.Me = await self._call(self._inner.set_status(update))
        return result

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        result: m.Message = await self._call(self._inner.send_message(conversation_id, message))
        return result

    async def accept(self, conversation_id: str) -> m.Conversation:
        result: m.Conversation = await self._call(self._inner.accept(conversation_id))
        return result

    async def transfer(self, conversation_id: str, request: m.TransferRequest) -> m.Conversation:
        result: m.Conversation = await self._call(self._inner.transfer(conversation_id, request))
        return result

    async def close(self, conversation_id: str, request: m.CloseRequest) -> m.Conversation:
        result: m.Conversation = await self._call(self._inner.close(conversation_id, request))
        return result

    async def set_typing(self, conversation_id: str, typing: bool) -> None:
        await self._call(self._inner.set_typing(conversation_id, typing))

    async def upload_attachment(
        self, filename: str, content: bytes, content_type: str | None = None
    ) -> m.Attachment:
        result: m.Attachment = await self._call(
            self._inner.upload_attachment(filename, content, content_type)
        )
        return result

    async def add_customer_note(self, customer_id: str, body: str) -> m.CustomerNote:
        result: m.CustomerNote = await self._call(self._inner.add_customer_note(customer_id, body))
        return result

    async def set_customer_tags(self, customer_id: str, tags: list[str]) -> m.Customer:
        result: m.Customer = await self._call(self._inner.set_customer_tags(customer_id, tags))
        return result

    async def create_canned_reply(self, reply: m.CannedReplyCreate) -> m.CannedReply:
        result: m.CannedReply = await self._call(self._inner.create_canned_reply(reply))
        return result

    async def mark_read(self, conversation_id: str) -> None:
        await self._call(self._inner.mark_read(conversation_id))


def _forwarder(name: str) -> Callable[..., Any]:
    async def forward(self: SanitizingBackend, *args: Any, **kwargs: Any) -> Any:
        return await self._call(getattr(self._inner, name)(*args, **kwargs))

    forward.__name__ = forward.__qualname__ = name
    return forward


# A coroutine added to Backend later must not fall back to Backend's default here
# (that would bypass the inner backend): forward it, sanitized, unless defined above.
for _name, _method in inspect.getmembers(Backend, inspect.iscoroutinefunction):
    if _name not in SanitizingBackend.__dict__:
        setattr(SanitizingBackend, _name, _forwarder(_name))


def _clean_state(state: ConnectionState) -> ConnectionState:
    if not state.detail:
        return state
    detail = sanitize_single_line(state.detail)
    if detail == state.detail:
        return state
    return ConnectionState(state.phase, retry_at=state.retry_at, detail=detail)


def is_sanitized(backend: Backend) -> bool:
    """Is a :class:`SanitizingBackend` somewhere in this chain of wrappers?"""
    seen: Backend | None = backend
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, SanitizingBackend):
            return True
        seen = getattr(seen, "inner", None)
    return False


def ensure_sanitized(backend: Backend) -> Backend:
    """``backend`` behind the boundary (idempotent; a read-only wrapper stays outermost)."""
    if is_sanitized(backend):
        return backend
    if isinstance(backend, ReadOnlyBackend):
        return ReadOnlyBackend(ensure_sanitized(backend.inner))
    return SanitizingBackend(backend)
