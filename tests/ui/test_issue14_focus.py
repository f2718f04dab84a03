"""Focus you can see (issue 14 fix 2): the focused pane differs in shape, not only colour.

In a 256-colour terminal the dark theme's accent and warning colours map to the
same colour, so the focused pane has a double border (and an inverse title)
while unfocused panes keep round/heavy borders whatever their SLA colour.
Snapshots: ``test_main_screen`` (dark, light) and the high-contrast ones here.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.fake_backend import demo_backend, fixed_clock
from tests.ui.test_snapshots import SIZES, settle, utc  # noqa: F401  (autouse fixture)

THEMES = ["dark", "light", "high-contrast"]


def make(theme: str) -> Any:
    from console.ui.app import AgentConsoleApp

    return AgentConsoleApp(demo_backend("en"), theme=theme, lang="en", clock=fixed_clock)


def border_shape(widget: Any) -> str:
    return str(widget.styles.border_top[0])


@pytest.mark.parametrize("theme", THEMES)
async def test_only_the_focused_pane_has_a_double_border(theme: str) -> None:
    """Every theme, 200×50 (all panes tiled): focus moves the double border, SLA colour stays."""
    app = make(theme)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        screen = app.agent_screen
        assert screen is not None and len(screen.grid.panes) == 3
        for pane in screen.grid.panes:
            pane.composer.focus()
            await pilot.pause(0.1)
            shapes = {p.conversation_id: border_shape(p) for p in screen.grid.panes}
            assert shapes.pop(pane.conversation_id) == "double"
            assert "double" not in shapes.values(), shapes
            assert pane.border_title is not None
        # A pane past the SLA keeps its warning/critical colour, focused or not.
        late = [p for p in screen.grid.panes if p.has_class("-warning") or p.has_class("-critical")]
        assert late, "the fixed data has a chat past the SLA"
        late[0].composer.focus()
        await pilot.pause(0.1)
        focused_colour = late[0].styles.border_top[1]
        late[0].transcript.blur()
        other = next(p for p in screen.grid.panes if p is not late[0])
        other.composer.focus()
        await pilot.pause(0.1)
        assert border_shape(late[0]) in ("round", "heavy")
        assert late[0].styles.border_top[1] == focused_colour


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_screen_high_contrast(snap_compare: Any, size: tuple[int, int]) -> None:
    """High-contrast theme: the focused pane's double border and inverse title."""
    assert snap_compare(make("high-contrast"), terminal_size=size, run_before=settle)
