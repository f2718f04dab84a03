"""Supervisor dashboard figures, computed without any UI.

The supervisor screen shows per-department queue figures, per-agent load and
a traffic series.  This module turns what the client knows (open
conversations from the store or the event stream, agent records, the
server's ``/queues`` and ``/agents`` views, messages as they arrive) into
plain dataclasses the widgets render.  It never imports Textual, does no I/O
and reads the clock only through the ``now`` argument, so tests and the
benchmark drive it with a fixed clock.

Sources and who wins:

* ``waiting``/``active``/``longest wait``/``SLA breaches`` are counted from the
  open conversations we hold, so they move on every event without a round
  trip.  They match the server's ``/queues`` whenever the local copy is in
  sync (the tests check exactly that).
* ``avg first response`` and ``abandoned`` prefer the server's ``/queues``
  figures (the server sees closed conversations we never loaded) and fall
  back to what we observed.
* Agent ``chats today``/``avg response`` come from ``/agents``; ``load`` is
  counted from open conversations when we hold any for that agent, else the
  server's value; ``last reply`` is the later of the server's value and the
  last agent message we saw.

Change tracking: every mutation records what changed (conversation ids,
"departments", "agents", "traffic") so the UI refreshes only dirty rows on
its timer instead of once per event.  See ``docs/supervisor.md``.
"""

from __future__ import annotations

import bisect
import dataclasses
import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from console.core.events import event_model
from console.protocol import models as m

OPEN_STATES: frozenset[str] = frozenset({"queued", "active"})

