"""The chat transcript: a Line-API widget that renders only the visible rows.

Why not one widget per message (elia's ``Chat``) or ``RichLog``?  A widget per
message collapses at ~10k messages, and ``RichLog`` renders every line at write
time and never re-wraps on resize.  ``TranscriptView`` follows toolong's
``LogLines``: a :class:`~textual.scroll_view.ScrollView` whose ``render_line(y)``
builds a row on demand, with wrapping added.

Layout model
------------
Each message is a block of rows: a header (sender, ``HH:MM``, delivery state,
"internal note" label), the body wrapped to the current width, one row per
attachment, and a blank spacer row.  The heights of all blocks live in a
Fenwick tree (:class:`HeightIndex`), which gives prefix sums and the
``y -> (message, row in message)`` lookup in O(log n) and accepts appends in
O(log n).

Heights are *lazy*.  Wrapping 50,000 messages with Rich costs seconds, so a
message starts with a cheap estimated height (character count / width) and
gets its exact height the first time it comes near the viewport
(:meth:`TranscriptView._settle`).  Only exact rows are ever painted: before a
frame, the messages that cover the viewport plus a page above and a page below
are wrapped exactly.  Corrections below the top row only change the scroll
range; corrections above it shift ``scroll_y`` by the same amount, so what
the user sees never jumps.  On a width change every height goes back to an
estimate (O(n), a few ms per 50k), and the message at the top of the viewport
is re-wrapped first and kept in view.

Rendered rows are cached per message in an LRU keyed on
``(message id, revision, delivery state, width, style generation)``; the style generation
changes in ``notify_style_update`` (theme switch), which also clears the cache.

Untrusted text (names, bodies, file names) only ever becomes ``rich.text.Text``
built from plain strings; no markup is parsed anywhere in this module.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar, Literal

from rich.cells import cell_len
from rich.filesize import decimal as _decimal_size
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.cache import LRUCache
from textual.geometry import Offset, Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.selection import Selection
from textual.strip import Strip

from console.ui.safe import neutralize_controls, widget_text

__all__ = [
    "AuthorKind",
    "Delivery",
    "HeightIndex",
    "TranscriptAttachment",
    "TranscriptItem",
    "TranscriptView",
]

AuthorKind = Literal["customer", "agent", "bot", "system"]
Delivery = Literal["pending", "sent", "failed"]

_BODY_INDENT = 2
_MIN_WIDTH = 8


@dataclass(frozen=True, slots=True)
class TranscriptAttachment:
    """One attachment shown under a message."""

    filename: str
    size: int = 0


@dataclass(frozen=True, slots=True)
class TranscriptItem:
    """What the transcript needs to draw one message.

    The screen maps store messages to these; text fields are untrusted and are
    rendered literally.  ``delivery`` is set only for the agent's own messages
    (``None`` hides the indicator).  ``trigger_spans`` are ``(start, end,
    category)`` character offsets into ``body``.  Bump ``revision`` whenever
    anything that changes the look changes (edits, delivery state, spans).
    """

    id: str
    author: str
    author_kind: AuthorKind
    body: str
    created_at: datetime
    internal: bool = False
    delivery: Delivery | None = None
    attachments: tuple[TranscriptAttachment, ...] = ()
    trigger_spans: tuple[tuple[int, int, str], ...] = ()
    revision: int = 0


class HeightIndex:
    """Heights of message blocks with O(log n) prefix sums, lookup, append and prepend.

    A Fenwick (binary indexed) tree over a slot array with free slots at both
    ends: item ``i`` lives in slot ``front + i``; free slots hold height 0, so
    they add nothing to any prefix sum.  Appending or prepending ``k`` heights
    fills free slots in O(k log n); when one end is full the array is rebuilt
    with as many free slots as items at that end, so a scroll-back through N
    messages page by page costs O(N log N) in total, not O(N^2 / page).
    ``find(y)`` is the bisection over prefix sums done by binary lifting.
    Heights must be >= 1.
    """

    __slots__ = ("_front", "_n", "_slots", "_tree")

    def __init__(self, heights: Iterable[int] = ()) -> None:
        self._build(list(heights), 0, 0)

    def _build(self, heights: list[int], front: int, back: int) -> None:
        """Slots: ``front`` free, the heights, ``back`` free; O(size)."""
        self._front = front
        self._n = len(heights)
        slots = [0] * front + heights + [0] * back
        size = len(slots)
        tree = [0, *slots]
        for i in range(1, size + 1):
            j = i + (i & -i)
            if j <= size:
                tree[j] += tree[i]
        self._slots = slots
        self._tree = tree

    def _heights(self) -> list[int]:
        return self._slots[self._front : self._front + self._n]

    def _add(self, slot: int, delta: int) -> None:
        tree = self._tree
        size = len(self._slots)
        i = slot + 1
        while i <= size:
            tree[i] += delta
            i += i & -i

    def _slot_prefix(self, slot: int) -> int:
        """Sum of slots ``[0, slot)``."""
        tree = self._tree
        total = 0
        i = slot
        while i > 0:
            total += tree[i]
            i -= i & -i
        return total

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, index: int) -> int:
        if index < 0:
            index += self._n
        if not 0 <= index < self._n:
            raise IndexError(index)
        return self._slots[self._front + index]

    @property
    def total(self) -> int:
        """Sum of all heights."""
        return self._slot_prefix(self._front + self._n)

    def prefix(self, index: int) -> int:
        """Sum of heights ``[0, index)``: the first row of message ``index``."""
        return self._slot_prefix(self._front + index)

    def set(self, index: int, height: int) -> int:
        """Set one height; returns the change."""
        slot = self._front + index
        delta = height - self._slots[slot]
        if delta:
            self._slots[slot] = height
            self._add(slot, delta)
        return delta

    def append(self, height: int) -> None:
        """Add a height at the end in O(log n) (amortized)."""
        slot = self._front + self._n
        if slot == len(self._slots):
            self._build(self._heights(), self._front, max(16, self._n))
        self._slots[slot] = height
        self._add(slot, height)
        self._n += 1

    def prepend(self, heights: Sequence[int]) -> None:
        """Add heights at the start in O(k log n) (amortized)."""
        k = len(heights)
        if k > self._front:
            back = len(self._slots) - self._front - self._n
            self._build(self._heights(), max(16, k, self._n + k), back)
        self._front -= k
        for offset, height in enumerate(heights):
            slot = self._front + offset
            self._slots[slot] = height
            self._add(slot, height)
        self._n += k

    def reset(self, heights: Iterable[int]) -> None:
        self._build(list(heights), 0, 0)

    def find(self, y: int) -> tuple[int, int]:
        """The message containing row ``y`` and the row inside it.

        Rows past the end map to the last message's last row.
        """
        n = self._n
        if n == 0:
            return (0, 0)
        total = self.total
        if y >= total:
            return (n - 1, self[n - 1] - 1)
        y = max(0, y)
        tree = self._tree
        size = len(self._slots)
        pos = 0
        remaining = y
        step = 1 << (size.bit_length() - 1)
        while step:
            nxt = pos + step
            if nxt <= size and tree[nxt] <= remaining:
                pos = nxt
                remaining -= tree[nxt]
            step >>= 1
        return (pos - self._front, remaining)


def _format_size(size: int) -> str:
    return _decimal_size(size) if size > 0 else ""


def _one_line(text: str) -> str:
    return neutralize_controls(text).replace("\n", " ")


class TranscriptView(ScrollView, can_focus=True):
    """Scrollable chat transcript that renders only the rows on screen."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "transcript--author-customer",
        "transcript--author-agent",
        "transcript--author-bot",
        "transcript--author-system",
        "transcript--time",
        "transcript--dim",
        "transcript--internal",
        "transcript--internal-label",
        "transcript--trigger",
        "transcript--attachment",
        "transcript--pending",
        "transcript--sent",
        "transcript--failed",
        "transcript--indicator",
    }

    DEFAULT_CSS = """
    TranscriptView {
        overflow-x: hidden;
        overflow-y: auto;
        scrollbar-gutter: stable;
        height: 1fr;
        background: $surface;
    }
    TranscriptView > .transcript--author-customer { color: $accent; text-style: bold; }
    TranscriptView > .transcript--author-agent { color: $success; text-style: bold; }
    TranscriptView > .transcript--author-bot { color: $secondary; text-style: bold; }
    TranscriptView > .transcript--author-system { color: $text-muted; text-style: italic; }
    TranscriptView > .transcript--time { color: $text-muted; }
    TranscriptView > .transcript--dim { color: $text-muted; }
    TranscriptView > .transcript--internal { background: $warning 15%; }
    TranscriptView > .transcript--internal-label { color: $warning; text-style: bold; }
    TranscriptView > .transcript--trigger { background: $error 35%; text-style: bold underline; }
    TranscriptView > .transcript--attachment { color: $secondary; }
    TranscriptView > .transcript--pending { color: $warning; }
    TranscriptView > .transcript--sent { color: $success; }
    TranscriptView > .transcript--failed { color: $error; text-style: bold; }
    TranscriptView > .transcript--indicator { background: $accent; color: $text; text-style: bold; }
    """

    class OlderRequested(Message):
        """The user reached the top and older history may exist; load and ``prepend_items``."""

        def __init__(self, transcript: TranscriptView, oldest_id: str | None) -> None:
            super().__init__()
            self.transcript = transcript
            self.oldest_id = oldest_id

        @property
        def control(self) -> TranscriptView:
            return self.transcript

    class UnseenChanged(Message):
        """The number of messages that arrived while the user was scrolled up changed."""

        def __init__(self, transcript: TranscriptView, count: int) -> None:
            super().__init__()
            self.transcript = transcript
            self.count = count

        @property
        def control(self) -> TranscriptView:
            return self.transcript

    def __init__(
        self,
        items: Iterable[TranscriptItem] = (),
        *,
        has_older: bool = False,
        tz: tzinfo | None = None,
        cache_size: int = 1024,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        self._tz = tz
        self._items: list[TranscriptItem] = []
        # id -> key; the message's index is ``key - self._base``.  Keys of older pages
        # count down from the base, so a prepend adds k keys instead of renumbering.
        self._positions: dict[str, int] = {}
        self._base = 0
        self._index = HeightIndex()
        self._exact = bytearray()
        self._width = 0  # wrap width the heights belong to; 0 = not laid out yet
        self._strip_cache: LRUCache[tuple[str, int, str | None, int, int], list[Strip]] = LRUCache(
            cache_size
        )
        self._style_generation = 0
        self._styles: dict[str, Style] = {}
        self._following = True
        self._unseen = 0
        self._has_older = has_older
        self._older_requested = False
        self._settling = False
        self.render_line_calls = 0
        """Rows rendered so far (a probe for tests and the benchmark)."""
        self.messages_wrapped = 0
        """Messages wrapped exactly so far (a probe for tests and the benchmark)."""
        initial = list(items)
        if initial:
            self._load(initial)

    # ------------------------------------------------------------------ public API

    @property
    def item_count(self) -> int:
        return len(self._items)

    @property
    def total_lines(self) -> int:
        """Rows in the virtual canvas (exact near the viewport, estimated elsewhere)."""
        return self._index.total

    @property
    def following(self) -> bool:
        """True while the view sticks to the newest message."""
        return self._following

    @property
    def unseen_count(self) -> int:
        """Messages appended while the user was scrolled up."""
        return self._unseen

    @property
    def has_older(self) -> bool:
        return self._has_older

    @has_older.setter
    def has_older(self, value: bool) -> None:
        # Setting the same value again (e.g. on every refresh) must not re-arm the
        # request while a load is in flight; leaving the top re-arms it.
        if value != self._has_older:
            self._has_older = value
            self._older_requested = False

    @property
    def cached_messages(self) -> int:
        """Messages whose rows are in the strip cache."""
        return len(self._strip_cache)

    def get_item(self, message_id: str) -> TranscriptItem | None:
        key = self._positions.get(message_id)
        position = None if key is None else key - self._base
        return None if position is None else self._items[position]

    def items(self) -> Sequence[TranscriptItem]:
        return tuple(self._items)

    def set_items(self, items: Iterable[TranscriptItem], *, has_older: bool = False) -> None:
        """Replace everything and stick to the newest message."""
        self._load(list(items))
        self._has_older = has_older
        self._older_requested = False
        self._following = True
        self._set_unseen(0)
        self._after_change(scroll_to_end=True)

    def append(self, item: TranscriptItem) -> None:
        """Add a new message at the end (O(log n)); replaces a message with the same id."""
        if item.id in self._positions:
            self.update_item(item)
            return
        self._positions[item.id] = self._base + len(self._items)
        self._items.append(item)
        width = self._width
        if width:
            self._index.append(self._estimate(item, width))
            self._exact.append(0)
        if self._following:
            self._after_change(scroll_to_end=True)
        else:
            self._set_unseen(self._unseen + 1)
            self._after_change(scroll_to_end=False)

    def extend(self, items: Iterable[TranscriptItem]) -> None:
        """Append several messages, refreshing once."""
        for item in items:
            if item.id in self._positions:
                self._replace(item)
                continue
            self._positions[item.id] = self._base + len(self._items)
            self._items.append(item)
            if self._width:
                self._index.append(self._estimate(item, self._width))
                self._exact.append(0)
            if not self._following:
                self._unseen += 1
        if not self._following:
            self._set_unseen(self._unseen, force=True)
        self._after_change(scroll_to_end=self._following)

    def update_item(self, item: TranscriptItem) -> None:
        """Replace the message with ``item.id`` (delivery state, edits, spans)."""
        if item.id not in self._positions:
            self.append(item)
            return
        self._replace(item)
        self._after_change(scroll_to_end=self._following)

    def remove_items(self, message_ids: Collection[str]) -> None:
        """Drop messages (a discarded failed reply).  Rare, so the layout is rebuilt."""
        if not any(message_id in self._positions for message_id in message_ids):
            return
        following = self._following
        self._load([item for item in self._items if item.id not in message_ids])
        self._after_change(scroll_to_end=following)

    def insert_items(self, items: Sequence[TranscriptItem], *, before: str) -> None:
        """Insert messages before the message ``before`` (a gap filled after a reconnect).

        Before the first message this is ``prepend_items``; unknown ``before``:
        appended.  In the middle it is rare, so the layout is rebuilt (as for
        ``remove_items``).  Messages whose id is already present are skipped.
        """
        new = list({item.id: item for item in items if item.id not in self._positions}.values())
        key = self._positions.get(before)
        if key is None:
            self.extend(new)
            return
        if not new:
            return
        position = key - self._base
        if position == 0:
            self.prepend_items(new, has_older=self._has_older)
            return
        following = self._following
        self._load(self._items[:position] + new + self._items[position:])
        self._after_change(scroll_to_end=following)

    def prepend_items(self, items: Sequence[TranscriptItem], *, has_older: bool = False) -> None:
        """Insert older history at the top, keeping the viewport where it is.

        O(k log n) amortized: k new keys and k heights (see ``HeightIndex``), plus
        one C-level memmove of the item list.  Messages whose id is already
        present are skipped.
        """
        new = list({item.id: item for item in items if item.id not in self._positions}.values())
        self._has_older = has_older
        self._older_requested = False
        if not new:
            return
        if not self._width:
            self._load(new + self._items)
            return
        top_index, top_row = self._index.find(round(self.scroll_y))
        had_items = bool(self._items)
        self._items[:0] = new
        self._base -= len(new)
        positions, base = self._positions, self._base
        for offset, item in enumerate(new):
            positions[item.id] = base + offset
        width = self._width
        self._index.prepend([self._estimate(item, width) for item in new])
        self._exact[:0] = bytes(len(new))
        self._sync_virtual_size()
        if had_items and not self._following:
            anchor = top_index + len(new)
            self._set_scroll_y(self._index.prefix(anchor) + top_row)
        self._after_change(scroll_to_end=self._following)

    def scroll_to_item(self, message_id: str) -> bool:
        """Put a message at the top of the viewport (e.g. a search hit); False if unknown."""
        key = self._positions.get(message_id)
        position = None if key is None else key - self._base
        if position is None or not self.is_mounted or not self._width:
            return False
        self._following = False
        self._make_exact(position)
        self._sync_virtual_size()
        self._set_scroll_y(self._index.prefix(position))
        self._settle()
        # Near the end the viewport cannot start at the message; keep it in view.
        self._following = self._at_bottom() and not self._unseen
        self.refresh()
        self._check_edges()
        return True

    def scroll_to_latest(self) -> None:
        """Jump to the newest message and stick to it again."""
        self._following = True
        self._set_unseen(0)
        self._after_change(scroll_to_end=True)

    # ------------------------------------------------------------------ internals

    def _load(self, items: list[TranscriptItem]) -> None:
        self._items = items
        self._base = 0
        self._positions = {item.id: i for i, item in enumerate(items)}
        width = self._width
        if width:
            estimate = self._estimate
            self._index.reset([estimate(item, width) for item in items])
            self._exact = bytearray(len(items))
        else:
            self._index.reset(())
            self._exact = bytearray()

    def _replace(self, item: TranscriptItem) -> None:
        position = self._positions[item.id] - self._base
        self._items[position] = item
        if not self._width:
            return
        self._exact[position] = 0
        old = self._index[position]
        top_index, _ = self._index.find(round(self.scroll_y))
        new = self._make_exact(position)
        if new != old and position < top_index and not self._following:
            self._sync_virtual_size()
            self._set_scroll_y(round(self.scroll_y) + new - old)

    def _wrap_width(self) -> int:
        return max(_MIN_WIDTH, self.scrollable_content_region.width)

    def _view_height(self) -> int:
        return max(1, self.scrollable_content_region.height)

    def _estimate(self, item: TranscriptItem, width: int) -> int:
        # Character count, not cell width: this is only a placeholder height
        # until the message is wrapped exactly near the viewport.
        body = item.body
        body_width = max(1, width - _BODY_INDENT)
        body_rows = (len(body) // body_width + body.count("\n") + 1) if body else 0
        return 2 + body_rows + len(item.attachments)

    def _relayout(self, width: int) -> None:
        """New wrap width: estimate all heights again and keep the top message in view."""
        anchor_id: str | None = None
        anchor_fraction = 0.0
        if self._width and self._items and not self._following:
            top_index, top_row = self._index.find(round(self.scroll_y))
            anchor_id = self._items[top_index].id
            anchor_fraction = top_row / max(1, self._index[top_index])
        self._width = width
        estimate = self._estimate
        self._index.reset([estimate(item, width) for item in self._items])
        self._exact = bytearray(len(self._items))
        self._strip_cache.clear()
        if anchor_id is not None:
            anchor = self._positions[anchor_id] - self._base
            height = self._make_exact(anchor)
            row = min(height - 1, int(anchor_fraction * height))
            self._sync_virtual_size()
            self._set_scroll_y(self._index.prefix(anchor) + row)

    def _make_exact(self, index: int) -> int:
        if self._exact[index]:
            return self._index[index]
        strips = self._strips_for(self._items[index])
        height = len(strips)
        self._index.set(index, height)
        self._exact[index] = 1
        return height

    def _sync_virtual_size(self) -> None:
        size = Size(self._width, self._index.total)
        if self.virtual_size != size:
            self.virtual_size = size

    def _set_scroll_y(self, y: float) -> None:
        """Move the viewport without animation (keeps scroll_target_y in step)."""
        was_settling = self._settling
        self._settling = True
        try:
            self.scroll_target_y = y
            self.scroll_y = y
        finally:
            self._settling = was_settling

    def _settle(self) -> None:
        """Wrap exactly what is (nearly) on screen; see the module docstring."""
        if self._settling or not self.is_mounted:
            return
        if not self.size.width or not self.size.height:
            return  # hidden (e.g. a pane off screen): lay out when shown
        width = self._wrap_width()
        if width != self._width:
            self._relayout(width)
        if not self._items:
            self._sync_virtual_size()
            return
        view = self._view_height()
        n = len(self._items)
        make_exact = self._make_exact
        self._settling = True
        try:
            if self._following:
                covered = 0
                i = n - 1
                while i >= 0 and covered < view * 2:
                    covered += make_exact(i)
                    i -= 1
                self._sync_virtual_size()
                end = max(0, self._index.total - view)
                self.scroll_target_y = end
                self.scroll_y = end
                return
            y = round(self.scroll_y)
            top, row = self._index.find(y)
            covered = make_exact(top) - row
            i = top + 1
            while i < n and covered < view * 2:
                covered += make_exact(i)
                i += 1
            # A page above the top row: corrections there shift the viewport.
            delta = 0
            covered = 0
            i = top - 1
            while i >= 0 and covered < view:
                old = self._index[i]
                new = make_exact(i)
                delta += new - old
                covered += new
                i -= 1
            self._sync_virtual_size()
            target = min(y + delta, max(0, self._index.total - view))
            if target != y:
                self.scroll_target_y = target
                self.scroll_y = target
        finally:
            self._settling = False

    def _after_change(self, *, scroll_to_end: bool) -> None:
        if not self.is_mounted:
            return
        if scroll_to_end:
            self._following = True
        self._settle()
        self.refresh()
        self._check_edges()

    def _set_unseen(self, count: int, *, force: bool = False) -> None:
        if count != self._unseen or force:
            self._unseen = count
            if self.is_mounted:
                self.post_message(self.UnseenChanged(self, count))
                self.refresh()

    def _at_bottom(self) -> bool:
        return round(self.scroll_y) >= self.max_scroll_y

    def _check_edges(self) -> None:
        """Update stick-to-bottom state and ask for older history at the top."""
        if not self.is_mounted or not self._width:
            # Not sized yet: max_scroll_y is still 0, so the view would take itself
            # for "at the bottom" (and follow again after a Home) and "at the top".
            return
        if self._at_bottom():
            self._following = True
            if self._unseen:
                self._set_unseen(0)
        at_top = round(self.scroll_y) <= 0
        if not at_top:
            self._older_requested = False
        if self._has_older and not self._older_requested and at_top and self._width:
            self._older_requested = True
            oldest = self._items[0].id if self._items else None
            self.post_message(self.OlderRequested(self, oldest))

    # ------------------------------------------------------------------ events

    def on_mount(self) -> None:
        self.call_after_refresh(self._after_first_refresh)

    def _after_first_refresh(self) -> None:
        # Decided now, not at mount: a key (Home) pressed before the first refresh
        # has already ended following, and must not be undone by a scroll to the end.
        self._after_change(scroll_to_end=self._following)

    def on_resize(self, event: events.Resize) -> None:
        self._settle()
        self.refresh()
        self._check_edges()  # the first size: a Home pressed before it is honoured now

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._settling:
            return
        if round(new_value) < round(old_value):
            # The user moved up: stop following until they come back down.
            self._following = False
        self._settle()
        self._check_edges()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style_generation += 1
        self._styles.clear()
        self._strip_cache.clear()

    def on_click(self, event: events.Click) -> None:
        if self._unseen and event.y == self._view_height() - 1:
            self.scroll_to_latest()

    def action_scroll_end(self) -> None:
        self.scroll_to_latest()

    def action_scroll_home(self) -> None:
        self._following = False
        self._set_scroll_y(0)
        self._settle()
        self._check_edges()

    # ------------------------------------------------------------------ rendering

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(name, partial=True)
            self._styles[name] = style
        return style

    def _base_style(self) -> Style:
        # ``rich_style`` walks the DOM on every call; cache it per style generation.
        style = self._styles.get("")
        if style is None:
            style = self.rich_style
            self._styles[""] = style
        return style

    def _strips_for(self, item: TranscriptItem) -> list[Strip]:
        # Delivery is in the key too, so a state change repaints even if the
        # caller forgot to bump the revision.
        key = (item.id, item.revision, item.delivery, self._width, self._style_generation)
        strips = self._strip_cache.get(key)
        if strips is None:
            strips = self._render_message(item, self._width)
            self._strip_cache[key] = strips
        return strips

    def _time_label(self, created_at: datetime) -> str:
        if created_at.tzinfo is not None:
            created_at = created_at.astimezone(self._tz)
        return created_at.strftime("%H:%M")

    def _render_message(self, item: TranscriptItem, width: int) -> list[Strip]:
        """Wrap one message into full-width rows for ``width`` cells."""
        self.messages_wrapped += 1
        console = self.app.console
        base = self._base_style()
        style = self._style
        block_style = base + style("transcript--internal") if item.internal else base

        header = Text(no_wrap=True, overflow="ellipsis", end="")
        author_style = {
            "customer": "transcript--author-customer",
            "agent": "transcript--author-agent",
            "bot": "transcript--author-bot",
            "system": "transcript--author-system",
        }.get(item.author_kind, "transcript--author-customer")
        header.append(_one_line(item.author) or "?", style(author_style))
        header.append("  ")
        header.append(self._time_label(item.created_at), style("transcript--time"))
        if item.internal:
            header.append("  ")
            header.append(
                widget_text("widgets.transcript.internal_note"),
                style("transcript--internal-label"),
            )
        if item.delivery is not None:
            glyph, state_style = {
                "pending": ("⏳", "transcript--pending"),
                "sent": ("✓", "transcript--sent"),
                "failed": ("✗", "transcript--failed"),
            }[item.delivery]
            header.append("  ")
            header.append(glyph, style(state_style))
            if item.delivery == "failed":
                header.append(" ")
                header.append(widget_text("widgets.transcript.not_sent"), style(state_style))
        header.truncate(width, overflow="ellipsis")

        rows: list[Text] = [header]
        body_width = max(1, width - _BODY_INDENT)
        indent = " " * _BODY_INDENT
        if item.body:
            body_text = neutralize_controls(item.body)
            dim = item.author_kind in ("system", "bot")
            body = Text(body_text, style=style("transcript--dim") if dim else "", end="")
            if item.trigger_spans:
                trigger_style = style("transcript--trigger")
                length = len(body_text)
                for start, end, _category in item.trigger_spans:
                    start = max(0, min(start, length))
                    end = max(start, min(end, length))
                    if end > start:
                        body.stylize(trigger_style, start, end)
            for line in body.wrap(console, body_width, justify="left", overflow="fold"):
                line.rstrip()
                rows.append(Text(indent, end="") + line)
        attachment_style = style("transcript--attachment")
        for attachment in item.attachments:
            row = Text(indent, end="")
            row.append("📎 " + _one_line(attachment.filename), attachment_style)
            size = _format_size(attachment.size)
            if size:
                row.append(f"  {size}", style("transcript--time"))
            row.truncate(width, overflow="ellipsis")
            rows.append(row)
        rows.append(Text("", end=""))

        strips: list[Strip] = []
        for row in rows:
            padding = width - row.cell_len
            if padding > 0:
                row.append(" " * padding)
            row.stylize_before(block_style)
            # One Strip per row (each Strip carries several caches), with
            # equal-style neighbours merged: selection offsets are applied per
            # segment, and fewer segments keep the output compact.
            strips.append(Strip(list(Segment.simplify(row.render(console))), width))
        return strips

    def _indicator_strip(self, width: int) -> Strip:
        label = widget_text("widgets.transcript.new_messages", count=self._unseen)
        text = Text(f"↓ {label}", end="", no_wrap=True, overflow="ellipsis")
        text.truncate(width, overflow="ellipsis")
        segments = list(text.render(self.app.console))
        style = self._base_style() + self._style("transcript--indicator")
        return Strip(segments).crop_extend(0, width, None).apply_style(style)

    def render_lines(self, crop: Region) -> list[Strip]:
        # Safety net: a frame may be requested before any scroll/resize event
        # settled the viewport (e.g. the first paint).
        self._settle()
        return super().render_lines(crop)

    # ------------------------------------------------------------------ selection

    _MAX_SELECTION_ROWS = 20_000

    def get_selection(self, selection: Selection) -> tuple[str, str] | None:
        """Text under a mouse selection (rows are virtual rows; trailing padding dropped)."""
        if not self._items or not self._width:
            return None
        total = self._index.total
        start_y = selection.start.y if selection.start is not None else 0
        end_y = selection.end.y if selection.end is not None else total - 1
        start_y = max(0, start_y)
        end_y = min(total - 1, end_y, start_y + self._MAX_SELECTION_ROWS)
        rows: list[str] = []
        for y in range(start_y, end_y + 1):
            index, row = self._index.find(y)
            strips = self._strips_for(self._items[index])
            rows.append(strips[row].text if row < len(strips) else "")
        shifted = Selection(
            None if selection.start is None else Offset(selection.start.x, 0),
            None if selection.end is None else Offset(selection.end.x, end_y - start_y),
        )
        text = shifted.extract("\n".join(rows))
        return "\n".join(line.rstrip() for line in text.split("\n")), "\n"

    def selection_updated(self, selection: Selection | None) -> None:
        self.refresh()

    def _highlight_selection(self, strip: Strip, line: int) -> Strip:
        selection = self.text_selection
        if selection is None:
            return strip
        span = selection.get_span(line)
        if span is None:
            return strip
        start, end = span
        text = strip.text
        if end == -1:
            end = len(text.rstrip()) or len(text)
        if end <= start:
            return strip
        cell_start = cell_len(text[:start])
        cell_end = cell_len(text[:end])
        style = self.screen.get_component_rich_style("screen--selection")
        before, middle, after = strip.divide([cell_start, cell_end, strip.cell_length])
        # post_style: the selection colour wins over the row's own background.
        selected = Strip(Segment.apply_style(list(middle), post_style=style), middle.cell_length)
        return Strip.join([before, selected, after])

    def render_line(self, y: int) -> Strip:
        self.render_line_calls += 1
        width = self.scrollable_content_region.width
        base = self._base_style()
        if self._unseen and not self._following and y == self._view_height() - 1:
            return self._indicator_strip(width)
        line = round(self.scroll_y) + y
        if not self._items or not self._width or line >= self._index.total:
            return Strip.blank(width, base)
        index, row = self._index.find(line)
        strips = self._strips_for(self._items[index])
        if row >= len(strips):
            # Height not settled yet (should not happen after _settle).
            return Strip.blank(width, base)
        strip = strips[row]
        if strip.cell_length != width:
            strip = strip.crop_extend(0, width, base)
        return self._highlight_selection(strip, line).apply_offsets(0, line)
