"""ReadOnlyBackend(ChatwootBackend): Chatwoot has no read-only role, so the console refuses locally."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from console.backends.base import MUTATING_METHODS, ReadOnlyBackend, ReadOnlyError
from console.backends.chatwoot import ChatwootBackend
from console.protocol import models as m
from tests.backends_chatwoot._fake import ACCOUNT_ID, TOKEN, FakeChatwoot
from tests.backends_chatwoot.conftest import BASE

CALLS: dict[str, tuple[Any, ...]] = {
    "set_status": (m.StatusUpdate(status="away"),),
    "send_message": ("101", m.SendMessage(client_id="ro-1", body="hi")),
    "accept": ("101",),
    "transfer": ("101", m.TransferRequest(agent_id="2")),
    "close": ("101", m.CloseRequest()),
    "set_typing": ("101", True),
    "upload_attachment": ("a.txt", b"x"),
    "add_customer_note": ("11", "note"),
    "set_customer_tags": ("11", ["x"]),
    "create_canned_reply": (m.CannedReplyCreate(title="t", body="b"),),
    "mark_read": ("101",),
    "create_follow_up": (
        "101",
        m.FollowUpCreate(channel="phone", due_at=datetime(2030, 1, 1, tzinfo=UTC)),
    ),
    "complete_follow_up": ("fu",),
    "escalate": ("101", m.EscalateRequest(reason="why")),
    "discard_unsent": ("ro-1",),
}


def test_every_mutating_method_is_covered() -> None:
    assert set(CALLS) == MUTATING_METHODS


async def test_read_only_chatwoot_sends_nothing(fake: FakeChatwoot) -> None:
    inner = ChatwootBackend(
        BASE, TOKEN, ACCOUNT_ID, transport=fake.transport(), send_presence=False
    )
    backend = ReadOnlyBackend(inner)
    try:
        await backend.connect()
        for name, args in CALLS.items():
            with pytest.raises(ReadOnlyError):
                await getattr(backend, name)(*args)
        # Reads still work through the wrapper.
        assert [c.id for c in (await backend.list_conversations(state="queued")).items] == ["101"]
        assert (await backend.get_customer("11")).tags == ["vip"]
        assert len((await backend.list_messages("101")).items) == 3
    finally:
        await backend.aclose()
    assert fake.mutations() == []
    assert fake.typing == [] and fake.last_seen == [] and fake.notes[11] == []
    assert {"send", "notes", "accept", "transfer", "close", "typing"}.isdisjoint(
        backend.capabilities
    )


async def test_control_the_witness_sees_a_mutation(fake: FakeChatwoot) -> None:
    backend = ChatwootBackend(BASE, TOKEN, ACCOUNT_ID, transport=fake.transport())
    try:
        await backend.mark_read("101")
    finally:
        await backend.aclose()
    assert [e.path.rsplit("/", 1)[-1] for e in fake.mutations()] == ["update_last_seen"]
