"""The one interface the UI talks to, whatever chat product sits behind it.

A backend turns its product's world into ``console.protocol`` models and
events.  The UI never does HTTP: it calls these coroutines and renders the
store.  ``capabilities`` says what a backend supports so the UI can hide what
it cannot do.  :class:`ReadOnlyBackend` wraps any backend and refuses every
mutating call locally, before anything reaches the network (supervisors and
``--readonly``).
"""

from __future__ import annotations

import abc
import enum
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from console.protocol import models as m


class Capability(enum.StrEnum):
    SEND = "send"
    NOTES = "notes"  # internal notes inside a conversation
    ACCEPT = "accept"
    TRANSFER = "transfer"
    CLOSE = "close"
    TYPING = "typing"
    ATTACHMENTS = "attachments"
    CUSTOMERS = "customers"
    CUSTOMER_NOTES = "customer_notes"
    CANNED_REPLIES = "canned_replies"
    SEARCH = "search"
    SUPERVISOR_VIEWS = "supervisor_views"
    STATUS = "status"
    TRANSCRIPT = "transcript"
    CSAT = "csat"
    FOLLOW_UPS = "follow_ups"  # stored follow-ups (create, list, done)
    ESCALATION = "escalation"  # escalate a chat with a reason
    HISTORY = "history"  # stored per-department/agent figures: today vs the last 7 days


