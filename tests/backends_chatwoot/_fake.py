"""An in-memory Chatwoot account behind ``httpx.MockTransport``, checked against the spec.

Every request is matched to an operation of ``spec/application_swagger.json``
(or a NOTES.md operation, see ``_spec.py``) and its path, query and JSON body
are validated; every answer is validated too.  Violations are collected in
``FakeChatwoot.violations`` (the fixture fails the test if any remain) and a
request that matches no operation is answered 404 *and* recorded.

The answers follow the shapes NOTES.md gives from Chatwoot's jbuilder views:
conversation lists under ``data.payload``, display ids as ``id``, unix
timestamps, ``{"error": "..."}`` 401s.  Only what the console calls is
implemented; an unimplemented but valid operation is a violation too (so a
test cannot pass by accident).
"""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass, field
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
        }
        self.teams = {
            1: {
                "id": 1,
                "name": "Billing",
                "description": "Invoices",
                "allow_auto_assign": False,
                "account_id": ACCOUNT_ID,
                "members": [1],
            },
            2: {
                "id": 2,
                "name": "Tech",
                "description": "Bugs",
                "allow_auto_assign": False,
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
    ) -> None:
        self.conversations[cid] = {
            "id": cid,
            "contact": contact,
            "inbox_id": inbox,
            "team": team,
            "status": status,
            "assignee": assignee,
            "created_at": self.now - 600 + cid,
            "labels": [],
            "custom_attributes": {"order": "A-1"} if cid == 101 else {},
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
        mid = next(self._ids)
        msg: dict[str, Any] = {
            "id": mid,
            "content": content,
            "account_id": ACCOUNT_ID,
            "inbox_id": self.conversations[cid]["inbox_id"],
            "conversation_id": cid,
            "message_type": message_type,
            "created_at": self.now + len(self.messages[cid]),
            "updated_at": self.now,
            "private": private,
            "status": "sent",
            "content_type": "text",
            "content_attributes": {},
            "attachments": [],
        }
        if sender is not None:
            kind, sid = sender
            msg["sender_id"] = sid
            msg["sender"] = self.contact_push(sid) if kind == "contact" else self.user_push(sid)
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
        out = dict(msg)
        if echo_id is not None:
            out["echo_id"] = echo_id  # attr_accessor: only in the create answer and the event
        return out

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
        out = {k: v for k, v in c.items() if k != "labels"}
        out.update({"thumbnail": "", "blocked": False, "type": "contact"})
        return {k: v for k, v in out.items() if v is not None}

    def conversation_json(self, cid: int) -> dict[str, Any]:
        c = self.conversations[cid]
        meta: dict[str, Any] = {
            "sender": self.contact_push(c["contact"]),
            "channel": "Channel::WebWidget",
            "hmac_verified": False,
        }
        if c["assignee"] is not None:
            meta["assignee"] = self.agent_json(c["assignee"])
            meta["assignee_type"] = "User"
        if c["team"] is not None:
            t = self.teams[c["team"]]
            meta["team"] = {"id": t["id"], "name": t["name"]}
        last = [m for m in self.messages[cid] if m["message_type"] != 2][-1:]
        return {
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
            "can_reply": True,
            "muted": False,
            "agent_last_seen_at": 0,
            "assignee_last_seen_at": 0,
            "contact_last_seen_at": 0,
            "created_at": c["created_at"],
            "timestamp": str(c["created_at"]),
            "last_activity_at": self.now,
            "updated_at": float(self.now),
            "unread_count": 1,
            "waiting_since": c["created_at"] if c["assignee"] is None else 0,
        }

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
        token = request.headers.get("api_access_token")
        if token is None:
            self.violations.append(f"{method.upper()} {path}: no api_access_token header")
        user = self.tokens.get(token or "")
        if user is None:
            return self._answer(
                match, method, path, query, body, 401, {"error": "Invalid Access Token"}
            )
        if match.route.template != "/api/v1/profile" and match.path_params.get("account_id") != str(
            ACCOUNT_ID
        ):
            return self._answer(
                match,
                method,
                path,
                query,
                body,
                401,
                {"error": "You are not authorized to access this account"},
            )
        if int(match.path_params.get("conversation_id", "0")) in self.denied_conversations:
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

    def _filter(self, user: int, query: dict[str, str], *, assignee: bool = True) -> list[int]:
        status = query.get("status", "open")
        rows = [
            cid
            for cid, c in sorted(self.conversations.items())
            if status == "all" or c["status"] == status
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
            "contact": {"payload": [self.contact_push(c["contact"])]},
        }
        if c["assignee"] is not None:
            meta["assignee"] = self.agent_json(c["assignee"])
        return 200, {"meta": meta, "payload": rows}

    def op_post_conversations_conversation_id_messages(
        self, *, user: int, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        if body.get("message_type", "outgoing") != "outgoing":
            return 422, {"message": "Message type incoming is only allowed in Api inboxes"}
        msg = self.add_message(
            cid,
            body["content"],
            message_type=1,
            private=bool(body.get("private")),
            sender=("user", user),
            echo_id=body.get("echo_id"),
        )
        self.message_posts += 1
        if self.fail_next_post_after_store > 0:
            self.fail_next_post_after_store -= 1
            raise httpx.ReadTimeout("answer lost after the message was stored")
        return 200, msg

    def op_post_conversations_conversation_id_assignments(
        self, *, user: int, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        conv = self.conversations[cid]
        if "assignee_id" in body:
            aid = body["assignee_id"]
            if aid is not None and aid not in self.users:
                return 404, {"error": "Resource could not be found"}
            conv["assignee"] = aid
            return 200, self.agent_json(aid) if aid is not None else None
        if "team_id" in body:
            tid = body["team_id"]
            if tid is not None and tid not in self.teams:
                return 404, {"error": "Resource could not be found"}
            conv["team"] = tid
            if tid is None:
                return 200, None
            t = self.teams[tid]
            return 200, {k: v for k, v in t.items() if k != "members"} | {
                "is_member": user in t["members"]
            }
        return 422, {"message": "assignee_id or team_id required"}

    def op_post_conversations_conversation_id_toggle_status(
        self, *, user: int, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        conv = self.conversations[cid]
        conv["status"] = body["status"]
        if body["status"] == "open" and self.users[user]["role"] == "agent":
            conv["assignee"] = user  # NOTES §2 gotcha: agents self-assign on reopen
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
        self, *, params: dict[str, str], body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        cid = self._conv(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        self.typing.append((cid, body["typing_status"], bool(body.get("is_private"))))
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
        self, *, params: dict[str, str], **_: Any
    ) -> tuple[int, Any]:
        cid = self._contact(params)
        if cid is None:
            return 404, {"error": "Resource could not be found"}
        rows = [r for r, c in sorted(self.conversations.items()) if c["contact"] == cid]
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
            "contact_id": cid,
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


def _name(template: str) -> str:
    """``/api/v1/accounts/{account_id}/conversations/{conversation_id}`` -> ``conversations_conversation_id``."""
    if template == "/api/v1/profile":
        return "profile"
    rest = template.removeprefix(ACCOUNT).strip("/")
    return rest.replace("/", "_").replace("{", "").replace("}", "") or "account"
