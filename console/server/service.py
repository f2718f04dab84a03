"""Domain logic of the reference server: rows → protocol models, routing, messages, events.

Every function here runs synchronously inside the caller's
:meth:`Database.transaction` (nothing awaits), so a request's changes and the
events describing them commit together or not at all.

Routing rules (also in ``docs/protocol.md``):

* A new conversation joins its department.  If the department has pre-chat
  questions the customer did not answer, it starts in ``bot`` state and the bot
  asks them one by one; then it becomes ``queued``.
* A queued conversation goes to the online, accepting agent of that department
  who is *present* (a console of theirs has the stream open, or had it within
  the reconnect grace period; see :class:`Presence`) with the most free
  capacity; ties go to the agent with the fewest chats
  today (so work spreads evenly), then to the longest-idle.  If nobody has room,
  it stays queued and the queue drains, oldest first, whenever an agent comes
  online, starts accepting, raises capacity, closes or transfers a chat.
* Outside a department's business hours the customer gets its offline message
  as a system message (the chat is still queued).
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from console.protocol import models as m
from console.server.db import Database, iso, new_id, now_iso, parse_time, utcnow
from console.server.errors import ApiError, bad_request, not_found

CONV_SELECT = """
SELECT c.*, cu.name AS customer_name, cu.email AS customer_email,
       d.name AS department_name, u.name AS assignee_name
