"""Issue 14 fixes against the real reference server: canned prefix, notes, trigger badge."""

from __future__ import annotations

import asyncio

from textual import events

from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, agent_http, department, make_app, wait_for

_REPLIES = [
    ("greeting", "/hi", "Greeting", "Hi {customer.first_name}, how can I help?"),
    ("general", "/look", "Looking into it", "Thanks, I'm looking into it now."),
    ("general", "/hold", "Still working on it", "Still checking, one moment."),
    ("farewell", "/bye", "Farewell", "Thanks for chatting with us."),
]


def burst(app: object, *keys: str) -> None:
    """Queue keys the way a terminal delivers a fast typist: all at once, no waiting."""
    names = {"#": "number_sign", "/": "slash", "enter": "enter"}
    for key in keys:
        character = "\r" if key == "enter" else key
        app.post_message(events.Key(names.get(key, key), character))  # type: ignore[attr-defined]


def burst_events(data: str) -> list[object]:
    """The key events Textual's parser makes of bytes from the terminal."""
    from textual._xterm_parser import XTermParser

    parser = XTermParser()
    return [*parser.feed(data), *parser.feed("")]


def _seed_replies(server: RefServer, agent: str) -> None:
    http = agent_http(server, agent)
    for category, shortcut, title, body in _REPLIES:
        r = http.post(
            "/canned-replies",
            json={"category": category, "shortcut": shortcut, "title": title, "body": body},
        )
        assert r.status_code == 201, r.text


async def test_hash_word_enter_inserts_the_matching_reply_every_time(ref_server: RefServer) -> None:
    """``#look`` + Enter, typed as one burst, inserts "Looking into it" (ten times in a row);
    Escape leaves no ``#`` behind."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Cory Hale", department=dept)
    _seed_replies(ref_server, "Cory Hale")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, "Mina Park")
        await asyncio.to_thread(customer.start, dept, "hello")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(
            pilot,
            lambda: screen.grid.panes and len(screen.canned_replies) == len(_REPLIES),
            what="pane and replies",
        )
        composer = screen.grid.panes[0].composer
        composer.focus()
        for attempt in range(10):
            prefix = "#" if attempt % 2 == 0 else "/"
            burst(app, prefix, *"look", "enter")
            await wait_for(
                pilot,
                lambda: app.screen is screen and composer.text[:1] not in ("", "#", "/"),
                what=f"reply inserted (attempt {attempt})",
            )
            assert composer.text == "Thanks, I'm looking into it now.", attempt
            composer.set_reply("")
        # Escape: the palette closes and the trigger does not stay in the composer.
        await pilot.press("#", *"lo")
        await wait_for(pilot, lambda: app.screen.id == "canned-palette", what="palette")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="palette closed")
        await wait_for(pilot, lambda: composer.text == "", what="trigger removed")
        bodies = [m["body"] for m in await asyncio.to_thread(customer.messages)]
        assert not any("looking into it" in b or "how can I help" in b for b in bodies)


async def test_trigger_badge_clears_once_the_agent_answers(ref_server: RefServer) -> None:
    """An angry message badges the pane; the agent's reply clears it; a refund question
    in a billing chat does not badge it at all."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Dana Wu", department=dept)
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, "Jiwoo Han")
        await asyncio.to_thread(customer.start, dept, "결제가 두 번 되었어요. 환불 가능할까요?")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="a chat pane")
        pane = screen.grid.panes[0]
        await wait_for(pilot, lambda: pane.transcript.items(), what="first message")
        assert "⚑" not in pane.header().plain  # a refund question is not "may cancel"
        await asyncio.to_thread(customer.say, "This is unacceptable, answer me!!!")
        await wait_for(pilot, lambda: "⚑" in pane.header().plain, what="trigger badge")
        pane.composer.focus()
        await pilot.press(*"Sorry about that, fixing it now", "enter")
        await wait_for(pilot, lambda: "⚑" not in pane.header().plain, what="badge cleared")
        entry = app.controller.store.conversation(pane.conversation_id)
        assert entry is not None and entry.severity == 0
        await asyncio.to_thread(customer.say, "Still broken???")
        await wait_for(pilot, lambda: "⚑" in pane.header().plain, what="badge back")


async def test_a_note_is_stored_internal_and_never_reaches_the_customer(
    ref_server: RefServer,
) -> None:
    """Alt+N switches the composer to note mode (label, class); Enter stores an internal
    note drawn as one; the customer API never lists it; Alt+N again replies normally."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Noor Ali", department=dept)
    http = agent_http(ref_server, "Noor Ali")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, "Mina Park")
        await asyncio.to_thread(customer.start, dept, "hello, my parcel is late")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="a chat pane")
        pane = screen.grid.panes[0]
        composer = pane.composer
        composer.focus()
        for event in burst_events("\x1bn"):  # Alt+N as xterm/tmux send it
            app.post_message(event)  # type: ignore[arg-type]
        await wait_for(pilot, lambda: composer.note_mode, what="note mode")
        assert composer.text == ""  # the "n" of Alt+N was not typed
        assert "customer does not see" in str(composer.border_title)
        await pilot.press(*"Customer sounds upset, check refund history", "enter")
        note = "Customer sounds upset, check refund history"
        await wait_for(
            pilot,
            lambda: any(
                i.body == note and i.internal and i.delivery == "sent"
                for i in pane.transcript.items()
            ),
            what="note shown as internal and sent",
        )
        assert composer.note_mode  # stays a note until switched back
        stored = http.get(f"/conversations/{pane.conversation_id}/messages").json()["items"]
        assert [m["internal"] for m in stored if m["body"] == note] == [True]
        await pilot.press("alt+n")
        await wait_for(pilot, lambda: not composer.note_mode, what="reply mode")
        await pilot.press(*"We are on it", "enter")
        await wait_for(
            pilot,
            lambda: any(
                i.body == "We are on it" and i.delivery == "sent" for i in pane.transcript.items()
            ),
            what="reply sent",
        )
        bodies = [m["body"] for m in await asyncio.to_thread(customer.messages)]
        assert "We are on it" in bodies
        assert note not in bodies
