"""The supervisor console: live read-only queue and team monitoring.

Read-only is a promise to customers and agents: nothing on this screen
changes a conversation, marks it read or shows presence.  The screen reads
through ``console.core.supervision.SupervisorGateway`` (GETs only, answers
sanitized) over a ``ReadOnlyBackend`` (mutating calls fail locally), and on top
of that this screen has no composer, no accept/transfer/close, sends no typing
and never calls ``mark_read``; it only issues GETs (``/departments``,
``/conversations``, ``/queues``, ``/agents``, messages and customers of
watched chats) and listens to the event stream.

Refresh model (1,000 open conversations × 200 events/s): events only update
``console.core.dashboard.Dashboard`` and mark ids dirty.  A timer at
``refresh_hz`` (5 Hz by default) takes the dirty set and updates just those
table rows in place (``DataTable.update_cell``), re-sorting at most once per
tick; once a second it also refreshes the wait column of the rows on screen.
``bench/supervisor.py`` measures what that costs.

Data feed: when the app passes a ``Store`` this screen subscribes to it
(see :meth:`SupervisorScreen._attach_store`); without one (tests, the
benchmark) it reads ``gateway.events()`` itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import ContentSwitcher, DataTable, Footer, Input, Static

from console.backends.base import Backend, BackendError, ConnectionPhase, ConnectionState
from console.core.dashboard import ConversationRow, Dashboard, Thresholds
from console.core.events import TypedEvent, typed_event
from console.core.i18n import t
from console.core.store import Store
from console.core.supervision import SupervisorGateway
from console.protocol import models as m
from console.ui.bindings import (
    SORT_GROUP,
    SPECS,
    bindings_for,
    effective_keys,
    help_for,
    translate_bindings,
)
from console.ui.widgets.supervisor.drill import DrillDownScreen, Subject
from console.ui.widgets.supervisor.history import HistoryScreen
from console.ui.widgets.supervisor.panels import AlertsPanel, ReadOnlyBar, TrafficPanel
from console.ui.widgets.supervisor.tables import AgentTable, ConversationTable, DepartmentTable
from console.ui.widgets.supervisor.watch import MAX_WATCHED, WatchGrid, WatchPane
from console.ui.widgets.transcript import TranscriptView

log = logging.getLogger(__name__)

VIEWS: tuple[str, ...] = ("dashboard", "conversations", "watch")
POLL_SECONDS = 10.0
"""How often the server's /queues and /agents views are re-read (they carry day figures)."""
POLL_SOON_SECONDS = 2.0
"""After an event that moves agent day figures (replies, assignments), re-read within this."""
HISTORY_LIMIT = 100
TRANSCRIPT_READS = 4
"""Open conversations whose history loads at once (severity from the whole transcript)."""
WIDE_COLUMNS = 150
ROOMY_FOOTER_COLUMNS = 110
"""Below this width the footer is compact and leaves out the palette key (Ctrl+P still
works; ``?`` lists it), so "Sort" and "Refresh" stay visible at 80 columns."""
"""From this width departments and agents sit side by side (both tables need ~75 columns)."""


def _now() -> datetime:
    return datetime.now(UTC)


