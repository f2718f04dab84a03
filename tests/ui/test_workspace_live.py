"""The agent workspace against the real reference server (NativeBackend over loopback)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, agent_http, department, make_app, wait_for


async def test_a_new_chat_opens_a_pane_and_the_reply_reaches_the_customer(
    ref_server: RefServer,
) -> None:
    """Receive a chat (pane appears, header names the customer), reply with Enter."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
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
        # The transcript is filled when the pane mounts, focus comes right after.
        await wait_for(
            pilot, lambda: isinstance(app.focused, type(pane.composer)), what="composer focus"
        )
        # The agent is looking at this chat: its messages do not stay unread.
        await wait_for(
            pilot, lambda: app.controller.store.unread(pane.conversation_id) == 0, what="read"
        )
        assert "✉" not in pane.header().plain
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


async def test_canned_reply_fills_placeholders_and_unknown_ones_are_refused(
    ref_server: RefServer,
) -> None:
    """Palette (ctrl+f) inserts a reply with {customer.first_name}/{agent.name} filled;
    a reply with an unknown placeholder is refused with a notification and never sent."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana Lee", department=dept)
    http = agent_http(ref_server, "Ana Lee")
    r = http.post(
        "/canned-replies",
        json={
            "title": "Zebra greeting",
            "shortcut": "zeb",
            "body": "Hi {customer.first_name}, {agent.name} here.",
        },
    )
    assert r.status_code == 201, r.text
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, "Mina Park")
        await asyncio.to_thread(customer.start, dept, "hello")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(
            pilot, lambda: screen.grid.panes and screen.canned_replies, what="pane and replies"
        )
        pane = screen.grid.panes[0]
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: app.screen.id == "canned-palette", what="canned palette")
        await pilot.press(*"zebra")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: pane.composer.text == "Hi Mina, Ana Lee here.", what="filled reply"
        )
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: any(
                i.body == "Hi Mina, Ana Lee here." and i.delivery == "sent"
                for i in pane.transcript.items()
            ),
            what="canned reply sent",
        )
        # The same reply through the composer prefix: "/" in an empty composer opens
        # the palette, then the query picks the reply.
        await pilot.press("/")
        await wait_for(pilot, lambda: app.screen.id == "canned-palette", what="palette from /")
        await pilot.press(*"zeb")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: pane.composer.text == "Hi Mina, Ana Lee here.", what="filled again"
        )
        pane.composer.set_reply("")
        # An unknown placeholder: refused, highlighted, not sent.
        await pilot.press(*"Your order {order.number} is on its way")
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert pane.composer.text == "Your order {order.number} is on its way"
        assert pane.composer.selected_text == "{order.number}"
        notes = [n.message for n in app._notifications]
        assert any("{order.number}" in text for text in notes)
        bodies = [m["body"] for m in await asyncio.to_thread(customer.messages)]
        assert not any("order.number" in b for b in bodies)


async def test_expectation_key_sends_template_and_alerts_before_the_promise_runs_out(
    ref_server: RefServer,
) -> None:
    """F5 sends 'researching' and starts a 2-minute countdown; moving the injected clock
    into the warning window raises an alert and F8 sends the follow-up."""
    from datetime import UTC, datetime, timedelta

    from console.core import expectations

    now = [datetime.now(UTC)]
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend, clock=lambda: now[0])
    template = expectations.template("researching")
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, "Tom Baker")
        await asyncio.to_thread(customer.start, dept, "where is my refund")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        pane = screen.grid.panes[0]
        await pilot.press("f5")
        cid = pane.conversation_id
        await wait_for(pilot, lambda: app.controller.promises.get(cid) is not None, what="promise")
        assert "⌛" in pane.header().plain
        await wait_for(
            pilot,
            lambda: (
                template.text("en")
                in [i.body for i in pane.transcript.items() if i.delivery == "sent"]
            ),
            what="template sent",
        )
        now[0] += timedelta(seconds=100)  # 20 s left of 2 minutes: inside the warning window
        await wait_for(pilot, lambda: cid in app.controller.alerted, what="promise alert")
        assert any("f8" in n.message.lower() for n in app._notifications)
        await pilot.press("f8")
        follow_up = template.follow_up_text("en")
        await wait_for(
            pilot,
            lambda: follow_up in [m["body"] for m in customer.messages()],
            what="follow-up at the customer",
        )
        timer = app.controller.promises.get(cid)
        assert timer is not None and timer.follow_ups_sent == 1
        assert cid not in app.controller.alerted
        # F7 asks for N; the customer is promised exactly that.
        await pilot.press("f7")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "MinutesScreen", what="ask N")
        app.screen.query_one("#minutes").value = "15"  # type: ignore[attr-defined]
        await pilot.press("enter")
        promised = expectations.template("minutes").text("en", 15)
        await wait_for(
            pilot,
            lambda: promised in [m["body"] for m in customer.messages()],
            what="~15 minutes at the customer",
        )
        timer = app.controller.promises.get(cid)
        assert timer is not None and timer.minutes == 15


async def test_sidebar_note_is_saved_and_shown(ref_server: RefServer) -> None:
    """ctrl+r focuses the note input; Enter saves the note on the server and lists it."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, "Rei Sato", "rei@example.com")
        await asyncio.to_thread(customer.start, dept, "hi")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.sidebar.customer_id == customer.id, what="sidebar")
        await pilot.press("ctrl+r")
        await pilot.press(*"Prefers e-mail")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                [n.body for n in app.controller.store.customer_notes(customer.id)]
                == ["Prefers e-mail"]
            ),
            what="note in the store",
        )
        http = agent_http(ref_server, "Ana")
        notes = http.get(f"/customers/{customer.id}/notes").json()
        assert [n["body"] for n in notes] == ["Prefers e-mail"]
        await pilot.pause(0.1)
        assert "Prefers e-mail" in screen.sidebar.query_one("#customer").render().plain  # type: ignore[union-attr]


