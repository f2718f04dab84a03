"""Composer: Enter sends, ctrl+j/alt+enter add lines, drafts, typing throttle, graphemes."""

from __future__ import annotations

import contextlib

from textual import events
from textual.app import App, ComposeResult
from textual.message import Message

from console.ui.widgets.composer import Composer
from tests.ui_widgets.hostile import ALL, FORBIDDEN_IN_OUTPUT, MARKUP


class ComposerApp(App[None]):
    def __init__(self, **composer_options: object) -> None:
        super().__init__()
        self.options = composer_options
        self.posted: list[Message] = []
        self.actions_run: list[str] = []

    def compose(self) -> ComposeResult:
        yield Composer(**self.options)  # type: ignore[arg-type]

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    def on_composer_submitted(self, message: Composer.Submitted) -> None:
        self.posted.append(message)

    def on_composer_typing(self, message: Composer.Typing) -> None:
        self.posted.append(message)

    def on_composer_canned_requested(self, message: Composer.CannedRequested) -> None:
        self.posted.append(message)

    def of(self, kind: type[Message]) -> list:
        return [m for m in self.posted if isinstance(m, kind)]

    async def run_action(self, action: object, default_namespace: object = None) -> bool:
        self.actions_run.append(str(action))
        return await super().run_action(action, default_namespace)  # type: ignore[arg-type]


async def test_enter_sends_and_clears() -> None:
    """Enter posts Submitted with the text and empties the composer."""
    app = ComposerApp(conversation_id="c1")
    async with app.run_test() as pilot:
        await pilot.press(*"hello")
        await pilot.press("enter")
        await pilot.pause()
        submitted = app.of(Composer.Submitted)
        assert [m.text for m in submitted] == ["hello"]
        assert submitted[0].conversation_id == "c1"
        assert app.composer.text == ""
        assert "c1" not in app.composer.drafts


async def test_enter_on_blank_text_sends_nothing() -> None:
    """Whitespace only is not a message."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press("space", "enter")
        await pilot.pause()
        assert not app.of(Composer.Submitted)


async def test_ctrl_j_and_alt_enter_insert_newlines() -> None:
    """Both documented newline keys add a line break and send nothing."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press("a", "ctrl+j", "b", "alt+enter", "c")
        await pilot.pause()
        assert app.composer.text == "a\nb\nc"
        assert not app.of(Composer.Submitted)
        await pilot.press("enter")
        await pilot.pause()
        assert [m.text for m in app.of(Composer.Submitted)] == ["a\nb\nc"]


async def test_bindings_have_ids() -> None:
    """Every binding the composer adds has a stable id for keymaps."""
    ids = {binding.id for binding in Composer.BINDINGS if hasattr(binding, "id")}
    assert {"send-reply", "insert-newline"} <= ids
    assert all(getattr(binding, "id", None) for binding in Composer.BINDINGS)


async def test_read_only_composer_never_sends() -> None:
    """A supervisor's read-only composer ignores Enter."""
    app = ComposerApp(read_only=True, text="draft")
    async with app.run_test() as pilot:
        app.composer.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert not app.of(Composer.Submitted)


async def test_drafts_are_kept_per_conversation() -> None:
    """Switching conversations keeps each draft; a shared dict sees them."""
    drafts: dict[str, str] = {"b": "waiting draft"}
    app = ComposerApp(conversation_id="a", drafts=drafts)
    async with app.run_test() as pilot:
        await pilot.press(*"for a")
        app.composer.load_draft("b")
        await pilot.pause()
        assert app.composer.text == "waiting draft"
        assert drafts["a"] == "for a"
        await pilot.press("end", "!")
        app.composer.load_draft("a")
        await pilot.pause()
        assert app.composer.text == "for a"
        assert drafts["b"] == "waiting draft!"
        app.composer.load_draft("c")
        await pilot.pause()
        assert app.composer.text == ""


async def test_typing_is_throttled_and_stops_after_idle() -> None:
    """Many keys give one Typing(True); idle gives Typing(False); drafts are not typing."""
    app = ComposerApp(
        conversation_id="c1", typing_interval=60.0, typing_idle=0.3, drafts={"c2": "x"}
    )
    async with app.run_test() as pilot:
        await pilot.press(*"hello there")
        await pilot.pause()
        typing = app.of(Composer.Typing)
        assert [m.active for m in typing] == [True]
        await pilot.pause(0.6)
        typing = app.of(Composer.Typing)
        assert [m.active for m in typing] == [True, False]
        assert all(m.conversation_id == "c1" for m in typing)
        app.composer.load_draft("c2")
        app.composer.set_reply("canned text")
        await pilot.pause()
        assert len(app.of(Composer.Typing)) == 2


async def test_typing_repeats_after_the_interval_and_stops_on_send() -> None:
    """With a short interval, typing again later re-announces; sending stops it at once."""
    app = ComposerApp(typing_interval=0.1, typing_idle=30.0)
    async with app.run_test() as pilot:
        await pilot.press("a")
        await pilot.pause(0.2)
        await pilot.press("b")
        await pilot.press("enter")
        await pilot.pause()
        assert [m.active for m in app.of(Composer.Typing)] == [True, True, False]


async def test_backspace_removes_whole_grapheme_clusters() -> None:
    """Backspace deletes an emoji ZWJ family, a flag, a skin tone, jamo and dakuten whole."""
    cases = {
        "가👨‍👩‍👧": "가",
        "x🇰🇷": "x",
        "ok👍🏽": "ok",
        "か\u3099": "",  # kana + combining voiced mark
        "a\u1100\u1161\u11a8": "a",  # conjoining Hangul jamo
        "한국": "한",
        "日本": "日",
    }
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.composer
        for text, expected in cases.items():
            composer.set_reply(text)
            await pilot.press("backspace")
            await pilot.pause()
            assert composer.text == expected, text


