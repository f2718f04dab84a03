"""The real consoles (Pilot) on the Matrix backend against a real Synapse.

Agent: queue → accept (F9) → reply → typing both ways → note (ctrl+r) and tag →
transfer to a second agent (ctrl+t) → close (F10).  Supervisor: queue and a
watch pane, and no way to send (refused by the client and by Synapse).
Hostile display names, room names and bodies render as placeholders.
"""

from __future__ import annotations

import asyncio
from typing import Any

from console.backends.base import ReadOnlyBackend, ReadOnlyError
from console.backends.matrix import conversation_id_for as cid
from console.protocol import models as m
from console.ui.app import AgentConsoleApp
from tests.backends_matrix.conftest import Team
from tests.ui.conftest import wait_for
from tests.ui.test_injection import HOSTILE_MESSAGES, HOSTILE_NAME, _screen_text, _visible_controls


def make_app(backend: Any) -> AgentConsoleApp:
    return AgentConsoleApp(backend, lang="en")


async def test_agent_console_queue_accept_reply_typing_note_tag_transfer_close(
    team: Team,
) -> None:
    ana, bo = team.agents
    mina = await team.customer("Mina Park")
    room = await team.open(mina, "Mina Park")
    await mina.say(room, "Hello, my parcel is late")
    app = make_app(team.backend(ana, outbox="ana.jsonl"))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(
            pilot, lambda: [e.id for e in app.controller.queued()] == [cid(room)], what="queued"
        )
        await wait_for(
            pilot, lambda: screen.queue_panel.queue_list.option_count == 1, what="queue list"
        )
        await pilot.press("f9")
        await wait_for(
            pilot, lambda: app.controller.pane_order == [cid(room)], what="accepted pane"
        )
        # The grid lists a pane once it is mounted (header, transcript and composer).
        await wait_for(pilot, lambda: screen.grid.pane_for(cid(room)), what="its pane")
        pane = screen.grid.panes[0]
        assert "Mina Park" in pane.header().plain
        await wait_for(
            pilot,
            lambda: any(i.body == "Hello, my parcel is late" for i in pane.transcript.items()),
            what="customer message in the transcript",
        )
        # Reply: the customer receives it once.
        pane.composer.focus()
        await pilot.press(*"Sorry, checking now")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                [i.delivery for i in pane.transcript.items() if i.author_kind == "agent"]
                == ["sent"]
            ),
            what="reply sent once",
        )
        bodies = [e["content"]["body"] for e in await mina.messages(room)]
        assert bodies == ["Hello, my parcel is late", "Sorry, checking now"]
        # Typing, customer → console.
        await mina.typing(room, True)
        await wait_for(pilot, lambda: "typing" in pane.header().plain, what="typing indicator")
        # Typing, console → customer.
        pane.composer.focus()
        await pilot.press(*"One mo")
        seen: list[str] = []

        async def agent_typing_reached() -> bool:
            seen[:] = await mina.typing_users(room)
            return ana.user_id in seen

        loop = asyncio.get_running_loop()
        deadline = loop.time() + 30
        while not await agent_typing_reached():
            assert loop.time() < deadline, f"agent typing never reached the customer ({seen})"
            await pilot.pause(0.2)
        # A note through the sidebar, a tag through the backend; both saved on Synapse.
        await wait_for(pilot, lambda: screen.sidebar.customer_id == mina.user_id, what="sidebar")
        await pilot.press("ctrl+r")
        await pilot.press(*"Prefers e-mail")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                [n.body for n in app.controller.store.customer_notes(mina.user_id)]
                == ["Prefers e-mail"]
            ),
            what="note in the store",
        )
        await app.controller.backend.set_customer_tags(mina.user_id, ["vip"])
        block = screen.sidebar.query_one("#customer")
        await wait_for(pilot, lambda: "#vip" in str(block.render()), what="tag in the sidebar")
        r = await bo.http.get(
            f"/rooms/{team.team_room}/state/io.agent-console.customer/{mina.user_id[1:]}"
        )
        saved = r.json()
        assert [n["body"] for n in saved["notes"]] == ["Prefers e-mail"] and saved["tags"] == [
            "vip"
        ]
        # Transfer to Bo: the pane leaves Ana's grid; the state names Bo.
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "TransferScreen", what="dialog")
        targets: Any = app.screen.query_one("#transfer-targets")
        index = next(
            i
            for i in range(targets.option_count)
            if targets.get_option_at_index(i).id == f"a:{bo.user_id}"
        )
        targets.highlighted = index
        targets.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: not screen.grid.panes, what="transferred pane removed")
        r = await bo.http.get(f"/rooms/{team.team_room}/state/io.agent-console.conversation/{room}")
        assert r.json()["assignee"] == bo.user_id and r.json()["state"] == "active"
        # Close: a second chat, F10.
        kai = await team.customer("Kai")
        second = await team.open(kai, "Kai")
        await kai.say(second, "thanks, all good")
        await wait_for(pilot, lambda: screen.queue_panel.queue_list.option_count == 1, what="queue")
        await pilot.press("f9")
        await wait_for(
            pilot, lambda: app.controller.pane_order == [cid(second)], what="second pane"
        )
        await pilot.press("f10")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CloseScreen", what="dialog")
        await pilot.click("#confirm-close")
        await wait_for(pilot, lambda: not screen.grid.panes, what="closed pane removed")
        r = await bo.http.get(
            f"/rooms/{team.team_room}/state/io.agent-console.conversation/{second}"
        )
        assert r.json()["state"] == "closed"
        members = await kai.http.get(f"/rooms/{second}/joined_members")
        assert ana.user_id not in members.json()["joined"]  # close = leave


