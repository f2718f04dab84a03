"""A read-only console gets no agent attention: no new-chat toast, no terminal bell.

Real app, real reference server, supervisor token: chats arrive live (new
queued chats, customer messages, a trigger phrase) and neither a bell nor a
toast meant for agents reaches the supervisor.
"""

from __future__ import annotations

import pytest

from console.backends.native import NativeBackend
from console.core.i18n import t
from tests.fixtures.reference_server import RefServer
from tests.supervisor.live import build_world, wait_for

pytestmark = pytest.mark.timeout(120)


def _toasts(app: object) -> list[str]:
    return [str(n.message) for n in list(getattr(app, "_notifications", []))]


async def test_no_bell_or_new_chat_toast_for_a_supervisor(ref_server: RefServer) -> None:
    from console.ui.app import AgentConsoleApp
    from console.ui.screens.supervisor import SupervisorScreen

    world = await build_world(ref_server)
    app = AgentConsoleApp(NativeBackend(ref_server.url, world.supervisor_token))
    app.attention_gap = 0.0  # every event would be its own toast and bell
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(
            pilot, lambda: isinstance(app.screen, SupervisorScreen), "the supervisor screen"
        )
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        assert app.readonly
        chats = [await world.start_chat(f"Live {i}", "Billing") for i in range(3)]
        await world.customer_says(chats[0]["id"], "This is useless, I want a refund now!")
        await wait_for(
            pilot,
            lambda: all(c["id"] in screen.dashboard.conversations for c in chats),
            "the live chats",
        )
        await pilot.pause(0.3)
        new_chat = t("workspace.new_chat", name="", department="").split(":")[0]
        assert not [text for text in _toasts(app) if new_chat in text]
        assert bells == []


async def test_an_agent_still_gets_the_toast_and_bell(ref_server: RefServer) -> None:
    """The counterpart: the same events reach an agent (so the test above can fail)."""
    from console.ui.app import AgentConsoleApp

    world = await build_world(ref_server)
    _agent_id, token = world.agents["Cy"]  # offline, Billing: the chats stay queued
    app = AgentConsoleApp(NativeBackend(ref_server.url, token))
    app.attention_gap = 0.0
    bells: list[int] = []
    app.bell = lambda: bells.append(1)  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, "the agent workspace")
        await world.start_chat("Live agent", "Billing")
        new_chat = t("workspace.new_chat", name="", department="").split(":")[0]
        await wait_for(
            pilot, lambda: any(new_chat in text for text in _toasts(app)), "the new-chat toast"
        )
        assert not app.readonly
