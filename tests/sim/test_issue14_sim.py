"""Demo honesty (issue 14): customers do not open with the same words and numbers,
and a pre-chat bot question is answered once."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from typing import Any

from console.sim import plan_customers, run_simulator
from tests.sim.test_sim_server import RATE, ReplyingAgent, conversation_for, find_seed

NUMBER = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,3}-\d{4,6}(?!\d)")


def test_customers_open_with_their_own_words_and_numbers() -> None:
    """Twenty customers: no two openings alike, no invoice/order number shared."""
    for seed in (0, 1, 7):
        plans = plan_customers(seed, 20, per_minute=RATE)
        openings = [p.opening for p in plans]
        assert len(set(openings)) == len(openings), openings
        owners: dict[str, int] = {}
        for plan in plans:
            texts = [plan.opening, *plan.prechat.values(), *plan.lines, plan.bot_reply]
            for number in {n for text in texts for n in NUMBER.findall(text)}:
                assert owners.setdefault(number, plan.index) == plan.index, number
            # The pre-chat form and the words name the same number.
            form = {n for v in plan.prechat.values() for n in NUMBER.findall(v)}
            said = set(NUMBER.findall(plan.opening))
            assert not (form and said) or form == said


def test_the_same_seed_still_plans_the_same_customers() -> None:
    assert plan_customers(3, 10, per_minute=RATE) == plan_customers(3, 10, per_minute=RATE)


async def test_the_bot_question_is_answered_once(make_ref_server: Callable[..., Any]) -> None:
    """A customer whose form lacks the invoice answers the bot's question exactly once
    (the bot's "an agent will be with you shortly" is not answered again)."""
    server = make_ref_server(demo=True)
    count = 2
    seed = find_seed(count, lambda ps: any(p.bot_reply for p in ps))
    plans = plan_customers(seed, count, per_minute=RATE)
    asked = next(p for p in plans if p.bot_reply)
    agent = ReplyingAgent(server.api, server.token("agent", "Sim Tester"))
    stop = asyncio.Event()
    agent_task = asyncio.create_task(agent.run(stop))
    try:
        stats = await asyncio.wait_for(
            run_simulator(server.url, seed=seed, customers=count, rate=RATE, speed=20), 120
        )
    finally:
        stop.set()
        await agent_task
    assert stats.errors == [], stats.errors
    conv_id = conversation_for(stats, asked.index)
    answers = [s for s in stats.sent if s.conversation_id == conv_id and s.kind == "bot_answer"]
    assert [s.body for s in answers] == [asked.bot_reply]
    assert stats.bot_messages >= 2  # the question and the hand-over both arrived
