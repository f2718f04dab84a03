"""Glue between a Backend, the client state and the screens.

One event path (DESIGN.md): backend event → state update → the affected pane
refreshes.  The controller runs the backend's event stream inside an app
worker, applies each event, and remembers which conversations changed.  A
flush at most every ``1 / MAX_REFRESH_PER_SECOND`` seconds hands the screen a
:class:`~console.core.changes.WorkspaceChanges` naming exactly what changed
(messages per chat, queue rows, customers; merged by the rules of
``console.core.changes``), so a burst of 200 messages costs a handful of
repaints, not 200, and each repaint touches only the named rows.

The client state itself (conversations, transcripts, pending sends, unread
counts, typing, customers) lives in ``console.core.store.Store``; the
controller keeps only what the workspace alone needs: pane order, promise
timers started by the expectation shortcuts and which promise alerts were
shown.

Start order: connect, subscribe to the stream, then load over REST, so an
event that happens in between is not lost (the store dedupes what arrives
twice).  The price: an event older than the REST answer can arrive after it.
A replayed ``conversation.created`` for a chat already loaded is skipped (it
would say "queued" after REST said "active"); for other stale updates the
next event fixes the state, and pane state is only dropped at a flush if the
chat is still gone then.

Nothing here draws; the controller never imports widgets.  The clock is a
plain callable (``clock()`` → aware ``datetime``) so tests can move time.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.backends.base import (
    Backend,
    BackendError,
    Capability,
    ConnectionPhase,
    ConnectionState,
    ReadOnlyBackend,
)
from console.core import i18n
from console.core.changes import ChangeCollector, WorkspaceChanges
from console.core.drafts import DraftFile
from console.core.events import TypedEvent, typed_event
from console.core.expectations import Promises, PromiseTimer
from console.core.followups import FollowUpTracker, customer_offset, promise_text
from console.core.outbox import new_client_id
from console.core.reducers import sanitize_model, severity_of
from console.core.store import Area, Change, ConversationEntry, Store, StoredMessage
from console.core.supervision import SupervisorGateway
from console.protocol import models as m

log = logging.getLogger(__name__)

MAX_REFRESH_PER_SECOND = 30
STREAM_SUBSCRIBE_WAIT = 5.0
"""Seconds to wait for the event stream before loading state over REST anyway."""
READ_RECEIPT_INTERVAL = 1.0
PAST_PAGES_FOR_HIT = 20
"""Pages of history the read-only window loads at most to reach a search hit."""
SIGN_OFF_TIMEOUT = 3.0
"""Seconds quitting waits for the server to take "away, not accepting" before leaving anyway."""
"""At most one read receipt (``POST /read``) per conversation per this many seconds."""

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------- i18n


def set_language(lang: str | None) -> str:
    """Make ``lang`` the active catalog (None/auto: pick from the environment)."""
    if not lang or lang == "auto":
        lang = i18n.pick_language()
    return i18n.set_language(lang)


def tr(key: str, **params: object) -> str:
    """Translated plain text for ``workspace.<key>`` (render with Content, never markup)."""
    return i18n.t(f"workspace.{key}", **params)


# --------------------------------------------------------------------------- state


@dataclass(slots=True)
class PaneState:
    """Workspace-only state of a pane (the store holds everything else)."""

    trigger_categories: list[str] = field(default_factory=list)


def wait_seconds(entry: ConversationEntry, now: datetime) -> float | None:
    """How long the customer has waited for us; ``None`` if nobody waits."""
    conversation = entry.conversation
    if conversation is None:
        return None
    if conversation.state == "queued":
        since = conversation.queued_at or conversation.created_at
        return max(0.0, (now - since).total_seconds())
    if entry.waiting_since is None:
        return None
    return entry.waiting_seconds(now)


@dataclass(frozen=True, slots=True)
class QueueLine:
    """What a queue row says besides name, department and wait (issue 14 fix 7)."""

    preview: str = ""
    """The customer's last line (sanitized), "" until a message is known."""
    triggers: tuple[str, ...] = ()
    """Translated trigger categories of the last five customer messages."""
    returning: bool = False
    """The customer had a conversation before this one."""
    department_open: bool = True
    """The department is within its business hours (``Department.open_now``)."""


def risk_score(
    entry: ConversationEntry, promise: PromiseTimer | None, now: datetime, sla_critical: float
) -> float:
    """Waited time relative to what we promised (or the SLA): > 1 means overdue."""
    if promise is not None:
        total = max(1.0, promise.duration.total_seconds())
        return (now - promise.started_at).total_seconds() / total
    waited = wait_seconds(entry, now)
    if waited is None:
        return 0.0
    return waited / max(1.0, sla_critical) * (1 + entry.severity)


