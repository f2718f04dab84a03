"""Regression tests for the behaviour reported in /work/team/server-bugs.md.

- "Opening message eaten by the bot": an opening message sent with the start
  request is a customer message, never the answer to a question not asked yet.
- "Transfer to a department bounces straight back": with nobody else online the
  transferred chat waits in the queue instead of returning to the sender.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fixtures.reference_server import RefServer, start_ref_server
from tests.server.conftest import agent, client, customer, start_chat, supervisor


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RefServer]:
    """A fresh server per module: the transfer test needs exactly one agent online."""
    srv = start_ref_server(tmp_path_factory.mktemp("bug-server"))
    yield srv
    srv.stop()


def test_opening_message_is_not_taken_as_the_first_prechat_answer(server: RefServer) -> None:
    server.create_department(
        "Billing",
        prechat_questions=[
            {"key": "invoice", "question": "Which invoice?"},
            {"key": "amount", "question": "How much was it?"},
        ],
    )
    cust, customer_id = customer(server)
    conv = start_chat(cust, name="A", department="Billing", message="I want a refund")
    assert conv["state"] == "bot"
    assert conv["prechat"] == {}

    items = cust.get(f"/customer/conversations/{conv['id']}/messages").json()["items"]
    assert [(i["author_kind"], i["body"]) for i in items] == [
        ("customer", "I want a refund"),
        ("bot", "Which invoice?"),
    ]
    assert items[0]["author_id"] == customer_id

    def answer(client_id: str, body: str) -> dict[str, object]:
        r = cust.post(
            f"/customer/conversations/{conv['id']}/messages",
            json={"client_id": client_id, "body": body},
        )
        assert r.status_code == 201, r.text
        mine = [c for c in cust.get("/customer/conversations").json() if c["id"] == conv["id"]]
        return dict(mine[0])

    now = answer("a1", "INV-42")
    assert now["state"] == "bot" and now["prechat"] == {"invoice": "INV-42"}
    now = answer("a2", "30 EUR")
    assert now["state"] == "queued"
    assert now["prechat"] == {"invoice": "INV-42", "amount": "30 EUR"}
    bodies = [
        i["body"]
        for i in cust.get(f"/customer/conversations/{conv['id']}/messages").json()["items"]
    ]
    assert bodies[:5] == [
        "I want a refund",
        "Which invoice?",
        "INV-42",
        "How much was it?",
        "30 EUR",
    ]


def test_transfer_to_a_department_with_nobody_else_online_waits_in_the_queue(
    server: RefServer,
) -> None:
    alice = agent(server, online=True, name="Alice", capacity=3)
    alice_id = alice.get("/me").json()["id"]
    general = next(d for d in alice.get("/departments").json() if d["name"] == "General")

    cust, _ = customer(server)
    conv = start_chat(cust, department="General", message="hello")
    assert conv["state"] == "active" and conv["assignee_id"] == alice_id

    r = alice.post(
        f"/conversations/{conv['id']}/transfer",
        json={"department_id": general["id"], "note": "x"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "queued" and r.json()["assignee_id"] is None
    # and it stays there: nothing in the same request or right after hands it back
    again = alice.get(f"/conversations/{conv['id']}").json()
    assert again["state"] == "queued" and again["assignee_id"] is None

    # A colleague coming online drains the queue: equal free slots, Bob has had fewer chats today.
    bob = client(server, server.token("agent", "Bob"))
    r = bob.put("/me/status", json={"status": "online"})
    assert r.status_code == 200, r.text
    after = supervisor(server).get(f"/conversations/{conv['id']}").json()
    assert after["state"] == "active" and after["assignee_id"] == r.json()["id"]
