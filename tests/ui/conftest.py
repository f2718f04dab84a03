"""Helpers for workspace pilot tests against the real reference server.

Each test gets its own server (``ref_server``), its own department and agent,
so nothing leaks between tests.  Customers use the public customer API over
httpx, exactly as the web widget would.  Waiting is done by polling app state
with a deadline (``wait_for``), never by asserting on elapsed time.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from console.backends.native import NativeBackend
from console.ui.app import AgentConsoleApp
from tests.fixtures.reference_server import RefServer

_names = itertools.count(1)


@pytest.fixture(autouse=True)
def restore_language() -> Iterator[None]:
    """The app sets the process-wide i18n language; put it back for the next test."""
    from console.core import i18n

    previous = i18n.get_language()
    yield
    i18n.set_language(previous)


async def wait_for(
    pilot: Any, condition: Callable[[], object], *, timeout: float = 30.0, what: str = ""
) -> None:
    """Let the app run until ``condition()`` is truthy; fail with ``what`` after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        await pilot.pause(0.05)


def agent_backend(
    server: RefServer,
    name: str,
    *,
    department: str,
    capacity: int = 3,
    status: str | None = "online",
    accepting: bool = True,
    outbox_path: Path | None = None,
    backend_class: type[NativeBackend] = NativeBackend,
) -> tuple[NativeBackend, str]:
    agent_id, token = server.create_agent(name, departments=(department,), capacity=capacity)
    body: dict[str, object] = {"accepting": accepting}
    if status:
        body["status"] = status
    r = httpx.put(
        server.api + "/me/status",
        json=body,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10.0,
    )
    assert r.status_code == 200, r.text
    return backend_class(server.url, token, outbox_path=outbox_path), agent_id


class Customer:
    """A customer talking through the public customer API."""

    def __init__(self, server: RefServer, name: str, email: str = "") -> None:
        r = httpx.post(
            server.api + "/customer/session", json={"name": name, "email": email}, timeout=10.0
        )
        assert r.status_code == 201, r.text
        info = r.json()
        self.id = info["subject_id"]
        self.name = name
        self.http = httpx.Client(
            base_url=server.api, headers={"Authorization": f"Bearer {info['token']}"}, timeout=10.0
        )
        self.conversation_id = ""

    def start(self, department: str, message: str, **extra: Any) -> dict[str, Any]:
        r = self.http.post(
            "/customer/conversations",
            json={"name": self.name, "department": department, "message": message, **extra},
        )
        assert r.status_code == 201, r.text
        data = dict(r.json())
        self.conversation_id = data["id"]
        return data

    def say(self, body: str) -> None:
        r = self.http.post(
            f"/customer/conversations/{self.conversation_id}/messages",
            json={"client_id": f"cust-{next(_names)}", "body": body},
        )
        assert r.status_code in (200, 201), r.text

    def messages(self) -> list[dict[str, Any]]:
        r = self.http.get(f"/customer/conversations/{self.conversation_id}/messages")
        assert r.status_code == 200, r.text
        body = r.json()
        return list(body["items"] if isinstance(body, dict) else body)


def department(server: RefServer) -> str:
    name = f"Dept {next(_names)}"
    server.create_department(name)
    return name


def make_app(backend: NativeBackend, **kwargs: Any) -> AgentConsoleApp:
    """The app in English unless a test asks otherwise (assertions read English text)."""
    kwargs.setdefault("lang", "en")
    return AgentConsoleApp(backend, **kwargs)


def agent_http(server: RefServer, name: str) -> httpx.Client:
    """A REST client for an existing agent (fresh token)."""
    return httpx.Client(
        base_url=server.api,
        headers={"Authorization": f"Bearer {server.token('agent', name)}"},
        timeout=10.0,
    )