async def test_supervisor_console_sees_the_queue_watches_and_cannot_send(team: Team) -> None:
    customer = await team.customer("Lee")
    room = await team.open(customer, "Lee")
    await customer.say(room, "is anyone there?")
    app = make_app(team.backend(team.supervisor))
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(
            pilot, lambda: type(app.screen).__name__ == "SupervisorScreen", what="screen"
        )
        screen: Any = app.screen
        await wait_for(pilot, lambda: cid(room) in screen.dashboard.conversations, what="queue")
        assert screen.dashboard.conversations[cid(room)].state == "queued"
        pane = await screen.watch_conversation(cid(room))
        assert pane is not None
        await wait_for(pilot, lambda: pane.loaded, what="watch pane history")
        assert "is anyone there?" in pane.transcript_plain()
        await customer.say(room, "hello??")
        await wait_for(pilot, lambda: "hello??" in pane.transcript_plain(), what="live line")
        assert isinstance(app.backend, ReadOnlyBackend)
        try:
            await app.backend.send_message(room, m.SendMessage(client_id="s1", body="hi"))
            raise AssertionError("the read-only client sent a message")
        except ReadOnlyError:
            pass
    r = await team.supervisor.http.put(
        f"/rooms/{room}/send/m.room.message/s2", json={"msgtype": "m.text", "body": "hi"}
    )
    assert r.status_code == 403 and r.json()["errcode"] == "M_FORBIDDEN"
    assert [e["content"]["body"] for e in await customer.messages(room)] == [
        "is anyone there?",
        "hello??",
    ]


async def test_hostile_names_room_names_and_bodies_render_sanitized(team: Team) -> None:
    ana = team.agents[0]
    eve = await team.customer("Eve")
    await eve.set_name(HOSTILE_NAME)
    room = await team.open(eve, HOSTILE_NAME)  # room name and state carry it too
    for body in HOSTILE_MESSAGES.values():
        await eve.say(room, body)
    app = make_app(team.backend(ana))
    actions: list[str] = []
    original = app.run_action

    async def recording(action: str, *args: Any, **kwargs: Any) -> bool:
        actions.append(action)
        return await original(action, *args, **kwargs)

    app.run_action = recording  # type: ignore[method-assign]
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.queue_panel.queue_list.option_count == 1, what="queue")
        queue_text = _screen_text(app)
        await pilot.press("f9")
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        pane = screen.grid.panes[0]
        await wait_for(
            pilot,
            lambda: (
                len([i for i in pane.transcript.items() if i.author_kind == "customer"])
                == len(HOSTILE_MESSAGES)
            ),
            what="every hostile message",
        )
        await pilot.pause(0.3)
        wide = _screen_text(app)
        assert app._running and app.return_code is None
        assert [a for a in actions if "quit" in a or "link" in a] == []
        joined = "\n".join(i.body for i in pane.transcript.items())
        assert "[@click=app.quit]press me[/]" in joined
        assert "⟨ESC⟩" in joined and "⟨U+202E⟩" in joined and "⟨U+200B⟩" in joined
        assert _visible_controls(joined) == []
        header = pane.header().plain
        assert "[@click=app.quit]Eve[/]" in header and _visible_controls(header) == []
        for text in (queue_text, wide):
            assert _visible_controls(text) == []
        assert all(_visible_controls(n.message) == [] for n in app._notifications)
