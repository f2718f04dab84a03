"""Wire models of the native agent-console protocol.

One module for every request body, response body and stream event, shared by
the reference server (``console.server``), the native client
(``console.backends.native``) and the simulator (``console.sim``).  The
server's OpenAPI document is generated from these Structs, so a field added
here is documented everywhere at once.  No I/O happens here.

Timestamps travel as ISO 8601 strings in UTC (msgspec encodes ``datetime``).
All text fields are *untrusted* on the receiving side: the client sanitizes
them on ingest (``console.core.sanitize``), never here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta, Struct

from console.protocol import limits

Role = Literal["agent", "supervisor", "customer"]
AgentStatus = Literal["online", "away", "offline"]
ConversationState = Literal["bot", "queued", "active", "closed"]
AuthorKind = Literal["customer", "agent", "bot", "system"]

Body = Annotated[str, Meta(min_length=1, max_length=limits.MAX_BODY_CHARS)]
ShortText = Annotated[str, Meta(max_length=limits.MAX_SHORT_TEXT_CHARS)]
ClientId = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class _Model(Struct, kw_only=True, forbid_unknown_fields=False):
    """Base: keyword-only fields; unknown fields are ignored for forward compatibility."""


class _Request(Struct, kw_only=True, forbid_unknown_fields=True):
    """Base for request bodies: unknown fields are a 400, so typos are caught."""


# --------------------------------------------------------------------------- errors


class ErrorDetail(_Model, kw_only=True):
    code: str
    message: str


class ErrorBody(_Model, kw_only=True):
    """Every non-2xx answer: ``{"error": {"code": ..., "message": ...}}``."""

    error: ErrorDetail


# --------------------------------------------------------------------------- people


class Me(_Model, kw_only=True):
    id: str
    name: str
    role: Role
    status: AgentStatus = "offline"
    capacity: int = limits.DEFAULT_CAPACITY
    accepting: bool = True
    department_ids: list[str] = []


class StatusUpdate(_Request, kw_only=True):
    """``PUT /me/status``. ``accepting=False`` means: finish current chats, take no new ones."""

    status: AgentStatus | None = None
    accepting: bool | None = None
    capacity: Annotated[int, Meta(ge=1, le=limits.MAX_CAPACITY)] | None = None


class Agent(_Model, kw_only=True):
    id: str
    name: str
    status: AgentStatus
    capacity: int
    accepting: bool
    department_ids: list[str] = []
    active_count: int = 0
    # Languages the agent speaks (ISO 639-1, e.g. ["en", "ko"]); routing prefers a match (§6).
    languages: list[str] = []
    # A senior agent: a target for escalations.
    senior: bool = False


class Department(_Model, kw_only=True):
    id: str
    name: str
    # Business hours: "HH:MM-HH:MM" in the department's UTC offset, per weekday (0=Mon).
    open_now: bool = True
    offline_message: str = ""
    # Marked for escalations: the default target of ``POST /conversations/{id}/escalate``.
    escalation: bool = False


# --------------------------------------------------------------------------- attachments


class Attachment(_Model, kw_only=True):
    id: str
    filename: str
    content_type: str
    size: int
    url: str


# --------------------------------------------------------------------------- messages


class Message(_Model, kw_only=True):
    id: str
    conversation_id: str
    author_kind: AuthorKind
    author_id: str | None = None
    author_name: str = ""
    body: str = ""
    internal: bool = False
    client_id: str | None = None
    attachments: list[Attachment] = []
    created_at: datetime


class SendMessage(_Request, kw_only=True):
    """``POST /conversations/{id}/messages``; idempotent on ``client_id``."""

    client_id: ClientId
    body: Annotated[str, Meta(max_length=limits.MAX_BODY_CHARS)] = ""
    internal: bool = False
    attachment_ids: Annotated[list[str], Meta(max_length=limits.MAX_ATTACHMENTS_PER_MESSAGE)] = []


class MessagePage(_Model, kw_only=True):
    """Messages in ascending ``created_at`` order; ``has_more`` tells if older/newer exist."""

    items: list[Message]
    has_more: bool = False


# --------------------------------------------------------------------------- conversations


class Conversation(_Model, kw_only=True):
    id: str
    customer_id: str
    customer_name: str
    customer_email: str = ""
    department_id: str
    department_name: str = ""
    state: ConversationState
    assignee_id: str | None = None
    assignee_name: str | None = None
    channel: str = "web"
    page_url: str = ""
    prechat: dict[str, str] = {}
    created_at: datetime
    queued_at: datetime | None = None
    assigned_at: datetime | None = None
    closed_at: datetime | None = None
    last_message_at: datetime | None = None
    # Oldest customer message not yet answered by an agent; None when nobody waits.
    waiting_since: datetime | None = None
    first_response_at: datetime | None = None
    csat_score: int | None = None
    csat_comment: str | None = None
    abandoned: bool = False
    # Who closed it (staff id and name; None for a customer leaving or an open chat).
    closed_by_id: str | None = None
    closed_by_name: str | None = None
    # The customer's language from the pre-chat answers (``language``), e.g. "ko"; routing
    # prefers an agent who speaks it.
    language: str | None = None
    # Set once the chat was escalated (``POST /conversations/{id}/escalate``).
    escalated_at: datetime | None = None
    escalated_by_name: str | None = None
    escalation_reason: str | None = None


class ConversationPage(_Model, kw_only=True):
    items: list[Conversation]
    next_cursor: str | None = None


class TransferRequest(_Request, kw_only=True):
    """Transfer to one agent or to a department's queue (exactly one of the two)."""

    agent_id: str | None = None
    department_id: str | None = None
    note: Annotated[str, Meta(max_length=limits.MAX_BODY_CHARS)] = ""


