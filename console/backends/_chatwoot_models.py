"""msgspec shapes of the Chatwoot agent API answers the Chatwoot backend reads.

Only the fields the console maps are declared; everything else is ignored.
Chatwoot omits keys freely (``meta.assignee`` when unassigned, ``echo_id``
unless it was sent), so every field has a default.  Ids are numbers.
Timestamps are unix seconds in the REST views, but the live feed sends some
of them as raw datetimes (ISO-8601 strings: a conversation event's
``first_reply_created_at`` and ``snoozed_until``, ``contact_inbox``'s and a
message event's ``updated_at``), so time fields accept both; the backend's
``_ts`` reads either.
Sources: ``/work/shared/reference/chatwoot/application_swagger.json`` and
``NOTES.md`` (sections 2-5).
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field

Time = float | str | None  # unix seconds, or an ISO-8601 datetime (live feed)


class _CW(Struct, kw_only=True, forbid_unknown_fields=False):
    """Base: unknown fields ignored."""


class CwAccount(_CW):
    id: int
    name: str = ""
    role: str = "agent"  # agent | administrator
    availability: str | None = None
    availability_status: str | None = None
    auto_offline: bool = True


class CwProfile(_CW):
    """``GET /api/v1/profile``."""

    id: int
    name: str = ""
    available_name: str | None = None
    email: str | None = None
    pubsub_token: str | None = None
    accounts: list[CwAccount] = []


class CwUser(_CW):
    """Agent JSON (``/agents``, ``meta.assignee``, message senders, push data).

    ``meta.assignee`` may also be an AgentBot (``meta.assignee_type: "AgentBot"``,
    push data ``type: "agent_bot"``); its id is an AgentBot id, not a user id.
    """

    id: int
    name: str | None = None
    available_name: str | None = None
    email: str | None = None
    role: str | None = None
    availability_status: str | None = None
    type: str | None = None  # "user" | "contact" | "agent_bot" in push data


class CwTeam(_CW):
    id: int
    name: str = ""
    description: str | None = None


class CwContact(_CW):
    id: int
    name: str | None = None
    email: str | None = None
    phone_number: str | None = None
    identifier: str | None = None
    additional_attributes: dict[str, Any] | None = None
    custom_attributes: dict[str, Any] | None = None
    created_at: Time = None
    last_activity_at: Time = None


class CwContactShow(_CW):
    payload: CwContact


class CwLabels(_CW):
    payload: list[str] = []


class CwAttachment(_CW):
    id: int
    file_type: str | None = None
    data_url: str | None = None
    thumb_url: str | None = None
    file_size: int | None = None
    extension: str | None = None


class CwSender(_CW):
    id: int | None = None
    name: str | None = None
    available_name: str | None = None
    type: str | None = None  # "user" | "contact" | "agent_bot"


class CwMessage(_CW):
    id: int
    content: str | None = None
    conversation_id: int | None = None
    message_type: int = 0  # 0 incoming, 1 outgoing, 2 activity, 3 template
    content_type: str | None = None
    private: bool = False
    created_at: Time = 0
    status: str | None = None  # sent | delivered | read | failed
    echo_id: str | None = None
    sender_type: str | None = None  # "Contact" | "User" | "AgentBot" (column) or lower-case
    sender_id: int | None = None
    sender: CwSender | None = None
    attachments: list[CwAttachment] = []
    content_attributes: dict[str, Any] | None = None


class CwMessages(_CW):
    """``GET .../messages``: ``{"meta": {...}, "payload": [message...]}``."""

    payload: list[CwMessage] = []


class CwConversationMeta(_CW):
    sender: CwContact | None = None
    assignee: CwUser | None = None
    assignee_type: str | None = None
    team: CwTeam | None = None
    channel: str | None = None


class CwConversation(_CW):
    id: int  # the display id
    inbox_id: int | None = None
    status: str = "open"
    priority: str | None = None
    labels: list[str] = []
    meta: CwConversationMeta = field(default_factory=CwConversationMeta)
    # Event payloads (EventDataPresenter#push_data) carry the channel here, not in meta.
    channel: str | None = None
    can_reply: bool | None = None
    custom_attributes: dict[str, Any] | None = None
    additional_attributes: dict[str, Any] | None = None
    created_at: Time = None
    timestamp: Any = None
    last_activity_at: Time = None
    waiting_since: Time = None
    # REST: unix seconds (0 = none); events: the raw datetime (ISO string or null).
    first_reply_created_at: Time = None
    snoozed_until: Any = None
    unread_count: int = 0
    account_id: int | None = None


class CwCounts(_CW):
    mine_count: int = 0
    assigned_count: int = 0
    unassigned_count: int = 0
    all_count: int = 0


class CwConversationListData(_CW):
    meta: CwCounts = field(default_factory=CwCounts)
    payload: list[CwConversation] = []


class CwConversationList(_CW):
    """``GET /conversations``: ``{"data": {"meta": counts, "payload": [...]}}``."""

    data: CwConversationListData


class CwConversationMetaOnly(_CW):
    """``GET /conversations/meta``: ``{"meta": counts}``."""

    meta: CwCounts = field(default_factory=CwCounts)


class CwConversationPayloadList(_CW):
    """``GET /contacts/{id}/conversations``: ``{"payload": [...]}``."""

    payload: list[CwConversation] = []


class CwCannedResponse(_CW):
    id: int
    short_code: str | None = None
    content: str | None = None


class CwNote(_CW):
    """Contact note: ``{id, content, user, created_at}`` (NOTES.md section 4)."""

    id: int
    content: str | None = None
    user: CwUser | None = None
    created_at: Any = None
    contact_id: int | None = None


class CwToggleStatusPayload(_CW):
    success: bool = True
    conversation_id: int | None = None
    current_status: str | None = None


class CwToggleStatus(_CW):
    payload: CwToggleStatusPayload = field(default_factory=CwToggleStatusPayload)


class CwError(_CW):
    """Chatwoot error bodies: ``{"error": "..."}`` or ``{"message": ..., "attributes": [...]}``."""

    error: Any = None
    errors: Any = None  # devise_token_auth's 401 when no api_access_token header arrived
    message: Any = None
    description: Any = None
