"""Precise changes on the real reference server (issue 10): a change names what changed
and the panes apply exactly that - one new message touches its own pane and only that
message, a delivery update replaces exactly one item, a burst arrives complete and in order.

Each TranscriptView gets a spy that records the calls that change what it shows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from console.ui.app import AgentConsoleApp
from console.ui.screens.agent import AgentScreen
from console.ui.widgets.pane import ChatPane
from console.ui.widgets.transcript import TranscriptItem, TranscriptView
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for

pytestmark = pytest.mark.timeout(240)

WRITES = (
    "append",
    "extend",
    "update_item",
    "remove_items",
    "prepend_items",
    "insert_items",
    "set_items",
)


class Spy:
    """Records (method, item ids) for every call that changes a TranscriptView."""

    def __init__(self, view: TranscriptView) -> None:
        self.calls: list[tuple[str, list[str]]] = []
        for name in WRITES:
            setattr(view, name, self._wrap(name, getattr(view, name)))

    def _wrap(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def spy(first: Any = None, *args: Any, **kwargs: Any) -> Any:
            if isinstance(first, TranscriptItem):
                ids = [first.id]
            elif isinstance(first, str):
                ids = [first]
            else:
                first = list(first) if first is not None else []
                ids = [item if isinstance(item, str) else item.id for item in first]
            self.calls.append((name, ids))
            return method(first, *args, **kwargs)

        return spy


def bodies(pane: ChatPane) -> list[str]:
    return [item.body for item in pane.transcript.items()]


async def open_chats(
    pilot: Any, app: AgentConsoleApp, customers: list[Customer], dept: str
) -> tuple[AgentScreen, dict[str, ChatPane]]:
    """Each customer starts a chat; wait for its pane with the first message shown."""
    for number, customer in enumerate(customers):
        await asyncio.to_thread(customer.start, dept, f"{customer.name} hello {number}")
    screen = app.agent_screen
    assert screen is not None
    panes: dict[str, ChatPane] = {}

    def all_shown() -> bool:
        for customer in customers:
            pane = screen.grid.pane_for(customer.conversation_id)
            if pane is None or not pane.transcript.items():
                return False
            panes[customer.conversation_id] = pane
        return True

    await wait_for(pilot, all_shown, what="every chat's pane with its first message")
    return screen, panes


async def settle(pilot: Any, app: AgentConsoleApp) -> None:
    """Let pending flushes reach the screen (the controller flushes at most 30x/s)."""
    for _ in range(3):
        app.controller.flush()
        await pilot.pause(0.1)


async def test_a_new_message_touches_only_its_pane_and_only_that_message(
    ref_server: RefServer,
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana Precise", department=dept)
    mina, joon = Customer(ref_server, "Mina"), Customer(ref_server, "Joon")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        screen, panes = await open_chats(pilot, app, [mina, joon], dept)
        await settle(pilot, app)
        mina_pane, joon_pane = panes[mina.conversation_id], panes[joon.conversation_id]
        before = bodies(mina_pane)
        mina_spy, joon_spy = Spy(mina_pane.transcript), Spy(joon_pane.transcript)
        sidebar_shows: list[object] = []
        show = screen.sidebar.show

        def counted_show(*args: Any, **kwargs: Any) -> None:
            sidebar_shows.append(args[0])
            show(*args, **kwargs)

        screen.sidebar.show = counted_show  # type: ignore[method-assign]

        await asyncio.to_thread(mina.say, "where is my parcel?")
        await wait_for(
            pilot, lambda: "where is my parcel?" in bodies(mina_pane), what="Mina's message"
        )
        await settle(pilot, app)

        new = [item for item in mina_pane.transcript.items() if item.body == "where is my parcel?"]
        assert len(new) == 1
        assert mina_spy.calls == [("extend", [new[0].id])]  # appended, nothing else redrawn
        assert joon_spy.calls == []  # the other chat's pane is not touched
        assert bodies(mina_pane) == [*before, "where is my parcel?"]
        assert sidebar_shows == []  # nothing about the customer changed: not even asked


async def test_a_delivery_update_replaces_exactly_one_item(ref_server: RefServer) -> None:
    """Our reply shows as pending; when the server confirms it, exactly that one item is
    updated (to sent) in place - no append, no rebuild, no other pane."""
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana Delivery", department=dept)
    mina, joon = Customer(ref_server, "Mina"), Customer(ref_server, "Joon")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        _, panes = await open_chats(pilot, app, [mina, joon], dept)
        await settle(pilot, app)
        mina_pane, joon_pane = panes[mina.conversation_id], panes[joon.conversation_id]

        # Hold the POST until the pending copy is on screen (the real server answers then).
        controller = app.controller
        gate = asyncio.Event()
        send = controller.backend.send_message

        async def held_send(*args: Any, **kwargs: Any) -> Any:
            await gate.wait()
            return await send(*args, **kwargs)

        controller.backend.send_message = held_send  # type: ignore[method-assign]
        sending = asyncio.ensure_future(controller.send(mina.conversation_id, "checking now"))
        await wait_for(
            pilot,
            lambda: any(
                i.body == "checking now" and i.delivery == "pending"
                for i in mina_pane.transcript.items()
            ),
            what="the pending reply",
        )
        await settle(pilot, app)
        count = mina_pane.transcript.item_count
        mina_spy, joon_spy = Spy(mina_pane.transcript), Spy(joon_pane.transcript)

        gate.set()
        await sending
        await wait_for(
            pilot,
            lambda: mina_pane.transcript.items()[-1].delivery == "sent",
            what="the reply confirmed",
        )
        await settle(pilot, app)  # the stream echo too

        reply = mina_pane.transcript.items()[-1]
        assert reply.body == "checking now" and reply.id.startswith("client:")
        assert mina_spy.calls == [("update_item", [reply.id])]
        assert joon_spy.calls == []
        assert mina_pane.transcript.item_count == count
        assert [i.body for i in mina_pane.transcript.items()].count("checking now") == 1


async def test_a_burst_of_200_messages_in_3_chats_arrives_complete_and_in_order(
    ref_server: RefServer,
) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana Burst", department=dept, capacity=3)
    customers = [Customer(ref_server, name) for name in ("Mina", "Joon", "Yui")]
    app = make_app(backend)
    async with app.run_test(size=(200, 50)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
        _, panes = await open_chats(pilot, app, customers, dept)
        await settle(pilot, app)
        spies = {cid: Spy(pane.transcript) for cid, pane in panes.items()}
        first = {cid: bodies(pane) for cid, pane in panes.items()}
        sent: dict[str, list[str]] = {c.conversation_id: [] for c in customers}
        for number in range(200):
            customer = customers[number % 3]
            sent[customer.conversation_id].append(f"{customer.name} burst {number}")

        def talk(customer: Customer) -> None:
            for body in sent[customer.conversation_id]:
                customer.say(body)

        # The three customers type at once; each one's messages go in order.
        await asyncio.gather(*(asyncio.to_thread(talk, c) for c in customers))
        await wait_for(
            pilot,
            lambda: all(
                len(bodies(panes[cid])) >= len(first[cid]) + len(sent[cid]) for cid in sent
            ),
            timeout=120,
            what="all 200 messages on screen",
        )
        await settle(pilot, app)
        for cid, pane in panes.items():
            assert bodies(pane) == first[cid] + sent[cid]  # complete, in order, none twice
            # Only appends: no rebuild, no re-insert, no item named twice.
            assert {name for name, _ in spies[cid].calls} <= {"extend"}
            named = [item_id for _, ids in spies[cid].calls for item_id in ids]
            assert len(named) == len(set(named)) == len(sent[cid])
