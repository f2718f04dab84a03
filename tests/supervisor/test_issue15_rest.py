"""Issue 15, the rest: per-department SLA from config.toml, one Quit in the palette, the
footer at 80 columns, drill-down and history (real reference server, Pilot)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import Footer

from console.core.config import ConfigError, parse_config
from console.core.dashboard import AlertKind
from console.core.i18n import t
from tests.fixtures.reference_server import RefServer
from tests.supervisor.live import HostApp, build_world, settle, wait_for

pytestmark = pytest.mark.timeout(180)


def _later(minutes: float) -> Callable[[], datetime]:
    return lambda: datetime.now(UTC) + timedelta(minutes=minutes)


# ---------------------------------------------------------------- per-department SLA


def test_sla_departments_parse_and_unknown_keys_are_refused() -> None:
    config = parse_config(
        '[sla]\ncritical_seconds = 180\n[sla.departments."Billing"]\ncritical_seconds = 120\n'
    )
    assert config.sla.departments == {"Billing": 120.0}
    assert config.sla.critical_seconds == 180.0
    with pytest.raises(ConfigError, match="unknown key"):
        parse_config('[sla.departments."Billing"]\nwarning_seconds = 10\n')
    with pytest.raises(ConfigError, match="positive"):
        parse_config('[sla.departments."Billing"]\ncritical_seconds = -1\n')
    with pytest.raises(ConfigError, match="critical_seconds"):
        parse_config('[sla.departments."Billing"]\n')


async def test_department_threshold_from_config_decides_which_chat_alerts(
    ref_server: RefServer,
) -> None:
    """Both chats wait 2.5 minutes: only Billing (120 s from config) alerts, Sales (180 s) not."""
    world = await build_world(ref_server)
    sales = await world.start_chat("Sally Sales", "Sales")
    billing = await world.start_chat("Bill Billing", "Billing")
    config = parse_config(
        "[sla]\nwarning_seconds = 60\ncritical_seconds = 180\n"
        '[sla.departments."billing"]\ncritical_seconds = 120\n'  # case-insensitive
    )
    app = HostApp(ref_server, world.supervisor_token, config=config, clock=_later(2.5))
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.supervisor is not None, "the screen")
        screen = app.supervisor
        assert screen is not None
        await wait_for(pilot, lambda: len(screen.dashboard.conversations) >= 2, "the load")
        await settle(pilot, screen)
        alerts = screen.dashboard.alerts(screen.clock())
        alerted = {
            a.conversation_id
            for a in alerts
            if a.kind in (AlertKind.LONG_WAIT, AlertKind.UNANSWERED)
        }
        assert billing["id"] in alerted
        assert sales["id"] not in alerted
        assert "Bill Billing" in screen.alerts_panel.plain
        assert "Sally Sales" not in screen.alerts_panel.plain


# ---------------------------------------------------------------- palette and footer


async def test_palette_lists_quit_once_and_footer_keeps_sort_and_refresh_at_80(
    ref_server: RefServer,
) -> None:
    from textual.command import CommandPalette

    from console.backends.native import NativeBackend
    from console.ui.app import AgentConsoleApp
    from console.ui.screens.supervisor import SupervisorScreen

    world = await build_world(ref_server)
    await world.start_chat("Quinn", "Sales")
    app = AgentConsoleApp(NativeBackend(ref_server.url, world.supervisor_token))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the screen")
        screen = app.screen
        assert isinstance(screen, SupervisorScreen)
        for view in ("d", "c", "v"):
            await pilot.press(view)
            await pilot.pause(0.2)
            footer = screen.query_one(Footer)
            shown = {
                key.description: key.region
                for key in footer.query("FooterKey")
                if key.region.width and key.region.right <= 80
            }
            assert t("supervisor.footer.refresh") in shown, (view, shown)
            if view == "c":
                labels = [label.region for label in footer.query("FooterLabel")]
                assert labels and all(0 < r.right <= 80 for r in labels)  # "Sort"
                assert "f5" in {
                    k.key_display
                    for k in footer.query("FooterKey")
                    if k.region.width and k.region.right <= 80
                }
            # Nothing overlaps (the palette key drew over Refresh before).
            regions = sorted(shown.values(), key=lambda r: r.x)
            assert all(a.right <= b.x for a, b in itertools.pairwise(regions))
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        palette = app.screen
        assert isinstance(palette, CommandPalette)
        await pilot.press(*"quit")
        await pilot.pause(0.5)
        from textual.command import CommandList

        options = palette.query_one(CommandList)
        prompts = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        quits = [p for p in prompts if p.lower().startswith("quit")]
        assert len(quits) == 1, prompts
