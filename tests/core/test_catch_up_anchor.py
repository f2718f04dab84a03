"""Where catch-up starts after a stream reset: ``Transcript.anchor_id``, and the controller's paging."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from console.backends.base import Backend, ConnectionPhase, ConnectionState
from console.core.store import Store
from console.core.workspace import WorkspaceController
from console.protocol import models as m

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def msg(i: int, kind: m.AuthorKind = "customer", client_id: str | None = None) -> m.Message:
    return m.Message(
        id=f"m{i:03d}",
        conversation_id="c1",
        author_kind=kind,
        body=f"body {i}",
        client_id=client_id,
        created_at=T0 + timedelta(seconds=i),
    )


def event(seq: int, message: m.Message) -> m.Event:
    return m.Event(seq=seq, type="message.created", at=T0, data=m.to_builtins(message))


def resync(seq: int) -> m.Event:
    return m.Event(
        seq=seq, type=m.RESYNC_EVENT_TYPE, at=T0, data={"reason": "reset", "last_seq": seq}
    )


def test_anchor_moves_with_history_and_stream_but_not_with_rest_confirmations() -> None:
    store = Store()
    store.load_messages("c1", m.MessagePage(items=[msg(1), msg(2)]), older=True)
    t = store.transcript("c1")
    assert t.anchor_id == "m002"
    store.apply(event(1, msg(3)), T0)
    assert t.anchor_id == "m003"
    store.add_pending("c1", "cl-1", "reply", now=T0)
    store.mark_sent("cl-1", msg(50, "agent", "cl-1"), T0)  # confirmed over REST
    assert t.newest_id == "m050" and t.anchor_id == "m003"
    store.apply(resync(2), T0)
    assert t.stale
    store.apply(event(3, msg(60)), T0)  # streamed while stale: a gap may precede it
    assert t.anchor_id == "m003"
    store.load_messages("c1", m.MessagePage(items=[msg(4), msg(50, "agent")]), older=False)
    assert t.anchor_id == "m050" and not t.stale
    assert [s.id for s in t] == ["m001", "m002", "m003", "m004", "m050", "m060"]


class PagingBackend(Backend):
    """Serves one conversation's messages with before/after paging; records the calls."""

    name = "paging"

    def __init__(self, messages: list[m.Message], page_size: int = 7) -> None:
        self.messages = messages
        self.page_size = page_size
        self.calls: list[tuple[str | None, str | None]] = []

    async def connect(self) -> m.Me:
        return m.Me(id="a1", name="Ann", role="agent")

    async def aclose(self) -> None:
        return None

    def events(self) -> AsyncIterator[m.Event]:
        async def none() -> AsyncIterator[m.Event]:
            if False:
                yield

        return none()

    @property
    def connection(self) -> ConnectionState:
        return ConnectionState(ConnectionPhase.CONNECTED)

    async def me(self) -> m.Me:
        return await self.connect()

    async def list_conversations(self, **_kwargs: Any) -> m.ConversationPage:  # type: ignore[override]
        return m.ConversationPage(items=[])

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        raise AssertionError

    async def list_messages(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> m.MessagePage:
        self.calls.append((before, after))
        ids = [x.id for x in self.messages]
        n = self.page_size
        if after is not None:
            start = ids.index(after) + 1
            items = self.messages[start : start + n]
            return m.MessagePage(items=items, has_more=start + n < len(ids))
        end = ids.index(before) if before is not None else len(ids)
        items = self.messages[max(0, end - n) : end]
        return m.MessagePage(items=items, has_more=end - n > 0)

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        raise AssertionError


def test_catch_up_pages_forward_from_the_anchor_past_a_rest_confirmed_reply() -> None:
    server = [msg(i) for i in range(1, 41)]
    backend = PagingBackend(server)
    controller = WorkspaceController(backend)
    store = controller.store
    store.load_messages("c1", m.MessagePage(items=server[:5]), older=True)
    store.mark_sent("cl", msg(40, "agent", "cl"), T0)  # our reply, newest, confirmed over REST
    store.apply(resync(1), T0)
    asyncio.run(controller.catch_up("c1"))
    assert backend.calls[0] == (None, "m005")
    assert [s.id for s in store.transcript("c1")] == [x.id for x in server]
    assert not store.transcript("c1").stale


def test_catch_up_without_an_anchor_pages_back_to_the_start() -> None:
    server = [msg(i) for i in range(1, 20)]
    backend = PagingBackend(server)
    controller = WorkspaceController(backend)
    store = controller.store
    store.load_messages("c1", m.MessagePage(items=[]), older=True)  # empty when loaded
    store.mark_sent("cl", msg(19, "agent", "cl"), T0)
    store.apply(resync(1), T0)
    asyncio.run(controller.catch_up("c1"))
    assert [s.id for s in store.transcript("c1")] == [x.id for x in server]
    assert not store.transcript("c1").stale
