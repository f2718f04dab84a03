"""Helpers for the reference-server tests: one server per module where state allows."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.reference_server import RefServer, start_ref_server

_names = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RefServer]:
    """One reference server shared by the tests of a module (tests create their own users)."""
    srv = start_ref_server(tmp_path_factory.mktemp("module-server"))
    yield srv
    srv.stop()


def client(server: RefServer, token: str | None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.api, headers=headers, timeout=10.0, trust_env=False)


def unique(prefix: str) -> str:
    return f"{prefix} {next(_names)}"


def agent(
    server: RefServer, *, online: bool = False, capacity: int | None = None, name: str | None = None
) -> httpx.Client:
    """An agent client; ``online`` puts it online (and so into routing)."""
    c = client(server, server.token("agent", name or unique("Agent")))
    update: dict[str, Any] = {}
    if online:
        update["status"] = "online"
    if capacity is not None:
        update["capacity"] = capacity
    if update:
        r = c.put("/me/status", json=update)
        assert r.status_code == 200, r.text
    return c


def supervisor(server: RefServer) -> httpx.Client:
    return client(server, server.token("supervisor", unique("Supervisor")))


def customer(
    server: RefServer, *, name: str | None = None, email: str = ""
) -> tuple[httpx.Client, str]:
    """A customer session (through the public endpoint) → ``(client, customer_id)``."""
    name = name or unique("Customer")
    r = httpx.post(
        server.api + "/customer/session", json={"name": name, "email": email}, timeout=10.0
    )
    assert r.status_code == 201, r.text
    info = r.json()
    return client(server, info["token"]), info["subject_id"]


def start_chat(cust: httpx.Client, **body: Any) -> dict[str, Any]:
    body.setdefault("name", "Customer")
    r = cust.post("/customer/conversations", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


def error_code(response: httpx.Response) -> str:
    return str(response.json()["error"]["code"])
