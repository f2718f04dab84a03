"""Without Capability.SEARCH / ATTACHMENTS / CUSTOMERS the search, file and label keys open
nothing and the command palette leaves them out; with them they are listed."""

from __future__ import annotations

from console.backends.base import Capability
from console.ui.app import AgentConsoleApp
from tests.ui.conftest import wait_for
from tests.ui.fake_backend import demo_backend, fixed_clock
from tests.ui.test_followup_capability import listed

NEW_IDS = {"search-transcripts", "save-attachment", "send-file", "edit-customer-tags"}


async def test_without_the_capabilities_the_keys_open_nothing() -> None:
    backend = demo_backend()
    backend.capabilities = frozenset(Capability) - {
        Capability.SEARCH,
        Capability.ATTACHMENTS,
        Capability.CUSTOMERS,
    }
    app = AgentConsoleApp(backend, lang="en", clock=fixed_clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.agent_screen is not None and app.agent_screen.ready)
        await wait_for(pilot, lambda: app.agent_screen.grid.panes, what="panes")  # type: ignore[union-attr]
        assert NEW_IDS.isdisjoint(listed(app))
        for key in ("alt+s", "alt+a", "alt+u", "alt+t"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is app.agent_screen, key


async def test_with_the_capabilities_they_are_listed() -> None:
    app = AgentConsoleApp(demo_backend(), lang="en", clock=fixed_clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.agent_screen is not None and app.agent_screen.ready)
        assert NEW_IDS <= listed(app)
