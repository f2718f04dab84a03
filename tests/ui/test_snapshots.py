"""Snapshots of the agent workspace: dark and light, 80×24 and 200×50, Korean/Japanese.

Data and clock are fixed (``tests/ui/fake_backend.py``, a tiny in-memory
Backend used for these snapshots only, because the real server stamps real
times); behaviour is tested against the real server in ``test_workspace_live``.
Times are shown in UTC so the snapshots do not depend on the machine's zone.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from console.ui.app import AgentConsoleApp
from tests.ui.fake_backend import demo_backend, fixed_clock

SIZES = [(80, 24), (200, 50)]
THEMES = ["dark", "light"]


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def make(theme: str, data: str = "en", lang: str = "en") -> AgentConsoleApp:
    return AgentConsoleApp(demo_backend(data), theme=theme, lang=lang, clock=fixed_clock)


async def settle(pilot: Any) -> None:
    app = pilot.app
    for _ in range(50):
        screen = app.agent_screen
        if (
            screen is not None
            and screen.ready
            and len(screen.grid.panes) == 3
            and screen.sidebar.customer_id is not None
            and app.controller.store.customer(screen.sidebar.customer_id) is not None
        ):
            break
        await pilot.pause(0.05)
    await pilot.pause(0.3)
    # A blinking text cursor makes screenshots flaky: focus the active transcript
    # instead (the pane keeps its focus-within border).
    pane = app.agent_screen.active_pane
    if pane is not None:
        pane.transcript.focus()
    await pilot.pause(0.1)


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen(snap_compare: Any, theme: str, size: tuple[int, int]) -> None:
    """Three chats (one waiting past the SLA), customer sidebar, queue; literal brackets in a name."""
    assert snap_compare(make(theme), terminal_size=size, run_before=settle)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_korean_and_japanese_chats_keep_borders_aligned(
    snap_compare: Any, size: tuple[int, int]
) -> None:
    """Hangul, kana/kanji and emoji in names, pages and messages; Korean UI strings."""
    assert snap_compare(make("dark", "cjk", "ko"), terminal_size=size, run_before=settle)


def test_help_screen_lists_bindings(snap_compare: Any) -> None:
    """F1 lists every binding id with its keys."""

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause(0.2)

    assert snap_compare(make("dark"), terminal_size=(120, 40), run_before=run_before)


def test_jump_overlay(snap_compare: Any) -> None:
    """ctrl+o labels each pane and panel with its key."""

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("ctrl+o")
        await pilot.pause(0.2)

    assert snap_compare(make("dark"), terminal_size=(200, 50), run_before=run_before)
