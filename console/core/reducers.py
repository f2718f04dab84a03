"""Pure pieces of the client store: value types, model sanitizing and reducer functions.

Everything here is a function of its arguments (no clock, no I/O, no global
state), so it is tested directly.  :mod:`console.core.store` wires these into
the mutable :class:`~console.core.store.Store` the UI reads.

* :class:`Change` - what an update touched, so the UI refreshes only those panes.
* :class:`StoredMessage` - a sanitized message plus delivery state and triggers.
* :class:`ConversationEntry` - a sanitized conversation plus client-side
  counters: unread, customer-waiting-since, first response, trigger severity.
* :func:`sanitize_model` - every string of a protocol Struct through the sanitizer.
* ``reduce_*`` - conversation-entry transitions for server conversations and messages.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Final, TypeVar

import msgspec

from console.core.changes import EMPTY_MESSAGES, NO_ROWS, Rows, merge_messages
from console.core.sanitize import (
    is_clean_line,
    is_clean_text,
    sanitize_inbound_text,
    sanitize_single_line,
)
from console.core.triggers import NO_TRIGGERS, TriggerResult, detect
from console.protocol import models as m

__all__ = [
    "RECENT_CUSTOMER_MESSAGES",
    "Area",
    "Change",
    "ConversationEntry",
    "Delivery",
    "StoredMessage",
    "TypingState",
    "reduce_conversation",
    "reduce_live_message",
    "reduce_mark_read",
    "reduce_recent_severities",
    "reduce_seen_message",
    "sanitize_model",
    "severity_of",
]

# Trigger severity of a conversation = max over this many latest customer messages.
RECENT_CUSTOMER_MESSAGES: Final = 5

# Struct fields whose text may span lines; every other string is a single line.
MULTILINE_FIELDS: Final = frozenset(
    {"body", "text", "comment", "csat_comment", "offline_message", "snippet", "prechat", "note"}
)


class Area(enum.StrEnum):
    """Parts of the state that are not per-conversation."""

    ME = "me"
    CONVERSATIONS = "conversations"  # the set/order of conversations (lists, tabs)
    QUEUE = "queue"  # queued conversations (order or membership)
    AGENTS = "agents"
    QUEUE_STATS = "queue_stats"
    CUSTOMERS = "customers"
    TYPING = "typing"


@dataclass(frozen=True, slots=True)
class Change:
    """What one or more updates touched.  Combine with ``|`` to coalesce.

    ``conversations``: ids whose metadata changed (state, assignee, unread,
    timers, severity).  ``transcripts``: ids whose message list changed.
    ``typing``: ids whose typing indicator changed.  ``customers``: customer
    ids whose profile or notes changed.  ``missing``: conversation ids the
    store has messages or references for but no conversation record (or whose
    record may be stale after a re-sync) - fetch them with
    ``backend.get_conversation`` and pass them to ``Store.upsert_conversation``.

    Precisely (merged by the rules of :mod:`console.core.changes`): ``messages``
    maps a conversation id to the message keys (``StoredMessage.stable_key``)
    added, updated (delivery state) or removed; ``queue`` names the queued
    conversations added, updated (record or messages) or removed.  ``a | b``
    means ``a`` happened first.
    """

    areas: frozenset[Area] = frozenset()
    conversations: frozenset[str] = frozenset()
    transcripts: frozenset[str] = frozenset()
    typing: frozenset[str] = frozenset()
    customers: frozenset[str] = frozenset()
    missing: frozenset[str] = frozenset()
    messages: Mapping[str, Rows] = field(default_factory=lambda: EMPTY_MESSAGES)
    queue: Rows = NO_ROWS

    def __or__(self, other: Change) -> Change:
        if not other:
            return self
        if not self:
            return other
        # A union only where both sides have ids (most merges add one field to
        # another): no new set, and no re-hashing of the Area members.
        a, b = self, other
        return Change(
            areas=a.areas | b.areas if a.areas and b.areas else a.areas or b.areas,
            conversations=a.conversations | b.conversations
            if a.conversations and b.conversations
            else a.conversations or b.conversations,
            transcripts=a.transcripts | b.transcripts
            if a.transcripts and b.transcripts
            else a.transcripts or b.transcripts,
            typing=a.typing | b.typing if a.typing and b.typing else a.typing or b.typing,
            customers=a.customers | b.customers
            if a.customers and b.customers
            else a.customers or b.customers,
            missing=a.missing | b.missing if a.missing and b.missing else a.missing or b.missing,
            messages=merge_messages(a.messages, b.messages),
            queue=a.queue | b.queue,
        )

    def __bool__(self) -> bool:
        return bool(
            self.areas
            or self.conversations
            or self.transcripts
            or self.typing
            or self.customers
            or self.missing
            or self.messages
            or self.queue
        )

    def touches(self, conversation_id: str) -> bool:
        """Did anything about this conversation change (metadata, transcript or typing)?"""
        return (
            conversation_id in self.conversations
            or conversation_id in self.transcripts
            or conversation_id in self.typing
        )

    @staticmethod
    def merge(changes: Iterable[Change]) -> Change:
        result = NO_CHANGE
        for change in changes:
            result = result | change
        return result


NO_CHANGE: Final = Change()


class Delivery(enum.StrEnum):
    PENDING = "pending"  # in the outbox, not confirmed by the server
    SENT = "sent"  # the server has it (it has a server id)
    FAILED = "failed"  # gave up or was refused; the UI offers retry/discard


@dataclass(frozen=True, slots=True)
class StoredMessage:
    """A sanitized message as the transcript shows it.

    Pending and failed messages have ``message.id == ""`` and are keyed by
    ``client_id``; ``key`` is stable across the pending → sent transition
    only through ``client_id``, so widgets should key caches on ``key``.
    """

    message: m.Message
    delivery: Delivery = Delivery.SENT
    error: str = ""
    triggers: TriggerResult = NO_TRIGGERS

    @property
    def key(self) -> str:
        if self.message.id:
            return self.message.id
        return f"pending:{self.message.client_id}"

    @property
    def stable_key(self) -> str:
        """What a :class:`Change` names this message by: ``client:<client_id>`` when it has
        a client id (the same from pending through sent or failed), else the server id."""
        client_id = self.message.client_id
        return f"client:{client_id}" if client_id else self.message.id

    @property
    def id(self) -> str:
        return self.message.id

    @property
    def client_id(self) -> str | None:
        return self.message.client_id

    @property
    def body(self) -> str:
        return self.message.body

    @property
    def author_kind(self) -> m.AuthorKind:
        return self.message.author_kind

    @property
    def internal(self) -> bool:
        return self.message.internal

    @property
    def created_at(self) -> datetime:
        return self.message.created_at

    @property
    def is_customer(self) -> bool:
        return self.message.author_kind == "customer" and not self.message.internal


@dataclass(frozen=True, slots=True)
class TypingState:
    conversation_id: str
    author_kind: m.AuthorKind
    author_name: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class ConversationEntry:
    """One conversation as the UI sees it: the server record plus client-side counters.

    ``conversation`` is ``None`` when the store has heard of the id (a message
    or typing event) but has not loaded the record yet; selectors skip those.
    """

    id: str
    conversation: m.Conversation | None = None
    unread: int = 0
    waiting_since: datetime | None = None
    first_response_at: datetime | None = None
    severity: int = 0
    last_message_at: datetime | None = None
    last_preview: str = ""
    recent_severities: tuple[int, ...] = field(default=())

    @property
    def state(self) -> m.ConversationState | None:
        return self.conversation.state if self.conversation else None

    @property
    def assignee_id(self) -> str | None:
        return self.conversation.assignee_id if self.conversation else None

    @property
    def customer_name(self) -> str:
        return self.conversation.customer_name if self.conversation else ""

    @property
    def is_open(self) -> bool:
        return self.state in ("bot", "queued", "active")

    def waiting_seconds(self, now: datetime) -> float:
        """How long the customer has waited for an agent's reply (0 when nobody waits)."""
        if self.waiting_since is None or not self.is_open:
            return 0.0
        return max(0.0, (now - self.waiting_since).total_seconds())

    def first_response_seconds(self, now: datetime) -> float | None:
        """Seconds from queueing (or creation) to the first agent reply; running until then.

        ``None`` when the conversation record is not loaded yet.
        """
        conv = self.conversation
        if conv is None:
            return None
        start = conv.queued_at or conv.created_at
        end = self.first_response_at or now
        return max(0.0, (end - start).total_seconds())

    @property
    def first_response_done(self) -> bool:
        return self.first_response_at is not None


