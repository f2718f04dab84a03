"""Outbox you can see: replies from before a restart show in their panes (real server).

A reply typed while the server is down stays in the outbox file; the next
console shows it as pending in its chat until it is delivered.  A reply the
server refuses shows as failed; ctrl+f8 discards it (and it is gone from the
outbox file), shift+f8 sends it again with the same client id.
"""

from __future__ import annotations

import asyncio
import json
import stat
from collections import Counter
from pathlib import Path
from typing import Any

from console.backends.native import NativeBackend
from console.core.outbox import Outbox, new_client_id
from console.protocol import models as m
from console.ui.app import AgentConsoleApp
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for
from tests.ui.test_failed_reply_keys import CTRL_F8_RXVT, CTRL_F8_XTERM, SHIFT_F8, terminal_keys


class GatedBackend(NativeBackend):
    """The real backend; each outbox attempt waits for ``gate`` and is counted."""

    gate: asyncio.Event | None = None
    attempts: Counter[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.attempts = Counter()
        super().__init__(*args, **kwargs)

    async def _post_message_once(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        if self.gate is not None:
            await self.gate.wait()
        self.attempts[message.client_id] += 1
        return await super()._post_message_once(conversation_id, message)


def agent_items(app: AgentConsoleApp) -> list[tuple[str, str]]:
    screen = app.agent_screen
    if screen is None or not screen.grid.panes:
        return []
    return [
        (item.body, item.delivery)
        for item in screen.grid.panes[0].transcript.items()
        if item.author_kind == "agent"
    ]


async def open_pane(pilot: Any, app: AgentConsoleApp) -> None:
    await wait_for(pilot, lambda: app.workspace_ready, what="the workspace")
    screen = app.agent_screen
    assert screen is not None
    await wait_for(pilot, lambda: screen.grid.panes, what="pane")
    pane = screen.grid.panes[0]
    await wait_for(
        pilot,
        lambda: app.focused is not None and app.focused in pane.query("Composer"),
        what="composer focus",
    )
    # The chat keys act on the active pane.
    await wait_for(pilot, lambda: screen.active_pane is pane, what="active pane")


def on_disk(path: Path) -> tuple[list[str], list[str]]:
    """(pending, failed) client ids from the file's records, read only (no compaction)."""
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        op, client_id = record["op"], record["client_id"]
        if op == "enqueue":
            entries[client_id] = "pending"
        elif op == "failed":
            entries[client_id] = "failed"
        else:  # sent, dismissed
            entries.pop(client_id, None)
    return (
        [c for c, state in entries.items() if state == "pending"],
        [c for c, state in entries.items() if state == "failed"],
    )


def outbox_state(path: Path) -> tuple[list[str], list[str]]:
    """(pending client ids, failed client ids) as a fresh console would read the file."""

    async def never(conversation_id: str, request: m.SendMessage) -> m.Message:
        raise AssertionError("not sending")

    outbox = Outbox(path, never)
    try:
        return (
            [e.client_id for e in outbox.pending()],
            [u.entry.client_id for u in outbox.failed()],
        )
    finally:
        if outbox._file is not None:  # never started: just close the append handle
            outbox._file.close()


async def test_a_reply_queued_while_the_server_is_down_shows_pending_after_a_restart(
    ref_server: RefServer, tmp_path: Path
) -> None:
    path = tmp_path / "private" / "outbox"
    dept = department(ref_server)
    first, _ = agent_backend(ref_server, "Ana", department=dept, outbox_path=path)
    token = first._token  # the same agent signs in again after the restart
    customer = Customer(ref_server, "Kim")
    app = make_app(first)
    async with app.run_test(size=(160, 45)) as pilot:
        await asyncio.to_thread(customer.start, dept, "hi")
        await open_pane(pilot, app)
        await asyncio.to_thread(ref_server.stop)
        await pilot.press(*"queued while down")
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: agent_items(app) == [("queued while down", "pending")],
            what="pending reply",
        )
    # The console is gone; the reply is on disk, private.
    pending, failed = outbox_state(path)
    assert len(pending) == 1 and failed == []
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    await asyncio.to_thread(ref_server.start)
    second = GatedBackend(ref_server.url, token, outbox_path=path)
    second.gate = asyncio.Event()  # hold delivery so the restored reply can be seen
    app = make_app(second)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_pane(pilot, app)
        await wait_for(
            pilot,
            lambda: agent_items(app) == [("queued while down", "pending")],
            what="restored pending reply",
        )
        second.gate.set()
        await wait_for(
            pilot,
            lambda: agent_items(app) == [("queued while down", "sent")],
            timeout=60,
            what="delivered after the restart",
        )
        bodies = [msg["body"] for msg in await asyncio.to_thread(customer.messages)]
        assert bodies.count("queued while down") == 1
        assert second.attempts[pending[0]] >= 1
    assert outbox_state(path) == ([], [])


async def test_refused_replies_from_before_a_restart_can_be_retried_or_discarded(
    ref_server: RefServer, tmp_path: Path
) -> None:
    path = tmp_path / "outbox"
    dept = department(ref_server)
    first, _ = agent_backend(ref_server, "Ana", department=dept, outbox_path=path)
    token = first._token  # the same agent signs in again after the restart
    customer = Customer(ref_server, "Lee")
    app = make_app(first)
    async with app.run_test(size=(160, 45)) as pilot:
        conversation = await asyncio.to_thread(customer.start, dept, "hi")
        await open_pane(pilot, app)
    # Two replies the server will refuse (too long), queued before the next start.
    too_long = "x" * 10_001
    ids = [new_client_id(), new_client_id()]

    async def never(conversation_id: str, request: m.SendMessage) -> m.Message:
        raise AssertionError("not sending")

    outbox = Outbox(path, never)
    for client_id, tail in zip(ids, ("discard me", "retry me"), strict=True):
        await outbox.enqueue(
            conversation["id"], m.SendMessage(client_id=client_id, body=too_long + tail)
        )
    await outbox.aclose()

    second = GatedBackend(ref_server.url, token, outbox_path=path)
    app = make_app(second)
    async with app.run_test(size=(160, 45)) as pilot:
        await open_pane(pilot, app)
        await wait_for(
            pilot,
            lambda: [d for _, d in agent_items(app)] == ["failed", "failed"],
            timeout=60,
            what="both refused replies shown as failed",
        )
        assert on_disk(path) == ([], ids)
        # shift+F8 as xterm/tmux send it (CSI 19;2~, read as shift+f8, or as f20 with
        # Textual's kitty-key parsing off): the newest failed one goes again, same
        # client id, refused again.
        for attempt, kitty in ((2, True), (3, False)):
            for event in terminal_keys(SHIFT_F8, kitty=kitty):
                app.post_message(event)
            await wait_for(
                pilot, lambda n=attempt: second.attempts[ids[1]] == n, what="the retry attempt"
            )
            await wait_for(
                pilot,
                lambda: [d for _, d in agent_items(app)] == ["failed", "failed"],
                what="still failed after the retry",
            )
        assert second.attempts[ids[0]] == 1
        # ctrl+F8 twice (xterm, then rxvt): both are discarded from the pane and from
        # the outbox file.
        for event in terminal_keys(CTRL_F8_XTERM):
            app.post_message(event)
        await wait_for(pilot, lambda: len(agent_items(app)) == 1, what="one discarded")
        for event in terminal_keys(CTRL_F8_RXVT):
            app.post_message(event)
        await wait_for(pilot, lambda: agent_items(app) == [], what="both discarded")
        await wait_for(pilot, lambda: on_disk(path) == ([], []), what="dismissed on disk")
    # The next console compacts the file: the discarded replies are gone for good.
    assert outbox_state(path) == ([], [])
    text = path.read_text(encoding="utf-8")
    assert all(client_id not in text for client_id in ids)
    bodies = [msg["body"] for msg in await asyncio.to_thread(customer.messages)]
    assert not [b for b in bodies if b.startswith("xxx")]
