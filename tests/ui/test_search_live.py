"""Transcript search (issue 14) against the real reference server's full-text search.

Alt+S opens the search; a Korean word finds a colleague's chat; Enter on the result
opens it read-only at the hit, even when the hit is older than the newest page of
messages; hostile snippets and names reach the terminal as text only.
"""

from __future__ import annotations

import asyncio

import httpx

from console.ui.screens.search import SearchScreen
from console.ui.widgets.transcript import TranscriptView
from tests.core.safety import HOSTILE_CASES
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for
from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in


def _colleague_takes(server: RefServer, dept: str, conversation_id: str) -> None:
    _, token = server.create_agent("Oli Colleague", departments=(dept,))
    headers = {"Authorization": f"Bearer {token}"}
    r = httpx.post(
        f"{server.api}/conversations/{conversation_id}/accept", headers=headers, timeout=10
    )
    assert r.status_code == 200, r.text


def _prompts(search: SearchScreen) -> list[object]:
    options = search.query_one("#search-results")
    return [
        options.get_option_at_index(i).prompt  # type: ignore[attr-defined]
        for i in range(options.option_count)  # type: ignore[attr-defined]
    ]


async def _search(pilot: object, app: object, words: str) -> SearchScreen:
    await pilot.press("alt+s")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: app.screen.id == "search-dialog", what="search dialog")  # type: ignore[attr-defined]
    screen = app.screen  # type: ignore[attr-defined]
    assert isinstance(screen, SearchScreen)
    await pilot.press(*words, "enter")  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: screen.hits, what="search results")
    return screen


async def test_search_enter_opens_a_colleagues_chat_read_only_at_the_hit(
    ref_server: RefServer,
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Mia", department=dept, accepting=False)
    customer = Customer(ref_server, "한지민")
    await asyncio.to_thread(customer.start, dept, "안녕하세요")
    await asyncio.to_thread(_colleague_takes, ref_server, dept, customer.conversation_id)
    await asyncio.to_thread(customer.say, "주문번호 확인 부탁드립니다 XK-42")
    for number in range(60):  # the hit is older than the newest page (50)
        await asyncio.to_thread(customer.say, f"filler {number}")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        search = await _search(pilot, app, "주문번호")
        ((_key, hit),) = search.hits.items()
        assert hit.conversation_id == customer.conversation_id
        options = search.query_one("#search-results")
        row = str(options.get_option_at_index(0).prompt)  # type: ignore[attr-defined]
        assert "한지민" in row and "read-only" in row and "확인 부탁드립니다" in row
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: app.screen.id == "past-window", what="read-only window")
        window = app.screen
        assert window.at == hit.message_id  # type: ignore[attr-defined]
        assert len(window.messages) > 50  # type: ignore[attr-defined]
        view = window.query_one(TranscriptView)
        await wait_for(pilot, lambda: 0 < view.scroll_y < view.max_scroll_y, what="at the hit")
        assert "read-only" in str(window.query_one("Static").render())
        assert not app.controller.pane_order  # nothing was taken or accepted


async def test_hostile_search_results_stay_text(ref_server: RefServer) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Noa", department=dept, accepting=False)
    hostile = " ".join([HOSTILE_CASES["markup click"], *list(HOSTILE_CASES.values())[:5]])[:190]
    customer = Customer(ref_server, hostile)
    await asyncio.to_thread(customer.start, dept, "hello")
    for case in HOSTILE_CASES.values():
        await asyncio.to_thread(customer.say, f"needle {case}")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="workspace")
        search = await _search(pilot, app, "needle")
        assert len(search.hits) == len(HOSTILE_CASES)
        await pilot.pause(0.1)
        frame = frame_bytes(app)
        assert foreign_controls(frame) == []
        assert links_in(frame) == []
        rows = [str(hit_prompt) for hit_prompt in _prompts(search)]
        assert any("[@click=app.quit]" in row for row in rows), rows
        assert app.is_running
