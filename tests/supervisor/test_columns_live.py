"""Columns that use the width, against the real reference server (Pilot).

* A long department name and a Korean one are shown whole when the terminal has
  room (widths by content, Rich cell measurement), and cut (never past the
  table) at 80 columns.
* The agent table names each agent's departments.
* After a sort key the conversation table is back at the top.
"""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from tests.fixtures.reference_server import RefServer
from tests.supervisor.live import HostApp, build_world, client, settle, wait_for

pytestmark = pytest.mark.timeout(180)

LONG = "Technical support and escalations"
KOREAN = "기술 지원 및 결제 문의 센터"


async def _world(ref_server: RefServer):  # type: ignore[no-untyped-def]
    world = await build_world(ref_server)
    for name in (LONG, KOREAN):
        world.departments[name] = ref_server.create_department(name)
    _aid, token = ref_server.create_agent("Dana", departments=(LONG, KOREAN), capacity=2)
    async with client(ref_server, token) as c:
        assert (await c.put("/me/status", json={"status": "away"})).status_code == 200
    for i in range(12):
        await world.start_chat(f"Customer {i}", (LONG, KOREAN, "Sales")[i % 3])
    return world


def _width(table, key: str) -> int:  # type: ignore[no-untyped-def]
    return next(c.width for c in table.ordered_columns if c.key.value == key)


@pytest.mark.parametrize("size", [(200, 50), (80, 24)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_columns_fit_content_and_terminal(
    ref_server: RefServer, size: tuple[int, int]
) -> None:
    world = await _world(ref_server)
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.supervisor is not None, "the screen")
        screen = app.supervisor
        assert screen is not None
        await wait_for(pilot, lambda: len(screen.dashboard.conversations) >= 12, "the load")
        await wait_for(pilot, lambda: len(screen.agents_table.keys()) >= 4, "the agents")
        await settle(pilot, screen)
        departments = screen.departments_table
        agents = screen.agents_table
        dana = next(k for k in agents.keys() if agents.cell_text(k, "agent").startswith("Dana"))
        assert agents.cell_text(dana, "agent") in (
            f"Dana · {LONG}, {KOREAN}",
            f"Dana · {KOREAN}, {LONG}",
        )
        await pilot.press("c")
        await settle(pilot, screen)
        table = screen.conversations_table
        if size[0] >= 200:
            assert _width(departments, "department") >= cell_len(KOREAN)
            assert _width(departments, "department") >= len(LONG)
            assert _width(table, "department") >= len(LONG)
        else:
            total = sum(c.get_render_width(table) for c in table.ordered_columns)
            assert total <= size[0]  # everything on screen; long names are cut
            assert _width(table, "department") < len(LONG)


async def test_sort_key_returns_to_the_top(ref_server: RefServer) -> None:
    world = await _world(ref_server)
    app = HostApp(ref_server, world.supervisor_token)
    async with app.run_test(size=(120, 12)) as pilot:  # 12 chats, fewer rows
        await wait_for(pilot, lambda: app.supervisor is not None, "the screen")
        screen = app.supervisor
        assert screen is not None
        await wait_for(pilot, lambda: len(screen.dashboard.conversations) >= 12, "the load")
        await pilot.press("c")
        await settle(pilot, screen)
        table = screen.conversations_table
        for _ in range(10):
            await pilot.press("down")
        await pilot.pause()
        assert table.cursor_row > 5 and table.scroll_y > 0
        for key in ("f6", "f7", "f8", "f5"):
            await pilot.press(key)
            await settle(pilot, screen)
            assert table.cursor_row == 0 and table.scroll_y == 0, key
            await pilot.press("down", "down", "down", "down", "down", "down", "down", "down")
            await pilot.pause()
