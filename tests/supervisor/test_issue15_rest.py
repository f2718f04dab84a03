"""Issue 15, the rest: per-department SLA from config.toml, one Quit in the palette, the
footer at 80 columns, drill-down and history (real reference server, Pilot)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.widgets import Footer

from console.core.config import ConfigError, parse_config
from console.core.dashboard import AlertKind
from tests.fixtures.reference_server import RefServer
from tests.supervisor.live import HostApp, build_world, settle, wait_for

pytestmark = pytest.mark.timeout(180)


def _later(minutes: float) -> Callable[[], datetime]:
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)


# ---------------------------------------------------------------- per-department SLA


def test_sla_departments_parse_and_unknown_keys_are_refused() -> None:
    config = parse_config(
        '[sla]\ncritical_seconds = 180\n[sla.departments."Billing"]\ncritical_seconds = 120\n'
    )
    assert config.sla.departments == {"Billing": 120.0}
    assert config.sla.critical_seconds == 180.0
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config('[sla.departments."Billing"]\nwarning_seconds = 10\n')
    with pytest.raises(ConfigError, match="positive"):
        parse_config('[sla.departments."Billing"]\ncritical_seconds = -1\n')
    with pytest.raises(ConfigError, match="critical_seconds"):
        parse_config('[sla.departments."Billing"]\n')


async def test_department_threshold_from_config_decides_which_chat_alerts(
    ref_server: RefServer,
) -> None:
    """Both chats wait 2.5 minutes: only Billing (120 s from config) alerts, Sales (180 s) not."""
    world = await build_world(ref_server)
    sales = await world.start_chat("Sally Sales", "Sales")
    billing = await world.start_chat("Bill Billing", "Billing")
    config = parse_config(
        "[sla]\nwarning_seconds = 60\ncritical_seconds = 180\n"
        '[sla.departments."billing"]\ncritical_seconds = 120\n'  # case-insensitive
    )
    app = HostApp(ref_server, world.supervisor_token, config=config, clock=_later(2.5))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.supervisor is not None, "the screen")
        screen = app.supervisor
        assert screen is not None
        await wait_for(pilot, lambda: len(screen.dashboard.conversations) >= 2, "the load")
        await settle(pilot, screen)
        alerts = screen.dashboard.alerts(screen.clock())
        alerted = {
            a.conversation_id
            for a in alerts
            if a.kind in (AlertKind.LONG_WAIT, AlertKind.UNANSWERED)
        }
        assert billing["id"] in alerted
        assert sales["id"] not in alerted
        assert "Bill Billing" in screen.alerts_panel.plain
        assert "Sally Sales" not in screen.alerts_panel.plain


# ---------------------------------------------------------------- palette and footer


@pytest.mark.parametrize("lang", ["en", "ko", "ja"])
async def test_palette_lists_quit_once_and_footer_keeps_sort_and_refresh_at_80(
    ref_server: RefServer, lang: str
) -> None:
    from textual.command import CommandPalette

    from console.backends.native import NativeBackend
    from console.ui.app import AgentConsoleApp
    from console.ui.screens.supervisor import SupervisorScreen

    world = await build_world(ref_server)
    await world.start_chat("Quinn", "Sales")
    app = AgentConsoleApp(
        NativeBackend(ref_server.url, world.supervisor_token),
        config=parse_config(f'language = "{lang}"'),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the screen")
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        for view in ("d", "c", "v"):
            await pilot.press(view)
            await pilot.pause(0.2)
            footer = screen.query_one(Footer)
            shown = {
                key.description: key.region
                for key in footer.query("FooterKey")
                if key.region.width and key.region.right <= 80
            }
            refresh = {"en": "Refresh", "ko": "새로고침", "ja": "再読込"}[lang]
            assert refresh in shown, (view, shown)
            if view == "c":
                labels = [label.region for label in footer.query("FooterLabel")]
                assert labels and all(0 < r.right <= 80 for r in labels)  # "Sort"
                assert "f5" in {
                    k.key_display
                    for k in footer.query("FooterKey")
                    if k.region.width and k.region.right <= 80
                }
            # Nothing overlaps (the palette key drew over Refresh before).
            regions = sorted(shown.values(), key=lambda r: r.x)
            assert all(a.right <= b.x for a, b in itertools.pairwise(regions))
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await pilot.press(*"quit")
        await pilot.pause(0.5)
        from textual.command import CommandList

        options = palette.query_one(CommandList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        quits = [p for p in prompts if "quit" in p.lower()]  # ours: "<label> (quit)"
        assert len(quits) == 1, prompts


# ---------------------------------------------------------------- drill-down


async def _open_drill(pilot: Any, app: HostApp) -> tuple[Any, Any]:
    from console.ui.widgets.supervisor.drill import DrillDownScreen

    await wait_for(pilot, lambda: app.supervisor is not None, "the screen")
    screen = app.supervisor
    assert screen is not None
    await wait_for(pilot, lambda: len(screen.dashboard.conversations) >= 3, "the load")
    await settle(pilot, screen)
    await pilot.press("o")
    await wait_for(pilot, lambda: isinstance(app.screen, DrillDownScreen), "the chooser")
    await pilot.pause()
    return screen, app.screen


async def test_drill_down_to_a_department_then_enter_watches_a_chat(
    ref_server: RefServer,
) -> None:
    from textual.widgets import DataTable, OptionList

    world = await build_world(ref_server)
    await world.start_chat("Sally Sales", "Sales")
    b1 = await world.start_chat("Bill One", "Billing")
    b2 = await world.start_chat("Bill Two", "Billing")
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(120, 36)) as pilot:
        screen, drill = await _open_drill(pilot, app)
        ref_server.clear_request_log()
        subjects = drill.query_one("#drill-subjects", OptionList)
        billing = f"department:{world.departments['Billing']}"
        index = next(
            i for i in range(subjects.option_count) if subjects.get_option_at_index(i).id == billing
        )
        # Walk down with the arrow keys to Billing, Enter moves to its conversations.
        while subjects.highlighted != index:
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        table = drill.query_one("#drill-conversations", DataTable)
        assert table.has_focus
        keys = [table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)]
        assert sorted(keys) == sorted([b1["id"], b2["id"]])  # Billing's two, not Sales'
        names = {str(table.get_cell_at((r, 0))) for r in range(table.row_count)}
        assert names == {"Bill One", "Bill Two"}
        chosen = keys[table.cursor_row]
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                screen.watch_grid.pane(chosen) is not None and screen.watch_grid.pane(chosen).loaded  # type: ignore[union-attr]
            ),
            "the watch pane",
        )
        assert app.screen is screen and screen.view == "watch"
        assert ref_server.mutating_requests() == []
        # An agent's chats: Bob serves Sales and Billing, the chooser lists his.
        await pilot.press("d")
        await pilot.press("o")
        await pilot.pause()
        drill = app.screen
        subjects = drill.query_one("#drill-subjects", OptionList)
        bob = f"agent:{world.agents['Bob'][0]}"
        index = next(
            i for i in range(subjects.option_count) if subjects.get_option_at_index(i).id == bob
        )
        subjects.highlighted = index
        await pilot.pause()
        held = {
            c["id"]
            for c in (await world.supervisor_get("/conversations", state="active", assignee="any"))[
                "items"
            ]
            if c.get("assignee_id") == world.agents["Bob"][0]
        }
        table = drill.query_one("#drill-conversations", DataTable)
        shown = {table.coordinate_to_cell_key((r, 0)).row_key.value for r in range(table.row_count)}
        assert shown == held
        await pilot.press("escape")
        assert app.screen is screen
        assert ref_server.mutating_requests() == []


async def test_hostile_names_in_the_drill_down_reach_no_terminal(ref_server: RefServer) -> None:
    from tests.core.safety import HOSTILE_CASES
    from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in

    world = await build_world(ref_server)
    hostile_dep = ref_server.create_department("Dept " + HOSTILE_CASES["markup link"])
    world.departments["hostile"] = hostile_dep
    for label, text in HOSTILE_CASES.items():
        await world.start_chat(f"{label}: {text}", "Sales")
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(200, 50)) as pilot:
        _screen, drill = await _open_drill(pilot, app)
        from textual.widgets import OptionList

        subjects = drill.query_one("#drill-subjects", OptionList)
        sales = f"department:{world.departments['Sales']}"
        subjects.highlighted = next(
            i for i in range(subjects.option_count) if subjects.get_option_at_index(i).id == sales
        )
        await pilot.pause(0.2)
        frame = frame_bytes(app)
        assert foreign_controls(frame) == []
        assert links_in(frame) == []
        assert not app._exit_renderables  # no [@click=app.quit] ran
        from textual.widgets import DataTable

        table = drill.query_one("#drill-conversations", DataTable)
        shown = " ".join(str(table.get_cell_at((r, 0))) for r in range(table.row_count))
        assert "[@click=app.quit]press me[/]" in shown  # markup shown as text


# ---------------------------------------------------------------- history


async def _rate(world: Any, conversation_id: str, score: int) -> None:
    from tests.supervisor.live import client

    token = next(tok for cid, tok in world.customers if cid == conversation_id)
    async with client(world.server, token) as cust:
        r = await cust.post(
            f"/customer/conversations/{conversation_id}/rate", json={"score": score}
        )
        assert r.status_code == 200, r.text


def _backdate(server: RefServer, conversation_id: str, days: int) -> None:
    """Move a closed chat (and its assignment and answers) ``days`` back in the stored data."""
    import sqlite3

    shift = f"-{days} days"
    with sqlite3.connect(server.db_path) as db:
        for table, column, key in (
            ("conversations", "created_at", "id"),
            ("conversations", "closed_at", "id"),
            ("assignments", "at", "conversation_id"),
            ("responses", "at", "conversation_id"),
        ):
            db.execute(
                f"UPDATE {table} SET {column} = strftime('%Y-%m-%dT%H:%M:%f+00:00', "
                f"{column}, ?) WHERE {key} = ?",
                (shift, conversation_id),
            )


def _history_rows(screen: Any, table_id: str) -> dict[str, list[str]]:
    from textual.widgets import DataTable

    table = screen.query_one(table_id, DataTable)
    rows: dict[str, list[str]] = {}
    for r in range(table.row_count):
        key = table.coordinate_to_cell_key((r, 0)).row_key.value
        rows[key] = [str(c) for c in table.get_row_at(r)]
    return rows


async def test_history_shows_the_servers_stored_figures(ref_server: RefServer) -> None:
    from console.core.duration import format_duration
    from console.ui.widgets.supervisor.history import HistoryScreen

    world = await build_world(ref_server)
    tech = ref_server.create_department("Tech")  # nobody serves it: the chat stays queued
    # Sales: two chats answered, closed and rated 5 and 3 today; one more 3 days ago rated 1.
    rated: list[str] = []
    for name, score in (("Rae", 5), ("Ray", 3), ("Old", 1)):
        conv = await world.start_chat(name, "Sales")
        server_conv = await world.supervisor_get(f"/conversations/{conv['id']}")
        agent = next(a for a, (aid, _) in world.agents.items() if aid == server_conv["assignee_id"])
        await world.customer_says(conv["id"], "Hello?")
        await world.agent_says(agent, conv["id"], "Hi, how can I help?")
        await world.agent_closes(agent, conv["id"])
        await _rate(world, conv["id"], score)
        rated.append(conv["id"])
    _backdate(ref_server, rated[2], days=3)
    left = await world.start_chat("Gone", "Tech")
    await world.customer_leaves(left["id"])
    server = await world.supervisor_get("/history")
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.supervisor is not None, "the screen")
        screen = app.supervisor
        assert screen is not None
        await settle(pilot, screen)
        ref_server.clear_request_log()
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "the history")
        history = app.screen
        assert isinstance(history, HistoryScreen)
        await wait_for(pilot, lambda: history.loaded, "the figures")
        await pilot.pause()
        departments = _history_rows(history, "#history-departments")
        sales = world.departments["Sales"]
        today, week = departments[f"{sales}:today"], departments[f"{sales}:week"]
        # Seeded: 2 chats today (ratings 5 and 3), 3 in the last 7 days (5, 3 and 1).
        assert today[1] == "2" and week[1] == "3"
        assert today[5] == "4.00 (2)" and week[5] == "3.00 (3)"
        dep = next(d for d in server["departments"] if d["department_id"] == sales)
        assert today[2] == format_duration(dep["today"]["avg_first_response_seconds"])
        assert week[3] == format_duration(dep["last_7_days"]["avg_response_seconds"])
        assert departments[f"{tech}:today"][4] == "1"  # the customer who left unanswered
        # Agents: the same figures as the server's stored data, for every agent.
        agents = _history_rows(history, "#history-agents")
        for item in server["agents"]:
            for period, key in (("today", "today"), ("week", "last_7_days")):
                row = agents[f"{item['agent_id']}:{period}"]
                figures = item[key]
                assert row[1] == str(figures["chats"])
                assert row[4] == str(figures["abandoned"])
                expected = (
                    f"{figures['satisfaction']:.2f} ({figures['ratings']})"
                    if figures["ratings"]
                    else "-"
                )
                assert row[5] == expected
        assert sum(int(agents[f"{a['agent_id']}:week"][1]) for a in server["agents"]) == 3
        paths = [entry.get("path") for entry in ref_server.request_log()]
        assert any(p and p.endswith("/history") for p in paths), paths
        assert ref_server.mutating_requests() == []
        await pilot.press("escape")
        assert app.screen is screen


async def test_history_without_the_capability_says_so(ref_server: RefServer) -> None:
    from console.backends.base import Capability
    from console.ui.widgets.supervisor.history import HistoryScreen

    world = await build_world(ref_server)
    app = HostApp(ref_server, world.supervisor_token)
    app.native.capabilities = frozenset(app.native.capabilities - {Capability.HISTORY})
    app.backend.capabilities = frozenset(app.backend.capabilities - {Capability.HISTORY})
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.supervisor is not None, "the screen")
        ref_server.clear_request_log()
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "the history")
        history = app.screen
        assert isinstance(history, HistoryScreen)
        await wait_for(pilot, lambda: history.loaded, "the answer")
        assert history.view is None
        paths = [entry.get("path") for entry in ref_server.request_log()]
        assert not any(p and p.endswith("/history") for p in paths)


async def test_hostile_names_in_the_history_reach_no_terminal(ref_server: RefServer) -> None:
    from console.ui.widgets.supervisor.history import HistoryScreen
    from tests.core.safety import HOSTILE_CASES
    from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in

    world = await build_world(ref_server)
    for label, text in HOSTILE_CASES.items():
        ref_server.create_department(f"D {label}: {text}")
        ref_server.create_agent(f"A {label}: {text}", departments=("Sales",), capacity=1)
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.supervisor is not None, "the screen")
        await pilot.press("h")
        await wait_for(pilot, lambda: isinstance(app.screen, HistoryScreen), "the history")
        history = app.screen
        assert isinstance(history, HistoryScreen)
        await wait_for(pilot, lambda: history.loaded, "the figures")
        await pilot.pause()
        for _ in range(3):  # every table row, scrolled into view
            frame = frame_bytes(app)
            assert foreign_controls(frame) == []
            assert links_in(frame) == []
            history.query_one("#history-body").scroll_page_down(animate=False)
            await pilot.pause()
        names = " ".join(row[0] for row in _history_rows(history, "#history-agents").values())
        assert "[@click=app.quit]press me[/]" in names
