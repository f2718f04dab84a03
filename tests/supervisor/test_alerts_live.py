"""Alerts against the real reference server (Pilot, real NativeBackend, injected clock).

* 49 alerts of mixed kinds: the per-kind cap keeps the one agent over capacity and the
  department without an online agent on screen.
* A customer whose message an assigned agent left unanswered for 20 minutes raises an
  alert naming the department and the agent; Enter on it opens the chat in a watch pane.
* Hostile customer and department names in alert lines render literally (Content only).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from textual.pilot import Pilot

from console.core.dashboard import AlertKind, Thresholds
from console.core.duration import format_duration
from console.core.i18n import t
from console.ui.screens.supervisor import SupervisorScreen
from console.ui.widgets.supervisor.panels import AlertsPanel
from tests.core.safety import BIDI, ZERO_WIDTH, assert_terminal_safe
from tests.fixtures.reference_server import RefServer
from tests.supervisor.live import HostApp, build_world, settle, wait_for

pytestmark = pytest.mark.timeout(240)

HOSTILE_CASES: dict[str, str] = {
    "osc 52 clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07 copied",
    "csi": "\x1b[31mred\x1b[0m \x1b[2J cleared",
    "c1 controls": "\x9b31m C1 CSI \x85 NEL",
    "bidi and zero width": f"invoice {BIDI} {ZERO_WIDTH} end",
    "markup click": "[@click=app.quit]press me[/]",
    "markup link": "[link=https://evil.example]free money[/link] [/] [",
}
"""The hostile cases of DESIGN.md "Untrusted text" (as in tests/core/safety.py)."""


def _later(minutes: float) -> Callable[[], datetime]:
    """The screen's clock, ``minutes`` ahead of the server's (the server's times are real)."""
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)


async def _screen(pilot: Pilot[Any], app: HostApp, conversations: int) -> SupervisorScreen:
    await wait_for(pilot, lambda: app.supervisor is not None, "the supervisor screen")
    screen = app.supervisor
    assert screen is not None
    await wait_for(
        pilot, lambda: len(screen.dashboard.conversations) >= conversations, "the first load"
    )
    await settle(pilot, screen)
    return screen


async def test_49_mixed_alerts_still_show_the_over_capacity_one(ref_server: RefServer) -> None:
    world = await build_world(ref_server)
    ref_server.create_department("Tech")  # nobody serves it: waiting with no agent online
    for i in range(46):
        await world.start_chat(f"Customer {i}", "Sales" if i % 2 else "Billing")
    await world.start_chat("Tech customer", "Tech")
    # Bob (capacity 2) holds two chats; lowering his capacity puts him over it.
    async with await world.agent_client("Bob") as bob:
        r = await bob.put("/me/status", json={"status": "online", "capacity": 1})
        assert r.status_code == 200, r.text
    app = HostApp(
        ref_server,
        world.supervisor_token,
        clock=_later(10),
        thresholds=Thresholds(long_wait_seconds=60, reply_sla_seconds=60),
    )
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await _screen(pilot, app, conversations=47)
        await wait_for(
            pilot,
            lambda: any(a.over_capacity for a in screen.dashboard.agents(screen.clock())),
            "Bob over capacity",
        )
        await settle(pilot, screen)
        alerts = screen.dashboard.alerts(screen.clock())
        kinds = {a.kind for a in alerts}
        assert len(alerts) == 49, [a.kind for a in alerts]
        assert {
            AlertKind.LONG_WAIT,
            AlertKind.UNANSWERED,
            AlertKind.OVER_CAPACITY,
            AlertKind.NO_AGENT_ONLINE,
        } <= kinds
        shown = screen.alerts_panel.plain
        assert t("supervisor.alerts_count", count=49) in screen.bar.plain
        assert t("supervisor.alerts.over_capacity", name="Bob", load=2, capacity=1) in shown
        assert t("supervisor.alerts.no_agent_online", department="Tech", count=1) in shown
        more = t(
            "supervisor.alerts.more",
            count=44 - screen.alerts_panel.per_kind,  # 43 + Tech
            kind=t("supervisor.alert_kind.long_wait"),
        )
        assert more in shown


async def test_unanswered_assigned_chat_raises_an_alert_and_enter_watches_it(
    ref_server: RefServer,
) -> None:
    world = await build_world(ref_server)
    conv = await world.start_chat("Patient Pat", "Sales")  # Ann or Bob takes it
    await world.customer_says(conv["id"], "Hello? Anyone there?")
    server_conv = await world.supervisor_get(f"/conversations/{conv['id']}")
    assert server_conv["state"] == "active" and server_conv["waiting_since"]
    agent = server_conv["assignee_name"]
    app = HostApp(ref_server, world.supervisor_token, clock=_later(20))
    async with app.run_test(size=(160, 40)) as pilot:
        screen = await _screen(pilot, app, conversations=1)
        (alert,) = screen.dashboard.alerts(screen.clock())
        assert alert.kind is AlertKind.UNANSWERED and alert.value >= 20 * 60
        assert (alert.department_name, alert.agent_name) == ("Sales", agent)
        prefix = t("supervisor.alerts.unanswered", name="Patient Pat", wait="\0").split("\0")[0]
        shown = screen.alerts_panel.plain
        assert prefix + format_duration(alert.value)[:2] in shown  # "20m…" (seconds move)
        assert t("supervisor.alerts.where", department="Sales", agent=agent) in shown
        panel = screen.query_one(AlertsPanel)
        panel.focus()
        panel.highlighted = next(
            i for i in range(panel.option_count) if not panel.get_option_at_index(i).disabled
        )
        ref_server.clear_request_log()
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                screen.watch_grid.pane(conv["id"]) is not None
                and screen.watch_grid.pane(conv["id"]).loaded
            ),  # type: ignore[union-attr]
            "the watch pane",
        )
        assert screen.view == "watch"
        assert ref_server.mutating_requests() == []


async def test_hostile_names_in_alert_lines_render_literally(ref_server: RefServer) -> None:
    world = await build_world(ref_server)
    dep_name = "Dep " + HOSTILE_CASES["markup click"]
    ref_server.create_department(dep_name)
    names = {case: f"{case}: {text}" for case, text in HOSTILE_CASES.items()}
    for name in names.values():
        await world.start_chat(name, dep_name)
    app = HostApp(
        ref_server,
        world.supervisor_token,
        clock=_later(10),
        thresholds=Thresholds(long_wait_seconds=60),
    )
    async with app.run_test(size=(200, 50)) as pilot:
        screen = await _screen(pilot, app, conversations=len(names))
        screen.alerts_panel.per_kind = 50
        screen.alerts_panel.alerts = None
        await settle(pilot, screen)
        shown = screen.alerts_panel.plain
        assert "[@click=app.quit]press me[/]" in shown  # customer names and department
        assert "[link=https://evil.example]free money[/link] [/] [" in shown
        assert_terminal_safe(shown)
        assert app.is_running
