"""Routing and capacity: auto-assignment, queueing, draining, manual accept, even spread.

Each test uses its own department and agents limited to it, so tests sharing the
module's server cannot take each other's chats.
"""

from __future__ import annotations

import collections
import itertools

import httpx

from tests.fixtures.reference_server import RefServer
from tests.server.conftest import client, customer, error_code, start_chat

_dept = itertools.count(1)


def dept(server: RefServer) -> str:
    name = f"Routing {next(_dept)}"
    server.create_department(name)
    return name


def dept_agent(
    server: RefServer,
    department: str,
    name: str,
    *,
    capacity: int = 3,
    status: str | None = "online",
    accepting: bool = True,
) -> tuple[httpx.Client, str]:
    agent_id, token = server.create_agent(name, departments=(department,), capacity=capacity)
    c = client(server, token)
    body: dict[str, object] = {"accepting": accepting}
    if status:
        body["status"] = status
    assert c.put("/me/status", json=body).status_code == 200
    return c, agent_id


def chat(server: RefServer, department: str) -> dict[str, object]:
    cust, _ = customer(server)
    return start_chat(cust, department=department, message="hi")


def test_auto_assign_spreads_evenly(server: RefServer) -> None:
    """With equal free capacity, chats alternate between agents (fewest chats today first)."""
    d = dept(server)
    _, a_id = dept_agent(server, d, "Even A")
    _, b_id = dept_agent(server, d, "Even B")
    convs = [chat(server, d) for _ in range(4)]
    assert all(c["state"] == "active" for c in convs)
    counts = collections.Counter(c["assignee_id"] for c in convs)
    assert counts == {a_id: 2, b_id: 2}
    assert convs[0]["assignee_id"] != convs[1]["assignee_id"]


def test_most_free_capacity_wins(server: RefServer) -> None:
    """The agent with more free slots gets the next chat."""
    d = dept(server)
    big, big_id = dept_agent(server, d, "Roomy", capacity=6)
    _, small_id = dept_agent(server, d, "Snug", capacity=2)
    assigned = [chat(server, d)["assignee_id"] for _ in range(5)]
    # free slots: Roomy 6, Snug 2 → Roomy takes chats until both have 2 free; the tie
    # then goes to Snug, who has had fewer chats today
    assert assigned == [big_id] * 4 + [small_id]
    load = {a["agent_id"]: a["load"] for a in big.get("/agents").json()["items"]}
    assert load[big_id] + load[small_id] == 5 and load[small_id] <= 2


def test_queue_drains_when_agent_comes_online_and_when_a_chat_closes(server: RefServer) -> None:
    """Nobody online → queued; going online takes up to capacity; closing frees a slot."""
    d = dept(server)
    convs = [chat(server, d) for _ in range(3)]
    assert all(c["state"] == "queued" for c in convs)
    a, a_id = dept_agent(server, d, "Late Riser", capacity=2, status=None)
    assert a.get("/me").json()["status"] == "offline"
    assert a.put("/me/status", json={"status": "online"}).status_code == 200
    states = [a.get(f"/conversations/{c['id']}").json() for c in convs]
    assert [s["state"] for s in states] == ["active", "active", "queued"]  # oldest first
    assert {s["assignee_id"] for s in states[:2]} == {a_id}
    assert a.post(f"/conversations/{convs[0]['id']}/close", json={}).status_code == 200
    third = a.get(f"/conversations/{convs[2]['id']}").json()
    assert third["state"] == "active" and third["assignee_id"] == a_id


def test_away_and_not_accepting_agents_get_nothing(server: RefServer) -> None:
    """Only online and accepting agents are routed to; raising capacity drains too."""
    d = dept(server)
    dept_agent(server, d, "Away One", status="away")
    b, _ = dept_agent(server, d, "Busy One", accepting=False)
    conv = chat(server, d)
    assert conv["state"] == "queued"
    assert b.put("/me/status", json={"accepting": True}).status_code == 200
    assert b.get(f"/conversations/{conv['id']}").json()["state"] == "active"