class EscalateRequest(_Request, kw_only=True):
    """Escalate to a senior agent (``agent_id``) or a department (``department_id``); with
    neither, to the first department marked ``escalation``.  ``reason`` is required."""

    reason: Body
    agent_id: str | None = None
    department_id: str | None = None


FollowUpChannel = Literal["phone", "email", "chat"]
FollowUpState = Literal["open", "done"]


class FollowUp(_Model, kw_only=True):
    """A promise to contact the customer later (phone call, e-mail or chat)."""

    id: str
    conversation_id: str
    customer_id: str
    customer_name: str = ""
    agent_id: str
    agent_name: str = ""
    channel: FollowUpChannel
    due_at: datetime
    note: str = ""
    state: FollowUpState = "open"
    created_at: datetime
    done_at: datetime | None = None


class FollowUpCreate(_Request, kw_only=True):
    """``POST /conversations/{id}/follow-ups``: the agent promises to follow up."""

    channel: FollowUpChannel
    due_at: Annotated[datetime, Meta(tz=True)]
    note: Annotated[str, Meta(max_length=limits.MAX_BODY_CHARS)] = ""


class CloseRequest(_Request, kw_only=True):
    send_transcript: bool = False
    transcript_email: ShortText | None = None
    request_csat: bool = True


class TypingRequest(_Request, kw_only=True):
    typing: bool = True


# --------------------------------------------------------------------------- customers


class Activity(_Model, kw_only=True):
    at: datetime
    kind: str
    text: str


class Customer(_Model, kw_only=True):
    id: str
    name: str
    email: str = ""
    account: dict[str, str] = {}
    custom_fields: dict[str, str] = {}
    tags: list[str] = []
    activity: list[Activity] = []
    created_at: datetime


class CustomerNote(_Model, kw_only=True):
    id: str
    customer_id: str
    author_id: str
    author_name: str
    body: str
    created_at: datetime


class NoteCreate(_Request, kw_only=True):
    body: Body


class TagsUpdate(_Request, kw_only=True):
    tags: Annotated[list[ShortText], Meta(max_length=50)]


# --------------------------------------------------------------------------- canned replies


class CannedReply(_Model, kw_only=True):
    id: str
    title: str
    shortcut: str = ""
    body: str
    category: str = "general"  # e.g. greeting, farewell, general
    lang: str = "en"