FROM conversations c
JOIN customers cu ON cu.id = c.customer_id
JOIN departments d ON d.id = c.department_id
LEFT JOIN users u ON u.id = c.assignee_id
"""

ACTIVE_STATES = ("active",)

FOLLOW_UP_SELECT = """
SELECT f.*, cu.name AS customer_name
FROM follow_ups f
JOIN customers cu ON cu.id = f.customer_id
"""


def _json(row_value: str | None, default: Any) -> Any:
    if not row_value:
        return default
    try:
        return json.loads(row_value)
    except ValueError:
        return default


def encode(obj: Any) -> str:
    return msgspec.json.encode(obj).decode("utf-8")


def today_start(now: datetime | None = None) -> str:
    now = now or utcnow()
    return iso(now.replace(hour=0, minute=0, second=0, microsecond=0))


# --------------------------------------------------------------------------- business hours


def department_open(row: sqlite3.Row, now: datetime | None = None) -> bool:
    """Is the department within its business hours now?  ``hours`` NULL = always open."""
    hours = _json(row["hours"], None)
    if hours is None:
        return True
    local = (now or utcnow()) + timedelta(minutes=int(row["utc_offset_minutes"] or 0))
    span = hours.get(str(local.weekday()))
    if not span:
        return False
    try:
        start_s, end_s = span.split("-")
        start = int(start_s[:2]) * 60 + int(start_s[3:5])
        end = int(end_s[:2]) * 60 + int(end_s[3:5])
    except (ValueError, IndexError):
        return True
    minute = local.hour * 60 + local.minute
    if end <= start:  # spans midnight
        return minute >= start or minute < end
    return start <= minute < end


# --------------------------------------------------------------------------- models


class Presence:
    """Which agents have a console attached: an open stream, or one closed less than
    ``grace_seconds`` ago (a reconnecting console keeps its place).

    Status ``online`` is what the agent said; presence is whether anyone is there.
    The seeded demo agent is ``online`` with no console, and chats routed to them
    waited for nobody.  In memory, per server process; thread-safe.
    """

    def __init__(
        self, grace_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.grace_seconds = grace_seconds
        self.clock = clock
        self._open: dict[str, int] = {}
        self._left_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def opened(self, agent_id: str) -> bool:
        """A stream of ``agent_id`` opened; True if they were absent before (drain the queue)."""
        with self._lock:
            was_present = self._is_present(agent_id)
            self._open[agent_id] = self._open.get(agent_id, 0) + 1
            self._left_at.pop(agent_id, None)
            return not was_present

    def closed(self, agent_id: str) -> None:
        """A stream of ``agent_id`` closed; with none left, the grace period starts."""
        with self._lock:
            count = self._open.get(agent_id, 0) - 1
            if count > 0:
                self._open[agent_id] = count
                return
            self._open.pop(agent_id, None)
            self._left_at[agent_id] = self.clock()

    def is_present(self, agent_id: str) -> bool:
        with self._lock:
            return self._is_present(agent_id)

    def _is_present(self, agent_id: str) -> bool:
        if self._open.get(agent_id, 0) > 0:
            return True
        left = self._left_at.get(agent_id)
        return left is not None and self.clock() - left < self.grace_seconds


class Service:
    """Operations on one :class:`Database`; see the module docstring."""

    def __init__(self, db: Database, presence: Presence | None = None) -> None:
        self.db = db
        self.presence = presence
        """Who has a console attached; ``None`` (CLI tools) routes to every online agent."""

    # ----------------------------------------------------------------- departments

    def department_row(self, ref: str) -> sqlite3.Row | None:
        return self.db.one(
            "SELECT * FROM departments WHERE id = ? OR name = ? COLLATE NOCASE ORDER BY id = ? DESC",
            (ref, ref, ref),
        )

    def department_model(self, row: sqlite3.Row) -> m.Department:
        return m.Department(
            id=row["id"],
            name=row["name"],
            open_now=department_open(row),
            offline_message=row["offline_message"],
            escalation=bool(row["escalation"]),
        )

    def departments(self) -> list[m.Department]:
        rows = self.db.all("SELECT * FROM departments ORDER BY position, created_at")
        return [self.department_model(r) for r in rows]

    def all_department_ids(self) -> list[str]:
        return [
            r[0] for r in self.db.all("SELECT id FROM departments ORDER BY position, created_at")
        ]

    # ----------------------------------------------------------------- users

    def user_row(self, user_id: str) -> sqlite3.Row | None:
        return self.db.one("SELECT * FROM users WHERE id = ?", (user_id,))

    def user_department_ids(self, user_id: str) -> list[str]:
        ids = [
            r[0]
            for r in self.db.all(
                "SELECT department_id FROM user_departments WHERE user_id = ?", (user_id,)
            )
        ]
        return ids or self.all_department_ids()

    def active_count(self, agent_id: str) -> int:
        row = self.db.one(
            "SELECT COUNT(*) FROM conversations WHERE assignee_id = ? AND state = 'active'",
            (agent_id,),
        )
        return int(row[0]) if row else 0

    def chats_today(self, agent_id: str) -> int:
        row = self.db.one(
            "SELECT COUNT(DISTINCT conversation_id) FROM assignments WHERE agent_id = ? AND at >= ?",
            (agent_id, today_start()),
        )
        return int(row[0]) if row else 0

    def agent_model(self, row: sqlite3.Row) -> m.Agent:
        return m.Agent(
            id=row["id"],
            name=row["name"],
            status=row["status"],
            capacity=int(row["capacity"]),
            accepting=bool(row["accepting"]),
            department_ids=self.user_department_ids(row["id"]),
            active_count=self.active_count(row["id"]),
            languages=[str(x) for x in _json(row["languages"], [])],
            senior=bool(row["senior"]),
        )

    def me_model(self, role: str, subject_id: str) -> m.Me:
        if role == "customer":
            row = self.db.one("SELECT * FROM customers WHERE id = ?", (subject_id,))
            if row is None:
                raise not_found("Customer")
            return m.Me(id=row["id"], name=row["name"], role="customer", status="online")
        row = self.user_row(subject_id)
        if row is None:
            raise not_found("User")
        return m.Me(
            id=row["id"],
            name=row["name"],
            role=row["role"],
            status=row["status"],
            capacity=int(row["capacity"]),
            accepting=bool(row["accepting"]),
            department_ids=self.user_department_ids(row["id"]),
        )

    def emit_agent(self, agent_id: str) -> None:
        row = self.user_row(agent_id)
        if row is not None and row["role"] == "agent":
            self.db.append_event("agent.updated", encode(self.agent_model(row)))

    # ----------------------------------------------------------------- customers

    def customer_row(self, customer_id: str) -> sqlite3.Row | None:
        return self.db.one("SELECT * FROM customers WHERE id = ?", (customer_id,))

    def customer_model(self, row: sqlite3.Row) -> m.Customer:
        activity = self.db.all(
            "SELECT * FROM customer_activity WHERE customer_id = ? ORDER BY id DESC LIMIT 50",
            (row["id"],),
        )
        return m.Customer(
            id=row["id"],
            name=row["name"],
            email=row["email"],
            account={str(k): str(v) for k, v in _json(row["account"], {}).items()},
            custom_fields={str(k): str(v) for k, v in _json(row["custom_fields"], {}).items()},
            tags=[str(t) for t in _json(row["tags"], [])],
            activity=[
                m.Activity(at=datetime.fromisoformat(a["at"]), kind=a["kind"], text=a["text"])
                for a in activity
            ],
            created_at=datetime.fromisoformat(row["created_at"]),
        )

    def add_activity(self, customer_id: str, kind: str, text: str, at: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO customer_activity (customer_id, at, kind, text) VALUES (?,?,?,?)",
            (customer_id, at or now_iso(), kind, text),
        )

    def note_model(self, row: sqlite3.Row) -> m.CustomerNote:
        return m.CustomerNote(
            id=row["id"],
            customer_id=row["customer_id"],
            author_id=row["author_id"],
            author_name=row["author_name"],
            body=row["body"],
            created_at=datetime.fromisoformat(row["created_at"]),
        )

    # ----------------------------------------------------------------- follow-ups

    def follow_up_model(self, row: sqlite3.Row) -> m.FollowUp:
        return m.FollowUp(
            id=row["id"],
            conversation_id=row["conversation_id"],
            customer_id=row["customer_id"],
            customer_name=row["customer_name"],
            agent_id=row["agent_id"],
            agent_name=row["agent_name"],
            channel=row["channel"],
            due_at=datetime.fromisoformat(row["due_at"]),
            note=row["note"],
            state=row["state"],
            created_at=datetime.fromisoformat(row["created_at"]),
            done_at=parse_time(row["done_at"]),
        )

    def follow_up(self, follow_up_id: str) -> m.FollowUp:
        row = self.db.one(FOLLOW_UP_SELECT + " WHERE f.id = ?", (follow_up_id,))
        if row is None:
            raise not_found("Follow-up")
        return self.follow_up_model(row)

    def emit_follow_up(self, follow_up_id: str, kind: str = "follow_up.updated") -> m.FollowUp:
        """Staff-only event (customers never see follow-ups)."""
        model = self.follow_up(follow_up_id)
        self.db.append_event(kind, encode(model))
        return model

    # ----------------------------------------------------------------- conversations

    def conversation_row(self, conv_id: str) -> sqlite3.Row | None:
        return self.db.one(CONV_SELECT + " WHERE c.id = ?", (conv_id,))

    def require_conversation(self, conv_id: str) -> sqlite3.Row:
        row = self.conversation_row(conv_id)
        if row is None:
            raise not_found("Conversation")
        return row

    def conversation_model(self, row: sqlite3.Row) -> m.Conversation:
        return m.Conversation(
            id=row["id"],
            customer_id=row["customer_id"],
            customer_name=row["customer_name"],
            customer_email=row["customer_email"],
            department_id=row["department_id"],
            department_name=row["department_name"],
            state=row["state"],
            assignee_id=row["assignee_id"],
            assignee_name=row["assignee_name"],
            channel=row["channel"],
            page_url=row["page_url"],
            prechat={str(k): str(v) for k, v in _json(row["prechat"], {}).items()},
            created_at=datetime.fromisoformat(row["created_at"]),
            queued_at=parse_time(row["queued_at"]),
            assigned_at=parse_time(row["assigned_at"]),
            closed_at=parse_time(row["closed_at"]),
            last_message_at=parse_time(row["last_message_at"]),
            waiting_since=parse_time(row["waiting_since"]),
            first_response_at=parse_time(row["first_response_at"]),
            csat_score=row["csat_score"],
            csat_comment=row["csat_comment"],
            abandoned=bool(row["abandoned"]),
            closed_by_id=row["closed_by_id"],
            closed_by_name=row["closed_by_name"],
            language=row["language"],
            escalated_at=parse_time(row["escalated_at"]),
            escalated_by_name=row["escalated_by_name"],
            escalation_reason=row["escalation_reason"],
        )

    def conversation(self, conv_id: str) -> m.Conversation:
        return self.conversation_model(self.require_conversation(conv_id))

    def emit_conversation(self, conv_id: str, kind: str = "conversation.updated") -> m.Conversation:
        row = self.require_conversation(conv_id)
        model = self.conversation_model(row)
        if model.escalated_at is None:
            self.db.append_event(kind, encode(model), customer_id=row["customer_id"], public=True)
            return model
        # Escalation details are staff-only: the customer's copy goes first without them,
        # then staff get the full model (the later event wins in their store).
        self.db.append_event(
            kind, encode(for_customer(model)), customer_id=row["customer_id"], public=True
        )
        self.db.append_event(kind, encode(model), customer_id=row["customer_id"], public=False)
        return model

    def update_conversation(self, conv_id: str, **fields: Any) -> None:
        cols = ", ".join(f"{k} = ?" for k in fields)
        self.db.execute(
            f"UPDATE conversations SET {cols} WHERE id = ?", (*fields.values(), conv_id)
        )

    # ----------------------------------------------------------------- messages

    def message_models(self, rows: Sequence[sqlite3.Row]) -> list[m.Message]:
        if not rows:
            return []
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        attachments: dict[str, list[m.Attachment]] = {}
        for a in self.db.all(
            f"SELECT * FROM attachments WHERE message_id IN ({marks}) ORDER BY created_at",
            tuple(ids),
        ):
            attachments.setdefault(a["message_id"], []).append(self.attachment_model(a))
        return [
            m.Message(
                id=r["id"],
                conversation_id=r["conversation_id"],
                author_kind=r["author_kind"],
                author_id=r["author_id"],
                author_name=r["author_name"],
                body=r["body"],
                internal=bool(r["internal"]),
                client_id=r["client_id"],
                attachments=attachments.get(r["id"], []),
                created_at=datetime.fromisoformat(r["created_at"]),
            )
            for r in rows
        ]

    def insert_message(
        self,
        conv_id: str,
        *,
        author_kind: str,
        author_id: str | None,
        author_name: str,
        body: str,
        internal: bool = False,
        client_id: str | None = None,
        attachment_ids: Iterable[str] = (),
        customer_id: str | None = None,
    ) -> m.Message:
        """Insert a message, attach uploads, bump ``last_message_at`` and append ``message.created``."""
        msg_id = new_id("msg")
        at = now_iso()
        self.db.execute(
            "INSERT INTO messages (id, conversation_id, author_kind, author_id, author_name, body, "
            "internal, client_id, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                msg_id,
                conv_id,
                author_kind,
                author_id,
                author_name,
                body,
                int(internal),
                client_id,
                at,
            ),
        )
        attached: list[m.Attachment] = []
        ids = list(attachment_ids)
        if ids:
            for att in ids:
                self.db.execute("UPDATE attachments SET message_id = ? WHERE id = ?", (msg_id, att))
            attached = [
                self.attachment_model(a)
                for a in self.db.all(
                    "SELECT * FROM attachments WHERE message_id = ? ORDER BY created_at", (msg_id,)
                )
            ]
        self.update_conversation(conv_id, last_message_at=at)
        # The model from the values just written (no re-SELECT of the row).
        model = m.Message(
            id=msg_id,
            conversation_id=conv_id,
            author_kind=author_kind,  # type: ignore[arg-type]
            author_id=author_id,
            author_name=author_name,
            body=body,
            internal=internal,
            client_id=client_id,
            attachments=attached,
            created_at=datetime.fromisoformat(at),
        )
        if customer_id is None:
            conv = self.db.one("SELECT customer_id FROM conversations WHERE id = ?", (conv_id,))
            customer_id = conv[0] if conv else None
        self.db.append_event(
            "message.created",
            encode(model),
            customer_id=customer_id,
            public=not internal,
            actor_id=author_id,
        )
        return model

    def system_message(self, conv_id: str, body: str, *, kind: str = "system") -> m.Message:
        return self.insert_message(
            conv_id,
            author_kind=kind,
            author_id=None,
            author_name="Bot" if kind == "bot" else "",
            body=body,
        )

    def message_page(
        self,
        conv_id: str,
        *,
        before: str | None,
        after: str | None,
        limit: int,
        include_internal: bool,
    ) -> m.MessagePage:
        where = "conversation_id = ?"
        params: list[Any] = [conv_id]
        if not include_internal:
            where += " AND internal = 0"

        def seq_of(message_id: str) -> int:
            row = self.db.one(
                "SELECT seq FROM messages WHERE id = ? AND conversation_id = ?",
                (message_id, conv_id),
            )
            if row is None:
                raise bad_request(
                    f"Message {message_id!r} is not in this conversation; use an id from a previous page."
                )
            return int(row[0])

        if after is not None:
            rows = self.db.all(
                f"SELECT * FROM messages WHERE {where} AND seq > ? ORDER BY seq ASC LIMIT ?",
                (*params, seq_of(after), limit + 1),
            )
            has_more = len(rows) > limit
            rows = rows[:limit]
        else:
            extra = ""
            if before is not None:
                extra = " AND seq < ?"
                params.append(seq_of(before))
            rows = self.db.all(
                f"SELECT * FROM messages WHERE {where}{extra} ORDER BY seq DESC LIMIT ?",
                (*params, limit + 1),
            )
            has_more = len(rows) > limit
            rows = list(reversed(rows[:limit]))
        return m.MessagePage(items=self.message_models(rows), has_more=has_more)

    def find_by_client_id(self, conv_id: str, client_id: str) -> m.Message | None:
        row = self.db.one(
            "SELECT * FROM messages WHERE conversation_id = ? AND client_id = ?",
            (conv_id, client_id),
        )
        return None if row is None else self.message_models([row])[0]

    def check_attachments(self, ids: Sequence[str], uploader_id: str) -> list[str]:
        unique = list(dict.fromkeys(ids))
        for att_id in unique:
            row = self.db.one(
                "SELECT uploader_id, message_id FROM attachments WHERE id = ?", (att_id,)
            )
            if row is None or row["uploader_id"] != uploader_id:
                raise bad_request(
                    f"Attachment {att_id!r} is unknown; upload it first with POST /attachments."
                )
            if row["message_id"] is not None:
                raise bad_request(
                    f"Attachment {att_id!r} is already part of another message; upload it again."
                )
        return unique

    # ----------------------------------------------------------------- attachments

    def attachment_model(self, row: sqlite3.Row) -> m.Attachment:
        return m.Attachment(
            id=row["id"],
            filename=row["filename"],
            content_type=row["content_type"],
            size=int(row["size"]),
            url=f"/api/v1/attachments/{row['id']}",
        )

    # ----------------------------------------------------------------- agent messages

    def send_agent_message(
        self, conv_id: str, agent_id: str, agent_name: str, req: m.SendMessage
    ) -> tuple[m.Message, bool]:
        """Send as an agent; returns ``(message, created)`` (``created`` False on a retried ``client_id``)."""
        conv = self.require_conversation(conv_id)
        existing = self.find_by_client_id(conv_id, req.client_id)
        if existing is not None:
            return existing, False
        if conv["state"] == "closed":
            raise ApiError(
                409,
                "conversation_closed",
                "This conversation is closed; messages can no longer be sent.",
            )
        body = req.body.strip()
        if not body and not req.attachment_ids:
            raise bad_request("The message is empty: write some text or attach a file.")
        attachments = self.check_attachments(req.attachment_ids, agent_id)
        message = self.insert_message(
            conv_id,
            author_kind="agent",
            author_id=agent_id,
            author_name=agent_name,
            body=req.body,
            internal=req.internal,
            client_id=req.client_id,
            attachment_ids=attachments,
            customer_id=conv["customer_id"],
        )
        if not req.internal:
            now = now_iso()
            changes: dict[str, Any] = {}
            if conv["waiting_since"]:
                waited = (utcnow() - datetime.fromisoformat(conv["waiting_since"])).total_seconds()
                first = conv["first_response_at"] is None
                self.db.execute(
                    "INSERT INTO responses (conversation_id, department_id, agent_id, seconds, first, at) "
                    "VALUES (?,?,?,?,?,?)",
                    (conv_id, conv["department_id"], agent_id, max(waited, 0.0), int(first), now),
                )
                changes["waiting_since"] = None
            if conv["first_response_at"] is None:
                changes["first_response_at"] = now
            self.db.execute("UPDATE users SET last_reply_at = ? WHERE id = ?", (now, agent_id))
            if changes:
                self.update_conversation(conv_id, **changes)
                self.emit_conversation(conv_id)
        return message, True

    # ----------------------------------------------------------------- customer side

    def start_conversation(self, customer_id: str, req: m.StartConversation) -> m.Conversation:
        dept_row = self.department_row(req.department) if req.department else None
        if req.department and dept_row is None:
            raise bad_request(
                f"Unknown department {req.department!r}; GET /departments lists the valid ones."
            )
        if dept_row is None:
            first = self.db.one("SELECT * FROM departments ORDER BY position, created_at LIMIT 1")
            if first is None:
                raise ApiError(
                    409,
                    "no_departments",
                    "The server has no departments yet; ask an admin to create one.",
                )
            dept_row = first
        self.db.execute(
            # A stored e-mail is never overwritten (only filled in when empty).
            "UPDATE customers SET name = ?, email = CASE WHEN email = '' THEN ? ELSE email END "
            "WHERE id = ?",
            (req.name, req.email, customer_id),
        )
        prechat = {str(k)[:100]: str(v)[:2000] for k, v in req.prechat.items()}
        questions = [q for q in _json(dept_row["prechat_questions"], []) if isinstance(q, dict)]
        missing = [q for q in questions if q.get("key") and not prechat.get(str(q["key"]))]
        conv_id = new_id("conv")
        now = now_iso()
        self.db.execute(
            "INSERT INTO conversations (id, customer_id, department_id, department_explicit, "
            "state, page_url, prechat, bot_pending, created_at, queued_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                conv_id,
                customer_id,
                dept_row["id"],
                int(bool(req.department)),
                "bot" if missing else "queued",
                req.page_url,
                json.dumps(prechat, ensure_ascii=False),
                str(missing[0]["key"]) if missing else None,
                now,
                None if missing else now,
            ),
        )
        self.add_activity(
            customer_id,
            "conversation",
            f"Started a chat with {dept_row['name']}"
            + (f" from {req.page_url}" if req.page_url else ""),
        )
        self.emit_conversation(conv_id, "conversation.created")
        if req.message.strip():
            message = self.insert_message(
                conv_id,
                author_kind="customer",
                author_id=customer_id,
                author_name=req.name,
                body=req.message,
                customer_id=customer_id,
            )
            if not missing:
                self.update_conversation(conv_id, waiting_since=iso(message.created_at))
        if missing:
            self.system_message(
                conv_id, str(missing[0].get("question", missing[0]["key"])), kind="bot"
            )
        else:
            self.hand_over(conv_id)
        return self.conversation(conv_id)

    # ----------------------------------------------------------------- routing rules

    def hand_over(self, conv_id: str) -> None:
        """The bot hands over (or nothing was missing): apply the routing rules, then queue.

        Precedence: an explicit department from the widget stays; otherwise the first
        department (by position) whose rules match the pre-chat answers; otherwise the
        default (the department the chat started in).  The ``language`` answer is kept
        on the conversation so that routing prefers an agent who speaks it.
        """
        conv = self.require_conversation(conv_id)
        prechat = {str(k): str(v) for k, v in _json(conv["prechat"], {}).items()}
        fields: dict[str, Any] = {"language": normalize_language(prechat.get("language", ""))}
        if not conv["department_explicit"]:
            target = self.department_by_rules(prechat)
            if target is not None and target["id"] != conv["department_id"]:
                fields["department_id"] = target["id"]
        self.update_conversation(conv_id, **fields)
        if "department_id" in fields:
            self.emit_queue(conv["department_id"])
        self.enter_queue(conv_id)

    def department_by_rules(self, prechat: dict[str, str]) -> sqlite3.Row | None:
        for dept in self.db.all("SELECT * FROM departments ORDER BY position, created_at"):
            for rule in _json(dept["routing_rules"], []):
                if isinstance(rule, dict) and rule_matches(rule, prechat):
                    return dept
        return None

    def enter_queue(self, conv_id: str, exclude: str | None = None) -> None:
        row = self.require_conversation(conv_id)
        dept = self.db.one("SELECT * FROM departments WHERE id = ?", (row["department_id"],))
        if dept is not None and not department_open(dept) and dept["offline_message"]:
            self.system_message(conv_id, dept["offline_message"])
        if not self.try_assign(conv_id, exclude=exclude):
            self.emit_conversation(conv_id)
            self.emit_queue(row["department_id"])

    def customer_says(
        self,
        conv_id: str,
        customer_id: str,
        customer_name: str,
        body: str,
        *,
        client_id: str | None,
        attachment_ids: Sequence[str],
        conv: sqlite3.Row | None = None,
    ) -> m.Message:
        """A customer message, plus the bot's next step while in ``bot`` state.
        ``conv``: the conversation row if the caller already read it in this transaction."""
        if conv is None:
            conv = self.require_conversation(conv_id)
        message = self.insert_message(
            conv_id,
            author_kind="customer",
            author_id=customer_id,
            author_name=customer_name,
            body=body,
            client_id=client_id,
            attachment_ids=attachment_ids,
            customer_id=customer_id,
        )
        if conv["state"] == "bot":
            self._bot_step(conv, body)
        else:
            if conv["waiting_since"] is None:
                self.db.execute(
                    "UPDATE conversations SET waiting_since = ? WHERE id = ?",
                    (iso(message.created_at), conv_id),
                )
                self.emit_conversation(conv_id)
        return message

    def _bot_step(self, conv: sqlite3.Row, answer: str) -> None:
        conv_id = conv["id"]
        prechat = _json(conv["prechat"], {})
        dept = self.db.one("SELECT * FROM departments WHERE id = ?", (conv["department_id"],))
        questions = [
            q for q in _json(dept["prechat_questions"] if dept else "[]", []) if isinstance(q, dict)
        ]
        pending = conv["bot_pending"]
        if pending and answer.strip():
            prechat[pending] = answer.strip()[:2000]
        missing = [q for q in questions if q.get("key") and not prechat.get(str(q["key"]))]
        if missing:
            self.update_conversation(
                conv_id,
                prechat=json.dumps(prechat, ensure_ascii=False),
                bot_pending=str(missing[0]["key"]),
            )
            self.system_message(
                conv_id, str(missing[0].get("question", missing[0]["key"])), kind="bot"
            )
            return
        now = now_iso()
        self.update_conversation(
            conv_id,
            prechat=json.dumps(prechat, ensure_ascii=False),
            bot_pending=None,
            state="queued",
            queued_at=now,
            waiting_since=now,
        )
        self.system_message(conv_id, "Thank you! An agent will be with you shortly.", kind="bot")
        self.hand_over(conv_id)

    # ----------------------------------------------------------------- routing

    def pick_agent(
        self, department_id: str, exclude: str | None = None, language: str | None = None
    ) -> str | None:
        rows = self.db.all(
            """
            SELECT u.id, u.capacity, u.languages,
                   (SELECT COUNT(*) FROM conversations c WHERE c.assignee_id = u.id AND c.state = 'active') AS load,
                   (SELECT COUNT(DISTINCT a.conversation_id) FROM assignments a
                      WHERE a.agent_id = u.id AND a.at >= ?) AS today,
                   (SELECT MAX(a.at) FROM assignments a WHERE a.agent_id = u.id) AS last_at
            FROM users u
            WHERE u.role = 'agent' AND u.status = 'online' AND u.accepting = 1
              AND (NOT EXISTS (SELECT 1 FROM user_departments ud WHERE ud.user_id = u.id)
                   OR EXISTS (SELECT 1 FROM user_departments ud
                              WHERE ud.user_id = u.id AND ud.department_id = ?))
            """,
            (today_start(), department_id),
        )
        best: tuple[Any, ...] | None = None
        best_id: str | None = None
        for r in rows:
            if r["id"] == exclude:
                continue
            if self.presence is not None and not self.presence.is_present(r["id"]):
                continue  # "online" with no console attached: nobody would answer
            free = int(r["capacity"]) - int(r["load"])
            if free <= 0:
                continue
            speaks = bool(language) and language in _json(r["languages"], [])
            key = (not speaks, -free, int(r["today"]), r["last_at"] or "", r["id"])
            if best is None or key < best:
                best, best_id = key, r["id"]
        return best_id

    def assign(self, conv_id: str, agent_id: str, *, announce: bool = True) -> None:
        agent = self.user_row(agent_id)
        assert agent is not None
        conv = self.require_conversation(conv_id)
        previous = conv["assignee_id"]
        now = now_iso()
        self.update_conversation(conv_id, state="active", assignee_id=agent_id, assigned_at=now)
        self.db.execute(
            "INSERT INTO assignments (conversation_id, agent_id, at) VALUES (?,?,?)",
            (conv_id, agent_id, now),
        )
        if announce:
            self.system_message(conv_id, f"{agent['name']} joined the chat.")
        self.emit_conversation(conv_id)
        self.emit_agent(agent_id)
        if previous and previous != agent_id:
            self.emit_agent(previous)
        self.emit_queue(conv["department_id"])

    def try_assign(self, conv_id: str, exclude: str | None = None) -> bool:
        conv = self.require_conversation(conv_id)
        if conv["state"] != "queued":
            return False
        agent_id = self.pick_agent(
            conv["department_id"], exclude=exclude, language=conv["language"]
        )
        if agent_id is None:
            return False
        self.assign(conv_id, agent_id)
        return True

    def drain_queue(self, skip: tuple[str, str] | None = None) -> None:
        """Assign queued conversations, oldest first, while some agent has room.

        ``skip=(conversation_id, agent_id)`` keeps that agent from getting that
        conversation (a chat just transferred away by them).
        """
        for row in self.db.all(
            "SELECT id FROM conversations WHERE state = 'queued' ORDER BY queued_at, seq"
        ):
            exclude = skip[1] if skip is not None and skip[0] == row["id"] else None
            self.try_assign(row["id"], exclude=exclude)

    # ----------------------------------------------------------------- supervisor views

    def queue_stats(self, dept: sqlite3.Row) -> m.QueueStats:
        now = utcnow()
        start = today_start(now)
        dept_id = dept["id"]
        waiting = self.db.one(
            "SELECT COUNT(*), MIN(queued_at) FROM conversations WHERE department_id = ? AND state = 'queued'",
            (dept_id,),
        )
        active = self.db.one(
            "SELECT COUNT(*) FROM conversations WHERE department_id = ? AND state = 'active'",
            (dept_id,),
        )
        first = self.db.one(
            "SELECT AVG(seconds) FROM responses WHERE department_id = ? AND first = 1 AND at >= ?",
            (dept_id, start),
        )
        avg = self.db.one(
            "SELECT AVG(seconds) FROM responses WHERE department_id = ? AND at >= ?",
            (dept_id, start),
        )
        abandoned = self.db.one(
            "SELECT COUNT(*) FROM conversations WHERE department_id = ? AND abandoned = 1 AND closed_at >= ?",
            (dept_id, start),
        )
        created = self.db.one(
            "SELECT COUNT(*) FROM conversations WHERE department_id = ? AND created_at >= ?",
            (dept_id, start),
        )
        longest = 0.0
        if waiting and waiting[1]:
            longest = max(0.0, (now - datetime.fromisoformat(waiting[1])).total_seconds())
        return m.QueueStats(
            department_id=dept_id,
            department_name=dept["name"],
            waiting=int(waiting[0]) if waiting else 0,
            active=int(active[0]) if active else 0,
            longest_wait_seconds=round(longest, 3),
            avg_first_response_seconds=None
            if first is None or first[0] is None
            else round(float(first[0]), 3),
            avg_response_seconds=None if avg is None or avg[0] is None else round(float(avg[0]), 3),
            abandoned_today=int(abandoned[0]) if abandoned else 0,
            open_now=department_open(dept, now),
            created_per_minute=self._created_per_minute(dept_id, now),
            counted_at=now,
            created_today=int(created[0]) if created else 0,
        )

    TRAFFIC_MINUTES = 30

    def _created_per_minute(self, dept_id: str, now: datetime) -> list[int]:
        """New conversations per minute, the last ``TRAFFIC_MINUTES`` minutes (current last)."""
        minutes = self.TRAFFIC_MINUTES
        start = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)
        buckets = [0] * minutes
        for (created_at,) in self.db.all(
            "SELECT created_at FROM conversations WHERE department_id = ? AND created_at >= ?",
            (dept_id, iso(start)),
        ):
            index = int((datetime.fromisoformat(created_at) - start).total_seconds() // 60)
            if 0 <= index < minutes:
                buckets[index] += 1
        return buckets

    def queues_view(self) -> m.QueuesView:
        rows = self.db.all("SELECT * FROM departments ORDER BY position, created_at")
        return m.QueuesView(items=[self.queue_stats(r) for r in rows])

    def _history_figures(self, column: str, subject_id: str, since: str) -> m.HistoryFigures:
        """Figures of one department (``column='department_id'``) or agent
        (``'agent_id'``; chats = conversations assigned to it) since ``since``."""
        if column == "department_id":
            chats = self.db.one(
                "SELECT COUNT(*) FROM conversations WHERE department_id = ? AND created_at >= ?",
                (subject_id, since),
            )
            rated = self.db.one(
                "SELECT AVG(csat_score), COUNT(csat_score) FROM conversations "
                "WHERE department_id = ? AND created_at >= ? AND csat_score IS NOT NULL",
                (subject_id, since),
            )
            abandoned = self.db.one(
                "SELECT COUNT(*) FROM conversations "
                "WHERE department_id = ? AND abandoned = 1 AND closed_at >= ?",
                (subject_id, since),
            )
        else:
            chats = self.db.one(
                "SELECT COUNT(DISTINCT conversation_id) FROM assignments "
                "WHERE agent_id = ? AND at >= ?",
                (subject_id, since),
            )
            rated = self.db.one(
                "SELECT AVG(csat_score), COUNT(csat_score) FROM conversations "
                "WHERE assignee_id = ? AND created_at >= ? AND csat_score IS NOT NULL",
                (subject_id, since),
            )
            abandoned = self.db.one(
                "SELECT COUNT(*) FROM conversations "
                "WHERE assignee_id = ? AND abandoned = 1 AND closed_at >= ?",
                (subject_id, since),
            )
        first = self.db.one(
            f"SELECT AVG(seconds) FROM responses WHERE {column} = ? AND first = 1 AND at >= ?",
            (subject_id, since),
        )
        avg = self.db.one(
            f"SELECT AVG(seconds) FROM responses WHERE {column} = ? AND at >= ?",
            (subject_id, since),
        )

        def average(row: sqlite3.Row | None, digits: int = 3) -> float | None:
            return None if row is None or row[0] is None else round(float(row[0]), digits)

        return m.HistoryFigures(
            chats=int(chats[0]) if chats else 0,
            avg_first_response_seconds=average(first),
            avg_response_seconds=average(avg),
            abandoned=int(abandoned[0]) if abandoned else 0,
            satisfaction=average(rated, 2),
            ratings=int(rated[1]) if rated else 0,
        )

    HISTORY_DAYS = 7

    def history_view(self) -> m.HistoryView:
        """Today (UTC) vs the last 7 days (today and the 6 days before), per department
        and per agent."""
        now = utcnow()
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        week = today - timedelta(days=self.HISTORY_DAYS - 1)
        since_today, since_week = iso(today), iso(week)
        departments = [
            m.DepartmentHistory(
                department_id=r["id"],
                department_name=r["name"],
                today=self._history_figures("department_id", r["id"], since_today),
                last_7_days=self._history_figures("department_id", r["id"], since_week),
            )
            for r in self.db.all("SELECT * FROM departments ORDER BY position, created_at")
        ]
        agents = [
            m.AgentHistory(
                agent_id=r["id"],
                name=r["name"],
                today=self._history_figures("agent_id", r["id"], since_today),
                last_7_days=self._history_figures("agent_id", r["id"], since_week),
            )
            for r in self.db.all("SELECT * FROM users WHERE role = 'agent' ORDER BY name, id")
        ]
        return m.HistoryView(
            today_since=today, week_since=week, departments=departments, agents=agents
        )

    def emit_queue(self, department_id: str) -> None:
        dept = self.db.one("SELECT * FROM departments WHERE id = ?", (department_id,))
        if dept is not None:
            self.db.append_event("queue.updated", encode(self.queue_stats(dept)))

    def agents_view(self) -> m.AgentsView:
        start = today_start()
        now = utcnow()
        now_s, soon_s = iso(now), iso(now + timedelta(hours=24))
        items: list[m.AgentStats] = []
        for r in self.db.all("SELECT * FROM users WHERE role = 'agent' ORDER BY name, id"):
            counts = self.db.one(
                "SELECT SUM(due_at < ?), SUM(due_at >= ? AND due_at < ?) FROM follow_ups "
                "WHERE agent_id = ? AND state = 'open'",
                (now_s, now_s, soon_s, r["id"]),
            )
            avg = self.db.one(
                "SELECT AVG(seconds) FROM responses WHERE agent_id = ? AND at >= ?",
                (r["id"], start),
            )
            items.append(
                m.AgentStats(
                    agent_id=r["id"],
                    name=r["name"],
                    status=r["status"],
                    accepting=bool(r["accepting"]),
                    load=self.active_count(r["id"]),
                    capacity=int(r["capacity"]),
                    chats_today=self.chats_today(r["id"]),
                    avg_response_seconds=None
                    if avg is None or avg[0] is None
                    else round(float(avg[0]), 3),
                    last_reply_at=parse_time(r["last_reply_at"]),
                    department_ids=self.user_department_ids(r["id"]),
                    follow_ups_overdue=int(counts[0] or 0) if counts else 0,
                    follow_ups_due=int(counts[1] or 0) if counts else 0,
                    senior=bool(r["senior"]),
                )
            )
        return m.AgentsView(items=items)

    # ----------------------------------------------------------------- transcripts

    def transcript_text(self, conv_id: str) -> tuple[str, str]:
        """``(subject, body)`` of the plain-text transcript: public messages only, never internal notes."""
        conv = self.require_conversation(conv_id)
        lines = [
            f"Conversation with {conv['department_name']}",
            f"Started: {conv['created_at'][:19].replace('T', ' ')} UTC",
            "",
        ]
        for r in self.db.all(
            "SELECT * FROM messages WHERE conversation_id = ? AND internal = 0 ORDER BY seq",
            (conv_id,),
        ):
            who = r["author_name"] or r["author_kind"].capitalize()
            stamp = r["created_at"][11:16]
            lines.append(f"[{stamp}] {who}: {r['body']}")
            for a in self.db.all(
                "SELECT filename FROM attachments WHERE message_id = ?", (r["id"],)
            ):
                lines.append(f"        (attachment: {a['filename']})")
        return f"Your chat transcript ({conv['department_name']})", "\n".join(lines) + "\n"


def for_customer(model: m.Conversation) -> m.Conversation:
    """The conversation as its customer may see it: no escalation details."""
    if model.escalated_at is None:
        return model
    return msgspec.structs.replace(
        model, escalated_at=None, escalated_by_name=None, escalation_reason=None
    )


LANGUAGE_ALIASES = {
    "korean": "ko",
    "한국어": "ko",
    "japanese": "ja",
    "日本語": "ja",
    "english": "en",
}


def normalize_language(value: str) -> str | None:
    """A pre-chat language answer as an ISO 639-1 code: ``ko-KR`` → ``ko``, ``Korean`` → ``ko``."""
    text = value.strip().lower()
    if not text:
        return None
    if text in LANGUAGE_ALIASES:
        return LANGUAGE_ALIASES[text]
    code = text.replace("_", "-").split("-")[0]
    return code if 2 <= len(code) <= 3 and code.isascii() and code.isalpha() else None


def rule_matches(rule: dict[str, Any], prechat: dict[str, str]) -> bool:
    """``{"key": "topic", "equals": ["refund", "환불"]}``: the answer equals one of the values
    (case-insensitive, trimmed; ``language`` answers are normalized first)."""
    key = str(rule.get("key", ""))
    values = rule.get("equals", [])
    if isinstance(values, str):
        values = [values]
    answer = prechat.get(key, "")
    if key == "language":
        answer = normalize_language(answer) or answer
    answer = answer.strip().casefold()
    return bool(answer) and any(answer == str(v).strip().casefold() for v in values)


def utc_from(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)
