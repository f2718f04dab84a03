"""REST handlers of the reference server and the route table (:data:`ROUTES`).

Each handler's docstring is its OpenAPI description.  Handlers of mutating
routes run inside one database transaction opened by ``console.server.app``
(so an error leaves nothing half-written); ``GET`` handlers only read.
Roles: ``agent`` may do everything on the agent side, ``supervisor`` may only
read (every mutating route answers 403 ``read_only`` before anything else is
checked), ``customer`` only reaches ``/customer/...`` routes, the attachment
routes and ``GET /me``, and only for their own conversations.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response

from console.protocol import limits
from console.protocol import models as m
from console.server import admin
from console.server.api import AGENT, CUSTOMER, EVERYONE, Ctx, QueryParam, RouteSpec
from console.server.db import iso, new_id, now_iso
from console.server.errors import ApiError, bad_request, not_found
from console.server.mail import send_mail_soon
from console.server.service import CONV_SELECT, FOLLOW_UP_SELECT, encode, for_customer

# --------------------------------------------------------------------------- health, me, departments


def health(ctx: Ctx) -> Any:
    """Liveness probe: 200 with ``{"status": "ok"}`` once the server can serve requests."""
    return {"status": "ok", "last_seq": ctx.svc.db.last_seq()}


def get_me(ctx: Ctx) -> m.Me:
    """The caller: id, name, role and, for agents, status, capacity and departments."""
    return ctx.svc.me_model(ctx.me.role, ctx.me.subject_id)


def put_me_status(ctx: Ctx) -> m.Me:
    """Change the agent's status, ``accepting`` flag or capacity.

    Going online, accepting again or raising capacity drains the queue into the
    agent's free slots.  Emits ``agent.updated``.
    """
    req: m.StatusUpdate = ctx.body
    fields: dict[str, Any] = {}
    if req.status is not None:
        fields["status"] = req.status
    if req.accepting is not None:
        fields["accepting"] = int(req.accepting)
    if req.capacity is not None:
        fields["capacity"] = req.capacity
    if fields:
        cols = ", ".join(f"{k} = ?" for k in fields)
        ctx.svc.db.execute(
            f"UPDATE users SET {cols} WHERE id = ?", (*fields.values(), ctx.me.subject_id)
        )
        ctx.svc.emit_agent(ctx.me.subject_id)
        ctx.svc.drain_queue()
    return ctx.svc.me_model(ctx.me.role, ctx.me.subject_id)


def list_departments(ctx: Ctx) -> list[m.Department]:
    """All departments with ``open_now`` computed from their business hours."""
    return ctx.svc.departments()


# --------------------------------------------------------------------------- conversations (agent side)


def list_conversations(ctx: Ctx) -> m.ConversationPage:
    """Conversations, newest first, filtered by state, assignee and department.

    ``assignee=me`` means the caller, ``any`` (default) means no filter, anything
    else is an agent id.  Pass ``next_cursor`` back as ``cursor`` for the next page.
    """
    where: list[str] = []
    params: list[Any] = []
    state = ctx.query("state")
    if state:
        where.append("c.state = ?")
        params.append(state)
    assignee = ctx.request.query_params.get("assignee") or "any"
    if assignee == "me":
        where.append("c.assignee_id = ?")
        params.append(ctx.me.subject_id)
    elif assignee != "any":
        where.append("c.assignee_id = ?")
        params.append(assignee)
    department = ctx.request.query_params.get("department")
    if department:
        where.append("c.department_id = ?")
        params.append(department)
    cursor = ctx.request.query_params.get("cursor")
    if cursor:
        if not cursor.isdigit() or len(cursor) > 18:
            raise bad_request("The cursor is not valid; use next_cursor from the previous page.")
        where.append("c.seq < ?")
        params.append(int(cursor))
    limit = ctx.limit()
    sql = (
        CONV_SELECT
        + (" WHERE " + " AND ".join(where) if where else "")
        + " ORDER BY c.seq DESC LIMIT ?"
    )
    rows = ctx.svc.db.all(sql, (*params, limit + 1))
    next_cursor = str(rows[limit - 1]["seq"]) if len(rows) > limit else None
    return m.ConversationPage(
        items=[ctx.svc.conversation_model(r) for r in rows[:limit]], next_cursor=next_cursor
    )


def get_conversation(ctx: Ctx) -> m.Conversation:
    """One conversation.  Reading never marks it read or changes it."""
    return ctx.svc.conversation(ctx.path("id"))


def list_messages(ctx: Ctx) -> m.MessagePage:
    """Messages in ascending order, internal notes included.

    Without cursors: the newest ``limit``.  ``before=<message_id>``: the ``limit``
    messages just before it; ``after=<message_id>``: the ``limit`` just after it.
    ``has_more`` says whether more exist in that direction.
    """
    conv_id = ctx.path("id")
    ctx.svc.require_conversation(conv_id)
    return ctx.svc.message_page(
        conv_id,
        before=ctx.request.query_params.get("before"),
        after=ctx.request.query_params.get("after"),
        limit=ctx.limit(),
        include_internal=True,
    )


def send_message(ctx: Ctx) -> Any:
    """Send a reply (or an internal note with ``internal: true``) as the calling agent.

    Idempotent on ``client_id``: repeating a request returns the original
    message with status 200 instead of 201 and creates nothing.  Answering a
    waiting customer records the response time.  Emits ``message.created``.
    """
    me = ctx.me
    message, created = ctx.svc.send_agent_message(ctx.path("id"), me.subject_id, me.name, ctx.body)
    return (201 if created else 200), message


def accept_conversation(ctx: Ctx) -> m.Conversation:
    """Take a queued conversation.  409 ``not_queued`` if it is not in the queue,
    409 ``capacity_full`` if the agent already has ``capacity`` active chats."""
    conv = ctx.svc.require_conversation(ctx.path("id"))
    if conv["state"] != "queued":
        raise ApiError(
            409,
            "not_queued",
            f"This conversation is {conv['state']}, not queued; refresh the queue.",
        )
    agent = ctx.svc.user_row(ctx.me.subject_id)
    assert agent is not None
    if ctx.svc.active_count(ctx.me.subject_id) >= int(agent["capacity"]):
        raise ApiError(
            409,
            "capacity_full",
            f"You already have {agent['capacity']} active chats; close one or raise your capacity first.",
        )
    ctx.svc.assign(conv["id"], ctx.me.subject_id)
    return ctx.svc.conversation(conv["id"])


def transfer_conversation(ctx: Ctx) -> m.Conversation:
    """Hand the conversation to another agent (``agent_id``) or back to a department's
    queue (``department_id``); exactly one of the two.  ``note`` is kept as an
    internal message.  409 ``capacity_full`` if the target agent has no room,
    409 ``conversation_closed`` for closed conversations."""
    req: m.TransferRequest = ctx.body
    svc = ctx.svc
    conv = svc.require_conversation(ctx.path("id"))
    if (req.agent_id is None) == (req.department_id is None):
        raise bad_request("Give exactly one of agent_id or department_id.")
    if conv["state"] == "closed":
        raise ApiError(
            409, "conversation_closed", "This conversation is closed; it cannot be transferred."
        )
    _move(
        ctx,
        conv,
        req.agent_id,
        req.department_id,
        lambda to: _transfer_text(ctx, conv, to, req.note),
    )
    return svc.conversation(conv["id"])


def _move(
    ctx: Ctx,
    conv: Any,
    agent_id: str | None,
    department_id: str | None,
    note_for: Any,
    before_assign: Any = None,
) -> None:
    """Move ``conv`` to an agent or a department's queue (transfer and escalation).

    ``note_for(target_name)`` is the internal note written by the caller;
    ``before_assign()`` runs after the note and before routing (escalation marks the chat)."""
    svc = ctx.svc
    previous = conv["assignee_id"]
    if agent_id is not None:
        target = svc.user_row(agent_id)
        if target is None or target["role"] != "agent":
            raise not_found("Agent")
        if target["id"] != previous and svc.active_count(target["id"]) >= int(target["capacity"]):
            raise ApiError(
                409, "capacity_full", f"{target['name']} has no free capacity; pick another agent."
            )
        text = note_for(target["name"])
        svc.insert_message(
            conv["id"],
            author_kind="agent",
            author_id=ctx.me.subject_id,
            author_name=ctx.me.name,
            body=text,
            internal=True,
            customer_id=conv["customer_id"],
        )
        if before_assign is not None:
            before_assign()
        svc.assign(conv["id"], target["id"])
    else:
        assert department_id is not None
        dept = svc.department_row(department_id)
        if dept is None:
            raise not_found("Department")
        text = note_for(dept["name"])
        svc.insert_message(
            conv["id"],
            author_kind="agent",
            author_id=ctx.me.subject_id,
            author_name=ctx.me.name,
            body=text,
            internal=True,
            customer_id=conv["customer_id"],
        )
        if before_assign is not None:
            before_assign()
        svc.update_conversation(
            conv["id"],
            state="queued",
            assignee_id=None,
            department_id=dept["id"],
            queued_at=now_iso(),
        )
        if previous:
            svc.emit_agent(previous)
        svc.enter_queue(conv["id"], exclude=ctx.me.subject_id)
        if conv["department_id"] != dept["id"]:
            svc.emit_queue(conv["department_id"])
    svc.drain_queue(skip=(conv["id"], ctx.me.subject_id))


def escalate_conversation(ctx: Ctx) -> m.Conversation:
    """Escalate to a senior agent (``agent_id``) or a department (``department_id``; with
    neither, the first department marked ``escalation``).  Moves like a transfer, with
    its transcript, pre-chat answers and customer notes; the ``reason`` is kept as an
    internal message "Escalated by X to Y: reason" and in ``Conversation.escalation_reason``
    (with ``escalated_at``, ``escalated_by_name``).  409 ``conversation_closed``;
    400 when no target is given and no department is marked for escalation."""
    req: m.EscalateRequest = ctx.body
    svc = ctx.svc
    conv = svc.require_conversation(ctx.path("id"))
    if req.agent_id is not None and req.department_id is not None:
        raise bad_request("Give at most one of agent_id or department_id.")
    if conv["state"] == "closed":
        raise ApiError(
            409, "conversation_closed", "This conversation is closed; it cannot be escalated."
        )
    if not req.reason.strip():
        raise bad_request("Say why the chat is escalated.")
    department_id = req.department_id
    if req.agent_id is None and department_id is None:
        row = svc.db.one(
            "SELECT id FROM departments WHERE escalation = 1 ORDER BY position, created_at LIMIT 1"
        )
        if row is None:
            raise bad_request(
                "No department is marked for escalation; name an agent_id or department_id."
            )
        department_id = row["id"]

    def mark() -> None:
        svc.update_conversation(
            conv["id"],
            escalated_at=now_iso(),
            escalated_by_name=ctx.me.name,
            escalation_reason=req.reason,
        )

    _move(
        ctx,
        conv,
        req.agent_id,
        department_id,
        lambda to: f"Escalated by {ctx.me.name} to {to}: {req.reason}",
        before_assign=mark,
    )
    return svc.conversation(conv["id"])


def _transfer_text(ctx: Ctx, conv: Any, to: str, note: str | None) -> str:
    """The internal note of a transfer; names the transferring agent when the chat was
    someone else's (the note's author is the transferring agent either way)."""
    text = f"Transferred to {to}"
    if conv["assignee_id"] and conv["assignee_id"] != ctx.me.subject_id:
        text = f"{ctx.me.name} transferred {conv['assignee_name']}'s chat to {to}"
    return text + (f": {note}" if note else ".")


def close_conversation(ctx: Ctx) -> m.Conversation:
    """Close the conversation.  ``request_csat`` (default true) asks the customer for a
    rating; ``send_transcript`` mails the public transcript to ``transcript_email``
    (default: the customer's email) after the close commits.  The freed slot
    drains the queue.  409 ``conversation_closed`` if already closed."""
    req: m.CloseRequest = ctx.body
    svc = ctx.svc
    conv = svc.require_conversation(ctx.path("id"))
    if conv["state"] == "closed":
        raise ApiError(409, "conversation_closed", "This conversation is already closed.")
    to = (req.transcript_email or conv["customer_email"] or "").strip()
    if req.send_transcript and not _looks_like_email(to):
        raise bad_request(
            "No valid transcript address: give transcript_email or record the customer's email."
        )
    if req.request_csat:
        svc.system_message(conv["id"], "This chat has ended. How did we do? Rate it from 1 to 5.")
    else:
        svc.system_message(conv["id"], "This chat has ended.")
    if conv["assignee_id"] != ctx.me.subject_id:
        # Someone else's chat (or one still queued): the transcript says who closed it.
        whose = f"{conv['assignee_name']}'s chat" if conv["assignee_id"] else "this chat"
        svc.insert_message(
            conv["id"],
            author_kind="system",
            author_id=ctx.me.subject_id,
            author_name=ctx.me.name,
            body=f"{ctx.me.name} closed {whose}.",
            internal=True,
            customer_id=conv["customer_id"],
        )
    svc.update_conversation(
        conv["id"],
        state="closed",
        closed_at=now_iso(),
        waiting_since=None,
        closed_by_id=ctx.me.subject_id,
        closed_by_name=ctx.me.name,
    )
    model = svc.emit_conversation(conv["id"])
    if conv["assignee_id"]:
        svc.emit_agent(conv["assignee_id"])
    svc.emit_queue(conv["department_id"])
    if req.send_transcript:
        _queue_transcript(ctx, conv["id"], to)
    svc.drain_queue()
    return model


def typing(ctx: Ctx) -> None:
    """Tell the other side someone is (not) typing.  Emits ``typing``; nothing is stored
    beyond the event log."""
    req: m.TypingRequest = ctx.body
    conv = ctx.svc.require_conversation(ctx.path("id"))
    _emit_typing(ctx, conv["id"], conv["customer_id"], "agent", req.typing)


def mark_read(ctx: Ctx) -> None:
    """Mark everything up to now as read by the calling agent (never by supervisors)."""
    conv = ctx.svc.require_conversation(ctx.path("id"))
    row = ctx.svc.db.one("SELECT MAX(seq) FROM messages WHERE conversation_id = ?", (conv["id"],))
    ctx.svc.db.execute(
        "INSERT INTO reads (user_id, conversation_id, last_message_seq) VALUES (?,?,?) "
        "ON CONFLICT(user_id, conversation_id) DO UPDATE SET last_message_seq = excluded.last_message_seq",
        (ctx.me.subject_id, conv["id"], int(row[0] or 0) if row else 0),
    )


def _emit_typing(
    ctx: Ctx, conv_id: str, customer_id: str, kind: m.AuthorKind, is_typing: bool
) -> None:
    event = m.TypingEvent(
        conversation_id=conv_id, author_kind=kind, author_name=ctx.me.name, typing=is_typing
    )
    ctx.svc.db.append_event(
        "typing", encode(event), customer_id=customer_id, public=True, actor_id=ctx.me.subject_id
    )


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _looks_like_email(value: str) -> bool:
    return bool(_EMAIL.match(value)) and len(value) <= limits.MAX_SHORT_TEXT_CHARS


def _queue_transcript(ctx: Ctx, conv_id: str, to: str) -> None:
    subject, body = ctx.svc.transcript_text(conv_id)
    settings = ctx.settings
    ctx.svc.db.after_commit(lambda: send_mail_soon(settings, to, subject, body))


# --------------------------------------------------------------------------- customers (agent side)


def get_customer(ctx: Ctx) -> m.Customer:
    """A customer's profile: account fields, custom fields, tags and recent activity."""
    row = ctx.svc.customer_row(ctx.path("id"))
    if row is None:
        raise not_found("Customer")
    return ctx.svc.customer_model(row)


def put_customer_tags(ctx: Ctx) -> m.Customer:
    """Replace the customer's tags (trimmed, empty ones dropped, duplicates removed).
    Emits ``customer.updated``."""
    req: m.TagsUpdate = ctx.body
    row = ctx.svc.customer_row(ctx.path("id"))
    if row is None:
        raise not_found("Customer")
    tags = list(dict.fromkeys(t.strip() for t in req.tags if t.strip()))
    ctx.svc.db.execute(
        "UPDATE customers SET tags = ? WHERE id = ?",
        (json.dumps(tags, ensure_ascii=False), row["id"]),
    )
    model = ctx.svc.customer_model(ctx.svc.customer_row(row["id"]))  # type: ignore[arg-type]
    ctx.svc.db.append_event("customer.updated", encode(model))
    return model


def list_customer_notes(ctx: Ctx) -> list[m.CustomerNote]:
    """Notes agents wrote about the customer, oldest first.  Never shown to customers."""
    cust = ctx.svc.customer_row(ctx.path("id"))
    if cust is None:
        raise not_found("Customer")
    rows = ctx.svc.db.all(
        "SELECT * FROM customer_notes WHERE customer_id = ? ORDER BY created_at, id", (cust["id"],)
    )
    return [ctx.svc.note_model(r) for r in rows]


def create_customer_note(ctx: Ctx) -> tuple[int, m.CustomerNote]:
    """Add a note about the customer.  Emits ``customer.note_created`` (staff only)."""
    req: m.NoteCreate = ctx.body
    cust = ctx.svc.customer_row(ctx.path("id"))
    if cust is None:
        raise not_found("Customer")
    if not req.body.strip():
        raise bad_request("The note is empty; write something first.")
    note_id = new_id("note")
    ctx.svc.db.execute(
        "INSERT INTO customer_notes (id, customer_id, author_id, author_name, body, created_at) VALUES (?,?,?,?,?,?)",
        (note_id, cust["id"], ctx.me.subject_id, ctx.me.name, req.body, now_iso()),
    )
    note_row = ctx.svc.db.one("SELECT * FROM customer_notes WHERE id = ?", (note_id,))
    assert note_row is not None
    model = ctx.svc.note_model(note_row)
    ctx.svc.db.append_event("customer.note_created", encode(model))
    return 201, model


def list_customer_conversations(ctx: Ctx) -> list[m.Conversation]:
    """The customer's conversations, newest first (past chats in the sidebar)."""
    cust = ctx.svc.customer_row(ctx.path("id"))
    if cust is None:
        raise not_found("Customer")
    rows = ctx.svc.db.all(
        CONV_SELECT + " WHERE c.customer_id = ? ORDER BY c.seq DESC LIMIT 200", (cust["id"],)
    )
    return [ctx.svc.conversation_model(r) for r in rows]


# --------------------------------------------------------------------------- follow-ups


def create_follow_up(ctx: Ctx) -> tuple[int, m.FollowUp]:
    """Promise the customer of this conversation a later call, e-mail or chat.  Stored
    for the calling agent; emits ``follow_up.created`` (staff only).  The client
    announces the promise to the customer itself (a normal message)."""
    req: m.FollowUpCreate = ctx.body
    conv = ctx.svc.require_conversation(ctx.path("id"))
    try:
        year = req.due_at.astimezone(UTC).year
    except (OverflowError, ValueError):
        year = 0
    if not 2000 <= year <= 9998:  # the stored form is fixed-width ISO (text order = time order)
        raise bad_request("due_at must be a time between the years 2000 and 9998.")
    due_at = iso(req.due_at)
    fid = new_id("fu")
    ctx.svc.db.execute(
        "INSERT INTO follow_ups (id, conversation_id, customer_id, agent_id, agent_name, "
        "channel, due_at, note, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        (
            fid,
            conv["id"],
            conv["customer_id"],
            ctx.me.subject_id,
            ctx.me.name,
            req.channel,
            due_at,
            req.note,
            now_iso(),
        ),
    )
    return 201, ctx.svc.emit_follow_up(fid, "follow_up.created")


