"""Close and transfer dialogs (issue 14 fix 6) against the real reference server.

Both name the chat and sit over the dimmed workspace (modal, the panes still
drawn); Enter submits; the close dialog offers a farewell in the customer's
language first; the transfer list shows each colleague's status and load and
leaves out offline ones.  A hostile customer name reaches neither dialog's
terminal output as controls.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from console.core.farewell import FAREWELLS
from console.ui.widgets.pane import ChatPane
from tests.core.safety import HOSTILE_CASES
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, agent_http, department, make_app, wait_for
from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in


def _colleague(server: RefServer, name: str, dept: str, status: str, load: int = 0) -> None:
    _, token = server.create_agent(name, departments=(dept,))
    r = httpx.put(
        server.api + "/me/status",
        json={"status": status, "accepting": True},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    assert r.status_code == 200, r.text


def _rows(dialog: object) -> list[str]:
    targets = dialog.query_one("#transfer-targets")  # type: ignore[attr-defined]
    return [str(targets.get_option_at_index(i).prompt) for i in range(targets.option_count)]


async def test_transfer_and_close_name_the_chat_submit_on_enter_and_say_farewell(
    ref_server: RefServer,
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana Diaz", department=dept)
    customer = Customer(ref_server, "정하늘")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await asyncio.to_thread(customer.start, dept, "안녕하세요, 결제 문의드립니다.")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        screen.grid.panes[0].composer.focus()
        # Colleagues come online once the chat is mine (else routing may give it to them).
        for name, status in (
            ("Bo Online", "online"),
            ("Cy Offline", "offline"),
            ("Di Away", "away"),
        ):
            await asyncio.to_thread(_colleague, ref_server, name, dept, status)

        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.screen.id == "transfer-dialog", what="transfer dialog")
        dialog = app.screen
        assert "정하늘" in str(dialog.query_one("#transfer-title").render())
        rows = _rows(dialog)
        assert not any("Cy Offline" in row for row in rows)
        bo = next(row for row in rows if "Bo Online" in row)
        assert "online" in bo and "0/3" in bo
        assert any("Di Away" in row and "away" in row for row in rows)
        # Modal over the workspace: the panes are still on the screen stack, drawn below.
        assert screen in app.screen_stack and screen.query(ChatPane)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="transfer closed")

        await pilot.press("f10")
        await wait_for(pilot, lambda: app.screen.id == "close-dialog", what="close dialog")
        dialog = app.screen
        assert "정하늘" in str(dialog.query_one("#close-title").render())
        assert str(dialog.query_one("#farewell-text").render()) == FAREWELLS["ko"]
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.grid.panes, what="closed")
    http = agent_http(ref_server, "Ana Diaz")
    assert http.get(f"/conversations/{customer.conversation_id}").json()["state"] == "closed"
    bodies = [msg["body"] for msg in customer.messages()]
    assert FAREWELLS["ko"] in bodies


async def test_transfer_enter_moves_the_chat_to_the_highlighted_target(
    ref_server: RefServer,
) -> None:
    """Enter in the note field transfers to the highlighted row (the first is highlighted)."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Eli", department=dept)
    customer = Customer(ref_server, "Sam")
    app = make_app(backend)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await asyncio.to_thread(customer.start, dept, "hello")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.screen.id == "transfer-dialog", what="dialog")
        targets = app.screen.query_one("#transfer-targets")
        first = targets.get_option_at_index(0).id  # type: ignore[attr-defined]
        assert targets.highlighted == 0 and first.startswith("d:")  # type: ignore[attr-defined]
        app.screen.query_one("#transfer-note").focus()
        await pilot.press(*"billing asks")
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.grid.panes, what="transferred")


_NAMES = list(HOSTILE_CASES)
_GROUPS = [["markup click", *_NAMES[:5]], ["markup click", *_NAMES[5:]]]


@pytest.mark.parametrize("cases", _GROUPS, ids=["first-half", "second-half"])
async def test_hostile_customer_name_stays_text_in_both_dialogs(
    ref_server: RefServer, cases: list[str]
) -> None:
    """Every HOSTILE_CASES string as the customer's and a colleague's name: no control,
    bidi or link reaches the terminal from either dialog, and the markup shows as text."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Fay", department=dept)
    hostile = " ".join(dict.fromkeys(HOSTILE_CASES[case] for case in cases))
    assert len(hostile) <= 200
    customer = Customer(ref_server, hostile)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        await asyncio.to_thread(customer.start, dept, "hi")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        await asyncio.to_thread(_colleague, ref_server, hostile, dept, "online")
        for key, dialog_id in (("ctrl+t", "transfer-dialog"), ("f10", "close-dialog")):
            await pilot.press(key)
            await wait_for(pilot, lambda i=dialog_id: app.screen.id == i, what=dialog_id)
            await pilot.pause(0.1)
            frame = frame_bytes(app)
            assert foreign_controls(frame) == [], dialog_id
            assert links_in(frame) == [], dialog_id
            assert "press me" in frame  # the markup case shows as text
            await pilot.press("escape")
            await wait_for(pilot, lambda: app.screen is screen, what="closed")
        assert app.is_running
