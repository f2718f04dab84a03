"""CJK in toasts (issue 14 fix 9): every glyph survives, and toasts leave the composer free.

Textual cut a toast's line at the edges of the panes behind it and turned a
double-width glyph straddling such an edge into blanks ("小林 陽菜" showed as
"小   陽菜"; Textual issue #6357).  ``console.ui.wide_glyphs`` keeps a front-most
widget's strip whole.  The prefixes shift the text by one cell at a time, so
some glyph straddles a pane edge in at least one of them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.fake_backend import demo_backend, fixed_clock
from tests.ui.test_snapshots import settle, utc  # noqa: F401  (autouse fixture)

NAME = "小林 陽菜"
TEXT = "상담을 원합니다 — お問い合わせありがとうございます"


def make() -> Any:
    from console.ui.app import AgentConsoleApp

    return AgentConsoleApp(demo_backend("en"), theme="dark", lang="en", clock=fixed_clock)


def screen_lines(app: Any) -> list[str]:
    """The cells of a full repaint, line by line (what the terminal shows)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


@pytest.mark.parametrize("size", [(80, 24), (200, 50)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_toast_keeps_every_cjk_glyph_and_leaves_the_composer_free(
    size: tuple[int, int],
) -> None:
    app = make()
    async with app.run_test(size=size, notifications=True) as pilot:
        await settle(pilot)
        screen = app.agent_screen
        assert screen is not None
        for prefix in ("", "·", "··", "···"):
            app.clear_notifications()
            message = f"{prefix}{NAME}: {TEXT}"
            app.notify(message, title="New chat", markup=False, timeout=30)
            await pilot.pause(0.3)
            lines = screen_lines(app)
            shown = "".join(line.replace(" ", "") for line in lines)
            for glyph in (NAME + TEXT).replace(" ", ""):
                assert glyph in shown, (prefix, glyph)
            assert NAME.replace(" ", "") in shown
            toasts = list(app.screen.query("Toast"))
            assert toasts
            for pane in screen.grid.panes:
                if not pane.display or not pane.composer.region:
                    continue
                for toast in toasts:
                    assert not toast.region.overlaps(pane.composer.region), (
                        "a toast covers the composer"
                    )


async def test_jump_mode_reaches_the_chats_in_the_tab_strip_at_80x24() -> None:
    """One pane plus a tab strip: every chat gets a jump label (on its tab) and the key works."""
    from console.ui.screens.jump import JumpOverlay, jump_targets

    app = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.agent_screen
        assert screen is not None
        panes = screen.grid.panes
        assert len(panes) == 3 and sum(1 for p in panes if p.display) == 1
        targets = jump_targets(screen)
        keys = [p.jump_key for p in panes]
        assert all(key in targets for key in keys), (keys, list(targets))
        tabs_y = screen.get_offset(screen.query_one("TabStrip")).y
        hidden = [p for p in panes if not p.display]
        assert all(targets[p.jump_key][0].y == tabs_y for p in hidden)
        last = hidden[-1]
        await pilot.press("ctrl+o")
        await pilot.pause(0.2)
        assert isinstance(app.screen, JumpOverlay)
        await pilot.press(last.jump_key)
        await pilot.pause(0.3)
        assert screen.active_pane is last and last.display