def list_follow_ups(ctx: Ctx) -> list[m.FollowUp]:
    """Follow-ups by due time (earliest first).  ``assignee`` = ``me`` (default for
    agents), ``any`` or an agent id; ``state`` = ``open`` (default), ``done`` or ``all``."""
    assignee = ctx.query("assignee") or ("me" if ctx.me.role == "agent" else "any")
    state = ctx.query("state") or "open"
    if state not in ("open", "done", "all"):
        raise bad_request("state must be open, done or all.")
    where, params = [], []
    if assignee == "me":
        where.append("f.agent_id = ?")
        params.append(ctx.me.subject_id)
    elif assignee != "any":
        where.append("f.agent_id = ?")
        params.append(assignee)
    if state != "all":
        where.append("f.state = ?")
        params.append(state)
    sql = FOLLOW_UP_SELECT + (" WHERE " + " AND ".join(where) if where else "")
    rows = ctx.svc.db.all(sql + " ORDER BY f.due_at, f.id LIMIT 500", tuple(params))
    return [ctx.svc.follow_up_model(r) for r in rows]


def list_customer_follow_ups(ctx: Ctx) -> list[m.FollowUp]:
    """The customer's follow-ups (open and done), earliest due first."""
    cust = ctx.svc.customer_row(ctx.path("id"))
    if cust is None:
        raise not_found("Customer")
    rows = ctx.svc.db.all(
        FOLLOW_UP_SELECT + " WHERE f.customer_id = ? ORDER BY f.due_at, f.id LIMIT 200",
        (cust["id"],),
    )
    return [ctx.svc.follow_up_model(r) for r in rows]


