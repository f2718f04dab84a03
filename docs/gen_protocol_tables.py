"""Regenerate the generated parts of ``docs/protocol.md`` from the code.

Two blocks are generated, each between marker comments in the document:

* ``routes``: the REST route table, from ``console.server.routes.ROUTES`` (the
  same table the server routes and builds its OpenAPI document from);
* ``models``: one field table per wire model, from the msgspec Structs in
  ``console.protocol.models`` (type, default, constraints, source comment).

Usage::

    python docs/gen_protocol_tables.py          # rewrite docs/protocol.md in place
    python docs/gen_protocol_tables.py --check  # exit 1 if the document is stale

``tests/server_contract/test_protocol_doc.py`` runs the check, so the document
cannot drift from the models or the route table.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import inspect
import json
import re
import sys
import types
import typing
from pathlib import Path
from typing import Any

import msgspec

DOC = Path(__file__).resolve().parent / "protocol.md"

# Order and grouping of the model tables.
MODEL_GROUPS: list[tuple[str, list[str]]] = [
    ("Errors", ["ErrorBody", "ErrorDetail"]),
    (
        "People and departments",
        ["Me", "StatusUpdate", "Agent", "Department", "TokenInfo", "StreamTicket"],
    ),
    (
        "Conversations and messages",
        [
            "Conversation",
            "ConversationPage",
            "Message",
            "MessagePage",
            "SendMessage",
            "Attachment",
            "TransferRequest",
            "EscalateRequest",
            "CloseRequest",
            "TypingRequest",
        ],
    ),
    ("Customers", ["Customer", "Activity", "CustomerNote", "NoteCreate", "TagsUpdate"]),
    ("Follow-ups", ["FollowUp", "FollowUpCreate"]),
    (
        "Canned replies and search",
        ["CannedReply", "CannedReplyCreate", "SearchResults", "SearchHit"],
    ),
    (
        "Supervisor views",
        [
            "QueuesView",
            "QueueStats",
            "AgentsView",
            "AgentStats",
            "HistoryView",
            "DepartmentHistory",
            "AgentHistory",
            "HistoryFigures",
        ],
    ),
    (
        "Customer API",
        ["CustomerSession", "StartConversation", "RateRequest", "TranscriptRequest"],
    ),
    ("Stream frames", ["Event", "TypingEvent", "Hello", "Ping", "Welcome", "Reset", "Pong"]),
]


# Field notes for the tables (take precedence over comments in the model source).
NOTES: dict[tuple[str, str], str] = {
    ("Me", "status"): "agents only; customers always `online`",
    ("Me", "department_ids"): "departments the agent serves; all departments when none are set",
    ("StatusUpdate", "accepting"): "false: keep current chats, get no new ones",
    ("StatusUpdate", "capacity"): "concurrent active chats",
    ("Agent", "active_count"): "active conversations assigned now",
    ("Department", "open_now"): "within business hours at request time (see §6)",
    (
        "Department",
        "offline_message",
    ): "posted as a system message when a chat queues outside business hours",
    ("TokenInfo", "subject_id"): "the customer's id (for a customer token)",
    ("Conversation", "customer_email"): "may be empty",
    ("Conversation", "assignee_id"): "set while `active` (and kept on `closed`)",
    ("Conversation", "channel"): "where the chat comes from; the reference server only has `web`",
    ("Conversation", "page_url"): "page the customer started from",
    ("Conversation", "prechat"): "pre-chat form and bot answers, key → answer",
    (
        "Conversation",
        "waiting_since",
    ): "oldest customer message no agent has answered yet; null when nobody waits",
    ("Conversation", "first_response_at"): "first public agent message after the customer waited",
    ("Conversation", "csat_score"): "1–5 once the customer rated",
    ("Conversation", "abandoned"): "the customer left while in `bot` or `queued`",
    (
        "ConversationPage",
        "next_cursor",
    ): "pass as `cursor` for the next (older) page; null on the last page",
    ("Message", "author_id"): "agent or customer id; null for `bot` and `system`",
    ("Message", "internal"): "internal note: staff only",
    ("Message", "client_id"): "the sender's idempotency key (null for server-made messages)",
    ("MessagePage", "items"): "ascending (oldest first)",
    ("MessagePage", "has_more"): "more messages exist in the paging direction",
    ("SendMessage", "client_id"): "idempotency key, unique per conversation (§7)",
    ("SendMessage", "body"): "may be empty only when `attachment_ids` is not",
    ("SendMessage", "internal"): "agents only: an internal note",
    ("SendMessage", "attachment_ids"): "ids from an upload by the same sender, each used once",
    ("Attachment", "content_type"): "sniffed from the bytes",
    ("Attachment", "url"): "path of the download route, relative to the server root",
    ("TransferRequest", "agent_id"): "exactly one of `agent_id`, `department_id`",
    ("TransferRequest", "department_id"): "department id or name",
    ("TransferRequest", "note"): "kept as an internal message",
    ("CloseRequest", "send_transcript"): "mail the public transcript",
    ("CloseRequest", "transcript_email"): "default: the customer's email",
    ("CloseRequest", "request_csat"): "ask the customer for a 1–5 rating in the closing message",
    ("Customer", "account"): "plan, MRR, signup date …, all strings",
    ("Customer", "activity"): "newest first, at most 50",
    ("Activity", "kind"): "e.g. `conversation`, `csat`, `page_view`, `invoice`",
    ("CustomerNote", "author_id"): "agent id",
    ("TagsUpdate", "tags"): "replaces all tags; trimmed, empties and duplicates dropped",
    (
        "CannedReply",
        "body",
    ): "may contain `{customer.name}`, `{customer.email}`, `{agent.name}`, `{conversation.id}`, `{department.name}`; filled in by the client",
    ("CannedReply", "category"): "`greeting`, `farewell`, `general`, `billing`, `tech`, …",
    ("CannedReply", "lang"): "`en`, `ko`, `ja`, …",
    ("SearchHit", "snippet"): "plain text around the match",
    ("QueueStats", "waiting"): "conversations `queued`",
    ("QueueStats", "longest_wait_seconds"): "age of the oldest `queued_at`",
    ("QueueStats", "avg_first_response_seconds"): "today (UTC); null without data",
    ("QueueStats", "avg_response_seconds"): "today (UTC), every answer to a waiting customer",
    ("QueueStats", "created_today"): "conversations created today (UTC)",
    ("AgentStats", "load"): "active chats",
    ("AgentStats", "chats_today"): "conversations assigned today (UTC)",
    (
        "AgentStats",
        "department_ids",
    ): "departments the agent serves (empty: the backend does not say)",
    ("StartConversation", "email"): "updates the customer's email when given",
    ("StartConversation", "department"): "id or name; empty = the first department",
    ("StartConversation", "prechat"): "pre-chat form answers",
    ("StartConversation", "message"): "optional opening line (first customer message)",
    ("CustomerSession", "email"): "a known email reuses that customer (§2)",
    ("Event", "seq"): "strictly increasing per server, survives restarts",
    ("Event", "type"): "see the event table in §11",
    ("Event", "data"): "the event's model",
    ("Hello", "resume_after"): "highest `seq` processed; null on a first connect",
    ("Welcome", "last_seq"): "replay ends here; live events have `seq` greater",
    ("Reset", "last_seq"): "re-sync over REST; live events have `seq` greater",
}


def _anchor(name: str) -> str:
    return "model-" + name.lower()


def _meta_constraints(meta: msgspec.Meta) -> list[str]:
    out: list[str] = []
    for attr, label in (
        ("min_length", "min length"),
        ("max_length", "max length"),
        ("ge", "≥"),
        ("gt", ">"),
        ("le", "≤"),
        ("lt", "<"),
        ("pattern", "pattern"),
    ):
        value = getattr(meta, attr, None)
        if value is not None:
            shown = (
                f"`{value}`"
                if attr == "pattern"
                else f"{value:,}"
                if isinstance(value, int)
                else value
            )
            out.append(f"{label} {shown}")
    return out


def render_type(tp: Any, constraints: list[str], structs: set[str]) -> str:
    """Markdown for a type; Annotated constraints are appended to ``constraints``."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        inner, *extras = args
        inner_constraints: list[str] = []
        text = render_type(inner, inner_constraints, structs)
        for extra in extras:
            if isinstance(extra, msgspec.Meta):
                mine = _meta_constraints(extra)
                if typing.get_origin(inner) is list and mine:
                    mine = [c.replace("length", "items") for c in mine]
                constraints.extend(mine)
        constraints.extend(inner_constraints)
        return text
    if origin is typing.Literal:
        return " \\| ".join(f'`"{a}"`' if isinstance(a, str) else f"`{a}`" for a in args)
    if origin in (typing.Union, types.UnionType):
        return " \\| ".join(render_type(a, constraints, structs) for a in args)
    if origin is list:
        return f"list[{render_type(args[0], constraints, structs)}]"
    if origin is dict:
        return f"dict[{render_type(args[0], constraints, structs)}, {render_type(args[1], constraints, structs)}]"
    if tp is type(None):
        return "null"
    if tp is _dt.datetime:
        return "datetime"
    if tp is typing.Any:
        return "any"
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        if tp.__name__ in structs:
            return f"[{tp.__name__}](#{_anchor(tp.__name__)})"
        return tp.__name__
    if isinstance(tp, type):
        return {"str": "string", "int": "integer", "bool": "boolean", "float": "number"}.get(
            tp.__name__, tp.__name__
        )
    return str(tp)


