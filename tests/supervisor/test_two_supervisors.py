"""Two supervisors, one truth (real reference server, Pilot).

Console A runs while chats start, close and a customer gets furious; console B
starts afterwards.  Both show the same trigger severity (B loads each open
conversation's transcript at start instead of counting only what it saw) and
the same traffic series, which is the backend's own count (``/queues``
``created_per_minute``), including chats that closed before either console
started.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fixtures.reference_server import RefServer
from tests.supervisor.live import HostApp, build_world, settle, wait_for

pytestmark = pytest.mark.timeout(180)

FURIOUS = "I'm furious, cancel my account! Get me a manager!!!"


async def _figures(
    ref_server: RefServer, token: str, now: datetime, during: Any = None
) -> tuple[dict[str, int], tuple[int, ...], int]:
    app = HostApp(ref_server, token, clock=lambda: now)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.supervisor is not None, "the supervisor screen")
        screen = app.supervisor
        assert screen is not None
        await wait_for(pilot, lambda: bool(screen.dashboard.conversations), "the first load")
        if during is not None:
            await during(pilot, screen)
        await settle(pilot, screen)
        await wait_for(
            pilot,
            lambda: any(screen.dashboard.severity(c) for c in screen.dashboard.conversations),
            "a severity",
        )
        await screen.poll_server_views().wait()
        await settle(pilot, screen)
        severities = {c: screen.dashboard.severity(c) for c in screen.dashboard.conversations}
        traffic = screen.dashboard.traffic(now)
        shown = screen.traffic_panel.traffic
        assert shown == traffic  # what the panel shows is what we compare
        return severities, traffic.new_per_minute, sum(traffic.new_per_minute)


async def test_two_consoles_started_at_different_times_agree(ref_server: RefServer) -> None:
    world = await build_world(ref_server)
    now = datetime.now(UTC)  # one fixed clock for both consoles: the same minute window
    early = await world.start_chat("Left early", "Billing")
    await world.customer_leaves(early["id"])  # closed before any console started
    first = await world.start_chat("First", "Sales")

    async def meanwhile(pilot: Any, screen: Any) -> None:
        brief = await world.start_chat("Brief", "Billing")
        await wait_for(pilot, lambda: brief["id"] in screen.dashboard.conversations, "Brief")
        await world.customer_leaves(brief["id"])  # A saw it start; B never will
        await world.customer_says(first["id"], FURIOUS)
        await wait_for(pilot, lambda: screen.dashboard.severity(first["id"]) >= 2, "severity")

    sev_a, series_a, _total_a = await _figures(ref_server, world.supervisor_token, now, meanwhile)
    sev_b, series_b, total_b = await _figures(ref_server, world.supervisor_token, now)
    assert sev_a == sev_b and sev_b[first["id"]] >= 2
    assert series_a == series_b
    queues = await world.queues()
    assert total_b == sum(sum(q.created_per_minute) for q in queues.items) == 3