# --------------------------------------------------------------------------- sanitizing

S = TypeVar("S", bound=msgspec.Struct)


def _clean(value: Any, multiline: bool) -> Any:
    if isinstance(value, str):
        return sanitize_inbound_text(value) if multiline else sanitize_single_line(value)
    if isinstance(value, msgspec.Struct):
        return sanitize_model(value)
    if isinstance(value, list):
        return [_clean(v, multiline) for v in value]
    if isinstance(value, dict):
        return {
            (sanitize_single_line(k) if isinstance(k, str) else k): _clean(v, multiline)
            for k, v in value.items()
        }
    return value


def sanitize_model(obj: S) -> S:
    """A copy of ``obj`` with every string sanitized (ids and URLs too; ASCII is unchanged).

    Fields named in :data:`MULTILINE_FIELDS` keep their newlines; all other
    strings (names, titles, emails, dict keys) become single lines.
    """
    changes: dict[str, Any] | None = None
    for name, multiline in _fields_of(type(obj)):
        value = getattr(obj, name)
        if value is None:
            continue
        if isinstance(value, str):
            # Fast path: one precompiled search says the string is already clean.
            if is_clean_text(value) if multiline else is_clean_line(value):
                continue
        elif not isinstance(value, (msgspec.Struct, list, dict)) or not _nonempty(value):
            continue  # numbers, dates, enums, empty containers: nothing to clean
        cleaned = _clean(value, multiline)
        if cleaned != value:
            if changes is None:
                changes = {}
            changes[name] = cleaned
    return msgspec.structs.replace(obj, **changes) if changes else obj