class SupervisorHelpScreen(ModalScreen[None]):
    """Every supervisor binding: id, current keys, what it does."""

    BINDINGS: ClassVar[list[BindingType]] = bindings_for("supervisor-help")

    DEFAULT_CSS = """
    SupervisorHelpScreen { align: center middle; }
    SupervisorHelpScreen > Vertical {
        width: 90%; max-width: 110; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    SupervisorHelpScreen #help-rows { height: 1fr; }
    SupervisorHelpScreen #help-grid {
        layout: grid; grid-size: 3; grid-columns: 10 1fr 18; grid-rows: auto;
        grid-gutter: 0 1; height: auto;
    }
    SupervisorHelpScreen .help-head { text-style: bold; color: $primary; }
    SupervisorHelpScreen .help-keys { color: $accent; text-style: bold; }
    SupervisorHelpScreen .help-id { color: $text-muted; }
    SupervisorHelpScreen .help-line { height: auto; color: $text-muted; }
    """

    def __init__(self, rows: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = rows
        translate_bindings(self)

    def compose(self) -> ComposeResult:
        # Keys and text first, wrapped to the width (a DataTable cut the text off at 80
        # columns); the id (for [keymap]) last and muted.
        with Vertical():
            yield Static(Content.styled(t("supervisor.help.title"), "bold"), markup=False)
            yield Static(Content(t("supervisor.help.intro")), classes="help-line", markup=False)
            with VerticalScroll(id="help-rows"):
                with Container(id="help-grid"):
                    for key in ("col_keys", "col_action", "col_id"):
                        yield Static(
                            Content(t(f"supervisor.help.{key}")), classes="help-head", markup=False
                        )
                    for binding_id, keys, text in self.rows:
                        yield Static(
                            Content(keys),
                            id=f"help-keys-{binding_id}",
                            classes="help-keys",
                            markup=False,
                        )
                        yield Static(Content(text), classes="help-text", markup=False)
                        yield Static(Content(binding_id), classes="help-id", markup=False)
            yield Static(Content(t("supervisor.help.close")), classes="help-line", markup=False)

    def on_mount(self) -> None:
        self.query_one("#help-rows", VerticalScroll).focus()

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


class SupervisorScreen(Screen[None]):
    """Dashboard, conversation table and read-only watch panes for supervisors."""

    BINDING_SCOPE = "supervisor"
    SORT_GROUP = SORT_GROUP
    """F5-F8 share one footer entry ("f5 f6 f7 f8 Sort"); the bar names the current order."""

    # The ids, keys and order live in console/ui/bindings.py (scope "supervisor").
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("supervisor")

    HORIZONTAL_BREAKPOINTS = [
        (0, "-narrow"),
        (WIDE_COLUMNS, "-wide"),
    ]

    DEFAULT_CSS = """
    SupervisorScreen { layout: vertical; }
    SupervisorScreen > ContentSwitcher { height: 1fr; }
    SupervisorScreen #dashboard-view { height: 1fr; }
    SupervisorScreen #dash-top { height: auto; max-height: 60%; layout: vertical; }
    SupervisorScreen.-wide #dash-top { layout: horizontal; }
    SupervisorScreen #departments { max-height: 12; }
    SupervisorScreen #agents { max-height: 14; }
    SupervisorScreen.-wide #departments, SupervisorScreen.-wide #agents { max-height: 100%; }
    SupervisorScreen.-wide #departments { width: auto; margin-right: 2; }
    SupervisorScreen.-wide #agents { width: 1fr; }
    SupervisorScreen #alerts-scroll { height: 1fr; }
    SupervisorScreen #conversations-view { height: 1fr; }
    SupervisorScreen #conversation-filter { height: 1; border: none; padding: 0 1; }
    SupervisorScreen #conversations { height: 1fr; max-height: 100%; }
    SupervisorScreen #conversations-empty { height: auto; padding: 0 1; color: $text-muted; }
    """

    view: reactive[str] = reactive("dashboard", bindings=True)

    def __init__(
        self,
        backend: Backend | SupervisorGateway,
        store: Store | None = None,
        *,
        clock: Callable[[], datetime] | None = None,
        thresholds: Thresholds | None = None,
        refresh_hz: float = 5.0,
        load_on_mount: bool = True,
        severity_of: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__(id="supervisor")
        translate_bindings(self)
        self.gateway = (
            backend if isinstance(backend, SupervisorGateway) else SupervisorGateway(backend)
        )
        """Every read goes through here (sanitized answers); the screen holds no Backend."""
        self._owns_store = store is None
        self.store: Store | None = store if store is not None else self._make_store()
        self.clock = clock or _now
        self._explicit_clock = clock is not None
        self.refresh_hz = refresh_hz
        self.load_on_mount = load_on_mount
        self._explicit_thresholds = thresholds is not None
        self.dashboard = Dashboard(
            thresholds,
            severity_of=severity_of or self._store_severity,
            clock=time.perf_counter,
        )
        self.latency_samples: list[float] | None = None
        """Set to a list to record "event applied → row updated" seconds (bench)."""
        self.ticks = 0
        self._last_second = -1
        self._filter_dirty = False
        self._last_poll = 0.0
        self._poll_due: float | None = None
        self._summary_dirty = False
        self._store_unsubscribe: Callable[[], None] | None = None
        self._watched_dirty: set[str] = set()
        self._watch_grid: WatchGrid | None = None
        self._empty_hint: str | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield ReadOnlyBar(id="supervisor-bar")
        with ContentSwitcher(initial="dashboard-view"):
            with Vertical(id="dashboard-view"):
                with Horizontal(id="dash-top"):
                    yield DepartmentTable(id="departments")
                    yield AgentTable(id="agents")
                yield TrafficPanel(id="traffic")
                with VerticalScroll(id="alerts-scroll"):
                    yield AlertsPanel(id="alerts")
            with Vertical(id="conversations-view"):
                yield Input(
                    placeholder=t("supervisor.filter.placeholder"), id="conversation-filter"
                )
                yield Static("", id="conversations-empty", markup=False)
                yield ConversationTable(id="conversations")
            yield WatchGrid(id="watch-view")
        yield Footer()

    @property
    def bar(self) -> ReadOnlyBar:
        return self.query_one(ReadOnlyBar)

    @property
    def departments_table(self) -> DepartmentTable:
        return self.query_one(DepartmentTable)

    @property
    def agents_table(self) -> AgentTable:
        return self.query_one(AgentTable)

    @property
    def conversations_table(self) -> ConversationTable:
        return self.query_one(ConversationTable)

    @property
    def traffic_panel(self) -> TrafficPanel:
        return self.query_one(TrafficPanel)

    @property
    def alerts_panel(self) -> AlertsPanel:
        return self.query_one(AlertsPanel)

    @property
    def watch_grid(self) -> WatchGrid:
        grid = self._watch_grid
        if grid is None:  # cached: looked up on every event
            grid = self._watch_grid = self.query_one(WatchGrid)
        return grid

    @property
    def filter_input(self) -> Input:
        return self.query_one("#conversation-filter", Input)

    def _thresholds_from_config(self) -> None:
        """``[sla]`` of config.toml: critical = long queue wait and reply SLA; warning = 1st reply."""
        sla = getattr(getattr(self.app, "config", None), "sla", None)
        warning = getattr(sla, "warning_seconds", None)
        critical = getattr(sla, "critical_seconds", None)
        if isinstance(warning, int | float) and isinstance(critical, int | float):
            departments = getattr(sla, "departments", None)
            self.dashboard.thresholds = Thresholds.from_mapping(
                {
                    "long_wait_seconds": critical,
                    "reply_sla_seconds": critical,
                    "first_response_sla_seconds": warning,
                    # [sla.departments."Billing"] critical_seconds: that department's limit
                    "departments": dict(departments) if isinstance(departments, dict) else {},
                }
            )

    def _forget_replaced_agent_screen(self) -> None:
        """Stop ``AgentConsoleApp`` from refreshing the agent screen this one replaced.

        Deliberate coupling (see docs/supervisor.md, known issues): the app keeps
        ``agent_screen`` after ``switch_screen`` and would redraw that screen on
        every event, which has no widgets any more and raises ``NoMatches``.
        Only acts when that screen is no longer on the screen stack.
        """
        app = self.app
        replaced = getattr(app, "agent_screen", None)
        if replaced is not None and replaced is not self and replaced not in app.screen_stack:
            app.agent_screen = None  # type: ignore[attr-defined]

    def on_mount(self) -> None:
        self._forget_replaced_agent_screen()
        self.call_after_refresh(self._forget_replaced_agent_screen)
        app_clock = getattr(self.app, "clock", None)
        if not self._explicit_clock and callable(app_clock):
            self.clock = app_clock  # AgentConsoleApp's clock: tests move time for every screen
        if not self._explicit_thresholds:
            self._thresholds_from_config()
        self.sub_title = t("supervisor.readonly_hint")
        self.bar.show_state(
            view=self.view,
            order=self.conversations_table.order,
            phase=self._phase_name(self.gateway.connection),
            watching=(0, MAX_WATCHED),
        )
        self.dashboard.set_connection(self.gateway.connection.phase != ConnectionPhase.OFFLINE)
        self.gateway.on_connection_change(self._connection_changed)
        self.set_interval(1.0 / self.refresh_hz, self.refresh_now)
        self.departments_table.focus()
        self._fit_footer(self.app.size.width)
        if self.load_on_mount:
            self._attach_feed()
            self.load_everything()

    def on_resize(self, event: events.Resize) -> None:
        self._fit_footer(event.size.width)

    def _fit_footer(self, width: int) -> None:
        try:
            footer = self.query_one(Footer)
        except NoMatches:
            return
        roomy = width >= ROOMY_FOOTER_COLUMNS
        if footer.compact == (not roomy) and footer.show_command_palette == roomy:
            return
        footer.compact = not roomy
        footer.show_command_palette = roomy
        footer.refresh(recompose=True)

    def on_unmount(self) -> None:
        if self._store_unsubscribe is not None:
            self._store_unsubscribe()
            self._store_unsubscribe = None

    # ------------------------------------------------------------------ data in
    def _make_store(self) -> Store:
        """Our own client Store (for trigger severities) when the app did not pass one."""
        return Store()

    def _store_severity(self, conversation_id: str) -> int:
        """Trigger severity (0-3) the store computed from the customer's recent messages."""
        store = self.store
        if store is None:
            return 0
        entry = store.entry(conversation_id)
        return int(entry.severity) if entry is not None else 0

    def _attach_feed(self) -> None:
        """Listen for live events without stealing them from anyone.

        ``gateway.events()`` has a single consumer.  Inside ``AgentConsoleApp``
        the app's controller consumes it, so we join its callback chain (a
        public ``add_event_listener`` if the controller has one, else its
        ``_on_event`` hook - a deliberate, documented coupling).  Standalone
        (tests, benchmark) we consume the stream ourselves.
        """
        controller = getattr(self.app, "controller", None)
        add_listener = getattr(controller, "add_event_listener", None)
        if callable(add_listener):
            add_listener(self._controller_event)
            return
        if controller is not None and hasattr(controller, "_on_event"):
            previous = controller._on_event

            def chained(event: m.Event, data: Any) -> None:
                if previous is not None:
                    previous(event, data)
                self._controller_event(event, data)

            controller._on_event = chained
            return
        self.follow_backend_events()

    def _controller_event(self, event: m.Event, data: Any = None) -> None:
        if self.is_attached:
            self.ingest_event(event)

    @work(exclusive=True, group="supervisor-stream")
    async def follow_backend_events(self) -> None:
        try:
            async for event in self.gateway.events():
                self.ingest_event(event)
        except BackendError as exc:
            self.dashboard.set_connection(False)
            self.notify(str(exc), severity="error", markup=False)

    def ingest_event(self, event: m.Event) -> None:
        """Apply one stream event (cheap: marks rows dirty; the timer repaints)."""
        event = typed_event(event)  # decoded and sanitized once; a no-op if already typed
        self.dashboard.apply_event(event)
        if self._owns_store and self.store is not None:
            try:
                change = self.store.apply(event, self.clock())
            except Exception:
                log.exception("store could not apply %s", event.type)
            else:
                for cid in getattr(change, "conversations", ()):
                    self.dashboard.mark_conversation(cid)
        if event.type == "message.created":
            cid = event.data.get("conversation_id")
            if isinstance(cid, str):
                self.dashboard.mark_conversation(cid)  # severity may have changed
            if event.data.get("author_kind") == "agent":
                self._poll_soon()  # average reply time and chats today moved
            self._message_for_watch(event)
        elif event.type == m.RESYNC_EVENT_TYPE:
            # No replay after a reconnect: what watched chats said meanwhile, by GET.
            for watched in self.watch_grid.panes:
                self.catch_up_watch(watched.conversation_id)
        elif event.type in {"conversation.updated", "conversation.created"}:
            self._poll_soon()
            cid = event.data.get("id")
            pane = self.watch_grid.pane(cid) if isinstance(cid, str) else None
            if pane is not None:
                conv = event.model
                if isinstance(conv, m.Conversation):
                    pane.conversation = conv  # keeps closed/transferred states the table drops
                    self._watched_dirty.add(conv.id)

    @work(group="supervisor-watch-catch-up")
    async def catch_up_watch(self, conversation_id: str) -> None:
        """After a resync (the stream could not resume, e.g. Chatwoot has no replay): what
        the watched chat said during the gap, by GET after the newest message shown,
        merged by id."""
        pane = self.watch_grid.pane(conversation_id)
        if pane is None or not pane.loaded:
            return  # load_watch is still fetching the history: it brings the gap too
        items = pane.transcript.items()
        query: dict[str, Any] = {"after": items[-1].id} if items else {"limit": HISTORY_LIMIT}
        try:
            page = await self.gateway.list_messages(conversation_id, **query)
        except BackendError as exc:
            log.info("catch-up of watched %s failed: %s", conversation_id, exc)
            return
        still = self.watch_grid.pane(conversation_id)  # it may have been closed meanwhile
        if still is not None:
            still.add_messages(page.items)

    def _message_for_watch(self, event: TypedEvent) -> None:
        cid = event.data.get("conversation_id")
        if not isinstance(cid, str):
            return
        pane = self.watch_grid.pane(cid)
        if pane is None:
            return
        msg = event.model
        if isinstance(msg, m.Message):
            pane.add_messages([msg])

    def _connection_changed(self, state: ConnectionState) -> None:
        online = state.phase == ConnectionPhase.CONNECTED
        self.dashboard.set_connection(online or state.phase == ConnectionPhase.CONNECTING)
        if self.is_attached and self.is_mounted:
            try:
                self.bar.show_state(phase=self._phase_name(state))
            except NoMatches:  # the screen is being torn down
                return
        if online and self.load_on_mount:
            # Back online: re-sync what we may have missed.
            self.load_everything()

    def _poll_soon(self) -> None:
        if self._poll_due is None:
            self._poll_due = time.monotonic() + POLL_SOON_SECONDS

    @staticmethod
    def _phase_name(state: ConnectionState) -> str:
        return str(state.phase.value)

    @work(exclusive=True, group="supervisor-load")
    async def load_everything(self) -> None:
        """Initial load and re-sync over REST (GET only)."""
        try:
            departments = await self.gateway.list_departments()
            self.dashboard.set_departments(departments)
            conversations: list[m.Conversation] = []
            for state in ("queued", "active"):
                conversations.extend(await self._all_conversations(state))
            self.dashboard.replace_conversations(conversations)
            self.load_transcripts()
            await self._poll_server_views()
        except BackendError as exc:
            self.notify(t("supervisor.error.load", error=str(exc)), severity="error", markup=False)

    def _reader(self) -> Any:
        """The read path: the screen's read-only gateway when it has one, else its backend."""
        return getattr(self, "gateway", None) or getattr(self, "backend", None)

    @work(exclusive=True, group="supervisor-transcripts")
    async def load_transcripts(self) -> None:
        """The recent transcript (``HISTORY_LIMIT`` messages) of every open conversation the
        store has no history for, so trigger severity comes from the conversation and not
        from what this console happened to see since it started (two supervisors agree)."""
        store = self.store
        reader = self._reader()
        if store is None or reader is None:
            return
        limit = asyncio.Semaphore(TRANSCRIPT_READS)

        async def one(conv: m.Conversation) -> None:
            entry = store.entry(conv.id)
            if entry is not None and store.transcript(conv.id).loaded:
                return
            async with limit:
                try:
                    page = await reader.list_messages(conv.id, limit=HISTORY_LIMIT)
                except BackendError as exc:
                    log.info("history of %s not loaded: %s", conv.id, exc)
                    return
            try:
                if store.entry(conv.id) is None:
                    store.upsert_conversation(conv)
                store.load_messages(conv.id, page, older=True)
            except Exception:
                log.exception("store could not take the history of %s", conv.id)
                return
            self.dashboard.mark_conversation(conv.id)

        await asyncio.gather(*(one(c) for c in list(self.dashboard.conversations.values())))

    async def _all_conversations(self, state: m.ConversationState) -> list[m.Conversation]:
        items: list[m.Conversation] = []
        cursor: str | None = None
        for _page in range(200):  # hard stop: 200 pages × 200 rows
            page = await self.gateway.list_conversations(
                state=state, assignee="any", cursor=cursor, limit=200
            )
            items.extend(page.items)
            cursor = page.next_cursor
            if not cursor:
                break
        return items

    async def _poll_server_views(self) -> None:
        self._last_poll = time.monotonic()
        self.dashboard.apply_queues_view(await self.gateway.queues())
        self.dashboard.apply_agents_view(await self.gateway.agents())

    @work(exclusive=True, group="supervisor-poll")
    async def poll_server_views(self) -> None:
        try:
            await self._poll_server_views()
        except BackendError as exc:
            log.info("supervisor poll failed: %s", exc)

    # ------------------------------------------------------------------ refresh
    def refresh_now(self, *, force: bool = False) -> None:
        """Timer body: push what changed since the last tick into the widgets.

        Conversation rows follow at ``refresh_hz``; the summaries (departments,
        agents, traffic, alerts) at most once a second - they are aggregates,
        and re-rendering 40 agent rows five times a second was the largest
        cost in ``bench/supervisor.py``.  ``force`` refreshes everything now.
        """
        now = self.clock()
        second = int(time.monotonic())
        new_second = force or second != self._last_second
        if new_second:
            self._last_second = second
            mono = time.monotonic()
            due = (self._poll_due is not None and mono >= self._poll_due) or (
                self._last_poll and mono - self._last_poll > POLL_SECONDS
            )
            if self.load_on_mount and self._last_poll and due:
                self._last_poll = mono
                self._poll_due = None
                self.poll_server_views()
        dash = self.dashboard
        if not (dash.has_changes or new_second or self._filter_dirty or self._watched_dirty):
            return
        self.ticks += 1
        changes = dash.take_changes()
        self._summary_dirty = self._summary_dirty or bool(
            changes.departments or changes.agents or changes.traffic
        )
        summaries = new_second or (self._summary_dirty and not self.departments_table.row_count)
        table = self.conversations_table
        if self._filter_dirty:
            self._filter_dirty = False
            table.filter_text = self.filter_input.value.strip()
            table.rebuild(dash, now)
            self.bar.show_state(filter_text=table.filter_text)
        elif changes.conversations:
            table.apply(dash, changes.conversations, now)
        if new_second:
            table.refresh_waits(dash, now)
        self._show_empty_table_hint()
        if summaries:
            self._summary_dirty = False
            self.departments_table.apply(dash.departments(now))
            self.agents_table.apply(dash.agents(now))
            self.traffic_panel.show(dash.traffic(now))
            alerts = dash.alerts(now)
            self.alerts_panel.show(alerts)
            self.bar.show_state(alerts=len(alerts))
        watched = set(self._watched_dirty) | (changes.conversations & self._watched_ids())
        self._watched_dirty.clear()
        if watched or new_second:
            for pane in self.watch_grid.panes:
                if new_second or pane.conversation_id in watched:
                    conv = dash.conversations.get(pane.conversation_id) or pane.conversation
                    if conv is not None:
                        pane.show_conversation(conv, now)
        if self.latency_samples is not None and changes.marked_at:
            done = time.perf_counter()
            self.latency_samples.extend(done - at for at in changes.marked_at.values())

    def _show_empty_table_hint(self) -> None:
        """A sentence under an empty conversation table (nothing open, or the filter hides all)."""
        table = self.conversations_table
        if table.row_count:
            text = ""
        elif table.filter_text:
            text = t("supervisor.filter.no_match", filter=table.filter_text)
        else:
            text = t("supervisor.filter.none")
        if text != self._empty_hint:
            self._empty_hint = text
            hint = self.query_one("#conversations-empty", Static)
            hint.update(Content(text))
            hint.display = bool(text)

    def _watched_ids(self) -> set[str]:
        return {pane.conversation_id for pane in self.watch_grid.panes}

    # ------------------------------------------------------------------ bindings
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False hides a binding from the footer (and ignores its key) where it does not apply.
        if action == "show_view":
            return parameters[:1] != (self.view,)  # the bar already names the current view
        if action in {"sort", "watch"}:
            return self.view == "conversations"
        if action == "clear_filter":
            return self.view == "conversations" and bool(self.filter_input.value)
        if action in {"drill_down", "show_history"}:
            return self.view == "dashboard"
        if action in {"close_watch", "next_watch"}:
            return self.view == "watch" and bool(self.watch_grid.panes)
        return True

    def watch_view(self, view: str) -> None:
        if not self.is_mounted:
            return
        self.query_one(ContentSwitcher).current = f"{view}-view"
        self.bar.show_state(view=view)
        if view == "conversations":
            self.conversations_table.focus()
        elif view == "dashboard":
            self.departments_table.focus()
        elif view == "watch":
            panes = self.watch_grid.panes
            if panes:
                panes[0].focus()

    def action_show_view(self, view: str) -> None:
        if view in VIEWS:
            self.view = view

    def action_sort(self, order: str) -> None:
        table = self.conversations_table
        table.sort_by(order, self.dashboard, self.clock())  # from the top
        self.bar.show_state(order=order)

    def action_filter(self) -> None:
        self.view = "conversations"
        self.filter_input.focus()

    def action_clear_filter(self) -> None:
        if self.filter_input.value:
            self.filter_input.value = ""
            self._filter_dirty = True
        self.conversations_table.focus()

    @on(Input.Changed, "#conversation-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self._filter_dirty = True

    @on(Input.Submitted, "#conversation-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        self.conversations_table.focus()

    @on(DataTable.RowSelected, "#conversations")
    async def _row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is not None:
            await self.watch_conversation(key)

    @on(AlertsPanel.Chosen)
    async def _alert_chosen(self, event: AlertsPanel.Chosen) -> None:
        """Enter on an alert about a chat: watch it (or show the pane if already watched)."""
        await self.watch_and_show(event.conversation_id)

    # ------------------------------------------------------------------ drill-down
    def drill_subjects(self) -> list[Subject]:
        """Departments, then agents, each with the number of its open conversations."""
        dash, now = self.dashboard, self.clock()
        by_department: dict[str, int] = {}
        by_agent: dict[str, int] = {}
        for conv in dash.conversations.values():
            by_department[conv.department_id] = by_department.get(conv.department_id, 0) + 1
            if conv.assignee_id:
                by_agent[conv.assignee_id] = by_agent.get(conv.assignee_id, 0) + 1
        subjects = [
            Subject("department", d.department_id, d.name, by_department.get(d.department_id, 0))
            for d in dash.departments(now)
        ]
        subjects += [
            Subject("agent", a.agent_id, a.name, by_agent.get(a.agent_id, 0))
            for a in dash.agents(now)
        ]
        return subjects

    def drill_rows(self, subject: Subject) -> list[ConversationRow]:
        """The open conversations of a department or held by an agent, longest wait first."""
        dash, now = self.dashboard, self.clock()
        rows: list[ConversationRow] = []
        for cid in dash.sorted_ids("wait", now):
            row = dash.conversation_row(cid, now)
            if row is None:
                continue
            if subject.kind == "department" and row.department_id == subject.subject_id:
                rows.append(row)
            elif subject.kind == "agent" and row.assignee_id == subject.subject_id:
                rows.append(row)
        return rows

    def action_drill_down(self, initial: str | None = None) -> None:
        """Choose a department or agent, see its conversations; Enter on one watches it."""

        async def chosen(conversation_id: str | None) -> None:
            if conversation_id:
                await self.watch_and_show(conversation_id)

        self.app.push_screen(
            DrillDownScreen(self.drill_subjects(), self.drill_rows, initial=initial), chosen
        )

    def action_show_history(self) -> None:
        """Today vs the last 7 days per department and agent (``GET /history``)."""
        self.app.push_screen(HistoryScreen(self.gateway.history))

    async def watch_and_show(self, cid: str) -> None:
        """Watch a chat (unless already watched) and show it in the Watch view."""
        if self.watch_grid.pane(cid) is None:
            await self.watch_conversation(cid)
        self.view = "watch"
        pane = self.watch_grid.pane(cid)
        if pane is not None:
            pane.focus()

    async def action_watch(self) -> None:
        key = self.conversations_table.highlighted_key()
        if key is None:
            self.notify(t("supervisor.watch.nothing_selected"), markup=False)
            return
        await self.watch_conversation(key)

    async def watch_conversation(self, conversation_id: str) -> WatchPane | None:
        """Open a read-only pane for a conversation (no-op if watched or six are open)."""
        grid = self.watch_grid
        if grid.pane(conversation_id) is not None:
            self.notify(t("supervisor.watch.already"), markup=False)
            return None
        if len(grid.panes) >= MAX_WATCHED:
            self.notify(
                t("supervisor.watch.full", max=MAX_WATCHED), severity="warning", markup=False
            )
            return None
        pane = await grid.add_pane(conversation_id)
        conv = self.dashboard.conversations.get(conversation_id)
        if conv is not None:
            pane.show_conversation(conv, self.clock())
        self.bar.show_state(watching=(len(grid.panes), MAX_WATCHED))
        self.load_watch(conversation_id)
        self.refresh_bindings()
        return pane

    @work(group="supervisor-watch")
    async def load_watch(self, conversation_id: str) -> None:
        """History and customer of a watched conversation, with GETs only."""
        pane = self.watch_grid.pane(conversation_id)
        if pane is None:
            return
        try:
            conv = await self.gateway.get_conversation(conversation_id)
            page = await self.gateway.list_messages(conversation_id, limit=HISTORY_LIMIT)
        except BackendError as exc:
            pane.show_error(t("supervisor.watch.load_failed", error=str(exc)))
            return
        customer: m.Customer | None = None
        try:
            customer = await self.gateway.get_customer(conv.customer_id)
        except BackendError:
            customer = None
        if self._owns_store and self.store is not None:
            try:
                self.store.upsert_conversation(conv)
                self.store.load_messages(conversation_id, page, older=True)
                self.dashboard.mark_conversation(conversation_id)
            except Exception:
                log.exception("store could not take the history of %s", conversation_id)
        if not pane.is_attached:
            return
        pane.show_conversation(conv, self.clock(), customer)
        pane.add_messages(page.items)
        pane.transcript.has_older = page.has_more
        pane.loaded = True

    @on(TranscriptView.OlderRequested)
    def _older_requested(self, event: TranscriptView.OlderRequested) -> None:
        for pane in self.watch_grid.panes:
            if pane.transcript is event.transcript and event.oldest_id:
                self.load_older(pane.conversation_id, event.oldest_id)

    @work(group="supervisor-watch-older")
    async def load_older(self, conversation_id: str, before: str) -> None:
        try:
            page = await self.gateway.list_messages(
                conversation_id, before=before, limit=HISTORY_LIMIT
            )
        except BackendError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        pane = self.watch_grid.pane(conversation_id)
        if pane is not None:
            pane.add_older(page.items, has_older=page.has_more)

    async def action_close_watch(self) -> None:
        grid = self.watch_grid
        panes = grid.panes
        if not panes:
            return
        focused = self.focused
        target = panes[-1]
        for pane in panes:
            if focused is not None and (focused is pane or pane in focused.ancestors):
                target = pane
                break
        await grid.remove_pane(target.conversation_id)
        remaining = grid.panes
        self.bar.show_state(watching=(len(remaining), MAX_WATCHED))
        if remaining:
            remaining[-1].focus()
        self.refresh_bindings()

    def action_next_watch(self) -> None:
        panes = self.watch_grid.panes
        if not panes:
            return
        focused = self.focused
        index = -1
        for i, pane in enumerate(panes):
            if focused is not None and (focused is pane or pane in focused.ancestors):
                index = i
        panes[(index + 1) % len(panes)].focus()

    def action_refresh(self) -> None:
        self.load_everything()
        for pane in self.watch_grid.panes:
            self.load_watch(pane.conversation_id)

    _ACTION_VIEWS: ClassVar[dict[str, str]] = {
        "drill_down": "dashboard",
        "show_history": "dashboard",
        "sort": "conversations",
        "watch": "conversations",
        "close_watch": "watch",
        "next_watch": "watch",
    }
    """Actions that apply in one view: the palette switches there first."""

    def prepare_action(self, action: str) -> None:
        """Called by the command palette before it runs ``action`` here."""
        view = self._ACTION_VIEWS.get(action.partition("(")[0])
        if view is not None:
            self.view = view  # sort/watch keys act in one view only (check_action)

    def action_supervisor_help(self) -> None:
        self.app.push_screen(SupervisorHelpScreen(self.help_rows()))

    def help_rows(self) -> list[tuple[str, str, str]]:
        """(id, keys as displayed, description) for every supervisor binding."""
        keys_by_id = effective_keys(getattr(self.app, "keymap", {}))
        rows: list[tuple[str, str, str]] = []
        for spec in SPECS:
            if spec.scope not in ("supervisor", "supervisor-help"):
                continue
            keys = ", ".join(
                self.app.get_key_display(Binding(key, spec.action)) for key in keys_by_id[spec.id]
            )
            rows.append((spec.id, keys, help_for(spec)))
        return rows

    # ------------------------------------------------------------------ feeding helpers
    def load_models(
        self,
        *,
        departments: Iterable[m.Department] = (),
        conversations: Iterable[m.Conversation] = (),
        queues: m.QueuesView | None = None,
        agents: m.AgentsView | None = None,
    ) -> None:
        """Feed models directly (snapshots and the benchmark; the app uses the backend)."""
        self.dashboard.set_departments(departments)
        self.dashboard.load_conversations(conversations)
        if queues is not None:
            self.dashboard.apply_queues_view(queues)
        if agents is not None:
            self.dashboard.apply_agents_view(agents)


def supervisor_bindings() -> list[Binding]:
    """Every binding the supervisor screens declare (screen first, then the help modal)."""
    return [
        spec.binding() for spec in SPECS if spec.scope in ("supervisor", "supervisor-help")
    ]