def _field_comments(cls: type) -> dict[str, str]:
    """``# comment`` on a field's line, or on the comment lines right above it."""
    try:
        source = inspect.getsource(cls)
    except (OSError, TypeError):
        return {}
    comments: dict[str, str] = {}
    pending: list[str] = []
    for line in source.splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("# ").strip())
            continue
        match = re.match(r"^\s+([a-z_][a-z0-9_]*)\s*:", line)
        if match:
            parts = [*pending]
            if "#" in line:
                parts.append(line.split("#", 1)[1].strip())
            if parts:
                comments[match.group(1)] = " ".join(parts)
        pending = []
    return comments


def _default(field: msgspec.structs.FieldInfo) -> str:
    if field.required:
        return "**required**"
    if field.default_factory is not msgspec.NODEFAULT:
        try:
            return f"`{json.dumps(field.default_factory())}`"
        except TypeError:
            return "(factory)"
    return f"`{json.dumps(field.default, ensure_ascii=False)}`"


def model_table(cls: type, structs: set[str]) -> str:
    hints = typing.get_type_hints(cls, include_extras=True)
    comments = _field_comments(cls)
    strict = getattr(cls, "__struct_config__", None)
    forbid = bool(strict and strict.forbid_unknown_fields)
    doc = inspect.cleandoc(cls.__doc__ or "").split("\n\n")[0].replace("\n", " ").replace("``", "`")
    if doc.startswith(("A base class", "Base:")):
        doc = ""
    lines = [f'<a id="{_anchor(cls.__name__)}"></a>', f"#### {cls.__name__}", ""]
    if doc and "msgspec" not in doc.lower():
        lines += [doc, ""]
    lines.append(
        "Request body: unknown fields are rejected with 400."
        if forbid
        else "Unknown fields must be ignored by readers (forward compatibility)."
    )
    lines += ["", "| field | type | default | constraints / notes |", "|---|---|---|---|"]
    for field in msgspec.structs.fields(cls):
        constraints: list[str] = []
        type_text = render_type(hints[field.name], constraints, structs)
        note = NOTES.get((cls.__name__, field.name), comments.get(field.name, ""))
        notes = "; ".join([*constraints, *([note] if note else [])])
        lines.append(f"| `{field.name}` | {type_text} | {_default(field)} | {notes} |")
    return "\n".join(lines)


