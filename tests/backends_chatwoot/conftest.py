"""Fixtures: a spec-checked fake Chatwoot account and a ChatwootBackend wired to it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from console.backends.chatwoot import ChatwootBackend
from tests.backends_chatwoot._fake import ACCOUNT_ID, TOKEN, FakeChatwoot

BASE = "https://chatwoot.test"


@pytest.fixture
def fake() -> Iterator[FakeChatwoot]:
    """The fake; any spec violation left at the end fails the test."""
    server = FakeChatwoot()
    yield server
    assert server.violations == [], "Chatwoot contract violations:\n" + "\n".join(server.violations)


@pytest.fixture
async def backend(fake: FakeChatwoot) -> AsyncIterator[ChatwootBackend]:
    b = ChatwootBackend(BASE, TOKEN, ACCOUNT_ID, transport=fake.transport())
    yield b
    await b.aclose()
