"""Hostile names, bodies and file names: no crash, no action, literal rendering."""

from __future__ import annotations

import pytest

from console.core.sanitize import sanitize_inbound_text, sanitize_single_line
from console.ui.widgets.transcript import TranscriptAttachment
from tests.ui_widgets.helpers import TranscriptApp, make_item, segments_of, visible_rows
from tests.ui_widgets.hostile import ALL, FORBIDDEN_IN_OUTPUT, MARKUP


def _items(sanitize: bool) -> list:
    items = []
    for i, text in enumerate(ALL):
        body = sanitize_inbound_text(text) if sanitize else text
        name = sanitize_single_line(text) if sanitize else text
        items.append(
            make_item(
                i,
                body,
                author=name,
                attachments=(TranscriptAttachment(name + ".pdf", 10),),
                trigger_spans=((0, 3, "anger"), (-5, 10_000, "bogus")),
            )
        )
    return items


@pytest.mark.parametrize("sanitize", [True, False], ids=["after-sanitize", "raw"])
async def test_hostile_text_renders_literally_and_runs_nothing(sanitize: bool) -> None:
    """Markup shows as brackets, controls never reach the output, clicks run no action."""
    items = _items(sanitize)
    app = TranscriptApp(items)
    async with app.run_test(size=(70, 40)) as pilot:
        await pilot.pause()
        view = app.transcript
        all_strips = [strip for item in items for strip in view._strips_for(item)]
        output = "\n".join(strip.text for strip in all_strips)
        for text in MARKUP:
            assert text.split("\n")[0][:12] in output
        for bad in FORBIDDEN_IN_OUTPUT:
            assert bad not in output, repr(bad)
        for segment in segments_of(all_strips):
            style = segment.style
            assert style is None or (not style.link and not style.meta), segment
        # Click every visible row, scroll through everything: nothing runs.
        await pilot.press("home")
        for _ in range(3):
            for y in range(0, 38, 7):
                await pilot.click(offset=(5, y))
            await pilot.press("pagedown")
        await pilot.pause()
        assert app.is_running
        assert not [a for a in app.actions_run if "quit" in a or "bell" in a]
        assert visible_rows(view)


async def test_closing_bracket_alone_as_every_field() -> None:
    """A lone '[/]' as name, body and file name does not raise MarkupError."""
    item = make_item(0, "[/]", author="[/]", attachments=(TranscriptAttachment("[/]", 1),))
    app = TranscriptApp([item])
    async with app.run_test(size=(40, 10)) as pilot:
        await pilot.pause()
        rows = visible_rows(app.transcript)
        assert rows[0].startswith("[/]")
        assert rows[1].strip() == "[/]"
        assert "📎 [/]" in rows[2]
