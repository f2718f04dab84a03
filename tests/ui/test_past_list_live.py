"""Past conversations in the sidebar (issue 14 fix 5 and the CSAT outcome) on the real server.

The list shows its rows at 200x50, names a closed chat closed (also one closed while
the console runs) with the customer's rating, and Enter opens the first row as soon as
the list has focus, without an arrow key first.
"""

from __future__ import annotations

import asyncio

from console.ui.widgets.sidebar import PastConversations
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, agent_http, department, make_app, wait_for


def _row_texts(past: PastConversations) -> list[str]:
    return [str(past.get_option_at_index(i).prompt) for i in range(past.option_count)]


def _visible(widget: object, container: object) -> bool:
    region = widget.region  # type: ignore[attr-defined]
    return region.height > 0 and container.region.overlaps(region)  # type: ignore[attr-defined]


async def test_past_list_is_visible_names_closed_with_rating_and_opens_on_enter(
    ref_server: RefServer,
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Pat Lee", department=dept)
    http = agent_http(ref_server, "Pat Lee")
    customer = Customer(ref_server, "Yuna Choi")
    first = await asyncio.to_thread(customer.start, dept, "first question")
    r = http.post(f"/conversations/{first['id']}/close", json={"request_csat": True})
    assert r.status_code == 200, r.text
    r = customer.http.post(f"/customer/conversations/{first['id']}/rate", json={"score": 4})
    assert r.status_code == 200, r.text
    # A long customer block (60 pre-chat answers): the list must not be pushed out of sight.
    prechat = {f"question {i}": f"answer {i}" for i in range(60)}
    await asyncio.to_thread(customer.start, dept, "second question", prechat=prechat)
    app = make_app(backend)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        screen = app.agent_screen
        assert screen is not None
        past = screen.sidebar.query_one(PastConversations)
        await wait_for(pilot, lambda: past.option_count == 1, what="past row")
        await wait_for(
            pilot,
            lambda: "answer 59" in str(screen.sidebar.query_one("#customer").render()),
            what="customer block",
        )
        await pilot.pause()
        block = screen.sidebar.query_one("#customer")
        assert block.size.height > screen.sidebar.size.height  # the block alone overflows
        assert _visible(past, screen.sidebar), past.region
        (row,) = _row_texts(past)
        assert "closed" in row and "open" not in row
        assert "★4" in row
        past.focus()
        await wait_for(pilot, lambda: past.highlighted == 0, what="first row highlighted")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: type(app.screen).__name__ == "PastConversationScreen", what="opened"
        )
