"""Snapshots of the issue-15 views (drill-down, history) at 80×24 and 200×50, fixed data."""

from __future__ import annotations

from typing import Any

import pytest

from tests.supervisor.snapshot_data import SnapshotApp

SIZES = [(80, 24), (200, 50)]


async def _settle(pilot: Any) -> None:
    await pilot.pause()
    pilot.app.screen.refresh_now(force=True)
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_drill_down(snap_compare: Any, size: tuple[int, int]) -> None:
    """The chooser: departments and agents with their open chats, Sales' conversations."""

    async def run_before(pilot: Any) -> None:
        await _settle(pilot)
        await pilot.press("o")
        await pilot.pause(0.2)
        await pilot.press("enter")  # Sales' conversations get the focus
        await pilot.pause(0.2)

    assert snap_compare(SnapshotApp("dark"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_history(snap_compare: Any, size: tuple[int, int]) -> None:
    """Departments and agents, today and the last 7 days (fixed figures)."""

    async def run_before(pilot: Any) -> None:
        from console.ui.widgets.supervisor.history import HistoryScreen

        await _settle(pilot)
        await pilot.press("h")
        for _ in range(50):
            screen = pilot.app.screen
            if isinstance(screen, HistoryScreen) and screen.loaded:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.2)

    assert snap_compare(SnapshotApp("dark"), terminal_size=size, run_before=run_before)
