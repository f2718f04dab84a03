"""Every hostile case from DESIGN.md, typed by a real customer through the real server.

The customer's name, page URL and messages carry markup that would run an
action, open a link or crash the markup parser, and control sequences that a
terminal would obey (OSC 52 clipboard write, OSC 0 title, CSI colours, C1,
bidi overrides, zero-width characters).  The app must not crash, must run no
action, must show the brackets literally and the controls as visible
placeholders, and must never put a raw control character on screen.
"""

from __future__ import annotations

import asyncio
import unicodedata

from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for
from tests.ui.terminal_output import foreign_controls, frame_bytes, links_in

HOSTILE_MESSAGES: dict[str, str] = {
    "click action": "[@click=app.quit]press me[/]",
    "stray close tag": "oops [/] and [/bold] and [",
    "link markup": "[link=https://evil.example]free money[/link]",
    "csi colours": "\x1b[31mred\x1b[0m \x1b[2J cleared",
    "osc 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07 copied",
    "osc 0 title": "\x1b]0;you have been pwned\x07 titled",
    "c1 controls": "\x9b31m C1 CSI \x85 NEL \x9d OSC",
    "bidi override": "invoice \u202egnp.exe\u202c done",
    "zero width": "pay\u200bpal \u2060joined\ufeff",
}
HOSTILE_NAME = "[@click=app.quit]Eve[/] \x1b]0;name\x07 \u202eevE"
HOSTILE_PAGE = "[link=https://evil.example]x[/link]\x1b[5m"


def _visible_controls(text: str) -> list[str]:
    """Characters that a terminal would act on (controls, bidi, zero-width format chars)."""
    return [
        f"U+{ord(ch):04X}"
        for ch in text
        if ch != "\n" and unicodedata.category(ch) in ("Cc", "Cf") and ch != "\u200d"
    ]


def _screen_text(app: object) -> str:
    screen = app.screen  # type: ignore[attr-defined]
    return "\n".join(strip.text for strip in screen._compositor.render_strips())


async def test_hostile_customer_text_runs_nothing_and_renders_as_placeholders(
    ref_server: RefServer,
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    actions: list[str] = []
    original_run_action = app.run_action

    async def recording_run_action(action: str, *args: object, **kwargs: object) -> bool:
        actions.append(action)
        return await original_run_action(action, *args, **kwargs)  # type: ignore[arg-type]

    app.run_action = recording_run_action  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, HOSTILE_NAME)
        await asyncio.to_thread(
            customer.start, dept, HOSTILE_MESSAGES["click action"], page_url=HOSTILE_PAGE
        )
        for body in list(HOSTILE_MESSAGES.values())[1:]:
            await asyncio.to_thread(customer.say, body)
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        pane = screen.grid.panes[0]
        await wait_for(
            pilot,
            lambda: (
                len([i for i in pane.transcript.items() if i.author_kind == "customer"])
                == len(HOSTILE_MESSAGES)
            ),
            what="every hostile message in the transcript",
        )
        await wait_for(pilot, lambda: screen.sidebar.customer_id is not None, what="sidebar")
        await pilot.pause(0.3)
        # Clicking where the fake action text is drawn does nothing either.
        await pilot.click(pane.transcript, offset=(4, 2))
        await pilot.pause(0.2)
        # The narrow layout (tab strip with the name) and the help screen render too.
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        narrow = _screen_text(app)
        narrow_frame = frame_bytes(app)
        await pilot.resize_terminal(160, 45)
        await pilot.pause(0.3)
        wide = _screen_text(app)
        wide_frame = frame_bytes(app)

        assert app._running and app.return_code is None
        assert [a for a in actions if "quit" in a or "link" in a] == []

        bodies = [i.body for i in pane.transcript.items() if i.author_kind == "customer"]
        joined = "\n".join(bodies)
        assert "[@click=app.quit]press me[/]" in joined  # brackets literal
        assert "[link=https://evil.example]free money[/link]" in joined
        assert "⟨ESC⟩" in joined and "⟨U+202E⟩" in joined and "⟨U+200B⟩" in joined
        assert _visible_controls(joined) == []
        header = pane.header().plain
        assert "[@click=app.quit]Eve[/]" in header and _visible_controls(header) == []
        for text in (narrow, wide):
            assert _visible_controls(text) == []
        for frame in (narrow_frame, wide_frame):  # the bytes a real terminal would get
            assert "[@click=app.quit]Eve[/]" in frame
            assert foreign_controls(frame) == [] and links_in(frame) == []
        assert "[@click=app.quit]press me[/]" in wide
        assert "[link=https://evil.example]" in wide
        toasts = [n.message for n in app._notifications]
        assert all(_visible_controls(t) == [] for t in toasts)


