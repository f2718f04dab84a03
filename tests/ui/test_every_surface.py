"""Every surface that shows outside text, with every hostile case in every field.

The first wave's leaks were on side roads (a dialog, a toast, a window title
that read the backend directly), so this walks them all against the real
reference server: transcript, pane header, tab strip, queue, sidebar (account,
e-mail, page, pre-chat answers, tags, notes, past list), canned palette,
command palette, past-conversation window, transfer dialog (colleague and
department names), toasts (new chat, trigger, transfer, close) and the close
dialog.  At each stop it renders the bytes a real terminal would receive
(``frame_bytes``) and finds no control, C1, bidi or zero-width character that
Textual did not write itself, and no hyperlink.

Each field carries the hostile cases of DESIGN.md (``tests/core/safety.py``),
split in two groups so names stay within the server's length limits.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from textual.widgets import Button

from tests.core.safety import HOSTILE_CASES
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, agent_http, make_app, wait_for
from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in

_CASES = list(HOSTILE_CASES.values())
GROUPS = {
    "first-half": "".join(_CASES[: len(_CASES) // 2]),
    "second-half": "".join(_CASES[len(_CASES) // 2 :]),
}
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def _email(hostile: str) -> str:
    """The server accepts any e-mail without whitespace or a second '@'."""
    kept = "".join(ch for ch in hostile if not ch.isspace() and ch not in "@\x1c\x1d\x1e\x1f")
    return f"{kept[:200]}@evil.example"


class Frames:
    """Collects the frames of one walk and checks each."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[str] = []

    def check(self, where: str) -> str:
        frame = frame_bytes(self.app)
        assert foreign_controls(frame) == [], f"{where}: raw controls reach the terminal"
        assert links_in(frame) == [], f"{where}: a hostile link became a hyperlink"
        self.seen.append(where)
        return frame


async def _modal(pilot: Any, base: Any, key: str, what: str) -> Any:
    """Press ``key`` and wait until a screen opens over ``base``."""
    app = pilot.app
    await pilot.press(key)
    await wait_for(pilot, lambda: app.screen is not base, what=what)
    await pilot.pause(0.2)
    return app.screen


async def _back_to(pilot: Any, screen: Any) -> None:
    app = pilot.app
    for _ in range(4):
        if app.screen is screen:
            return
        await pilot.press("escape")
        await pilot.pause(0.1)
    await wait_for(pilot, lambda: app.screen is screen, what="back to the workspace")


@pytest.mark.parametrize("hostile", list(GROUPS.values()), ids=list(GROUPS))
async def test_every_agent_surface_keeps_hostile_text_out_of_the_terminal(
    ref_server: RefServer, hostile: str
) -> None:
    # ---------------------------------------------------------------- the world
    ref_server.create_department(f"Dept {hostile}"[:100])
    dept_name = f"Dept {hostile}"[:100]
    backend, _ = agent_backend(ref_server, "Ana", department=dept_name, capacity=1)
    # A colleague with a hostile name, online, so the transfer dialog lists them.
    agent_backend(ref_server, f"Colleague {hostile}"[:200], department=dept_name, accepting=False)
    ana = agent_http(ref_server, "Ana")
    canned = ana.post(
        "/canned-replies",
        json={"title": f"Canned {hostile}"[:200], "shortcut": "evil", "body": f"Body {hostile}"},
    )
    assert canned.status_code == 201, canned.text

    name = f"Eve {hostile}"[:200]
    customer = Customer(ref_server, name, _email(hostile))
    prechat = {"topic": hostile[:200], f"q{hostile[:40]}": hostile[:200]}
    # An earlier, closed chat of the same customer: the past list and its window.
    await asyncio.to_thread(
        customer.start, dept_name, f"old {hostile}", page_url=hostile, prechat=prechat
    )
    old_id = customer.conversation_id
    closed = ana.post(f"/conversations/{old_id}/close", json={})
    assert closed.status_code == 200, closed.text
    # The open chat: hostile message, an angry line (trigger toast), a hostile file name.
    await asyncio.to_thread(
        customer.start, dept_name, f"new {hostile}", page_url=hostile, prechat=prechat
    )
    upload = customer.http.post(
        "/customer/attachments", files={"file": (f"{hostile[:60]}.png", PNG)}
    )
    assert upload.status_code == 201, upload.text
    sent = customer.http.post(
        f"/customer/conversations/{customer.conversation_id}/messages",
        json={"client_id": "file-1", "body": "", "attachment_ids": [upload.json()["id"]]},
    )
    assert sent.status_code == 201, sent.text
    assert ana.post(f"/customers/{customer.id}/notes", json={"body": hostile}).status_code < 300
    tags = ana.put(f"/customers/{customer.id}/tags", json={"tags": [hostile[:300]]})
    assert tags.status_code == 200, tags.text

    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        frames = Frames(app)
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="the chat's pane")
        pane = screen.grid.panes[0]
        await wait_for(
            pilot,
            lambda: app.controller.store.transcript(pane.conversation_id).loaded,
            what="history",
        )
        await asyncio.to_thread(customer.say, f"this is ridiculous, I want to cancel {hostile}")
        # A second customer waits in the queue (capacity 1): queue line and new-chat toast.
        waiting = Customer(ref_server, f"Queued {hostile}"[:200])
        await asyncio.to_thread(waiting.start, dept_name, f"waiting {hostile}")
        await wait_for(pilot, lambda: app.controller.queued(), what="the queued chat")
        await wait_for(pilot, lambda: screen.sidebar.customer_id == customer.id, what="the sidebar")
        await wait_for(pilot, lambda: len(app._notifications) >= 2, what="toasts")
        await pilot.pause(0.5)  # let the 4 Hz queue refresh and the sidebar draw
        wide = frames.check("workspace 160x45 with toasts")
        assert "[@click=app.quit]" in wide or "[link=" in wide or "⟨" in wide
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        frames.check("workspace 80x24 (tab strip)")
        await pilot.resize_terminal(160, 45)
        await pilot.pause(0.3)

        # Canned palette and command palette.
        palette = await _modal(pilot, screen, "ctrl+f", "the canned palette")
        frames.check("canned palette")
        await _back_to(pilot, screen)
        await _modal(pilot, screen, "ctrl+p", "the command palette")
        await pilot.press(*"canned")
        await pilot.pause(0.3)
        frames.check("command palette")
        await _back_to(pilot, screen)
        del palette

        # The past conversation window (from the sidebar's past list).
        past = screen.query_one("#past")
        await wait_for(pilot, lambda: past.option_count >= 1, what="past list")  # type: ignore[attr-defined]
        past.focus()
        past.highlighted = 0  # type: ignore[attr-defined]
        await pilot.pause(0.1)
        await _modal(pilot, screen, "enter", "the past conversation")
        await pilot.pause(0.5)
        frames.check("past conversation window")
        await _back_to(pilot, screen)

        # The transfer dialog lists the hostile colleague and department.
        pane.composer.focus()
        await pilot.pause(0.1)
        await _modal(pilot, screen, "ctrl+t", "the transfer dialog")
        await pilot.pause(0.5)
        frames.check("transfer dialog")
        await _back_to(pilot, screen)

        # The close dialog names the chat; closing it shows the close toast.
        pane.composer.focus()
        await pilot.pause(0.1)
        dialog = await _modal(pilot, screen, "f10", "the close dialog")
        frames.check("close dialog")
        for _ in range(4):  # farewell step (if any), then confirm
            if app.screen is screen:
                break
            confirm = [b for b in app.screen.query(Button) if "confirm" in (b.id or "")]
            if confirm:
                confirm[0].press()
            else:
                await pilot.press("enter")
            await pilot.pause(0.3)
        del dialog
        await _back_to(pilot, screen)
        await wait_for(
            pilot,
            lambda: customer.conversation_id not in app.controller.pane_order,
            what=f"the chat closed; toasts: {[n.message for n in app._notifications]!r}",
        )
        await pilot.pause(0.3)
        frames.check("after close (close toast)")

        # Accept the queued chat: its pane, header and the toasts.
        await pilot.press("f9")
        await wait_for(pilot, lambda: screen.grid.panes, what="the accepted chat")
        await pilot.pause(0.5)
        frames.check("accepted chat")
        toasts = [n.message for n in app._notifications]
        assert all(foreign_controls(t) == [] for t in toasts)
        assert app.is_running and not app.errors
    assert len(frames.seen) == 9
    assert isinstance(ana, httpx.Client)