def complete_follow_up(ctx: Ctx) -> m.FollowUp:
    """Mark a follow-up done (idempotent).  Emits ``follow_up.updated``."""
    row = ctx.svc.db.one("SELECT * FROM follow_ups WHERE id = ?", (ctx.path("id"),))
    if row is None:
        raise not_found("Follow-up")
    if row["state"] == "done":
        return ctx.svc.follow_up(row["id"])
    ctx.svc.db.execute(
        "UPDATE follow_ups SET state = 'done', done_at = ? WHERE id = ?", (now_iso(), row["id"])
    )
    return ctx.svc.emit_follow_up(row["id"])


# --------------------------------------------------------------------------- canned replies


def _canned_model(row: Any) -> m.CannedReply:
    return m.CannedReply(
        id=row["id"],
        title=row["title"],
        shortcut=row["shortcut"],
        body=row["body"],
        category=row["category"],
        lang=row["lang"],
    )


def list_canned_replies(ctx: Ctx) -> list[m.CannedReply]:
    """Canned replies, optionally filtered by ``q`` (case-insensitive substring of title,
    shortcut or body).  Placeholders such as ``{customer.name}`` are returned
    literally: the client fills them in."""
    q = (ctx.request.query_params.get("q") or "").strip()
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        rows = ctx.svc.db.all(
            "SELECT * FROM canned_replies WHERE title LIKE ?1 ESCAPE '\\' OR shortcut LIKE ?1 ESCAPE '\\' "
            "OR body LIKE ?1 ESCAPE '\\' ORDER BY (shortcut LIKE ?1 ESCAPE '\\') DESC, title",
            (pattern,),
        )
    else:
        rows = ctx.svc.db.all("SELECT * FROM canned_replies ORDER BY category, title")
    return [_canned_model(r) for r in rows]