# Sort orders of the conversation table (stable ids, also used in keymaps/docs).
SORT_KEYS: tuple[str, ...] = ("wait", "department", "agent", "severity")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When figures turn into highlights and alerts (seconds; configurable)."""

    long_wait_seconds: float = 180.0
    """A queued customer waiting longer than this is an alert and an SLA breach
    (the default is ``[sla] critical_seconds``' default)."""
    reply_sla_seconds: float = 180.0
    """An assigned customer waiting this long for an agent's answer is an SLA breach."""
    first_response_sla_seconds: float = 60.0
    """Average first response above this is highlighted."""
    frustrated_severity: int = 2
    """Trigger severity (from the store) at or above which a customer counts as frustrated."""
    traffic_minutes: int = 30
    """Length of the new-chats-per-minute series."""
    departments: Mapping[str, float] = field(default_factory=dict)
    """Per-department limit (seconds) for both the queue wait and the reply SLA, keyed by
    department id or name (case-insensitive); departments not listed use the fields above."""

    def wait_limit(self, department_id: str, department_name: str, *, queued: bool) -> float:
        """The wait after which a customer of this department is an alert and an SLA breach."""
        limits = self.departments
        if limits:
            for key in (department_id, department_name):
                if key in limits:
                    return limits[key]
            folded = department_name.casefold()
            for key, value in limits.items():
                if key.casefold() == folded:
                    return value
        return self.long_wait_seconds if queued else self.reply_sla_seconds

    @classmethod
    def from_mapping(cls, data: dict[str, object]) -> Thresholds:
        """Build from a config table; unknown keys and bad values fall back to defaults."""
        base = cls()

        def number(name: str, default: float) -> float:
            value = data.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                return float(value)
            return default

        def integer(name: str, default: int) -> int:
            value = data.get(name)
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                return value
            return default

        def per_department(value: object) -> dict[str, float]:
            if not isinstance(value, dict):
                return {}
            return {
                str(key): float(limit)
                for key, limit in value.items()
                if isinstance(limit, int | float) and not isinstance(limit, bool) and limit > 0
            }

        return cls(
            long_wait_seconds=number("long_wait_seconds", base.long_wait_seconds),
            reply_sla_seconds=number("reply_sla_seconds", base.reply_sla_seconds),
            first_response_sla_seconds=number(
                "first_response_sla_seconds", base.first_response_sla_seconds
            ),
            frustrated_severity=integer("frustrated_severity", base.frustrated_severity),
            traffic_minutes=integer("traffic_minutes", base.traffic_minutes),
            departments=per_department(data.get("departments")),
        )


@dataclass(frozen=True, slots=True)
class DepartmentStats:
    department_id: str
    name: str
    waiting: int
    active: int
    longest_wait_seconds: float
    avg_first_response_seconds: float | None
    sla_breaches: int
    abandoned: int
    open_now: bool = True
    longest_wait_breached: bool = False
    first_response_breached: bool = False


@dataclass(frozen=True, slots=True)
class AgentRow:
    agent_id: str
    name: str
    status: m.AgentStatus
    accepting: bool
    load: int
    capacity: int
    chats: int
    avg_response_seconds: float | None
    last_reply_at: datetime | None
    seconds_since_last_reply: float | None
    follow_ups_due: int = 0
    """Open follow-ups due within 24 hours (from the backend's agents view)."""
    follow_ups_overdue: int = 0
    department_names: tuple[str, ...] = ()
    """The departments the agent serves (empty when the backend does not say)."""

    @property
    def over_capacity(self) -> bool:
        return self.load > self.capacity


@dataclass(frozen=True, slots=True)
class Traffic:
    new_per_minute: tuple[int, ...]
    """Oldest minute first; the last entry is the current (partial) minute."""
    abandoned: int


@dataclass(frozen=True, slots=True)
class ConversationRow:
    conversation_id: str
    customer_name: str
    customer_email: str
    department_id: str
    department_name: str
    state: m.ConversationState
    assignee_id: str | None
    assignee_name: str
    wait_seconds: float
    """Queued: time in queue. Active: time the customer has waited for an answer (0 if none)."""
    severity: int
    sla_breached: bool


class AlertKind(enum.StrEnum):
    LONG_WAIT = "long_wait"
    """A queued customer waiting longer than the department's limit."""
    UNANSWERED = "unanswered"
    """An assigned customer whose last message has gone unanswered longer than the limit."""
    FRUSTRATED = "frustrated"
    OVER_CAPACITY = "over_capacity"
    NO_AGENT_ONLINE = "no_agent_online"
    """Customers waiting in an open department and no agent of it online."""
    DEPARTMENT_CLOSED = "department_closed"
    """Customers waiting in a department that is closed now."""
    OFFLINE = "offline"
    ESCALATED = "escalated"
    """An open chat an agent escalated (to a senior agent or an escalation department)."""


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert; the UI words it (i18n) from ``kind`` and the fields."""

    kind: AlertKind
    subject_id: str
    subject_name: str
    value: float = 0.0
    """Seconds waited (long wait, unanswered), severity (frustrated), load (over capacity),
    customers waiting (department alerts)."""
    limit: float = 0.0
    """Capacity (over capacity), the wait limit (waits), longest wait (department alerts)."""
    level: int = 2
    """How serious: 4 backend offline, 3 critical, 2 needs attention."""
    department_id: str = ""
    department_name: str = ""
    agent_name: str = ""
    """Who holds the chat ("" = nobody yet) or the agent over capacity."""
    conversation_id: str | None = None
    """The chat this alert is about (Enter opens it in a watch pane)."""
    also: tuple[tuple[AlertKind, float], ...] = ()
    """Other reasons for the same chat, merged into this line (kind, value)."""

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject_id}"


@dataclass(slots=True)
class _AgentInfo:
    agent_id: str
    name: str
    status: m.AgentStatus = "offline"
    accepting: bool = True
    capacity: int = 3
    server_load: int = 0
    chats_today: int = 0
    avg_response_seconds: float | None = None
    server_last_reply_at: datetime | None = None
    follow_ups_due: int = 0
    follow_ups_overdue: int = 0
    department_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Changes:
    """What changed since the last :meth:`Dashboard.take_changes`."""

    conversations: set[str] = field(default_factory=set)
    departments: bool = False
    agents: bool = False
    traffic: bool = False
    marked_at: dict[str, float] = field(default_factory=dict)
    """Monotonic time each conversation was first marked dirty (for latency figures)."""

    def __bool__(self) -> bool:
        return bool(self.conversations) or self.departments or self.agents or self.traffic


def _seconds(later: datetime, earlier: datetime | None) -> float:
    if earlier is None:
        return 0.0
    return max(0.0, (later - earlier).total_seconds())


class Dashboard:
    """Aggregates for the supervisor view; feed it models and events, read figures.

    ``severity_of`` returns the trigger severity the store computed for a
    conversation (0 = none); ``clock`` returns a monotonic time used only to
    timestamp dirty marks for latency measurements.
    """

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        *,
        severity_of: Callable[[str], int] | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self._severity_of = severity_of or (lambda _cid: 0)
        self._clock = clock
        self.conversations: dict[str, m.Conversation] = {}
        self._departments: dict[str, m.Department] = {}
        self._queue_stats: dict[str, m.QueueStats] = {}
        self._agents: dict[str, _AgentInfo] = {}
        self._last_agent_reply: dict[str, datetime] = {}
        self._created: dict[str, datetime] = {}
        self._created_order: list[tuple[datetime, str]] = []  # sorted by creation time
        self._created_department: dict[str, str] = {}
        self._abandoned_seen: dict[str, str] = {}
        self._first_response: dict[str, tuple[str, float]] = {}
        self._changes = Changes()
        self._conversations_loaded = False
        self.online = True

    # ------------------------------------------------------------------ change tracking
    def _mark(self, conversation_id: str) -> None:
        self._changes.conversations.add(conversation_id)
        if self._clock is not None and conversation_id not in self._changes.marked_at:
            self._changes.marked_at[conversation_id] = self._clock()
        self._changes.departments = True
        self._changes.agents = True

    def mark_conversation(self, conversation_id: str) -> None:
        """Flag a row as dirty for reasons outside this class (e.g. a new trigger severity)."""
        if conversation_id in self.conversations:
            self._mark(conversation_id)

    def take_changes(self) -> Changes:
        changes, self._changes = self._changes, Changes()
        return changes

    @property
    def has_changes(self) -> bool:
        return bool(self._changes)

    # ------------------------------------------------------------------ inputs
    def set_departments(self, departments: Iterable[m.Department]) -> None:
        for dep in departments:
            self._departments[dep.id] = dep
        self._changes.departments = True

    def set_connection(self, online: bool) -> None:
        if online != self.online:
            self.online = online
            self._changes.departments = True

    def load_conversations(self, conversations: Iterable[m.Conversation]) -> None:
        """Initial load of the open conversations; from now on agent load is counted locally."""
        self._conversations_loaded = True
        for conv in conversations:
            self.apply_conversation(conv)

    def replace_conversations(self, conversations: Iterable[m.Conversation]) -> None:
        """Re-sync after a stream reset: drop open conversations the server no longer lists."""
        self._conversations_loaded = True
        fresh = {c.id: c for c in conversations}
        for cid in list(self.conversations):
            if cid not in fresh:
                del self.conversations[cid]
                self._mark(cid)
        for conv in fresh.values():
            self.apply_conversation(conv)

    def apply_conversation(self, conv: m.Conversation) -> None:
        self._note_created(conv.id, conv.created_at, conv.department_id)
        if conv.first_response_at is not None and conv.id not in self._first_response:
            start = conv.queued_at or conv.created_at
            self._first_response[conv.id] = (
                conv.department_id,
                _seconds(conv.first_response_at, start),
            )
        if conv.abandoned and conv.id not in self._abandoned_seen:
            self._abandoned_seen[conv.id] = conv.department_id
            self._changes.traffic = True
        if conv.state in OPEN_STATES:
            old = self.conversations.get(conv.id)
            if old is not None and old == conv:
                return
            self.conversations[conv.id] = conv
            self._mark(conv.id)
        elif conv.id in self.conversations:
            del self.conversations[conv.id]
            self._mark(conv.id)

    def apply_message(self, msg: m.Message) -> None:
        if msg.author_kind == "agent" and msg.author_id and not msg.internal:
            last = self._last_agent_reply.get(msg.author_id)
            if last is None or msg.created_at > last:
                self._last_agent_reply[msg.author_id] = msg.created_at
                self._changes.agents = True

    def apply_agent(self, agent: m.Agent) -> None:
        info = self._agents.get(agent.id)
        if info is None:
            info = self._agents[agent.id] = _AgentInfo(agent.id, agent.name)
        info.name = agent.name
        info.status = agent.status
        info.accepting = agent.accepting
        info.capacity = agent.capacity
        info.server_load = agent.active_count
        info.department_ids = list(agent.department_ids)
        self._changes.agents = True

    def apply_agents_view(self, view: m.AgentsView) -> None:
        for stats in view.items:
            info = self._agents.get(stats.agent_id)
            if info is None:
                info = self._agents[stats.agent_id] = _AgentInfo(stats.agent_id, stats.name)
            info.name = stats.name
            info.status = stats.status
            info.accepting = stats.accepting
            info.capacity = stats.capacity
            info.server_load = stats.load
            info.chats_today = stats.chats_today
            info.avg_response_seconds = stats.avg_response_seconds
            info.server_last_reply_at = stats.last_reply_at
            info.follow_ups_due = stats.follow_ups_due
            info.follow_ups_overdue = stats.follow_ups_overdue
            if stats.department_ids:
                info.department_ids = list(stats.department_ids)
        self._changes.agents = True

    def apply_queue_stats(self, stats: m.QueueStats) -> None:
        self._queue_stats[stats.department_id] = stats
        if stats.department_id not in self._departments:
            self._departments[stats.department_id] = m.Department(
                id=stats.department_id, name=stats.department_name, open_now=stats.open_now
            )
        self._changes.departments = True
        self._changes.traffic = True

    def apply_queues_view(self, view: m.QueuesView) -> None:
        for stats in view.items:
            self.apply_queue_stats(stats)

    def apply_event(self, event: m.Event) -> None:
        """Route one stream event; unknown or malformed payloads are ignored."""
        data = event_model(event)  # decoded and sanitized once (at the boundary if typed)
        if isinstance(data, m.Conversation):
            self.apply_conversation(data)
        elif isinstance(data, m.Message):
            self.apply_message(data)
        elif isinstance(data, m.Agent):
            self.apply_agent(data)
        elif isinstance(data, m.QueueStats):
            self.apply_queue_stats(data)

    def _note_created(self, conversation_id: str, created_at: datetime, department_id: str) -> None:
        if conversation_id in self._created:
            return
        self._created[conversation_id] = created_at
        self._created_department[conversation_id] = department_id
        bisect.insort(self._created_order, (created_at, conversation_id))
        self._changes.traffic = True

    # ------------------------------------------------------------------ outputs
    def severity(self, conversation_id: str) -> int:
        try:
            return int(self._severity_of(conversation_id))
        except Exception:
            return 0

    def wait_seconds(self, conv: m.Conversation, now: datetime) -> float:
        if conv.state == "queued":
            return _seconds(now, conv.queued_at or conv.created_at)
        return _seconds(now, conv.waiting_since) if conv.waiting_since else 0.0

    def _department_name(self, department_id: str, fallback: str = "") -> str:
        dep = self._departments.get(department_id)
        if dep is not None:
            return dep.name
        server = self._queue_stats.get(department_id)
        return server.department_name if server is not None else (fallback or department_id)

    def _limit(self, conv: m.Conversation) -> float:
        name = conv.department_name or self._department_name(conv.department_id)
        return self.thresholds.wait_limit(conv.department_id, name, queued=conv.state == "queued")

    def _breached(self, conv: m.Conversation, now: datetime) -> bool:
        return self.wait_seconds(conv, now) > self._limit(conv)

    def conversation_row(self, conversation_id: str, now: datetime) -> ConversationRow | None:
        conv = self.conversations.get(conversation_id)
        if conv is None:
            return None
        dep = self._departments.get(conv.department_id)
        return ConversationRow(
            conversation_id=conv.id,
            customer_name=conv.customer_name,
            customer_email=conv.customer_email,
            department_id=conv.department_id,
            department_name=conv.department_name or (dep.name if dep else conv.department_id),
            state=conv.state,
            assignee_id=conv.assignee_id,
            assignee_name=conv.assignee_name or "",
            wait_seconds=self.wait_seconds(conv, now),
            severity=self.severity(conv.id),
            sla_breached=self._breached(conv, now),
        )

    def sort_key(self, order: str, now: datetime) -> Callable[[str], tuple[object, ...]]:
        """Key function over conversation ids for one of :data:`SORT_KEYS` (most urgent first)."""
        convs = self.conversations

        def wait_of(cid: str) -> float:
            conv = convs.get(cid)
            return self.wait_seconds(conv, now) if conv else 0.0

        def dep_of(cid: str) -> str:
            conv = convs.get(cid)
            if conv is None:
                return ""
            dep = self._departments.get(conv.department_id)
            return (conv.department_name or (dep.name if dep else conv.department_id)).casefold()

        def agent_of(cid: str) -> str:
            conv = convs.get(cid)
            return (conv.assignee_name or "").casefold() if conv else ""

        if order == "department":
            return lambda cid: (dep_of(cid), -wait_of(cid), cid)
        if order == "agent":
            return lambda cid: (agent_of(cid), -wait_of(cid), cid)
        if order == "severity":
            return lambda cid: (-self.severity(cid), -wait_of(cid), cid)
        return lambda cid: (-wait_of(cid), cid)

    def sorted_ids(self, order: str, now: datetime, ids: Iterable[str] | None = None) -> list[str]:
        pool = list(self.conversations if ids is None else ids)
        return sorted(pool, key=self.sort_key(order, now))

    def matches(self, conversation_id: str, text: str) -> bool:
        """Case-insensitive substring filter over customer, email, department, agent, state."""
        if not text:
            return True
        conv = self.conversations.get(conversation_id)
        if conv is None:
            return False
        needle = text.casefold()
        dep = self._departments.get(conv.department_id)
        haystack = " ".join(
            (
                conv.customer_name,
                conv.customer_email,
                conv.department_name or (dep.name if dep else ""),
                conv.assignee_name or "",
                conv.state,
                conv.id,
            )
        ).casefold()
        return needle in haystack

    def departments(self, now: datetime) -> list[DepartmentStats]:
        t = self.thresholds
        counts: dict[str, list[float]] = {}
        for dep_id in self._departments:
            counts[dep_id] = [0, 0, 0.0, 0]
        conv_names: dict[str, str] = {}
        for conv in self.conversations.values():
            row = counts.setdefault(conv.department_id, [0, 0, 0.0, 0])
            if conv.department_name:
                conv_names.setdefault(conv.department_id, conv.department_name)
            wait = self.wait_seconds(conv, now)
            if conv.state == "queued":
                row[0] += 1
                row[2] = max(row[2], wait)
            else:
                row[1] += 1
            if wait > self._limit(conv):
                row[3] += 1
        local_first: dict[str, list[float]] = {}
        for dep_id, secs in self._first_response.values():
            local_first.setdefault(dep_id, []).append(secs)
        local_abandoned: dict[str, int] = {}
        for dep_id in self._abandoned_seen.values():
            local_abandoned[dep_id] = local_abandoned.get(dep_id, 0) + 1
        out: list[DepartmentStats] = []
        for dep_id, (waiting, active, longest, breaches) in counts.items():
            dep = self._departments.get(dep_id)
            server = self._queue_stats.get(dep_id)
            avg_first: float | None
            if server is not None and server.avg_first_response_seconds is not None:
                avg_first = server.avg_first_response_seconds
            elif local_first.get(dep_id):
                samples = local_first[dep_id]
                avg_first = sum(samples) / len(samples)
            else:
                avg_first = None
            abandoned = (
                server.abandoned_today if server is not None else local_abandoned.get(dep_id, 0)
            )
            name = (
                dep.name
                if dep
                else (server.department_name if server else conv_names.get(dep_id, dep_id))
            )
            open_now = server.open_now if server is not None else (dep.open_now if dep else True)
            out.append(
                DepartmentStats(
                    department_id=dep_id,
                    name=name,
                    waiting=int(waiting),
                    active=int(active),
                    longest_wait_seconds=float(longest),
                    avg_first_response_seconds=avg_first,
                    sla_breaches=int(breaches),
                    abandoned=int(abandoned),
                    open_now=open_now,
                    longest_wait_breached=longest > t.wait_limit(dep_id, name, queued=True),
                    first_response_breached=(
                        avg_first is not None and avg_first > t.first_response_sla_seconds
                    ),
                )
            )
        out.sort(key=lambda d: (d.name.casefold(), d.department_id))
        return out

    def agents(self, now: datetime) -> list[AgentRow]:
        local_load: dict[str, int] = {}
        for conv in self.conversations.values():
            if conv.state == "active" and conv.assignee_id:
                local_load[conv.assignee_id] = local_load.get(conv.assignee_id, 0) + 1
        # Agents known only from assignments still appear (name from the conversation).
        for conv in self.conversations.values():
            if conv.assignee_id and conv.assignee_id not in self._agents:
                self._agents[conv.assignee_id] = _AgentInfo(
                    conv.assignee_id, conv.assignee_name or conv.assignee_id, status="online"
                )
        rows: list[AgentRow] = []
        have_conversations = self._conversations_loaded or bool(self.conversations)
        for info in self._agents.values():
            load = local_load.get(info.agent_id, 0) if have_conversations else info.server_load
            last = info.server_last_reply_at
            seen = self._last_agent_reply.get(info.agent_id)
            if seen is not None and (last is None or seen > last):
                last = seen
            rows.append(
                AgentRow(
                    agent_id=info.agent_id,
                    name=info.name,
                    status=info.status,
                    accepting=info.accepting,
                    load=load,
                    capacity=info.capacity,
                    chats=info.chats_today,
                    avg_response_seconds=info.avg_response_seconds,
                    last_reply_at=last,
                    seconds_since_last_reply=_seconds(now, last) if last else None,
                    follow_ups_due=info.follow_ups_due,
                    follow_ups_overdue=info.follow_ups_overdue,
                    department_names=tuple(
                        self._department_name(dep_id) for dep_id in info.department_ids
                    ),
                )
            )
        rows.sort(key=lambda a: (a.name.casefold(), a.agent_id))
        return rows

    def traffic(self, now: datetime) -> Traffic:
        minutes = self.thresholds.traffic_minutes
        start = now.replace(second=0, microsecond=0) - timedelta(minutes=minutes - 1)
        # Forget creations older than the window (keeps memory flat over long shifts).
        cutoff = bisect.bisect_left(self._created_order, (start - timedelta(minutes=1), ""))
        if cutoff:
            for _at, cid in self._created_order[:cutoff]:
                self._created.pop(cid, None)
                self._created_department.pop(cid, None)
            del self._created_order[:cutoff]
        buckets = [0] * minutes
        # The backend's per-minute counts win (they include chats this console never saw,
        # so every console shows the same figure); chats seen on the stream after the
        # backend counted are added, and departments without backend counts are counted here.
        counted: dict[str, datetime] = {}
        for q in self._queue_stats.values():
            if not q.created_per_minute or q.counted_at is None:
                continue
            counted[q.department_id] = q.counted_at
            first = q.counted_at.replace(second=0, microsecond=0) - timedelta(
                minutes=len(q.created_per_minute) - 1
            )
            for offset, count in enumerate(q.created_per_minute):
                index = int((first + timedelta(minutes=offset) - start).total_seconds() // 60)
                if 0 <= index < minutes:
                    buckets[index] += count
        for created_at, cid in self._created_order:
            at = counted.get(self._created_department.get(cid, ""))
            if at is not None and created_at <= at:
                continue  # the backend counted it
            index = int((created_at - start).total_seconds() // 60)
            if 0 <= index < minutes:
                buckets[index] += 1
        if self._queue_stats:
            abandoned = sum(q.abandoned_today for q in self._queue_stats.values())
        else:
            abandoned = len(self._abandoned_seen)
        return Traffic(new_per_minute=tuple(buckets), abandoned=abandoned)

    def alerts(self, now: datetime) -> list[Alert]:
        """Current alerts, most serious first (see :data:`ALERT_ORDER` and ``Alert.level``).

        One alert per chat: a chat that is both frustrated and waiting is one line
        with the other reason in ``also``.  Waits count from the customer's oldest
        unanswered message whoever holds the chat (queued: time in queue).
        """
        t = self.thresholds
        out: list[Alert] = []
        if not self.online:
            out.append(Alert(AlertKind.OFFLINE, "backend", "", level=4))
        for conv in self.conversations.values():
            dep_name = conv.department_name or self._department_name(conv.department_id)
            agent = conv.assignee_name or ""
            reasons: list[Alert] = []
            sev = self.severity(conv.id)
            if sev >= t.frustrated_severity:
                reasons.append(
                    Alert(
                        AlertKind.FRUSTRATED,
                        conv.id,
                        conv.customer_name,
                        float(sev),
                        level=3 if sev >= 3 else 2,
                    )
                )
            wait = self.wait_seconds(conv, now)
            limit = self._limit(conv)
            if wait > limit:
                kind = AlertKind.LONG_WAIT if conv.state == "queued" else AlertKind.UNANSWERED
                level = 3 if wait >= 2 * limit else 2
                reasons.append(Alert(kind, conv.id, conv.customer_name, wait, limit, level=level))
            if conv.escalated_at is not None and conv.state != "closed":
                reasons.append(Alert(AlertKind.ESCALATED, conv.id, conv.customer_name, level=2))
            if not reasons:
                continue
            reasons.sort(key=_alert_rank)
            first = reasons[0]
            out.append(
                dataclasses.replace(
                    first,
                    department_id=conv.department_id,
                    department_name=dep_name,
                    agent_name=agent,
                    conversation_id=conv.id,
                    also=tuple((r.kind, r.value) for r in reasons[1:]),
                )
            )
        agents = self.agents(now)
        for a in agents:
            if a.over_capacity:
                out.append(
                    Alert(
                        AlertKind.OVER_CAPACITY,
                        a.agent_id,
                        a.name,
                        float(a.load),
                        float(a.capacity),
                        level=3 if a.load >= a.capacity + 2 else 2,
                        agent_name=a.name,
                    )
                )
        out.extend(self._department_alerts(now))
        out.sort(key=_alert_rank)
        return out

    def _department_alerts(self, now: datetime) -> list[Alert]:
        """Customers waiting in a closed department, or with no agent of it online."""
        known = any(info.department_ids for info in self._agents.values())
        online: set[str] = set()
        for info in self._agents.values():
            if info.status == "online":
                online.update(info.department_ids)
        out: list[Alert] = []
        for dep in self.departments(now):
            if not dep.waiting:
                continue
            if not dep.open_now:
                kind, level = AlertKind.DEPARTMENT_CLOSED, 2
            elif known and dep.department_id not in online:
                kind, level = AlertKind.NO_AGENT_ONLINE, 3
            else:
                continue
            out.append(
                Alert(
                    kind,
                    dep.department_id,
                    dep.name,
                    float(dep.waiting),
                    dep.longest_wait_seconds,
                    level=level,
                    department_id=dep.department_id,
                    department_name=dep.name,
                )
            )
        return out


ALERT_ORDER: tuple[AlertKind, ...] = (
    AlertKind.OFFLINE,
    AlertKind.NO_AGENT_ONLINE,
    AlertKind.FRUSTRATED,
    AlertKind.LONG_WAIT,
    AlertKind.UNANSWERED,
    AlertKind.ESCALATED,
    AlertKind.OVER_CAPACITY,
    AlertKind.DEPARTMENT_CLOSED,
)
"""Tie-break between kinds of the same level (``Alert.level`` decides first)."""

ALERTS_PER_KIND = 5
"""The alerts panel shows at most this many alerts of one kind (the rest are counted)."""


def _alert_rank(alert: Alert) -> tuple[int, int, float, str]:
    return (-alert.level, ALERT_ORDER.index(alert.kind), -alert.value, alert.subject_id)


@dataclass(frozen=True, slots=True)
class AlertGroup:
    """Alerts of one department (``department_id == ""``: team-wide, e.g. over capacity)."""

    department_id: str
    department_name: str
    alerts: tuple[Alert, ...]


@dataclass(frozen=True, slots=True)
class AlertBoard:
    """What the alerts panel shows: groups by department, and what the per-kind cap hid."""

    groups: tuple[AlertGroup, ...]
    hidden: tuple[tuple[AlertKind, int], ...]
    total: int


def arrange_alerts(alerts: Sequence[Alert], per_kind: int = ALERTS_PER_KIND) -> AlertBoard:
    """Cap each kind at ``per_kind`` (the most serious of it), then group by department.

    A flood of one kind can never hide a rarer one: every kind keeps its own
    ``per_kind`` lines.  Groups are ordered by their most serious alert.
    """
    ranked = sorted(alerts, key=_alert_rank)
    shown: list[Alert] = []
    counts: dict[AlertKind, int] = {}
    hidden: dict[AlertKind, int] = {}
    for alert in ranked:
        seen = counts.get(alert.kind, 0)
        if alert.kind is AlertKind.OFFLINE or seen < per_kind:
            shown.append(alert)
        else:
            hidden[alert.kind] = hidden.get(alert.kind, 0) + 1
        counts[alert.kind] = seen + 1
    by_department: dict[str, list[Alert]] = {}
    names: dict[str, str] = {}
    for alert in shown:
        by_department.setdefault(alert.department_id, []).append(alert)
        names.setdefault(alert.department_id, alert.department_name)
    groups = tuple(
        AlertGroup(dep_id, names[dep_id], tuple(items))
        for dep_id, items in by_department.items()  # insertion order = most serious first
    )
    return AlertBoard(
        groups=groups,
        hidden=tuple((kind, hidden[kind]) for kind in ALERT_ORDER if kind in hidden),
        total=len(ranked),
    )
