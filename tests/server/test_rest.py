"""Every REST endpoint: happy path and its 4xx answers, against one real server."""

from __future__ import annotations

import httpx

from tests.fixtures.reference_server import RefServer
from tests.server.conftest import agent, client, customer, error_code, start_chat, supervisor


def test_health_and_auth_errors(server: RefServer) -> None:
    """Health needs no token; a missing or unknown token is 401 with the JSON error shape."""
    assert httpx.get(server.api + "/health").json()["status"] == "ok"
    r = httpx.get(server.api + "/me")
    assert r.status_code == 401 and error_code(r) == "unauthorized"
    assert "Bearer" in r.json()["error"]["message"]
    r = client(server, "ac_not-a-token").get("/me")
    assert r.status_code == 401
    r = httpx.get(server.api + "/me", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


def test_unknown_route_and_method_are_json_errors(server: RefServer) -> None:
    """Unknown paths give a JSON 404, wrong methods a JSON 405."""
    a = agent(server)
    r = a.get("/no-such-thing")
    assert r.status_code == 404 and error_code(r) == "not_found"
    r = a.delete("/me")
    assert r.status_code == 405 and error_code(r) == "method_not_allowed"
    r = a.delete("/customers/x/notes")
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "HEAD", "POST"}
    assert a.head("/me").status_code == 200


def test_me_and_status(server: RefServer) -> None:
    """GET /me describes the caller; PUT /me/status validates and updates."""
    a = agent(server, name="Status Agent")
    me = a.get("/me").json()
    assert me["role"] == "agent" and me["status"] == "offline" and me["capacity"] == 3
    assert me["department_ids"]
    r = a.put("/me/status", json={"status": "away", "capacity": 5, "accepting": False})
    assert r.status_code == 200
    assert (
        r.json()["status"] == "away"
        and r.json()["capacity"] == 5
        and r.json()["accepting"] is False
    )
    assert a.put("/me/status", json={"status": "sleeping"}).status_code == 400
    assert a.put("/me/status", json={"capacity": 0}).status_code == 400
    assert a.put("/me/status", json={"capacity": 999}).status_code == 400
    assert a.put("/me/status", json={"stauts": "online"}).status_code == 400  # typo caught
    assert a.put("/me/status", content=b"{not json").status_code == 400
    cust, cust_id = customer(server)
    me = cust.get("/me").json()
    assert me["role"] == "customer" and me["id"] == cust_id
    r = cust.put("/me/status", json={"status": "online"})
    assert r.status_code == 403 and error_code(r) == "forbidden"


def test_departments(server: RefServer) -> None:
    """Departments list with open_now and offline message."""
    server.create_department("Closed Dept", hours={}, offline_message="We are closed.")
    depts = {d["name"]: d for d in agent(server).get("/departments").json()}
    assert depts["General"]["open_now"] is True
    assert depts["Closed Dept"]["open_now"] is False
    assert depts["Closed Dept"]["offline_message"] == "We are closed."


