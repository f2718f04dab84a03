"""Footer and help behaviour of the supervisor screen (fixed data from ``snapshot_data``)."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Static

from console.core.i18n import set_language, t
from tests.supervisor.snapshot_data import SnapshotApp


def _footer_keys(app: Any) -> dict[str, Any]:
    return {key: active.binding for key, active in app.screen.active_bindings.items()}


@pytest.mark.parametrize("lang", ["en", "ko"])
async def test_sort_keys_share_one_translated_footer_entry(lang: str) -> None:
    set_language(lang)  # the autouse english_ui fixture restores the language
    app = SnapshotApp("dark")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        bindings = _footer_keys(app)
        groups = {bindings[key].group for key in ("f5", "f6", "f7", "f8")}
        assert len(groups) == 1
        (group,) = groups
        assert group is not None and group.description == t("supervisor.footer.sort-group")
        assert bindings["f8"].description == t("supervisor.footer.sort-by-severity")


async def test_current_view_key_leaves_the_footer() -> None:
    app = SnapshotApp("dark")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        keys = _footer_keys(app)
        assert "d" not in keys and {"c", "v", "question_mark"} <= set(keys)
        await pilot.press("c")
        await pilot.pause()
        keys = _footer_keys(app)
        assert "c" not in keys and {"d", "v", "w"} <= set(keys)
        await pilot.press("d")  # still switches back
        await pilot.pause()
        assert app.screen.view == "dashboard"


async def test_empty_filter_result_is_explained() -> None:
    app = SnapshotApp("dark")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.pause()
        screen.refresh_now(force=True)
        hint = screen.query_one("#conversations-empty", Static)
        assert not hint.display  # rows are shown: no sentence
        await pilot.press("slash", *"zzz")
        await pilot.pause()
        screen.refresh_now(force=True)
        assert hint.display
        assert str(hint.render()) == t("supervisor.filter.no_match", filter="zzz")
        await pilot.press("escape")
        await pilot.pause()
        screen.refresh_now(force=True)
        assert not hint.display and screen.conversations_table.row_count > 0


@pytest.mark.parametrize("lang", ["en", "ko"])
@pytest.mark.parametrize("columns", [80, 149, 150, 200])
async def test_dashboard_tables_fit_without_horizontal_scrolling(lang: str, columns: int) -> None:
    """Side by side from 150 columns, stacked below; no column is ever cut off on the right."""
    set_language(lang)
    app = SnapshotApp("dark")
    async with app.run_test(size=(columns, 40)) as pilot:
        screen = app.screen
        await pilot.pause()
        screen.refresh_now(force=True)
        await pilot.pause()
        assert screen.has_class("-wide") == (columns >= 150)
        for table in (screen.departments_table, screen.agents_table):
            assert table.max_scroll_x == 0, (table.id, table.size, table.virtual_size)
            # No cursor bar: it would hide the first row's breach colours.
            assert table.cursor_type == "none"


async def test_command_palette_offers_the_supervisor_keys() -> None:
    """The palette lists the supervisor actions (translated) and runs them on the screen."""
    from console.ui.commands import ActionCommands

    app = SnapshotApp("dark")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.screen
        await pilot.pause()
        provider = ActionCommands(screen)
        titles = {hit.text: hit async for hit in provider.discover()}
        wanted = f"{t('supervisor.footer.show-conversations')} (show-conversations)"
        assert wanted in titles and "close-help" not in " ".join(map(str, titles))
        hit = titles[wanted]
        hit.command()
        await pilot.pause()
        assert screen.view == "conversations"
        await pilot.press("d")
        await pilot.pause()
        found = [hit async for hit in provider.search("sort by severity")]
        assert found and "sort-by-severity" in str(found[0].text)
        found[0].command()  # from the dashboard: switches to the table, then sorts
        await pilot.pause()
        assert screen.view == "conversations"
        assert screen.conversations_table.order == "severity"


async def test_alert_count_stays_visible_at_80_columns() -> None:
    """With a filter and watched chats the bar is longer than 80 cells; the alerts still show."""
    from rich.cells import cell_len

    app = SnapshotApp("dark")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await pilot.pause()
        screen.refresh_now(force=True)
        await screen.watch_conversation("c1")
        await pilot.press("slash", *"Sales")
        await pilot.pause()
        screen.refresh_now(force=True)
        plain = screen.bar.plain
        alerts = t("supervisor.alerts_count", count=4)
        assert alerts in plain and cell_len(plain) > 80
        assert cell_len(plain[: plain.index(alerts) + len(alerts)]) <= 80
