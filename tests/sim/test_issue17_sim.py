"""Issue 17 in the demo: simulated Korean and Japanese customers tell the widget their
language and reach an agent who speaks it when one of their department has room; refund
customers name no department and the server's routing rules send them to Billing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx

from console.seed_data import DEMO_AGENTS, DEMO_DEPARTMENTS
from console.sim import plan_customers, run_simulator
from tests.sim.test_sim_server import RATE, conversation_for, find_seed

COUNT = 6


async def test_demo_customers_reach_speakers_of_their_language(
    make_ref_server: Callable[..., Any],
) -> None:
    server = make_ref_server(demo=True)
    seed = find_seed(
        COUNT,
        lambda ps: (
            {"ko", "ja"} <= {p.lang for p in ps} and any(p.scenario.routed_by_topic for p in ps)
        ),
    )
    plans = plan_customers(seed, COUNT, per_minute=RATE)
    for agent in DEMO_AGENTS:  # everyone online with room for the whole run
        token = server.token("agent", str(agent["name"]))
        r = httpx.put(
            server.api + "/me/status",
            json={"status": "online", "capacity": 10},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
    stats = await asyncio.wait_for(
        run_simulator(server.url, seed=seed, customers=COUNT, rate=RATE, speed=20), 120
    )
    assert stats.errors == [], stats.errors
    names = {str(d["id"]): str(d["name"]) for d in DEMO_DEPARTMENTS}
    speaks = {str(a["name"]): set(a["languages"]) for a in DEMO_AGENTS}
    serves = {str(a["name"]): {names[x] for x in a["departments"]} for a in DEMO_AGENTS}
    sup = httpx.Client(
        base_url=server.api,
        headers={"Authorization": f"Bearer {server.token('supervisor', 'Sam')}"},
    )
    checked = 0
    for plan in plans:
        conv = sup.get(f"/conversations/{conversation_for(stats, plan.index)}").json()
        assert conv["language"] == plan.lang
        if plan.scenario.routed_by_topic:
            assert conv["department_name"] == "Billing"  # by the topic rule, no department sent
        assignee = conv["assignee_name"]
        if assignee is None:
            continue  # left before the hand-over
        speakers = [n for n, langs in speaks.items() if plan.lang in langs]
        if plan.lang != "en" and any(conv["department_name"] in serves[n] for n in speakers):
            assert plan.lang in speaks[assignee], (plan.lang, conv["department_name"], assignee)
            checked += 1
    assert checked >= 1
