"""The agent and supervisor consoles' main paths on Chatwoot, over the loopback cable.

The workspace controller (what the agent screen drives) runs on a
ChatwootBackend against the stricter fake; a colleague (Bo, an
administrator) and the customer act through the fake, which broadcasts
what Chatwoot would.  The supervisor console is a ``ReadOnlyBackend`` with
``send_presence=False``, as ``cli`` builds it.  Waiting polls state with a
deadline (``until``), never asserts on elapsed time.
"""

from __future__ import annotations

import asyncio
from typing import Any

from console.backends.base import ReadOnlyBackend
from console.backends.chatwoot import ChatwootBackend
from console.core.workspace import WorkspaceController
from console.protocol import models as m
from tests.backends_chatwoot._cable import cable, until
from tests.backends_chatwoot._fake import ACCOUNT_ID, ADMIN_TOKEN, FakeChatwoot
from tests.backends_chatwoot.conftest import BASE


def bodies(ctl: WorkspaceController, cid: str) -> list[str]:
    return [s.message.body for s in ctl.store.messages(cid)]


async def test_agent_console_main_paths(fake: FakeChatwoot) -> None:
    fake.teams[2]["members"] = [2, 3]
    fake.inboxes[3]["members"].add(3)  # Cy: online, in Tech and in inbox 3
    async with cable(fake) as (server, backend):
        ctl = WorkspaceController(backend)
        await ctl.start()
        runner = asyncio.create_task(ctl.run_events())
        try:
            assert "101" in [e.id for e in ctl.queued()]
            # Accept.
            await ctl.accept("101")
            await until(lambda: "101" in ctl.pane_order)
            # The customer writes and types; the console sees both.
            fake.customer_typing(101, True)
            await until(lambda: ctl.store.typing("101"))
            fake.customer_writes(101, "Are you there?")
            await until(lambda: "Are you there?" in bodies(ctl, "101"))
            # Reply and private note; typing goes to Chatwoot.
            await ctl.typing("101", True)
            await ctl.send("101", "Yes, checking now")
            await ctl.send("101", "VIP, be nice", internal=True)
            assert ("101", "on", False) in [(str(c), s, p) for c, s, p in fake.typing]
            stored = [(m_["content"], m_["private"]) for m_ in fake.messages[101]]
            assert ("Yes, checking now", False) in stored and ("VIP, be nice", True) in stored
            # first_reply_created_at is now set: later events still arrive (item 1).
            bo = ChatwootBackend(BASE, ADMIN_TOKEN, ACCOUNT_ID, transport=fake.transport())
            await bo.connect()
            await bo.close("101", m.CloseRequest())
            await until(lambda: (c := ctl.conversation("101")) is not None and c.state == "closed")
            # Transfer to an agent, and to a team (Chatwoot auto-assigns Cy).
            await ctl.take_conversation(
                await backend.transfer("102", m.TransferRequest(agent_id="2"))
            )
            await until(lambda: (c := ctl.conversation("102")) is not None and c.assignee_id == "2")
            await bo.transfer("102", m.TransferRequest(agent_id="1"))
            await until(lambda: (c := ctl.conversation("102")) is not None and c.assignee_id == "1")
            to_team = await backend.transfer("102", m.TransferRequest(department_id="2"))
            assert (to_team.assignee_id, to_team.department_id) == ("3", "2")
            await until(lambda: (c := ctl.conversation("102")) is not None and c.assignee_id == "3")
            await bo.aclose()
            # Resolve.
            fake.conversations[101]["status"] = "open"
            fake.conversations[101]["assignee"] = 1
            fake.conversation_changed(101)
            await until(lambda: (c := ctl.conversation("101")) is not None and c.state == "active")
            closed = await backend.close("101", m.CloseRequest())
            assert closed.state == "closed" and fake.conversations[101]["status"] == "resolved"
            # Reconnect: what the customer wrote while the link was down comes back.
            await server.drop_all()
            fake.conversations[101]["status"] = "open"
            fake.customer_writes(101, "Written during the gap")
            await until(lambda: server.connections >= 2 and server.confirmed.is_set())
            await until(lambda: "Written during the gap" in bodies(ctl, "101"), timeout=15)
        finally:
            runner.cancel()


async def test_supervisor_console_follows_and_changes_nothing(fake: FakeChatwoot) -> None:
    async with cable(fake, token=ADMIN_TOKEN, send_presence=False, presence_interval=0.05) as (
        server,
        inner,
    ):
        ctl = WorkspaceController(ReadOnlyBackend(inner))
        await ctl.start()
        runner = asyncio.create_task(ctl.run_events())
        try:
            fake.log.clear()
            fake.customer_writes(105, "Hello supervisor-visible")
            await until(lambda: "Hello supervisor-visible" in bodies(ctl, "105"))
            fake.set_status(101, "resolved")
            await until(lambda: (c := ctl.conversation("101")) is None or c.state == "closed")
            views: list[Any] = [await ctl.backend.queues(), await ctl.backend.agents()]
            assert views[0].items and views[1].items
            assert fake.mutations() == [] and server.presence == []
        finally:
            runner.cancel()