class ConnectionPhase(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    OFFLINE = "offline"
    AUTH_FAILED = "auth_failed"


@dataclass(frozen=True, slots=True)
class ConnectionState:
    """Observable link state. ``retry_at`` is a ``time.monotonic()`` deadline when reconnecting."""

    phase: ConnectionPhase
    retry_at: float | None = None
    detail: str = ""


class BackendError(Exception):
    """A failed call, with a sentence the UI can show as it is."""

    def __init__(self, message: str, *, code: str = "error", status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class ReadOnlyError(BackendError):
    """Raised locally by :class:`ReadOnlyBackend` for any mutating call."""

    def __init__(self, operation: str) -> None:
        super().__init__(
            f"Read-only mode: '{operation}' is not allowed. Sign in with an agent token to reply.",
            code="read_only",
            status=403,
        )
        self.operation = operation


class AuthError(BackendError):
    """401/403 from the backend: retrying will not help."""


# Names of the mutating methods; ReadOnlyBackend refuses exactly these.
MUTATING_METHODS: frozenset[str] = frozenset(
    {
        "set_status",
        "send_message",
        "accept",
        "transfer",
        "close",
        "set_typing",
        "upload_attachment",
        "add_customer_note",
        "set_customer_tags",
        "create_canned_reply",
        "mark_read",
        "create_follow_up",
        "complete_follow_up",
        "escalate",
        "discard_unsent",
    }
)


class UnsentMessage(msgspec.Struct, frozen=True, kw_only=True):
    """A reply in the outbox: not yet acknowledged (``failed`` False) or refused for good."""

    conversation_id: str
    client_id: str
    body: str
    internal: bool = False
    failed: bool = False
    reason: str = ""
    """Why the server refused it (outside text: sanitized at the boundary)."""


class Backend(abc.ABC):
    """Abstract chat backend. Optional features default to "not supported"."""

    name: str = "backend"
    capabilities: frozenset[Capability] = frozenset()

    # ----------------------------------------------------------------- lifecycle
    @abc.abstractmethod
    async def connect(self) -> m.Me:
        """Authenticate and return who we are. Raises AuthError on a bad token."""

    @abc.abstractmethod
    async def aclose(self) -> None: ...

    @abc.abstractmethod
    def events(self) -> AsyncIterator[m.Event]:
        """One async stream of protocol events, across reconnects, deduplicated by ``seq``."""

    @property
    @abc.abstractmethod
    def connection(self) -> ConnectionState: ...

    def on_connection_change(self, callback: Callable[[ConnectionState], None]) -> None:
        """Register a callback run on every connection state change."""
        self._connection_callbacks().append(callback)

    def _connection_callbacks(self) -> list[Callable[[ConnectionState], None]]:
        callbacks: list[Callable[[ConnectionState], None]] | None = getattr(
            self, "_conn_callbacks", None
        )
        if callbacks is None:
            callbacks = []
            self._conn_callbacks = callbacks
        return callbacks

    # ----------------------------------------------------------------- reads
    @abc.abstractmethod
    async def me(self) -> m.Me: ...

    @abc.abstractmethod
    async def list_conversations(
        self,
        *,
        state: m.ConversationState | None = None,
        assignee: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.ConversationPage: ...

    @abc.abstractmethod
    async def get_conversation(self, conversation_id: str) -> m.Conversation: ...

    @abc.abstractmethod
    async def list_messages(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> m.MessagePage: ...

    async def get_customer(self, customer_id: str) -> m.Customer:
        raise BackendError("This backend has no customer profiles.", code="unsupported")

    async def list_customer_notes(self, customer_id: str) -> list[m.CustomerNote]:
        return []

    async def list_customer_conversations(self, customer_id: str) -> list[m.Conversation]:
        return []

    async def list_canned_replies(self, query: str = "") -> list[m.CannedReply]:
        return []

    async def search(self, query: str) -> m.SearchResults:
        return m.SearchResults(items=[])

    async def queues(self) -> m.QueuesView:
        return m.QueuesView(items=[])

    async def agents(self) -> m.AgentsView:
        return m.AgentsView(items=[])

    async def history(self) -> m.HistoryView | None:
        """Today vs the last 7 days per department and agent; None without
        ``Capability.HISTORY`` (the backend stores no such figures)."""
        return None

    async def transfer_targets(self, conversation_id: str) -> list[m.AgentStats]:
        """Colleagues this chat may be transferred to (default: every agent of ``agents()``)."""
        return list((await self.agents()).items)

    async def list_departments(self) -> list[m.Department]:
        return []

    async def download_attachment(self, attachment_id: str) -> bytes:
        raise BackendError("This backend has no attachments.", code="unsupported")

    # ----------------------------------------------------------------- writes
    async def set_status(self, update: m.StatusUpdate) -> m.Me:
        raise BackendError("This backend cannot change agent status.", code="unsupported")

    @abc.abstractmethod
    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message: ...

    async def accept(self, conversation_id: str) -> m.Conversation:
        raise BackendError("This backend cannot accept chats.", code="unsupported")

    async def transfer(self, conversation_id: str, request: m.TransferRequest) -> m.Conversation:
        raise BackendError("This backend cannot transfer chats.", code="unsupported")

    async def close(self, conversation_id: str, request: m.CloseRequest) -> m.Conversation:
        raise BackendError("This backend cannot close chats.", code="unsupported")

    async def set_typing(self, conversation_id: str, typing: bool) -> None:
        return None

    async def upload_attachment(
        self, filename: str, content: bytes, content_type: str | None = None
    ) -> m.Attachment:
        raise BackendError("This backend has no attachments.", code="unsupported")

    async def add_customer_note(self, customer_id: str, body: str) -> m.CustomerNote:
        raise BackendError("This backend has no customer notes.", code="unsupported")

    async def set_customer_tags(self, customer_id: str, tags: list[str]) -> m.Customer:
        raise BackendError("This backend has no customer tags.", code="unsupported")

    async def create_canned_reply(self, reply: m.CannedReplyCreate) -> m.CannedReply:
        raise BackendError("This backend cannot store canned replies.", code="unsupported")

    async def mark_read(self, conversation_id: str) -> None:
        return None

    # ----------------------------------------------------------------- follow-ups, escalation
    # Only backends with Capability.FOLLOW_UPS / ESCALATION implement these; the UI hides
    # the keys otherwise.
    async def list_follow_ups(self, assignee: str = "me") -> list[m.FollowUp]:
        """Open follow-ups of ``assignee`` (``me``, ``any`` or an agent id), earliest due first."""
        return []

    async def list_customer_follow_ups(self, customer_id: str) -> list[m.FollowUp]:
        return []

    async def create_follow_up(self, conversation_id: str, request: m.FollowUpCreate) -> m.FollowUp:
        raise BackendError("This backend cannot store follow-ups.", code="unsupported")

    async def complete_follow_up(self, follow_up_id: str) -> m.FollowUp:
        raise BackendError("This backend cannot store follow-ups.", code="unsupported")

    async def escalate(self, conversation_id: str, request: m.EscalateRequest) -> m.Conversation:
        raise BackendError("This backend cannot escalate chats.", code="unsupported")

    # ----------------------------------------------------------------- outbox
    async def unsent(self) -> list[UnsentMessage]:
        """Replies in the outbox (pending and refused), e.g. from before a restart."""
        return []

    async def delivery(self, client_id: str) -> m.Message:
        """Wait for the outbox's outcome of ``client_id``; BackendError if it was refused."""
        raise BackendError("This backend has no outbox.", code="unsupported")

    async def discard_unsent(self, client_id: str) -> None:
        """Forget a refused reply (removed from the outbox file); pending ones stay."""
        return None


class ReadOnlyBackend(Backend):
    """Wraps a backend; every mutating call raises :class:`ReadOnlyError` locally.

    Reads and the event stream pass through.  Used for supervisor tokens and
    ``--readonly`` regardless of what the server would allow.
    """

    def __init__(self, inner: Backend) -> None:
        self._inner = inner
        self.name = f"{inner.name} (read-only)"
        self.capabilities = frozenset(
            c
            for c in inner.capabilities
            if c
            not in {
                Capability.SEND,
                Capability.NOTES,
                Capability.ACCEPT,
                Capability.TRANSFER,
                Capability.CLOSE,
                Capability.TYPING,
                Capability.STATUS,
                Capability.CUSTOMER_NOTES,
                Capability.FOLLOW_UPS,
                Capability.ESCALATION,
            }
        )

    @property
    def inner(self) -> Backend:
        return self._inner

    def __getattribute__(self, name: str) -> Any:
        if name in MUTATING_METHODS:

            async def refuse(*_args: Any, **_kwargs: Any) -> Any:
                raise ReadOnlyError(name)

            return refuse
        return super().__getattribute__(name)

    async def connect(self) -> m.Me:
        return await self._inner.connect()

    async def aclose(self) -> None:
        await self._inner.aclose()

    def events(self) -> AsyncIterator[m.Event]:
        return self._inner.events()

    @property
    def connection(self) -> ConnectionState:
        return self._inner.connection

    def on_connection_change(self, callback: Callable[[ConnectionState], None]) -> None:
        self._inner.on_connection_change(callback)

    async def me(self) -> m.Me:
        return await self._inner.me()

    async def list_conversations(
        self,
        *,
        state: m.ConversationState | None = None,
        assignee: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.ConversationPage:
        return await self._inner.list_conversations(
            state=state, assignee=assignee, cursor=cursor, limit=limit
        )

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        return await self._inner.get_conversation(conversation_id)

    async def list_messages(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> m.MessagePage:
        return await self._inner.list_messages(
            conversation_id, before=before, after=after, limit=limit
        )

    async def get_customer(self, customer_id: str) -> m.Customer:
        return await self._inner.get_customer(customer_id)

    async def list_customer_notes(self, customer_id: str) -> list[m.CustomerNote]:
        return await self._inner.list_customer_notes(customer_id)

    async def list_follow_ups(self, assignee: str = "me") -> list[m.FollowUp]:
        return await self._inner.list_follow_ups(assignee)

    async def list_customer_follow_ups(self, customer_id: str) -> list[m.FollowUp]:
        return await self._inner.list_customer_follow_ups(customer_id)

    async def list_customer_conversations(self, customer_id: str) -> list[m.Conversation]:
        return await self._inner.list_customer_conversations(customer_id)

    async def list_canned_replies(self, query: str = "") -> list[m.CannedReply]:
        return await self._inner.list_canned_replies(query)

    async def search(self, query: str) -> m.SearchResults:
        return await self._inner.search(query)

    async def queues(self) -> m.QueuesView:
        return await self._inner.queues()

    async def agents(self) -> m.AgentsView:
        return await self._inner.agents()

    async def history(self) -> m.HistoryView | None:
        return await self._inner.history()

    async def transfer_targets(self, conversation_id: str) -> list[m.AgentStats]:
        return await self._inner.transfer_targets(conversation_id)

    async def list_departments(self) -> list[m.Department]:
        return await self._inner.list_departments()

    async def download_attachment(self, attachment_id: str) -> bytes:
        return await self._inner.download_attachment(attachment_id)

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        raise ReadOnlyError("send_message")  # unreachable: __getattribute__ refuses first
