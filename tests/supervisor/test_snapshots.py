"""Snapshots of the supervisor dashboard (our dark/light themes, 80×24, 120×40 and 200×50, en and
ko) with fixed data.

Data and clock are fixed (``snapshot_data``); the tiny fake Backend there is
used for these snapshots only.  Behaviour is tested against the real server
in ``test_supervisor_live.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.supervisor.snapshot_data import SnapshotApp

SIZES = [(80, 24), (120, 40), (200, 50)]
THEMES = ["dark", "light"]
"""Our shipped themes (``themes/*.toml``), registered the way the app does."""


async def _settle(pilot: Any) -> None:
    await pilot.pause()
    screen = pilot.app.screen
    screen.refresh_now(force=True)
    await pilot.pause()


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard(snap_compare: Any, theme: str, size: tuple[int, int]) -> None:
    """Departments, agents (one over capacity), traffic and alerts, with breaches highlighted."""
    assert snap_compare(SnapshotApp(theme), terminal_size=size, run_before=_settle)


@pytest.mark.parametrize("theme", THEMES)
def test_conversation_table(snap_compare: Any, theme: str) -> None:
    """The conversation table sorted by wait; a hostile name shows its brackets literally."""

    async def run_before(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press("c")
        await _settle(pilot)

    assert snap_compare(SnapshotApp(theme), terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def language() -> Any:
    """Set the UI language for one test and restore English afterwards."""
    from console.core.i18n import set_language

    yield set_language  # the autouse english_ui fixture restores the language


@pytest.mark.parametrize("lang", ["ko", "ja"])
def test_dashboard_translated(snap_compare: Any, language: Any, lang: str) -> None:
    """Korean and Japanese headers widen their columns instead of being cut (80×24, dark)."""
    language(lang)
    assert snap_compare(SnapshotApp("dark"), terminal_size=(80, 24), run_before=_settle)


@pytest.mark.parametrize("size", [(120, 40), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_dashboard_korean(snap_compare: Any, language: Any, size: tuple[int, int]) -> None:
    """Korean at the wider sizes: grouped alerts with localized durations (80×24: above)."""
    language("ko")
    assert snap_compare(SnapshotApp("dark"), terminal_size=size, run_before=_settle)


def test_help_wraps_at_80x24(snap_compare: Any) -> None:
    """The key list wraps its descriptions at 80×24 (no text cut off at the right edge)."""

    async def run_before(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(SnapshotApp("dark"), terminal_size=(80, 24), run_before=run_before)


def test_filter_without_match(snap_compare: Any) -> None:
    """A filter that hides every row says so instead of showing an empty table."""

    async def run_before(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press("slash", *"zzz")
        await _settle(pilot)

    assert snap_compare(SnapshotApp("dark"), terminal_size=(80, 24), run_before=run_before)


def test_watch_panes(snap_compare: Any) -> None:
    """Four watched chats at 80×24: readable titles, waiting time before the e-mail."""

    async def run_before(pilot: Any) -> None:
        await _settle(pilot)
        screen = pilot.app.screen
        for cid in ("c5", "c1", "c4", "c3"):
            await screen.watch_conversation(cid)
        await pilot.press("v")
        await pilot.pause(0.2)
        await _settle(pilot)

    assert snap_compare(SnapshotApp("dark"), terminal_size=(80, 24), run_before=run_before)