def create_canned_reply(ctx: Ctx) -> tuple[int, m.CannedReply]:
    """Create a canned reply (201)."""
    req: m.CannedReplyCreate = ctx.body
    reply_id = new_id("canned")
    now = now_iso()
    ctx.svc.db.execute(
        "INSERT INTO canned_replies (id, title, shortcut, body, category, lang, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?)",
        (reply_id, req.title, req.shortcut, req.body, req.category, req.lang, now, now),
    )
    return 201, _canned_model(
        ctx.svc.db.one("SELECT * FROM canned_replies WHERE id = ?", (reply_id,))
    )


def update_canned_reply(ctx: Ctx) -> m.CannedReply:
    """Replace a canned reply's fields."""
    req: m.CannedReplyCreate = ctx.body
    reply_id = ctx.path("id")
    cur = ctx.svc.db.execute(
        "UPDATE canned_replies SET title=?, shortcut=?, body=?, category=?, lang=?, updated_at=? WHERE id=?",
        (req.title, req.shortcut, req.body, req.category, req.lang, now_iso(), reply_id),
    )
    if cur.rowcount == 0:
        raise not_found("Canned reply")
    return _canned_model(ctx.svc.db.one("SELECT * FROM canned_replies WHERE id = ?", (reply_id,)))


def delete_canned_reply(ctx: Ctx) -> None:
    """Delete a canned reply (204)."""
    cur = ctx.svc.db.execute("DELETE FROM canned_replies WHERE id = ?", (ctx.path("id"),))
    if cur.rowcount == 0:
        raise not_found("Canned reply")


