"""Regenerate ``docs/screenshots/supervisor-dashboard.svg`` (supervisor dashboard, ``dark`` theme).

Run from the repository root::

    .venv/bin/python docs/make_screenshots.py            # writes the SVG
    .venv/bin/python docs/make_screenshots.py --size 160x40 --theme light --out /tmp/x.svg

The data below is made up but realistic (four departments, ten agents, a
few dozen open chats, half an hour of traffic) and fixed, as is the clock, so
the picture only changes when the supervisor screen does.  The screen runs
headless (``App.run_test``) with a tiny in-memory backend that serves no
events and is wrapped in ``ReadOnlyBackend`` exactly as in the app; the
theme comes from ``themes/*.toml`` through ``register_themes``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from textual.app import App

from console.backends.base import Backend, ConnectionPhase, ConnectionState, ReadOnlyBackend
from console.core.dashboard import Thresholds
from console.protocol import models as m

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 26, 14, 30, 0, tzinfo=UTC)

DEPARTMENTS = [
    m.Department(id="sales", name="Sales"),
    m.Department(id="billing", name="Billing"),
    m.Department(id="tech", name="Technical support"),
    m.Department(id="returns", name="Returns"),
]
_DEPT_NAMES = {d.id: d.name for d in DEPARTMENTS}

# (id, name, status, accepting, capacity, chats today, avg reply s, last reply s ago)
_AGENTS: list[tuple[str, str, m.AgentStatus, bool, int, int, float | None, float | None]] = [
    ("a1", "Alex Morgan", "online", True, 4, 23, 38.0, 12.0),
    ("a2", "Priya Natarajan", "online", True, 4, 19, 51.0, 40.0),
    ("a3", "김민지", "online", True, 3, 17, 44.0, 25.0),
    ("a4", "佐藤 健二", "online", True, 3, 15, 72.0, 95.0),
    ("a5", "Jonas Weber", "online", True, 3, 12, 35.0, 8.0),
    ("a6", "Maria Santos", "online", False, 3, 9, 58.0, 210.0),
    ("a7", "이준호", "away", False, 3, 11, 49.0, 640.0),
    ("a8", "田中 美咲", "online", True, 3, 14, 41.0, 30.0),
    ("a9", "Chris Taylor", "offline", False, 3, 6, 66.0, None),
    ("a10", "Fatima Khan", "online", True, 3, 16, 47.0, 55.0),
]
_AGENT_NAMES = {a[0]: a[1] for a in _AGENTS}

# (id, customer, department, agent or None, minutes since start, seconds customer waits)
_OPEN: list[tuple[str, str, str, str | None, float, float | None]] = [
    ("c01", "Olivia Brown", "sales", None, 2.6, None),
    ("c02", "Lucas Martin", "billing", None, 1.1, None),
    ("c03", "정하늘", "tech", None, 0.6, None),
    ("c04", "Emma Wilson", "tech", None, 0.3, None),
    ("c05", "山本 さくら", "returns", None, 1.7, None),
    ("c06", "Noah Smith", "sales", "a1", 12, 20),
    ("c07", "Mia Hernández", "tech", "a1", 6, None),
    ("c08", "Sophia Kim", "billing", "a2", 17, 45),
    ("c09", "Liam Garcia", "tech", "a3", 5, None),
    ("c10", "이서준", "billing", "a3", 9, 230),
    ("c11", "Ava Johnson", "sales", "a4", 21, 70),
    ("c12", "Ethan Clark", "returns", "a4", 4, None),
    ("c13", "Chloe Dubois", "tech", "a5", 3, 15),
    ("c14", "Jack Jones", "tech", "a5", 8, None),
    ("c15", "伊藤 翔", "sales", "a6", 14, 130),
    ("c16", "Zoe Müller", "returns", "a6", 7, None),
    ("c17", "Isabella Rossi", "billing", "a6", 11, 35),
    ("c18", "Daniel Lee", "tech", "a6", 2, 10),
    ("c19", "Grace Park", "sales", "a8", 10, None),
    ("c20", "Henry Walker", "billing", "a10", 6, 25),
    ("c21", "김하은", "tech", "a10", 13, None),
    ("c22", "Amelia Scott", "sales", "a2", 4, None),
]

SEVERITY = {"c10": 3, "c15": 2, "c08": 1}
"""Trigger severities (frustration detection over recent customer messages)."""

THRESHOLDS = Thresholds(long_wait_seconds=120, reply_sla_seconds=180, first_response_sla_seconds=60)


def conversations() -> list[m.Conversation]:
    out: list[m.Conversation] = []
    for cid, name, dep, agent, minutes, waiting in _OPEN:
        created = NOW - timedelta(minutes=minutes)
        out.append(
            m.Conversation(
                id=cid,
                customer_id=f"cust-{cid}",
                customer_name=name,
                customer_email=f"{cid}@example.com",
                department_id=dep,
                department_name=_DEPT_NAMES[dep],
                state="active" if agent else "queued",
                assignee_id=agent,
                assignee_name=_AGENT_NAMES[agent] if agent else None,
                created_at=created,
                queued_at=created,
                assigned_at=created + timedelta(seconds=35) if agent else None,
                waiting_since=NOW - timedelta(seconds=waiting) if waiting is not None else None,
            )
        )
    return out


def history() -> list[m.Conversation]:
    """Closed chats of the last half hour: the traffic sparkline (a busier last ten minutes)."""
    out: list[m.Conversation] = []
    for i in range(90):
        minute = (i * 11) % 30 if i < 60 else i % 10
        out.append(
            m.Conversation(
                id=f"h{i:03d}",
                customer_id=f"hist-{i}",
                customer_name=f"Past customer {i}",
                department_id=DEPARTMENTS[i % len(DEPARTMENTS)].id,
                state="closed",
                created_at=NOW - timedelta(minutes=minute, seconds=20),
                abandoned=i % 13 == 0,
            )
        )
    return out


def queues_view() -> m.QueuesView:
    first_reply = {"sales": 41.0, "billing": 74.0, "tech": 36.0, "returns": 52.0}
    abandoned = {"sales": 2, "billing": 4, "tech": 1, "returns": 0}
    open_ = conversations()
    return m.QueuesView(
        items=[
            m.QueueStats(
                department_id=d.id,
                department_name=d.name,
                waiting=sum(c.department_id == d.id and c.state == "queued" for c in open_),
                active=sum(c.department_id == d.id and c.state == "active" for c in open_),
                avg_first_response_seconds=first_reply[d.id],
                abandoned_today=abandoned[d.id],
            )
            for d in DEPARTMENTS
        ]
    )


def agents_view() -> m.AgentsView:
    open_ = conversations()
    return m.AgentsView(
        items=[
            m.AgentStats(
                agent_id=aid,
                name=name,
                status=status,
                accepting=accepting,
                load=sum(c.assignee_id == aid for c in open_),
                capacity=capacity,
                chats_today=today,
                avg_response_seconds=avg,
                last_reply_at=NOW - timedelta(seconds=ago) if ago is not None else None,
            )
            for aid, name, status, accepting, capacity, today, avg, ago in _AGENTS
        ]
    )


class ShowcaseBackend(Backend):
    """Serves nothing by itself (the screen is fed with ``load_models``); never connects."""

    name = "showcase"

    async def connect(self) -> m.Me:
        return await self.me()

    async def aclose(self) -> None:
        return None

    async def _no_events(self) -> AsyncIterator[m.Event]:
        await asyncio.Event().wait()
        yield m.Event(seq=0, type="never", at=NOW, data={})

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
        return m.ConversationPage(items=[c for c in conversations() if c.state == state])

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        return next(c for c in conversations() if c.id == conversation_id)

    async def list_messages(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> m.MessagePage:
        return m.MessagePage(items=[])

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        raise AssertionError("the screenshot backend never sends")


class ShowcaseApp(App[None]):
    TITLE = "agent-console · supervisor"

    def __init__(self, theme: str) -> None:
        super().__init__()
        self._theme_name = theme

    def on_mount(self) -> None:
        from console.ui.screens.supervisor import SupervisorScreen
        from console.ui.themes import register_themes

        problems = register_themes(self, self._theme_name)
        if problems or self.theme != self._theme_name:
            raise SystemExit(f"theme {self._theme_name!r} is not usable: {problems}")
        screen = SupervisorScreen(
            ReadOnlyBackend(ShowcaseBackend()),
            None,
            clock=lambda: NOW,
            thresholds=THRESHOLDS,
            load_on_mount=False,
            severity_of=lambda cid: SEVERITY.get(cid, 0),
        )
        screen.load_models(
            departments=DEPARTMENTS,
            conversations=[*conversations(), *history()],
            queues=queues_view(),
            agents=agents_view(),
        )
        self.push_screen(screen)


async def make(out: Path, size: tuple[int, int], theme: str) -> None:
    app = ShowcaseApp(theme)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.screen.refresh_now(force=True)  # type: ignore[attr-defined]
        await pilot.pause()
        app.screen.set_focus(None)  # no cursor bar across the first department
        await pilot.pause()
        out.parent.mkdir(parents=True, exist_ok=True)
        app.save_screenshot(filename=out.name, path=str(out.parent))
    print(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs/screenshots/supervisor-dashboard.svg"
    )
    parser.add_argument("--size", default="160x34", help="COLUMNSxROWS (default 160x34)")
    parser.add_argument("--theme", default="dark", help="a shipped theme (default dark)")
    args = parser.parse_args()
    columns, _, rows = args.size.partition("x")
    asyncio.run(make(args.out, (int(columns), int(rows)), args.theme))


if __name__ == "__main__":
    main()