def models_block() -> str:
    from console.protocol import models as m

    names = {n for _, group in MODEL_GROUPS for n in group}
    parts: list[str] = []
    for title, group in MODEL_GROUPS:
        parts.append(f"### {title}")
        for name in group:
            parts.append(model_table(getattr(m, name), names))
    return "\n\n".join(parts)


def _type_name(tp: Any) -> str:
    if tp is None:
        return "—"
    origin = typing.get_origin(tp)
    if origin is list:
        return f"list of {_type_name(typing.get_args(tp)[0])}"
    if origin is dict:
        return "object"
    if isinstance(tp, type) and issubclass(tp, msgspec.Struct):
        return f"[{tp.__name__}](#{_anchor(tp.__name__)})"
    return getattr(tp, "__name__", str(tp))


def routes_block() -> str:
    from console.server.routes import ROUTES

    lines = [
        "| method | path | roles | query | request body | success | errors besides 400/401/403/429 |",
        "|---|---|---|---|---|---|---|",
    ]
    for spec in ROUTES:
        roles = "none (public)" if not spec.auth else ", ".join(spec.roles)
        query = ", ".join(f"`{q.name}`" + ("*" if q.required else "") for q in spec.query) or "—"
        if spec.multipart:
            body = "multipart `file`"
        else:
            body = _type_name(spec.body) if spec.body is not None else "—"
        if spec.binary:
            success = f"{spec.status} bytes"
        elif spec.response is None:
            success = str(spec.status)
        else:
            success = f"{spec.status} {_type_name(spec.response)}"
        if spec.method == "POST" and spec.path.endswith("/messages"):
            success += " (200 on a `client_id` replay)"
        errors = ", ".join(str(e) for e in spec.errors) or "—"
        path = "/api/v1" + spec.path
        lines.append(
            f"| {spec.method} | `{path}` | {roles} | {query} | {body} | {success} | {errors} |"
        )
    return "\n".join(lines)


def render(text: str) -> str:
    for name, block in (("routes", routes_block()), ("models", models_block())):
        begin, end = f"<!-- generated:{name}:begin -->", f"<!-- generated:{name}:end -->"
        if begin not in text or end not in text:
            raise SystemExit(f"{DOC} lacks the {begin} … {end} markers")
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = f"{head}{begin}\n<!-- Generated by docs/gen_protocol_tables.py; do not edit by hand. -->\n\n{block}\n\n{end}{tail}"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if docs/protocol.md is stale")
    args = parser.parse_args(argv)
    current = DOC.read_text(encoding="utf-8")
    fresh = render(current)
    if args.check:
        if fresh != current:
            print(
                "docs/protocol.md is stale: run python docs/gen_protocol_tables.py", file=sys.stderr
            )
            return 1
        return 0
    if fresh != current:
        DOC.write_text(fresh, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