async def test_accept_from_queue_up_to_capacity(ref_server: RefServer) -> None:
    """Away agent with capacity 2 and three queued chats: F9 twice takes two, the third is refused."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept, capacity=2, status="away")
    customers = [Customer(ref_server, f"Queued {n}") for n in range(3)]
    for number, customer in enumerate(customers):
        await asyncio.to_thread(customer.start, dept, f"question {number}")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: len(app.controller.queued()) == 3, what="three queued")
        await wait_for(
            pilot, lambda: screen.queue_panel.queue_list.option_count == 3, what="queue list"
        )
        first = app.controller.queued()[0].id
        assert first == customers[0].conversation_id  # longest wait first
        await pilot.press("f9")
        await wait_for(pilot, lambda: len(app.controller.pane_order) == 1, what="first accepted")
        assert app.controller.pane_order == [first]
        await pilot.press("f9")
        await wait_for(pilot, lambda: len(app.controller.pane_order) == 2, what="second accepted")
        await pilot.press("f9")
        await pilot.pause(0.3)
        assert len(app.controller.pane_order) == 2
        assert any("2 of 2" in n.message for n in app._notifications)
        http = agent_http(ref_server, "Ana")
        third = http.get(f"/conversations/{customers[2].conversation_id}").json()
        assert third["state"] == "queued"
        await wait_for(
            pilot, lambda: screen.queue_panel.queue_list.option_count == 1, what="queue shrinks"
        )


async def test_focus_keys_jump_and_maximize(ref_server: RefServer) -> None:
    """alt+N, alt+right and jump mode (ctrl+o, 2) move between panes; F4 maximizes/restores;
    the ™ that alt+2 becomes over xterm/tmux works when focus is outside the composer."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        for name in ("One", "Two"):
            await asyncio.to_thread(Customer(ref_server, name).start, dept, "hi")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: len(screen.grid.panes) == 2, what="two panes")
        first, second = screen.grid.panes
        await wait_for(pilot, lambda: app.focused is first.composer, what="first pane focused")
        await pilot.press("alt+2")
        await pilot.pause()
        assert screen.grid.active_id == second.conversation_id
        assert app.focused is second.composer
        await pilot.press("alt+right")
        await pilot.pause()
        assert app.focused is first.composer
        await pilot.press("ctrl+o")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "JumpOverlay", what="overlay")
        await pilot.press("2")
        await pilot.pause()
        assert app.focused is second.composer
        first.transcript.focus()
        await pilot.pause()
        await pilot.press("trade_mark_sign")
        await pilot.pause()
        assert app.focused is second.composer
        await pilot.press("f4")
        await pilot.pause()
        assert screen.grid.maximized
        assert first.has_class("-hidden") and not second.has_class("-hidden")
        await pilot.press("alt+left")
        await pilot.pause()
        assert screen.grid.active_id == first.conversation_id and second.has_class("-hidden")
        await pilot.press("f4")
        await pilot.pause()
        assert not first.has_class("-hidden") and not second.has_class("-hidden")
        # Reorder: the focused chat moves right, numbering follows.
        await pilot.press("alt+shift+right")
        await wait_for(
            pilot,
            lambda: (
                [p.conversation_id for p in screen.grid.panes]
                == [second.conversation_id, first.conversation_id]
            ),
            what="reordered",
        )
        assert app.controller.pane_order == [second.conversation_id, first.conversation_id]
        assert first.header().plain.startswith("②")
        # Most at risk: answer the chat now first; the other customer still waits.
        await pilot.press("alt+1")
        await pilot.pause()
        assert app.focused is second.composer
        await pilot.press(*"on it")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: app.controller.entry(second.conversation_id).waiting_since is None,  # type: ignore[union-attr]
            what="second chat answered",
        )
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert app.focused is first.composer


