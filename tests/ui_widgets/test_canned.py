"""Canned-reply palette: fuzzy search (en/ko/ja), categories, preview, safe labels."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.command import CommandInput, CommandList, CommandPalette, Matcher
from textual.screen import Screen
from textual.widgets import Label

from console.protocol.models import CannedReply
from console.ui.widgets.canned import (
    CannedReplyChosen,
    CannedReplyProvider,
    fuzzy_match,
    hit_label,
    open_canned_palette,
    preview_content,
)
from tests.ui_widgets.hostile import FORBIDDEN_IN_OUTPUT

REPLIES = [
    CannedReply(
        id="1",
        title="Hello and welcome",
        shortcut="hi",
        body="Hi {customer.name}, how can I help?",
        category="greeting",
    ),
    CannedReply(
        id="2",
        title="감사 인사",
        shortcut="gamsa",
        body="문의해 주셔서 감사합니다, {customer.name}님.",
        category="farewell",
        lang="ko",
    ),
    CannedReply(
        id="3",
        title="ありがとうございます",
        shortcut="arigato",
        body="お問い合わせありがとうございました。",
        category="farewell",
        lang="ja",
    ),
    CannedReply(
        id="4",
        title="Checking with a colleague",
        shortcut="colleague",
        body="I'm checking with a colleague, one moment please.",
        category="general",
    ),
    CannedReply(
        id="5",
        title="Refund policy",
        shortcut="refund",
        body="Refunds take 5 business days to reach your card.",
        category="general",
    ),
]

HOSTILE = [
    CannedReply(
        id="h1",
        title="[@click=app.quit]",
        shortcut="[/]",
        body="[@click=app.quit] body",
        category="general",
    ),
    CannedReply(id="h2", title="[/]", body="[link=https://x]link[/link]", category="[b]cat[/b]"),
    CannedReply(
        id="h3",
        title="[link=x]y[/link]",
        body="\x1b]52;c;ZXZpbA==\x07 \u202eevil",
        category="greeting",
    ),
]


# ----------------------------------------------------------------- matching


def test_fuzzy_match_substring_beats_scattered_letters() -> None:
    """A contiguous match scores higher than a scattered one; offsets point at the letters."""
    contiguous, offsets = fuzzy_match("refund", "Refund policy")
    assert offsets == [0, 1, 2, 3, 4, 5]
    scattered, offsets = fuzzy_match("rfp", "Refund policy")
    assert offsets == [0, 2, 7]
    assert contiguous > scattered > 0
    assert fuzzy_match("xyz", "Refund policy") == (0.0, [])
    assert fuzzy_match("", "Refund policy") == (0.0, [])


@pytest.mark.parametrize(
    ("query", "candidate"),
    [
        ("감사", "감사 인사"),
        ("인사", "감사 인사"),
        ("감인", "감사 인사"),
        ("ありが", "ありがとうございます"),
        ("とう", "ありがとうございます"),
        ("問合", "お問い合わせ"),
    ],
)
def test_fuzzy_match_handles_hangul_and_kana(query: str, candidate: str) -> None:
    """Hangul syllables, kana and kanji match as themselves; offsets are code points."""
    score, offsets = fuzzy_match(query, candidate)
    assert score > 0
    assert "".join(candidate[i] for i in offsets) == query


@pytest.mark.parametrize(
    ("query", "candidate", "matched"),
    [
        ("ㄱㅅ", "감사 인사", "감사"),
        ("ㅇㅅ", "감사 인사", "인사"),
        ("アリガトウ", "ありがとうございます", "ありがとう"),
        ("ありがとう", "アリガトウ", "アリガトウ"),
        ("ｒｅｆｕｎｄ", "Refund policy", "Refund"),
    ],
)
def test_fuzzy_match_folds_initials_kana_and_full_width(
    query: str, candidate: str, matched: str
) -> None:
    """Initial consonants, katakana/hiragana and full-width letters find the same replies."""
    score, offsets = fuzzy_match(query, candidate)
    assert score > 0
    assert "".join(candidate[i] for i in offsets) == matched


def test_textual_matcher_also_accepts_hangul_and_kana() -> None:
    """Textual's own Matcher scores Hangul/Kana too (it is just exponential on long text)."""
    assert Matcher("감사").match("감사 인사") > 0
    assert Matcher("ありが").match("ありがとうございます") > 0


