"""Quit safely (issue 14 fix 4) against the real reference server.

Quitting with open chats asks first (naming the count); quitting sets the agent
away and not accepting on the server; the composer draft comes back after a
restart; a console that starts away says which key brings the agent online.
"""

from __future__ import annotations

import asyncio
import stat

from console.backends.native import NativeBackend
from console.core import paths
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, agent_http, department, make_app, wait_for


def _server_status(server: RefServer, name: str) -> tuple[str, bool]:
    me = agent_http(server, name).get("/me").json()
    return me["status"], me["accepting"]


def _toasts(app: object) -> list[str]:
    return [str(n.message) for n in app._notifications]  # type: ignore[attr-defined]


async def test_quit_asks_sets_away_on_the_server_and_keeps_the_draft(ref_server: RefServer) -> None:
    """Ctrl+Q with an open chat asks (Escape stays); confirming sets the agent away and
    not accepting on the server; after a restart the draft is back in the pane's composer
    and a toast says how to go online."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Quinn Park", department=dept)
    token = backend._token
    customer = Customer(ref_server, "Mina")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await asyncio.to_thread(customer.start, dept, "hello")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        composer = screen.grid.panes[0].composer
        composer.focus()
        await pilot.press(*"half-written 답장")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.screen.id == "quit-dialog", what="quit dialog")
        body = str(app.screen.query_one("#quit-body").render())
        assert "Open chats: 1." in body
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="dialog closed")
        assert app.is_running
        assert await asyncio.to_thread(_server_status, ref_server, "Quinn Park") == (
            "online",
            True,
        )
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.screen.id == "quit-dialog", what="quit dialog again")
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")
    assert await asyncio.to_thread(_server_status, ref_server, "Quinn Park") == ("away", False)
    drafts = list((paths.state_dir() / "drafts").glob("*.json"))
    assert len(drafts) == 1
    assert stat.S_IMODE(drafts[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(drafts[0].parent.stat().st_mode) == 0o700

    # The same agent starts again: the draft is back, and the console says how to go online.
    app = make_app(NativeBackend(ref_server.url, token))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace after restart")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane after restart")
        assert screen.grid.panes[0].composer.text == "half-written 답장"
        await wait_for(
            pilot,
            lambda: any("You are away" in t and "f2" in t for t in _toasts(app)),
            what="go-online hint",
        )


async def test_quit_without_open_chats_does_not_ask_and_still_sets_away(
    ref_server: RefServer,
) -> None:
    """No open chats: Ctrl+Q quits at once, and the agent is away on the server."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Rae Kim", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await pilot.press("ctrl+q")
        await wait_for(pilot, lambda: app.return_code is not None, what="exit")
        assert app.screen.id != "quit-dialog"
    assert await asyncio.to_thread(_server_status, ref_server, "Rae Kim") == ("away", False)