# --------------------------------------------------------------------------- search, supervisor views


def search(ctx: Ctx) -> m.SearchResults:
    """Full-text search over all transcripts (SQLite FTS5, trigram tokenizer, so it
    matches inside Korean and Japanese text too).  Every word must appear;
    words shorter than 3 characters fall back to a substring scan."""
    raw_q = ctx.request.query_params.get("q") or ""
    # Control characters (NUL included) can't be searched for and break FTS query strings.
    q = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in raw_q).strip()
    if not q:
        raise bad_request("Give a search text in q.")
    if len(q) > 200:
        raise bad_request("The search text is too long; use at most 200 characters.")
    limit = ctx.limit()
    terms = [t for t in q.split() if t]
    select = (
        "SELECT m.id AS message_id, m.conversation_id, m.created_at, cu.name AS customer_name, {snippet} AS snippet "
        "FROM {source} JOIN conversations c ON c.id = m.conversation_id JOIN customers cu ON cu.id = c.customer_id "
    )
    if all(len(t) >= 3 for t in terms):
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        rows = ctx.svc.db.all(
            select.format(
                snippet="snippet(messages_fts, 0, '', '', '…', 16)",
                source="messages_fts JOIN messages m ON m.seq = messages_fts.rowid",
            )
            + "WHERE messages_fts MATCH ? ORDER BY m.seq DESC LIMIT ?",
            (match, limit),
        )
    else:
        clauses = " AND ".join("m.body LIKE ? ESCAPE '\\'" for _ in terms)
        patterns = [
            "%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            for t in terms
        ]
        rows = ctx.svc.db.all(
            select.format(snippet="substr(m.body, 1, 160)", source="messages m")
            + f"WHERE {clauses} ORDER BY m.seq DESC LIMIT ?",
            (*patterns, limit),
        )
    return m.SearchResults(
        items=[
            m.SearchHit(
                conversation_id=r["conversation_id"],
                message_id=r["message_id"],
                customer_name=r["customer_name"],
                snippet=r["snippet"],
                created_at=datetime.fromisoformat(r["created_at"]),
            )
            for r in rows
        ]
    )


def queues_view(ctx: Ctx) -> m.QueuesView:
    """Per department: waiting and active chats, longest wait, today's average first
    response and response times, chats abandoned today, and whether it is open."""
    return ctx.svc.queues_view()


def agents_view(ctx: Ctx) -> m.AgentsView:
    """Per agent: status, load vs capacity, chats today, today's average response time,
    last reply."""
    return ctx.svc.agents_view()


def history_view(ctx: Ctx) -> m.HistoryView:
    """Today (UTC) vs the last 7 days, per department and per agent: chats, average first
    response and response times, abandoned chats, average stored rating."""
    return ctx.svc.history_view()


# --------------------------------------------------------------------------- attachments

SNIFF = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"PK\x05\x06", "application/zip"),
)


def sniff_content_type(head: bytes) -> str:
    """Content type from magic bytes, never from the client's claim."""
    for magic, kind in SNIFF:
        if head.startswith(magic):
            return kind
    if not head:
        return "text/plain; charset=utf-8"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sniffed window is fine.
        if exc.start < len(head) - 4:
            return "application/octet-stream"
        text = head[: exc.start].decode("utf-8")
    if any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in text):
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def safe_filename(name: str | None) -> str:
    """Display/download name: last path part, no control or format characters, ≤ 200 chars."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = base.strip().strip(".").strip()
    return base[:200] or "attachment"


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and the RFC 5987 ``filename*`` form."""
    ascii_name = "".join(
        ch if 32 <= ord(ch) < 127 and ch not in '"\\%;' else "_" for ch in filename
    )
    quoted = urllib.parse.quote(filename, safe="")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


async def upload_attachment(ctx: Ctx) -> tuple[int, m.Attachment]:
    """Upload one file (multipart field ``file``, at most 25 MB).  The content type is
    sniffed from the bytes; the name is cleaned of path parts and control
    characters.  Reference the returned id in ``attachment_ids`` when sending."""
    try:
        form = await ctx.request.form(max_files=1, max_fields=5, max_part_size=64 * 1024)
    except HTTPException as exc:
        raise bad_request(f"The upload is not valid multipart form data ({exc.detail}).") from None
    try:
        upload = form.get("file")
        if set(form.keys()) != {"file"} or len(form.getlist("file")) != 1:
            raise bad_request("Send exactly one multipart field, 'file', and nothing else.")
        if not isinstance(upload, UploadFile):
            raise bad_request("Send the file as multipart/form-data in a field named 'file'.")
        att_id = new_id("att")
        folder = ctx.settings.data_dir / "attachments"
        folder.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        head = b""
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".upload-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out:
                await upload.seek(0)
                while chunk := await upload.read(256 * 1024):
                    size += len(chunk)
                    if size > limits.MAX_ATTACHMENT_BYTES:
                        raise ApiError(
                            413, "too_large", "The file is larger than 25 MB; compress or split it."
                        )
                    if len(head) < 8192:
                        head += chunk[: 8192 - len(head)]
                    digest.update(chunk)
                    out.write(chunk)
            filename = safe_filename(upload.filename)
            content_type = sniff_content_type(head)
            with ctx.svc.db.transaction():
                ctx.svc.db.execute(
                    "INSERT INTO attachments (id, filename, content_type, size, sha256, uploader_role, "
                    "uploader_id, created_at) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        att_id,
                        filename,
                        content_type,
                        size,
                        digest.hexdigest(),
                        ctx.me.role,
                        ctx.me.subject_id,
                        now_iso(),
                    ),
                )
                tmp.replace(folder / att_id)
            row = ctx.svc.db.one("SELECT * FROM attachments WHERE id = ?", (att_id,))
            return 201, ctx.svc.attachment_model(row)  # type: ignore[arg-type]
        finally:
            tmp.unlink(missing_ok=True)
    finally:
        await form.close()


