"""The supervisor screen against the real reference server (Pilot, real NativeBackend).

* The dashboard's numbers match the server's ``/queues`` and ``/agents``.
* Every binding of every supervisor screen (derived from the live DOM, so a
  new binding is pressed automatically) leaves the server untouched: no
  mutating request arrives (the server's own request log) and no conversation
  changes state.
* Rows change in place: after the first load, live events update cells and
  never rebuild the table.
* Hostile names and messages render literally in the table and the watch pane.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.binding import Binding
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.widget import Widget

from console.core.duration import format_duration
from console.core.i18n import t
from console.ui.screens.supervisor import (
    SupervisorHelpScreen,
    SupervisorScreen,
    supervisor_bindings,
)
from tests.fixtures.reference_server import RefServer
from tests.supervisor.live import HostApp, World, build_world, settle, wait_for

pytestmark = pytest.mark.timeout(180)


async def _open_world(ref_server: RefServer) -> World:
    world = await build_world(ref_server)
    # Ann (cap 1) and Bob (cap 2) take three Sales/Billing chats; the rest wait.
    for i in range(4):
        await world.start_chat(f"Sales customer {i}", "Sales")
    for i in range(3):
        await world.start_chat(f"Billing customer {i}", "Billing")
    return world


def _screen(app: HostApp) -> SupervisorScreen:
    assert app.supervisor is not None
    return app.supervisor


async def _loaded(pilot: Pilot[Any], app: HostApp, conversations: int) -> SupervisorScreen:
    await wait_for(pilot, lambda: app.supervisor is not None, "the supervisor screen")
    screen = _screen(app)
    await wait_for(
        pilot,
        lambda: (
            len(screen.dashboard.conversations) >= conversations
            and len(screen.departments_table.keys()) >= 2
            and len(screen.agents_table.keys()) >= 3
        ),
        "the first load",
    )
    return screen


async def _assert_matches_server(world: World, screen: SupervisorScreen) -> None:
    queues = await world.queues()
    agents = await world.agents_view()
    deps = screen.departments_table
    now = screen.clock()
    local = {d.department_id: d for d in screen.dashboard.departments(now)}
    for q in queues.items:
        key = q.department_id
        assert deps.cell_text(key, "waiting") == str(q.waiting), q.department_name
        assert deps.cell_text(key, "active") == str(q.active), q.department_name
        assert deps.cell_text(key, "abandoned") == str(q.abandoned_today), q.department_name
        assert deps.cell_text(key, "first") == format_duration(q.avg_first_response_seconds)
        # Longest wait ticks every second on both sides; allow the refresh period.
        assert abs(local[key].longest_wait_seconds - q.longest_wait_seconds) < 3.0
    table = screen.agents_table
    for a in agents.items:
        key = a.agent_id
        assert table.cell_text(key, "load") == f"{a.load}/{a.capacity}", a.name
        assert table.cell_text(key, "chats") == str(a.chats_today), a.name
        assert table.cell_text(key, "avg") == format_duration(a.avg_response_seconds), a.name
        status = t(f"supervisor.status.{a.status}")
        assert table.cell_text(key, "status").rstrip("*") == status, a.name


async def test_dashboard_numbers_match_the_server(ref_server: RefServer) -> None:
    """Counts, waits, first response, abandoned and agent load equal /queues and /agents."""
    world = await _open_world(ref_server)
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _loaded(pilot, app, conversations=7)
        await settle(pilot, screen)
        await _assert_matches_server(world, screen)

        # Live traffic while the screen runs: replies, a close (frees Ann, who takes
        # the next Sales chat), two new chats.
        active = [c for c in screen.dashboard.conversations.values() if c.state == "active"]
        assert active, "routing should have assigned some chats"
        ann_id = world.agents["Ann"][0]
        ann_chat = next(c for c in active if c.assignee_id == ann_id)
        await world.agent_says("Ann", ann_chat.id, "Hi! Looking into it.")
        await world.agent_closes("Ann", ann_chat.id)
        await world.start_chat("Late Sales", "Sales")
        await world.start_chat("Late Billing", "Billing")
        leaver = await world.start_chat("Gives up", "Billing")
        await world.customer_leaves(leaver["id"])
        await wait_for(
            pilot, lambda: ann_chat.id not in screen.dashboard.conversations, "the close event"
        )
        await wait_for(pilot, lambda: len(screen.dashboard.conversations) == 8, "the two new chats")
        await pilot.press("r")  # refresh binding: re-read /queues and /agents now
        await pilot.pause(0.5)
        await settle(pilot, screen)
        await _assert_matches_server(world, screen)
        assert "Hi! Looking into it." not in screen.bar.plain
        assert t("supervisor.readonly") in screen.bar.plain


def _bindings_of(node: DOMNode) -> list[tuple[str, Binding]]:
    """(key, binding) pairs a node declares, after keymaps (Textual keeps them in ``_bindings``)."""
    pairs: list[tuple[str, Binding]] = []
    for key, bindings in node._bindings.key_to_bindings.items():
        for binding in bindings:
            pairs.append((key, binding))
    return pairs


def _every_binding(screen: Any) -> list[tuple[Widget, str, Binding]]:
    found: list[tuple[Widget, str, Binding]] = []
    for node in [screen, *screen.walk_children(with_self=False)]:
        for key, binding in _bindings_of(node):
            if binding.action in {"quit", "app.quit"}:
                continue
            found.append((node, key, binding))
    return found


async def _press_everything(
    pilot: Pilot[Any], screen: SupervisorScreen, pressed: set[tuple[str, str, str]]
) -> None:
    """Press every binding of the current view, and of any screen a binding opens.

    Screen bindings are pressed in every view; a widget's bindings once per
    widget class and key (pressing the same DataTable key on three tables
    proves nothing more and costs seconds).
    """
    app = pilot.app
    for node, key, binding in _every_binding(screen):
        mark = (type(node).__name__, key, binding.action)
        if not node.is_attached or (node is not screen and mark in pressed):
            continue
        if node is not screen and not node.region:  # not on screen in this view
            continue
        if node.focusable:
            node.focus()
        else:
            screen.set_focus(None)
        await pilot.press(key)
        pressed.add(mark)
        # A binding may open another screen (help): press all of its bindings too.
        while app.screen is not screen:
            opened = app.screen
            for onode, okey, obinding in _every_binding(opened):
                if app.screen is not opened:
                    break
                if onode.focusable and onode.is_attached:
                    onode.focus()
                await pilot.press(okey)
                pressed.add((type(onode).__name__, okey, obinding.action))
            if app.screen is opened:
                app.pop_screen()
                await pilot.pause()


async def test_every_binding_leaves_the_server_untouched(ref_server: RefServer) -> None:
    """Press all bindings in all views; no mutating request arrives and no state changes."""
    world = await _open_world(ref_server)
    before = await world.conversation_states()
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot, app, conversations=7)
        await settle(pilot, screen)
        ref_server.clear_request_log()
        pressed: set[tuple[str, str, str]] = set()
        # Watch two conversations first, so the watch view has panes to act on.
        await pilot.press("c")
        await pilot.pause()
        for _ in range(2):
            await pilot.press("w")
            await pilot.pause(0.2)
            await pilot.press("down")
        assert len(screen.watch_grid.panes) == 2
        for view in ("dashboard", "conversations", "watch"):
            screen.view = view
            await pilot.pause()
            await _press_everything(pilot, screen, pressed)
            screen.view = view
        await settle(pilot, screen)

        # Every binding the supervisor screens declare was pressed at least once.
        actions = {action for _, _, action in pressed}
        for binding in SupervisorScreen.BINDINGS + SupervisorHelpScreen.BINDINGS:
            assert isinstance(binding, Binding)
            assert binding.action in actions, binding.id
        assert len(pressed) > 40  # widgets' own bindings (tables, input, transcript) too

        mutating = ref_server.mutating_requests()
        assert mutating == [], mutating
        requests = ref_server.request_log()
        assert requests, "the screen should have read from the server meanwhile"
        assert {r["method"] for r in requests} <= {"GET"}
    after = await world.conversation_states()
    assert after == before


async def test_rows_update_in_place_on_live_events(ref_server: RefServer) -> None:
    """Live events change cells of existing rows; the table is never rebuilt."""
    world = await _open_world(ref_server)
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _loaded(pilot, app, conversations=7)
        await settle(pilot, screen)
        table = screen.conversations_table
        assert table.row_count == 7
        added, updates = table.rows_added, table.cell_updates
        bob_id = world.agents["Bob"][0]
        bob_chat = next(
            c for c in screen.dashboard.conversations.values() if c.assignee_id == bob_id
        )
        await world.customer_says(bob_chat.id, "Are you there?")
        await world.agent_says("Bob", bob_chat.id, "Yes, one moment.")
        await world.start_chat("Newcomer", "Billing")
        await wait_for(pilot, lambda: len(screen.dashboard.conversations) == 8, "new chat")
        await settle(pilot, screen)
        assert table.row_count == 8
        assert table.rows_added == added + 1  # only the new conversation was added
        assert table.cell_updates > updates  # existing rows changed in place
        assert table.cell_text(_row_of(screen, "Newcomer"), "customer") == "Newcomer"

        # A furious customer: the Store's trigger severity reaches the table and the alerts.
        angry = _row_of(screen, "Newcomer")
        await world.customer_says(angry, "I'm furious, cancel my account! Get me a manager!!!")
        await wait_for(pilot, lambda: screen.dashboard.severity(angry) >= 2, "trigger severity")
        await settle(pilot, screen)
        assert table.cell_text(angry, "severity") == "●" * screen.dashboard.severity(angry)
        expected = t(
            "supervisor.alerts.frustrated",
            name="Newcomer",
            severity=screen.dashboard.severity(angry),
        )
        assert expected in screen.alerts_panel.plain


def _row_of(screen: SupervisorScreen, name: str) -> str:
    return next(c.id for c in screen.dashboard.conversations.values() if c.customer_name == name)


HOSTILE_NAME = "[@click=app.quit]Eve[/] [b]bold"
HOSTILE_BODY = "[red]not red[/red] \x1b]52;c;SGVsbG8=\x07 [@click=app.bell]x[/] \u202eevil"


async def test_hostile_text_renders_literally(ref_server: RefServer) -> None:
    """Markup in names and bodies is shown as typed; controls become visible placeholders."""
    world = await build_world(ref_server)
    conv = await world.start_chat(HOSTILE_NAME, "Sales", message=HOSTILE_BODY)
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await _loaded(pilot, app, conversations=1)
        await settle(pilot, screen)
        await pilot.press("c")
        await pilot.pause()
        table = screen.conversations_table
        assert table.cell_text(conv["id"], "customer") == HOSTILE_NAME
        await pilot.press("w")
        await wait_for(
            pilot,
            lambda: bool(screen.watch_grid.panes) and screen.watch_grid.panes[0].loaded,
            "the watch pane history",
        )
        pane = screen.watch_grid.panes[0]
        shown = pane.transcript_plain()
        assert "[red]not red[/red]" in shown
        assert "[@click=app.bell]x[/]" in shown
        assert "\x1b" not in shown and "\u202e" not in shown
        assert pane.title_plain == HOSTILE_NAME
        assert pane._border_title is not None and pane._border_title.plain == HOSTILE_NAME
        await pilot.press("v")
        await settle(pilot, screen)
        assert app.is_running  # the [@click=app.quit] did nothing


async def test_supervisor_token_in_the_real_app(ref_server: RefServer) -> None:
    """AgentConsoleApp shows this screen for a supervisor token, feeds it live events through
    its controller, and no app or screen binding sends a mutating request."""
    from textual.command import CommandPalette

    from console.backends.native import NativeBackend
    from console.ui.app import AgentConsoleApp

    world = await _open_world(ref_server)
    before = await world.conversation_states()
    app = AgentConsoleApp(NativeBackend(ref_server.url, world.supervisor_token))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, SupervisorScreen), "the supervisor screen"
        )
        assert isinstance(app.screen, SupervisorScreen)
        screen: SupervisorScreen = app.screen
        assert screen.gateway.read_only
        await wait_for(pilot, lambda: len(screen.dashboard.conversations) >= 7, "the first load")
        # The app's palette offers no agent action on the read-only screen.
        from console.ui.commands import ActionCommands

        offered = {row[0] for row in ActionCommands(screen)._commands()}
        assert {"quit", "show-dashboard", "sort-by-wait"} <= offered
        assert offered <= {"quit"} | {b.id for b in supervisor_bindings()}
        # A live event reaches the screen through the app's single stream consumer.
        late = await world.start_chat("Arrives live", "Billing")
        await wait_for(
            pilot, lambda: late["id"] in screen.dashboard.conversations, "the live event"
        )
        ref_server.clear_request_log()
        pressed: set[tuple[str, str, str]] = set()
        app_bindings = [(k, b) for k, b in _bindings_of(app) if b.action not in {"quit"}]
        for key, binding in app_bindings:
            screen.set_focus(None)
            await pilot.press(key)
            pressed.add(("App", key, binding.action))
            while app.screen is not screen:
                if not isinstance(app.screen, CommandPalette):
                    for onode, okey, obinding in _every_binding(app.screen):
                        if onode.focusable and onode.is_attached:
                            onode.focus()
                        opened = app.screen
                        await pilot.press(okey)
                        pressed.add((type(onode).__name__, okey, obinding.action))
                        if app.screen is not opened:
                            break
                if app.screen is not screen:
                    app.pop_screen()
                    await pilot.pause()
        # The screen's own bindings once more with the app's bindings active
        # (widgets' bindings are covered by the standalone test above).
        screen.view = "conversations"
        await pilot.pause()
        for key, binding in _bindings_of(screen):
            screen.set_focus(None)
            await pilot.press(key)
            pressed.add(("SupervisorScreen", key, binding.action))
            while app.screen is not screen:
                app.pop_screen()
                await pilot.pause()
        await settle(pilot, screen)
        assert ("App", "f2", "toggle_away") in pressed
        assert ref_server.mutating_requests() == []
    after = await world.conversation_states()
    after.pop(late["id"])
    assert after == before


async def test_numbers_match_the_server_under_simulated_customers(
    make_ref_server: Any,
) -> None:
    """Demo departments and agents, simulated customers (some give up, some get angry): once
    the simulator is done the dashboard equals /queues and /agents, and the severity column
    shows what the Store computed from the customers' messages."""
    from console.sim import run_simulator

    server = make_ref_server(demo=True)
    world = World(server, server.token("supervisor", "Sim Supervisor"))
    app = HostApp(server, world.supervisor_token)
    async with app.run_test(size=(160, 50)) as pilot:
        await wait_for(pilot, lambda: app.supervisor is not None, "the supervisor screen")
        screen = _screen(app)
        await wait_for(pilot, lambda: screen.departments_table.row_count > 0, "first load")
        stop = asyncio.Event()
        sim = asyncio.create_task(
            run_simulator(server.url, seed=11, customers=12, rate=600.0, speed=40.0, stop=stop)
        )
        # Stop while customers are still waiting or chatting, so open conversations remain.
        await wait_for(
            pilot,
            lambda: len(screen.dashboard.conversations) >= 5 or sim.done(),
            "simulated customers",
        )
        stop.set()
        stats = await sim
        assert stats.conversations_started >= 5, stats.summary()
        assert not stats.errors, stats.errors
        assert screen.dashboard.conversations, "some simulated chats should still be open"
        last_error: AssertionError | None = None
        for _ in range(20):  # the stream may still be delivering the last events
            await pilot.press("r")
            await pilot.pause(0.3)
            await settle(pilot, screen)
            try:
                await _assert_matches_server(world, screen)
            except AssertionError as error:
                last_error = error
                continue
            last_error = None
            break
        if last_error is not None:
            raise last_error
        store = screen.store
        assert store is not None
        table = screen.conversations_table
        for cid in table.keys():
            entry = store.entry(cid)
            severity = int(entry.severity) if entry is not None else 0
            expected = "●" * severity if severity else "-"
            assert table.cell_text(cid, "severity") == expected, cid