@pytest.mark.parametrize("hostile", list(GROUPS.values()), ids=list(GROUPS))
async def test_every_supervisor_surface_keeps_hostile_text_out_of_the_terminal(
    ref_server: RefServer, hostile: str
) -> None:
    """Dashboard (department and agent tables, alerts, sparkline), conversations table,
    watch pane and palette, in the real app with a supervisor token; the clock runs 30
    minutes ahead so every waiting chat raises its alerts."""
    from datetime import UTC, datetime, timedelta

    from console.backends.native import NativeBackend
    from console.ui.screens.supervisor import SupervisorScreen

    dept_name = f"Dept {hostile}"[:100]
    ref_server.create_department(dept_name)
    agent_backend(ref_server, f"Agent {hostile}"[:200], department=dept_name, capacity=1)
    served = Customer(ref_server, f"Served {hostile}"[:200], _email(hostile))
    await asyncio.to_thread(served.start, dept_name, f"served {hostile}", page_url=hostile)
    waiting = Customer(ref_server, f"Waiting {hostile}"[:200])
    await asyncio.to_thread(waiting.start, dept_name, f"angry, I want to cancel {hostile}")

    def later() -> datetime:
        return datetime.now(UTC) + timedelta(minutes=30)

    token = ref_server.token("supervisor", f"Sup {hostile}"[:200])
    app = make_app(NativeBackend(ref_server.url, token), clock=later)
    async with app.run_test(size=(200, 50)) as pilot:
        frames = Frames(app)
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen), what="supervisor")
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        await wait_for(pilot, lambda: len(screen.dashboard.conversations) >= 2, what="both chats")
        await wait_for(pilot, lambda: screen.dashboard.alerts(screen.clock()), what="alerts")
        await pilot.pause(0.5)
        frames.check("supervisor dashboard 200x50")
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        frames.check("supervisor dashboard 80x24")
        await pilot.resize_terminal(200, 50)
        await pilot.press("c")
        await pilot.pause(0.5)
        frames.check("conversations table")
        await pilot.press("w")
        await wait_for(
            pilot,
            lambda: bool(screen.watch_grid.panes) and screen.watch_grid.panes[0].loaded,
            what="the watch pane",
        )
        await pilot.press("v")
        await pilot.pause(0.5)
        frames.check("watch pane")
        await _modal(pilot, screen, "ctrl+p", "the command palette")
        await pilot.press(*"sort")
        await pilot.pause(0.3)
        frames.check("command palette")
        await _back_to(pilot, screen)
        assert app.is_running and not app.errors
    assert len(frames.seen) == 5
