"""The agent workspace against the real reference server (NativeBackend over loopback)."""

from __future__ import annotations

import asyncio

from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for


async def test_a_new_chat_opens_a_pane_and_the_reply_reaches_the_customer(
    ref_server: RefServer,
) -> None:
    """Receive a chat (pane appears, header names the customer), reply with Enter."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.controller.me is not None, what="sign-in")
        customer = Customer(ref_server, "Mina Park", "mina@example.com")
        await asyncio.to_thread(customer.start, dept, "Hello, my parcel is late")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="a chat pane")
        pane = screen.grid.panes[0]
        assert "Mina Park" in pane.header().plain
        await wait_for(
            pilot,
            lambda: any(i.body == "Hello, my parcel is late" for i in pane.transcript.items()),
            what="customer message in the transcript",
        )
        assert isinstance(app.focused, type(pane.composer))
        await pilot.press(*"Sorry to hear that, checking now")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                app.controller.store.transcript(pane.conversation_id).newest_id is not None
                and any(i.delivery == "sent" for i in pane.transcript.items())
            ),
            what="reply at the customer",
        )
        await wait_for(
            pilot,
            lambda: (
                [i.delivery for i in pane.transcript.items() if i.author_kind == "agent"]
                == ["sent"]
            ),
            what="reply shown as sent exactly once",
        )
        assert pane.composer.text == ""
        bodies = [m["body"] for m in await asyncio.to_thread(customer.messages)]
        assert bodies.count("Sorry to hear that, checking now") == 1
