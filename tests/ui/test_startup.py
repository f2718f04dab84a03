"""Startup without races: the role decides the screen, late updates go nowhere, errors
never end the shift.

The first wave pushed the agent screen before the token's role was known; a
supervisor token then replaced it while controller updates were still queued
for it, and the app died with ``NoMatches 'PaneGrid'`` (2 of 3 fresh CI runs).
These tests slow the role lookup and the first load down on purpose, which made
that crash happen every time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from textual.widgets import Static

from console.backends.native import NativeBackend
from console.protocol import models as m
from console.ui.app import AgentConsoleApp
from console.ui.screens.agent import AgentScreen
from console.ui.screens.loading import LoadingScreen
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for


class SlowStart(NativeBackend):
    """The real backend, with a slow ``/me`` (the role) and a slow first REST load."""

    def __init__(self, *args: Any, delay: float = 0.6, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.delay = delay
        self.roles_asked = 0

    async def connect(self) -> m.Me:
        await asyncio.sleep(self.delay)
        self.roles_asked += 1
        return await super().connect()

    async def list_conversations(self, *args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(self.delay)
        return await super().list_conversations(*args, **kwargs)


async def test_a_supervisor_token_never_gets_an_agent_screen(ref_server: RefServer) -> None:
    from console.ui.screens.supervisor import SupervisorScreen

    dept = department(ref_server)
    customer = Customer(ref_server, "Queued Before Start")
    await asyncio.to_thread(customer.start, dept, "hello")
    backend = SlowStart(ref_server.url, ref_server.token("supervisor", "Sam Slow"))
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        # Until the role is known only the neutral screen is up.
        assert isinstance(app.screen, LoadingScreen)
        assert backend.roles_asked == 0
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen), what="supervisor")
        late = Customer(ref_server, "Arrives Later")
        await asyncio.to_thread(late.start, dept, "are you there?")
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        await wait_for(pilot, lambda: len(screen.dashboard.conversations) >= 2, what="both chats")
        assert app.agent_screen is None
        assert not any(isinstance(s, AgentScreen) for s in app.screen_stack)
        assert app.is_running and not app.errors


async def test_an_agent_token_starts_cleanly_when_everything_is_slow(
    ref_server: RefServer,
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana Slow", department=dept, backend_class=SlowStart)
    customer = Customer(ref_server, "Waiting Customer")
    await asyncio.to_thread(customer.start, dept, "hi, anyone?")
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        assert isinstance(app.screen, LoadingScreen)
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None and app.screen is screen
        await wait_for(pilot, lambda: screen.grid.panes, what="the routed chat's pane")
        assert app.is_running and not app.errors


async def test_updates_queued_for_a_replaced_screen_are_dropped(ref_server: RefServer) -> None:
    """A change callback that lands after its screen left the stack draws nothing, raises
    nothing (the shape of the original crash, without timing)."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana Replaced", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        from textual.screen import Screen

        await app.switch_screen(Screen())
        await pilot.pause()
        from console.core.changes import WorkspaceChanges

        nope = WorkspaceChanges(dirty=frozenset({"nope"}), lists=True)
        await screen.apply_changes(nope)  # would query PaneGrid
        app._controller_changed(nope)
        await pilot.pause()
        assert app.is_running and not app.errors


async def test_the_first_screen_says_why_it_cannot_connect_and_retries(
    make_ref_server: Any,
) -> None:
    server: RefServer = make_ref_server()
    token = server.token("agent", "Ana Early")
    server.stop()
    app = make_app(NativeBackend(server.url, token))
    async with app.run_test(size=(80, 24)) as pilot:
        loading = app.screen
        assert isinstance(loading, LoadingScreen)
        detail = loading.query_one("#loading-detail", Static)
        await wait_for(
            pilot, lambda: "Could not connect" in str(detail.render()), what="the reason"
        )
        assert "to retry now" in str(detail.render())
        server.start()
        await pilot.press("r")
        await wait_for(pilot, lambda: isinstance(app.screen, AgentScreen), what="the workspace")
        assert app.is_running and not app.errors


@pytest.mark.survives_errors
async def test_a_failing_update_action_or_worker_is_shown_not_fatal(
    ref_server: RefServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana Errors", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        # 1. A widget bug while a controller change is drawn (the original crash's road).
        grid = screen.grid

        async def broken_sync(*args: Any) -> None:
            raise ZeroDivisionError("a widget bug")

        monkeypatch.setattr(grid, "sync", broken_sync)
        from console.core.changes import WorkspaceChanges

        app._controller_changed(WorkspaceChanges(lists=True))
        await wait_for(pilot, lambda: len(app.errors) == 1, what="the drawing error")
        monkeypatch.undo()

        # 2. A failing action (key binding or palette).
        def action_broken() -> None:
            raise KeyError("an action bug")

        monkeypatch.setattr(app, "action_broken", action_broken, raising=False)
        await app.run_action("broken")

        # 3. A failing worker.
        async def broken_worker() -> None:
            raise LookupError("a worker bug")

        app.run_worker(broken_worker())
        await wait_for(pilot, lambda: len(app.errors) == 3, what="all errors recorded")
        assert app.is_running
        assert [type(e) for e in app.errors] == [ZeroDivisionError, KeyError, LookupError]
        toasts = [n.message for n in app._notifications]
        assert any("ZeroDivisionError" in t and "keeps running" in t for t in toasts)
        assert any("LookupError" in t for t in toasts)
        # The workspace still works after all three: a new chat gets its pane.
        customer = Customer(ref_server, "After The Errors")
        await asyncio.to_thread(customer.start, dept, "still there?")
        await wait_for(pilot, lambda: screen.grid.panes, what="a pane after the errors")
        await pilot.press("f2")  # a real key still runs its action
        await wait_for(
            pilot,
            lambda: app.controller.me is not None and app.controller.me.status == "away",
            what="away",
        )
    AgentConsoleApp.survived_errors.clear()
