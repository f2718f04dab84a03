"""Canned-reply palette: a command-palette provider with fuzzy search and a preview.

Two ways in:

* :func:`open_canned_palette` pushes an ad-hoc ``CommandPalette`` holding only
  canned replies (like posting's request search), optionally pre-filled with
  the query typed after ``/`` or ``#`` in the composer.  The chosen
  ``CannedReply`` goes to the ``on_select`` callback; the screen fills its
  placeholders (``console.core.placeholders.fill``) before inserting it.
* Put :class:`CannedReplyProvider` in ``Screen.COMMANDS``/``App.COMMANDS``: it
  reads ``canned_replies`` from the screen (or app) and posts
  :class:`CannedReplyChosen` to that screen.

Safety: Textual's ``Matcher.highlight`` parses the candidate as markup and the
palette turns plain-string prompts and ``help`` into markup too, so a reply
titled ``[@click=app.quit]`` would become an action and ``[/]`` would crash.
Every label and preview here is a ``Content`` built from plain strings, with
match offsets stylized by hand.

Matching: Textual's ``FuzzySearch`` enumerates every combination of letter
positions, which is exponential on long candidates (a 2,000-character body
with a five-letter query never returns).  :func:`fuzzy_match` is linear: a
substring match if there is one, otherwise a greedy in-order subsequence that
prefers word starts.  It folds one code point at a time, so offsets stay
valid: lower case, katakana to hiragana, full-width ASCII to ASCII.  Hangul
syllables, kana and kanji match as they are, and a query made only of Hangul
initial consonants matches syllables by their initials (ㄱㅅ finds 감사).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from functools import partial
from itertools import pairwise
from typing import TYPE_CHECKING, Any, cast

from textual.command import CommandInput, CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.message import Message
from textual.style import Style

from console.protocol.models import CannedReply
from console.ui.safe import neutralize_controls, widget_text

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

__all__ = [
    "CATEGORY_ORDER",
    "CannedPalette",
    "CannedReplyChosen",
    "CannedReplyProvider",
    "fuzzy_match",
    "hit_label",
    "open_canned_palette",
    "preview_content",
]

CATEGORY_ORDER = ("greeting", "general", "expectation", "farewell")
_MAX_QUERY = 64
_PREVIEW_CHARS = 160
_WORD_SEPARATORS = frozenset(" \t\n-_/.,:;!?()[]{}'\"、。，．・「」『』（）！？")

OnSelect = Callable[[CannedReply], None]


class CannedReplyChosen(Message):
    """Posted to the screen when a reply is picked from the global palette."""

    def __init__(self, reply: CannedReply) -> None:
        super().__init__()
        self.reply = reply


# Hangul compatibility jamo for the 19 initial consonants, in syllable order.
_CHOSEONG = "ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ"
_CHOSEONG_SET = frozenset(_CHOSEONG)


def _fold_char(ch: str) -> str:
    """One code point folded for matching: lower case, katakana→hiragana, full-width→ASCII."""
    cp = ord(ch)
    if 0x30A1 <= cp <= 0x30F6:  # katakana → hiragana (アリガトウ matches ありがとう)
        return chr(cp - 0x60)
    if 0xFF01 <= cp <= 0xFF5E:  # full-width ASCII → ASCII
        ch = chr(cp - 0xFEE0)
    low = ch.lower()
    return low if len(low) == 1 else ch


def _lower_chars(text: str) -> str:
    """``text`` folded one code point at a time (same length as ``text``)."""
    return "".join(_fold_char(ch) for ch in text)


def _initials(text: str) -> str:
    """Each Hangul syllable replaced by its initial consonant (same length as ``text``)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if 0xAC00 <= cp <= 0xD7A3:
            out.append(_CHOSEONG[(cp - 0xAC00) // 588])
        else:
            out.append(ch)
    return "".join(out)


def fuzzy_match(query: str, candidate: str) -> tuple[float, list[int]]:
    """Score ``candidate`` against ``query`` in linear time.

    Returns ``(score, offsets)`` with ``score`` in ``(0, 1]`` and the matched
    character offsets of ``candidate``, or ``(0.0, [])`` for no match.
    """
    query = "".join(query.split())[:_MAX_QUERY]
    if not query or not candidate:
        return (0.0, [])
    q = _lower_chars(query)
    c = _lower_chars(candidate)
    if all(ch in _CHOSEONG_SET for ch in q):
        # Only initial consonants typed (ㄱㅅ for 감사): match syllables by their initials.
        c = _initials(c)
    n = len(c)
    found = c.find(q)
    if found != -1:
        offsets = list(range(found, found + len(q)))
        at_word_start = found == 0 or c[found - 1] in _WORD_SEPARATORS
        score = 0.7 + 0.2 * at_word_start + 0.1 * (len(q) / n)
        return (min(score, 1.0), offsets)
    # Greedy subsequence; jump to a later word start when the letter begins one.
    offsets = []
    position = 0
    for letter in q:
        index = c.find(letter, position)
        if index == -1:
            return (0.0, [])
        offsets.append(index)
        position = index + 1
    groups = 1 + sum(1 for a, b in pairwise(offsets) if b != a + 1)
    word_starts = sum(1 for i in offsets if i == 0 or c[i - 1] in _WORD_SEPARATORS)
    compactness = len(q) / (offsets[-1] - offsets[0] + 1)
    score = 0.2 + 0.3 * compactness + 0.2 * (word_starts / len(q)) - 0.02 * (groups - 1)
    return (max(0.01, min(score, 0.69)), offsets)


def _highlight(content: Content, offsets: Iterable[int], style: Style) -> Content:
    for offset in offsets:
        content = content.stylize(style, offset, offset + 1)
    return content


def _category_label(category: str) -> str:
    key = f"widgets.canned.category.{category}"
    label = widget_text(key)
    return neutralize_controls(category if label == key else label)


def _single_line(text: str) -> str:
    return " ".join(neutralize_controls(text).split())


def hit_label(
    reply: CannedReply,
    title_offsets: Iterable[int] = (),
    shortcut_offsets: Iterable[int] = (),
    match_style: Style | None = None,
) -> Content:
    """``[category] title  /shortcut`` built from plain strings, matches stylized."""
    style = match_style or Style(reverse=True)
    category = Content.styled(f"[{_category_label(reply.category)}]", Style(dim=True))
    title = _highlight(Content(_single_line(reply.title)), title_offsets, style)
    parts = [category, Content(" "), title]
    if reply.shortcut:
        shortcut = _highlight(
            Content(_single_line(reply.shortcut)), shortcut_offsets, style
        ).stylize_before(Style(italic=True))
        parts += [Content("  /"), shortcut]
    return Content("").join(parts)


def preview_content(
    reply: CannedReply, body_offsets: Sequence[int] = (), match_style: Style | None = None
) -> Content:
    """One-line preview of the body (around the match, if any) as ``Content``."""
    body = neutralize_controls(reply.body).replace("\n", " ")
    if not body:
        return Content(widget_text("widgets.canned.no_body"))
    start = 0
    if body_offsets and body_offsets[0] > _PREVIEW_CHARS // 2:
        start = body_offsets[0] - _PREVIEW_CHARS // 4
    window = body[start : start + _PREVIEW_CHARS]
    content = Content(
        ("…" if start else "") + window + ("…" if start + _PREVIEW_CHARS < len(body) else "")
    )
    shift = 1 if start else 0
    style = match_style or Style(reverse=True)
    visible = [o - start + shift for o in body_offsets if start <= o < start + _PREVIEW_CHARS]
    return _highlight(content, visible, style)


def _category_rank(reply: CannedReply) -> int:
    try:
        return CATEGORY_ORDER.index(reply.category)
    except ValueError:
        return len(CATEGORY_ORDER)


class CannedReplyProvider(Provider):
    """Fuzzy search over canned replies (title, shortcut, body).

    Used as a class in ``COMMANDS`` (data from ``screen.canned_replies`` or
    ``app.canned_replies``, result posted as :class:`CannedReplyChosen`), or as
    an instance from :meth:`for_replies` for an ad-hoc palette.
    """

    def __init__(
        self,
        screen: Screen[Any],
        match_style: Style | None = None,
        *,
        replies: Sequence[CannedReply] | None = None,
        on_select: OnSelect | None = None,
    ) -> None:
        super().__init__(screen, match_style)
        self._replies = replies
        self._on_select = on_select

    @classmethod
    def bound(
        cls, replies: Sequence[CannedReply], on_select: OnSelect
    ) -> type[CannedReplyProvider]:
        """A provider class fixed to ``replies`` and ``on_select`` (CommandPalette wants classes)."""
        fixed = list(replies)

        class BoundCannedReplyProvider(cls):  # type: ignore[valid-type,misc]
            def __init__(self, screen: Screen[Any], match_style: Style | None = None) -> None:
                super().__init__(screen, match_style, replies=fixed, on_select=on_select)

        return BoundCannedReplyProvider

    @property
    def _style(self) -> Style:
        return self.match_style or Style(reverse=True)

    def replies(self) -> list[CannedReply]:
        if self._replies is not None:
            return list(self._replies)
        for owner in (self.screen, self.app):
            source = getattr(owner, "canned_replies", None)
            if source is None:
                continue
            if callable(source):
                source = source()
            return list(cast(Iterable[CannedReply], source))
        return []

    def _choose(self, reply: CannedReply) -> None:
        if self._on_select is not None:
            self._on_select(reply)
        else:
            self.screen.post_message(CannedReplyChosen(reply))

    def score(self, query: str, reply: CannedReply) -> tuple[float, Content, Content]:
        """Best score over title, shortcut and body, with the label and preview to show."""
        style = self._style
        title_score, title_offsets = fuzzy_match(query, reply.title)
        shortcut_score, shortcut_offsets = fuzzy_match(query, reply.shortcut)
        if shortcut_score and "".join(query.split()).lower() == reply.shortcut.lower():
            shortcut_score = 1.0
        body_score, body_offsets = fuzzy_match(query, reply.body)
        if body_offsets and len(body_offsets) > 1 and body_score < 0.7:
            # Scattered letters across a long body are noise, not a match.
            body_score, body_offsets = 0.0, []
        body_score *= 0.8
        best = max(title_score, shortcut_score, body_score)
        label = hit_label(
            reply,
            title_offsets if title_score else (),
            shortcut_offsets if shortcut_score else (),
            style,
        )
        preview = preview_content(reply, body_offsets if body_score else (), style)
        return (best, label, preview)

    async def discover(self) -> Hits:
        for reply in sorted(self.replies(), key=lambda r: (_category_rank(r), r.title.lower())):
            label = hit_label(reply)
            yield DiscoveryHit(
                label,
                partial(self._choose, reply),
                text=_single_line(reply.title),
                # help is typed str but rendered through Content.from_markup,
                # which returns a Content unchanged: no markup is parsed.
                help=cast(str, preview_content(reply)),
            )

    async def search(self, query: str) -> Hits:
        for reply in self.replies():
            score, label, preview = self.score(query, reply)
            if score > 0:
                yield Hit(
                    score,
                    label,
                    partial(self._choose, reply),
                    text=_single_line(reply.title),
                    help=cast(str, preview),
                )


class CannedPalette(CommandPalette):
    """The ad-hoc canned-reply palette: searches its query from the first frame.

    Two races made ``#look`` + Enter pick the first entry (usually Greeting):
    the query was put in the input after the palette had listed every reply,
    and Enter selects whatever is highlighted while the search for the new
    query still runs.  Here the input holds the query before the first search,
    and Enter waits until the list shows the complete results for what is in
    the input now.
    """

    def __init__(
        self,
        providers: Sequence[type[Provider]],
        *,
        query: str | Callable[[], str] = "",
        placeholder: str,
        id: str | None = None,
    ) -> None:
        super().__init__(providers=list(providers), placeholder=placeholder, id=id)
        self._query_source = query
        self._finished_for: str | None = None
        """The query whose search ran to the end (its results are listed)."""
        self._select_pending = False

    def _current_query(self) -> str:
        try:
            return self.query_one(CommandInput).value.strip()
        except Exception:
            return ""

    def select_when_ready(self) -> None:
        """Choose the best hit for the current query as soon as its results are listed.

        For an Enter that reached the composer while this palette was opening
        (``#look`` + Enter typed faster than a frame).
        """
        self._select_pending = True
        if self.is_mounted and self._finished_for == self._current_query():
            self._select_pending = False
            self.call_after_refresh(self._select_or_command)

    def _on_mount(self, _: object) -> None:
        # Runs before CommandPalette._on_mount: the input holds the query
        # (read now, so keys typed while the palette opened count) and the
        # search for it replaces the initial empty one.
        source = self._query_source
        query = (source() if callable(source) else source)[:_MAX_QUERY]
        if query:
            command_input = self.query_one(CommandInput)
            command_input.value = query
            command_input.cursor_position = len(query)

    async def _search_for(self, search_value: str) -> AsyncGenerator[DiscoveryHit | Hit, bool]:
        inner = super()._search_for(search_value)
        try:
            hit = await inner.__anext__()
            while True:
                aborted = yield hit
                hit = await inner.asend(aborted)
        except StopAsyncIteration:
            pass
        self._finished_for = search_value

    def _action_command_list(self, action: str) -> None:
        if action == "select" and self._finished_for != self._current_query():
            # Results on screen are for an older query: select once they are current.
            self._select_pending = True
            return
        super()._action_command_list(action)

    def _refresh_command_list(self, command_list: Any, commands: Any, clear_current: bool) -> None:
        super()._refresh_command_list(command_list, commands, clear_current)
        if self._select_pending and self._finished_for == self._current_query():
            self._select_pending = False
            self.call_after_refresh(self._select_or_command)


def open_canned_palette(
    app: App[Any],
    replies: Sequence[CannedReply],
    on_select: OnSelect,
    *,
    query: str | Callable[[], str] = "",
    on_close: Callable[[], None] | None = None,
) -> CommandPalette:
    """Push an ad-hoc palette of canned replies; ``on_select`` gets the chosen one.

    ``query`` may be a callable, read when the palette mounts (the composer's
    ``#word`` including keys typed while it opened).  ``on_close`` runs when
    the palette closes, chosen or not, before ``on_select``.
    """
    for screen in app.screen_stack:
        if isinstance(screen, CannedPalette):
            # Already open (or opening): a second request is the Enter of a
            # fast ``#word`` + Enter, so it picks the best hit instead.
            screen.select_when_ready()
            return screen
    palette = CannedPalette(
        [CannedReplyProvider.bound(replies, on_select)],
        query=query,
        placeholder=widget_text("widgets.canned.placeholder"),
        id="canned-palette",
    )

    def closed(_result: object) -> None:
        if on_close is not None:
            on_close()

    app.push_screen(palette, callback=closed)
    return palette
