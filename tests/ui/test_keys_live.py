"""Bindings, keymap, help and the command palette, in the real app against the real server."""

from __future__ import annotations

import asyncio

from console.core.config import Config
from console.ui.bindings import SPECS
from console.ui.screens.help import HelpScreen
from console.ui.widgets.composer import Composer
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for


async def test_keymap_remaps_and_reports_collisions_naming_both(ref_server: RefServer) -> None:
    """accept-next moved to f12 works there; jump remapped onto F5 is reported at start."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept, status="away")
    await asyncio.to_thread(Customer(ref_server, "Waiting Wu").start, dept, "hello")
    config = Config(keymap={"accept-next": "f12", "jump": "f5"})
    app = make_app(backend, config=config)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: len(app.controller.queued()) == 1, what="queued chat")
        problems = [n.message for n in app._notifications]
        assert any("'expect-researching'" in p and "'jump'" in p for p in problems), problems
        await pilot.press("f9")  # the old key does nothing now
        await pilot.pause(0.3)
        assert app.controller.pane_order == []
        await pilot.press("f12")
        await wait_for(pilot, lambda: len(app.controller.pane_order) == 1, what="accepted via f12")


async def test_help_lists_every_binding_id_with_current_keys(ref_server: RefServer) -> None:
    """F1 shows all registry ids plus the composer's, with remapped keys as displayed."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend, config=Config(keymap={"accept-next": "ctrl+y"}))
    async with app.run_test(size=(160, 45)) as pilot:
        await asyncio.to_thread(Customer(ref_server, "Lee").start, dept, "hi")
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        # The pane may still be composing: wait for its composer to exist and take focus.
        await wait_for(pilot, lambda: isinstance(app.focused, Composer), what="focus")
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        rows = {row.id: row for row in help_screen.rows}
        agent_ids = {spec.id for spec in SPECS if not spec.scope.startswith("supervisor")}
        assert agent_ids <= set(rows)
        assert rows["send-reply"].scope == "composer" and "insert-newline" in rows
        assert "sort-by-wait" not in rows  # the supervisor screen lists its own
        assert rows["accept-next"].keys == "^y"
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen), what="help closed")


async def test_command_palette_reaches_workspace_actions(ref_server: RefServer) -> None:
    """ctrl+p, 'maximize', Enter maximizes the focused chat."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(200, 50)) as pilot:
        for name in ("P1", "P2"):
            await asyncio.to_thread(Customer(ref_server, name).start, dept, "hi")
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: len(screen.grid.panes) == 2, what="panes")
        await pilot.press("ctrl+p")
        await pilot.pause(0.3)
        await pilot.press(*"maximize-chat")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.grid.maximized, what="maximized from the palette")


async def test_status_and_accepting_toggles_reach_the_server(ref_server: RefServer) -> None:
    """F2 toggles online/away and F3 accepting; the status bar and the server agree."""
    from tests.ui.conftest import agent_http

    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        screen = app.agent_screen
        assert screen is not None
        await pilot.press("f2")
        await wait_for(pilot, lambda: app.controller.me.status == "away", what="away")  # type: ignore[union-attr]
        await pilot.press("f3")
        await wait_for(pilot, lambda: app.controller.me.accepting is False, what="not accepting")  # type: ignore[union-attr]
        me = agent_http(ref_server, "Ana").get("/me").json()
        assert me["status"] == "away" and me["accepting"] is False
        await pilot.pause(0.1)
        status_line = screen.status_bar.query_one("#me").render()
        assert "away" in str(status_line) and "not accepting" in str(status_line)


async def test_supervisor_token_gets_the_read_only_supervisor_screen(ref_server: RefServer) -> None:
    """A supervisor token: ReadOnlyBackend, SupervisorScreen, no status toggles."""
    from console.backends.base import ReadOnlyBackend
    from console.backends.native import NativeBackend
    from console.ui.screens.supervisor import SupervisorScreen

    backend = NativeBackend(ref_server.url, ref_server.token("supervisor", "Sue"))
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen), what="supervisor")
        assert isinstance(app.backend, ReadOnlyBackend) and app.readonly
        assert app.check_action("toggle_away", ()) is False
        await pilot.press("f2")
        await pilot.pause(0.2)
        assert ref_server.mutating_requests(role="supervisor") == []


async def test_a_bad_token_says_sign_in_failed_and_what_to_do(ref_server: RefServer) -> None:
    """AuthError on connect: the first screen says so and what to do; no retry loop, the app
    stays up."""
    from textual.widgets import Static

    from console.backends.native import NativeBackend
    from console.ui.screens.loading import LoadingScreen

    app = make_app(NativeBackend(ref_server.url, "not-a-token"))
    async with app.run_test(size=(120, 30)) as pilot:
        screen = app.screen
        assert isinstance(screen, LoadingScreen)
        detail = screen.query_one("#loading-detail", Static)
        await wait_for(
            pilot, lambda: "agent-console login" in str(detail.render()), what="the reason"
        )
        assert detail.has_class("-error")
        assert any("agent-console login" in n.message for n in app._notifications)
        assert app._retry_timer is None  # a refused token is not retried in a loop
        assert app._running and app.agent_screen is None


async def test_notification_settings_silence_or_amplify_new_chat_alerts(
    ref_server: RefServer,
) -> None:
    """[notifications] toasts=false, bell=false: a new queued chat is silent;
    sound=true rings a burst of three."""
    from console.core.config import Notifications

    dept = department(ref_server)
    for settings, expected_rings, expect_toast in (
        (Notifications(toasts=False, bell=False, sound=False), 0, False),
        (Notifications(toasts=True, bell=False, sound=True), 3, True),
    ):
        backend, _ = agent_backend(
            ref_server, f"Ana {expected_rings}", department=dept, status="away"
        )
        app = make_app(backend, config=Config(notifications=settings))
        rings: list[int] = []
        app.bell = lambda rings=rings: rings.append(1)  # type: ignore[method-assign, misc]
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda app=app: app.workspace_ready, what="ready")
            await pilot.pause(0.5)
            name = f"Quiet {expected_rings}"
            await asyncio.to_thread(Customer(ref_server, name).start, dept, "hello")
            await wait_for(
                pilot,
                lambda app=app, name=name: any(
                    c.customer_name == name for c in app.controller.queued()
                ),
                what="queued",
            )
            await pilot.pause(0.6)
            assert len(rings) == expected_rings
            assert any(name in n.message for n in app._notifications) is expect_toast
