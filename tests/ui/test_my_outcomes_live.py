"""Outcomes for the agent (issue 14): today's first-response and average-response times in
the status bar, from the real reference server's /history, equal to what it reports."""

from __future__ import annotations

import asyncio

from console.core.duration import format_duration
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, agent_http, department, make_app, wait_for


def _load_text(app: object) -> str:
    return str(app.agent_screen.status_bar.query_one("#load").render())  # type: ignore[attr-defined]


async def test_status_bar_shows_my_response_times_for_today(ref_server: RefServer) -> None:
    dept = department(ref_server)
    backend, agent_id = agent_backend(ref_server, "Tia", department=dept)
    customer = Customer(ref_server, "Ola")
    app = make_app(backend)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        assert "today" not in _load_text(app)  # no chats today yet: nothing to show
        await asyncio.to_thread(customer.start, dept, "hello?")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        screen.grid.panes[0].composer.focus()
        await pilot.press(*"hi, how can I help?", "enter")
        await wait_for(
            pilot,
            lambda: any(m.get("author_kind") == "agent" for m in customer.messages()),
            what="reply delivered",
        )
        await pilot.press("f10")
        await wait_for(pilot, lambda: app.screen.id == "close-dialog", what="close dialog")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.grid.panes, what="closed")
        await wait_for(pilot, lambda: "today: 1st reply" in _load_text(app), what="my figures")
        history = agent_http(ref_server, "Tia").get("/history").json()
        (mine,) = [a for a in history["agents"] if a["agent_id"] == agent_id]
        first = format_duration(mine["today"]["avg_first_response_seconds"])
        average = format_duration(mine["today"]["avg_response_seconds"])
        assert f"today: 1st reply {first} · avg {average}" in _load_text(app)
