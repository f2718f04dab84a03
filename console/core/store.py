"""The client's one in-memory model of the chat world.  No UI, no network.

Event path: backend event → :meth:`Store.apply` → reducers → store → the UI
refreshes the panes named in the returned :class:`Change` (coalesce several
with ``|`` and refresh at most ~30 times a second).  REST results go in
through the ``load_*`` / ``upsert_*`` methods, outbox state through
``add_pending`` / ``mark_sent`` / ``mark_failed``.  Every string is sanitized
before it is stored: at the backend boundary (``console.core.boundary``; a
:class:`~console.core.events.TypedEvent` is applied without decoding or
sanitizing again), and here for anything else (REST models, raw events in
tests; idempotent, a no-op on clean text).  Everything read from the store is
safe to show - still as ``Text``/``Content``, never as markup.  Every method that depends on time takes ``now`` (an aware
UTC ``datetime``); nothing here reads the clock, except that ``now=None``
defaults to ``datetime.now(UTC)`` for convenience in the app.

Writing (each returns a :class:`Change`)::

    store.set_me(me)
    store.apply(event, now)                       # one protocol Event from backend.events()
    store.apply_many(events, now)                 # several, one coalesced Change
    store.load_conversations(page_or_list, authoritative_states=("queued", "active"))
    store.upsert_conversation(conversation)
    store.load_messages(conv_id, page, older=True)   # older=False: a catch-up page (after=)
    store.load_agents(agents)  /  store.upsert_agent(agent)
    store.load_queue_stats(view_or_list)
    store.load_customer(customer)  /  store.load_customer_notes(customer_id, notes)
    store.add_pending(conv_id, client_id, body, internal, now)   # outbox: shown as pending
    store.mark_sent(client_id, message)           # POST answered (the stream echo also works)
    store.mark_failed(client_id, error)           # shown as failed, retry/discard offered
    store.retry_pending(client_id)  /  store.discard_pending(client_id)
    store.mark_read(conv_id)                      # unread → 0 (local; call backend.mark_read too)
    store.expire_typing(now)                      # drop stale typing indicators
    store.clear_conversations()                   # before a full re-sync (keeps pending sends)
    # A ``client.resync`` event (m.Resync from the native backend) goes through
    # apply() too: open conversations are replaced, vanished ones reported in
    # Change.missing, loaded transcripts marked ``stale`` until an after= page
    # loaded with older=False catches them up.

Reading::

    store.me                                      # m.Me | None
    store.conversation(conv_id)                   # ConversationEntry | None (loaded ones)
    store.entry(conv_id)                          # ConversationEntry | None (also stubs)
    store.conversations()                         # all loaded, newest activity first
    store.active_for(agent_id)                    # active chats of an agent, oldest assignment first
    store.queue(department_id=None)               # queued, longest wait first
    store.most_at_risk(now, agent_id=None)        # ConversationEntry | None
    store.at_risk(now, agent_id=None)             # ranked list (severity, then waiting time)
    store.transcript(conv_id)                     # Transcript: len(), [i], .revision, .messages(),
                                                  #   .oldest_id/.newest_id/.anchor_id, .loaded, .stale, .has_more_before
    store.messages(conv_id)                       # list[StoredMessage]: sent in order, then pending/failed
    store.pending(client_id)                      # StoredMessage | None
    store.typing(conv_id, now)                    # list[TypingState] not yet expired
    store.unread(conv_id)  /  store.total_unread(agent_id=None)
    store.language_of(conv_id, default="en")      # "en" | "ko" | "ja" from the customer's messages
    store.agents()  /  store.agent(agent_id)
    store.queue_stats()                           # list[m.QueueStats]
    store.customer(customer_id)  /  store.customer_notes(customer_id)
    store.last_seq                                # highest event seq applied (informational)

``ConversationEntry`` carries ``conversation`` (the sanitized
``m.Conversation``), ``unread``, ``waiting_since`` / ``waiting_seconds(now)``,
``first_response_at`` / ``first_response_seconds(now)``, ``severity`` (0-3,
max over the last five customer messages) and ``last_preview``.
``StoredMessage`` carries ``message`` (sanitized ``m.Message``),
``delivery`` (pending/sent/failed), ``error`` and ``triggers`` (spans to
highlight, index into ``message.body``); cache rendered lines by ``key``.

Messages are ordered by ``(created_at, id)`` and deduplicated by server id.
A pending entry is replaced when a message with the same ``client_id``
arrives (stream echo, POST answer or a history page), so a message is never
shown twice.  Pending and failed entries are listed after the confirmed
messages, in the order they were typed.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Final, TypeVar

import msgspec

from console.core.changes import EMPTY_MESSAGES, NO_ROWS, Op, RowLog, Rows
from console.core.events import TypedEvent
from console.core.reducers import (
    NO_CHANGE,
    Area,
    Change,
    ConversationEntry,
    Delivery,
    StoredMessage,
    TypingState,
    reduce_conversation,
    reduce_live_message,
    reduce_mark_read,
    reduce_recent_severities,
    reduce_seen_message,
    sanitize_model,
    severity_of,
)
from console.core.reducers import RECENT_CUSTOMER_MESSAGES as RECENT_CUSTOMER_MESSAGES
from console.core.sanitize import sanitize_inbound_text, sanitize_single_line
from console.core.text import guess_language
from console.protocol import models as m

__all__ = [
    "NO_CHANGE",
    "TYPING_TTL",
    "Area",
    "Change",
    "ConversationEntry",
    "Delivery",
    "Store",
    "StoredMessage",
    "Transcript",
    "TypingState",
]

log = logging.getLogger(__name__)

# A typing indicator disappears this long after the last "typing" event.
TYPING_TTL: Final = timedelta(seconds=8)

_OPEN_STATES: Final = ("bot", "queued", "active")

_S = TypeVar("_S", bound=msgspec.Struct)


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


class Transcript:
    """Messages of one conversation: confirmed ones sorted by (created_at, id), then pending.

    Index access is O(1), so a Line-API transcript widget can render row ``i``
    without copying the list.  ``revision`` increases on every change.
    """

    __slots__ = (
        "_anchor",
        "_by_client",
        "_by_id",
        "_items",
        "_keys",
        "_pending",
        "conversation_id",
        "has_more_after",
        "has_more_before",
        "loaded",
        "revision",
        "stale",
    )

    def __init__(self, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self._keys: list[tuple[datetime, str]] = []
        self._items: list[StoredMessage] = []
        self._by_id: dict[str, StoredMessage] = {}
        self._by_client: dict[str, str] = {}  # client id → server id of a confirmed message
        self._pending: dict[str, StoredMessage] = {}
        self.revision = 0
        self.loaded = False  # at least one history page arrived
        self.has_more_before = True  # unknown until a page says otherwise
        self.has_more_after = False
        self.stale = False  # a stream reset may have left a gap: fetch after=anchor_id
        # Newest message known to have no gap before it (stream while not stale,
        # history and catch-up pages), not a REST confirmation of our own send.
        self._anchor: tuple[datetime, str] | None = None

    def __len__(self) -> int:
        return len(self._items) + len(self._pending)

    def __getitem__(self, index: int) -> StoredMessage:
        if index < 0:
            index += len(self)
        if index < len(self._items):
            return self._items[index]
        pending = list(self._pending.values())
        return pending[index - len(self._items)]

    def __iter__(self) -> Iterator[StoredMessage]:
        yield from self._items
        yield from list(self._pending.values())

    def messages(self) -> list[StoredMessage]:
        return [*self._items, *self._pending.values()]

    @property
    def confirmed(self) -> list[StoredMessage]:
        return list(self._items)

    @property
    def newest_created_at(self) -> datetime | None:
        return self._items[-1].created_at if self._items else None

    @property
    def oldest_id(self) -> str | None:
        """Server id of the oldest loaded message (for ``before=`` paging)."""
        return self._items[0].id if self._items else None

    @property
    def newest_id(self) -> str | None:
        """Server id of the newest loaded message (for ``after=`` catch-up)."""
        return self._items[-1].id if self._items else None

    @property
    def anchor_id(self) -> str | None:
        """Server id of the newest message with no gap before it (for ``after=`` catch-up).

        A message confirmed over REST (``mark_sent``, an outbox entry delivered on
        reconnect) or streamed while the transcript is ``stale`` does not move it:
        messages the stream missed may precede it.  ``None``: nothing contiguous
        is known yet (page backwards to catch up).
        """
        return self._anchor[1] if self._anchor is not None else None

    def advance_anchor(self, message: m.Message) -> None:
        key = (message.created_at, message.id)
        if message.id and (self._anchor is None or key > self._anchor):
            self._anchor = key

    def has(self, message_id: str) -> bool:
        return message_id in self._by_id

    def find(self, stable_key: str) -> StoredMessage | None:
        """The message a :class:`Change` names (``StoredMessage.stable_key``), or None."""
        if stable_key.startswith("client:"):
            client_id = stable_key[len("client:") :]
            pending = self._pending.get(client_id)
            if pending is not None:
                return pending
            message_id = self._by_client.get(client_id)
            return self._by_id.get(message_id) if message_id is not None else None
        return self._by_id.get(stable_key)

    def index_of(self, stored: StoredMessage) -> int:
        """Position of a message held here (O(log n); pending: after the confirmed ones)."""
        if stored.delivery is not Delivery.SENT and stored.client_id in self._pending:
            return len(self._items) + list(self._pending).index(stored.client_id)
        return bisect.bisect_left(self._keys, (stored.created_at, stored.id))

    def in_order(self, stable_keys: Iterable[str]) -> list[tuple[int, StoredMessage]]:
        """The named messages still held, with their positions, in transcript order."""
        found: list[tuple[int, StoredMessage]] = []
        for key in stable_keys:
            stored = self.find(key)
            if stored is not None:
                found.append((self.index_of(stored), stored))
        found.sort(key=lambda pair: pair[0])
        return found

    def get_pending(self, client_id: str) -> StoredMessage | None:
        return self._pending.get(client_id)

    def insert(self, stored: StoredMessage) -> Op | None:
        """Add a confirmed message; replaces a pending one with its client_id.

        ``Op.UPDATED``: it replaced the pending copy (same ``stable_key``);
        ``Op.ADDED``: new; ``None``: already known, nothing changed.
        """
        msg = stored.message
        replaced = msg.client_id is not None and self._pending.pop(msg.client_id, None) is not None
        if msg.id in self._by_id:
            if replaced:
                self.revision += 1
            return Op.UPDATED if replaced else None
        key = (msg.created_at, msg.id)
        index = bisect.bisect_right(self._keys, key)
        self._keys.insert(index, key)
        self._items.insert(index, stored)
        self._by_id[msg.id] = stored
        if msg.client_id:
            self._by_client[msg.client_id] = msg.id
        self.revision += 1
        return Op.UPDATED if replaced else Op.ADDED

    def put_pending(self, stored: StoredMessage) -> None:
        assert stored.client_id is not None
        self._pending[stored.client_id] = stored
        self.revision += 1

    def drop_pending(self, client_id: str) -> StoredMessage | None:
        stored = self._pending.pop(client_id, None)
        if stored is not None:
            self.revision += 1
        return stored

    def recent_customer_severities(self, count: int) -> tuple[int, ...]:
        """Trigger severities of the last ``count`` customer messages since the last visible
        agent reply (an answered trigger no longer counts)."""
        found: list[int] = []
        for stored in reversed(self._items):
            if stored.message.author_kind == "agent" and not stored.message.internal:
                break
            if stored.is_customer:
                found.append(int(stored.triggers.severity))
                if len(found) >= count:
                    break
        return tuple(reversed(found))


class Store:
    """See the module docstring for the full API."""

    def __init__(self, *, me: m.Me | None = None) -> None:
        self._me: m.Me | None = sanitize_model(me) if me is not None else None
        self._entries: dict[str, ConversationEntry] = {}
        self._transcripts: dict[str, Transcript] = {}
        self._pending_conv: dict[str, str] = {}  # client_id → conversation id
        self._delivered: set[str] = set()  # client ids confirmed by the server
        self._typing: dict[str, dict[tuple[str, str], TypingState]] = {}
        self._agents: dict[str, m.Agent] = {}
        self._queue_stats: dict[str, m.QueueStats] = {}
        self._customers: dict[str, m.Customer] = {}
        self._customer_notes: dict[str, list[m.CustomerNote]] = {}
        self.last_seq = 0
        # True while applying a TypedEvent: its model was sanitized at the boundary.
        self._trusted = False

    # ================================================================= writing

    def set_me(self, me: m.Me) -> Change:
        self._me = sanitize_model(me)
        return Change(areas=frozenset({Area.ME}))

    def apply(self, event: m.Event, now: datetime | None = None) -> Change:
        """Apply one stream event.  Unknown or malformed events change nothing."""
        self.last_seq = max(self.last_seq, event.seq)
        if isinstance(event, TypedEvent):
            # Decoded and sanitized once at the backend boundary: no second pass.
            if event.model is None:
                log.debug("ignoring %s event seq=%s (unknown or malformed)", event.type, event.seq)
                return NO_CHANGE
            self._trusted = True
            try:
                return self._apply_data(event.model, now)
            finally:
                self._trusted = False
        try:
            data = m.decode_event_data(event)
        except (msgspec.ValidationError, TypeError, ValueError) as exc:
            log.warning("ignoring malformed %s event seq=%s: %s", event.type, event.seq, exc)
            return NO_CHANGE
        if data is None:
            log.debug("ignoring unknown event type %r (seq=%s)", event.type, event.seq)
            return NO_CHANGE
        return self._apply_data(data, now)

    def _apply_data(self, data: object, now: datetime | None) -> Change:
        if isinstance(data, m.Message):
            contiguous = not self._transcript(data.conversation_id).stale
            return self._ingest_message(data, live=True, now=_now(now), contiguous=contiguous)
        if isinstance(data, m.Conversation):
            return self.upsert_conversation(data)
        if isinstance(data, m.TypingEvent):
            return self._apply_typing(data, _now(now))
        if isinstance(data, m.Agent):
            return self.upsert_agent(data)
        if isinstance(data, m.Customer):
            return self.load_customer(data)
        if isinstance(data, m.CustomerNote):
            return self._add_customer_note(data)
        if isinstance(data, m.QueueStats):
            return self.load_queue_stats([data])
        if isinstance(data, m.Resync):
            return self._apply_resync(data)
        return NO_CHANGE

    def apply_many(self, events: Iterable[m.Event], now: datetime | None = None) -> Change:
        return Change.merge(self.apply(event, now) for event in events)

    def upsert_conversation(self, conv: m.Conversation) -> Change:
        conv = self._clean(conv)
        old = self._entries.get(conv.id)
        old_conv = old.conversation if old else None
        entry = reduce_conversation(old, conv)
        if conv.state == "closed":
            self._typing.pop(conv.id, None)
        self._entries[conv.id] = entry
        areas: set[Area] = set()
        if (
            old_conv is None
            or old_conv.state != conv.state
            or old_conv.assignee_id != conv.assignee_id
        ):
            areas.add(Area.CONVERSATIONS)
        was_queued = old_conv is not None and old_conv.state == "queued"
        queue = NO_ROWS
        if was_queued or conv.state == "queued":
            areas.add(Area.QUEUE)
            if conv.state != "queued":
                queue = Rows(removed=frozenset({conv.id}))
            else:
                queue = Rows(**{"updated" if was_queued else "added": frozenset({conv.id})})
        return Change(areas=frozenset(areas), conversations=frozenset({conv.id}), queue=queue)

    def load_conversations(
        self,
        page: m.ConversationPage | Iterable[m.Conversation],
        *,
        authoritative_states: Iterable[m.ConversationState] = (),
    ) -> Change:
        """Upsert a page (or list) of conversations.

        ``authoritative_states``: the page is the complete list of conversations
        in these states (e.g. a re-sync after ``reset``).  Known conversations
        in those states that are missing from it are reported in
        ``Change.missing`` so the caller re-fetches them.
        """
        items = page.items if isinstance(page, m.ConversationPage) else list(page)
        change = Change.merge(self.upsert_conversation(c) for c in items)
        states = set(authoritative_states)
        if states:
            present = {c.id for c in items}
            stale = frozenset(
                cid
                for cid, entry in self._entries.items()
                if entry.state in states and cid not in present
            )
            change = change | Change(missing=stale)
        return change | Change(areas=frozenset({Area.CONVERSATIONS}))

    def load_messages(
        self, conversation_id: str, page: m.MessagePage, *, older: bool = True
    ) -> Change:
        """Add a history page.

        ``older=True``: the latest page or a ``before=`` page; ``has_more``
        means older messages exist.  No unread counting.
        ``older=False``: an ``after=`` catch-up page (messages missed while
        offline); they count as unread and move the timers like live ones,
        and ``has_more`` means more newer messages are waiting.
        """
        transcript = self._transcript(conversation_id)
        change = NO_CHANGE
        rows = RowLog()  # one log for the page: merging Changes one by one is quadratic
        for msg in page.items:
            if msg.conversation_id != conversation_id:
                msg = msgspec.structs.replace(msg, conversation_id=conversation_id)
            one = self._ingest_message(
                msg, live=not older, now=None, recompute=False, contiguous=True
            )
            if one.messages:
                rows.merge(one.messages[conversation_id])
                one = replace(one, messages=EMPTY_MESSAGES)
            change = change | one
        if rows:
            change = change | Change(messages={conversation_id: rows.freeze()})
        transcript.loaded = True
        if not older and not page.has_more:
            transcript.stale = False
        if older:
            transcript.has_more_before = page.has_more
        else:
            transcript.has_more_after = page.has_more
        change = change | self._recompute_severity(conversation_id)
        return change | Change(transcripts=frozenset({conversation_id}))

    def load_agents(self, agents: Iterable[m.Agent]) -> Change:
        change = NO_CHANGE
        for agent in agents:
            change = change | self.upsert_agent(agent)
        return change | Change(areas=frozenset({Area.AGENTS}))

    def upsert_agent(self, agent: m.Agent) -> Change:
        agent = self._clean(agent)
        self._agents[agent.id] = agent
        areas = {Area.AGENTS}
        if self._me is not None and self._me.id == agent.id:
            self._me = msgspec.structs.replace(
                self._me, status=agent.status, capacity=agent.capacity, accepting=agent.accepting
            )
            areas.add(Area.ME)
        return Change(areas=frozenset(areas))

    def load_queue_stats(self, view: m.QueuesView | Iterable[m.QueueStats]) -> Change:
        items = view.items if isinstance(view, m.QueuesView) else list(view)
        for stats in items:
            stats = self._clean(stats)
            self._queue_stats[stats.department_id] = stats
        return Change(areas=frozenset({Area.QUEUE_STATS}))

    def load_customer(self, customer: m.Customer) -> Change:
        customer = self._clean(customer)
        self._customers[customer.id] = customer
        return Change(areas=frozenset({Area.CUSTOMERS}), customers=frozenset({customer.id}))

    def load_customer_notes(self, customer_id: str, notes: Iterable[m.CustomerNote]) -> Change:
        cleaned = sorted((sanitize_model(n) for n in notes), key=lambda n: (n.created_at, n.id))
        self._customer_notes[customer_id] = cleaned
        return Change(areas=frozenset({Area.CUSTOMERS}), customers=frozenset({customer_id}))

    def add_pending(
        self,
        conversation_id: str,
        client_id: str,
        body: str,
        internal: bool = False,
        now: datetime | None = None,
        *,
        attachments: Iterable[m.Attachment] = (),
    ) -> Change:
        """Show a message the outbox is about to send (or is holding while offline)."""
        if client_id in self._delivered:
            return NO_CHANGE
        me = self._me
        msg = m.Message(
            id="",
            conversation_id=conversation_id,
            author_kind="agent",
            author_id=me.id if me else None,
            author_name=me.name if me else "",
            body=sanitize_inbound_text(body),
            internal=internal,
            client_id=client_id,
            attachments=[sanitize_model(a) for a in attachments],
            created_at=_now(now),
        )
        transcript = self._transcript(conversation_id)
        op = Op.UPDATED if transcript.get_pending(client_id) is not None else Op.ADDED
        transcript.put_pending(StoredMessage(msg, Delivery.PENDING))
        self._pending_conv[client_id] = conversation_id
        return self._message_change(conversation_id, f"client:{client_id}", op)

    def mark_sent(self, client_id: str, message: m.Message, now: datetime | None = None) -> Change:
        """The server confirmed ``client_id`` with ``message`` (same effect as its stream echo)."""
        if message.client_id != client_id:
            message = msgspec.structs.replace(message, client_id=client_id)
        return self._ingest_message(message, live=True, now=_now(now))

    def mark_failed(self, client_id: str, error: str = "") -> Change:
        """Show a pending message as failed.  Ignored if the server already has it."""
        return self._set_pending_delivery(client_id, Delivery.FAILED, error)

    def retry_pending(self, client_id: str) -> Change:
        """A failed message goes back to pending (the outbox retries with the same client id)."""
        return self._set_pending_delivery(client_id, Delivery.PENDING, "")

    def discard_pending(self, client_id: str) -> Change:
        conv_id = self._pending_conv.pop(client_id, None)
        if conv_id is None:
            return NO_CHANGE
        if self._transcript(conv_id).drop_pending(client_id) is None:
            return Change(transcripts=frozenset({conv_id}))
        return self._message_change(conv_id, f"client:{client_id}", Op.REMOVED)

    def mark_read(self, conversation_id: str) -> Change:
        entry = self._entries.get(conversation_id)
        if entry is None or entry.unread == 0:
            return NO_CHANGE
        self._entries[conversation_id] = reduce_mark_read(entry)
        return Change(conversations=frozenset({conversation_id}))

    def expire_typing(self, now: datetime | None = None) -> Change:
        current = _now(now)
        touched: set[str] = set()
        for conv_id, typers in list(self._typing.items()):
            for key, state in list(typers.items()):
                if state.expires_at <= current:
                    del typers[key]
                    touched.add(conv_id)
            if not typers:
                del self._typing[conv_id]
        if not touched:
            return NO_CHANGE
        return Change(areas=frozenset({Area.TYPING}), typing=frozenset(touched))

    def clear_conversations(self) -> Change:
        """Forget conversations, transcripts and typing (before a full re-sync).

        Pending and failed outbox entries survive: the outbox still owns them.
        """
        pending = [
            stored
            for t in self._transcripts.values()
            for stored in list(t)
            if stored.delivery is not Delivery.SENT
        ]
        ids = frozenset(self._entries) | frozenset(self._transcripts)
        gone = {
            cid: Rows(removed=frozenset(stored.stable_key for stored in t.confirmed))
            for cid, t in self._transcripts.items()
            if len(t.confirmed)
        }
        queued = frozenset(cid for cid, entry in self._entries.items() if entry.state == "queued")
        self._entries.clear()
        self._transcripts.clear()
        self._typing.clear()
        for stored in pending:
            self._transcript(stored.message.conversation_id).put_pending(stored)
        return Change(
            areas=frozenset({Area.CONVERSATIONS, Area.QUEUE, Area.TYPING}),
            conversations=ids,
            transcripts=ids,
            typing=ids,
            messages=gone,
            queue=Rows(removed=queued),
        )

    # ================================================================= reading

    @property
    def me(self) -> m.Me | None:
        return self._me

    def entry(self, conversation_id: str) -> ConversationEntry | None:
        """The entry even if only a stub (messages seen, record not loaded)."""
        return self._entries.get(conversation_id)

    def conversation(self, conversation_id: str) -> ConversationEntry | None:
        entry = self._entries.get(conversation_id)
        return entry if entry is not None and entry.conversation is not None else None

    def conversations(self) -> list[ConversationEntry]:
        """All loaded conversations, most recent activity first."""
        loaded = [e for e in self._entries.values() if e.conversation is not None]
        return sorted(loaded, key=_activity_key, reverse=True)

    def active_for(self, agent_id: str) -> list[ConversationEntry]:
        """The agent's active chats, in the order they were assigned (stable tab order)."""
        mine = [
            e
            for e in self._entries.values()
            if e.conversation is not None
            and e.conversation.state == "active"
            and e.conversation.assignee_id == agent_id
        ]
        return sorted(mine, key=_assigned_key)

    def queue(self, department_id: str | None = None) -> list[ConversationEntry]:
        """Queued conversations, longest wait first."""
        queued = [
            e
            for e in self._entries.values()
            if e.conversation is not None
            and e.conversation.state == "queued"
            and (department_id is None or e.conversation.department_id == department_id)
        ]
        return sorted(queued, key=_queued_key)

    def at_risk(
        self, now: datetime | None = None, agent_id: str | None = None
    ) -> list[ConversationEntry]:
        """Open conversations with a waiting customer or triggers, most at risk first.

        Rank: critical severity (3) first; then waiting seconds weighted by
        ``1 + severity``; ties by id.  ``agent_id`` limits to that agent's
        active chats.
        """
        current = _now(now)
        candidates = [
            e
            for e in self._entries.values()
            if e.conversation is not None
            and e.conversation.state in _OPEN_STATES
            and (agent_id is None or e.conversation.assignee_id == agent_id)
            and (e.waiting_since is not None or e.severity > 0)
        ]

        def rank(e: ConversationEntry) -> tuple[bool, float, str]:
            return (e.severity >= 3, e.waiting_seconds(current) * (1 + e.severity), e.id)

        return sorted(candidates, key=rank, reverse=True)

    def most_at_risk(
        self, now: datetime | None = None, agent_id: str | None = None
    ) -> ConversationEntry | None:
        ranked = self.at_risk(now, agent_id)
        return ranked[0] if ranked else None

    def transcript(self, conversation_id: str) -> Transcript:
        """The conversation's transcript (created empty if unknown)."""
        return self._transcript(conversation_id)

    def messages(self, conversation_id: str) -> list[StoredMessage]:
        transcript = self._transcripts.get(conversation_id)
        return transcript.messages() if transcript is not None else []

    def pending(self, client_id: str) -> StoredMessage | None:
        conv_id = self._pending_conv.get(client_id)
        if conv_id is None:
            return None
        return self._transcript(conv_id).get_pending(client_id)

    def typing(self, conversation_id: str, now: datetime | None = None) -> list[TypingState]:
        current = _now(now)
        typers = self._typing.get(conversation_id, {})
        return [t for t in typers.values() if t.expires_at > current]

    def language_of(self, conversation_id: str, default: str = "en") -> str:
        """The customer's language (en/ko/ja) guessed from their latest messages."""
        transcript = self._transcripts.get(conversation_id)
        if transcript is not None:
            seen = 0
            for index in range(len(transcript) - 1, -1, -1):
                stored = transcript[index]
                if not stored.is_customer:
                    continue
                lang = guess_language(stored.body)
                if lang is not None:
                    return lang
                seen += 1
                if seen >= RECENT_CUSTOMER_MESSAGES:
                    break
        entry = self._entries.get(conversation_id)
        if entry is not None and entry.conversation is not None:
            lang = guess_language(" ".join(entry.conversation.prechat.values()))
            if lang is not None:
                return lang
        return default

    def unread(self, conversation_id: str) -> int:
        entry = self._entries.get(conversation_id)
        return entry.unread if entry else 0

    def total_unread(self, agent_id: str | None = None) -> int:
        if agent_id is None:
            return sum(e.unread for e in self._entries.values())
        return sum(e.unread for e in self.active_for(agent_id))

    def agents(self) -> list[m.Agent]:
        return sorted(self._agents.values(), key=lambda a: (a.name.casefold(), a.id))

    def agent(self, agent_id: str) -> m.Agent | None:
        return self._agents.get(agent_id)

    def queue_stats(self) -> list[m.QueueStats]:
        return sorted(
            self._queue_stats.values(), key=lambda q: (q.department_name, q.department_id)
        )

    def customer(self, customer_id: str) -> m.Customer | None:
        return self._customers.get(customer_id)

    def customer_notes(self, customer_id: str) -> list[m.CustomerNote]:
        return list(self._customer_notes.get(customer_id, []))

    # ================================================================= internals

    def _clean(self, obj: _S) -> _S:
        """``obj`` sanitized, unless it came in a TypedEvent (sanitized at the boundary)."""
        return obj if self._trusted else sanitize_model(obj)

    def _transcript(self, conversation_id: str) -> Transcript:
        transcript = self._transcripts.get(conversation_id)
        if transcript is None:
            transcript = self._transcripts[conversation_id] = Transcript(conversation_id)
        return transcript

    def _ingest_message(
        self,
        raw: m.Message,
        *,
        live: bool,
        now: datetime | None,
        recompute: bool = True,
        contiguous: bool = False,
    ) -> Change:
        msg = self._clean(raw)
        conv_id = msg.conversation_id
        transcript = self._transcript(conv_id)
        if contiguous:
            transcript.advance_anchor(msg)
        if msg.client_id is not None:
            self._delivered.add(msg.client_id)
            self._pending_conv.pop(msg.client_id, None)
        newest_before = transcript.newest_created_at
        stored = StoredMessage(msg, Delivery.SENT, triggers=severity_of(msg))
        op = transcript.insert(stored)
        if op is None:
            return NO_CHANGE
        change = self._message_change(conv_id, stored.stable_key, op)
        # Only messages newer than everything loaded count as unread and move timers;
        # a late copy of an older message (replay after a catch-up) does not.
        is_new = newest_before is None or msg.created_at >= newest_before
        entry = self._entries.get(conv_id)
        if live and is_new:
            me_id = self._me.id if self._me else None
            self._entries[conv_id] = reduce_live_message(entry, stored, me_id=me_id)
        else:
            self._entries[conv_id] = reduce_seen_message(
                entry or ConversationEntry(id=conv_id), stored
            )
        change = change | Change(conversations=frozenset({conv_id}))
        if self._entries[conv_id].conversation is None:
            change = change | Change(missing=frozenset({conv_id}))
        if msg.author_kind != "system":
            change = change | self._clear_typing(conv_id, msg.author_kind, msg.author_name)
        if recompute and not (live and is_new):
            change = change | self._recompute_severity(conv_id)
        return change

    def _apply_resync(self, resync: m.Resync) -> Change:
        """The backend could not resume the stream and re-listed the open conversations.

        Open conversations not in the list are reported ``missing`` (closed or
        reassigned meanwhile; re-fetch them).  Every loaded transcript is
        marked ``stale`` (messages may be missing from the gap) and reported,
        so the UI fetches ``after=anchor_id`` (the newest message with no gap before
        it, not ``newest_id``: an agent reply confirmed over REST during the outage
        may follow missed customer messages) and loads it with ``older=False``.
        """
        change = self.load_conversations(
            resync.conversations, authoritative_states=("bot", "queued", "active")
        )
        stale = [t for t in self._transcripts.values() if t.loaded]
        for transcript in stale:
            transcript.stale = True
            transcript.revision += 1
        self._typing.clear()
        return change | Change(
            areas=frozenset({Area.QUEUE, Area.TYPING}),
            transcripts=frozenset(t.conversation_id for t in stale),
        )

    def _add_customer_note(self, note: m.CustomerNote) -> Change:
        note = self._clean(note)
        notes = self._customer_notes.setdefault(note.customer_id, [])
        if any(n.id == note.id for n in notes):
            return NO_CHANGE
        notes.append(note)
        notes.sort(key=lambda n: (n.created_at, n.id))
        return Change(areas=frozenset({Area.CUSTOMERS}), customers=frozenset({note.customer_id}))

    def _recompute_severity(self, conversation_id: str) -> Change:
        entry = self._entries.get(conversation_id)
        if entry is None:
            return NO_CHANGE
        recent = self._transcript(conversation_id).recent_customer_severities(
            RECENT_CUSTOMER_MESSAGES
        )
        updated = reduce_recent_severities(entry, recent)
        if updated == entry:
            return NO_CHANGE
        self._entries[conversation_id] = updated
        return Change(conversations=frozenset({conversation_id}))

    def _set_pending_delivery(self, client_id: str, delivery: Delivery, error: str) -> Change:
        conv_id = self._pending_conv.get(client_id)
        if conv_id is None:
            return NO_CHANGE
        transcript = self._transcript(conv_id)
        stored = transcript.get_pending(client_id)
        if stored is None:
            return NO_CHANGE
        transcript.put_pending(
            replace(stored, delivery=delivery, error=sanitize_single_line(error))
        )
        return self._message_change(conv_id, stored.stable_key, Op.UPDATED)

    def _message_change(self, conversation_id: str, key: str, op: Op) -> Change:
        """One message added/updated/removed; a queued chat's queue row shows its messages."""
        entry = self._entries.get(conversation_id)
        queued = entry is not None and entry.state == "queued"
        return Change(
            transcripts=frozenset({conversation_id}),
            messages={conversation_id: Rows(**{op.value: frozenset((key,))})},
            queue=Rows(updated=frozenset({conversation_id})) if queued else NO_ROWS,
        )

    def _apply_typing(self, event: m.TypingEvent, now: datetime) -> Change:
        event = self._clean(event)
        conv_id = event.conversation_id
        key = (event.author_kind, event.author_name)
        typers = self._typing.setdefault(conv_id, {})
        if event.typing:
            typers[key] = TypingState(
                conv_id, event.author_kind, event.author_name, now + TYPING_TTL
            )
        elif typers.pop(key, None) is None:
            if not typers:
                del self._typing[conv_id]
            return NO_CHANGE
        if not typers:
            del self._typing[conv_id]
        return Change(areas=frozenset({Area.TYPING}), typing=frozenset({conv_id}))

    def _clear_typing(self, conversation_id: str, author_kind: str, author_name: str) -> Change:
        typers = self._typing.get(conversation_id)
        if not typers:
            return NO_CHANGE
        removed = typers.pop((author_kind, author_name), None)
        if removed is None:
            # Names may differ between typing and message events; clear by kind for customers.
            keys = [k for k in typers if k[0] == author_kind and author_kind == "customer"]
            for k in keys:
                del typers[k]
            if not keys:
                return NO_CHANGE
        if not typers:
            del self._typing[conversation_id]
        return Change(areas=frozenset({Area.TYPING}), typing=frozenset({conversation_id}))


def _activity_key(entry: ConversationEntry) -> tuple[datetime, str]:
    conv = entry.conversation
    assert conv is not None
    return (entry.last_message_at or conv.last_message_at or conv.created_at, entry.id)


def _assigned_key(entry: ConversationEntry) -> tuple[datetime, str]:
    conv = entry.conversation
    assert conv is not None
    return (conv.assigned_at or conv.created_at, entry.id)


def _queued_key(entry: ConversationEntry) -> tuple[datetime, str]:
    conv = entry.conversation
    assert conv is not None
    return (conv.queued_at or conv.created_at, entry.id)
