"""console.ui.safe: untrusted text becomes Content/Text without markup parsing."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from console.ui.safe import label_with, neutralize_controls, plain, plain_text
from tests.ui_widgets.hostile import ALL, FORBIDDEN_IN_OUTPUT


@pytest.mark.parametrize("text", ALL)
def test_neutralize_controls_keeps_offsets_and_removes_controls(text: str) -> None:
    """Same length (spans stay valid), no ESC/C1/bidi left; newlines kept."""
    out = neutralize_controls(text)
    assert len(out) == len(text)
    for bad in FORBIDDEN_IN_OUTPUT:
        assert bad not in out
    assert out.count("\n") >= text.count("\n")


@pytest.mark.parametrize("text", ALL)
def test_plain_and_label_with_are_literal(text: str) -> None:
    """Brackets survive as text; template markup applies only to the template."""
    assert plain(text).plain == neutralize_controls(text)
    assert plain_text(text).plain == neutralize_controls(text)
    label = label_with("[b]$name[/b] is typing", name=text)
    assert label.plain.endswith(" is typing")
    assert label.plain.startswith(neutralize_controls(text)[:5])
    for span in label.spans:
        assert "@click" not in str(span.style) and "link" not in str(span.style)


async def test_hostile_values_in_a_static_run_no_action() -> None:
    """A Static fed label_with(...) shows '[@click=app.quit]' and clicking it does nothing."""
    quits: list[str] = []

    class Host(App[None]):
        def compose(self) -> ComposeResult:
            yield Static(label_with("Customer: [b]$name[/b]", name="[@click=app.quit]boom[/]"))

        def action_quit(self) -> None:  # type: ignore[override]
            quits.append("quit")

    app = Host()
    async with app.run_test(size=(60, 5)) as pilot:
        static = app.query_one(Static)
        assert "[@click=app.quit]boom[/]" in str(static.render())
        await pilot.click(Static, offset=(14, 0))
        await pilot.pause()
        assert not quits