class CannedReplyCreate(_Request, kw_only=True):
    title: Annotated[str, Meta(min_length=1, max_length=200)]
    shortcut: Annotated[str, Meta(max_length=50)] = ""
    body: Body
    category: Annotated[str, Meta(max_length=50)] = "general"
    lang: Annotated[str, Meta(max_length=10)] = "en"


# --------------------------------------------------------------------------- search


class SearchHit(_Model, kw_only=True):
    conversation_id: str
    message_id: str
    customer_name: str
    snippet: str
    created_at: datetime


class SearchResults(_Model, kw_only=True):
    items: list[SearchHit]


# --------------------------------------------------------------------------- supervisor views


class QueueStats(_Model, kw_only=True):
    department_id: str
    department_name: str
    waiting: int
    active: int
    longest_wait_seconds: float = 0.0
    avg_first_response_seconds: float | None = None
    avg_response_seconds: float | None = None
    abandoned_today: int = 0
    open_now: bool = True
    # New conversations per minute over the last ``TRAFFIC_MINUTES`` minutes, oldest first;
    # the last entry is the minute that contains ``counted_at`` (partial).  Empty when the
    # backend does not count them (the console then counts the chats it sees).
    created_per_minute: list[int] = []
    counted_at: datetime | None = None
    created_today: int = 0


class AgentStats(_Model, kw_only=True):
    agent_id: str
    name: str
    status: AgentStatus
    accepting: bool
    load: int
    capacity: int
    chats_today: int = 0
    avg_response_seconds: float | None = None
    last_reply_at: datetime | None = None
    # Departments the agent works in (empty when the backend does not say).
    department_ids: list[str] = []
    # Open follow-ups due within the next 24 hours, and open ones already past due.
    follow_ups_due: int = 0
    follow_ups_overdue: int = 0
    # A senior agent: offered as an escalation target.
    senior: bool = False


class QueuesView(_Model, kw_only=True):
    items: list[QueueStats]


class HistoryFigures(_Model, kw_only=True):
    # Conversations created in the period.
    chats: int = 0
    # Average first answer to a waiting customer (seconds), null without data.
    avg_first_response_seconds: float | None = None
    # Average of every answer to a waiting customer (seconds), null without data.
    avg_response_seconds: float | None = None
    # Chats the customer left before an agent answered (closed in the period).
    abandoned: int = 0
    # Average stored rating (1-5) of the chats created in the period; null without ratings.
    satisfaction: float | None = None
    ratings: int = 0


class DepartmentHistory(_Model, kw_only=True):
    department_id: str
    department_name: str
    today: HistoryFigures
    last_7_days: HistoryFigures


class AgentHistory(_Model, kw_only=True):
    agent_id: str
    name: str
    today: HistoryFigures
    last_7_days: HistoryFigures


class HistoryView(_Model, kw_only=True):
    # Start of today (UTC) and of the 7-day period (today and the 6 days before).
    today_since: datetime
    week_since: datetime
    departments: list[DepartmentHistory] = []
    agents: list[AgentHistory] = []


class AgentsView(_Model, kw_only=True):
    items: list[AgentStats]


# --------------------------------------------------------------------------- customer API


class CustomerSession(_Request, kw_only=True):
    """``POST /customer/session`` (no auth): who the customer is; answers with a customer token.

    Without a verified identity every session is a new customer.  ``identifier`` (the
    website's stable id of its signed-in user) with ``identifier_hash`` = hex
    HMAC-SHA256(server identity secret, identifier) reattaches the customer with that
    identifier (created on first use); a wrong hash is refused with 401.
    """

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    email: ShortText = ""
    identifier: Annotated[str, Meta(max_length=200)] = ""
    identifier_hash: Annotated[str, Meta(max_length=128)] = ""