def download_attachment(ctx: Ctx) -> Response:
    """The file's bytes with its sniffed type and a safe ``Content-Disposition: attachment``.
    Customers may fetch only their own uploads and files in their conversations'
    public messages."""
    row = ctx.svc.db.one("SELECT * FROM attachments WHERE id = ?", (ctx.path("id"),))
    if row is None:
        raise not_found("Attachment")
    if ctx.me.role == "customer" and row["uploader_id"] != ctx.me.subject_id:
        ok = ctx.svc.db.one(
            "SELECT 1 FROM messages ms JOIN conversations c ON c.id = ms.conversation_id "
            "WHERE ms.id = ? AND ms.internal = 0 AND c.customer_id = ?",
            (row["message_id"], ctx.me.subject_id),
        )
        if ok is None:
            raise not_found("Attachment")
    path = ctx.settings.data_dir / "attachments" / row["id"]
    if not path.is_file():
        raise ApiError(410, "gone", "The file of this attachment is missing on the server.")
    return FileResponse(
        path,
        media_type=row["content_type"],
        headers={
            "Content-Disposition": content_disposition(row["filename"]),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        },
    )


# --------------------------------------------------------------------------- customer API


def customer_session(ctx: Ctx) -> tuple[int, m.TokenInfo]:
    """Start a customer session and return a customer token.  No authentication needed:
    this is how a chat widget starts.  Without a verified identity the session always
    gets a **new** customer (an e-mail or name never reattaches an existing one).
    With ``identifier`` and ``identifier_hash`` = hex HMAC-SHA256(identity secret,
    identifier), computed by the website's own server, the customer with that
    identifier is reattached (created on first use).  401 ``identity_invalid`` when
    the hash does not match, or only one of the two is given."""
    req: m.CustomerSession = ctx.body
    identifier = req.identifier.strip()
    given = req.identifier_hash.strip()
    if identifier or given:
        secret = ctx.request.app.state.ac.identity_secret
        if not (identifier and given and admin.verify_identifier(secret, identifier, given)):
            raise ApiError(
                401,
                "identity_invalid",
                "identifier_hash does not match identifier: compute it on your server as "
                "hex HMAC-SHA256(identity secret, identifier).",
            )
    conn = ctx.svc.db.conn
    customer_id = admin.insert_customer(
        conn, req.name, req.email, identifier=identifier or None, reuse=False
    )
    token = admin.insert_token(conn, "customer", customer_id, req.name)
    return 201, m.TokenInfo(token=token, role="customer", subject_id=customer_id)


async def stream_ticket(ctx: Ctx) -> tuple[int, m.StreamTicket]:
    """Exchange the bearer token for a single-use ticket to open the stream as
    ``/api/v1/stream?ticket=<ticket>`` (for browsers, which cannot send an
    Authorization header on a WebSocket).  The ticket works once, within
    ``expires_in`` seconds, and only while the token stays valid; nothing reusable
    ever sits in a URL.  Changes no data, so supervisor tokens may ask for one."""
    state = ctx.request.app.state.ac
    ticket = state.issue_ticket(ctx.me)
    return 201, m.StreamTicket(ticket=ticket, expires_in=ctx.settings.stream_ticket_seconds)


def _own_conversation(ctx: Ctx) -> Any:
    row = ctx.svc.conversation_row(ctx.path("id"))
    if row is None or row["customer_id"] != ctx.me.subject_id:
        raise not_found("Conversation")
    return row


def customer_start(ctx: Ctx) -> tuple[int, m.Conversation]:
    """Start a chat: department (id or name; empty = the first), page URL, pre-chat
    answers and an optional first message.  If the department's pre-chat
    questions are not all answered the bot asks them first (state ``bot``);
    then the chat is queued and routed."""
    return 201, ctx.svc.start_conversation(ctx.me.subject_id, ctx.body)


def customer_list(ctx: Ctx) -> list[m.Conversation]:
    """The calling customer's conversations, newest first."""
    rows = ctx.svc.db.all(
        CONV_SELECT + " WHERE c.customer_id = ? ORDER BY c.seq DESC LIMIT 200", (ctx.me.subject_id,)
    )
    return [for_customer(ctx.svc.conversation_model(r)) for r in rows]


def customer_messages(ctx: Ctx) -> m.MessagePage:
    """Messages of one of the customer's conversations (never internal notes); same
    ``before``/``after``/``limit`` paging as the agent route."""
    conv = _own_conversation(ctx)
    return ctx.svc.message_page(
        conv["id"],
        before=ctx.request.query_params.get("before"),
        after=ctx.request.query_params.get("after"),
        limit=ctx.limit(),
        include_internal=False,
    )


def customer_send(ctx: Ctx) -> tuple[int, m.Message]:
    """Send a message as the customer; idempotent on ``client_id`` like the agent route.
    ``internal`` must be false.  While the bot asks pre-chat questions, the
    message is the answer to the pending question."""
    req: m.SendMessage = ctx.body
    conv = _own_conversation(ctx)
    existing = ctx.svc.find_by_client_id(conv["id"], req.client_id)
    if existing is not None:
        return 200, existing
    if req.internal:
        raise bad_request("Customers cannot write internal notes; send with internal=false.")
    if conv["state"] == "closed":
        raise ApiError(
            409, "conversation_closed", "This chat has ended; start a new one to write again."
        )
    if not req.body.strip() and not req.attachment_ids:
        raise bad_request("The message is empty: write some text or attach a file.")
    attachments = ctx.svc.check_attachments(req.attachment_ids, ctx.me.subject_id)
    message = ctx.svc.customer_says(
        conv["id"],
        ctx.me.subject_id,
        ctx.me.name,
        req.body,
        client_id=req.client_id,
        attachment_ids=attachments,
        conv=conv,
    )
    return 201, message


def customer_typing(ctx: Ctx) -> None:
    """Tell agents the customer is (not) typing."""
    req: m.TypingRequest = ctx.body
    conv = _own_conversation(ctx)
    _emit_typing(ctx, conv["id"], conv["customer_id"], "customer", req.typing)