async def test_connection_indicator_follows_server_stop_and_recovery(
    ref_server: RefServer, tmp_path: Path
) -> None:
    """Killing the server shows 'reconnecting' and a banner; a reply typed meanwhile stays
    pending (outbox) and is delivered once when the restarted server is back."""
    from console.backends.base import ConnectionPhase

    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept, outbox_path=tmp_path / "outbox")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        customer = Customer(ref_server, "Kim")
        await asyncio.to_thread(customer.start, dept, "hi")
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        pane = screen.grid.panes[0]
        await wait_for(
            pilot,
            # grid.panes lists a pane before its children are mounted: query, do not look up.
            lambda: app.focused is not None and app.focused in pane.query("Composer"),
            what="composer focus",
        )
        indicator = screen.status_bar.indicator
        assert indicator.state.phase is ConnectionPhase.CONNECTED
        await asyncio.to_thread(ref_server.stop)
        await wait_for(
            pilot,
            lambda: (
                indicator.state.phase in (ConnectionPhase.RECONNECTING, ConnectionPhase.OFFLINE)
            ),
            what="reconnecting indicator",
        )
        assert "reconnect" in indicator.render().plain or "offline" in indicator.render().plain
        banner = screen.query_one("#connection-banner")
        assert banner.has_class("-visible") and "kept" in str(banner.render())
        await pilot.press(*"typed while offline")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                [i.delivery for i in pane.transcript.items() if i.author_kind == "agent"]
                == ["pending"]
            ),
            what="reply shown as pending",
        )
        await asyncio.to_thread(ref_server.start)
        await wait_for(
            pilot,
            lambda: indicator.state.phase is ConnectionPhase.CONNECTED,
            timeout=60,  # backoff grows while the server is down; a loaded machine is slow
            what="connected again",
        )
        await wait_for(pilot, lambda: not banner.has_class("-visible"), what="banner hidden")
        await wait_for(
            pilot,
            lambda: (
                [i.delivery for i in pane.transcript.items() if i.author_kind == "agent"]
                == ["sent"]
            ),
            timeout=60,
            what="reply delivered after recovery",
        )
        bodies = [m["body"] for m in await asyncio.to_thread(customer.messages)]
        assert bodies.count("typed while offline") == 1
        await asyncio.to_thread(customer.say, "are you there?")
        await wait_for(
            pilot,
            lambda: "are you there?" in [i.body for i in pane.transcript.items()],
            what="message after recovery",
        )