async def test_cursor_and_delete_step_over_clusters() -> None:
    """Left arrow jumps a whole ZWJ sequence; Delete removes it whole."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        composer = app.composer
        composer.set_reply("a👩‍💻b")
        await pilot.press("left", "left")
        assert composer.cursor_location == (0, 1)
        await pilot.press("delete")
        await pilot.pause()
        assert composer.text == "ab"
        await pilot.press("right")
        assert composer.cursor_location == (0, 2)


async def test_slash_or_hash_in_empty_composer_requests_the_palette() -> None:
    """'/' first asks for the palette; Enter on '/word' asks with the query instead of sending."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        await pilot.press("slash")
        await pilot.pause()
        requests = app.of(Composer.CannedRequested)
        assert [(m.query, m.prefix) for m in requests] == [("", "/")]
        await pilot.press(*"greet", "enter")
        await pilot.pause()
        requests = app.of(Composer.CannedRequested)
        assert (requests[-1].query, requests[-1].prefix) == ("greet", "/")
        assert not app.of(Composer.Submitted)
        app.composer.set_reply("")
        await pilot.press("number_sign")
        await pilot.pause()
        assert app.of(Composer.CannedRequested)[-1].prefix == "#"
        # In the middle of a sentence the prefix is ordinary text.
        app.composer.set_reply("issue ")
        count = len(app.of(Composer.CannedRequested))
        await pilot.press("end", "number_sign", "1", "enter")
        await pilot.pause()
        assert len(app.of(Composer.CannedRequested)) == count
        assert app.of(Composer.Submitted)[-1].text == "issue #1"


async def test_select_range_points_at_a_problem() -> None:
    """select_range selects character offsets across lines (for unfilled placeholders)."""
    app = ComposerApp()
    async with app.run_test() as pilot:
        app.composer.set_reply("Hi {customer.name}\nthanks {agent.nmae}")
        start = app.composer.text.index("{agent")
        app.composer.select_range(start, start + len("{agent.nmae}"))
        await pilot.pause()
        assert app.composer.selected_text == "{agent.nmae}"


async def test_hostile_text_in_the_composer_is_literal() -> None:
    """Canned replies and pastes with markup/controls render literally and run nothing."""
    app = ComposerApp()
    async with app.run_test(size=(80, 30)) as pilot:
        composer = app.composer
        for text in ALL:
            composer.set_reply(text)
            await pilot.pause()
            rendered = "\n".join(composer.render_line(y).text for y in range(composer.size.height))
            for bad in FORBIDDEN_IN_OUTPUT:
                assert bad not in composer.text and bad not in rendered, repr((text, bad))
        composer.set_reply("")
        composer.post_message(events.Paste("\x1b]52;c;ZXZpbA==\x07[@click=app.quit]\r\nx"))
        await pilot.pause()
        assert composer.text == "␛]52;c;ZXZpbA==␇[@click=app.quit]\nx"
        composer.set_reply(MARKUP[0])
        await pilot.pause()
        assert "[@click=app.quit]" in composer.render_line(0).text
        await pilot.click(Composer, offset=(3, 0))
        await pilot.pause()
        assert app.is_running
        assert not [a for a in app.actions_run if "quit" in a]


async def test_insert_reply_replaces_a_trigger_or_inserts_at_the_cursor() -> None:
    """A chosen canned reply replaces '/greet' but is inserted into a sentence being written."""
    app = ComposerApp(typing_idle=30.0)
    async with app.run_test() as pilot:
        composer = app.composer
        await pilot.press("slash", *"greet")
        composer.insert_reply("Hello Mina!")
        await pilot.pause()
        assert composer.text == "Hello Mina!"
        composer.set_reply("Dear customer, ")
        await pilot.press("end")
        typing_before = len(app.of(Composer.Typing))
        composer.insert_reply("thanks for waiting.")
        await pilot.pause()
        assert composer.text == "Dear customer, thanks for waiting."
        assert len(app.of(Composer.Typing)) == typing_before


def test_terminal_bytes_for_the_newline_keys() -> None:
    """LF always arrives as ctrl+j; alt+enter only with the kitty protocol (ESC CR is 'enter')."""
    from textual._xterm_parser import XTermParser

    def keys(data: str) -> list[str]:
        parser = XTermParser()
        events = list(parser.feed(data))
        with contextlib.suppress(Exception):
            events += list(parser.feed(""))  # end of input flushes a pending ESC
        return [getattr(event, "key", "") for event in events]

    assert keys("\n") == ["ctrl+j"]
    assert keys("\x1b[13;3u") == ["alt+enter"]
    # Legacy terminals/tmux: documented limitation, alt+enter is plain enter.
    assert keys("\x1b\r") == ["enter"]


async def test_over_long_reply_is_refused_with_the_overflow_selected() -> None:
    """Near the limit a counter appears; past it Enter refuses and selects the extra text."""
    app = ComposerApp(max_length=20)
    async with app.run_test() as pilot:
        composer = app.composer
        await pilot.press(*"0123456789")
        assert not composer.border_subtitle
        await pilot.press(*"01234567")
        await pilot.pause()
        assert composer._border_subtitle is not None
        assert composer._border_subtitle.plain == "18/20"
        await pilot.press(*"89ABC")
        await pilot.press("enter")
        await pilot.pause()
        assert not app.of(Composer.Submitted)
        assert composer.selected_text == "ABC"
        assert composer._border_subtitle.plain == "23/20"
        await pilot.press("backspace")  # deletes the selection
        await pilot.press("enter")
        await pilot.pause()
        assert [m.text for m in app.of(Composer.Submitted)] == ["01234567890123456789"]