async def test_hostile_follow_up_note_and_escalation_reason_render_as_text(
    ref_server: RefServer,
) -> None:
    """Issue 17 surfaces: a follow-up note and an escalation reason from the backend (another
    console, another product) show in the sidebar, the due list and a reminder toast as
    text: no action runs, no link, no control reaches the terminal."""
    from datetime import UTC, datetime, timedelta

    import httpx

    hostile = "".join(HOSTILE_MESSAGES.values())
    now = [datetime.now(UTC)]
    dept = department(ref_server)
    backend, ana_id = agent_backend(ref_server, "Ana", department=dept)
    other = httpx.Client(
        base_url=ref_server.api,
        headers={
            "Authorization": f"Bearer {ref_server.create_agent('Bo', departments=(dept,))[1]}"
        },
    )
    assert other.put("/me/status", json={"status": "online"}).status_code == 200
    customer = Customer(ref_server, HOSTILE_NAME)
    conv = await asyncio.to_thread(customer.start, dept, "help")
    cid = conv["id"]
    r = other.post(f"/conversations/{cid}/escalate", json={"reason": hostile, "agent_id": ana_id})
    assert r.status_code == 200, r.text
    ana = httpx.Client(
        base_url=ref_server.api,
        headers={"Authorization": f"Bearer {ref_server.token('agent', 'Ana')}"},
    )
    due = (now[0] + timedelta(minutes=5)).isoformat()
    r = ana.post(
        f"/conversations/{cid}/follow-ups",
        json={"channel": "phone", "due_at": due, "note": hostile},
    )
    assert r.status_code == 201, r.text
    actions: list[str] = []
    app = make_app(backend, clock=lambda: now[0])
    original = app.run_action

    async def spy(action: str, *args: object, **kwargs: object) -> object:
        actions.append(str(action))
        return await original(action, *args, **kwargs)  # type: ignore[arg-type]

    app.run_action = spy  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(
            pilot,
            lambda: (
                screen.sidebar._block is not None
                and "Follow-ups (1)" in screen.sidebar._block.plain
            ),
            what="sidebar with follow-up and badge",
        )
        block = screen.sidebar._block.plain
        assert "[@click=app.quit]press me[/]" in block and "⟨ESC⟩" in block
        assert _visible_controls(block) == []
        sidebar_frame = frame_bytes(app)
        now[0] += timedelta(minutes=6)
        await wait_for(
            pilot,
            lambda: any("Follow-up due" in str(n.message) for n in app._notifications),
            what="reminder",
        )
        await pilot.press("f12")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DueListScreen", what="list")
        await pilot.pause(0.3)
        list_text = _screen_text(app)
        list_frame = frame_bytes(app)
        assert app._running and app.return_code is None
        assert [a for a in actions if "quit" in a or "link" in a] == []
        assert _visible_controls(list_text) == []
        for frame in (sidebar_frame, list_frame):
            assert foreign_controls(frame) == [] and links_in(frame) == []
        assert all(_visible_controls(str(n.message)) == [] for n in app._notifications)
