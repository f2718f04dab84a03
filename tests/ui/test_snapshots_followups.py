"""Snapshots of the follow-up dialog (F11) and the due list (F12) at 80×24 and 200×50.

Fixed data and clock from ``tests/ui/fake_backend.py`` (see test_snapshots.py); the due
list shows one follow-up not yet due, one due now and one missed (critical), with a
hostile note rendered as text.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from console.protocol import models as m
from tests.ui.fake_backend import fixed_clock
from tests.ui.test_snapshots import SIZES, make, settle, utc  # noqa: F401 (fixture)


def follow_ups() -> list[m.FollowUp]:
    now = fixed_clock()
    rows = [
        ("fu_1", -timedelta(minutes=40), "phone", "정하늘", "환불 건 다시 전화 [bold]x[/]"),
        ("fu_2", -timedelta(minutes=2), "email", "Sam Rivera", "Send the invoice copy"),
        ("fu_3", timedelta(hours=3), "chat", "佐藤 玲", "[@click=app.quit]check[/] the order"),
    ]
    return [
        m.FollowUp(
            id=fid,
            conversation_id=f"conv_{fid}",
            customer_id=f"cust_{fid}",
            customer_name=name,
            agent_id="agent_1",
            agent_name="Alex",
            channel=channel,  # type: ignore[arg-type]
            due_at=now + delta,
            note=note,
            created_at=now - timedelta(hours=1),
        )
        for fid, delta, channel, name, note in rows
    ]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_follow_up_dialog(snap_compare: Any, size: tuple[int, int]) -> None:
    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        await pilot.press("f11")
        await pilot.pause(0.3)
        pilot.app.screen.query_one("#follow-up-when").value = "in 3 hours"
        pilot.app.screen.query_one("#follow-up-note").value = "Call about the refund"
        pilot.app.screen.query_one("#follow-up-channel").focus()
        await pilot.pause(0.2)

    assert snap_compare(make("dark"), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_due_list(snap_compare: Any, size: tuple[int, int]) -> None:
    from console.ui.screens.followups import DueListScreen

    async def run_before(pilot: Any) -> None:
        await settle(pilot)
        pilot.app.push_screen(DueListScreen(follow_ups(), fixed_clock()))
        await pilot.pause(0.3)

    assert snap_compare(make("dark"), terminal_size=size, run_before=run_before)