async def test_sort_filter_and_watch_six(ref_server: RefServer) -> None:
    """Sort keys order the table, the filter narrows it, watch panes follow live messages and
    stop at six."""
    world = await _open_world(ref_server)
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await _loaded(pilot, app, conversations=7)
        await settle(pilot, screen)
        await pilot.press("c")
        await settle(pilot, screen)
        table = screen.conversations_table
        convs = screen.dashboard.conversations
        now = screen.clock()

        await pilot.press("f6")  # sort-by-department
        deps = [convs[cid].department_name for cid in table.visible_order()]
        assert deps == sorted(deps, key=str.casefold)
        await pilot.press("f7")  # sort-by-agent
        agents = [(convs[cid].assignee_name or "").casefold() for cid in table.visible_order()]
        assert agents == sorted(agents)
        await pilot.press("f5")  # sort-by-wait
        waits = [screen.dashboard.wait_seconds(convs[cid], now) for cid in table.visible_order()]
        assert waits == sorted(waits, reverse=True)
        assert t("supervisor.sort.wait") in screen.bar.plain

        await pilot.press("slash", *"billing")
        await settle(pilot, screen)
        billing = {cid for cid, c in convs.items() if c.department_name == "Billing"}
        assert set(table.keys()) == billing
        await pilot.press("escape")
        await settle(pilot, screen)
        assert len(table.keys()) == 7

        table.focus()
        for row in range(7):
            table.move_cursor(row=row)
            await pilot.press("w")
        await pilot.pause(0.3)
        assert len(screen.watch_grid.panes) == 6  # the seventh was refused
        first = screen.watch_grid.panes[0]
        await wait_for(pilot, lambda: first.loaded, "the first pane's history")
        await world.customer_says(first.conversation_id, "A line that arrives live")
        await wait_for(
            pilot,
            lambda: "A line that arrives live" in first.transcript_plain(),
            "the live message in the watch pane",
        )
        # A watched chat that an agent closes says so in its pane.
        by_id = {agent_id: name for name, (agent_id, _tok) in world.agents.items()}
        closing = next(
            p
            for p in screen.watch_grid.panes
            if p.conversation is not None and p.conversation.assignee_id in by_id
        )
        assert closing.conversation is not None and closing.conversation.assignee_id
        await world.agent_closes(by_id[closing.conversation.assignee_id], closing.conversation_id)
        await wait_for(
            pilot,
            lambda: t("supervisor.watch.closed") in closing.info_plain,
            "the closed state in the watch pane",
        )
        await pilot.press("v")
        await pilot.pause()
        first.focus()
        await pilot.press("x")  # close-watch closes the focused pane
        await pilot.pause()
        await pilot.press("question_mark")  # the help lists every binding id with its keys
        await pilot.pause()
        assert isinstance(app.screen, SupervisorHelpScreen)
        keys = {
            str(cell.id).removeprefix("help-keys-"): str(cell.render())
            for cell in app.screen.query(".help-keys")
        }
        assert set(keys) == {b.id for b in supervisor_bindings()}
        assert "f5" in keys["sort-by-wait"].lower()
        await pilot.press("escape")
        await pilot.pause()
        assert first.conversation_id not in {p.conversation_id for p in screen.watch_grid.panes}
        assert len(screen.watch_grid.panes) == 5


