"""Customer labels edited from the sidebar (issue 14) against the real reference server."""

from __future__ import annotations

import asyncio

from console.ui.screens.labels import parse_tags
from tests.core.safety import HOSTILE_CASES
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, agent_http, department, make_app, wait_for
from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in


def test_parse_tags() -> None:
    assert parse_tags(" vip, #환불-위험 ,vip,, ") == ["vip", "환불-위험"]
    assert len(parse_tags(",".join(f"t{i}" for i in range(80)))) == 50


async def test_alt_t_edits_the_labels_on_the_server_and_in_the_sidebar(
    ref_server: RefServer,
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Lee", department=dept)
    customer = Customer(ref_server, "정하늘")
    http = agent_http(ref_server, "Lee")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await asyncio.to_thread(customer.start, dept, "hello")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        r = await asyncio.to_thread(
            http.put, f"/customers/{customer.id}/tags", json={"tags": ["vip"]}
        )
        assert r.status_code == 200, r.text
        block = screen.sidebar.query_one("#customer")
        await wait_for(pilot, lambda: "#vip" in str(block.render()), what="tag shown")
        screen.grid.panes[0].composer.focus()
        await pilot.press("alt+t")
        await wait_for(pilot, lambda: app.screen.id == "tags-dialog", what="labels dialog")
        field = app.screen.query_one("#tags-input")
        assert field.value == "vip"  # type: ignore[attr-defined]
        await pilot.press("end", *", 환불-위험", "enter")
        await wait_for(pilot, lambda: "#환불-위험" in str(block.render()), what="new tag shown")
        saved = (await asyncio.to_thread(http.get, f"/customers/{customer.id}")).json()
        assert saved["tags"] == ["vip", "환불-위험"]
        assert screen.grid.panes[0].composer.text == ""  # alt+t typed nothing into the reply


async def test_hostile_labels_stay_text_in_the_dialog(ref_server: RefServer) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Max", department=dept)
    customer = Customer(ref_server, "Hal")
    http = agent_http(ref_server, "Max")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await asyncio.to_thread(customer.start, dept, "hello")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        tags = [case[:60] for case in HOSTILE_CASES.values()]
        r = await asyncio.to_thread(http.put, f"/customers/{customer.id}/tags", json={"tags": tags})
        assert r.status_code == 200, r.text
        await wait_for(
            pilot,
            lambda: (
                (c := app.controller.store.customer(customer.id)) is not None
                and len(c.tags) == len(tags)
            ),
            what="tags loaded",
        )
        await pilot.press("alt+t")
        await wait_for(pilot, lambda: app.screen.id == "tags-dialog", what="labels dialog")
        await pilot.pause(0.1)
        for where in ("dialog", "sidebar"):
            frame = frame_bytes(app)
            assert foreign_controls(frame) == [], where
            assert links_in(frame) == [], where
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen, what="closed")
        assert app.is_running