def test_fuzzy_match_is_linear_on_a_long_body() -> None:
    """A 10,000-character body and a long query finish (Textual's FuzzySearch would not)."""
    body = "a" * 10_000
    score, offsets = fuzzy_match("aaaaaaab", body)
    assert score == 0.0
    score, offsets = fuzzy_match("a a a a a", body)
    assert score > 0 and len(offsets) == 5


def test_labels_and_previews_are_literal_content() -> None:
    """Hostile titles/bodies stay literal in labels and previews; matches are stylized."""
    for reply in HOSTILE:
        label = hit_label(reply, [0])
        assert reply.title in label.plain
        assert not any(
            "@click" in str(span.style) or "link" in str(span.style) for span in label.spans
        )
        preview = preview_content(reply)
        for bad in FORBIDDEN_IN_OUTPUT:
            assert bad not in preview.plain
    assert "[greeting]" in hit_label(REPLIES[0]).plain


# ----------------------------------------------------------------- palette


class PaletteApp(App[None]):
    def __init__(self, replies: list[CannedReply]) -> None:
        super().__init__()
        self.replies = replies
        self.chosen: list[CannedReply] = []
        self.actions_run: list[str] = []

    def compose(self) -> ComposeResult:
        yield Label("host")

    def open(self, query: str = "") -> CommandPalette:
        return open_canned_palette(self, self.replies, self.chosen.append, query=query)

    async def run_action(self, action: object, default_namespace: object = None) -> bool:
        self.actions_run.append(str(action))
        return await super().run_action(action, default_namespace)  # type: ignore[arg-type]


def _prompts(app: App[None]) -> list[str]:
    command_list = app.screen.query_one(CommandList)
    return [
        str(command_list.get_option_at_index(i).prompt) for i in range(command_list.option_count)
    ]


async def _wait_for_hits(pilot, app: App[None]) -> list[str]:  # type: ignore[no-untyped-def]
    """Poll until the hit list is non-empty and stable (the search runs in a worker)."""
    previous: list[str] = []
    for _ in range(60):
        await pilot.pause(0.05)
        await app.workers.wait_for_complete()
        prompts = _prompts(app)
        if prompts and prompts == previous:
            return prompts
        previous = prompts
    return previous


async def test_palette_search_in_korean_and_select_returns_the_reply() -> None:
    """Typing a Korean query finds the reply; Enter hands it to the callback."""
    app = PaletteApp(REPLIES)
    async with app.run_test(size=(90, 30)) as pilot:
        app.open()
        await pilot.pause()
        command_input = app.screen.query_one(CommandInput)
        command_input.value = "감사"
        prompts = await _wait_for_hits(pilot, app)
        assert prompts and "감사 인사" in prompts[0]
        assert "[farewell]" in prompts[0]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert [reply.id for reply in app.chosen] == ["2"]


async def test_palette_prefilled_query_and_japanese_body_match() -> None:
    """A query from the composer pre-fills the palette; a body match shows in the preview."""
    app = PaletteApp(REPLIES)
    async with app.run_test(size=(90, 30)) as pilot:
        app.open(query="問い合わせ")
        prompts = await _wait_for_hits(pilot, app)
        assert app.screen.query_one(CommandInput).value == "問い合わせ"
        assert prompts
        assert any("お問い合わせ" in prompt for prompt in prompts)


async def test_palette_shortcut_match_ranks_first() -> None:
    """An exact shortcut puts its reply on top."""
    app = PaletteApp(REPLIES)
    async with app.run_test(size=(90, 30)) as pilot:
        app.open(query="colleague")
        prompts = await _wait_for_hits(pilot, app)
        assert "Checking with a colleague" in prompts[0]