def customer_rate(ctx: Ctx) -> m.Conversation:
    """Rate the chat 1–5 with an optional comment (CSAT); rating again replaces it."""
    req: m.RateRequest = ctx.body
    conv = _own_conversation(ctx)
    ctx.svc.update_conversation(conv["id"], csat_score=req.score, csat_comment=req.comment)
    ctx.svc.add_activity(ctx.me.subject_id, "csat", f"Rated a chat {req.score}/5")
    return for_customer(ctx.svc.emit_conversation(conv["id"]))


def customer_transcript(ctx: Ctx) -> Response:
    """Mail the transcript (public messages only) to ``email``; 202, sent in the background."""
    req: m.TranscriptRequest = ctx.body
    conv = _own_conversation(ctx)
    if not _looks_like_email(req.email.strip()):
        raise bad_request("The email address does not look valid; check it and try again.")
    _queue_transcript(ctx, conv["id"], req.email.strip())
    return Response(status_code=202)


def customer_leave(ctx: Ctx) -> m.Conversation:
    """The customer leaves the chat.  A chat still waiting in the bot step or the queue
    counts as abandoned.  Idempotent on an already closed chat."""
    conv = _own_conversation(ctx)
    if conv["state"] == "closed":
        return for_customer(ctx.svc.conversation_model(conv))
    abandoned = conv["state"] in ("bot", "queued")
    ctx.svc.system_message(conv["id"], f"{ctx.me.name} left the chat.")
    ctx.svc.update_conversation(
        conv["id"],
        state="closed",
        closed_at=now_iso(),
        waiting_since=None,
        abandoned=int(abandoned),
    )
    model = ctx.svc.emit_conversation(conv["id"])
    if conv["assignee_id"]:
        ctx.svc.emit_agent(conv["assignee_id"])
    ctx.svc.emit_queue(conv["department_id"])
    ctx.svc.drain_queue()
    return for_customer(model)


# --------------------------------------------------------------------------- route table

_LIMIT = QueryParam("limit", "Page size.", "integer", minimum=1, maximum=limits.MAX_PAGE_SIZE)
_BEFORE = QueryParam("before", "Return messages just before this message id.")
_AFTER = QueryParam("after", "Return messages just after this message id.")