def test_manual_accept_respects_capacity(server: RefServer) -> None:
    """Accept works up to capacity, then 409 capacity_full; the chat stays queued."""
    d = dept(server)
    a, _ = dept_agent(server, d, "Picker", capacity=2, accepting=False)
    convs = [chat(server, d) for _ in range(3)]
    assert a.post(f"/conversations/{convs[0]['id']}/accept").status_code == 200
    assert a.post(f"/conversations/{convs[1]['id']}/accept").status_code == 200
    r = a.post(f"/conversations/{convs[2]['id']}/accept")
    assert r.status_code == 409 and error_code(r) == "capacity_full"
    assert a.get(f"/conversations/{convs[2]['id']}").json()["state"] == "queued"
    me = a.get("/me").json()
    agents = {x["agent_id"]: x for x in a.get("/agents").json()["items"]}
    assert agents[me["id"]]["load"] == 2 and agents[me["id"]]["chats_today"] == 2


def test_transfer_to_full_agent_is_refused(server: RefServer) -> None:
    """Transferring to an agent with no free slot is 409 capacity_full and changes nothing."""
    d = dept(server)
    a, _ = dept_agent(server, d, "Giver", capacity=3)
    full, full_id = dept_agent(server, d, "Full", capacity=1, accepting=False)
    c1, c2 = chat(server, d), chat(server, d)
    assert (
        full.post(f"/conversations/{c1['id']}/transfer", json={"agent_id": full_id}).status_code
        == 200
    )
    r = a.post(f"/conversations/{c2['id']}/transfer", json={"agent_id": full_id})
    assert r.status_code == 409 and error_code(r) == "capacity_full"
    assert a.get(f"/conversations/{c2['id']}").json()["assignee_name"] == "Giver"
    messages = a.get(f"/conversations/{c2['id']}/messages").json()["items"]
    assert not any("Transferred" in m["body"] for m in messages)


def test_queue_stats_and_abandoned(server: RefServer) -> None:
    """Waiting count, longest wait and abandoned-today follow the queue."""
    d = dept(server)
    cust, _ = customer(server)
    conv = start_chat(cust, department=d, message="waiting")
    start_chat(customer(server)[0], department=d, message="also waiting")
    a, _ = dept_agent(server, d, "Watcher", status=None)
    stats = next(q for q in a.get("/queues").json()["items"] if q["department_name"] == d)
    assert (
        stats["waiting"] == 2
        and stats["longest_wait_seconds"] >= 0
        and stats["abandoned_today"] == 0
    )
    cust.post(f"/customer/conversations/{conv['id']}/leave")
    stats = next(q for q in a.get("/queues").json()["items"] if q["department_name"] == d)
    assert stats["waiting"] == 1 and stats["abandoned_today"] == 1
    a.put("/me/status", json={"status": "online"})
    stats = next(q for q in a.get("/queues").json()["items"] if q["department_name"] == d)
    assert stats["waiting"] == 0 and stats["active"] == 1


def test_department_transfer_never_bounces_back(server: RefServer) -> None:
    """A department transfer skips the transferring agent: the chat goes to someone else or waits."""
    d = dept(server)
    a, a_id = dept_agent(server, d, "Bouncer", capacity=5)
    conv = chat(server, d)
    assert conv["assignee_id"] == a_id
    r = a.post(f"/conversations/{conv['id']}/transfer", json={"department_id": d})
    assert (
        r.status_code == 200 and r.json()["state"] == "queued" and r.json()["assignee_id"] is None
    )

    d2 = dept(server)
    a2, a2_id = dept_agent(server, d2, "Bouncer Two", capacity=5)
    _, b_id = dept_agent(server, d2, "Catcher", capacity=2)
    conv2 = chat(server, d2)
    assert conv2["assignee_id"] == a2_id  # most free slots
    r = a2.post(f"/conversations/{conv2['id']}/transfer", json={"department_id": d2})
    assert r.json()["assignee_id"] == b_id  # despite Bouncer Two having more room