async def test_discovery_lists_greetings_first_and_farewells_last() -> None:
    """With an empty query, replies are grouped by category: greeting … farewell."""
    app = PaletteApp(REPLIES)
    async with app.run_test(size=(90, 40)) as pilot:
        palette = app.open()
        await pilot.pause()
        palette.query_one(CommandInput).value = ""
        await pilot.press("down")  # opens the discovery list
        prompts = await _wait_for_hits(pilot, app)
        categories = [p.split("]")[0] for p in prompts]
        assert categories[0] == "[greeting"
        assert categories[-1] == "[farewell"


async def test_hostile_titles_render_literally_and_run_no_action() -> None:
    """'[@click=app.quit]', '[/]' and '[link=x]' titles are shown as typed and selectable."""
    app = PaletteApp(HOSTILE + REPLIES)
    async with app.run_test(size=(90, 40)) as pilot:
        app.open()
        await pilot.pause()
        app.screen.query_one(CommandInput).value = "click"
        prompts = await _wait_for_hits(pilot, app)
        assert any("[@click=app.quit]" in prompt for prompt in prompts)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.is_running
        assert [reply.id for reply in app.chosen] == ["h1"]
        app.open()
        await pilot.pause()
        app.screen.query_one(CommandInput).value = "link"
        prompts = await _wait_for_hits(pilot, app)
        joined = "\n".join(prompts)
        assert "[link=x]y[/link]" in joined
        for bad in FORBIDDEN_IN_OUTPUT:
            assert bad not in joined
        await pilot.click(CommandList, offset=(4, 0))
        await pilot.pause()
        assert app.is_running
        assert not [a for a in app.actions_run if "quit" in a]


class CannedScreen(Screen[None]):
    COMMANDS = {CannedReplyProvider}

    def __init__(self) -> None:
        super().__init__()
        self.canned_replies = REPLIES
        self.chosen: list[CannedReply] = []

    def compose(self) -> ComposeResult:
        yield Label("pane")

    def on_canned_reply_chosen(self, message: CannedReplyChosen) -> None:
        self.chosen.append(message.reply)


class GlobalPaletteApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(CannedScreen())


async def test_provider_in_the_global_command_palette() -> None:
    """As a COMMANDS provider it reads screen.canned_replies and posts CannedReplyChosen."""
    app = GlobalPaletteApp()
    async with app.run_test(size=(90, 30)) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CannedScreen)
        app.action_command_palette()
        await pilot.pause()
        app.screen.query_one(CommandInput).value = "refund"
        prompts = await _wait_for_hits(pilot, app)
        assert any("Refund policy" in p for p in prompts)
        index = next(i for i, p in enumerate(prompts) if "Refund policy" in p)
        await pilot.press(*(["down"] * (index + 1)), "enter")
        await pilot.pause()
        assert [reply.id for reply in screen.chosen] == ["5"]


async def test_every_hostile_string_as_title_shortcut_and_body() -> None:
    """Markup, escape sequences, bidi and zero-width text in any field: shown, never executed."""
    from console.core.sanitize import sanitize_inbound_text, sanitize_single_line
    from tests.ui_widgets.hostile import ALL

    replies = []
    for i, text in enumerate(ALL):
        replies.append(CannedReply(id=f"raw{i}", title=text, shortcut=text[:10], body=text))
        replies.append(
            CannedReply(
                id=f"san{i}",
                title=sanitize_single_line(text),
                shortcut=sanitize_single_line(text)[:10],
                body=sanitize_inbound_text(text),
            )
        )
    app = PaletteApp(replies)
    async with app.run_test(size=(100, 50)) as pilot:
        for query in ["", "click", "[", "x1b", "evil", "한국"]:
            app.open(query=query)
            await pilot.pause()
            if not query:
                await pilot.press("down")
            prompts = await _wait_for_hits(pilot, app)
            joined = "\n".join(prompts)
            for bad in FORBIDDEN_IN_OUTPUT:
                assert bad not in joined, (query, repr(bad))
            if query == "click":
                assert "[@click=app.quit]click me[/]" in joined
            for _ in range(3):
                if not CommandPalette.is_open(app):
                    break
                await pilot.press("escape")
                await pilot.pause()
            assert not CommandPalette.is_open(app)
        assert app.is_running
        assert not [a for a in app.actions_run if "quit" in a or "bell" in a]
