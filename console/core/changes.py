"""What changed, precisely: the rows a widget adds, updates or removes.

A Store update returns a :class:`~console.core.reducers.Change`; besides the
ids it touched, a Change names the messages (per conversation, by
:attr:`StoredMessage.stable_key`) and the queue rows that were added, updated
or removed, as :class:`Rows`.  The workspace controller collects Changes
between two flushes (at most 30 a second) in a :class:`ChangeCollector` and
hands the screen one :class:`WorkspaceChanges`; widgets apply exactly the
rows it names instead of comparing what they show with the Store.

Merging (an earlier change, then a later one, for the same id):

* added, then updated → added (the widget has never shown it);
* added, then removed → nothing (the widget never needs to hear of it);
* updated, then removed → removed;
* removed, then added (or updated) → updated (the widget shows the old copy);
* the same twice → once.

Nothing here imports the Store or the UI.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

__all__ = [
    "EMPTY_MESSAGES",
    "NO_ROWS",
    "ChangeCollector",
    "Op",
    "RowLog",
    "Rows",
    "WorkspaceChanges",
    "merge_messages",
    "merge_op",
]


class Op(enum.Enum):
    ADDED = "added"
    UPDATED = "updated"
    REMOVED = "removed"


def merge_op(earlier: Op | None, later: Op) -> Op | None:
    """The net effect of ``earlier`` then ``later`` on one row; ``None``: no effect."""
    if earlier is None or earlier is later:
        return later if earlier is None else earlier
    if earlier is Op.ADDED:
        return None if later is Op.REMOVED else Op.ADDED
    if earlier is Op.UPDATED:
        return Op.REMOVED if later is Op.REMOVED else Op.UPDATED
    return Op.UPDATED  # removed, then added/updated: the widget still shows the old copy


@dataclass(frozen=True, slots=True)
class Rows:
    """Row ids added, updated and removed (disjoint).  ``a | b``: ``a`` then ``b``."""

    added: frozenset[str] = frozenset()
    updated: frozenset[str] = frozenset()
    removed: frozenset[str] = frozenset()

    @staticmethod
    def of(
        added: Iterable[str] = (), updated: Iterable[str] = (), removed: Iterable[str] = ()
    ) -> Rows:
        groups = (tuple(added), tuple(updated), tuple(removed))
        if sum(1 for group in groups if group) <= 1:
            # One kind of operation (the usual single message): nothing to merge.
            a, u, r = (frozenset(group) for group in groups)
            return Rows(a, u, r) if a or u or r else NO_ROWS
        log = RowLog()
        for op, ids in zip((Op.ADDED, Op.UPDATED, Op.REMOVED), groups, strict=True):
            for row_id in ids:
                log.note(row_id, op)
        return log.freeze()

    def __bool__(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def __or__(self, later: Rows) -> Rows:
        if not later:
            return self
        if not self:
            return later
        mine = self.added | self.updated | self.removed
        if (
            mine.isdisjoint(later.added)
            and mine.isdisjoint(later.updated)
            and mine.isdisjoint(later.removed)
        ):  # nothing to merge per row: plain unions (C speed)
            return Rows(
                self.added | later.added, self.updated | later.updated, self.removed | later.removed
            )
        log = RowLog()
        log.merge(self)
        log.merge(later)
        return log.freeze()

    def ops(self) -> Iterable[tuple[str, Op]]:
        for row_id in self.removed:
            yield row_id, Op.REMOVED
        for row_id in self.added:
            yield row_id, Op.ADDED
        for row_id in self.updated:
            yield row_id, Op.UPDATED


NO_ROWS: Final = Rows()


class RowLog:
    """Mutable accumulator of row operations (merged by :func:`merge_op`)."""

    __slots__ = ("_ops",)

    def __init__(self) -> None:
        self._ops: dict[str, Op] = {}

    def __bool__(self) -> bool:
        return bool(self._ops)

    def note(self, row_id: str, op: Op) -> None:
        merged = merge_op(self._ops.get(row_id), op)
        if merged is None:
            del self._ops[row_id]
        else:
            self._ops[row_id] = merged

    def merge(self, rows: Rows) -> None:
        for row_id, op in rows.ops():
            self.note(row_id, op)

    def freeze(self) -> Rows:
        if not self._ops:
            return NO_ROWS
        by_op: dict[Op, set[str]] = {Op.ADDED: set(), Op.UPDATED: set(), Op.REMOVED: set()}
        for row_id, op in self._ops.items():
            by_op[op].add(row_id)
        return Rows(
            frozenset(by_op[Op.ADDED]), frozenset(by_op[Op.UPDATED]), frozenset(by_op[Op.REMOVED])
        )


def merge_messages(earlier: Mapping[str, Rows], later: Mapping[str, Rows]) -> Mapping[str, Rows]:
    """Per-conversation message rows of two changes, ``earlier`` then ``later``."""
    if not later:
        return earlier
    if not earlier:
        return later
    merged = dict(earlier)
    for conversation_id, rows in later.items():
        before = merged.get(conversation_id)
        merged[conversation_id] = rows if before is None else before | rows
    return MappingProxyType(merged)


EMPTY_MESSAGES: Final[Mapping[str, Rows]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class WorkspaceChanges:
    """What changed since the last flush, as the agent screen applies it.

    ``dirty``: every conversation something about changed (record, counters,
    transcript, typing, its customer) - its pane header and timers redraw.
    ``conversations``: conversations whose record or counters changed.
    ``messages``: per conversation, the message keys
    (:attr:`~console.core.reducers.StoredMessage.stable_key`) added, updated
    (delivery state) or removed; a conversation listed with empty rows had only
    its transcript flags changed (older history known to exist, stale).
    ``customers``: customer ids whose profile, notes, past conversations or
    follow-ups changed.  ``queue``: queued conversations added, updated (record,
    preview, triggers) or removed.  ``lists``: pane order, my status or the set of
    my chats changed - the grid re-syncs, the status bar redraws.
    """

    dirty: frozenset[str] = frozenset()
    conversations: frozenset[str] = frozenset()
    messages: Mapping[str, Rows] = field(default_factory=lambda: EMPTY_MESSAGES)
    customers: frozenset[str] = frozenset()
    queue: Rows = NO_ROWS
    lists: bool = False

    def __bool__(self) -> bool:
        return bool(
            self.dirty
            or self.conversations
            or self.messages
            or self.customers
            or self.queue
            or self.lists
        )

    @staticmethod
    def everything(conversation_ids: Iterable[str]) -> WorkspaceChanges:
        """Redraw these chats and every list from the Store (a screen's first draw)."""
        ids = frozenset(conversation_ids)
        return WorkspaceChanges(dirty=ids, conversations=ids, lists=True)


class ChangeCollector:
    """Collects Store changes between flushes; ``take()`` returns and resets them."""

    __slots__ = ("_conversations", "_customers", "_dirty", "_lists", "_messages", "_queue")

    def __init__(self) -> None:
        self._dirty: set[str] = set()
        self._conversations: set[str] = set()
        self._messages: dict[str, RowLog] = {}
        self._customers: set[str] = set()
        self._queue = RowLog()
        self._lists = False

    def _reset(self) -> None:
        self._dirty = set()
        self._conversations = set()
        self._messages = {}
        self._customers = set()
        self._queue = RowLog()
        self._lists = False

    def __bool__(self) -> bool:
        return bool(
            self._dirty
            or self._conversations
            or self._messages
            or self._customers
            or self._queue
            or self._lists
        )

    def mark(self, conversation_id: str) -> None:
        self._dirty.add(conversation_id)

    def mark_lists(self) -> None:
        self._lists = True

    def mark_customer(self, customer_id: str) -> None:
        self._customers.add(customer_id)

    def add(
        self,
        *,
        dirty: Iterable[str] = (),
        conversations: Iterable[str] = (),
        messages: Mapping[str, Rows] = EMPTY_MESSAGES,
        transcripts: Iterable[str] = (),
        queue: Rows = NO_ROWS,
    ) -> None:
        self._dirty.update(dirty)
        self._conversations.update(conversations)
        for conversation_id in transcripts:
            self._messages.setdefault(conversation_id, RowLog())
        for conversation_id, rows in messages.items():
            log = self._messages.get(conversation_id)
            if log is None:
                log = self._messages[conversation_id] = RowLog()
            log.merge(rows)
        if queue:
            self._queue.merge(queue)

    def take(self) -> WorkspaceChanges:
        changes = WorkspaceChanges(
            dirty=frozenset(self._dirty),
            conversations=frozenset(self._conversations),
            messages=MappingProxyType({cid: log.freeze() for cid, log in self._messages.items()})
            if self._messages
            else EMPTY_MESSAGES,
            customers=frozenset(self._customers),
            queue=self._queue.freeze(),
            lists=self._lists,
        )
        self._reset()
        return changes