def test_conversation_lifecycle(server: RefServer) -> None:
    """Start → queued → accept → reply → internal note → transfer → close, with 4xx on the way."""
    cust, cust_id = customer(server, email="life@example.com")
    conv = start_chat(
        cust, name="Life Cycle", message="My order is late", page_url="https://shop.example/o/1"
    )
    assert conv["state"] == "queued" and conv["customer_id"] == cust_id
    assert conv["waiting_since"] is not None and conv["page_url"] == "https://shop.example/o/1"
    a = agent(server, name="Lifecycle Agent")
    b = agent(server, name="Lifecycle Backup")
    b.put("/me/status", json={"status": "online", "accepting": False, "capacity": 20})

    r = a.get(f"/conversations/{conv['id']}")
    assert r.status_code == 200 and r.json()["customer_name"] == "Life Cycle"
    assert a.get("/conversations/conv_nope").status_code == 404

    listed = a.get("/conversations", params={"state": "queued"}).json()["items"]
    assert conv["id"] in [c["id"] for c in listed]
    assert a.get("/conversations", params={"state": "lost"}).status_code == 400
    assert a.get("/conversations", params={"limit": 0}).status_code == 400
    assert a.get("/conversations", params={"limit": "x"}).status_code == 400
    assert a.get("/conversations", params={"cursor": "abc"}).status_code == 400

    r = a.post(f"/conversations/{conv['id']}/accept")
    assert (
        r.status_code == 200
        and r.json()["state"] == "active"
        and r.json()["assignee_name"] == "Lifecycle Agent"
    )
    r = a.post(f"/conversations/{conv['id']}/accept")
    assert r.status_code == 409 and error_code(r) == "not_queued"
    assert a.post("/conversations/conv_nope/accept").status_code == 404
    mine = a.get("/conversations", params={"assignee": "me", "state": "active"}).json()["items"]
    assert [c["id"] for c in mine] == [conv["id"]]

    r = a.post(
        f"/conversations/{conv['id']}/messages",
        json={"client_id": "life-1", "body": "Looking into it"},
    )
    assert r.status_code == 201 and r.json()["author_kind"] == "agent"
    assert a.get(f"/conversations/{conv['id']}").json()["first_response_at"] is not None
    r = a.post(
        f"/conversations/{conv['id']}/messages",
        json={"client_id": "life-2", "body": "VIP, be nice", "internal": True},
    )
    assert r.status_code == 201 and r.json()["internal"] is True
    assert (
        a.post(
            f"/conversations/{conv['id']}/messages", json={"client_id": "x", "body": "  "}
        ).status_code
        == 400
    )
    assert (
        a.post(f"/conversations/{conv['id']}/messages", json={"body": "no client id"}).status_code
        == 400
    )
    assert (
        a.post(
            f"/conversations/{conv['id']}/messages", json={"client_id": "bad id!", "body": "x"}
        ).status_code
        == 400
    )
    assert (
        a.post(
            "/conversations/conv_nope/messages", json={"client_id": "x", "body": "x"}
        ).status_code
        == 404
    )

    # customers never see internal notes
    bodies = [
        m_["body"]
        for m_ in cust.get(f"/customer/conversations/{conv['id']}/messages").json()["items"]
    ]
    assert "Looking into it" in bodies and "VIP, be nice" not in bodies
    agent_bodies = [
        m_["body"] for m_ in a.get(f"/conversations/{conv['id']}/messages").json()["items"]
    ]
    assert "VIP, be nice" in agent_bodies

    assert a.post(f"/conversations/{conv['id']}/typing", json={"typing": True}).status_code == 204
    assert a.post(f"/conversations/{conv['id']}/typing", json={"typing": "yes"}).status_code == 400
    assert a.post(f"/conversations/{conv['id']}/read").status_code == 204
    assert a.post("/conversations/conv_nope/read").status_code == 404

    # transfer: both or neither target is a 400; unknown agent 404
    assert a.post(f"/conversations/{conv['id']}/transfer", json={}).status_code == 400
    assert (
        a.post(
            f"/conversations/{conv['id']}/transfer", json={"agent_id": "x", "department_id": "y"}
        ).status_code
        == 400
    )
    assert (
        a.post(f"/conversations/{conv['id']}/transfer", json={"agent_id": "agent_nope"}).status_code
        == 404
    )
    assert (
        a.post(
            f"/conversations/{conv['id']}/transfer", json={"department_id": "dept_nope"}
        ).status_code
        == 404
    )
    b_id = b.get("/me").json()["id"]
    r = a.post(
        f"/conversations/{conv['id']}/transfer", json={"agent_id": b_id, "note": "billing question"}
    )
    assert (
        r.status_code == 200 and r.json()["assignee_id"] == b_id and r.json()["state"] == "active"
    )
    notes = [
        m_
        for m_ in a.get(f"/conversations/{conv['id']}/messages").json()["items"]
        if m_["internal"]
    ]
    assert any("billing question" in n["body"] for n in notes)

    r = b.post(f"/conversations/{conv['id']}/close", json={"request_csat": True})
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["closed_at"]
    r = b.post(f"/conversations/{conv['id']}/close", json={})
    assert r.status_code == 409 and error_code(r) == "conversation_closed"
    r = b.post(
        f"/conversations/{conv['id']}/messages", json={"client_id": "late", "body": "hello?"}
    )
    assert r.status_code == 409 and error_code(r) == "conversation_closed"
    r = b.post(f"/conversations/{conv['id']}/transfer", json={"agent_id": b_id})
    assert r.status_code == 409

    # CSAT
    r = cust.post(
        f"/customer/conversations/{conv['id']}/rate", json={"score": 5, "comment": "great"}
    )
    assert r.status_code == 200 and r.json()["csat_score"] == 5
    assert (
        cust.post(f"/customer/conversations/{conv['id']}/rate", json={"score": 6}).status_code
        == 400
    )
    assert (
        cust.post(
            f"/customer/conversations/{conv['id']}/messages", json={"client_id": "z", "body": "hi"}
        ).status_code
        == 409
    )


