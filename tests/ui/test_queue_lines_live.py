"""Queue lines worth choosing from (issue 14 fix 7) against the real reference server.

Each waiting chat shows the customer's last line, the trigger badge, whether the
customer came before and whether the department is closed now; a hostile last
line reaches the terminal as text only.
"""

from __future__ import annotations

import asyncio

import httpx

from console.backends.native import NativeBackend
from tests.core.safety import HOSTILE_CASES
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, department, make_app, wait_for
from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in


def _not_accepting_agent(server: RefServer, name: str, *departments: str) -> NativeBackend:
    _, token = server.create_agent(name, departments=departments)
    r = httpx.put(
        server.api + "/me/status",
        json={"status": "online", "accepting": False},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    assert r.status_code == 200, r.text
    return NativeBackend(server.url, token)


def _rows(app: object) -> dict[str, str]:
    queue = app.agent_screen.queue_panel.queue_list  # type: ignore[attr-defined]
    return {
        queue.get_option_at_index(i).id: str(queue.get_option_at_index(i).prompt)
        for i in range(queue.option_count)
    }


async def test_queue_rows_show_preview_badge_returning_and_closed_department(
    ref_server: RefServer,
) -> None:
    open_dept = department(ref_server)
    closed_dept = "Night desk"
    ref_server.create_department(closed_dept, hours={})  # no opening hours on any day
    backend = _not_accepting_agent(ref_server, "Quinn", open_dept, closed_dept)
    rita = Customer(ref_server, "Rita")
    first = await asyncio.to_thread(rita.start, open_dept, "first visit")
    r = rita.http.post(f"/customer/conversations/{first['id']}/leave")
    assert r.status_code in (200, 204), r.text
    await asyncio.to_thread(rita.start, open_dept, "hello again")
    await asyncio.to_thread(rita.say, "so ridiculous")
    nora = Customer(ref_server, "Nora")
    await asyncio.to_thread(nora.start, closed_dept, "anyone there tonight?")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")

        def described() -> bool:
            rows = _rows(app)
            return (
                "ridiculous" in rows.get(rita.conversation_id, "")
                and "returning" in rows.get(rita.conversation_id, "")
                and "anyone there" in rows.get(nora.conversation_id, "")
            )

        await wait_for(pilot, described, what="described queue rows")
        rows = _rows(app)
        assert "⚑" in rows[rita.conversation_id]
        assert "so ridiculous" in rows[rita.conversation_id]
        assert "dept. closed" not in rows[rita.conversation_id]
        assert "dept. closed" in rows[nora.conversation_id]
        assert "returning" not in rows[nora.conversation_id]
        assert "⚑" not in rows[nora.conversation_id]


async def test_a_hostile_last_line_in_the_queue_stays_text(ref_server: RefServer) -> None:
    dept = department(ref_server)
    backend = _not_accepting_agent(ref_server, "Vic", dept)
    customer = Customer(ref_server, "Hal")
    await asyncio.to_thread(customer.start, dept, "hi")
    app = make_app(backend)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        for number, case in enumerate(HOSTILE_CASES.values()):
            marker = f"case{number}"
            await asyncio.to_thread(customer.say, f"{marker} {case}")
            await wait_for(
                pilot,
                lambda m=marker: any(m in row for row in _rows(app).values()),
                what=marker,
            )
            await pilot.pause(0.1)
            frame = frame_bytes(app)
            assert foreign_controls(frame) == []
            assert links_in(frame) == []
        assert app.is_running
