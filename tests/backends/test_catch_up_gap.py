"""Gap-free catch-up after a stream ``reset``, against the REAL reference server.

The data-loss case of issue 10: while the stream is down, the customer writes
and one of the agent's replies is confirmed over REST; the outage outlasts the
server's event retention, so the resumed stream answers ``reset``.  Catching up
from the newest message held (the agent's reply) would never fetch the
customer's messages before it; the workspace must end with every one of them,
none twice.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from console.backends.base import ConnectionPhase
from console.backends.native import NativeBackend
from console.core.boundary import ensure_sanitized
from console.core.events import TypedEvent
from console.core.workspace import WorkspaceController
from console.protocol import models as m

from .conftest import customer_says, start_conversation, wait_until

MISSED = 30


def bodies(controller: WorkspaceController, conversation_id: str) -> list[str]:
    return [stored.body for stored in controller.store.transcript(conversation_id)]


async def test_reset_catch_up_brings_every_customer_message_once(
    make_ref_server: Any, backends: list[NativeBackend]
) -> None:
    server = make_ref_server(event_log_retention=20)
    conversation, customer = start_conversation(server, "Gus", "first")
    token = server.token("agent", "Di")
    helper = NativeBackend(server.url, token, timeout=5.0)
    backends.append(helper)
    await helper.accept(conversation)

    native = NativeBackend(server.url, token, timeout=5.0, backoff_base=0.05, backoff_cap=0.5)
    backends.append(native)
    controller = WorkspaceController(ensure_sanitized(native))
    seen: list[TypedEvent] = []
    controller.add_event_listener(lambda event, _data: seen.append(event))  # type: ignore[arg-type]
    await controller.start()
    runner = asyncio.create_task(controller.run_events())
    try:
        assert conversation in controller.pane_order
        customer_says(server, customer, conversation, "before the outage")
        await wait_until(lambda: "before the outage" in bodies(controller, conversation))

        # The stream goes down (server restart; the console's stream URL leads nowhere
        # until we put it back) while REST works again.
        live_url = native._ws_url
        native._ws_url = "ws://127.0.0.1:9/api/v1/stream"
        server.stop()
        server.start()
        await wait_until(lambda: native.connection.phase is not ConnectionPhase.CONNECTED)
        for i in range(MISSED):
            customer_says(server, customer, conversation, f"missed {i:02d}")
        # The agent's reply is confirmed over REST, after the customer's messages.
        await controller.send(conversation, "reply during the outage")
        assert bodies(controller, conversation)[-1] == "reply during the outage"
        # Push the console's resume point out of the retained event log.
        response = httpx.post(server.api + "/_debug/events", json={"count": 100}, timeout=30)
        assert response.status_code == 200, response.text

        native._ws_url = live_url
        await wait_until(lambda: any(e.type == m.RESYNC_EVENT_TYPE for e in seen), timeout=30)
        resync = next(e for e in seen if e.type == m.RESYNC_EVENT_TYPE)
        assert isinstance(resync.model, m.Resync) and resync.model.reason == "reset"
        transcript = controller.store.transcript(conversation)
        await wait_until(lambda: not transcript.stale)

        held = bodies(controller, conversation)
        expected = [
            "first",
            "before the outage",
            *(f"missed {i:02d}" for i in range(MISSED)),
            "reply during the outage",
        ]
        assert [b for b in held if b in expected] == expected  # all, in order, none twice
        ids = [stored.id for stored in transcript]
        assert len(ids) == len(set(ids))

        # Live again: the next customer message arrives over the stream, once.
        customer_says(server, customer, conversation, "after")
        await wait_until(lambda: "after" in bodies(controller, conversation))
        assert bodies(controller, conversation).count("after") == 1
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
