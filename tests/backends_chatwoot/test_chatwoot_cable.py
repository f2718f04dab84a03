"""ChatwootBackend.events() against a loopback ActionCable server that speaks like Chatwoot's.

The cable fake follows NOTES.md §5: ``welcome`` on connect, ``subscribe`` with
a RoomChannel identifier (JSON string with pubsub_token, account_id,
user_id), ``confirm_subscription`` echoing the identifier (a wrong token gets
*no* answer, as in Chatwoot), ``ping`` frames, app events as
``{"identifier", "message": {"event", "data"}}``.  REST goes to the
spec-checked fake.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from console.backends.base import ConnectionPhase
from console.protocol import models as m
from tests.backends_chatwoot._cable import cable, next_event, until
from tests.backends_chatwoot._fake import ACCOUNT_ID, FakeChatwoot


def message_data(
    fake: FakeChatwoot, cid: int, content: str, *, mid: int, **extra: Any
) -> dict[str, Any]:
    return {
        "id": mid,
        "content": content,
        "account_id": ACCOUNT_ID,
        "inbox_id": 3,
        "conversation_id": cid,
        "message_type": 0,
        "created_at": fake.now,
        "private": False,
        "sender": fake.contact_push(11),
        "attachments": [],
        "conversation": {"assignee_id": None, "unread_count": 1},
        **extra,
    }


async def test_events_are_mapped_with_increasing_seq(fake: FakeChatwoot) -> None:
    async with cable(fake) as (server, backend):
        await backend.connect()
        it = backend.events().__aiter__()
        await asyncio.wait_for(server.confirmed.wait(), 5)
        assert server.subprotocols == ["actioncable-v1-json"] and server.paths == ["/cable"]
        await until(lambda: backend.connection.phase == ConnectionPhase.CONNECTED)

        await server.broadcast(
            "message.created", message_data(fake, 101, "Are you there?", mid=5001)
        )
        await server.broadcast(
            "message.created", message_data(fake, 101, "Are you there?", mid=5001)
        )
        await server.broadcast(
            "notification.created", {"account_id": ACCOUNT_ID, "notification": {}}
        )
        await server.broadcast(
            "message.created",
            message_data(fake, 101, "other account", mid=5002) | {"account_id": 8},
        )
        fake.conversations[101]["assignee"] = 2
        await server.broadcast("assignee.changed", fake.conversation_json(101))
        await server.broadcast(
            "conversation.typing_on",
            {
                "conversation": fake.conversation_json(101),
                "user": fake.contact_push(11),
                "is_private": False,
                "account_id": ACCOUNT_ID,
            },
        )
        await server.broadcast(
            "conversation.typing_on",
            {  # my own typing comes back: dropped
                "conversation": fake.conversation_json(101),
                "user": fake.user_push(1),
                "is_private": False,
                "account_id": ACCOUNT_ID,
            },
        )
        await server.broadcast(
            "message.created",
            message_data(
                fake,
                101,
                "done",
                mid=5003,
                message_type=1,
                private=True,
                sender=fake.user_push(1),
                echo_id="echo-9",
            ),
        )

        events = [await next_event(it) for _ in range(4)]
        assert [e.seq for e in events] == [1, 2, 3, 4]
        assert [e.type for e in events] == [
            "message.created",
            "conversation.updated",
            "typing",
            "message.created",
        ]
        first = m.decode_event_data(events[0])
        assert isinstance(first, m.Message)
        assert (first.id, first.conversation_id, first.author_kind, first.body) == (
            "5001",
            "101",
            "customer",
            "Are you there?",
        )
        conv = m.decode_event_data(events[1])
        assert isinstance(conv, m.Conversation) and (conv.state, conv.assignee_id) == (
            "active",
            "2",
        )
        typing = m.decode_event_data(events[2])
        assert isinstance(typing, m.TypingEvent)
        assert (typing.conversation_id, typing.author_kind, typing.typing) == (
            "101",
            "customer",
            True,
        )
        note = m.decode_event_data(events[3])
        assert isinstance(note, m.Message) and (
            note.internal,
            note.client_id,
            note.author_kind,
        ) == (True, "echo-9", "agent")
        with pytest.raises(TimeoutError):
            await next_event(it, timeout=0.3)


async def test_reconnect_resyncs_over_rest_then_goes_on(fake: FakeChatwoot) -> None:
    async with cable(fake) as (server, backend):
        phases: list[ConnectionPhase] = []
        backend.on_connection_change(lambda s: phases.append(s.phase))
        it = backend.events().__aiter__()
        await asyncio.wait_for(server.confirmed.wait(), 5)
        await server.broadcast("message.created", message_data(fake, 101, "before", mid=6001))
        assert (await next_event(it)).seq == 1
        await server.drop_all()
        resync = await next_event(it)
        assert resync.type == m.RESYNC_EVENT_TYPE and resync.seq == 2
        data = m.decode_event_data(resync)
        assert isinstance(data, m.Resync) and data.last_seq == 2
        assert sorted(c.id for c in data.conversations) == [
            "101",
            "102",
            "103",
            "105",
        ]  # open + pending
        await asyncio.wait_for(server.confirmed.wait(), 5)
        await server.broadcast("message.created", message_data(fake, 101, "after", mid=6002))
        after = await next_event(it)
        assert (after.seq, after.data["body"]) == (3, "after")
        assert server.connections == 2
        assert ConnectionPhase.RECONNECTING in phases and phases[-1] == ConnectionPhase.CONNECTED


async def test_presence_uses_the_same_identifier(fake: FakeChatwoot) -> None:
    async with cable(fake, send_presence=True, presence_interval=0.1) as (server, backend):
        backend.events()
        await asyncio.wait_for(server.confirmed.wait(), 5)
        for _ in range(50):
            if len(server.presence) >= 2:
                break
            await asyncio.sleep(0.05)
        ((_, ident),) = server.subscribed
        assert len(server.presence) >= 2 and set(server.presence) == {ident}
        assert json.loads(ident) == {
            "channel": "RoomChannel",
            "pubsub_token": "pubsub-ana",
            "account_id": ACCOUNT_ID,
            "user_id": 1,
        }


async def test_unconfirmed_subscription_retries(fake: FakeChatwoot) -> None:
    async with cable(fake) as (server, backend):
        states: list[tuple[ConnectionPhase, str]] = []
        backend.on_connection_change(lambda s: states.append((s.phase, s.detail)))
        original = fake.op_get_profile

        def stale_profile(**kw: Any) -> tuple[int, Any]:
            status, body = original(**kw)
            return status, body | {"pubsub_token": "stale"}

        fake.op_get_profile = stale_profile  # type: ignore[method-assign]
        backend.events()
        for _ in range(100):
            if any(p == ConnectionPhase.RECONNECTING for p, _ in states):
                break
            await asyncio.sleep(0.05)
        assert (
            ConnectionPhase.RECONNECTING,
            "Chatwoot did not confirm the event subscription; check the account id.",
        ) in states
        assert ConnectionPhase.CONNECTED not in [p for p, _ in states]
        assert server.subscribed == [] and server.connections >= 1


async def test_revoked_token_ends_the_stream(fake: FakeChatwoot) -> None:
    async with cable(fake) as (server, backend):
        it = backend.events().__aiter__()
        await asyncio.wait_for(server.confirmed.wait(), 5)
        fake.tokens = {}
        await server.drop_all()
        with pytest.raises(StopAsyncIteration):
            await next_event(it)
        assert backend.connection.phase == ConnectionPhase.AUTH_FAILED
        assert server.connections == 1