async def test_backend_offline_alert(ref_server: RefServer) -> None:
    """Stopping the server raises the offline alert and the bar says so; a restart clears it.
    (Also: the [sla] thresholds of config.toml reach the dashboard.)"""
    from console.core.config import Config, SlaThresholds

    world = await _open_world(ref_server)
    config = Config(sla=SlaThresholds(warning_seconds=30.0, critical_seconds=90.0))
    app = HostApp(ref_server, world.supervisor_token, config=config)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _loaded(pilot, app, conversations=7)
        thresholds = screen.dashboard.thresholds
        assert thresholds.long_wait_seconds == thresholds.reply_sla_seconds == 90.0
        assert thresholds.first_response_sla_seconds == 30.0
        await settle(pilot, screen)
        assert t("supervisor.alerts.offline") not in screen.alerts_panel.plain
        ref_server.stop()
        await wait_for(
            pilot,
            lambda: t("supervisor.alerts.offline") in screen.alerts_panel.plain,
            "the offline alert",
        )
        assert t("supervisor.connection.connected") not in screen.bar.plain
        ref_server.start()
        await wait_for(
            pilot,
            lambda: (
                t("supervisor.alerts.offline") not in screen.alerts_panel.plain
                and t("supervisor.connection.connected") in screen.bar.plain
            ),
            "the link to return",
        )