class WorkspaceController:
    """Owns the connection, the event stream, the Store and the workspace-only state."""

    def __init__(
        self,
        backend: Backend,
        *,
        clock: Clock = system_clock,
        store: Store | None = None,
        on_changed: Callable[[WorkspaceChanges], None] | None = None,
        on_connection: Callable[[ConnectionState], None] | None = None,
        on_event: Callable[[m.Event, Any], None] | None = None,
        drafts_path: Path | None = None,
    ) -> None:
        self.backend = backend
        self.drafts: dict[str, str] = {}
        """Unsent composer text per conversation, shared with the panes' composers."""
        self._drafts_path = drafts_path
        self._draft_file: DraftFile | None = None
        self.clock = clock
        self.store = store if store is not None else Store()
        self.panes: dict[str, PaneState] = {}
        self.pane_order: list[str] = []
        self.departments: dict[str, m.Department] = {}
        self.past: dict[str, list[m.Conversation]] = {}
        self.promises = Promises()
        self.follow_ups = FollowUpTracker()  # my open follow-ups (the due list)
        self.customer_follow_ups: dict[str, list[m.FollowUp]] = {}
        self.alerted: set[str] = set()  # chats whose promise warning was shown
        self._on_changed = on_changed
        self._on_connection = on_connection
        self._on_event = on_event
        self._changes = ChangeCollector()  # what changed since the last flush
        self._flush_handle: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._events: AsyncIterator[m.Event] | None = None
        self._gone: set[str] = set()
        self._listeners: list[Callable[[m.Event, Any], None]] = []
        self._customers_requested: set[str] = set()
        self.returning: dict[str, bool] = {}  # customer id -> had an earlier conversation
        self.my_today: m.HistoryFigures | None = None
        """My own figures for today (first response, average response) from the backend."""
        self._queue_described: set[str] = set()
        self.read_interval = READ_RECEIPT_INTERVAL
        self._read_sent: dict[str, float] = {}  # conversation -> monotonic time of the last POST
        self._read_later: dict[str, asyncio.TimerHandle] = {}
        self._read_tasks: set[asyncio.Task[None]] = set()
        self._follow_tasks: set[asyncio.Task[None]] = set()  # outbox entries from before
        backend.on_connection_change(self._connection_changed)

    # ------------------------------------------------------------------ queries
    @property
    def me(self) -> m.Me | None:
        return self.store.me

    def entry(self, conversation_id: str) -> ConversationEntry | None:
        return self.store.conversation(conversation_id)

    def conversation(self, conversation_id: str) -> m.Conversation | None:
        entry = self.store.conversation(conversation_id)
        return entry.conversation if entry is not None else None

    def active(self) -> list[ConversationEntry]:
        """My active chats in pane order."""
        entries = (self.store.conversation(cid) for cid in self.pane_order)
        return [e for e in entries if e is not None]

    def queued(self) -> list[ConversationEntry]:
        """Waiting chats, longest wait first."""
        return self.store.queue()

    def pane(self, conversation_id: str) -> PaneState:
        return self.panes.setdefault(conversation_id, PaneState())

    def capacity_left(self) -> int:
        me = self.me
        return (me.capacity if me else 0) - len(self.pane_order)

    # ------------------------------------------------------------------ start
    async def start(self) -> m.Me:
        """Connect, load my chats and the queue.  Raises BackendError/AuthError."""
        me = await self.backend.connect()
        self._absorb(self.store.set_me(me))
        # Subscribe first, then load over REST: anything that happens in between
        # arrives as an event too (the store dedupes), so nothing falls in a gap.
        self._events = self.backend.events()
        await self._wait_connected(STREAM_SUBSCRIBE_WAIT)
        await self.resync()
        if me.role == "agent":
            self._open_drafts(me)
            await self.restore_unsent()
        try:
            departments = await self.backend.list_departments()
            self.departments = {d.id: d for d in map(sanitize_model, departments)}
        except BackendError as error:
            log.info("departments unavailable: %s", error)
        await self.load_follow_ups()
        assert self.store.me is not None
        return self.store.me

    async def restore_unsent(self) -> None:
        """Show the outbox's replies from before a restart in their chats.

        Pending ones follow their delivery (sent, or failed if the server refuses);
        refused ones show as failed, to be retried or discarded.
        """
        try:
            unsent = await self.backend.unsent()
        except BackendError as error:
            log.info("outbox unavailable: %s", error)
            return
        now = self.clock()
        for row in unsent:
            change = self.store.add_pending(
                row.conversation_id, row.client_id, row.body, row.internal, now
            )
            if row.failed:
                change |= self.store.mark_failed(row.client_id, row.reason)
            else:
                task = asyncio.get_running_loop().create_task(self._follow(row.client_id))
                self._follow_tasks.add(task)
                task.add_done_callback(self._follow_tasks.discard)
            self._absorb(change)

    async def _follow(self, client_id: str) -> None:
        """The outcome of a reply queued before this run (nobody else awaits it)."""
        try:
            message = await self.backend.delivery(client_id)
        except BackendError as error:
            self._absorb(self.store.mark_failed(client_id, str(error)))
            return
        self._absorb(self.store.mark_sent(client_id, message, self.clock()))

    async def _wait_connected(self, timeout: float) -> None:
        """Wait (bounded) until the stream says it is connected; go on regardless after."""
        if self.backend.connection.phase is ConnectionPhase.CONNECTED:
            return
        connected = asyncio.Event()

        def check(state: ConnectionState) -> None:
            if state.phase in (ConnectionPhase.CONNECTED, ConnectionPhase.AUTH_FAILED):
                connected.set()

        self.backend.on_connection_change(check)
        try:
            await asyncio.wait_for(connected.wait(), timeout)
        except TimeoutError:
            log.info("stream not connected after %.1f s; loading over REST anyway", timeout)

    async def resync(self) -> None:
        """Load active and queued conversations and my chats' latest messages."""
        active = await self._all_conversations(state="active", assignee="me")
        queued = await self._all_conversations(state="queued", assignee="any")
        conversations = [*active, *queued]
        self._absorb(
            self.store.load_conversations(conversations, authoritative_states=("queued", "active"))
        )
        self._sync_pane_order()
        for cid in self.pane_order:
            try:
                await self.load_messages(cid)
            except BackendError as error:
                log.info("history of %s unavailable: %s", cid, error)

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
        transcript = self.store.transcript(conversation_id)
        before = transcript.oldest_id if older else None
        if older and before is None:
            return 0
        page = await self.backend.list_messages(conversation_id, before=before)
        self._absorb(self.store.load_messages(conversation_id, page, older=True))
        return len(page.items)

    async def run_events(self) -> None:
        """Consume the event stream until cancelled."""
        events = self._events if self._events is not None else self.backend.events()
        self._events = None
        async for event in events:
            try:
                await self.apply_event(event)
            except BackendError as error:
                log.info("follow-up of event %s failed: %s", event.type, error)
            except Exception:  # one bad event must not end the stream
                log.exception("could not apply event %s", event.type)

    # ------------------------------------------------------------------ events
    async def apply_event(self, event: m.Event) -> None:
        # Decoded and sanitized once (a no-op for events from a SanitizingBackend).
        event = typed_event(event)
        if event.type.startswith("follow_up."):
            if isinstance(event.model, m.FollowUp):
                self._follow_up_changed(event.model)
            return
        if event.type == "conversation.created" and self._known(event):
            # A "created" for a conversation we already hold is a replay older than
            # our REST load (subscribe-then-load); applying it would roll the
            # state back to "queued".
            self._notify_listeners(event)
            return
        change = self.store.apply(event, self.clock())
        self._absorb(change)
        for cid in change.missing:
            try:
                conversation = await self.backend.get_conversation(cid)
            except BackendError as error:  # gone or not ours to see any more
                log.info("conversation %s unavailable: %s", cid, error)
                continue
            self._absorb(self.store.upsert_conversation(conversation))
        if change.areas & {Area.CONVERSATIONS, Area.QUEUE} or change.missing:
            for cid in self._sync_pane_order():
                if not self.store.transcript(cid).loaded:
                    await self.load_messages(cid)
        if event.type == m.RESYNC_EVENT_TYPE:
            for cid in list(self.pane_order):
                if self.store.transcript(cid).stale:
                    await self.catch_up(cid)
        self._notify_listeners(event)

    def _known(self, event: TypedEvent) -> bool:
        model = event.model
        return isinstance(model, m.Conversation) and self.store.conversation(model.id) is not None

    def _notify_listeners(self, event: TypedEvent) -> None:
        """Listeners get the event and its typed, sanitized payload (``event.model``)."""
        if self._on_event is None and not self._listeners:
            return
        data = event.model
        if self._on_event is not None:
            self._on_event(event, data)
        for listener in list(self._listeners):
            listener(event, data)

    def add_event_listener(self, listener: Callable[[m.Event, Any], None]) -> Callable[[], None]:
        """Also call ``listener(event, data)`` after each event is applied; returns an unsubscribe."""
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    async def catch_up(self, conversation_id: str) -> None:
        """Fetch what the stream missed (after a reset), with no gap and no double.

        Pages forward from ``Transcript.anchor_id``, the newest message known to
        have nothing missing before it.  Not from ``newest_id``: that may be our
        own reply confirmed over REST during the outage (an outbox entry sent on
        reconnect), with customer messages before it that the stream never
        delivered.  Messages are merged by id, so what is already held is not
        shown twice.  With no anchor (the history was empty when loaded), every
        message is after it: page backwards to the start.
        """
        transcript = self.store.transcript(conversation_id)
        anchor = transcript.anchor_id
        if anchor is None:
            await self._catch_up_backwards(conversation_id)
            return
        for _ in range(50):  # bounded: 50 pages of catch-up is a day of chat
            page = await self.backend.list_messages(conversation_id, after=anchor)
            self._absorb(self.store.load_messages(conversation_id, page, older=False))
            if not page.has_more or not page.items:
                break
            anchor = transcript.anchor_id or page.items[-1].id

    async def _catch_up_backwards(self, conversation_id: str) -> None:
        """Every page back to the start, merged by id as one catch-up page."""
        transcript = self.store.transcript(conversation_id)
        missed: dict[str, m.Message] = {}
        before: str | None = None
        for _ in range(50):
            page = await self.backend.list_messages(conversation_id, before=before)
            for message in page.items:
                if not transcript.has(message.id):
                    missed[message.id] = message
            if not page.has_more or not page.items:
                break
            before = page.items[0].id
        items = sorted(missed.values(), key=lambda msg: (msg.created_at, msg.id))
        caught_up = m.MessagePage(items=items, has_more=False)
        self._absorb(self.store.load_messages(conversation_id, caught_up, older=False))

    def stored_message(self, conversation_id: str, message_id: str) -> StoredMessage | None:
        """The (sanitized) stored copy of a message, searching from the newest."""
        transcript = self.store.transcript(conversation_id)
        for index in range(len(transcript) - 1, max(-1, len(transcript) - 50), -1):
            stored = transcript[index]
            if stored.id == message_id:
                return stored
        return None

    def _sync_pane_order(self) -> list[str]:
        """Keep pane order stable: drop chats no longer mine, append new ones."""
        me = self.store.me
        mine = [e.id for e in self.store.active_for(me.id)] if me is not None else []
        mine_set = set(mine)
        before = list(self.pane_order)
        self.pane_order[:] = [cid for cid in self.pane_order if cid in mine_set]
        added = [cid for cid in mine if cid not in self.pane_order]
        self.pane_order.extend(added)
        # Forget pane state only at the next flush, and only if the chat is still
        # gone: a replayed older event can flip a chat back to "queued" for a
        # moment before the next event makes it mine again.
        self._gone.update(set(before) - mine_set)
        if self.pane_order != before:
            self._mark_lists()
        return added

    # ------------------------------------------------------------------ actions
    async def send(self, conversation_id: str, body: str, *, internal: bool = False) -> m.Message:
        """Send with a fresh client id; shown as pending until the server acknowledges it."""
        client_id = new_client_id()
        self._absorb(
            self.store.add_pending(conversation_id, client_id, body, internal, self.clock())
        )
        try:
            message = await self.backend.send_message(
                conversation_id, m.SendMessage(client_id=client_id, body=body, internal=internal)
            )
        except BackendError as error:
            self._absorb(self.store.mark_failed(client_id, str(error)))
            raise
        self._absorb(self.store.mark_sent(client_id, message, self.clock()))
        self._absorb(self.store.mark_read(conversation_id))
        return message

    async def retry(self, conversation_id: str, stored: StoredMessage) -> m.Message:
        """Send a failed message again with its client id (the server dedupes)."""
        message = stored.message
        client_id = message.client_id
        assert client_id is not None
        self._absorb(self.store.retry_pending(client_id))
        try:
            sent = await self.backend.send_message(
                conversation_id,
                m.SendMessage(client_id=client_id, body=message.body, internal=message.internal),
            )
        except BackendError as error:
            self._absorb(self.store.mark_failed(client_id, str(error)))
            raise
        self._absorb(self.store.mark_sent(client_id, sent, self.clock()))
        return sent

    async def discard(self, stored: StoredMessage) -> None:
        """Forget a failed reply: out of the outbox file and out of its chat."""
        client_id = stored.message.client_id
        assert client_id is not None
        await self.backend.discard_unsent(client_id)
        self._absorb(self.store.discard_pending(client_id))

    def last_failed(self, conversation_id: str) -> StoredMessage | None:
        """The newest message of this chat that could not be sent."""
        for stored in reversed(self.store.messages(conversation_id)):
            if stored.delivery == "failed":
                return stored
        return None

    async def typing(self, conversation_id: str, typing: bool = True) -> None:
        """Tell the customer we type (the composer already throttles)."""
        try:
            await self.backend.set_typing(conversation_id, typing)
        except BackendError as error:
            log.info("typing not sent: %s", error)

    async def mark_read(self, conversation_id: str) -> None:
        """Read locally at once; tell the server at most once per ``read_interval``.

        A chat the agent watches while the customer types gets a message every
        second or so: the receipt inside the interval is sent once, when the
        interval ends (the server ends up with the last read state).
        """
        change = self.store.mark_read(conversation_id)
        if not change:
            return
        self._absorb(change)
        last = self._read_sent.get(conversation_id)
        now = time.monotonic()
        if last is not None and now - last < self.read_interval:
            if conversation_id not in self._read_later:
                self._read_later[conversation_id] = asyncio.get_running_loop().call_later(
                    self.read_interval - (now - last), self._read_due, conversation_id
                )
            return
        await self._post_read(conversation_id)

    def _read_due(self, conversation_id: str) -> None:
        self._read_later.pop(conversation_id, None)
        task = asyncio.get_running_loop().create_task(self._post_read(conversation_id))
        self._read_tasks.add(task)
        task.add_done_callback(self._read_tasks.discard)

    async def _post_read(self, conversation_id: str) -> None:
        self._read_sent[conversation_id] = time.monotonic()
        try:
            await self.backend.mark_read(conversation_id)
        except BackendError as error:
            log.info("read mark not sent: %s", error)

    async def accept(self, conversation_id: str) -> m.Conversation:
        conversation = await self.backend.accept(conversation_id)
        await self.take_conversation(conversation)
        return conversation

    async def take_conversation(self, conversation: m.Conversation) -> None:
        """A conversation returned by a call (accept/transfer/close) goes into the store."""
        self._absorb(self.store.upsert_conversation(conversation))
        for cid in self._sync_pane_order():
            if not self.store.transcript(cid).loaded:
                await self.load_messages(cid)

    # ------------------------------------------------------------------ drafts, sign-off
    def _open_drafts(self, me: m.Me) -> None:
        """Load the drafts saved at the last quit into ``drafts`` (the composers read them)."""
        if self._draft_file is None:
            path = self._drafts_path
            if path is None:
                from console.core import paths

                # Keyed by backend kind and agent, not URL: the demo's port changes per run,
                # and conversation ids from another server never match a chat here.
                path = paths.drafts_file(self.backend.name, me.id)
            self._draft_file = DraftFile(path)
            saved = self._draft_file.load()
            for cid, text in saved.items():
                self.drafts.setdefault(cid, text)

    def save_drafts(self) -> bool:
        """Write the drafts of chats still open to disk (only when they changed)."""
        if self._draft_file is None:
            return False
        open_ids = set(self.pane_order)
        return self._draft_file.save(
            {cid: text for cid, text in self.drafts.items() if cid in open_ids}
        )

    async def sign_off(self) -> bool:
        """Before quitting: tell the server I am away and take no new chats (so routing
        stops sending me chats nobody would answer) and save the drafts.  True when the
        server took the status; never raises, waits at most ``SIGN_OFF_TIMEOUT``."""
        self.save_drafts()
        me = self.me
        if me is None or me.role != "agent":
            return False
        try:
            await asyncio.wait_for(
                self.set_status(m.StatusUpdate(status="away", accepting=False)),
                SIGN_OFF_TIMEOUT,
            )
        except (BackendError, TimeoutError) as error:
            log.warning("could not set away before quitting: %s", error)
            return False
        return True

    async def set_status(self, update: m.StatusUpdate) -> m.Me:
        me = await self.backend.set_status(update)
        self._absorb(self.store.set_me(me))
        return me

    async def load_customer(self, customer_id: str) -> None:
        self._customers_requested.add(customer_id)
        customer = await self.backend.get_customer(customer_id)
        self._absorb(self.store.load_customer(customer))
        notes = await self.backend.list_customer_notes(customer_id)
        self._absorb(self.store.load_customer_notes(customer_id, notes))
        past = await self.backend.list_customer_conversations(customer_id)
        self.past[customer_id] = [sanitize_model(c) for c in past]
        try:
            await self.load_customer_follow_ups(customer_id)
        except BackendError as error:
            log.info("follow-ups of %s unavailable: %s", customer_id, error)
        self._mark_customer(customer_id)

    async def add_note(self, customer_id: str, body: str) -> m.CustomerNote:
        note = sanitize_model(await self.backend.add_customer_note(customer_id, body))
        notes = self.store.customer_notes(customer_id)
        if all(n.id != note.id for n in notes):
            self._absorb(self.store.load_customer_notes(customer_id, [*notes, note]))
        return note

    # ------------------------------------------------------------------ gateway
    # Every backend call a screen needs goes through here; what comes back is
    # the Store's (sanitized on ingest) copy or passes through sanitize_model.

    @property
    def connection(self) -> ConnectionState:
        return self.backend.connection

    def on_connection_change(self, callback: Callable[[ConnectionState], None]) -> None:
        self.backend.on_connection_change(callback)

    def make_read_only(self) -> None:
        """From now on every mutating call is refused here, whatever the UI asks."""
        if not isinstance(self.backend, ReadOnlyBackend):
            self.backend = ReadOnlyBackend(self.backend)

    async def aclose(self) -> None:
        """Close the backend (stream, HTTP clients, outbox); a failing close is not an error."""
        try:
            await self.backend.aclose()
        except BackendError as error:
            log.info("closing the backend: %s", error)

    def supervision(self) -> SupervisorGateway:
        """The read-only gateway the supervisor screen reads through (same backend)."""
        return SupervisorGateway(self.backend)

    def can(self, capability: Capability) -> bool:
        """Whether the backend offers ``capability`` (the UI hides what it cannot do)."""
        return capability in self.backend.capabilities

    def wants_customer(self, customer_id: str) -> bool:
        """True once per customer not loaded yet: the caller should ``load_customer`` it."""
        if not self.can(Capability.CUSTOMERS) or self.store.customer(customer_id) is not None:
            return False
        if customer_id in self._customers_requested:
            return False
        self._customers_requested.add(customer_id)
        return True

    def past_for(self, customer_id: str) -> list[m.Conversation] | None:
        """The customer's conversations for the sidebar's past list, each as the Store
        has it now when it knows it (a chat closed since the list was loaded says closed,
        with its rating), else as loaded; None until loaded."""
        past = self.past.get(customer_id)
        if past is None:
            return None
        return [self.conversation(c.id) or c for c in past]

    async def set_customer_tags(self, customer_id: str, tags: list[str]) -> m.Customer:
        """Replace the customer's labels on the server; the Store and sidebar take the answer."""
        customer = sanitize_model(await self.backend.set_customer_tags(customer_id, tags))
        self._absorb(self.store.load_customer(customer))
        self._mark_customer(customer_id)
        return customer

    # ------------------------------------------------------------------ my outcomes
    async def load_my_outcomes(self) -> m.HistoryFigures | None:
        """Today's first-response and average-response times of my own chats, from the
        backend's history view (``Capability.HISTORY``); None when it has none."""
        me = self.me
        if me is None or not self.can(Capability.HISTORY):
            return None
        try:
            view = await self.backend.history()
        except BackendError as error:
            log.info("my figures unavailable: %s", error)
            return self.my_today
        mine = next((a for a in (view.agents if view else []) if a.agent_id == me.id), None)
        today = mine.today if mine is not None else None
        if today != self.my_today:
            self.my_today = today
            self._mark_lists()
        return today

    # ------------------------------------------------------------------ queue lines
    def queue_line(self, entry: ConversationEntry) -> QueueLine:
        """Preview, trigger badge, returning customer and department hours of a queued chat,
        from the Store and what ``describe_queued`` loaded (no I/O here)."""
        from console.core.triggers import category_label

        conversation = entry.conversation
        transcript = self.store.transcript(entry.id)
        preview = ""
        categories: list[Any] = []
        seen = 0
        for index in range(len(transcript) - 1, -1, -1):
            message = transcript[index]
            if message.message.author_kind != "customer" or message.message.internal:
                continue
            if not preview:
                preview = message.message.body.replace("\n", " ").strip()
            for span in message.triggers.spans:
                if span.category not in categories:
                    categories.append(span.category)
            seen += 1
            if seen >= 5:
                break
        department = self.departments.get(conversation.department_id) if conversation else None
        return QueueLine(
            preview=preview,
            triggers=tuple(category_label(category) for category in categories),
            returning=bool(conversation and self.returning.get(conversation.customer_id)),
            department_open=department.open_now if department is not None else True,
        )

    def undescribed_queue(self) -> list[str]:
        """Queued chats whose preview and customer history were not asked for yet."""
        return [e.id for e in self.queued() if e.id not in self._queue_described]

    async def describe_queued(self, conversation_id: str) -> None:
        """Once per queued chat: its latest messages (preview, triggers) and whether its
        customer came before (``list_customer_conversations``).  GETs only."""
        if conversation_id in self._queue_described:
            return
        self._queue_described.add(conversation_id)
        conversation = self.conversation(conversation_id)
        try:
            if not len(self.store.transcript(conversation_id)):
                await self.load_messages(conversation_id)
            if conversation is not None and conversation.customer_id not in self.returning:
                earlier = await self.backend.list_customer_conversations(conversation.customer_id)
                self.returning[conversation.customer_id] = any(
                    c.id != conversation_id and c.created_at < conversation.created_at
                    for c in earlier
                )
        except BackendError as error:
            log.info("queue details of %s unavailable: %s", conversation_id, error)
        self._mark_lists()

    def farewell(self, conversation_id: str) -> str:
        """The farewell the close dialog offers, in the customer's language."""
        from console.core.farewell import farewell_text

        return farewell_text(self.customer_language(conversation_id))

    async def transfer_choices(
        self, conversation_id: str
    ) -> tuple[list[m.Department], list[m.AgentStats]]:
        """What the transfer dialog lists: departments, and colleagues who are not offline
        (online first, then by free room), from ``transfer_targets``."""
        departments, colleagues = await self.transfer_targets(conversation_id)
        present = [a for a in colleagues if a.status != "offline"]
        present.sort(key=lambda a: (a.status != "online", not a.accepting, a.load - a.capacity))
        return departments, present

    def _stored_or_clean(self, conversation: m.Conversation) -> m.Conversation:
        stored = self.conversation(conversation.id)
        return stored if stored is not None else sanitize_model(conversation)

    async def close(self, conversation_id: str, request: m.CloseRequest) -> m.Conversation:
        conversation = await self.backend.close(conversation_id, request)
        await self.take_conversation(conversation)
        return self._stored_or_clean(conversation)

    async def transfer(self, conversation_id: str, request: m.TransferRequest) -> m.Conversation:
        conversation = await self.backend.transfer(conversation_id, request)
        await self.take_conversation(conversation)
        return self._stored_or_clean(conversation)

    async def transfer_targets(
        self, conversation_id: str
    ) -> tuple[list[m.Department], list[m.AgentStats]]:
        """Departments and colleagues (not me) this chat may go to, sanitized."""
        try:
            agents = await self.backend.transfer_targets(conversation_id)
        except BackendError as error:
            log.info("transfer targets unavailable: %s", error)
            agents = []
        me = self.me
        colleagues = [sanitize_model(a) for a in agents if me is None or a.agent_id != me.id]
        return list(self.departments.values()), colleagues

    async def past_conversation(
        self, conversation_id: str, *, around: str | None = None
    ) -> tuple[m.Conversation, list[StoredMessage]]:
        """A chat for the read-only window: sanitized, triggers found on clean text.

        ``around``: a message id (a search hit); older pages are loaded until it is
        among the messages (at most ``PAST_PAGES_FOR_HIT`` pages)."""
        conversation = sanitize_model(await self.backend.get_conversation(conversation_id))
        page = await self.backend.list_messages(conversation_id)
        items = list(page.items)
        pages = 1
        while (
            around is not None
            and page.has_more
            and items
            and pages < PAST_PAGES_FOR_HIT
            and not any(message.id == around for message in items)
        ):
            page = await self.backend.list_messages(conversation_id, before=items[0].id)
            items = [*page.items, *items]
            pages += 1
        messages = []
        for message in items:
            clean = sanitize_model(message)
            messages.append(StoredMessage(clean, triggers=severity_of(clean)))
        return conversation, messages

    async def canned_replies(self, query: str = "") -> list[m.CannedReply] | None:
        """Canned replies, sanitized; ``None`` if the backend has none."""
        if not self.can(Capability.CANNED_REPLIES):
            return None
        return [sanitize_model(reply) for reply in await self.backend.list_canned_replies(query)]

    async def search(self, query: str) -> m.SearchResults:
        return sanitize_model(await self.backend.search(query))

    async def download_attachment(self, attachment_id: str) -> bytes:
        return await self.backend.download_attachment(attachment_id)

    async def upload_attachment(
        self, filename: str, content: bytes, content_type: str | None = None
    ) -> m.Attachment:
        return sanitize_model(await self.backend.upload_attachment(filename, content, content_type))

    # ------------------------------------------------------------------ attachments
    def attachment_limit(self) -> int:
        """Largest file this backend takes, in bytes (0 without attachments)."""
        from console.protocol import limits

        if not self.can(Capability.ATTACHMENTS):
            return 0
        return int(getattr(self.backend, "max_attachment_bytes", limits.MAX_ATTACHMENT_BYTES))

    def attachments_of(self, conversation_id: str) -> list[tuple[StoredMessage, m.Attachment]]:
        """Every file in the chat's loaded transcript, newest first, with its message."""
        transcript = self.store.transcript(conversation_id)
        found: list[tuple[StoredMessage, m.Attachment]] = []
        for index in range(len(transcript) - 1, -1, -1):
            stored = transcript[index]
            found += [(stored, attachment) for attachment in stored.message.attachments]
        return found

    async def save_attachment(self, attachment: m.Attachment, folder: Path | None = None) -> Path:
        """Download a file and write it under a safe, unused name in the downloads folder
        (never replacing a file, never executable; nothing is opened)."""
        from console.core import paths
        from console.core.attachments import save_new_file

        content = await self.backend.download_attachment(attachment.id)
        target = folder if folder is not None else paths.downloads_dir()
        return await asyncio.to_thread(save_new_file, target, attachment.filename, content)

    async def send_file(self, conversation_id: str, path: Path, body: str = "") -> m.Message:
        """Upload ``path`` and send it to the chat (with ``body``).  Refuses a missing file,
        a folder or one above the backend's limit with a sentence (``BackendError``)."""
        import mimetypes

        from console.core.attachments import human_size

        limit = self.attachment_limit()
        if not limit:
            raise BackendError(tr("file_unsupported"), code="unsupported")
        try:
            size = path.stat().st_size
            if not path.is_file():
                raise BackendError(tr("file_not_a_file", path=str(path)), code="bad_path")
        except OSError as error:
            raise BackendError(tr("file_unreadable", path=str(path), reason=str(error))) from error
        if size > limit:
            raise BackendError(
                tr("file_too_big", size=human_size(size), limit=human_size(limit)), code="too_big"
            )
        content = await asyncio.to_thread(path.read_bytes)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        attachment = await self.upload_attachment(path.name, content, content_type)
        client_id = new_client_id()
        self._absorb(self.store.add_pending(conversation_id, client_id, body, False, self.clock()))
        request = m.SendMessage(client_id=client_id, body=body, attachment_ids=[attachment.id])
        try:
            message = await self.backend.send_message(conversation_id, request)
        except BackendError as error:
            self._absorb(self.store.mark_failed(client_id, str(error)))
            raise
        self._absorb(self.store.mark_sent(client_id, message, self.clock()))
        return message

    # ------------------------------------------------------------------ follow-ups, escalation
    async def load_follow_ups(self) -> None:
        """My open follow-ups (the due list); nothing when the backend has none."""
        if "follow_ups" not in self.backend.capabilities:
            return
        try:
            mine = await self.backend.list_follow_ups("me")
        except BackendError as error:
            log.info("follow-ups unavailable: %s", error)
            return
        self.follow_ups.replace(mine)
        self._changes.mark_lists()
        self._schedule()

    async def load_customer_follow_ups(self, customer_id: str) -> None:
        if "follow_ups" not in self.backend.capabilities:
            return
        items = await self.backend.list_customer_follow_ups(customer_id)
        self.customer_follow_ups[customer_id] = items
        self._mark_customer(customer_id)

    def _follow_up_changed(self, follow_up: m.FollowUp) -> None:
        me = self.me
        if me is not None and follow_up.agent_id == me.id:
            self.follow_ups.upsert(follow_up)
            self._changes.mark_lists()
        known = self.customer_follow_ups.get(follow_up.customer_id)
        if known is not None:
            others = [f for f in known if f.id != follow_up.id]
            self.customer_follow_ups[follow_up.customer_id] = sorted(
                [*others, follow_up], key=lambda f: (f.due_at, f.id)
            )
        self._mark_customer(follow_up.customer_id)
        self._schedule()

    def follow_up_zone(self, conversation_id: str) -> Any:
        """The customer's time zone (a ``timezone``) where known, else ``None``."""
        conversation = self.conversation(conversation_id)
        if conversation is None:
            return None
        return customer_offset(self.store.customer(conversation.customer_id))

    async def create_follow_up(
        self, conversation_id: str, channel: m.FollowUpChannel, due_at: datetime, note: str
    ) -> m.FollowUp:
        """Store the follow-up, then tell the customer the promise in their language."""
        # Models from the backend are sanitized by the SanitizingBackend it is wrapped in.
        follow_up = await self.backend.create_follow_up(
            conversation_id, m.FollowUpCreate(channel=channel, due_at=due_at, note=note)
        )
        self._follow_up_changed(follow_up)
        text = promise_text(
            channel,
            follow_up.due_at,
            self.customer_language(conversation_id),
            self.follow_up_zone(conversation_id),
        )
        await self.send(conversation_id, text)
        return follow_up

    async def complete_follow_up(self, follow_up_id: str) -> m.FollowUp:
        follow_up = await self.backend.complete_follow_up(follow_up_id)
        self._follow_up_changed(follow_up)
        return follow_up

    def due_follow_ups(self) -> list[m.FollowUp]:
        """My follow-ups that fell due since the last call (each once): raise a reminder."""
        return self.follow_ups.due(self.clock())

    async def escalate(self, conversation_id: str, request: m.EscalateRequest) -> m.Conversation:
        conversation = await self.backend.escalate(conversation_id, request)
        await self.take_conversation(conversation)
        return conversation

    async def escalation_targets(
        self, conversation_id: str
    ) -> tuple[list[m.Department], list[m.AgentStats]]:
        """Departments marked for escalation, and senior colleagues (not me)."""
        try:
            agents = (await self.backend.agents()).items
        except BackendError as error:
            log.info("escalation targets unavailable: %s", error)
            agents = []
        me = self.me
        colleagues = [
            sanitize_model(a) for a in agents if a.senior and (me is None or a.agent_id != me.id)
        ]
        return [d for d in self.departments.values() if d.escalation], colleagues

    def due_promises(self) -> list[str]:
        """Chats whose promise just entered its warning window (each reported once)."""
        due: list[str] = []
        for timer, _state in self.promises.due(self.clock()):
            cid = timer.conversation_id
            if cid in self.pane_order and cid not in self.alerted:
                self.alerted.add(cid)
                due.append(cid)
        return due

    def customer_language(self, conversation_id: str) -> str:
        """en/ko/ja guessed from the customer's latest messages (for templates)."""
        transcript = self.store.transcript(conversation_id)
        for index in range(len(transcript) - 1, max(-1, len(transcript) - 20), -1):
            stored = transcript[index]
            if stored.message.author_kind != "customer":
                continue
            body = stored.message.body
            if any("\uac00" <= ch <= "\ud7a3" for ch in body):
                return "ko"
            if any("\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" for ch in body):
                return "ja"
            if any(ch.isalpha() for ch in body):
                return "en"
        return i18n.get_language()

    def move(self, conversation_id: str, delta: int) -> None:
        order = self.pane_order
        index = order.index(conversation_id)
        target = max(0, min(len(order) - 1, index + delta))
        order.insert(target, order.pop(index))
        self._mark_lists()

    def most_at_risk(self, sla_critical: float) -> str | None:
        now = self.clock()
        best: tuple[float, str] | None = None
        for entry in self.active():
            score = risk_score(entry, self.promises.get(entry.id), now, sla_critical)
            if best is None or score > best[0]:
                best = (score, entry.id)
        return best[1] if best else None

    # ------------------------------------------------------------------ refresh coalescing
    def _absorb(self, change: Change) -> None:
        """Remember what a store update touched, precisely, for the next flush."""
        if not change:
            return
        self._changes.add(
            dirty=change.conversations | change.transcripts | change.typing,
            conversations=change.conversations,
            messages=change.messages,
            transcripts=change.transcripts,
            queue=change.queue,
        )
        if change.customers:
            for customer_id in change.customers:
                self._mark_customer(customer_id)
        if change.areas & {Area.ME, Area.CONVERSATIONS, Area.QUEUE}:
            self._changes.mark_lists()
        self._schedule()

    def _connection_changed(self, state: ConnectionState) -> None:
        if self._on_connection is not None:
            self._on_connection(state)

    def _mark(self, conversation_id: str) -> None:
        self._changes.mark(conversation_id)
        self._schedule()

    def _mark_lists(self) -> None:
        self._changes.mark_lists()
        self._schedule()

    def _mark_customer(self, customer_id: str) -> None:
        self._changes.mark_customer(customer_id)
        for cid in self.pane_order:
            conversation = self.conversation(cid)
            if conversation is not None and conversation.customer_id == customer_id:
                self._changes.mark(cid)
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
        for cid in self._gone - set(self.pane_order):
            self.panes.pop(cid, None)
            self.promises.fulfil(cid)
            self.alerted.discard(cid)
        self._gone.clear()
        changes = self._changes.take()
        if changes and self._on_changed is not None:
            self._on_changed(changes)
