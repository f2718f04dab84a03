"""msgspec shapes of the Chatwoot agent API answers the Chatwoot backend reads.

Only the fields the console maps are declared; everything else is ignored.
Chatwoot omits keys freely (``meta.assignee`` when unassigned, ``echo_id``
unless it was sent), so every field has a default.  Ids are numbers,
timestamps unix seconds (``updated_at`` of a conversation is a float).
Sources: ``/work/shared/reference/chatwoot/application_swagger.json`` and
``NOTES.md`` (sections 2-5).
"""

from __future__ import annotations

from typing import Any

from msgspec import Struct, field


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
    """Agent JSON (``/agents``, ``meta.assignee``, message senders, push data)."""

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
    created_at: float | None = None
    last_activity_at: float | None = None


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
    created_at: float = 0
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
    custom_attributes: dict[str, Any] | None = None
    additional_attributes: dict[str, Any] | None = None
    created_at: float | None = None
    timestamp: Any = None
    last_activity_at: float | None = None
    waiting_since: float | None = None
    first_reply_created_at: float | None = None
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
    message: Any = None
    description: Any = None
