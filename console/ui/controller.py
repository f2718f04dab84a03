"""Glue between a Backend, the client state and the screens.

One event path (DESIGN.md): backend event → state update → the affected pane
refreshes.  The controller runs the backend's event stream inside an app
worker, applies each event, and remembers which conversations changed.  A
flush at most every ``1 / MAX_REFRESH_PER_SECOND`` seconds tells the screen
which panes to redraw, so a burst of 200 messages costs a handful of repaints,
not 200.

It also keeps the few pieces of state that only the workspace needs: pane
order, unread counters, promise timers started by the expectation shortcuts,
drafts and the outbox of messages sent but not yet acknowledged.

Nothing here draws; the controller never imports widgets.  The clock is a
plain callable (``clock()`` → aware ``datetime``) so tests can move time.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

from console.backends.base import Backend, BackendError, ConnectionState
from console.protocol import models as m

log = logging.getLogger(__name__)

MAX_REFRESH_PER_SECOND = 30
PROMISE_ALERT_SECONDS = 30.0
"""Seconds before a promise expires when the pane alerts (one-key follow-up)."""

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- i18n


@cache
def _fallback_catalog(lang: str) -> dict[str, str]:
    path = Path(__file__).resolve().parent.parent / "core" / "locales" / lang / "workspace.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return {}
    table = data.get("workspace", data)
    return {str(k): str(v) for k, v in table.items() if isinstance(v, str)}


_LANG: list[str] = ["en"]


def set_language(lang: str | None) -> None:
    """Choose the catalog used by :func:`tr` (``None``/auto keeps English unless i18n decides)."""
    if lang in ("en", "ko", "ja"):
        _LANG[0] = lang
    try:
        from console.core import i18n  # deferred: owned by the foundation work, may be absent

        setter = getattr(i18n, "set_language", None)
        if setter is not None and lang:
            setter(lang)
    except ImportError:
        pass


def tr(key: str, **params: object) -> str:
    """Translated plain text for ``workspace.<key>``; never markup."""
    text: str | None = None
    try:
        from console.core import i18n  # deferred: see set_language

        candidate = i18n.t(f"workspace.{key}", **params)
        if isinstance(candidate, str) and candidate != f"workspace.{key}":
            text = candidate
    except (ImportError, AttributeError, KeyError):
        text = None
    if text is None:
        template = _fallback_catalog(_LANG[0]).get(key) or _fallback_catalog("en").get(key, key)
        try:
            text = template.format(**params)
        except (KeyError, IndexError, ValueError):
            text = template
    return text


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class Promise:
    """A promise the agent made with an expectation shortcut."""

    template_id: str
    started: datetime
    deadline: datetime
    follow_up: str
    alerted: bool = False


@dataclass(slots=True)
class PendingSend:
    conversation_id: str
    client_id: str
    body: str
    state: Literal["pending", "failed"] = "pending"
    error: str = ""


@dataclass(slots=True)
class PaneState:
    """What a pane header shows beyond the conversation itself."""

    unread: int = 0
    customer_typing: bool = False
    trigger_hits: list[str] = field(default_factory=list)
    promise: Promise | None = None
    draft: str = ""


_client_counter = itertools.count(1)


def new_client_id() -> str:
    return f"c{os.getpid():x}-{time.time_ns():x}-{next(_client_counter)}"


def wait_seconds(conversation: m.Conversation, now: datetime) -> float | None:
    """How long the customer has waited for us; ``None`` if nobody waits."""
    since = conversation.waiting_since
    if conversation.state == "queued" and since is None:
        since = conversation.queued_at or conversation.created_at
    if since is None:
        return None
    return max(0.0, (now - since).total_seconds())


def risk_score(
    conversation: m.Conversation, promise: Promise | None, now: datetime, sla_critical: float
) -> float:
    """Waited time relative to what we promised (or the SLA): > 1 means overdue."""
    if promise is not None:
        total = max(1.0, (promise.deadline - promise.started).total_seconds())
        return (now - promise.started).total_seconds() / total
    waited = wait_seconds(conversation, now)
    if waited is None:
        return 0.0
    return waited / max(1.0, sla_critical)


class WorkspaceController:
    """Owns the connection, the event stream and the workspace-only state."""

    def __init__(
        self,
        backend: Backend,
        *,
        clock: Clock = system_clock,
        on_changed: Callable[[frozenset[str], bool], None] | None = None,
        on_connection: Callable[[ConnectionState], None] | None = None,
        on_event: Callable[[m.Event, Any], None] | None = None,
    ) -> None:
        self.backend = backend
        self.clock = clock
        self.me: m.Me | None = None
        self.conversations: dict[str, m.Conversation] = {}
        self.messages: dict[str, list[m.Message]] = {}
        self.message_ids: dict[str, set[str]] = {}
        self.has_older: dict[str, bool] = {}
        self.customers: dict[str, m.Customer] = {}
        self.notes: dict[str, list[m.CustomerNote]] = {}
        self.pending: dict[str, PendingSend] = {}
        self.panes: dict[str, PaneState] = {}
        self.pane_order: list[str] = []
        self.departments: dict[str, m.Department] = {}
        self._on_changed = on_changed
        self._on_connection = on_connection
        self._on_event = on_event
        self._dirty: set[str] = set()
        self._dirty_lists = False
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._typing_sent: dict[str, float] = {}
        backend.on_connection_change(self._connection_changed)

    # ------------------------------------------------------------------ queries
    def active(self) -> list[m.Conversation]:
        """My active chats in pane order."""
        return [self.conversations[c] for c in self.pane_order if c in self.conversations]

    def queued(self) -> list[m.Conversation]:
        """Waiting chats, longest wait first."""
        now = self.clock()
        items = [c for c in self.conversations.values() if c.state == "queued"]
        return sorted(items, key=lambda c: -(wait_seconds(c, now) or 0.0))

    def pane(self, conversation_id: str) -> PaneState:
        return self.panes.setdefault(conversation_id, PaneState())

    def capacity_left(self) -> int:
        capacity = self.me.capacity if self.me else 0
        return capacity - len(self.pane_order)

    # ------------------------------------------------------------------ start
    async def start(self) -> m.Me:
        """Connect, load my chats and the queue.  Raises BackendError/AuthError."""
        self.me = await self.backend.connect()
        await self.resync()
        try:
            self.departments = {d.id: d for d in await self.backend.list_departments()}
        except BackendError as error:
            log.info("departments unavailable: %s", error)
        return self.me

    async def resync(self) -> None:
        """Reload active and queued conversations (start and after a stream reset)."""
        me = self.me
        assert me is not None
        active = await self._all_conversations(state="active", assignee="me")
        queued = await self._all_conversations(state="queued", assignee="any")
        for conversation in (*active, *queued):
            self._ingest_conversation(conversation)
        for conversation in active:
            if conversation.id not in self.messages:
                await self.load_messages(conversation.id)
        self._mark_lists()

    async def _all_conversations(
        self, *, state: m.ConversationState, assignee: str
    ) -> list[m.Conversation]:
        items: list[m.Conversation] = []
        cursor: str | None = None
        for _ in range(20):  # bounded: 20 pages is far beyond any real queue
            page = await self.backend.list_conversations(
                state=state, assignee=assignee, cursor=cursor
            )
            items.extend(page.items)
            cursor = page.next_cursor
            if not cursor:
                break
        return items

    async def load_messages(self, conversation_id: str, *, older: bool = False) -> int:
        """Fetch the newest page, or the page before the oldest loaded message."""
        known = self.messages.setdefault(conversation_id, [])
        before = known[0].id if older and known else None
        page = await self.backend.list_messages(conversation_id, before=before)
        ids = self.message_ids.setdefault(conversation_id, set())
        fresh = [msg for msg in page.items if msg.id not in ids]
        ids.update(msg.id for msg in fresh)
        if older or not known:
            self.messages[conversation_id] = fresh + known
        else:
            known.extend(fresh)
            known.sort(key=lambda msg: msg.created_at)
        self.has_older[conversation_id] = (
            page.has_more
            if (older or not known)
            else self.has_older.get(conversation_id, page.has_more)
        )
        self._mark(conversation_id)
        return len(fresh)

    async def run_events(self) -> None:
        """Consume the event stream until cancelled."""
        async for event in self.backend.events():
            try:
                self.apply_event(event)
            except Exception:  # one bad event must not end the stream
                log.exception("could not apply event %s", event.type)

    # ------------------------------------------------------------------ events
    def apply_event(self, event: m.Event) -> None:
        data = m.decode_event_data(event)
        if data is None:
            log.info("ignoring unknown event type %r", event.type)
            return
        if isinstance(data, m.Message):
            self._ingest_message(data)
        elif isinstance(data, m.Conversation):
            self._ingest_conversation(data)
            self._mark_lists()
        elif isinstance(data, m.TypingEvent):
            if data.author_kind == "customer" and data.conversation_id in self.conversations:
                self.pane(data.conversation_id).customer_typing = data.typing
                self._mark(data.conversation_id)
        elif isinstance(data, m.Agent):
            if self.me is not None and data.id == self.me.id:
                self.me = m.Me(
                    id=self.me.id,
                    name=data.name,
                    role=self.me.role,
                    status=data.status,
                    capacity=data.capacity,
                    accepting=data.accepting,
                    department_ids=data.department_ids,
                )
                self._mark_lists()
        elif isinstance(data, m.Customer):
            if data.id in self.customers:
                self.customers[data.id] = data
                self._mark_customer(data.id)
        elif isinstance(data, m.CustomerNote):
            notes = self.notes.get(data.customer_id)
            if notes is not None and all(n.id != data.id for n in notes):
                notes.append(data)
                self._mark_customer(data.customer_id)
        if self._on_event is not None:
            self._on_event(event, data)

    def apply_conversation(self, conversation: m.Conversation) -> None:
        """Take a conversation returned by a call (accept/transfer/close) into the state."""
        self._ingest_conversation(conversation)
        self._mark_lists()

    def _ingest_conversation(self, conversation: m.Conversation) -> None:
        mine = (
            conversation.state == "active"
            and self.me is not None
            and conversation.assignee_id == self.me.id
        )
        if conversation.state in ("queued",) or mine:
            self.conversations[conversation.id] = conversation
        else:
            self.conversations.pop(conversation.id, None)
        if mine and conversation.id not in self.pane_order:
            self.pane_order.append(conversation.id)
        if not mine and conversation.id in self.pane_order:
            self.pane_order.remove(conversation.id)
        self._mark(conversation.id)

    def _ingest_message(self, message: m.Message) -> None:
        cid = message.conversation_id
        if cid not in self.conversations or cid not in self.messages:
            return
        ids = self.message_ids.setdefault(cid, set())
        if message.id in ids:
            return
        ids.add(message.id)
        self.messages[cid].append(message)
        if message.client_id and message.client_id in self.pending:
            del self.pending[message.client_id]
        pane = self.pane(cid)
        if message.author_kind == "customer":
            pane.unread += 1
            pane.customer_typing = False
        self._mark(cid)

    # ------------------------------------------------------------------ actions
    async def send(self, conversation_id: str, body: str, *, internal: bool = False) -> m.Message:
        """Send with a fresh client id; shows as pending until the server acknowledges it."""
        client_id = new_client_id()
        self.pending[client_id] = PendingSend(conversation_id, client_id, body)
        self._mark(conversation_id)
        try:
            message = await self.backend.send_message(
                conversation_id, m.SendMessage(client_id=client_id, body=body, internal=internal)
            )
        except BackendError as error:
            self.pending[client_id].state = "failed"
            self.pending[client_id].error = str(error)
            self._mark(conversation_id)
            raise
        self.pending.pop(client_id, None)
        self._ingest_message(message)
        pane = self.pane(conversation_id)
        pane.unread = 0
        self._mark(conversation_id)
        return message

    async def typing(self, conversation_id: str, typing: bool = True) -> None:
        """Tell the customer we type, at most every 3 seconds per chat."""
        now = time.monotonic()
        if typing and now - self._typing_sent.get(conversation_id, -1e9) < 3.0:
            return
        self._typing_sent[conversation_id] = now if typing else -1e9
        try:
            await self.backend.set_typing(conversation_id, typing)
        except BackendError as error:
            log.info("typing not sent: %s", error)

    async def accept(self, conversation_id: str) -> m.Conversation:
        conversation = await self.backend.accept(conversation_id)
        self._ingest_conversation(conversation)
        if conversation.id not in self.messages:
            await self.load_messages(conversation.id)
        self._mark_lists()
        return conversation

    async def set_status(self, update: m.StatusUpdate) -> m.Me:
        self.me = await self.backend.set_status(update)
        self._mark_lists()
        return self.me

    async def load_customer(self, customer_id: str) -> None:
        self.customers[customer_id] = await self.backend.get_customer(customer_id)
        self.notes[customer_id] = await self.backend.list_customer_notes(customer_id)
        self._mark_customer(customer_id)

    async def add_note(self, customer_id: str, body: str) -> m.CustomerNote:
        note = await self.backend.add_customer_note(customer_id, body)
        notes = self.notes.setdefault(customer_id, [])
        if all(n.id != note.id for n in notes):
            notes.append(note)
        self._mark_customer(customer_id)
        return note

    def start_promise(
        self, conversation_id: str, template_id: str, seconds: float, follow_up: str
    ) -> Promise:
        now = self.clock()
        promise = Promise(template_id, now, now + timedelta(seconds=seconds), follow_up)
        self.pane(conversation_id).promise = promise
        self._mark(conversation_id)
        return promise

    def due_promises(self) -> list[tuple[str, Promise]]:
        """Promises entering the alert window now (each reported once)."""
        now = self.clock()
        due: list[tuple[str, Promise]] = []
        for cid in self.pane_order:
            promise = self.pane(cid).promise
            if promise is None or promise.alerted:
                continue
            if (promise.deadline - now).total_seconds() <= PROMISE_ALERT_SECONDS:
                promise.alerted = True
                due.append((cid, promise))
        return due

    def move(self, conversation_id: str, delta: int) -> None:
        order = self.pane_order
        index = order.index(conversation_id)
        target = max(0, min(len(order) - 1, index + delta))
        order.insert(target, order.pop(index))
        self._mark_lists()

    def most_at_risk(self, sla_critical: float) -> str | None:
        now = self.clock()
        best: tuple[float, str] | None = None
        for conversation in self.active():
            score = risk_score(conversation, self.pane(conversation.id).promise, now, sla_critical)
            if best is None or score > best[0]:
                best = (score, conversation.id)
        return best[1] if best else None

    # ------------------------------------------------------------------ refresh coalescing
    def _connection_changed(self, state: ConnectionState) -> None:
        if self._on_connection is not None:
            self._on_connection(state)

    def _mark(self, conversation_id: str) -> None:
        self._dirty.add(conversation_id)
        self._schedule()

    def _mark_lists(self) -> None:
        self._dirty_lists = True
        self._schedule()

    def _mark_customer(self, customer_id: str) -> None:
        for cid, conversation in self.conversations.items():
            if conversation.customer_id == customer_id:
                self._dirty.add(cid)
        self._dirty_lists = True
        self._schedule()

    def _schedule(self) -> None:
        if self._flush_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.flush()
            return
        interval = 1.0 / MAX_REFRESH_PER_SECOND
        delay = max(0.0, self._last_flush + interval - loop.time())
        self._flush_handle = loop.call_later(delay, self.flush)

    def flush(self) -> None:
        """Report what changed since the last flush (at most 30 times a second)."""
        self._flush_handle = None
        try:
            self._last_flush = asyncio.get_running_loop().time()
        except RuntimeError:
            self._last_flush = 0.0
        dirty, lists = frozenset(self._dirty), self._dirty_lists
        self._dirty.clear()
        self._dirty_lists = False
        if (dirty or lists) and self._on_changed is not None:
            self._on_changed(dirty, lists)