class StartConversation(_Request, kw_only=True):
    """``POST /customer/conversations`` (customer token)."""

    name: Annotated[str, Meta(min_length=1, max_length=200)]
    email: ShortText = ""
    department: Annotated[str, Meta(max_length=100)] = ""
    page_url: Annotated[str, Meta(max_length=2000)] = ""
    prechat: dict[str, str] = {}
    message: Annotated[str, Meta(max_length=limits.MAX_BODY_CHARS)] = ""


class RateRequest(_Request, kw_only=True):
    score: Annotated[int, Meta(ge=1, le=5)]
    comment: Annotated[str, Meta(max_length=2000)] = ""


class TranscriptRequest(_Request, kw_only=True):
    email: ShortText


class TokenInfo(_Model, kw_only=True):
    token: str
    role: Role
    subject_id: str


class StreamTicket(_Model, kw_only=True):
    """``POST /stream/ticket``: connect to ``/api/v1/stream?ticket=<ticket>`` once, within
    ``expires_in`` seconds (for browsers, which cannot set an Authorization header)."""

    ticket: str
    expires_in: float


# --------------------------------------------------------------------------- stream

EventType = Literal[
    "message.created",
    "conversation.created",
    "conversation.updated",
    "typing",
    "agent.updated",
    "customer.updated",
    "customer.note_created",
    "queue.updated",
    "follow_up.created",
    "follow_up.updated",
]


class TypingEvent(_Model, kw_only=True):
    conversation_id: str
    author_kind: AuthorKind
    author_name: str = ""
    typing: bool


class Event(_Model, kw_only=True):
    """One stream event: ``{"seq": n, "type": "...", "at": ..., "data": {...}}``.

    ``seq`` strictly increases per server and survives restarts (it is the
    event log's primary key).  ``data`` is decoded with :func:`decode_event_data`.
    """

    seq: int
    type: str
    at: datetime
    data: dict[str, Any]


# Client → server frames.
class Hello(_Model, kw_only=True):
    type: Literal["hello"] = "hello"
    resume_after: int | None = None


class Ping(_Model, kw_only=True):
    type: Literal["ping"] = "ping"


# Server → client frames besides events (which carry "seq").
class Welcome(_Model, kw_only=True):
    """Sent after ``hello``: replay of events after ``resume_after`` follows."""

    type: Literal["welcome"] = "welcome"
    last_seq: int
    role: Role


class Reset(_Model, kw_only=True):
    """Sent instead of a replay when ``resume_after`` is older than the log keeps."""

    type: Literal["reset"] = "reset"
    last_seq: int


class Pong(_Model, kw_only=True):
    type: Literal["pong"] = "pong"


class Resync(_Model, kw_only=True):
    """Data of ``client.resync``: made by the client's backend, never sent by a server.

    A backend yields it when it could not resume the stream (``reset``) and
    re-synced over REST: replace the open conversations (bot/queued/active)
    with ``conversations`` and refetch message history of what is on screen.
    Stream events after it have ``seq > last_seq``.
    """

    reason: str  # "reset" | "server_behind"
    last_seq: int
    conversations: list[Conversation] = []


RESYNC_EVENT_TYPE: Literal["client.resync"] = "client.resync"

EVENT_DATA_TYPES: dict[str, type[Struct]] = {
    "message.created": Message,
    "conversation.created": Conversation,
    "conversation.updated": Conversation,
    "typing": TypingEvent,
    "agent.updated": Agent,
    "customer.updated": Customer,
    "customer.note_created": CustomerNote,
    "queue.updated": QueueStats,
    "follow_up.created": FollowUp,
    "follow_up.updated": FollowUp,
}


def decode_event_data(event: Event) -> Struct | None:
    """Typed payload of ``event``; ``None`` for unknown event types (logged and ignored upstream)."""
    kind = EVENT_DATA_TYPES.get(event.type)
    if kind is None and event.type == RESYNC_EVENT_TYPE:
        kind = Resync
    if kind is None:
        return None
    return msgspec.convert(event.data, kind)


def to_builtins(obj: Any) -> Any:
    """Structs → JSON-ready builtins (datetimes as ISO strings)."""
    return msgspec.to_builtins(obj)
