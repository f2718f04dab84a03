"""The sidebar shows the focused chat's customer and never rebuilds under the agent.

Pilot against the real reference server: every key that moves focus between
chats (Alt+←/→, Ctrl+G, jump) must bring that chat's customer into the sidebar,
and messages arriving in the focused chat must not reset the agent's highlighted
row in the past-conversations list.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, agent_http, department, make_app, wait_for


def _sidebar_text(screen: Any) -> str:
    return str(screen.sidebar.query_one("#customer").render())


async def test_sidebar_follows_focus_after_cycle_most_at_risk_and_jump(
    ref_server: RefServer,
) -> None:
    """Alt+→, Alt+←, Ctrl+G and jump each bring the newly focused chat's customer."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    first, second = Customer(ref_server, "Aiko Tanaka"), Customer(ref_server, "Bruno Diaz")
    await asyncio.to_thread(first.start, dept, "first in line")
    await asyncio.to_thread(second.start, dept, "second in line")
    app = make_app(backend)
    async with app.run_test(size=(180, 50)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(
            pilot,
            # grid.panes lists a pane before its children are mounted
            lambda: (
                len(screen.grid.panes) == 2
                and all(pane.query("Composer") for pane in screen.grid.panes)
            ),
            what="two panes",
        )
        ids = {first.conversation_id: first.name, second.conversation_id: second.name}

        def shows(conversation_id: str) -> bool:
            pane = screen._pane_of(app.focused)
            return (
                pane is not None
                and pane.conversation_id == conversation_id
                and screen.sidebar.conversation_id == conversation_id
                and ids[conversation_id] in _sidebar_text(screen)
            )

        order = list(app.controller.pane_order)
        assert set(order) == set(ids)
        screen.grid.activate(order[0])
        await wait_for(pilot, lambda: shows(order[0]), what="the first chat in the sidebar")

        await pilot.press("alt+right")
        await wait_for(pilot, lambda: shows(order[1]), what="alt+right: second customer")
        await pilot.press("alt+left")
        await wait_for(pilot, lambda: shows(order[0]), what="alt+left: first customer")

        at_risk = app.controller.most_at_risk(screen.settings.critical_seconds)
        assert at_risk in order
        other = order[1] if at_risk == order[0] else order[0]
        if not shows(other):
            await pilot.press("alt+right")  # two chats: the next one is the other one
        await wait_for(pilot, lambda: shows(other), what="focus on the other chat")
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: shows(at_risk), what="ctrl+g: the most-at-risk customer")

        await pilot.press("ctrl+o")
        await wait_for(
            pilot, lambda: type(app.screen).__name__ == "JumpOverlay", what="jump overlay"
        )
        await pilot.press(str(order.index(other) + 1))  # pane labels are 1, 2 in pane order
        await wait_for(pilot, lambda: shows(other), what="jump: the other customer")


async def test_past_list_keeps_the_highlighted_row_while_messages_arrive(
    ref_server: RefServer,
) -> None:
    """New messages in the focused chat leave the past list (rows and highlight) alone."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    customer = Customer(ref_server, "Yui")
    http = agent_http(ref_server, "Ana")
    for question in ("first question", "second question"):
        await asyncio.to_thread(customer.start, dept, question)
        closed = http.post(f"/conversations/{customer.conversation_id}/close", json={})
        assert closed.status_code == 200, closed.text
    await asyncio.to_thread(customer.start, dept, "back again")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        past: Any = screen.query_one("#past")
        await wait_for(pilot, lambda: screen.grid.panes, what="the open chat's pane")
        await wait_for(pilot, lambda: past.option_count == 2, what="two past chats listed")
        rows_before = [past.get_option_at_index(i) for i in range(past.option_count)]
        past.focus()
        past.highlighted = 1
        await wait_for(
            pilot,
            lambda: app.focused is past and past.highlighted == 1,
            what="the second past chat highlighted",
        )
        pane = screen.grid.panes[0]
        for n in range(5):
            await asyncio.to_thread(customer.say, f"still there? {n}")
        await wait_for(
            pilot,
            lambda: "still there? 4" in [i.body for i in pane.transcript.items()],
            what="the new messages in the pane",
        )
        assert past.highlighted == 1
        rows_after = [past.get_option_at_index(i) for i in range(past.option_count)]
        assert all(a is b for a, b in zip(rows_before, rows_after, strict=True))  # not rebuilt
        assert screen.sidebar.conversation_id == customer.conversation_id
