"""Read receipts against the real reference server: debounced, and only for a visible pane.

The server's debug request log counts the ``POST .../read`` requests that reached it.
"""

from __future__ import annotations

import asyncio

from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for


def read_posts(server: RefServer, conversation_id: str) -> int:
    return sum(
        1
        for r in server.request_log()
        if r["method"] == "POST" and r["path"].endswith(f"/conversations/{conversation_id}/read")
    )


async def test_a_watched_busy_chat_sends_one_receipt_per_interval_and_none_when_hidden(
    ref_server: RefServer,
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Rui", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        # An interval longer than the test: every receipt after the first is held back.
        app.controller.read_interval = 3600.0
        customer = Customer(ref_server, "Joon Lee")
        await asyncio.to_thread(customer.start, dept, "hello 0")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="a chat pane")
        pane = screen.grid.panes[0]
        cid = pane.conversation_id
        await wait_for(pilot, lambda: read_posts(ref_server, cid) == 1, what="first receipt")

        for i in range(1, 9):
            await asyncio.to_thread(customer.say, f"hello {i}")
        await wait_for(
            pilot,
            lambda: any(i.body == "hello 8" for i in pane.transcript.items()),
            what="the last message on screen",
        )
        await wait_for(pilot, lambda: app.controller.store.unread(cid) == 0, what="read locally")
        await pilot.pause(0.3)
        # Nine messages arrived in a chat the agent watches: one receipt went out, the
        # one for the rest waits for the interval to end (it is owed, not dropped).
        assert read_posts(ref_server, cid) == 1
        assert cid in app.controller._read_later

        # Hidden under another screen: the message stays unread and nothing is posted.
        app.action_show_help()
        await wait_for(pilot, lambda: app.screen is not screen, what="help on top")
        app.controller.read_interval = 0.0
        await asyncio.to_thread(customer.say, "are you there?")
        await wait_for(
            pilot,
            lambda: any(i.body == "are you there?" for i in pane.transcript.items()),
            what="message while hidden",
        )
        await pilot.pause(0.3)
        assert app.controller.store.unread(cid) == 1
        assert read_posts(ref_server, cid) == 1