async def test_close_with_transcript_and_survey_and_transfer_to_a_department(
    ref_server: RefServer,
) -> None:
    """F10 closes (transcript e-mail + CSAT request) and removes the pane; ctrl+t transfers
    another chat to a department, which also leaves my grid.  A new queued chat toasts."""
    dept = department(ref_server)
    other = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    rings: list[int] = []
    app.bell = lambda: rings.append(1)  # type: ignore[method-assign]
    app.attention_gap = 0.0  # every toast counts here
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        closing = Customer(ref_server, "Cleo", "cleo@example.com")
        moving = Customer(ref_server, "Max")
        await asyncio.to_thread(closing.start, dept, "thanks, all good")
        await asyncio.to_thread(moving.start, dept, "wrong department")
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: len(screen.grid.panes) == 2, what="two panes")
        screen.grid.activate(closing.conversation_id)
        await pilot.press("f10")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "CloseScreen", what="dialog")
        assert app.screen.query_one("#transcript-email").value == "cleo@example.com"  # type: ignore[attr-defined]
        await pilot.click("#confirm-close")
        await wait_for(pilot, lambda: len(screen.grid.panes) == 1, what="closed pane removed")
        http = agent_http(ref_server, "Ana")
        closed = http.get(f"/conversations/{closing.conversation_id}").json()
        assert closed["state"] == "closed"
        screen.grid.activate(moving.conversation_id)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "TransferScreen", what="dialog")
        targets = app.screen.query_one("#transfer-targets")
        index = next(
            i
            for i in range(targets.option_count)  # type: ignore[attr-defined]
            if targets.get_option_at_index(i).id.startswith("d:")  # type: ignore[attr-defined]
            and other in str(targets.get_option_at_index(i).prompt)  # type: ignore[attr-defined]
        )
        targets.highlighted = index  # type: ignore[attr-defined]
        targets.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: len(screen.grid.panes) == 0, what="transferred pane removed")
        moved = http.get(f"/conversations/{moving.conversation_id}").json()
        assert moved["department_name"] == other and moved["assignee_id"] is None
        await pilot.press("f2")  # away: the next chat waits in the queue
        await wait_for(pilot, lambda: app.controller.me.status == "away", what="away")  # type: ignore[union-attr]
        await asyncio.to_thread(Customer(ref_server, "Nia").start, dept, "hello?")
        await wait_for(
            pilot,
            lambda: any("Nia" in n.message for n in app._notifications),
            what="new chat toast",
        )
        assert rings


async def test_scrolling_to_the_top_loads_older_history_and_triggers_raise_a_badge(
    ref_server: RefServer,
) -> None:
    """70 old messages: the newest page shows first, Home at the top loads the rest;
    an angry refund demand highlights, badges the pane and notifies."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    customer = Customer(ref_server, "Olga")
    await asyncio.to_thread(customer.start, dept, "message 0")
    for number in range(1, 70):
        await asyncio.to_thread(customer.say, f"message {number}")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        pane = screen.grid.panes[0]
        await wait_for(pilot, lambda: pane.transcript.items(), what="history")
        first_page = [i.body for i in pane.transcript.items() if i.author_kind == "customer"]
        assert "message 69" in first_page and "message 0" not in first_page
        pane.transcript.focus()
        await pilot.press("home")
        await wait_for(
            pilot,
            lambda: "message 0" in [i.body for i in pane.transcript.items()],
            what="older page loaded",
        )
        bodies = [i.body for i in pane.transcript.items() if i.author_kind == "customer"]
        assert bodies == [f"message {n}" for n in range(70)]
        await asyncio.to_thread(customer.say, "I want a REFUND NOW, this is ridiculous!!!")
        await wait_for(
            pilot,
            lambda: any("Olga" in n.message for n in app._notifications if n.severity == "warning"),
            what="trigger notification",
        )
        # The notification comes from the controller; the pane shows the message at
        # its next flush (≤30/s), which may be later.
        await wait_for(
            pilot,
            lambda: pane.transcript.items()[-1].body.startswith("I want a REFUND"),
            what="the refund demand in the pane",
        )
        assert pane.transcript.items()[-1].trigger_spans
        await wait_for(pilot, lambda: "⚑" in pane.header().plain, what="badge")


async def test_past_conversation_opens_read_only_from_the_sidebar(ref_server: RefServer) -> None:
    """A returning customer's closed chat is listed in the sidebar; Enter opens it read-only."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    customer = Customer(ref_server, "Yui")
    await asyncio.to_thread(customer.start, dept, "my first question")
    http = agent_http(ref_server, "Ana")
    first_id = customer.conversation_id
    assert http.post(f"/conversations/{first_id}/close", json={}).status_code == 200
    await asyncio.to_thread(customer.start, dept, "back again")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen = app.agent_screen
        assert screen is not None
        past = screen.query_one("#past")
        # The open chat's pane arrives on its own schedule and takes focus when it does,
        # so wait for it before moving focus to the sidebar list.
        await wait_for(pilot, lambda: screen.grid.panes, what="the open chat's pane")
        await wait_for(pilot, lambda: past.option_count == 1, what="past chat listed")  # type: ignore[attr-defined]
        past.focus()
        past.highlighted = 0  # type: ignore[attr-defined]
        await wait_for(
            pilot,
            lambda: app.focused is past and past.highlighted == 0,  # type: ignore[attr-defined]
            what="the past list focused",
        )
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: type(app.screen).__name__ == "PastConversationScreen", what="opened"
        )
        view = app.screen.query_one("#past-body")
        await wait_for(
            pilot,
            lambda: "my first question" in [i.body for i in view.items()],  # type: ignore[attr-defined]
            what="old transcript",
        )
        assert not app.screen.query("Composer")  # read-only: nothing to type into
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="back")


