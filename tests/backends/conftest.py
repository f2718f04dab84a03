"""Helpers for backend tests against the real reference server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from console.backends.native import NativeBackend
from console.protocol import models as m


def start_conversation(
    server: Any, customer: str, message: str = "Hello, I need help."
) -> tuple[str, str]:
    """Start a chat as a real customer over the customer API; returns (conversation id, token)."""
    token = server.token("customer", customer)
    response = httpx.post(
        server.api + "/customer/conversations",
        json={"name": customer, "message": message},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"]), token


def customer_says(server: Any, token: str, conversation_id: str, body: str) -> None:
    response = httpx.post(
        f"{server.api}/customer/conversations/{conversation_id}/messages",
        json={"body": body, "client_id": uuid.uuid4().hex},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text


async def all_messages(backend: NativeBackend, conversation_id: str) -> list[m.Message]:
    """Every message of a conversation, oldest first, paging backwards with ``before``."""
    pages: list[list[m.Message]] = []
    before: str | None = None
    while True:
        page = await backend.list_messages(conversation_id, before=before, limit=200)
        pages.append(page.items)
        if not page.has_more or not page.items:
            break
        before = page.items[0].id
    return [msg for page in reversed(pages) for msg in page]


async def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def backends() -> AsyncIterator[list[NativeBackend]]:
    """Append backends here; they are closed at teardown."""
    made: list[NativeBackend] = []
    yield made
    for backend in made:
        await backend.aclose()