def test_transfer_to_department_requeues(server: RefServer) -> None:
    """A department transfer puts the chat back in that department's queue."""
    dept_id = server.create_department("Escalations")
    cust, _ = customer(server)
    conv = start_chat(cust, message="help")
    a = agent(server)
    assert a.post(f"/conversations/{conv['id']}/accept").status_code == 200
    r = a.post(
        f"/conversations/{conv['id']}/transfer", json={"department_id": dept_id, "note": "needs L2"}
    )
    assert r.status_code == 200
    body = r.json()
    assert (
        body["state"] == "queued"
        and body["assignee_id"] is None
        and body["department_id"] == dept_id
    )
    assert conv["id"] in [
        c["id"] for c in a.get("/conversations", params={"department": dept_id}).json()["items"]
    ]


def test_message_paging(server: RefServer) -> None:
    """before/after/limit page in ascending order with has_more."""
    cust, _ = customer(server)
    conv = start_chat(cust)
    ids = []
    for i in range(7):
        r = cust.post(
            f"/customer/conversations/{conv['id']}/messages",
            json={"client_id": f"p{i}", "body": f"m{i}"},
        )
        assert r.status_code == 201
        ids.append(r.json()["id"])
    a = agent(server)
    url = f"/conversations/{conv['id']}/messages"
    page = a.get(url, params={"limit": 3}).json()
    assert [m_["body"] for m_ in page["items"]] == ["m4", "m5", "m6"] and page["has_more"] is True
    page = a.get(url, params={"limit": 3, "before": ids[4]}).json()
    assert [m_["body"] for m_ in page["items"]] == ["m1", "m2", "m3"] and page["has_more"] is True
    page = a.get(url, params={"limit": 3, "after": ids[4]}).json()
    assert [m_["body"] for m_ in page["items"]] == ["m5", "m6"] and page["has_more"] is False
    assert a.get(url, params={"after": "msg_nope"}).status_code == 400
    assert a.get(url, params={"limit": 1000}).status_code == 400