async def test_narrow_terminal_shows_one_pane_and_a_clickable_tab_strip(
    ref_server: RefServer,
) -> None:
    """80×24 with two chats: one pane, a tab strip naming both; clicking a tab switches."""
    from console.ui.widgets.pane_grid import TabStrip

    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        for name in ("Aki", "Bo"):
            await asyncio.to_thread(Customer(ref_server, name).start, dept, "hi")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(
            pilot,
            # grid.panes lists a pane before its children are mounted, and the first
            # pane takes focus when its composer arrives: wait for both composers and
            # that focus, or a late focus would switch back after the click.
            lambda: (
                len(screen.grid.panes) == 2
                and all(pane.query("Composer") for pane in screen.grid.panes)
                and app.focused is screen.grid.panes[0].composer
            ),
            what="two panes, the first focused",
        )
        tabs = screen.query_one(TabStrip)
        # Visible is a class; the strip has a place on screen only after the next layout
        # (clicking before that hit the status bar above it).
        await wait_for(
            pilot,
            lambda: (
                tabs.has_class("-visible")
                and tabs.region.height == 1
                and screen.get_widget_at(tabs.region.x + 1, tabs.region.y)[0] is tabs
            ),
            what="tab strip laid out",
        )
        first, second = screen.grid.panes
        assert screen.grid.single_mode and second.has_class("-hidden")
        assert "Aki" in str(tabs.render()) and "Bo" in str(tabs.render())
        start, _end = tabs._cells[1]
        await pilot.click(TabStrip, offset=(start + 1, 0))
        await wait_for(
            pilot,
            lambda: app.focused is second.composer,
            what="the clicked tab's chat focused",
        )
        assert screen.grid.active_id == second.conversation_id
        assert first.has_class("-hidden") and not second.has_class("-hidden")
        assert app.focused is second.composer


async def test_customer_typing_and_profile_changes_show_up_live(ref_server: RefServer) -> None:
    """The customer typing shows in the header; tags set by a colleague appear in the
    sidebar without reopening anything."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, "Tao")
        await asyncio.to_thread(customer.start, dept, "hello")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.sidebar.customer_id == customer.id, what="sidebar")
        pane = screen.grid.panes[0]
        r = await asyncio.to_thread(
            customer.http.post,
            f"/customer/conversations/{customer.conversation_id}/typing",
            json={"typing": True},
        )
        assert r.status_code == 204, r.text
        await wait_for(pilot, lambda: "typing" in pane.header().plain, what="typing indicator")
        colleague = agent_http(ref_server, "Colleague")
        r = await asyncio.to_thread(
            colleague.put, f"/customers/{customer.id}/tags", json={"tags": ["vip", "refund-risk"]}
        )
        assert r.status_code == 200, r.text
        block = screen.sidebar.query_one("#customer")
        await wait_for(
            pilot, lambda: "#refund-risk" in str(block.render()), what="tags in the sidebar"
        )


async def test_a_failed_send_is_retried_with_shift_f8_and_arrives_once(
    ref_server: RefServer,
) -> None:
    """Without an outbox a reply sent while the server is dead fails (✗); after the
    server is back, shift+f8 sends it again with the same client id: delivered once."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, "Ren")
        await asyncio.to_thread(customer.start, dept, "hi")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        pane = screen.grid.panes[0]
        await wait_for(
            pilot,
            # grid.panes lists a pane before its children are mounted: query, do not look up.
            lambda: app.focused is not None and app.focused in pane.query("Composer"),
            what="composer focus",
        )
        await asyncio.to_thread(ref_server.stop)
        await pilot.press(*"will this arrive")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                [i.delivery for i in pane.transcript.items() if i.author_kind == "agent"]
                == ["failed"]
            ),
            timeout=60,
            what="reply shown as failed",
        )
        await asyncio.to_thread(ref_server.start)
        await pilot.press("shift+f8")
        await wait_for(
            pilot,
            lambda: (
                [i.delivery for i in pane.transcript.items() if i.author_kind == "agent"]
                == ["sent"]
            ),
            timeout=60,
            what="retried reply sent",
        )
        bodies = [m["body"] for m in await asyncio.to_thread(customer.messages)]
        assert bodies.count("will this arrive") == 1
