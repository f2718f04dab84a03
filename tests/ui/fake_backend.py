"""A deterministic in-memory Backend for snapshot tests ONLY.

Snapshots need fixed timestamps and names; the real server stamps real times.
Behaviour tests use the real reference server and NativeBackend instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from console.backends.base import Backend, Capability, ConnectionPhase, ConnectionState
from console.protocol import models as m

NOW = datetime(2026, 11, 26, 13, 0, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


class FakeBackend(Backend):
    name = "fake"
    capabilities = frozenset(Capability)

    def __init__(
        self,
        me: m.Me,
        conversations: list[m.Conversation],
        messages: dict[str, list[m.Message]],
        customers: dict[str, m.Customer] | None = None,
    ) -> None:
        self._me = me
        self._conversations = {c.id: c for c in conversations}
        self._messages = messages
        self._customers = customers or {}
        self._events: asyncio.Queue[m.Event] = asyncio.Queue()
        self._state = ConnectionState(ConnectionPhase.CONNECTED)
        self.sent: list[tuple[str, m.SendMessage]] = []

    async def connect(self) -> m.Me:
        return self._me

    async def aclose(self) -> None:
        return None

    async def events(self) -> AsyncIterator[m.Event]:  # type: ignore[override]
        while True:
            yield await self._events.get()

    @property
    def connection(self) -> ConnectionState:
        return self._state

    async def me(self) -> m.Me:
        return self._me

    async def list_conversations(
        self, *, state=None, assignee=None, cursor=None, limit=None
    ) -> m.ConversationPage:
        items = [c for c in self._conversations.values() if state is None or c.state == state]
        if assignee == "me":
            items = [c for c in items if c.assignee_id == self._me.id]
        return m.ConversationPage(items=items)

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        return self._conversations[conversation_id]

    async def list_messages(
        self, conversation_id: str, *, before=None, after=None, limit=None
    ) -> m.MessagePage:
        return m.MessagePage(items=list(self._messages.get(conversation_id, [])))

    async def get_customer(self, customer_id: str) -> m.Customer:
        return self._customers[customer_id]

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        self.sent.append((conversation_id, message))
        return m.Message(
            id=f"sent-{len(self.sent)}",
            conversation_id=conversation_id,
            author_kind="agent",
            author_id=self._me.id,
            author_name=self._me.name,
            body=message.body,
            client_id=message.client_id,
            created_at=NOW,
        )


def conversation(
    cid: str,
    name: str,
    dept: str,
    *,
    waited: int,
    state: str = "active",
    page: str = "",
    assignee: str | None = "a1",
) -> m.Conversation:
    return m.Conversation(
        id=cid,
        customer_id=f"cust-{cid}",
        customer_name=name,
        customer_email=f"{cid}@example.com",
        department_id=dept.lower(),
        department_name=dept,
        state=state,  # type: ignore[arg-type]
        assignee_id=assignee if state == "active" else None,
        page_url=page,
        created_at=NOW - timedelta(minutes=30),
        queued_at=NOW - timedelta(seconds=waited),
        waiting_since=NOW - timedelta(seconds=waited),
    )


def message(cid: str, n: int, kind: str, name: str, body: str, minutes_ago: int) -> m.Message:
    return m.Message(
        id=f"{cid}-m{n}",
        conversation_id=cid,
        author_kind=kind,
        author_name=name,  # type: ignore[arg-type]
        body=body,
        created_at=NOW - timedelta(minutes=minutes_ago),
    )


def demo_backend(lang: str = "en") -> FakeBackend:
    me = m.Me(id="a1", name="Dana Agent", role="agent", status="online", capacity=4)
    if lang == "cjk":
        convs = [
            conversation("c1", "김민지", "결제", waited=45, page="/checkout"),
            conversation("c2", "山田 太郎", "サポート", waited=200, page="/help/返品"),
            conversation("c3", "Jane Doe", "Sales", waited=5),
        ]
        msgs = {
            "c1": [
                message(
                    "c1",
                    1,
                    "customer",
                    "김민지",
                    "안녕하세요, 결제가 두 번 되었어요. 환불 가능할까요?",
                    3,
                )
            ],
            "c2": [
                message(
                    "c2",
                    1,
                    "customer",
                    "山田 太郎",
                    "注文した商品がまだ届きません。確認してもらえますか？",
                    4,
                ),
                message("c2", 2, "agent", "Dana Agent", "確認いたします。少々お待ちください。", 2),
            ],
            "c3": [message("c3", 1, "customer", "Jane Doe", "Do you ship to Canada? 🇨🇦", 1)],
        }
    else:
        convs = [
            conversation(
                "c1", "Alice Martin", "Billing", waited=30, page="https://shop.example/checkout"
            ),
            conversation("c2", "Bob [b]Stone[/b]", "Support", waited=95),
            conversation("c3", "Carol Wu", "Sales", waited=400),
        ]
        msgs = {
            "c1": [
                message(
                    "c1",
                    1,
                    "customer",
                    "Alice Martin",
                    "Hi, I was charged twice for order 1042.",
                    3,
                ),
                message("c1", 2, "agent", "Dana Agent", "Sorry about that, let me look.", 2),
            ],
            "c2": [
                message(
                    "c2",
                    1,
                    "customer",
                    "Bob [b]Stone[/b]",
                    "[@click=app.quit]click me[/] my login fails",
                    2,
                )
            ],
            "c3": [message("c3", 1, "customer", "Carol Wu", "Can I upgrade my plan mid-month?", 7)],
        }
    queued = [
        conversation("q1", "Queued Quinn", "Support", waited=120, state="queued"),
        conversation("q2", "Waiting Wes", "Billing", waited=30, state="queued"),
    ]
    customers = {
        c.customer_id: m.Customer(
            id=c.customer_id,
            name=c.customer_name,
            email=c.customer_email,
            account={"plan": "Pro", "since": "2023"},
            tags=["vip"],
            created_at=NOW,
        )
        for c in convs
    }
    return FakeBackend(me, convs + queued, msgs, customers)
