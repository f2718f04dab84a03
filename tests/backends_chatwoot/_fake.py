"""An in-memory Chatwoot account behind ``httpx.MockTransport``, checked against the spec.

Every request is matched to an operation of ``spec/application_swagger.json``
(or a NOTES.md operation, see ``_spec.py``) and its path, query and JSON body
are validated; every answer is validated too.  Violations are collected in
``FakeChatwoot.violations`` (the fixture fails the test if any remain) and a
request that matches no operation is answered 404 *and* recorded.

The answers follow Chatwoot's jbuilder views (``/work/shared/reference/
chatwoot/source/app/views``): conversation lists under ``data.payload``,
display ids as ``id``, unix timestamps, REST messages without ``sender_id``,
``account_id`` or ``updated_at`` (``_message.json.jbuilder``), notes with
``contact_id: null`` (``_note.json.jbuilder``).  Only what the console calls is
implemented; an unimplemented but valid operation is a violation too (so a
test cannot pass by accident).

Strict where Chatwoot is strict: agents see only conversations of inboxes
they are members of (``PermissionFilterService`` for lists,
``ConversationPolicy#show?`` -> 401 for one; events go to inbox members and
administrators only), an unknown account is 404, an unknown assignee or team
id is ``200 null`` *after* clearing the assignee or team
(``AssignmentService``, ``AssignmentsController#set_team``), a team change
drops an assignee outside the team and auto-assigns an online member
(``AssignmentHandler``, teams' ``allow_auto_assign`` defaults to true) with
an activity message, message-create failures are ``422 {"error": ...}``,
Rack::Attack's 429 is ``text/plain`` "Retry later" with no Retry-After.

Every mutation also produces the ActionCable events Chatwoot would broadcast
(``ActionCableListener``), with payloads built as ``EventDataPresenter#push_data``
and ``Message#push_event_data`` build them: ``channel`` and ``contact_inbox``
(the whole record) at the top level, datetimes that Rails serializes raw as
ISO-8601 strings (``first_reply_created_at``, ``snoozed_until``, a message's
``updated_at``).  ``listeners`` receive ``(event, data, user ids)``; the
loopback cable server in ``_cable.py`` delivers them.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import httpx

from tests.backends_chatwoot._spec import ACCOUNT, Match, Spec

TOKEN = "cw-token-ana"
ADMIN_TOKEN = "cw-token-bo"
ACCOUNT_ID = 7
_SPEC: Spec | None = None


def spec() -> Spec:
    global _SPEC
    if _SPEC is None:
        _SPEC = Spec.load()
    return _SPEC


@dataclass
class Exchange:
    method: str
    path: str
    query: list[tuple[str, str]]
    body: Any
    status: int


@dataclass
class FakeChatwoot:
    now: int = field(default_factory=lambda: int(time.time()))
    violations: list[str] = field(default_factory=list)
    log: list[Exchange] = field(default_factory=list)
    tokens: dict[str, int] = field(default_factory=lambda: {TOKEN: 1, ADMIN_TOKEN: 2})
    fail_next_post_after_store: int = 0  # drop the answer of N message creates (lost reply)
    message_posts: int = 0  # message creates that reached the handler (answered or not)
    denied_conversations: set[int] = field(default_factory=set)  # Pundit denial -> 401
    rate_limited: int = 0  # answer the next N requests with Rack::Attack's 429
    fail_next_message_create: str | None = None  # MessageBuilder error -> 422 {"error": ...}
    drop_token_header: bool = False  # a proxy (nginx) dropped the api_access_token header
    listeners: list[Callable[[str, dict[str, Any], set[int]], None]] = field(default_factory=list)
    events: list[tuple[str, dict[str, Any], set[int]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1000)
        self.users: dict[int, dict[str, Any]] = {
            1: {
                "id": 1,
                "name": "Ana Agent",
                "available_name": "Ana",
                "email": "ana@example.com",
                "role": "agent",
                "availability_status": "online",
                "pubsub_token": "pubsub-ana",
            },
            2: {
                "id": 2,
                "name": "Bo Admin",
                "available_name": "Bo",
                "email": "bo@example.com",
                "role": "administrator",
                "availability_status": "busy",
                "pubsub_token": "pubsub-bo",
            },
            3: {
                "id": 3,
                "name": "Cy Agent",
                "available_name": "Cy",
                "email": "cy@example.com",
                "role": "agent",
                "availability_status": "online",
                "pubsub_token": "pubsub-cy",
            },
        }
        self.tokens.setdefault("cw-token-cy", 3)
        # Inbox memberships decide what an agent sees (administrators see everything).
        self.inboxes: dict[int, dict[str, Any]] = {
            3: {"channel_type": "Channel::WebWidget", "members": {1}},
            4: {"channel_type": "Channel::Whatsapp", "members": {1}},
            5: {"channel_type": "Channel::Api", "members": {3}},
        }
        self.agent_bots = {9: {"id": 9, "name": "Helper Bot"}}
        self.teams = {
            1: {
                "id": 1,
                "name": "Billing",
                "description": "Invoices",
                "allow_auto_assign": False,
                "account_id": ACCOUNT_ID,
                "members": [1, 3],
            },
            2: {
                "id": 2,
                "name": "Tech",
                "description": "Bugs",
                "allow_auto_assign": True,  # Chatwoot's default
                "account_id": ACCOUNT_ID,
                "members": [2],
            },
        }
        self.contacts: dict[int, dict[str, Any]] = {
            11: {
                "id": 11,
                "name": "Carla <b>Customer</b>",
                "email": "carla@example.com",
                "phone_number": "+821012345678",
                "identifier": "crm-11",
                "additional_attributes": {"company_name": "Acme", "city": "Seoul"},
                "custom_attributes": {"plan": "pro", "seats": 5, "trial": False},
                "created_at": self.now - 86400,
                "labels": ["vip"],
            },
            12: {
                "id": 12,
                "name": "Dan",
                "email": None,
                "phone_number": None,
                "identifier": None,
                "additional_attributes": {},
                "custom_attributes": {},
                "created_at": self.now - 3600,
                "labels": [],
            },
        }
        self.conversations: dict[int, dict[str, Any]] = {}
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {11: []}
        self.canned = [
            {
                "id": 1,
                "account_id": ACCOUNT_ID,
                "short_code": "hello",
                "content": "Hi {{contact.name}}!",
            },
            {"id": 2, "account_id": ACCOUNT_ID, "short_code": "bye", "content": "Have a nice day."},
            {
                "id": 3,
                "account_id": ACCOUNT_ID,
                "short_code": "refund",
                "content": "Say hello to refunds.",
            },
        ]
        self.typing: list[tuple[int, str, bool]] = []
        self.transcripts: list[tuple[int, str]] = []
        self.last_seen: list[int] = []
        self.add_conversation(101, contact=11, inbox=3, team=1, status="open", assignee=None)
        self.add_conversation(102, contact=11, inbox=3, team=None, status="open", assignee=1)
        self.add_conversation(103, contact=12, inbox=3, team=None, status="pending", assignee=None)
        self.add_conversation(104, contact=12, inbox=4, team=2, status="resolved", assignee=2)
        self.add_conversation(105, contact=12, inbox=4, team=2, status="open", assignee=2)
        self.conversations[105]["waiting_since"] = None  # Bo has answered
        self.add_message(101, "Hello, my invoice is wrong", message_type=0, sender=("contact", 11))
        self.add_message(101, "Customer is VIP", message_type=1, private=True, sender=("user", 2))
        self.add_message(101, "Conversation was assigned to Billing", message_type=2, sender=None)
        self.add_message(
            102,
            "Still waiting",
            message_type=0,
            sender=("contact", 11),
            attachments=[
                {
                    "file_type": "image",
                    "extension": "png",
                    "data_url": "https://cw.example/rails/active_storage/x/screen%20shot.png",
                    "file_size": 2048,
                }
            ],
        )

    # ------------------------------------------------------------------ data helpers

    def add_conversation(
        self,
        cid: int,
        *,
        contact: int,
        inbox: int,
        team: int | None,
        status: str,
        assignee: int | None,
        bot: int | None = None,
        can_reply: bool = True,
    ) -> None:
        self.conversations[cid] = {
            "id": cid,
            "contact": contact,
            "inbox_id": inbox,
            "team": team,
            "status": status,
            "assignee": assignee,
            "bot": bot,  # assignee_agent_bot_id
            "created_at": self.now - 600 + cid,
            "labels": [],
            "custom_attributes": {"order": "A-1"} if cid == 101 else {},
            "first_reply_created_at": None,  # datetime column: unix seconds or None
            "waiting_since": self.now - 600 + cid,  # Conversation#ensure_waiting_since
            "snoozed_until": None,
            "can_reply": can_reply,
            "last_activity_at": self.now,
            "updated_at": float(self.now),
        }
        self.messages[cid] = []

    def add_message(
        self,
        cid: int,
        content: str | None,
        *,
        message_type: int,
        private: bool = False,
        sender: tuple[str, int] | None,
        echo_id: str | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Store a message (the table row); answer the REST view of it."""
        mid = next(self._ids)
        conv = self.conversations[cid]
        msg: dict[str, Any] = {
            "id": mid,
            "content": content,
            "account_id": ACCOUNT_ID,
            "inbox_id": conv["inbox_id"],
            "conversation_id": cid,
            "message_type": message_type,
            "created_at": self.now + len(self.messages[cid]),
            "updated_at": self.now + len(self.messages[cid]),
            "private": private,
            "status": "sent",
            "content_type": "text",
            "content_attributes": {},
            "attachments": [],
            "sender_type": None,
            "sender_id": None,
        }
        if sender is not None:
            kind, sid = sender
            msg["sender_type"] = {"contact": "Contact", "user": "User", "bot": "AgentBot"}[kind]
            msg["sender_id"] = sid
        for i, att in enumerate(attachments or []):
            msg["attachments"].append(
                {
                    "id": mid * 10 + i,
                    "message_id": mid,
                    "account_id": ACCOUNT_ID,
                    "thumb_url": "",
                    **att,
                }
            )
        self.messages[cid].append(msg)
        conv["last_activity_at"] = msg["created_at"]
        if echo_id is not None:
            msg["_echo_id"] = echo_id  # attr_accessor: only in the create answer and the event
        return self.message_view(msg)

    # ------------------------------------------------------------------ views and push data

    def _sender(self, msg: dict[str, Any]) -> dict[str, Any] | None:
        kind, sid = msg["sender_type"], msg["sender_id"]
        if kind == "Contact":
            return self.contact_push(sid)
        if kind == "User":
            return self.user_push(sid)
        if kind == "AgentBot":
            return self.bot_push(sid)
        return None

    def message_view(self, msg: dict[str, Any]) -> dict[str, Any]:
        """``api/v1/models/_message.json.jbuilder``: no sender_id, account_id or updated_at."""
        out: dict[str, Any] = {
            "id": msg["id"],
            "content": msg["content"],
            "inbox_id": msg["inbox_id"],
            "conversation_id": msg["conversation_id"],
            "message_type": msg["message_type"],
            "content_type": msg["content_type"],
            "status": msg["status"],
            "content_attributes": msg["content_attributes"],
            "created_at": msg["created_at"],
            "private": msg["private"],
        }
        if msg.get("_echo_id"):
            out["echo_id"] = msg.pop("_echo_id")
        sender = self._sender(msg)
        if sender is not None:
            out["sender"] = sender
        if msg["attachments"]:
            out["attachments"] = msg["attachments"]
        return out

    def message_push(self, msg: dict[str, Any], echo_id: str | None = None) -> dict[str, Any]:
        """``Message#push_event_data``: the columns (``updated_at`` a raw datetime), plus."""
        conv = self.conversations[msg["conversation_id"]]
        data = {k: v for k, v in msg.items() if not k.startswith("_") and k != "attachments"}
        data.update(
            {
                "updated_at": _iso(msg["updated_at"]),
                "source_id": None,
                "processed_message_content": msg["content"],
                "external_source_ids": {},
                "additional_attributes": {},
                "sentiment": {},
                "conversation": {
                    "assignee_id": conv["assignee"],
                    "unread_count": self._unread(msg["conversation_id"]),
                    "last_activity_at": conv["last_activity_at"],
                    "contact_inbox": {"source_id": f"src-{conv['contact']}"},
                },
            }
        )
        if echo_id:
            data["echo_id"] = echo_id
        if msg["attachments"]:
            data["attachments"] = msg["attachments"]
        sender = self._sender(msg)
        if sender is not None:
            data["sender"] = sender
        return data

    def _unread(self, cid: int) -> int:
        return min(10, sum(1 for m in self.messages[cid] if m["message_type"] == 0))

    def user_push(self, uid: int) -> dict[str, Any]:
        u = self.users[uid]
        return {
            "id": uid,
            "name": u["name"],
            "available_name": u["available_name"],
            "avatar_url": "",
            "type": "user",
            "availability_status": u["availability_status"],
            "thumbnail": "",
        }

    def bot_push(self, bid: int) -> dict[str, Any]:
        b = self.agent_bots[bid]
        return {"id": bid, "name": b["name"], "avatar_url": "", "type": "agent_bot"}

    def agent_json(self, uid: int) -> dict[str, Any]:
        u = self.users[uid]
        return {
            "id": uid,
            "account_id": ACCOUNT_ID,
            "availability_status": u["availability_status"],
            "auto_offline": True,
            "confirmed": True,
            "email": u["email"],
            "available_name": u["available_name"],
            "name": u["name"],
            "role": u["role"],
            "thumbnail": "",
        }

    def contact_push(self, cid: int) -> dict[str, Any]:
        c = self.contacts[cid]
        out = {k: v for k, v in c.items() if k not in ("labels", "created_at")}
        out.update({"thumbnail": "", "blocked": False, "type": "contact"})
        return out

    def _last_chat(self, cid: int) -> list[dict[str, Any]]:
        # messages.chat.last: not activity, not private
        chat = [m for m in self.messages[cid] if m["message_type"] != 2 and not m["private"]]
        return [self.message_push(chat[-1])] if chat else []

    def conversation_json(self, cid: int) -> dict[str, Any]:
        """``api/v1/conversations/partials/_conversation.json.jbuilder`` (REST)."""
        c = self.conversations[cid]
        # Where the swagger types a field more narrowly than Chatwoot fills it (nulls,
        # "Contact" vs "contact", ISO updated_at in the embedded push data), the REST
        # answer leaves the field out so it stays checkable; the events carry them.
        sender = {k: v for k, v in self.contact_push(c["contact"]).items() if v is not None}
        meta: dict[str, Any] = {
            "sender": sender,
            "channel": self.inboxes[c["inbox_id"]]["channel_type"],
            "hmac_verified": False,
        }
        if c["bot"] is not None:
            meta["assignee"] = {"id": c["bot"], "name": self.agent_bots[c["bot"]]["name"]}
            meta["assignee_type"] = "AgentBot"
        elif c["assignee"] is not None:
            meta["assignee"] = self.agent_json(c["assignee"])
            meta["assignee_type"] = "User"
        if c["team"] is not None:
            t = self.teams[c["team"]]
            meta["team"] = {k: v for k, v in t.items() if k != "members"}
        last = [self.message_view(dict(m)) for m in self.messages[cid]][-1:]
        out = {
            "id": cid,
            "account_id": ACCOUNT_ID,
            "uuid": f"uuid-{cid}",
            "inbox_id": c["inbox_id"],
            "status": c["status"],
            "labels": c["labels"],
            "custom_attributes": c["custom_attributes"],
            "additional_attributes": {"referer": "https://shop.example/checkout"},
            "meta": meta,
            "messages": last,
            "can_reply": c["can_reply"],
            "muted": False,
            "agent_last_seen_at": 0,
            "assignee_last_seen_at": 0,
            "contact_last_seen_at": 0,
            "created_at": c["created_at"],
            "last_activity_at": c["last_activity_at"],
            "updated_at": c["updated_at"],
            "unread_count": self._unread(cid),
            "first_reply_created_at": c["first_reply_created_at"] or 0,  # .to_i
            "waiting_since": c["waiting_since"] or 0,
            "timestamp": str(c["last_activity_at"]),  # the swagger says string
        }
        if c["snoozed_until"] is not None:
            out["snoozed_until"] = c["snoozed_until"]
        return out

    def push_data(self, cid: int) -> dict[str, Any]:
        """``Conversations::EventDataPresenter#push_data`` (every conversation event)."""
        c = self.conversations[cid]
        if c["bot"] is not None:
            assignee: dict[str, Any] | None = self.bot_push(c["bot"])
            assignee_type: str | None = "AgentBot"
        elif c["assignee"] is not None:
            assignee, assignee_type = self.user_push(c["assignee"]), "User"
        else:
            assignee, assignee_type = None, None
        team = self.teams.get(c["team"]) if c["team"] is not None else None
        return {
            "additional_attributes": {"referer": "https://shop.example/checkout"},
            "can_reply": c["can_reply"],
            "channel": self.inboxes[c["inbox_id"]]["channel_type"],
            "contact_inbox": {  # the whole ContactInbox record, datetimes raw
                "id": c["contact"] * 100 + c["inbox_id"],
                "contact_id": c["contact"],
                "inbox_id": c["inbox_id"],
                "source_id": f"src-{c['contact']}",
                "created_at": _iso(c["created_at"]),
                "updated_at": _iso(c["created_at"]),
                "hmac_verified": False,
                "pubsub_token": f"contact-pubsub-{c['contact']}",
            },
            "id": cid,
            "inbox_id": c["inbox_id"],
            "messages": self._last_chat(cid),
            "labels": c["labels"],
            "meta": {
                "sender": self.contact_push(c["contact"]),
                "assignee": assignee,
                "assignee_type": assignee_type,
                "team": {"id": team["id"], "name": team["name"]} if team else None,
                "hmac_verified": False,
            },
            "status": c["status"],
            "custom_attributes": c["custom_attributes"],
            "snoozed_until": _iso(c["snoozed_until"]),
            "unread_count": self._unread(cid),
            "first_reply_created_at": _iso(c["first_reply_created_at"]),
            "priority": None,
            "waiting_since": c["waiting_since"] or 0,
            "agent_last_seen_at": 0,
            "contact_last_seen_at": 0,
            "last_activity_at": c["last_activity_at"],
            "timestamp": c["last_activity_at"],
            "created_at": c["created_at"],
            "updated_at": c["updated_at"],
        }

    # ------------------------------------------------------------------ visibility and events

    def is_admin(self, uid: int) -> bool:
        return self.users[uid]["role"] == "administrator"

    def can_list(self, uid: int, cid: int) -> bool:
        """``PermissionFilterService``: administrators, else members of the inbox."""
        return (
            self.is_admin(uid)
            or uid in self.inboxes[self.conversations[cid]["inbox_id"]]["members"]
        )

    def can_show(self, uid: int, cid: int) -> bool:
        """``ConversationPolicy#show?``: inbox access or team access."""
        team = self.conversations[cid]["team"]
        return self.can_list(uid, cid) or (team is not None and uid in self.teams[team]["members"])

    def audience(self, cid: int) -> set[int]:
        """``ActionCableListener#user_tokens``: inbox members plus administrators."""
        inbox = self.inboxes[self.conversations[cid]["inbox_id"]]
        return set(inbox["members"]) | {u for u in self.users if self.is_admin(u)}

    def broadcast(
        self, event: str, data: dict[str, Any], to: set[int], performer: int | None = None
    ) -> None:
        payload = dict(data) | {"account_id": ACCOUNT_ID}
        if performer is not None and event.startswith("message."):
            payload["performer"] = self.user_push(performer)
        self.events.append((event, payload, set(to)))
        for listener in list(self.listeners):
            listener(event, payload, set(to))

    def conversation_changed(self, cid: int, *events: str) -> None:
        self.conversations[cid]["updated_at"] += 0.5
        for event in (*events, "conversation.updated"):
            self.broadcast(event, self.push_data(cid), self.audience(cid))

    def message_created(
        self, cid: int, row: dict[str, Any], echo_id: str | None = None, by: int | None = None
    ) -> None:
        stored = next(m for m in self.messages[cid] if m["id"] == row["id"])
        self.broadcast(
            "message.created", self.message_push(stored, echo_id), self.audience(cid), by
        )

    def _activity(self, cid: int, text: str) -> None:
        row = self.add_message(cid, text, message_type=2, sender=None)
        self.message_created(cid, row)

    # ------------------------------------------------------------------ what others do

    def customer_writes(self, cid: int, text: str) -> dict[str, Any]:
        conv = self.conversations[cid]
        row = self.add_message(cid, text, message_type=0, sender=("contact", conv["contact"]))
        self.message_created(cid, row)
        if conv["waiting_since"] is None:
            conv["waiting_since"] = row["created_at"]
            self.conversation_changed(cid)
        return row

    def customer_typing(self, cid: int, on: bool) -> None:
        conv = self.conversations[cid]
        self.broadcast(
            "conversation.typing_on" if on else "conversation.typing_off",
            {
                "conversation": self.push_data(cid),
                "user": self.contact_push(conv["contact"]),
                "is_private": False,
            },
            self.audience(cid),
        )

    def set_status(self, cid: int, status: str, snoozed_until: int | None = None) -> None:
        conv = self.conversations[cid]
        conv["status"] = status
        conv["snoozed_until"] = snoozed_until if status == "snoozed" else None
        if status == "resolved":
            conv["waiting_since"] = None
        self.conversation_changed(cid, "conversation.status_changed")

    def assign_bot(self, cid: int, bot: int) -> None:
        conv = self.conversations[cid]
        conv["assignee"], conv["bot"] = None, bot
        self.conversation_changed(cid, "assignee.changed")

    def fail_delivery(self, mid: int, error: str) -> None:
        """``Messages::StatusUpdateService`` from a channel: status failed + external_error."""
        msg, cid = self._find_message(mid)
        msg["status"] = "failed"
        msg["content_attributes"] = dict(msg["content_attributes"], external_error=error)
        msg["updated_at"] += 1
        self.broadcast(
            "message.updated",
            self.message_push(msg) | {"previous_changes": {"status": ["sent", "failed"]}},
            self.audience(cid),
        )

    def delete_message(self, mid: int) -> None:
        """``MessagesController#destroy``: content replaced, ``deleted: true``."""
        msg, cid = self._find_message(mid)
        before = msg["content"]
        msg["content"] = "This message was deleted"
        msg["content_attributes"] = {"deleted": True}
        msg["updated_at"] += 1
        self.broadcast(
            "message.updated",
            self.message_push(msg) | {"previous_changes": {"content": [before, msg["content"]]}},
            self.audience(cid),
        )

    def _find_message(self, mid: int) -> tuple[dict[str, Any], int]:
        for cid, rows in self.messages.items():
            for msg in rows:
                if msg["id"] == mid:
                    return msg, cid
        raise KeyError(mid)

    def counts(self, rows: list[int], me: int) -> dict[str, int]:
        return {
            "mine_count": sum(1 for r in rows if self.conversations[r]["assignee"] == me),
            "assigned_count": sum(1 for r in rows if self.conversations[r]["assignee"] is not None),
            "unassigned_count": sum(1 for r in rows if self.conversations[r]["assignee"] is None),
            "all_count": len(rows),
        }

    # ------------------------------------------------------------------ transport

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        method = request.method.lower()
        path = request.url.path
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        raw = request.content
        body: Any = None
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                self.violations.append(f"{method.upper()} {path}: body is not JSON")
        match, problems = spec().match(method, path)
        if match is None:
            self.violations += problems
            return self._answer(None, method, path, query, body, 404, {"error": "not in spec"})
        problems = spec().check_query(match, query)
        problems += spec().check_request_body(match, body, bool(raw))
        if raw and request.headers.get("content-type", "").split(";")[0] != "application/json":
            problems.append("JSON body without Content-Type: application/json")
        self.violations += [f"{method.upper()} {path}: {p}" for p in problems]
        if problems:
            return self._answer(
                match, method, path, query, body, 422, {"message": "off-spec request"}
            )
        if self.rate_limited > 0:
            # Rack::Attack's default throttled response: text/plain, no Retry-After.
            self.rate_limited -= 1
            self.log.append(Exchange(method.upper(), path, query, body, 429))
            return httpx.Response(
                429, content=b"Retry later\n", headers={"Content-Type": "text/plain"}
            )
        token = request.headers.get("api_access_token")
        if token is None:
            self.violations.append(f"{method.upper()} {path}: no api_access_token header")
        if self.drop_token_header:
            # No api_access_token arrived: devise_token_auth answers instead, with
            # {"errors": [text]}, a shape the swagger's 401 schema does not know.
            return self._answer(
                None,
                method,
                path,
                query,
                body,
                401,
                {"errors": ["You need to sign in or sign up before continuing."]},
            )
        user = self.tokens.get(token or "")
        if user is None:
            return self._answer(
                match, method, path, query, body, 401, {"error": "Invalid Access Token"}
            )
        if match.route.template != "/api/v1/profile" and match.path_params.get("account_id") != str(
            ACCOUNT_ID
        ):
            # EnsureCurrentAccountHelper: Account.find -> RecordNotFound -> 404.
            return self._answer(
                match, method, path, query, body, 404, {"error": "Resource could not be found"}
            )
        conv_id = int(match.path_params.get("conversation_id", "0"))
        if conv_id in self.conversations and not self.can_show(user, conv_id):
            return self._answer(
                match,
                method,
                path,
                query,
                body,
                401,
                {"error": "You are not authorized to do this action"},
            )
        if conv_id in self.denied_conversations:
            return self._answer(
                match,
                method,
                path,
                query,
                body,
                401,
                {"error": "You are not authorized to do this action"},
            )
        handler = getattr(self, "op_" + method + "_" + _name(match.route.template), None)
        if handler is None:
            self.violations.append(
                f"fake does not implement {method.upper()} {match.route.template}"
            )
            return self._answer(match, method, path, query, body, 404, {"error": "not implemented"})
        status, payload = handler(user=user, params=match.path_params, query=dict(query), body=body)
        return self._answer(match, method, path, query, body, status, payload)

    def _answer(
        self,
        match: Match | None,
        method: str,
        path: str,
        query: list[tuple[str, str]],
        body: Any,
        status: int,
        payload: Any,
    ) -> httpx.Response:
        self.log.append(Exchange(method.upper(), path, query, body, status))
        if match is not None:
            problems = spec().check_response(match, status, payload, payload is not _EMPTY)
            self.violations += [f"{method.upper()} {path}: {p}" for p in problems]
        if payload is _EMPTY:
            return httpx.Response(status)
        return httpx.Response(status, json=payload)

    def mutations(self) -> list[Exchange]:
        return [e for e in self.log if e.method != "GET"]

    # ------------------------------------------------------------------ operations

    def op_get_profile(self, *, user: int, **_: Any) -> tuple[int, Any]:
        u = self.users[user]
        return 200, {
            "id": user,
            "name": u["name"],
            "available_name": u["available_name"],
            "email": u["email"],
            "access_token": "hidden",
            "pubsub_token": u["pubsub_token"],
            "confirmed": True,
            "accounts": [
                {
                    "id": ACCOUNT_ID,
                    "name": "Acme Support",
                    "role": u["role"],
                    "availability": u["availability_status"],
                    "availability_status": u["availability_status"],
                    "auto_offline": True,
                    "permissions": [],
                }
            ],
        }

    def op_get_teams(self, *, user: int, **_: Any) -> tuple[int, Any]:
        return 200, [
            {k: v for k, v in t.items() if k != "members"} | {"is_member": user in t["members"]}
            for t in self.teams.values()
        ]

    def op_get_agents(self, **_: Any) -> tuple[int, Any]:
        return 200, [self.agent_json(uid) for uid in self.users]

    def op_get_assignable_agents(self, *, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        inbox = int(query["inbox_ids[]"])
        if inbox not in self.inboxes:
            return 404, {"error": "Resource could not be found"}
        ids = [u for u in self.users if u in self.inboxes[inbox]["members"] or self.is_admin(u)]
        return 200, {"payload": [self.agent_json(u) for u in ids]}

    def _filter(self, user: int, query: dict[str, str], *, assignee: bool = True) -> list[int]:
        status = query.get("status", "open")
        rows = [
            cid
            for cid, c in sorted(self.conversations.items())
            if (status == "all" or c["status"] == status) and self.can_list(user, cid)
        ]
        if "inbox_id" in query:
            rows = [r for r in rows if self.conversations[r]["inbox_id"] == int(query["inbox_id"])]
        if "team_id" in query:
            rows = [r for r in rows if self.conversations[r]["team"] == int(query["team_id"])]
        return rows

    def op_get_conversations(
        self, *, user: int, query: dict[str, str], **_: Any
    ) -> tuple[int, Any]:
        rows = self._filter(user, query)
        counts = self.counts(rows, user)
        kind = query.get("assignee_type", "all")
        if kind == "me":
            rows = [r for r in rows if self.conversations[r]["assignee"] == user]
        elif kind == "unassigned":
            rows = [r for r in rows if self.conversations[r]["assignee"] is None]
        elif kind == "assigned":
            rows = [r for r in rows if self.conversations[r]["assignee"] is not None]
        page = int(query.get("page", "1"))
        rows = rows[(page - 1) * 25 : page * 25]
        return 200, {"data": {"meta": counts, "payload": [self.conversation_json(r) for r in rows]}}

    def op_get_conversations_meta(
        self, *, user: int, query: dict[str, str], **_: Any
    ) -> tuple[int, Any]:
        return 200, {"meta": self.counts(self._filter(user, query), user)}

    def _conv(self, params: dict[str, str]) -> int | None:
        cid = int(params["conversation_id"])
        return cid if cid in self.conversations else None

    def op_get_conversations_conversation_id(
        self, *, params: dict[str, str], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        return 200, self.conversation_json(cid)

    def op_get_conversations_conversation_id_messages(
        self, *, params: dict[str, str], query: dict[str, str], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        rows = self.messages[cid]
        if "before" in query and "after" in query:
            rows = [m for m in rows if int(query["after"]) <= m["id"] < int(query["before"])][:1000]
        elif "before" in query:
            rows = [m for m in rows if m["id"] < int(query["before"])][-20:]
        elif "after" in query:
            rows = [m for m in rows if m["id"] > int(query["after"])][:100]
        else:
            rows = rows[-20:]
        c = self.conversations[cid]
        meta: dict[str, Any] = {
            "labels": c["labels"],
            "additional_attributes": {},
            "contact": {
                "payload": [
                    {k: v for k, v in self.contact_push(c["contact"]).items() if v is not None}
                ]
            },
        }
        if c["assignee"] is not None:
            meta["assignee"] = self.agent_json(c["assignee"])
        return 200, {"meta": meta, "payload": [self.message_view(m) for m in rows]}

    def op_post_conversations_conversation_id_messages(
        self, *, user: int, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        if body.get("message_type", "outgoing") != "outgoing":
            return 422, {"error": "Message type incoming is only allowed in Api inboxes"}
        if self.fail_next_message_create is not None:
            # MessagesController#create: rescue StandardError -> render_could_not_create_error.
            error, self.fail_next_message_create = self.fail_next_message_create, None
            return 422, {"error": error}
        private = bool(body.get("private"))
        msg = self.add_message(
            cid,
            _render_liquid(body["content"], self, cid, user),
            message_type=1,
            private=private,
            sender=("user", user),
            echo_id=body.get("echo_id"),
        )
        self.message_posts += 1
        self.message_created(cid, msg, body.get("echo_id"), user)
        conv = self.conversations[cid]
        if not private and conv["first_reply_created_at"] is None:
            conv["first_reply_created_at"] = msg["created_at"]
            conv["waiting_since"] = None
            self.broadcast(
                "first.reply.created",
                self.message_push(self.messages[cid][-1]),
                self.audience(cid),
                user,
            )
            self.conversation_changed(cid)
        elif not private and conv["waiting_since"] is not None:
            conv["waiting_since"] = None
            self.conversation_changed(cid)
        if self.fail_next_post_after_store > 0:
            self.fail_next_post_after_store -= 1
            raise httpx.ReadTimeout("answer lost after the message was stored")
        return 200, msg

    def op_post_conversations_conversation_id_assignments(
        self, *, user: int, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        """``AssignmentsController#create``: unknown ids are ``200 null`` after clearing."""
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        conv = self.conversations[cid]
        by = self.users[user]["name"]
        if "assignee_id" in body:
            aid = body["assignee_id"]
            if body.get("assignee_type") == "AgentBot":
                if aid not in self.agent_bots:
                    return 200, None
                self.assign_bot(cid, aid)
                return 200, {"id": aid, "name": self.agent_bots[aid]["name"]}
            known = aid if aid in self.users else None  # account.users.find_by(id:)
            before = conv["assignee"]
            conv["assignee"], conv["bot"] = known, None
            if before != known:
                if known is None:
                    self._activity(cid, f"Conversation unassigned by {by}")
                elif known == user:
                    self._activity(cid, f"{by} self-assigned this conversation")
                else:
                    self._activity(cid, f"Assigned to {self.users[known]['name']} by {by}")
                self.conversation_changed(cid, "assignee.changed")
            return 200, self.agent_json(known) if known is not None else None
        if "team_id" in body:
            tid = body["team_id"] if body["team_id"] in self.teams else None
            self._change_team(cid, tid, by)
            if tid is None:
                return 200, None
            t = self.teams[tid]
            return 200, {k: v for k, v in t.items() if k != "members"} | {
                "is_member": user in t["members"]
            }
        return 200, None

    def _change_team(self, cid: int, tid: int | None, by: str) -> None:
        """``AssignmentHandler#ensure_assignee_is_from_team`` + the team activity message."""
        conv = self.conversations[cid]
        if conv["team"] == tid:
            return
        conv["team"] = tid
        before = conv["assignee"]
        team = self.teams[tid] if tid is not None else None
        members = team["members"] if team else []
        if team is not None and before is not None and before not in members:
            conv["assignee"] = None  # validate_current_assignee_team
        if conv["assignee"] is None and team is not None and team["allow_auto_assign"]:
            inbox_members = self.inboxes[conv["inbox_id"]]["members"]
            online = [
                u
                for u in members
                if u in inbox_members and self.users[u]["availability_status"] == "online"
            ]
            conv["assignee"] = online[0] if online else None
        events = ["team.changed"]
        if conv["assignee"] != before:
            events.append("assignee.changed")
        if team is None:
            self._activity(cid, f"Unassigned from team by {by}")
        elif conv["assignee"] is not None and conv["assignee"] != before:
            name = self.users[conv["assignee"]]["name"]
            self._activity(cid, f"Assigned to {name} via {team['name']} by {by}")
        else:
            self._activity(cid, f"Assigned to {team['name']} by {by}")
        self.conversation_changed(cid, *events)

    def op_post_conversations_conversation_id_toggle_status(
        self, *, user: int, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        conv = self.conversations[cid]
        if body["status"] == "open" and self.users[user]["role"] == "agent":
            conv["assignee"] = user  # NOTES §2 gotcha: agents self-assign on reopen
        self.set_status(cid, body["status"])
        return 200, {
            "meta": {},
            "payload": {
                "success": True,
                "conversation_id": cid,
                "current_status": conv["status"],
                "snoozed_until": None,
            },
        }

    def op_post_conversations_conversation_id_toggle_typing_status(
        self, *, user: int, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        self.typing.append((cid, body["typing_status"], bool(body.get("is_private"))))
        self.broadcast(  # typing_event_listener_tokens: everyone but the typer
            "conversation.typing_" + body["typing_status"],
            {
                "conversation": self.push_data(cid),
                "user": self.user_push(user),
                "is_private": bool(body.get("is_private")),
            },
            self.audience(cid) - {user},
        )
        return 200, _EMPTY

    def op_post_conversations_conversation_id_transcript(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        self.transcripts.append((cid, body["email"]))
        return 200, _EMPTY

    def op_post_conversations_conversation_id_update_last_seen(
        self, *, params: dict[str, str], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        self.last_seen.append(cid)
        return 200, _EMPTY

    def _contact(self, params: dict[str, str]) -> int | None:
        cid = int(params["id"])
        return cid if cid in self.contacts else None

    def op_get_contacts_id(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        cid = self._contact(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        c = self.contacts[cid]
        payload = {k: v for k, v in c.items() if k != "labels"} | {
            "thumbnail": "",
            "blocked": False,
            "availability_status": "online",
            "contact_inboxes": [],
        }
        return 200, {"payload": payload}

    def op_get_contacts_id_labels(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        cid = self._contact(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        return 200, {"payload": self.contacts[cid]["labels"]}

    def op_post_contacts_id_labels(
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._contact(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        self.contacts[cid]["labels"] = list(body["labels"])
        return 200, {"payload": self.contacts[cid]["labels"]}

    def op_get_contacts_id_conversations(
        self, *, user: int, params: dict[str, str], **_: Any
    ) -> tuple[int, Any]:
        cid = self._contact(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        rows = [
            r
            for r, c in sorted(self.conversations.items())
            if c["contact"] == cid and self.can_list(user, r)
        ]
        return 200, {"payload": [self.conversation_json(r) for r in rows]}

    def op_get_contacts_id_notes(self, *, params: dict[str, str], **_: Any) -> tuple[int, Any]:
        cid = self._contact(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        return 200, list(reversed(self.notes.get(cid, [])))

    def op_post_contacts_id_notes(
        self, *, user: int, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._contact(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        note = {
            "id": next(self._ids),
            "content": body["note"]["content"],
            "account_id": None,  # _note.json.jbuilder: `json.contact_id json.contact_id`
            "contact_id": None,
            "user": self.agent_json(user),
            "created_at": self.now,
            "updated_at": self.now,
        }
        self.notes.setdefault(cid, []).append(note)
        return 200, note

    def op_get_canned_responses(self, *, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        term = query.get("search", "").lower()
        rows = [
            c
            for c in self.canned
            if term in c["short_code"].lower() or term in c["content"].lower()
        ]
        rows.sort(
            key=lambda c: (
                not c["short_code"].lower().startswith(term),
                term not in c["short_code"].lower(),
            )
        )
        return 200, rows

    def op_post_canned_responses(self, *, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        if any(c["short_code"] == body.get("short_code") for c in self.canned):
            return 422, {
                "message": "Short code has already been taken",
                "attributes": ["short_code"],
            }
        row = {
            "id": next(self._ids),
            "account_id": ACCOUNT_ID,
            "short_code": body["short_code"],
            "content": body["content"],
        }
        self.canned.append(row)
        return 200, row


_EMPTY: Any = object()


def _iso(value: float | None) -> str | None:
    """A Rails datetime as ActiveSupport serializes it: ISO-8601 with milliseconds."""
    if value is None:
        return None
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _render_liquid(content: str, fake: FakeChatwoot, cid: int, user: int) -> str:
    """``Liquidable#process_liquid_in_content`` for the variables the tests use."""
    import re

    contact = fake.contacts[fake.conversations[cid]["contact"]]
    values = {
        "contact.name": contact["name"] or "",
        "contact.first_name": (contact["name"] or "").split(" ")[0],
        "agent.name": fake.users[user]["name"],
        "conversation.id": str(cid),
    }
    return re.sub(r"\{\{\s*([\w.]+)\s*\}\}", lambda m: values.get(m.group(1), ""), content)


def _name(template: str) -> str:
    """``/api/v1/accounts/{account_id}/conversations/{conversation_id}`` -> ``conversations_conversation_id``."""
    if template == "/api/v1/profile":
        return "profile"
    rest = template.removeprefix(ACCOUNT).strip("/")
    return rest.replace("/", "_").replace("{", "").replace("}", "") or "account"
