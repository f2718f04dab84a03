"""A backend without Capability.FOLLOW_UPS / ESCALATION (Chatwoot, Matrix) hides the
follow-up and escalation keys: no dialog opens and the command palette does not list
them; with the capabilities they are listed."""

from __future__ import annotations

from console.backends.base import Capability
from console.ui.app import AgentConsoleApp
from console.ui.commands import ActionCommands
from tests.ui.conftest import wait_for
from tests.ui.fake_backend import demo_backend, fixed_clock

NEW_IDS = {"create-follow-up", "show-follow-ups", "open-follow-up-customer", "escalate-chat"}


def listed(app: AgentConsoleApp) -> set[str]:
    provider = ActionCommands(app.screen)
    return {spec.id for spec in provider._specs()}


async def test_without_the_capabilities_the_keys_and_palette_entries_are_hidden() -> None:
    backend = demo_backend()
    backend.capabilities = frozenset(Capability) - {Capability.FOLLOW_UPS, Capability.ESCALATION}
    app = AgentConsoleApp(backend, lang="en", clock=fixed_clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.agent_screen is not None and app.agent_screen.ready)
        await wait_for(pilot, lambda: app.agent_screen.grid.panes, what="panes")  # type: ignore[union-attr]
        assert NEW_IDS.isdisjoint(listed(app))
        for key in ("f11", "f12", "shift+f10"):
            await pilot.press(key)
            await pilot.pause(0.1)
            assert app.screen is app.agent_screen, key
        # The actions did not even run (they would explain themselves in a toast).
        assert not any("follow-up" in str(n.message) for n in app._notifications)
        assert not any("escalate" in str(n.message) for n in app._notifications)


async def test_with_the_capabilities_they_are_listed() -> None:
    app = AgentConsoleApp(demo_backend(), lang="en", clock=fixed_clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.agent_screen is not None and app.agent_screen.ready)
        assert NEW_IDS <= listed(app)
