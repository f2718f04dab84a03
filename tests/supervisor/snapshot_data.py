"""Deterministic data for the supervisor snapshots: a fixed clock and a tiny fake Backend.

The fake is for snapshots ONLY (looks, not behaviour): every behavioural test
runs against the real reference server.  It serves fixed models, never
connects anywhere and has an empty event stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from textual.app import App

from console.backends.base import (
    Backend,
    Capability,
    ConnectionPhase,
    ConnectionState,
    ReadOnlyBackend,
)
from console.core.dashboard import Thresholds
from console.protocol import models as m

NOW = datetime(2026, 11, 26, 14, 30, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return NOW


DEPARTMENTS = [
    m.Department(id="sales", name="Sales"),
    m.Department(id="billing", name="Billing"),
    m.Department(id="tech", name="Technical support"),
]

AGENTS = m.AgentsView(
    items=[
        m.AgentStats(
            agent_id="a1",
            name="Ann Lee",
            department_ids=["sales", "billing"],
            status="online",
            accepting=True,
            load=2,
            capacity=3,
            chats_today=14,
            avg_response_seconds=42.0,
            last_reply_at=NOW - timedelta(seconds=35),
        ),
        m.AgentStats(
            agent_id="a2",
            name="김민지",
            department_ids=["sales", "tech"],
            status="online",
            accepting=True,
            load=4,
            capacity=3,
            chats_today=21,
            avg_response_seconds=65.0,
            last_reply_at=NOW - timedelta(seconds=190),
        ),
        m.AgentStats(
            agent_id="a3",
            name="佐藤 花子",
            department_ids=["billing"],
            status="away",
            accepting=False,
            load=0,
            capacity=3,
            chats_today=6,
            avg_response_seconds=None,
            last_reply_at=None,
        ),
    ]
)

QUEUES = m.QueuesView(
    items=[
        m.QueueStats(
            department_id="sales",
            department_name="Sales",
            waiting=2,
            active=2,
            avg_first_response_seconds=48.0,
            abandoned_today=1,
        ),
        m.QueueStats(
            department_id="billing",
            department_name="Billing",
            waiting=1,
            active=1,
            avg_first_response_seconds=95.0,
            abandoned_today=3,
        ),
        m.QueueStats(
            department_id="tech",
            department_name="Technical support",
            waiting=0,
            active=3,
            avg_first_response_seconds=30.0,
            abandoned_today=0,
        ),
    ]
)


def _conv(
    cid: str,
    name: str,
    dep: str,
    state: m.ConversationState,
    *,
    minutes_ago: float,
    agent: tuple[str, str] | None = None,
    waiting_seconds: float | None = None,
) -> m.Conversation:
    names = {d.id: d.name for d in DEPARTMENTS}
    created = NOW - timedelta(minutes=minutes_ago)
    return m.Conversation(
        id=cid,
        customer_id=f"cust-{cid}",
        customer_name=name,
        customer_email=f"{cid}@example.com",
        department_id=dep,
        department_name=names[dep],
        state=state,
        assignee_id=agent[0] if agent else None,
        assignee_name=agent[1] if agent else None,
        created_at=created,
        queued_at=created,
        assigned_at=created + timedelta(seconds=40) if agent else None,
        waiting_since=(
            NOW - timedelta(seconds=waiting_seconds) if waiting_seconds is not None else None
        ),
    )


ANN = ("a1", "Ann Lee")
MINJI = ("a2", "김민지")

CONVERSATIONS = [
    _conv("c1", "Olivia Brown", "sales", "queued", minutes_ago=3.5),
    _conv("c2", "[bold]Mallory[/bold]", "sales", "queued", minutes_ago=0.75),
    _conv("c3", "田中 太郎", "billing", "queued", minutes_ago=1.2),
    _conv("c4", "Noah Smith", "sales", "active", minutes_ago=12, agent=ANN, waiting_seconds=20),
    _conv("c5", "이서준", "sales", "active", minutes_ago=8, agent=MINJI, waiting_seconds=240),
    _conv("c6", "Emma Wilson", "billing", "active", minutes_ago=25, agent=MINJI),
    _conv("c7", "Liam Garcia", "tech", "active", minutes_ago=5, agent=ANN),
    _conv("c8", "Sophia Kim", "tech", "active", minutes_ago=17, agent=MINJI, waiting_seconds=60),
    _conv("c9", "Jack Jones", "tech", "active", minutes_ago=2, agent=MINJI),
]

# Traffic: closed conversations created over the last half hour (fills the sparkline).
HISTORY = [
    m.Conversation(
        id=f"h{i}",
        customer_id=f"hc{i}",
        customer_name=f"Past {i}",
        department_id="sales",
        state="closed",
        created_at=NOW - timedelta(minutes=(i * 7) % 29, seconds=10),
        abandoned=i % 9 == 0,
    )
    for i in range(40)
]

SEVERITY = {"c5": 3, "c2": 2}


def _figures(
    chats: int,
    first: float | None,
    reply: float | None,
    gone: int,
    csat: float | None,
    ratings: int,
) -> m.HistoryFigures:
    return m.HistoryFigures(
        chats=chats,
        avg_first_response_seconds=first,
        avg_response_seconds=reply,
        abandoned=gone,
        satisfaction=csat,
        ratings=ratings,
    )


HISTORY_VIEW = m.HistoryView(
    today_since=NOW.replace(hour=0, minute=0),
    week_since=NOW.replace(hour=0, minute=0) - timedelta(days=6),
    departments=[
        m.DepartmentHistory(
            department_id="sales",
            department_name="Sales",
            today=_figures(23, 41.5, 63.0, 2, 4.5, 8),
            last_7_days=_figures(161, 38.2, 59.9, 11, 4.31, 64),
        ),
        m.DepartmentHistory(
            department_id="billing",
            department_name="Billing",
            today=_figures(9, 75.0, 88.0, 1, None, 0),
            last_7_days=_figures(70, 52.0, 71.5, 6, 3.9, 21),
        ),
        m.DepartmentHistory(
            department_id="tech",
            department_name="Technical support",
            today=_figures(0, None, None, 0, None, 0),
            last_7_days=_figures(12, 120.0, 140.0, 3, 2.5, 4),
        ),
    ],
    agents=[
        m.AgentHistory(
            agent_id="a1",
            name="Ann Lee",
            today=_figures(14, 30.0, 42.0, 0, 4.8, 5),
            last_7_days=_figures(90, 33.0, 45.0, 1, 4.6, 40),
        ),
        m.AgentHistory(
            agent_id="a2",
            name="김민지",
            today=_figures(21, 58.0, 65.0, 1, 4.0, 3),
            last_7_days=_figures(120, 49.0, 60.0, 4, 4.1, 38),
        ),
        m.AgentHistory(
            agent_id="a3",
            name="佐藤 花子",
            today=_figures(6, None, None, 0, None, 0),
            last_7_days=_figures(33, 61.0, 70.0, 2, 3.7, 11),
        ),
    ],
)
"""Fixed ``GET /history`` answer (today vs the last 7 days)."""

THRESHOLDS = Thresholds(long_wait_seconds=120, reply_sla_seconds=180, first_response_sla_seconds=60)


class SnapshotBackend(Backend):
    """Serves the fixed models above; never connects anywhere."""

    name = "snapshot"
    capabilities = frozenset({Capability.HISTORY})

    async def connect(self) -> m.Me:
        return await self.me()

    async def aclose(self) -> None:
        return None

    async def _no_events(self) -> AsyncIterator[m.Event]:
        await asyncio.Event().wait()
        yield m.Event(seq=0, type="never", at=NOW, data={})  # pragma: no cover

    def events(self) -> AsyncIterator[m.Event]:
        return self._no_events()

    @property
    def connection(self) -> ConnectionState:
        return ConnectionState(ConnectionPhase.CONNECTED)

    async def me(self) -> m.Me:
        return m.Me(id="s1", name="Sam Supervisor", role="supervisor")

    async def list_conversations(
        self,
        *,
        state: m.ConversationState | None = None,
        assignee: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.ConversationPage:
        return m.ConversationPage(items=[c for c in CONVERSATIONS if c.state == state])

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        return next(c for c in CONVERSATIONS if c.id == conversation_id)

    async def list_messages(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> m.MessagePage:
        return m.MessagePage(items=[])

    async def list_departments(self) -> list[m.Department]:
        return list(DEPARTMENTS)

    async def queues(self) -> m.QueuesView:
        return QUEUES

    async def agents(self) -> m.AgentsView:
        return AGENTS

    async def history(self) -> m.HistoryView | None:
        return HISTORY_VIEW

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        raise AssertionError("a supervisor snapshot must never send")


class SnapshotApp(App[None]):
    """Hosts the supervisor screen with fixed data; ``theme`` is one of our shipped themes.

    Themes come from ``themes/*.toml`` through ``register_themes``, as in the app.
    """

    def __init__(self, theme: str = "dark") -> None:
        super().__init__()
        self._theme_name = theme

    def on_mount(self) -> None:
        from console.ui.screens.supervisor import SupervisorScreen
        from console.ui.themes import register_themes

        problems = register_themes(self, self._theme_name)
        if problems or self.theme != self._theme_name:
            raise RuntimeError(f"theme {self._theme_name!r} not usable: {problems}")
        screen = SupervisorScreen(
            ReadOnlyBackend(SnapshotBackend()),
            None,
            clock=fixed_clock,
            thresholds=THRESHOLDS,
            load_on_mount=False,
            severity_of=lambda cid: SEVERITY.get(cid, 0),
        )
        screen.load_models(
            departments=DEPARTMENTS,
            conversations=[*CONVERSATIONS, *HISTORY],
            queues=QUEUES,
            agents=AGENTS,
        )
        self.push_screen(screen)
