"""Role enforcement: supervisors are read-only everywhere, roles stay on their side."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from console.server.app import create_app
from console.server.settings import ServerSettings
from tests.fixtures.reference_server import RefServer
from tests.server.conftest import agent, customer, error_code, start_chat, supervisor


def app_mutating_routes(tmp_path: Path) -> list[tuple[str, str]]:
    """(method, path) of every non-GET HTTP route of the real app, so no route can be forgotten."""
    app = create_app(
        ServerSettings(
            db_path=tmp_path / "walk.sqlite3",
            data_dir=tmp_path / "walk-data",
            debug_endpoints=False,
        )
    )
    from console.server.routes import ROUTES

    # POSTs that change no data (a stream ticket) are open to supervisors on purpose.
    safe = {(spec.method, spec.path) for spec in ROUTES if spec.read_only_safe}
    assert safe == {("POST", "/stream/ticket")}
    found: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, Route):
            for method in sorted((route.methods or set()) - {"GET", "HEAD"}):
                key = (method, route.path.removeprefix("/api/v1"))
                if key not in safe:
                    found.append(key)
    return found


def test_every_mutating_route_refuses_supervisors(server: RefServer, tmp_path: Path) -> None:
    """Each mutating route answers 403 read_only to a supervisor and changes nothing."""
    routes = app_mutating_routes(tmp_path)
    assert len(routes) >= 20  # the walk really covers the API
    cust, cust_id = customer(server)
    conv = start_chat(cust, message="please help")
    sup = supervisor(server)
    last_seq = httpx.get(server.api + "/health").json()["last_seq"]
    ids = {"id": conv["id"]}
    for method, path in routes:
        concrete = re.sub(r"{(\w+)}", lambda m_: ids.get(m_.group(1), "x"), path)
        if "/customers/" in concrete:
            concrete = concrete.replace(conv["id"], cust_id)
        r = sup.request(method, concrete, json={})
        assert r.status_code == 403, (method, path, r.status_code, r.text)
        assert error_code(r) == "read_only", (method, path)
    # multipart upload is refused too
    r = sup.post("/attachments", files={"file": ("a.txt", b"hi")})
    assert r.status_code == 403 and error_code(r) == "read_only"
    # nothing changed: no event was written, the chat is still queued
    assert httpx.get(server.api + "/health").json()["last_seq"] == last_seq
    assert sup.get(f"/conversations/{conv['id']}").json()["state"] == "queued"
    refused = server.mutating_requests(role="supervisor")
    assert len(refused) >= len(routes) and all(r_["status"] == 403 for r_ in refused)


def test_supervisor_reading_changes_nothing(server: RefServer) -> None:
    """Supervisor reads never mark read, never emit events, never change state."""
    cust, cust_id = customer(server)
    conv = start_chat(cust, message="anyone?")
    sup = supervisor(server)
    sup_id = sup.get("/me").json()["id"]
    before_seq = httpx.get(server.api + "/health").json()["last_seq"]
    for path in (
        f"/conversations/{conv['id']}",
        f"/conversations/{conv['id']}/messages",
        "/conversations",
        f"/customers/{cust_id}",
        f"/customers/{cust_id}/notes",
        f"/customers/{cust_id}/conversations",
        "/queues",
        "/agents",
        "/canned-replies",
        "/departments",
        "/me",
    ):
        assert sup.get(path).status_code == 200, path
    assert httpx.get(server.api + "/health").json()["last_seq"] == before_seq
    with sqlite3.connect(server.db_path) as db:
        assert (
            db.execute("SELECT COUNT(*) FROM reads WHERE user_id = ?", (sup_id,)).fetchone()[0] == 0
        )
    assert sup.get(f"/conversations/{conv['id']}").json()["waiting_since"] == conv["waiting_since"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/conversations"),
        ("GET", "/queues"),
        ("GET", "/search?q=abc"),
        ("POST", "/canned-replies"),
        ("GET", "/customers/x"),
    ],
)
def test_customers_cannot_use_agent_routes(server: RefServer, method: str, path: str) -> None:
    """A customer token on an agent route is 403 forbidden."""
    cust, _ = customer(server)
    r = cust.request(method, path, json={"title": "t", "body": "b"} if method == "POST" else None)
    assert r.status_code == 403 and error_code(r) == "forbidden"


def test_agents_cannot_use_customer_routes(server: RefServer) -> None:
    """An agent token on a customer route is 403 forbidden."""
    a = agent(server)
    assert error_code(a.get("/customer/conversations")) == "forbidden"
    assert (
        a.post(
            "/customer/conversations/x/messages", json={"client_id": "a", "body": "b"}
        ).status_code
        == 403
    )
