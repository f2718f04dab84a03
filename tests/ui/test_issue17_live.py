"""Issue 17 in the agent UI against the real reference server: a follow-up created from
the pane (stored, announced in the customer's language, in the sidebar and the due list,
reminder when due with an injected clock, critical when missed) and an escalation that
arrives at the target agent with its reason."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from console.core.followups import promise_text
from tests.fixtures.reference_server import RefServer
from tests.ui.conftest import Customer, agent_backend, department, make_app, wait_for

HOSTILE_NOTE = "[@click=app.quit]call[/] \x1b]52;c;aGk=\x07 [link=https://x.invalid]x[/link]"


async def test_follow_up_from_the_pane_is_stored_announced_listed_and_reminded(
    ref_server: RefServer,
) -> None:
    now = [datetime(2026, 12, 7, 10, 0, tzinfo=UTC)]  # a Monday, inside business hours
    dept = department(ref_server)
    backend, agent_id = agent_backend(ref_server, "Ana", department=dept)
    app = make_app(backend, clock=lambda: now[0])
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        customer = Customer(ref_server, "정하늘")
        await asyncio.to_thread(customer.start, dept, "환불 문의드립니다. 아직 처리가 안 됐어요")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        cid = screen.grid.panes[0].conversation_id
        await wait_for(
            pilot, lambda: app.controller.store.transcript(cid).loaded, what="transcript"
        )
        await pilot.press("f11")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "FollowUpScreen", what="dialog")
        app.screen.query_one("#follow-up-note").value = HOSTILE_NOTE  # type: ignore[attr-defined]
        app.screen.query_one("#follow-up-when").value = "in 2 hours"  # type: ignore[attr-defined]
        app.screen.query_one("#follow-up-when").focus()
        await pilot.press("enter")
        due_at = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
        # Announced to the customer in Korean (their language), with the promised time.
        promise = promise_text("phone", due_at, "ko", None)
        await wait_for(
            pilot, lambda: promise in [m["body"] for m in customer.messages()], what="promise"
        )
        # Stored by the server for this agent.
        token = ref_server.token("agent", "Ana")
        stored = httpx.get(
            ref_server.api + "/follow-ups", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert [(f["agent_id"], f["channel"], f["conversation_id"]) for f in stored] == [
            (agent_id, "phone", cid)
        ]
        assert datetime.fromisoformat(stored[0]["due_at"]) == due_at
        # Listed in the customer's sidebar (the note shown as text, never as markup).
        await wait_for(
            pilot,
            lambda: "Follow-ups (1)" in screen.sidebar._block.plain,  # type: ignore[union-attr]
            what="sidebar",
        )
        block = screen.sidebar._block
        assert block is not None and "[@click=app.quit]call[/]" in block.plain
        # The due list.
        await pilot.press("f12")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "DueListScreen", what="list")
        due_list = app.screen.query_one("#due-list")
        assert due_list.option_count == 1  # type: ignore[attr-defined]
        row = due_list.get_option_at_index(0).prompt  # type: ignore[attr-defined]
        assert "정하늘" in row.plain and "Phone call" in row.plain and "MISSED" not in row.plain
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen, what="list closed")
        # Not due yet: no reminder.  Then the clock reaches the due time.
        assert not any("Follow-up due" in str(n.message) for n in app._notifications)
        screen.grid.activate(cid, focus=False)
        now[0] = due_at + timedelta(minutes=1)
        await wait_for(
            pilot,
            lambda: any("Follow-up due" in str(n.message) for n in app._notifications),
            what="reminder",
        )
        reminder = next(n for n in app._notifications if "Follow-up due" in str(n.message))
        assert "^b" in str(reminder.message).lower() and reminder.severity == "warning"
        await pilot.press("ctrl+b")
        await wait_for(pilot, lambda: screen.grid.active_id == cid, what="customer opened")
        # Still open 20 minutes later: missed, critical.
        now[0] = due_at + timedelta(minutes=20)
        await wait_for(
            pilot,
            lambda: any(
                "Missed follow-up" in str(n.message) and n.severity == "error"
                for n in app._notifications
            ),
            what="missed",
        )


async def test_escalated_chat_arrives_at_the_target_with_its_reason(ref_server: RefServer) -> None:
    dept = department(ref_server)
    tier2 = f"{dept} Tier 2"
    ref_server.create_department(tier2, escalation=True)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    senior_backend, senior_id = agent_backend(ref_server, "Sol", department=tier2)
    customer = Customer(ref_server, "Tom Baker")
    reason = "[bold]refund[/] over my limit \x1b[31m"
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        await asyncio.to_thread(customer.start, dept, "I was charged twice")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        cid = screen.grid.panes[0].conversation_id
        await pilot.press("shift+f10")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "EscalateScreen", what="dialog")
        app.screen.query_one("#escalate-reason").value = reason  # type: ignore[attr-defined]
        app.screen.query_one("#escalate-targets").focus()
        await pilot.press("enter")  # the first target: the escalation department
        await wait_for(pilot, lambda: not screen.grid.panes, what="chat left")
    senior_app = make_app(senior_backend)
    async with senior_app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: senior_app.workspace_ready, what="senior sign-in")
        screen = senior_app.agent_screen
        assert screen is not None
        await wait_for(
            pilot,
            lambda: screen.grid.panes and screen.grid.panes[0].query("TranscriptView"),
            what="escalated pane",
        )
        pane = screen.grid.panes[0]
        assert pane.conversation_id == cid
        conversation = senior_app.controller.conversation(cid)
        assert conversation is not None and conversation.assignee_id == senior_id
        await wait_for(
            pilot,
            lambda: any(i.body.startswith("Escalated by Ana") for i in pane.transcript.items()),
            what="reason in the transcript",
        )
        assert "I was charged twice" in [i.body for i in pane.transcript.items()]
        assert "⇪ escalated" in pane.header().plain  # the badge on the pane
        await wait_for(
            pilot,
            lambda: (
                screen.sidebar._block is not None
                and "Escalated by Ana" in screen.sidebar._block.plain
            ),
            what="badge",
        )
        # The reason is shown as text (its escape sequence made visible, no markup).
        assert "[bold]refund[/]" in screen.sidebar._block.plain  # type: ignore[union-attr]
        assert "\x1b" not in screen.sidebar._block.plain  # type: ignore[union-attr]


async def test_the_escalation_dialog_offers_senior_colleagues_only(ref_server: RefServer) -> None:
    dept = department(ref_server)
    backend, _ = agent_backend(ref_server, "Ana", department=dept)
    senior_id, _ = ref_server.create_agent("Sol Senior", departments=(dept,), senior=True)
    junior_id, _ = ref_server.create_agent("Jo Junior", departments=(dept,))
    customer = Customer(ref_server, "Tom Baker")
    app = make_app(backend)
    async with app.run_test(size=(160, 45)) as pilot:
        await wait_for(pilot, lambda: app.workspace_ready, what="sign-in")
        await asyncio.to_thread(customer.start, dept, "I was charged twice")
        screen = app.agent_screen
        assert screen is not None
        await wait_for(pilot, lambda: screen.grid.panes, what="pane")
        await pilot.press("shift+f10")
        await wait_for(pilot, lambda: type(app.screen).__name__ == "EscalateScreen", what="dialog")
        targets = app.screen.query_one("#escalate-targets")
        ids = [targets.get_option_at_index(i).id for i in range(targets.option_count)]  # type: ignore[attr-defined]
        assert f"a:{senior_id}" in ids
        assert f"a:{junior_id}" not in ids
        await pilot.press("escape")