ROUTES: list[RouteSpec] = [
    RouteSpec(
        "GET", "/health", health, "Liveness probe", auth=False, response=dict[str, Any], tag="meta"
    ),
    RouteSpec("GET", "/me", get_me, "The caller", roles=EVERYONE, response=m.Me),
    RouteSpec(
        "PUT",
        "/me/status",
        put_me_status,
        "Set status, accepting, capacity",
        roles=AGENT,
        body=m.StatusUpdate,
        response=m.Me,
    ),
    RouteSpec(
        "GET",
        "/departments",
        list_departments,
        "Departments",
        roles=EVERYONE,
        response=list[m.Department],
    ),
    RouteSpec(
        "GET",
        "/conversations",
        list_conversations,
        "List conversations",
        response=m.ConversationPage,
        query=(
            QueryParam("state", "Only this state.", enum=("bot", "queued", "active", "closed")),
            QueryParam("assignee", "`me`, `any` (default) or an agent id."),
            QueryParam("department", "Only this department id."),
            QueryParam("cursor", "next_cursor of the previous page.", pattern=r"^[0-9]{1,18}$"),
            _LIMIT,
        ),
    ),
    RouteSpec(
        "GET",
        "/conversations/{id}",
        get_conversation,
        "One conversation",
        response=m.Conversation,
        errors=(404,),
    ),
    RouteSpec(
        "GET",
        "/conversations/{id}/messages",
        list_messages,
        "Messages of a conversation",
        response=m.MessagePage,
        query=(_BEFORE, _AFTER, _LIMIT),
        errors=(404,),
    ),
    RouteSpec(
        "POST",
        "/conversations/{id}/messages",
        send_message,
        "Send a reply or internal note",
        roles=AGENT,
        body=m.SendMessage,
        response=m.Message,
        status=201,
        errors=(404, 409),
    ),
    RouteSpec(
        "POST",
        "/conversations/{id}/accept",
        accept_conversation,
        "Accept from the queue",
        roles=AGENT,
        response=m.Conversation,
        errors=(404, 409),
    ),
    RouteSpec(
        "POST",
        "/conversations/{id}/transfer",
        transfer_conversation,
        "Transfer to an agent or department",
        roles=AGENT,
        body=m.TransferRequest,
        response=m.Conversation,
        errors=(404, 409),
    ),
    RouteSpec(
        "POST",
        "/conversations/{id}/escalate",
        escalate_conversation,
        "Escalate with a reason",
        roles=AGENT,
        body=m.EscalateRequest,
        response=m.Conversation,
        errors=(404, 409),
    ),
    RouteSpec(
        "POST",
        "/conversations/{id}/follow-ups",
        create_follow_up,
        "Create a follow-up",
        roles=AGENT,
        body=m.FollowUpCreate,
        response=m.FollowUp,
        status=201,
        errors=(404,),
    ),
    RouteSpec(
        "GET",
        "/follow-ups",
        list_follow_ups,
        "Follow-ups",
        response=list[m.FollowUp],
        query=(
            QueryParam("assignee", "`me` (agents' default), `any` or an agent id."),
            QueryParam("state", "`open` (default), `done` or `all`.", enum=("open", "done", "all")),
        ),
    ),
    RouteSpec(
        "POST",
        "/follow-ups/{id}/done",
        complete_follow_up,
        "Mark a follow-up done",
        roles=AGENT,
        response=m.FollowUp,
        errors=(404,),
    ),
    RouteSpec(
        "POST",
        "/conversations/{id}/close",
        close_conversation,
        "Close",
        roles=AGENT,
        body=m.CloseRequest,
        response=m.Conversation,
        errors=(404, 409),
    ),
    RouteSpec(
        "POST",
        "/conversations/{id}/typing",
        typing,
        "Typing indicator",
        roles=AGENT,
        body=m.TypingRequest,
        status=204,
        errors=(404,),
    ),
    RouteSpec(
        "POST",
        "/conversations/{id}/read",
        mark_read,
        "Mark read",
        roles=AGENT,
        status=204,
        errors=(404,),
    ),
    RouteSpec(
        "POST",
        "/attachments",
        upload_attachment,
        "Upload a file",
        roles=("agent", "customer"),
        multipart=True,
        response=m.Attachment,
        status=201,
        errors=(413,),
        tag="attachments",
    ),
    RouteSpec(
        "GET",
        "/attachments/{id}",
        download_attachment,
        "Download a file",
        roles=EVERYONE,
        binary=True,
        errors=(404,),
        tag="attachments",
    ),
    RouteSpec(
        "GET",
        "/customers/{id}",
        get_customer,
        "Customer profile",
        response=m.Customer,
        errors=(404,),
    ),
    RouteSpec(
        "PUT",
        "/customers/{id}/tags",
        put_customer_tags,
        "Replace tags",
        roles=AGENT,
        body=m.TagsUpdate,
        response=m.Customer,
        errors=(404,),
    ),
    RouteSpec(
        "GET",
        "/customers/{id}/notes",
        list_customer_notes,
        "Customer notes",
        response=list[m.CustomerNote],
        errors=(404,),
    ),
    RouteSpec(
        "POST",
        "/customers/{id}/notes",
        create_customer_note,
        "Add a customer note",
        roles=AGENT,
        body=m.NoteCreate,
        response=m.CustomerNote,
        status=201,
        errors=(404,),
    ),
    RouteSpec(
        "GET",
        "/customers/{id}/follow-ups",
        list_customer_follow_ups,
        "The customer's follow-ups",
        response=list[m.FollowUp],
        errors=(404,),
    ),
    RouteSpec(
        "GET",
        "/customers/{id}/conversations",
        list_customer_conversations,
        "Past conversations",
        response=list[m.Conversation],
        errors=(404,),
    ),
    RouteSpec(
        "GET",
        "/canned-replies",
        list_canned_replies,
        "Canned replies",
        response=list[m.CannedReply],
        query=(QueryParam("q", "Substring of title, shortcut or body."),),
    ),
    RouteSpec(
        "POST",
        "/canned-replies",
        create_canned_reply,
        "Create a canned reply",
        roles=AGENT,
        body=m.CannedReplyCreate,
        response=m.CannedReply,
        status=201,
    ),
    RouteSpec(
        "PUT",
        "/canned-replies/{id}",
        update_canned_reply,
        "Update a canned reply",
        roles=AGENT,
        body=m.CannedReplyCreate,
        response=m.CannedReply,
        errors=(404,),
    ),
    RouteSpec(
        "DELETE",
        "/canned-replies/{id}",
        delete_canned_reply,
        "Delete a canned reply",
        roles=AGENT,
        status=204,
        errors=(404,),
    ),
    RouteSpec(
        "GET",
        "/search",
        search,
        "Full-text search",
        response=m.SearchResults,
        query=(QueryParam("q", "Words to find (all must match).", required=True), _LIMIT),
    ),
    RouteSpec(
        "GET", "/queues", queues_view, "Queue statistics", response=m.QueuesView, tag="supervisor"
    ),
    RouteSpec(
        "GET", "/agents", agents_view, "Agent statistics", response=m.AgentsView, tag="supervisor"
    ),
    RouteSpec(
        "GET",
        "/history",
        history_view,
        "Today vs the last 7 days",
        response=m.HistoryView,
        tag="supervisor",
    ),
    RouteSpec(
        "POST",
        "/customer/session",
        customer_session,
        "Start a customer session",
        auth=False,
        roles=EVERYONE,
        body=m.CustomerSession,
        response=m.TokenInfo,
        status=201,
        errors=(401,),
        tag="customer",
    ),
    RouteSpec(
        "POST",
        "/stream/ticket",
        stream_ticket,
        "Single-use stream ticket",
        roles=EVERYONE,
        response=m.StreamTicket,
        status=201,
        read_only_safe=True,
        tag="meta",
    ),
    RouteSpec(
        "POST",
        "/customer/conversations",
        customer_start,
        "Start a conversation",
        roles=CUSTOMER,
        body=m.StartConversation,
        response=m.Conversation,
        status=201,
        tag="customer",
    ),
    RouteSpec(
        "GET",
        "/customer/conversations",
        customer_list,
        "My conversations",
        roles=CUSTOMER,
        response=list[m.Conversation],
        tag="customer",
    ),
    RouteSpec(
        "GET",
        "/customer/conversations/{id}/messages",
        customer_messages,
        "Messages (public only)",
        roles=CUSTOMER,
        response=m.MessagePage,
        query=(_BEFORE, _AFTER, _LIMIT),
        errors=(404,),
        tag="customer",
    ),
    RouteSpec(
        "POST",
        "/customer/conversations/{id}/messages",
        customer_send,
        "Send a message",
        roles=CUSTOMER,
        body=m.SendMessage,
        response=m.Message,
        status=201,
        errors=(404, 409),
        tag="customer",
    ),
    RouteSpec(
        "POST",
        "/customer/conversations/{id}/typing",
        customer_typing,
        "Typing indicator",
        roles=CUSTOMER,
        body=m.TypingRequest,
        status=204,
        errors=(404,),
        tag="customer",
    ),
    RouteSpec(
        "POST",
        "/customer/conversations/{id}/rate",
        customer_rate,
        "Rate the chat (CSAT)",
        roles=CUSTOMER,
        body=m.RateRequest,
        response=m.Conversation,
        errors=(404,),
        tag="customer",
    ),
    RouteSpec(
        "POST",
        "/customer/conversations/{id}/transcript",
        customer_transcript,
        "Mail the transcript",
        roles=CUSTOMER,
        body=m.TranscriptRequest,
        status=202,
        errors=(404,),
        tag="customer",
    ),
    RouteSpec(
        "POST",
        "/customer/conversations/{id}/leave",
        customer_leave,
        "Leave the chat",
        roles=CUSTOMER,
        response=m.Conversation,
        errors=(404,),
        tag="customer",
    ),
    RouteSpec(
        "POST",
        "/customer/attachments",
        upload_attachment,
        "Upload a file",
        roles=CUSTOMER,
        multipart=True,
        response=m.Attachment,
        status=201,
        errors=(413,),
        tag="customer",
    ),
]