def test_conversation_cursor_paging(server: RefServer) -> None:
    """next_cursor walks all conversations once, newest first."""
    cust, cust_id = customer(server)
    made = [start_chat(cust)["id"] for _ in range(5)]
    a = agent(server)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = a.get("/conversations", params=params).json()
        seen += [c["id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen))
    assert [c for c in seen if c in made] == list(reversed(made))
    past = a.get(f"/customers/{cust_id}/conversations").json()
    assert [c["id"] for c in past] == list(reversed(made))


def test_idempotent_send(server: RefServer) -> None:
    """A retried client_id returns the original message with 200 and creates nothing."""
    cust, _ = customer(server)
    conv = start_chat(cust)
    a = agent(server)
    body = {"client_id": "retry-1", "body": "only once"}
    first = a.post(f"/conversations/{conv['id']}/messages", json=body)
    again = a.post(f"/conversations/{conv['id']}/messages", json=body)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == again.json()
    items = a.get(f"/conversations/{conv['id']}/messages").json()["items"]
    assert [m_["body"] for m_ in items].count("only once") == 1
    c1 = cust.post(
        f"/customer/conversations/{conv['id']}/messages",
        json={"client_id": "c-retry", "body": "hi"},
    )
    c2 = cust.post(
        f"/customer/conversations/{conv['id']}/messages",
        json={"client_id": "c-retry", "body": "hi"},
    )
    assert (c1.status_code, c2.status_code) == (201, 200) and c1.json()["id"] == c2.json()["id"]


def test_customers_tags_notes(server: RefServer) -> None:
    """Customer profile, tag replacement and notes, with 404s and validation."""
    cust, cust_id = customer(server, email="tags@example.com")
    start_chat(cust, name="Tag Person", page_url="https://x.example/pricing")
    a = agent(server, name="Note Writer")
    profile = a.get(f"/customers/{cust_id}").json()
    assert profile["email"] == "tags@example.com" and profile["name"] == "Tag Person"
    assert any("pricing" in act["text"] for act in profile["activity"])
    assert a.get("/customers/cust_nope").status_code == 404
    r = a.put(f"/customers/{cust_id}/tags", json={"tags": ["vip", " vip ", "", "refund"]})
    assert r.status_code == 200 and r.json()["tags"] == ["vip", "refund"]
    assert a.put(f"/customers/{cust_id}/tags", json={"tags": "vip"}).status_code == 400
    assert a.put("/customers/cust_nope/tags", json={"tags": []}).status_code == 404
    r = a.post(f"/customers/{cust_id}/notes", json={"body": "Prefers email"})
    assert r.status_code == 201 and r.json()["author_name"] == "Note Writer"
    assert a.post(f"/customers/{cust_id}/notes", json={"body": ""}).status_code == 400
    assert a.post(f"/customers/{cust_id}/notes", json={"body": "   "}).status_code == 400
    assert a.post("/customers/cust_nope/notes", json={"body": "x"}).status_code == 404
    notes = a.get(f"/customers/{cust_id}/notes").json()
    assert [n["body"] for n in notes] == ["Prefers email"]
    assert a.get("/customers/cust_nope/notes").status_code == 404
    assert a.get("/customers/cust_nope/conversations").status_code == 404
    # a customer can't read profiles
    assert cust.get(f"/customers/{cust_id}").status_code == 403


def test_canned_replies(server: RefServer) -> None:
    """CRUD and search; placeholders stay literal."""
    a = agent(server)
    r = a.post(
        "/canned-replies",
        json={
            "title": "Greeting",
            "shortcut": "/hi",
            "body": "Hi {customer.name}!",
            "category": "greeting",
        },
    )
    assert r.status_code == 201
    reply = r.json()
    assert reply["body"] == "Hi {customer.name}!"
    a.post(
        "/canned-replies",
        json={"title": "Refund policy", "shortcut": "/refund", "body": "Refunds take 5 days."},
    )
    assert [x["title"] for x in a.get("/canned-replies", params={"q": "refund"}).json()] == [
        "Refund policy"
    ]
    assert [x["title"] for x in a.get("/canned-replies", params={"q": "/hi"}).json()] == [
        "Greeting"
    ]
    assert a.get("/canned-replies", params={"q": "%"}).json() == []
    assert len(a.get("/canned-replies").json()) >= 2
    r = a.put(
        f"/canned-replies/{reply['id']}", json={"title": "Hello", "body": "Hello {customer.name}"}
    )
    assert r.status_code == 200 and r.json()["title"] == "Hello" and r.json()["shortcut"] == ""
    assert a.put("/canned-replies/canned_nope", json={"title": "x", "body": "y"}).status_code == 404
    assert a.post("/canned-replies", json={"title": "", "body": "y"}).status_code == 400
    assert a.post("/canned-replies", json={"title": "x"}).status_code == 400
    assert a.delete(f"/canned-replies/{reply['id']}").status_code == 204
    assert a.delete(f"/canned-replies/{reply['id']}").status_code == 404


def test_search(server: RefServer) -> None:
    """FTS over transcripts, including Korean/Japanese substrings and short words."""
    cust, _ = customer(server, name="Search Person")
    conv = start_chat(cust, name="Search Person", message="My invoice INV-4242 was charged twice")
    cust.post(
        f"/customer/conversations/{conv['id']}/messages",
        json={"client_id": "ko", "body": "환불 요청드립니다"},
    )
    cust.post(
        f"/customer/conversations/{conv['id']}/messages",
        json={"client_id": "ja", "body": "請求書が二重に届きました"},
    )
    a = agent(server)
    hits = a.get("/search", params={"q": "charged twice"}).json()["items"]
    assert (
        hits
        and hits[0]["conversation_id"] == conv["id"]
        and hits[0]["customer_name"] == "Search Person"
    )
    assert "charged" in hits[0]["snippet"]
    assert (
        a.get("/search", params={"q": "환불 요청"}).json()["items"][0]["conversation_id"]
        == conv["id"]
    )
    assert (
        a.get("/search", params={"q": "二重"}).json()["items"][0]["conversation_id"] == conv["id"]
    )
    assert (
        a.get("/search", params={"q": 'INV-4242"'}).status_code == 200
    )  # quotes can't break FTS syntax
    assert a.get("/search", params={"q": "zzzqqqxxx"}).json()["items"] == []
    assert a.get("/search").status_code == 400
    assert a.get("/search", params={"q": "\x00\x01"}).status_code == 400
    assert a.get("/search", params={"q": "cha\x00rged"}).status_code == 200  # NUL can't break FTS
    assert a.get("/search", params={"q": "x" * 300}).status_code == 400


def test_supervisor_views(server: RefServer) -> None:
    """Queues and agents views have the documented figures; supervisors may read them."""
    cust, _ = customer(server)
    start_chat(cust, message="waiting for the views")
    named = agent(server, name="Views Agent")
    named.put("/me/status", json={"status": "away", "capacity": 4})
    sup = supervisor(server)
    queues = sup.get("/queues").json()["items"]
    general = next(q for q in queues if q["department_name"] == "General")
    assert general["waiting"] >= 1 and general["longest_wait_seconds"] >= 0
    assert general["open_now"] is True and general["abandoned_today"] >= 0
    assert "avg_first_response_seconds" in general and "avg_response_seconds" in general
    row = next(a_ for a_ in sup.get("/agents").json()["items"] if a_["name"] == "Views Agent")
    assert row["status"] == "away" and row["capacity"] == 4 and row["load"] == 0
    assert (
        row["chats_today"] == 0
        and row["avg_response_seconds"] is None
        and row["last_reply_at"] is None
    )
    assert customer(server)[0].get("/queues").status_code == 403


def test_customer_api_scope(server: RefServer) -> None:
    """Customers see only their own conversations; the public session endpoint validates."""
    c1, _ = customer(server)
    c2, _ = customer(server)
    conv = start_chat(c1, message="mine")
    assert [c["id"] for c in c1.get("/customer/conversations").json()] == [conv["id"]]
    assert c2.get("/customer/conversations").json() == []
    assert c2.get(f"/customer/conversations/{conv['id']}/messages").status_code == 404
    r = c2.post(
        f"/customer/conversations/{conv['id']}/messages", json={"client_id": "x", "body": "hijack"}
    )
    assert r.status_code == 404
    assert c2.post(f"/customer/conversations/{conv['id']}/typing", json={}).status_code == 404
    assert (
        c1.post(f"/customer/conversations/{conv['id']}/typing", json={"typing": True}).status_code
        == 204
    )
    r = c1.post(
        f"/customer/conversations/{conv['id']}/messages",
        json={"client_id": "i", "body": "x", "internal": True},
    )
    assert r.status_code == 400
    assert c1.get("/conversations").status_code == 403
    assert httpx.post(server.api + "/customer/session", json={"name": ""}).status_code == 400
    assert (
        httpx.post(
            server.api + "/customer/session", json={"name": "x", "email": "e" * 400}
        ).status_code
        == 400
    )
    assert httpx.post(server.api + "/customer/session", json=[]).status_code == 400
    assert (
        c1.post("/customer/conversations", json={"name": "x", "department": "Nope"}).status_code
        == 400
    )
    assert c1.post("/customer/conversations", json={}).status_code == 400
    a = agent(server)
    assert a.post("/customer/conversations", json={"name": "x"}).status_code == 403
    r = c1.post(f"/customer/conversations/{conv['id']}/transcript", json={"email": "bad"})
    assert r.status_code == 400
    r = c1.post(
        f"/customer/conversations/{conv['id']}/transcript", json={"email": "me@example.com"}
    )
    assert r.status_code == 202
    # leaving while queued counts as abandoned
    r = c1.post(f"/customer/conversations/{conv['id']}/leave")
    assert r.status_code == 200 and r.json()["state"] == "closed" and r.json()["abandoned"] is True
    assert c1.post(f"/customer/conversations/{conv['id']}/leave").status_code == 200


def test_bot_asks_prechat_questions(server: RefServer) -> None:
    """Missing pre-chat answers are asked by the bot, then the chat is queued with them."""
    server.create_department(
        "Orders",
        prechat_questions=[{"key": "order_number", "question": "What is your order number?"}],
    )
    cust, _ = customer(server)
    conv = start_chat(cust, department="Orders", message="Where is my parcel?")
    assert conv["state"] == "bot"
    items = cust.get(f"/customer/conversations/{conv['id']}/messages").json()["items"]
    assert items[-1]["author_kind"] == "bot" and "order number" in items[-1]["body"]
    cust.post(
        f"/customer/conversations/{conv['id']}/messages",
        json={"client_id": "ans", "body": "A-1001"},
    )
    now = cust.get("/customer/conversations").json()[0]
    assert now["state"] == "queued" and now["prechat"] == {"order_number": "A-1001"}
    # answered in the pre-chat form: no bot step
    conv2 = start_chat(cust, department="orders", prechat={"order_number": "B-2"})
    assert conv2["state"] == "queued"


def test_business_hours_offline_message(server: RefServer) -> None:
    """Outside business hours the customer gets the department's offline message."""
    server.create_department("Night Shift", hours={}, offline_message="Back tomorrow at 9.")
    cust, _ = customer(server)
    conv = start_chat(cust, department="Night Shift", message="hello?")
    bodies = [
        m_["body"]
        for m_ in cust.get(f"/customer/conversations/{conv['id']}/messages").json()["items"]
    ]
    assert "Back tomorrow at 9." in bodies
    assert conv["state"] == "queued"


def test_openapi_document(server: RefServer) -> None:
    """The OpenAPI document lists every route with bearer security and error bodies."""
    from console.server.routes import ROUTES

    doc = httpx.get(server.api + "/openapi.json").json()
    assert doc["openapi"].startswith("3.")
    for spec in ROUTES:
        op = doc["paths"]["/api/v1" + spec.path][spec.method.lower()]
        assert op["responses"]
        if spec.auth:
            assert op["security"] == [{"bearer": []}]
            assert op["responses"]["401"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"
            }
    assert "Conversation" in doc["components"]["schemas"]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