_FIELDS: dict[type, tuple[tuple[str, bool], ...]] = {}


def _fields_of(kind: type[msgspec.Struct]) -> tuple[tuple[str, bool], ...]:
    """(field name, keeps newlines) for a struct type, computed once per type."""
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = tuple((name, name in MULTILINE_FIELDS) for name in kind.__struct_fields__)
        _FIELDS[kind] = fields
    return fields


def _nonempty(value: msgspec.Struct | list[Any] | dict[Any, Any]) -> bool:
    return isinstance(value, msgspec.Struct) or bool(value)


# --------------------------------------------------------------------------- reducers


def severity_of(message: m.Message) -> TriggerResult:
    """Triggers of a (sanitized) message; only customer-visible customer text counts."""
    if message.author_kind != "customer" or message.internal:
        return NO_TRIGGERS
    return detect(message.body)


def _preview(message: m.Message) -> str:
    text = message.body.replace("\n", " ").strip()
    if not text and message.attachments:
        text = ", ".join(a.filename for a in message.attachments)
    return text[:200]


def reduce_conversation(entry: ConversationEntry | None, conv: m.Conversation) -> ConversationEntry:
    """Take a (sanitized) server conversation record; its timer fields are authoritative."""
    base = entry or ConversationEntry(id=conv.id)
    last = base.last_message_at
    if conv.last_message_at is not None and (last is None or conv.last_message_at > last):
        last = conv.last_message_at
    return replace(
        base,
        conversation=conv,
        waiting_since=conv.waiting_since,
        first_response_at=conv.first_response_at or base.first_response_at,
        last_message_at=last,
    )


def reduce_live_message(
    entry: ConversationEntry | None,
    stored: StoredMessage,
    *,
    me_id: str | None,
    count_unread: bool = True,
) -> ConversationEntry:
    """Account for one newly arrived message (live or caught up after a reconnect).

    * customer message: starts "waiting since" if nobody was waiting, records
      its trigger severity among the recent ones, counts as unread;
    * visible agent message: the customer no longer waits; the first one sets
      the first-response time; the triggers before it are answered, so the
      recent severities start again (the pane's badge clears);
    * messages written by ``me_id`` never count as unread; internal notes by
      others and bot/system messages do.
    """
    msg = stored.message
    base = entry or ConversationEntry(id=msg.conversation_id)
    waiting_since = base.waiting_since
    first_response_at = base.first_response_at
    recent = base.recent_severities
    if msg.author_kind == "customer" and not msg.internal:
        if waiting_since is None:
            waiting_since = msg.created_at
        recent = (*recent, int(stored.triggers.severity))[-RECENT_CUSTOMER_MESSAGES:]
    elif msg.author_kind == "agent" and not msg.internal:
        waiting_since = None
        recent = ()
        if first_response_at is None:
            first_response_at = msg.created_at
    mine = me_id is not None and msg.author_id == me_id
    unread = base.unread + (1 if count_unread and not mine else 0)
    last = base.last_message_at
    if last is None or msg.created_at >= last:
        last = msg.created_at
        preview = _preview(msg)
    else:
        preview = base.last_preview
    return replace(
        base,
        unread=unread,
        waiting_since=waiting_since,
        first_response_at=first_response_at,
        recent_severities=recent,
        severity=max(recent, default=0),
        last_message_at=last,
        last_preview=preview,
    )


def reduce_seen_message(entry: ConversationEntry, stored: StoredMessage) -> ConversationEntry:
    """A message from history: only the last-activity time and preview may move."""
    msg = stored.message
    if entry.last_message_at is not None and msg.created_at < entry.last_message_at:
        return entry
    return replace(entry, last_message_at=msg.created_at, last_preview=_preview(msg))


def reduce_recent_severities(
    entry: ConversationEntry, recent: tuple[int, ...]
) -> ConversationEntry:
    """Replace the recent customer-message severities (after loading history)."""
    recent = recent[-RECENT_CUSTOMER_MESSAGES:]
    return replace(entry, recent_severities=recent, severity=max(recent, default=0))


def reduce_mark_read(entry: ConversationEntry) -> ConversationEntry:
    return entry if entry.unread == 0 else replace(entry, unread=0)
