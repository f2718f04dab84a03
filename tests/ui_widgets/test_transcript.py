"""TranscriptView: wrapping, lazy rendering, sticking to the bottom, history loads, looks."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.cells import cell_len

from console.ui.widgets.transcript import HeightIndex, TranscriptAttachment, TranscriptView
from tests.ui_widgets.helpers import TranscriptApp, make_item, make_items, visible_rows

LONG = "lorem ipsum dolor sit amet " * 12


# ----------------------------------------------------------------- HeightIndex


@settings(max_examples=60, deadline=None)
@given(
    heights=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=80),
    ops=st.lists(
        st.tuples(
            st.sampled_from(["set", "append", "prepend"]), st.integers(0, 200), st.integers(1, 9)
        ),
        max_size=30,
    ),
)
def test_height_index_matches_a_plain_prefix_sum(
    heights: list[int], ops: list[tuple[str, int, int]]
) -> None:
    """Prefix sums and row lookup agree with a brute-force list after any edits."""
    index = HeightIndex(heights)
    plain = list(heights)
    for op, position, value in ops:
        if op == "set":
            i = position % len(plain)
            index.set(i, value)
            plain[i] = value
        elif op == "append":
            index.append(value)
            plain.append(value)
        else:
            index.prepend([value, value])
            plain[:0] = [value, value]
    assert index.total == sum(plain)
    for i in range(len(plain) + 1):
        assert index.prefix(i) == sum(plain[:i])
    row = 0
    for i, height in enumerate(plain):
        for sub in range(height):
            assert index.find(row) == (i, sub)
            row += 1
    assert index.find(row + 5) == (len(plain) - 1, plain[-1] - 1)


# ----------------------------------------------------------------- rendering


async def test_header_shows_sender_time_and_body_wraps_to_the_width() -> None:
    """Each message shows sender and HH:MM; long bodies wrap within the width in cells."""
    items = [make_item(0, "short hello"), make_item(1, LONG), make_item(2, "안녕하세요 " * 20)]
    app = TranscriptApp(items)
    async with app.run_test(size=(50, 40)) as pilot:
        await pilot.pause()
        view = app.transcript
        width = view.scrollable_content_region.width
        rows = visible_rows(view)
        text = "\n".join(rows)
        assert "Agent Kim  09:30" in text
        assert "Customer  09:31" in text
        assert "short hello" in text
        assert all(cell_len(row) <= width for row in rows)
        lorem_rows = [strip.text for strip in view._strips_for(items[1])[1:-1]]
        assert len(lorem_rows) > 3  # wrapped, not cut
        assert " ".join(row.strip() for row in lorem_rows) == LONG.strip()
        hangul_rows = [row for row in rows if "안녕하세요" in row]
        assert len(hangul_rows) > 1
        assert all(cell_len(row.rstrip()) <= width for row in hangul_rows)


async def test_resize_rewraps_and_keeps_the_top_message_in_view() -> None:
    """A narrower terminal re-wraps every visible message; the top message stays on screen."""
    app = TranscriptApp([make_item(i, f"{i}: {LONG}") for i in range(200)])
    async with app.run_test(size=(80, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        view.scroll_to(y=view.max_scroll_y // 2, animate=False)
        await pilot.pause()
        top_index, _ = view._index.find(round(view.scroll_y))
        top_id = view._items[top_index].id
        wide_rows = visible_rows(view)
        await pilot.resize_terminal(40, 20)
        await pilot.pause()
        width = view.scrollable_content_region.width
        narrow_rows = visible_rows(view)
        assert all(cell_len(row) <= width for row in narrow_rows)
        assert max(cell_len(row.rstrip()) for row in wide_rows) > width  # really re-wrapped
        new_top, _ = view._index.find(round(view.scroll_y))
        assert view._items[new_top].id == top_id
        top_item = view.get_item(top_id)
        assert top_item is not None
        own_rows = {strip.text for strip in view._strips_for(top_item)[:-1]}
        assert own_rows & set(narrow_rows[:3])


async def test_only_rows_near_the_viewport_are_wrapped_and_rendered() -> None:
    """50,000 messages: opening wraps a few pages of messages and renders only visible rows."""
    app = TranscriptApp(make_items(50_000))
    app.animation_level = "none"  # one frame per key, so frames can be counted
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        assert view.item_count == 50_000
        assert view.messages_wrapped < 60
        assert view.cached_messages < 60
        height = view.scrollable_content_region.height
        calls_before = view.render_line_calls
        await pilot.press("pageup")
        await pilot.pause()
        assert 0 < view.render_line_calls - calls_before <= 3 * height
        assert view.messages_wrapped < 100


async def test_append_is_incremental_not_a_rewrap() -> None:
    """Appending to 50,000 messages wraps only the new message and what is on screen."""
    app = TranscriptApp(make_items(50_000))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        wrapped = view.messages_wrapped
        for i in range(50_000, 50_010):
            view.append(make_item(i))
        await pilot.pause()
        assert view.item_count == 50_010
        assert view.messages_wrapped - wrapped <= 10 + 5
        assert "message number 50009" in "\n".join(visible_rows(view))


# ----------------------------------------------------------------- sticking to the bottom


async def test_sticks_to_bottom_only_while_the_user_is_there() -> None:
    """At the bottom new messages scroll in; scrolled up, an 'N new messages' row appears."""
    app = TranscriptApp(make_items(100))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        assert view.following and view.scroll_y == view.max_scroll_y
        view.append(make_item(100, "fresh one"))
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y
        assert "fresh one" in "\n".join(visible_rows(view))

        await pilot.press("pageup")
        await pilot.pause()
        assert not view.following
        scroll_before = view.scroll_y
        view.append(make_item(101, "while away 1"))
        view.append(make_item(102, "while away 2"))
        await pilot.pause()
        assert view.scroll_y == scroll_before
        assert view.unseen_count == 2
        rows = visible_rows(view)
        assert "2 new messages" in rows[-1]
        assert "while away" not in "\n".join(rows)
        counts = [m.count for m in app.posted if isinstance(m, TranscriptView.UnseenChanged)]
        assert counts[-1] == 2

        await pilot.press("end")
        await pilot.pause()
        assert view.following and view.unseen_count == 0
        assert "while away 2" in "\n".join(visible_rows(view))


async def test_scrolling_back_down_resumes_following() -> None:
    """Reaching the bottom by scrolling (not the End key) clears the indicator."""
    app = TranscriptApp(make_items(60))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        await pilot.press("pageup")
        view.append(make_item(60))
        await pilot.pause()
        assert view.unseen_count == 1
        for _ in range(5):
            await pilot.press("pagedown")
        await pilot.pause()
        assert view.following and view.unseen_count == 0


# ----------------------------------------------------------------- older history


async def test_reaching_the_top_requests_older_history_once() -> None:
    """Home posts OlderRequested with the oldest id, once while the user stays at the top."""
    app = TranscriptApp(make_items(100, start=100), has_older=True)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        assert not [m for m in app.posted if isinstance(m, TranscriptView.OlderRequested)]
        await pilot.press("home")
        await pilot.pause()
        await pilot.press("home")
        await pilot.pause()
        requests = [m for m in app.posted if isinstance(m, TranscriptView.OlderRequested)]
        assert len(requests) == 1
        assert requests[0].oldest_id == "m100"

        top_before = visible_rows(view)
        view.scroll_to(y=3, animate=False)
        await pilot.pause()
        top_before = visible_rows(view)
        view.prepend_items(make_items(100, start=0), has_older=False)
        await pilot.pause()
        assert view.item_count == 200
        assert visible_rows(view) == top_before  # viewport did not move
        await pilot.press("home")
        await pilot.pause()
        assert "message number 0" in "\n".join(visible_rows(view))
        requests = [m for m in app.posted if isinstance(m, TranscriptView.OlderRequested)]
        assert len(requests) == 1  # has_older is now False


async def test_no_request_without_older_history() -> None:
    """A conversation that starts at its first message never asks for more."""
    app = TranscriptApp(make_items(100), has_older=False)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.press("home")
        await pilot.pause()
        assert not [m for m in app.posted if isinstance(m, TranscriptView.OlderRequested)]


# ----------------------------------------------------------------- message looks


async def test_delivery_states_and_updates() -> None:
    """Own messages show pending ⏳, sent ✓ or failed ✗; update_item swaps the glyph."""
    items = [
        make_item(0, "first", delivery="pending"),
        make_item(2, "second", delivery="sent"),
        make_item(4, "third", delivery="failed"),
        make_item(1, "from customer"),
    ]
    app = TranscriptApp(items)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        headers = [row for row in visible_rows(view) if "Agent Kim" in row]
        assert "⏳" in headers[0]
        assert "✓" in headers[1]
        assert "✗" in headers[2] and "not sent" in headers[2]
        customer = next(row for row in visible_rows(view) if row.startswith("Customer"))
        assert not any(glyph in customer for glyph in "⏳✓✗")
        view.update_item(make_item(0, "first", delivery="sent", revision=1))
        await pilot.pause()
        headers = [row for row in visible_rows(view) if "Agent Kim" in row]
        assert "✓" in headers[0] and "⏳" not in headers[0]
        # Same revision, new state: still repainted.
        view.update_item(make_item(0, "first", delivery="failed", revision=1))
        await pilot.pause()
        headers = [row for row in visible_rows(view) if "Agent Kim" in row]
        assert "✗" in headers[0]


async def test_internal_note_system_message_attachment_and_trigger_span() -> None:
    """Internal notes get a label and background; triggers are styled; files are listed."""
    items = [
        make_item(0, "plain reply"),
        make_item(2, "note for colleagues", internal=True),
        make_item(3, "conversation assigned", author="system", author_kind="system"),
        make_item(
            5,
            "I want a refund now",
            author_kind="customer",
            author="Customer",
            trigger_spans=((9, 15, "refund"),),
            attachments=(TranscriptAttachment("receipt.pdf", 20480),),
        ),
    ]
    app = TranscriptApp(items)
    async with app.run_test(size=(60, 24)) as pilot:
        await pilot.pause()
        view = app.transcript
        strips = view._strips_for(items[0]) + view._strips_for(items[1])
        plain_bg = {seg.style.bgcolor for seg in view._strips_for(items[0])[1] if seg.style}
        note_strips = view._strips_for(items[1])
        assert "internal note" in note_strips[0].text
        note_bg = {seg.style.bgcolor for seg in note_strips[1] if seg.style}
        assert note_bg and note_bg != plain_bg
        assert len(strips) == 6

        trigger_strips = view._strips_for(items[3])
        body_row = trigger_strips[1]
        styled = [seg for seg in body_row if seg.text.strip() == "refund"]
        assert styled and styled[0].style is not None and styled[0].style.underline
        assert any("📎 receipt.pdf" in s.text and "20.5 kB" in s.text for s in trigger_strips)

        system_body = view._strips_for(items[2])[1]
        trigger_style = view.get_component_rich_style("transcript--dim", partial=True)
        assert any(
            seg.style and seg.style.color == trigger_style.color
            for seg in system_body
            if seg.text.strip()
        )


async def test_theme_change_clears_the_strip_cache() -> None:
    """notify_style_update drops cached rows so a new theme repaints everything."""
    app = TranscriptApp(make_items(50))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        assert view.cached_messages > 0
        generation = view._style_generation
        app.theme = "textual-light"
        await pilot.pause()
        assert view._style_generation > generation
        assert all(key[4] == view._style_generation for key in view._strip_cache.keys())


async def test_random_appends_and_scrolls_never_paint_a_broken_row() -> None:
    """Scrolls, appends, resizes, history loads and edits: every painted row is exact and fits."""
    rng = random.Random(7)
    items = [make_item(i, "word " * rng.randint(0, 60)) for i in range(400)]
    app = TranscriptApp(items)
    async with app.run_test(size=(45, 15)) as pilot:
        await pilot.pause()
        view = app.transcript
        older = 0
        for step in range(40):
            action = rng.choice(
                [
                    "pageup",
                    "pagedown",
                    "up",
                    "down",
                    "home",
                    "end",
                    "append",
                    "resize",
                    "prepend",
                    "edit",
                ]
            )
            if action == "append":
                view.append(make_item(1000 + step, "new " * rng.randint(1, 30)))
            elif action == "resize":
                await pilot.resize_terminal(rng.randint(20, 90), rng.randint(6, 30))
            elif action == "prepend":
                older += 1
                view.prepend_items(
                    [make_item(-100 * older - i, "old " * rng.randint(0, 40)) for i in range(5)],
                    has_older=True,
                )
            elif action == "edit":
                index = rng.randrange(view.item_count)
                item = view.items()[index]
                view.update_item(
                    make_item(
                        0, "edited " * rng.randint(0, 50), id=item.id, revision=item.revision + 1
                    )
                )
            else:
                await pilot.press(action)
            await pilot.pause()
            width = view.scrollable_content_region.width
            rows = visible_rows(view)
            assert all(cell_len(row) <= width for row in rows)
            assert view.virtual_size.height == view.total_lines
            # Every painted row is the exact row of the message the index maps it to.
            top = round(view.scroll_y)
            for y, row in enumerate(rows):
                if top + y >= view.total_lines or (view.unseen_count and y == len(rows) - 1):
                    continue
                index, sub = view._index.find(top + y)
                assert view._exact[index], (step, action, y)
                assert row == view._strips_for(view.items()[index])[sub].text


async def test_hidden_transcript_lays_out_when_shown() -> None:
    """Appends while hidden (display: none) are laid out when the pane is shown again."""
    app = TranscriptApp(make_items(30))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        view.display = False
        await pilot.pause()
        for i in range(30, 40):
            view.append(make_item(i, f"while hidden {i}"))
        await pilot.pause()
        view.display = True
        await pilot.pause()
        rows = visible_rows(view)
        assert "while hidden 39" in "\n".join(rows)
        assert view.virtual_size.height == view.total_lines


async def test_update_above_the_viewport_does_not_move_it() -> None:
    """A message above the viewport growing (edit) keeps what the user reads in place."""
    app = TranscriptApp(make_items(200))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        view.scroll_to(y=view.max_scroll_y // 2, animate=False)
        await pilot.pause()
        before = visible_rows(view)
        top, _ = view._index.find(round(view.scroll_y))
        above = view._items[top - 3]
        view.update_item(make_item(top - 3, "grown " * 80, revision=1, id=above.id))
        await pilot.pause()
        assert visible_rows(view) == before


async def test_refreshing_has_older_does_not_repeat_the_request() -> None:
    """Re-setting has_older while a load is in flight asks once; leaving the top re-arms."""
    app = TranscriptApp(make_items(100, start=100), has_older=True)
    async with app.run_test(size=(60, 20)) as pilot:
        view = app.transcript
        await pilot.press("home")
        await pilot.pause()
        for i in range(3):
            view.has_older = True
            view.append(make_item(500 + i))
            await pilot.pause()
        requests = [m for m in app.posted if isinstance(m, TranscriptView.OlderRequested)]
        assert len(requests) == 1
        await pilot.press("pagedown", "home")
        await pilot.pause()
        requests = [m for m in app.posted if isinstance(m, TranscriptView.OlderRequested)]
        assert len(requests) == 2  # the load failed silently; the user tries again


async def test_clicking_the_new_messages_row_jumps_to_the_latest() -> None:
    """The 'N new messages' row is clickable and brings the view back to the bottom."""
    app = TranscriptApp(make_items(80))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        await pilot.press("pageup", "pageup")
        view.extend([make_item(80, "later 1"), make_item(81, "later 2"), make_item(82, "later 3")])
        await pilot.pause()
        assert view.unseen_count == 3
        last_row = view.scrollable_content_region.height - 1
        assert "3 new messages" in view.render_line(last_row).text
        await pilot.click(TranscriptView, offset=(3, last_row))
        await pilot.pause()
        assert view.following and view.unseen_count == 0
        assert "later 3" in "\n".join(visible_rows(view))


async def test_mouse_selection_copies_the_visible_text() -> None:
    """A selection across rows returns their text (indent kept, padding dropped) and is highlighted."""
    from textual.geometry import Offset
    from textual.selection import Selection

    items = [make_item(0, "order number 12345"), make_item(1, "my email is mina@example.com")]
    app = TranscriptApp(items)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        rows = visible_rows(view)
        first = rows.index(next(r for r in rows if "order number" in r))
        email_row = rows.index(next(r for r in rows if "mina@" in r))
        start = rows[first].index("12345")
        end = rows[email_row].index("@")
        app.screen.selections = {view: Selection(Offset(start, first), Offset(end, email_row))}
        await pilot.pause()
        selected = app.screen.get_selected_text()
        assert selected is not None
        assert selected.splitlines()[0] == "12345"
        assert selected.splitlines()[-1] == "  my email is mina"
        highlight = app.screen.get_component_rich_style("screen--selection")
        strip = view.render_line(first)
        selected_segments = [seg for seg in strip if "12345" in seg.text]
        assert selected_segments and selected_segments[0].style is not None
        assert selected_segments[0].style.bgcolor == highlight.bgcolor


async def test_scroll_to_item_puts_a_message_at_the_top() -> None:
    """Jumping to a message (a search hit) shows its header on the first row."""
    app = TranscriptApp(make_items(5_000))
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        assert view.scroll_to_item("m1234")
        await pilot.pause()
        assert visible_rows(view)[1].strip() == "message number 1234"
        assert not view.following
        assert not view.scroll_to_item("nope")
        view.append(make_item(5_000, "arrived later"))
        await pilot.pause()
        assert view.unseen_count == 1


async def test_page_by_page_scroll_back_adds_pages_without_rebuilding() -> None:
    """Prepending 60 pages of 20: every message is found where it belongs, updates and
    jumps land on the right one, and the height index is rebuilt only when a free
    end fills up (doubling), not once per page: a prepend costs O(page)."""
    from unittest import mock

    builds = 0
    original = HeightIndex._build

    def counting(self: HeightIndex, heights: list[int], front: int, back: int) -> None:
        nonlocal builds
        builds += 1
        original(self, heights, front, back)

    app = TranscriptApp(make_items(20, start=1200), has_older=True)
    async with app.run_test(size=(60, 20)) as pilot:
        await pilot.pause()
        view = app.transcript
        with mock.patch.object(HeightIndex, "_build", counting):
            for start in range(1180, -1, -20):
                view.scroll_to(y=0, animate=False)
                view.prepend_items(make_items(20, start=start), has_older=start > 0)
                await pilot.pause()
        assert builds <= 8  # 60 pages; rebuilds at 20, 40, 80, ... items
        assert view.item_count == 1220
        assert [item.id for item in view.items()] == [f"m{i}" for i in range(1220)]
        assert view.get_item("m7") is not None and view.get_item("m7").body == "message number 7"
        view.update_item(make_item(7, "edited seven", revision=1))
        assert view.get_item("m7").body == "edited seven"
        assert view.scroll_to_item("m7")
        await pilot.pause()
        assert visible_rows(view)[1].strip() == "edited seven"
        assert view._index.total == sum(view._index[i] for i in range(len(view._index)))
