"""The screen agents live in: status bar, chat panes, customer sidebar, queue.

Every action here acts on the *active* pane (the one last focused); the
footer shows these keys, the command palette lists them all and ``?`` shows
them with their ids.  Network calls run in workers; errors come back as
notifications whose text is the backend's sentence, shown as plain text.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from console.backends.base import BackendError, ConnectionState
from console.core import expectations
from console.core.changes import RowLog, WorkspaceChanges
from console.core.placeholders import fill, values_for
from console.core.store import StoredMessage
from console.core.workspace import tr
from console.protocol import models as m
from console.ui.bindings import bindings_for, translate_bindings
from console.ui.errors import guarded
from console.ui.screens.followups import DueListScreen, EscalateScreen, FollowUpScreen
from console.ui.screens.jump import JumpOverlay, jump_targets
from console.ui.widgets.canned import CannedReplyChosen, CannedReplyProvider, open_canned_palette
from console.ui.widgets.composer import Composer
from console.ui.widgets.pane import ChatPane, item_id, transcript_item
from console.ui.widgets.pane_grid import PaneGrid
from console.ui.widgets.queue_panel import QueueList, QueuePanel
from console.ui.widgets.sidebar import CustomerSidebar, NoteInput, PastConversations
from console.ui.widgets.status_bar import ConnectionBanner, StatusBar
from console.ui.widgets.transcript import TranscriptView

if TYPE_CHECKING:
    from console.core.workspace import WorkspaceController


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    """The parts of the config the workspace reads."""

    warning_seconds: float = 60.0
    critical_seconds: float = 180.0
    bell: bool = True
    toasts: bool = True
    sound: bool = False

    @classmethod
    def from_config(cls, config: Any) -> WorkspaceSettings:
        if config is None:
            return cls()
        sla = getattr(config, "sla", None)
        notifications = getattr(config, "notifications", None)
        return cls(
            warning_seconds=float(getattr(sla, "warning_seconds", 60.0)),
            critical_seconds=float(getattr(sla, "critical_seconds", 180.0)),
            bell=bool(getattr(notifications, "bell", True)),
            toasts=bool(getattr(notifications, "toasts", True)),
            sound=bool(getattr(notifications, "sound", False)),
        )


def agent_choice(agent: m.AgentStats) -> Content:
    """A transfer list row for a colleague: name, status, load (untrusted name as Content)."""
    status = tr(f"status_{agent.status}")
    if not agent.accepting:
        status += " · " + tr("accepting_off")
    style = "$success" if agent.status == "online" and agent.accepting else "$warning"
    return Content.assemble(
        (tr("agent") + ": ", "dim"),
        agent.name,
        "  ",
        (status, style),
        (f"  {agent.load}/{agent.capacity}", "dim"),
    )


class TransferScreen(ModalScreen[m.TransferRequest | None]):
    """Pick a department (its queue) or a colleague who is not offline; Enter transfers
    to the highlighted one (also from the note field)."""

    DEFAULT_CSS = """
    TransferScreen { align: center middle; }
    TransferScreen > Vertical { width: 72; max-width: 100%; height: 22; max-height: 100%;
                                border: round $accent; background: $surface; padding: 0 1; }
    TransferScreen #transfer-title { text-style: bold; margin-bottom: 1; }
    TransferScreen OptionList { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        departments: list[m.Department],
        agents: list[m.AgentStats],
        customer_name: str = "",
    ) -> None:
        super().__init__(id="transfer-dialog")
        self.departments = departments
        self.agents = agents
        self.customer_name = customer_name

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content(tr("transfer_title_named", name=self.customer_name)), id="transfer-title"
            )
            options = [
                Option(Content.assemble((tr("department") + ": ", "dim"), d.name), id=f"d:{d.id}")
                for d in self.departments
            ] + [Option(agent_choice(a), id=f"a:{a.agent_id}") for a in self.agents]
            yield OptionList(*options, id="transfer-targets")
            yield Input(placeholder=tr("transfer_note"), id="transfer-note")

    def on_mount(self) -> None:
        targets = self.query_one("#transfer-targets", OptionList)
        if targets.option_count:
            targets.highlighted = 0
        targets.focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self._transfer_to(event.option.id or "")

    @on(Input.Submitted, "#transfer-note")
    def note_submitted(self) -> None:
        targets = self.query_one("#transfer-targets", OptionList)
        if targets.highlighted is not None:
            self._transfer_to(targets.get_option_at_index(targets.highlighted).id or "")

    def _transfer_to(self, target: str) -> None:
        note = self.query_one("#transfer-note", Input).value
        kind, _, ident = target.partition(":")
        if kind == "d":
            self.dismiss(m.TransferRequest(department_id=ident, note=note))
        elif kind == "a":
            self.dismiss(m.TransferRequest(agent_id=ident, note=note))

    def action_cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True, slots=True)
class CloseChoice:
    """What the close dialog decided: the request, and the farewell to send first (if any)."""

    request: m.CloseRequest
    farewell: str | None = None


class CloseScreen(ModalScreen[CloseChoice | None]):
    """Confirm closing the named chat: a farewell first (in the customer's language),
    transcript e-mail and satisfaction survey.  Enter closes (the Close button has focus;
    Enter in the e-mail field too)."""

    DEFAULT_CSS = """
    CloseScreen { align: center middle; }
    CloseScreen > Vertical { width: 72; max-width: 100%; height: auto; max-height: 100%;
                             border: round $accent; background: $surface; padding: 1; }
    CloseScreen #close-title { text-style: bold; }
    CloseScreen #farewell-text { color: $text-muted; padding-left: 4; }
    CloseScreen Horizontal { height: auto; }
    CloseScreen Checkbox { border: none; padding: 0; }  /* one row each: fits 80x24 */
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, email: str, customer_name: str = "", farewell: str = "") -> None:
        super().__init__(id="close-dialog")
        self.email = email
        self.customer_name = customer_name
        self.farewell = farewell

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content(tr("close_title_named", name=self.customer_name)), id="close-title"
            )
            if self.farewell:
                yield Checkbox(tr("close_send_farewell"), value=True, id="send-farewell")
                yield Static(Content(self.farewell), id="farewell-text")
            yield Checkbox(
                tr("close_send_transcript"), value=bool(self.email), id="send-transcript"
            )
            yield Input(value=self.email, placeholder=tr("close_email"), id="transcript-email")
            yield Checkbox(tr("close_request_csat"), value=True, id="request-csat")
            with Horizontal():
                yield Button(tr("close_confirm"), variant="error", id="confirm-close")
                yield Button(tr("cancel"), id="cancel-close")

    def on_mount(self) -> None:
        self.query_one("#confirm-close", Button).focus()  # Enter closes

    @on(Input.Submitted, "#transcript-email")
    @on(Button.Pressed, "#confirm-close")
    def confirm(self) -> None:
        send = self.query_one("#send-transcript", Checkbox).value
        email = self.query_one("#transcript-email", Input).value.strip()
        farewell = None
        if self.farewell and self.query_one("#send-farewell", Checkbox).value:
            farewell = self.farewell
        self.dismiss(
            CloseChoice(
                m.CloseRequest(
                    send_transcript=send and bool(email),
                    # The field shows the sanitized address; unchanged, let the server use
                    # the one it stored (a hostile address would not round-trip).
                    transcript_email=(email if email != self.email else None) or None,
                    request_csat=self.query_one("#request-csat", Checkbox).value,
                ),
                farewell,
            )
        )

    @on(Button.Pressed, "#cancel-close")
    def action_cancel(self) -> None:
        self.dismiss(None)


class MinutesScreen(ModalScreen[int | None]):
    """Ask how many minutes to promise (Enter keeps the default, Esc cancels)."""

    DEFAULT_CSS = """
    MinutesScreen { align: center middle; }
    MinutesScreen > Vertical {
        width: 50; height: auto; border: round $accent; background: $surface; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, default: int) -> None:
        super().__init__()
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(tr("minutes_title")))
            yield Input(value=str(self.default), type="integer", id="minutes")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Submitted)
    def submitted(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            minutes = int(event.value)
        except ValueError:
            minutes = 0
        if not 1 <= minutes <= expectations.MAX_MINUTES:
            self.notify(
                tr("minutes_invalid", max=expectations.MAX_MINUTES),
                severity="warning",
                markup=False,
            )
            return
        self.dismiss(minutes)

    def action_cancel(self) -> None:
        self.dismiss(None)


class PastConversationScreen(ModalScreen[None]):
    """A past conversation, read-only (messages sanitized like live ones)."""

    DEFAULT_CSS = """
    PastConversationScreen { align: center middle; }
    PastConversationScreen > Vertical {
        width: 90%; height: 90%; border: round $accent; background: $surface;
    }
    PastConversationScreen TranscriptView { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q", "dismiss_past", "Close")]

    def __init__(
        self, title: Content, messages: list[StoredMessage], at: str | None = None
    ) -> None:
        super().__init__(id="past-window")
        self.title_content = title
        self.messages = messages
        self.at = at
        """Message id to show first (a search hit)."""

    def compose(self) -> ComposeResult:
        items = [transcript_item(stored) for stored in self.messages]
        with Vertical():
            yield Static(self.title_content)
            yield TranscriptView(items, id="past-body")

    def on_mount(self) -> None:
        if self.at is not None:
            self.call_after_refresh(self.show_hit)

    def show_hit(self) -> bool:
        """Scroll the hit to the top of the window; False if it is not among the messages."""
        for stored in self.messages:
            if stored.message.id == self.at:
                return self.query_one(TranscriptView).scroll_to_item(item_id(stored))
        return False

    def action_dismiss_past(self) -> None:
        self.dismiss(None)


MY_OUTCOMES_SECONDS = 60.0
"""How often the status bar's own figures for today are asked again."""
QUEUE_REFRESH_SECONDS = 0.25
"""The queue list is rebuilt at most this often (it also ticks once a second)."""


class AgentScreen(Screen[None]):
    """Status bar, pane grid, sidebar (customer + queue), footer."""

    BINDING_SCOPE = "screen"
    BINDINGS = bindings_for("screen")
    COMMANDS = Screen.COMMANDS | {CannedReplyProvider}

    DEFAULT_CSS = """
    AgentScreen #body { height: 1fr; }
    AgentScreen #side { width: 38; border-left: solid $panel-lighten-2; }
    AgentScreen #side.-hidden { display: none; }
    AgentScreen.-narrow #side { display: none; }
    AgentScreen.-narrow.-side-forced #side { display: block; width: 32; }
    """

    def __init__(self, controller: WorkspaceController, settings: WorkspaceSettings) -> None:
        super().__init__(id="agent-screen")
        translate_bindings(self)
        self.controller = controller
        self.settings = settings
        self.canned_replies: list[m.CannedReply] = []
        self._apply_lock = asyncio.Lock()
        self.ready = False
        self._queue_dirty = True
        """True once the whole tree is composed and the first state was applied."""
        self._queue_rows = RowLog()  # queue rows named since the last queue refresh
        self._sidebar_record: m.Conversation | None = None  # the record the sidebar shows

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
        yield ConnectionBanner(id="connection-banner")
        with Horizontal(id="body"):
            grid = PaneGrid(self.controller, id="pane-grid")
            grid.warning_seconds = self.settings.warning_seconds
            grid.critical_seconds = self.settings.critical_seconds
            yield grid
            with Vertical(id="side"):
                yield CustomerSidebar(id="sidebar")
                yield QueuePanel(id="queue")
        yield Footer()

    @property
    def grid(self) -> PaneGrid:
        return self.query_one(PaneGrid)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def sidebar(self) -> CustomerSidebar:
        return self.query_one(CustomerSidebar)

    @property
    def queue_panel(self) -> QueuePanel:
        return self.query_one(QueuePanel)

    @property
    def active_pane(self) -> ChatPane | None:
        active = self.grid.active_id
        return self.grid.pane_for(active) if active else None

    def on_mount(self) -> None:
        self.set_interval(1.0, self.tick)
        self.set_interval(QUEUE_REFRESH_SECONDS, self._refresh_queue_if_dirty)
        self.set_interval(MY_OUTCOMES_SECONDS, self._load_my_outcomes)
        self._load_my_outcomes()
        self.show_connection(self.controller.connection)
        self._update_narrow()
        # Whatever the controller loaded before this screen existed; from then on
        # the app forwards every flush (see ``ready``).
        self.call_after_refresh(self._first_apply)
        self.load_canned_replies()

    @guarded
    def show_connection(self, state: ConnectionState) -> None:
        self.status_bar.indicator.state = state
        self.query_one(ConnectionBanner).state = state

    async def _first_apply(self) -> None:
        self.ready = True
        await self.apply_changes(WorkspaceChanges.everything(self.controller.pane_order))

    # Actions that need a backend capability; without it the key and palette entry are hidden.
    _NEEDS_CAPABILITY = {
        "create_follow_up": "follow_ups",
        "show_follow_ups": "follow_ups",
        "open_follow_up_customer": "follow_ups",
        "escalate_chat": "escalation",
        "search_transcripts": "search",
        "save_attachment": "attachments",
        "send_file": "attachments",
        "edit_customer_tags": "customers",
    }

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        from console.backends.base import Capability

        needed = self._NEEDS_CAPABILITY.get(action)
        if needed is not None and not self.controller.can(Capability(needed)):
            return False
        return True

    def on_resize(self) -> None:
        self._update_narrow()

    def _update_narrow(self) -> None:
        self.set_class(self.size.width < 110, "-narrow")

    @guarded
    def tick(self) -> None:
        """Once a second: timers, colours, promise alerts."""
        if not self.ready or not self.app._running:
            return
        self.grid.tick()
        self._refresh_queue()
        self._follow_up_reminders()
        self.controller.save_drafts()  # only writes when a draft changed
        for conversation_id in self.controller.due_promises():
            conversation = self.controller.conversation(conversation_id)
            name = conversation.customer_name if conversation else "?"
            keys = self._keys_for("promise-follow-up")
            self.app.notify(
                tr("promise_due", name=name, keys=keys),
                severity="warning",
                markup=False,
                timeout=10,
            )
            if self.settings.bell:
                self.app.bell()
            if self.grid.active_id != conversation_id:
                self.grid.activate(conversation_id, focus=not isinstance(self.focused, Input))

    def _keys_for(self, binding_id: str) -> str:
        from console.ui.bindings import effective_keys

        keys = effective_keys(getattr(self.app, "keymap", {})).get(binding_id, [])
        return ", ".join(self.app.get_key_display(Binding(key, "")) for key in keys)

    # ------------------------------------------------------------------ refresh from controller
    @guarded
    async def apply_changes(self, changes: WorkspaceChanges) -> None:
        """Apply exactly what the controller reports as changed (serialized: mounts are
        awaited)."""
        async with self._apply_lock:
            if not self.is_attached or self not in self.app.screen_stack:
                return  # queued before this screen left the stack: nothing to draw into
            try:
                await self._apply_changes(changes)
            except NoMatches:  # the screen is being torn down (app exit)
                if self.app._running:  # private: no public "shutting down" flag in Textual 8
                    raise

    async def _apply_changes(self, changes: WorkspaceChanges) -> None:
        controller = self.controller
        grid = self.grid
        dirty, lists = changes.dirty, changes.lists
        if lists or any(
            cid not in {p.conversation_id for p in grid.panes}
            for cid in dirty
            if cid in controller.pane_order
        ):
            had_active = grid.active_id
            await grid.sync(controller.pane_order)
            if grid.active_id and grid.active_id != had_active:
                grid.activate(
                    grid.active_id, focus=not isinstance(self.focused, Input | OptionList)
                )
        for cid in dirty:
            pane = grid.pane_for(cid)
            if pane is not None:
                rows = changes.messages.get(cid)
                if rows is not None:
                    pane.apply_messages(rows)  # exactly the named messages, no re-diff
                pane.tick()
        if lists:
            self._queue_dirty = True  # rebuilt by the 4 Hz timer: a busy queue costs 4 redraws/s
        self._queue_rows.merge(changes.queue)  # applied row by row by the same timer
        if lists or changes.queue:  # a message in one of my chats touches neither
            self._refresh_status()
        active = grid.active_id
        shown = self._sidebar_target()
        if shown != self.sidebar.conversation_id or self._sidebar_touched(shown, changes):
            self.refresh_sidebar()
        if (
            active in dirty
            and self.app.screen is self  # not under help or a dialog: the agent reads it
            and controller.store.unread(active)
            and self._focus_in_pane(active)
        ):
            # The agent is looking at it: read, not unread (the controller sends at most
            # one receipt per chat per second).
            self._mark_read(active)

    def _sidebar_touched(self, conversation_id: str | None, changes: WorkspaceChanges) -> bool:
        """Did anything the sidebar shows for this chat change: the chat's record, its
        customer (profile, notes, past list, follow-ups) or one of their past chats?"""
        if conversation_id is None:
            return False
        conversation = self.controller.conversation(conversation_id)
        if conversation is None:
            return conversation_id in changes.conversations
        if conversation_id in changes.conversations and conversation is not self._sidebar_record:
            return True  # a new record (the Store keeps the object while only counters move)
        customer_id = conversation.customer_id
        if customer_id in changes.customers:
            return True
        past = self.controller.past.get(customer_id) or ()
        return bool(changes.conversations) and any(
            c.id in changes.conversations for c in past if c.id != conversation_id
        )

    def _focus_in_pane(self, conversation_id: str) -> bool:
        node: Any = self.focused
        while node is not None and not isinstance(node, ChatPane):
            node = node.parent
        return isinstance(node, ChatPane) and node.conversation_id == conversation_id

    def _refresh_queue_if_dirty(self) -> None:
        if not self.ready:
            return
        if self._queue_dirty:
            self._queue_dirty = False
            self._refresh_queue()
        elif self._queue_rows:
            controller = self.controller
            self.queue_panel.apply_rows(
                self._queue_rows.freeze(),
                controller.queued(),
                controller.clock(),
                self.settings.warning_seconds,
                self.settings.critical_seconds,
                controller.queue_line,
            )
            for conversation_id in controller.undescribed_queue():
                self._describe_queued(conversation_id)
        self._queue_rows = RowLog()

    def _refresh_queue(self) -> None:
        controller = self.controller
        self.queue_panel.show(
            controller.queued(),
            controller.clock(),
            self.settings.warning_seconds,
            self.settings.critical_seconds,
            controller.queue_line,
        )
        for conversation_id in controller.undescribed_queue():
            self._describe_queued(conversation_id)

    @work(group="queue-lines")
    async def _describe_queued(self, conversation_id: str) -> None:
        await self.controller.describe_queued(conversation_id)

    def _refresh_status(self) -> None:
        controller = self.controller
        self.status_bar.show_me(
            controller.me,
            len(controller.pane_order),
            len(controller.queued()),
            controller.my_today,
        )

    @work(group="my-outcomes", exclusive=True)
    async def _load_my_outcomes(self) -> None:
        """My first-response and average-response times today (at start, every minute and
        after a close), shown in the status bar."""
        await self.controller.load_my_outcomes()
        self._refresh_status()

    def _pane_of(self, widget: Any) -> ChatPane | None:
        node = widget
        while node is not None and not isinstance(node, ChatPane):
            node = node.parent
        return node if isinstance(node, ChatPane) else None

    def _sidebar_target(self) -> str | None:
        """The chat whose customer the sidebar shows: the focused pane's; else the one shown
        (focus in the note input or the queue must not swap the customer), else the active."""
        pane = self._pane_of(self.focused)
        if pane is not None:
            return pane.conversation_id
        shown = self.sidebar.conversation_id
        if shown is not None and shown in self.controller.pane_order:
            return shown
        return self.grid.active_id

    def refresh_sidebar(self) -> None:
        target = self._sidebar_target()
        conversation = self.controller.conversation(target) if target else None
        self._sidebar_record = conversation
        if conversation is None:
            self.sidebar.show(None, None, [], None)
            return
        store = self.controller.store
        customer_id = conversation.customer_id
        customer = store.customer(customer_id)
        self.sidebar.show(
            conversation,
            customer,
            store.customer_notes(customer_id),
            self.controller.past_for(customer_id),
            follow_ups=self.controller.customer_follow_ups.get(customer_id),
        )
        if self.controller.wants_customer(customer_id):
            self._load_customer(customer_id)

    @work(group="customer")
    async def _load_customer(self, customer_id: str) -> None:
        try:
            await self.controller.load_customer(customer_id)
        except BackendError as error:
            self.app.notify(str(error), severity="warning", markup=False)
            return
        self.refresh_sidebar()

    # ------------------------------------------------------------------ focus tracking
    def on_descendant_focus(self, event: Any) -> None:
        widget: Widget | None = event.widget if hasattr(event, "widget") else None
        node = self._pane_of(widget)
        if node is None:
            return
        if node.conversation_id != self.grid.active_id:
            self.grid.active_id = node.conversation_id
            self.grid.refresh_tabs()
        if node.conversation_id != self.sidebar.conversation_id:
            # activate() sets active_id before focusing, so compare with what is shown.
            self.refresh_sidebar()
        if self.controller.store.unread(node.conversation_id):
            self._mark_read(node.conversation_id)

    @work(group="read")
    async def _mark_read(self, conversation_id: str) -> None:
        await self.controller.mark_read(conversation_id)

    # ------------------------------------------------------------------ composer
    @on(Composer.Submitted)
    def composer_submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        composer = event.composer
        if composer.conversation_id is None:
            return
        if self.submit_text(
            composer.conversation_id, event.text, composer=composer, internal=event.internal
        ):
            composer.set_reply("")
            # A real answer keeps the promise (a note does not); expectation keys start a new one.
            if not event.internal:
                self.controller.promises.fulfil(composer.conversation_id)

    @on(Composer.Typing)
    def composer_typing(self, event: Composer.Typing) -> None:
        event.stop()
        if event.conversation_id is not None:
            self._typing(event.conversation_id, event.active)

    @work(group="typing")
    async def _typing(self, conversation_id: str, active: bool) -> None:
        await self.controller.typing(conversation_id, active)

    @on(Composer.CannedRequested)
    def composer_canned(self, event: Composer.CannedRequested) -> None:
        event.stop()
        self.open_canned(event.composer, query=event.query)

    @on(TranscriptView.OlderRequested)
    def older_requested(self, event: TranscriptView.OlderRequested) -> None:
        event.stop()
        node: Any = event.transcript
        while node is not None and not isinstance(node, ChatPane):
            node = node.parent
        if isinstance(node, ChatPane):
            self._load_older(node.conversation_id)

    @work(group="history")
    async def _load_older(self, conversation_id: str) -> None:
        try:
            await self.controller.load_messages(conversation_id, older=True)
        except BackendError as error:
            self.app.notify(str(error), severity="warning", markup=False)
            return
        pane = self.grid.pane_for(conversation_id)
        if pane is not None:
            pane.prepend_older()

    def submit_text(
        self,
        conversation_id: str,
        text: str,
        *,
        composer: Composer | None = None,
        internal: bool = False,
    ) -> bool:
        """Fill placeholders, refuse unknown or unfilled ones, then send.  True if sent."""
        body = text.strip()
        if not body:
            return False
        conversation = self.controller.conversation(conversation_id)
        if conversation is None:
            return False
        result = fill(body, self.placeholder_values(conversation))
        if not result.ok:
            names = ", ".join("{" + problem.name + "}" for problem in result.problems)
            self.app.notify(tr("placeholder_refused", names=names), severity="error", markup=False)
            if composer is not None:
                offset = len(text) - len(text.lstrip())
                first = result.problems[0]
                composer.select_range(first.start + offset, first.end + offset)
            return False
        self._send(conversation_id, result.text, internal)
        return True

    def placeholder_values(self, conversation: m.Conversation) -> dict[str, str | None]:
        store = self.controller.store
        return values_for(conversation, store.me, store.customer(conversation.customer_id))

    @work(group="send")
    async def _send(self, conversation_id: str, body: str, internal: bool = False) -> None:
        try:
            await self.controller.send(conversation_id, body, internal=internal)
        except BackendError as error:
            self.app.notify(tr("send_failed", reason=str(error)), severity="error", markup=False)

    # ------------------------------------------------------------------ canned replies
    def open_canned(self, composer: Composer | None = None, *, query: str = "") -> None:
        pane = self.active_pane
        target = composer or (pane.composer if pane is not None else None)
        if target is None:
            self.app.notify(tr("no_active_chat"), severity="warning", markup=False)
            return

        def chosen(reply: m.CannedReply) -> None:
            self.insert_canned(target, reply)

        # Read the query when the palette mounts: keys typed after the ``#``
        # while it opened are part of it.  Closing removes the ``#word``.
        open_canned_palette(
            self.app,
            self.canned_replies,
            chosen,
            query=(lambda: target.canned_query() or query) if composer is not None else query,
            on_close=target.clear_canned_trigger if composer is not None else None,
        )
        self.load_canned_replies()  # pick up replies added meanwhile for next time

    @on(CannedReplyChosen)
    def canned_chosen(self, event: CannedReplyChosen) -> None:
        """A canned reply picked from the main command palette."""
        pane = self.active_pane
        if pane is not None:
            self.insert_canned(pane.composer, event.reply)

    def insert_canned(self, composer: Composer, reply: m.CannedReply) -> None:
        """Fill what we can; unfilled placeholders stay visible and block sending."""
        conversation = (
            self.controller.conversation(composer.conversation_id)
            if composer.conversation_id
            else None
        )
        if conversation is None:
            return
        result = fill(reply.body, self.placeholder_values(conversation))
        composer.set_reply(result.text)
        composer.focus()
        if not result.ok:
            names = ", ".join("{" + problem.name + "}" for problem in result.problems)
            self.app.notify(tr("placeholder_left", names=names), severity="warning", markup=False)
            again = fill(result.text, self.placeholder_values(conversation))
            if again.problems:
                composer.select_range(again.problems[0].start, again.problems[0].end)

    @work(group="canned", exclusive=True)
    async def load_canned_replies(self) -> None:
        try:
            replies = await self.controller.canned_replies()
        except BackendError as error:
            self.app.notify(str(error), severity="warning", markup=False)
            return
        if replies is not None:
            self.canned_replies = replies

    # ------------------------------------------------------------------ actions
    def action_toggle_maximize(self) -> None:
        grid = self.grid
        if grid.active_id is None:
            return
        grid.maximized = not grid.maximized
        grid.relayout()
        grid.activate(grid.active_id)

    def action_cycle_chat(self, delta: int) -> None:
        order = self.controller.pane_order
        if not order:
            return
        active = self.grid.active_id
        index = order.index(active) if active in order else 0
        self.grid.activate(order[(index + delta) % len(order)])

    def action_focus_chat(self, number: int) -> None:
        order = self.controller.pane_order
        if 1 <= number <= len(order):
            self.grid.activate(order[number - 1])

    async def action_move_chat(self, delta: int) -> None:
        active = self.grid.active_id
        if active is None:
            return
        self.controller.move(active, delta)
        await self.grid.sync(self.controller.pane_order)
        self.grid.activate(active)

    def action_most_at_risk(self) -> None:
        target = self.controller.most_at_risk(self.settings.critical_seconds)
        if target is not None:
            self.grid.activate(target)

    def action_toggle_sidebar(self) -> None:
        side = self.query_one("#side")
        if self.has_class("-narrow"):
            self.toggle_class("-side-forced")
        else:
            side.toggle_class("-hidden")

    def action_focus_queue(self) -> None:
        self.remove_class("-side-forced") if False else None
        if self.has_class("-narrow"):
            self.add_class("-side-forced")
        self.query_one("#side").remove_class("-hidden")
        self.queue_panel.queue_list.focus()

    def action_toggle_note_mode(self) -> None:
        """Composer of the focused chat: reply ↔ internal note."""
        pane = self.active_pane
        if pane is None:
            self.app.notify(tr("no_active_chat"), severity="warning", markup=False)
            return
        pane.composer.set_note_mode(not pane.composer.note_mode)
        pane.composer.focus()

    def action_add_note(self) -> None:
        if self.has_class("-narrow"):
            self.add_class("-side-forced")
        self.query_one("#side").remove_class("-hidden")
        self.query_one(NoteInput).focus()

    def action_jump(self) -> None:
        def jumped(widget: Widget | None) -> None:
            if widget is None:
                return
            if isinstance(widget, ChatPane):
                self.grid.activate(widget.conversation_id)
            elif isinstance(widget, QueuePanel):
                self.action_focus_queue()
            elif isinstance(widget, CustomerSidebar):
                self.query_one(NoteInput).focus()
            else:
                widget.focus()

        self.app.push_screen(JumpOverlay(jump_targets(self)), jumped)

    def action_expectation(self, template_id: str) -> None:
        """Send an expectation template to the customer and start the promise timer.

        A template that asks for minutes ("about N minutes") first asks the agent
        for N (Enter keeps the default)."""
        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if pane is None or conversation is None:
            self.app.notify(tr("no_active_chat"), severity="warning", markup=False)
            return
        template = expectations.template(template_id)
        if not template.ask_minutes:
            self._promise(pane, template, None)
            return

        def chosen(minutes: int | None) -> None:
            if minutes is not None:
                self._promise(pane, template, minutes)

        self.app.push_screen(MinutesScreen(template.minutes), chosen)

    def _promise(
        self, pane: ChatPane, template: expectations.ExpectationTemplate, minutes: int | None
    ) -> None:
        cid = pane.conversation_id
        lang = self.controller.customer_language(cid)
        if self.submit_text(cid, template.text(lang, minutes)):
            self.controller.promises.promise(cid, template, self.controller.clock(), minutes)
            self.controller.alerted.discard(cid)
            pane.tick()

    def action_expect_researching(self) -> None:
        self.action_expectation("researching")

    def action_expect_colleague(self) -> None:
        self.action_expectation("colleague")

    def action_expect_minutes(self) -> None:
        self.action_expectation("minutes")

    def action_follow_up(self) -> None:
        """Send the running promise's follow-up and count down again."""
        pane = self.active_pane
        if pane is None:
            return
        cid = pane.conversation_id
        timer = self.controller.promises.get(cid)
        if timer is None:
            self.app.notify(tr("no_promise"), severity="information", markup=False)
            return
        if self.submit_text(cid, timer.follow_up_text(self.controller.customer_language(cid))):
            self.controller.promises.follow_up_sent(cid, self.controller.clock())
            self.controller.alerted.discard(cid)
            pane.tick()

    def action_retry_failed(self) -> None:
        pane = self.active_pane
        if pane is None:
            return
        stored = self.controller.last_failed(pane.conversation_id)
        if stored is None:
            self.app.notify(tr("nothing_failed"), markup=False)
            return
        self._retry(pane.conversation_id, stored)

    @work(group="send")
    async def _retry(self, conversation_id: str, stored: StoredMessage) -> None:
        try:
            await self.controller.retry(conversation_id, stored)
        except BackendError as error:
            self.app.notify(tr("send_failed", reason=str(error)), severity="error", markup=False)

    def action_discard_failed(self) -> None:
        pane = self.active_pane
        if pane is None:
            return
        stored = self.controller.last_failed(pane.conversation_id)
        if stored is None:
            self.app.notify(tr("nothing_failed"), markup=False)
            return
        self._discard(stored)

    @work(group="send")
    async def _discard(self, stored: StoredMessage) -> None:
        try:
            await self.controller.discard(stored)
        except BackendError as error:
            self.app.notify(str(error), severity="error", markup=False)
            return
        self.app.notify(tr("discarded"), markup=False)

    def action_accept_next(self) -> None:
        queued = self.controller.queued()
        if not queued:
            self.app.notify(tr("queue_empty"), markup=False)
            return
        self._accept(queued[0].id)

    @on(QueueList.AcceptRequested)
    def accept_requested(self, event: QueueList.AcceptRequested) -> None:
        self._accept(event.conversation_id)

    def _accept(self, conversation_id: str) -> None:
        me = self.controller.me
        if me is not None and self.controller.capacity_left() <= 0:
            self.app.notify(
                tr("capacity_full", active=len(self.controller.pane_order), capacity=me.capacity),
                severity="warning",
                markup=False,
            )
            return
        self._accept_worker(conversation_id)

    @work(group="accept")
    async def _accept_worker(self, conversation_id: str) -> None:
        try:
            conversation = await self.controller.accept(conversation_id)
        except BackendError as error:
            if error.code == "capacity_full":
                me = self.controller.me
                self.app.notify(
                    tr(
                        "capacity_full",
                        active=len(self.controller.pane_order),
                        capacity=me.capacity if me else 0,
                    ),
                    severity="warning",
                    markup=False,
                )
            else:
                self.app.notify(
                    tr("accept_failed", reason=str(error)), severity="error", markup=False
                )
            return
        self.controller.flush()
        await self.apply_changes(
            WorkspaceChanges(
                dirty=frozenset({conversation.id}),
                conversations=frozenset({conversation.id}),
                lists=True,
            )
        )
        self.grid.activate(conversation.id)

    def action_close_chat(self) -> None:
        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if conversation is None:
            return

        def closed(choice: CloseChoice | None) -> None:
            if choice is not None:
                self._close_worker(conversation.id, choice)

        self.app.push_screen(
            CloseScreen(
                conversation.customer_email,
                conversation.customer_name,
                self.controller.farewell(conversation.id),
            ),
            closed,
        )

    @work(group="close")
    async def _close_worker(self, conversation_id: str, choice: CloseChoice) -> None:
        try:
            if choice.farewell:
                await self.controller.send(conversation_id, choice.farewell)
            conversation = await self.controller.close(conversation_id, choice.request)
        except BackendError as error:
            self.app.notify(tr("close_failed", reason=str(error)), severity="error", markup=False)
            return
        self.app.notify(tr("closed", name=conversation.customer_name), markup=False)
        self._load_my_outcomes()

    def action_transfer_chat(self) -> None:
        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if conversation is None:
            return
        self._transfer_dialog(conversation.id)

    @work(group="transfer")
    async def _transfer_dialog(self, conversation_id: str) -> None:
        departments, agents = await self.controller.transfer_choices(conversation_id)
        conversation = self.controller.conversation(conversation_id)
        name = conversation.customer_name if conversation else ""
        request = await self.app.push_screen_wait(TransferScreen(departments, agents, name))
        if request is None:
            return
        try:
            conversation = await self.controller.transfer(conversation_id, request)
        except BackendError as error:
            self.app.notify(
                tr("transfer_failed", reason=str(error)), severity="error", markup=False
            )
            return
        self.app.notify(tr("transferred", name=conversation.customer_name), markup=False)

    # ------------------------------------------------------------------ follow-ups, escalation
    def _follow_up_reminders(self) -> None:
        """A toast per follow-up that fell due (one key opens the customer); missed ones
        (still open ``MISSED_AFTER`` past due) get an error toast once."""
        from console.core.followups import FollowUpTracker

        now = self.controller.clock()
        for follow_up in self.controller.due_follow_ups():
            self.last_due_follow_up = follow_up
            missed = FollowUpTracker.missed(follow_up, now)
            text = tr(
                "follow_up_missed_notice" if missed else "follow_up_reminder",
                name=follow_up.customer_name,
                channel=tr(f"channel_{follow_up.channel}"),
                keys=self._keys_for("open-follow-up-customer"),
                time=follow_up.due_at.strftime("%H:%M"),
            )
            self.app.notify(
                text, severity="error" if missed else "warning", markup=False, timeout=30
            )
            if self.settings.bell:
                self.app.bell()
        for follow_up in self.controller.follow_ups.open():
            key = "missed:" + follow_up.id
            if key in self.controller.follow_ups.reminded:
                continue
            if FollowUpTracker.missed(follow_up, now):
                self.controller.follow_ups.reminded.add(key)
                self.app.notify(
                    tr(
                        "follow_up_missed_notice",
                        name=follow_up.customer_name,
                        channel=tr(f"channel_{follow_up.channel}"),
                        time=follow_up.due_at.strftime("%H:%M"),
                    ),
                    severity="error",
                    markup=False,
                    timeout=30,
                )

    def _follow_ups_supported(self) -> bool:
        from console.backends.base import Capability

        if self.controller.can(Capability.FOLLOW_UPS):
            return True
        self.app.notify(tr("follow_up_unsupported"), severity="warning", markup=False)
        return False

    def action_create_follow_up(self) -> None:
        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if conversation is None or not self._follow_ups_supported():
            return
        self._follow_up_dialog(conversation.id)

    @work(group="follow-up")
    async def _follow_up_dialog(self, conversation_id: str) -> None:
        conversation = self.controller.conversation(conversation_id)
        if conversation is None:
            return
        request = await self.app.push_screen_wait(
            FollowUpScreen(
                conversation.customer_name,
                self.controller.clock(),
                self.controller.follow_up_zone(conversation_id),
            )
        )
        if request is None:
            return
        try:
            await self.controller.create_follow_up(
                conversation_id, request.channel, request.due_at, request.note
            )
        except BackendError as error:
            self.app.notify(
                tr("follow_up_failed", reason=str(error)), severity="error", markup=False
            )
            return
        self.app.notify(tr("follow_up_saved", name=conversation.customer_name), markup=False)
        self.refresh_sidebar()

    def action_show_follow_ups(self) -> None:
        if self._follow_ups_supported():
            self._due_list()

    @work(group="due-list", exclusive=True)
    async def _due_list(self) -> None:
        await self.controller.load_follow_ups()
        screen = DueListScreen(self.controller.follow_ups.open(), self.controller.clock())
        conversation_id = await self.app.push_screen_wait(screen)
        for follow_up_id in screen.completed:
            try:
                await self.controller.complete_follow_up(follow_up_id)
            except BackendError as error:
                self.app.notify(str(error), severity="error", markup=False)
        if conversation_id:
            await self._open_customer_of(conversation_id)

    def action_open_follow_up_customer(self) -> None:
        follow_up = getattr(self, "last_due_follow_up", None)
        if follow_up is None:
            self.app.notify(tr("no_follow_up_customer"), markup=False)
            return
        self._open_follow_up_customer(follow_up.conversation_id)

    @work(group="due-open", exclusive=True)
    async def _open_follow_up_customer(self, conversation_id: str) -> None:
        await self._open_customer_of(conversation_id)

    async def _open_customer_of(self, conversation_id: str) -> None:
        """The follow-up's chat: its pane when open, else the read-only past chat."""
        if self.grid.pane_for(conversation_id) is not None:
            self.grid.activate(conversation_id)
            self.refresh_sidebar()
            return
        self._open_past_worker(conversation_id)

    def action_escalate_chat(self) -> None:
        from console.backends.base import Capability

        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if conversation is None:
            return
        if not self.controller.can(Capability.ESCALATION):
            self.app.notify(tr("escalate_failed", reason="—"), severity="warning", markup=False)
            return
        self._escalate_dialog(conversation.id)

    @work(group="escalate")
    async def _escalate_dialog(self, conversation_id: str) -> None:
        departments, agents = await self.controller.escalation_targets(conversation_id)
        request = await self.app.push_screen_wait(EscalateScreen(departments, agents))
        if request is None:
            return
        try:
            conversation = await self.controller.escalate(conversation_id, request)
        except BackendError as error:
            self.app.notify(
                tr("escalate_failed", reason=str(error)), severity="error", markup=False
            )
            return
        self.app.notify(tr("escalated", name=conversation.customer_name), markup=False)

    def action_canned_replies(self) -> None:
        self.open_canned()

    # ------------------------------------------------------------------ sidebar
    @on(NoteInput.NoteSubmitted)
    def note_submitted(self, event: NoteInput.NoteSubmitted) -> None:
        customer_id = self.sidebar.customer_id
        if customer_id is None:
            self.app.notify(tr("no_active_chat"), severity="warning", markup=False)
            return
        self._add_note(customer_id, event.body)

    @work(group="note")
    async def _add_note(self, customer_id: str, body: str) -> None:
        try:
            await self.controller.add_note(customer_id, body)
        except BackendError as error:
            self.app.notify(tr("note_failed", reason=str(error)), severity="error", markup=False)
            return
        self.refresh_sidebar()

    @on(PastConversations.OpenRequested)
    def open_past(self, event: PastConversations.OpenRequested) -> None:
        self._open_past_worker(event.conversation_id)

    # ------------------------------------------------------------------ labels
    def action_edit_customer_tags(self) -> None:
        from console.ui.screens.labels import TagsScreen  # on first use

        target = self._sidebar_target()
        conversation = self.controller.conversation(target) if target else None
        if conversation is None:
            return
        customer_id = conversation.customer_id
        customer = self.controller.store.customer(customer_id)
        name = customer.name if customer else conversation.customer_name

        def chosen(tags: list[str] | None) -> None:
            if tags is not None:
                self._save_tags(customer_id, name, tags)

        self.app.push_screen(TagsScreen(name, list(customer.tags) if customer else []), chosen)

    @work(group="tags")
    async def _save_tags(self, customer_id: str, name: str, tags: list[str]) -> None:
        try:
            await self.controller.set_customer_tags(customer_id, tags)
        except BackendError as error:
            self.app.notify(tr("tags_failed", reason=str(error)), severity="error", markup=False)
            return
        self.refresh_sidebar()
        self.app.notify(tr("tags_saved", name=name), markup=False)

    # ------------------------------------------------------------------ attachments
    def action_save_attachment(self) -> None:
        from console.core import paths
        from console.ui.screens.files import AttachmentsScreen  # on first use

        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if conversation is None:
            return
        files = self.controller.attachments_of(conversation.id)

        def chosen(attachment: m.Attachment | None) -> None:
            if attachment is not None:
                self._save_attachment(attachment)

        self.app.push_screen(
            AttachmentsScreen(conversation.customer_name, files, paths.downloads_dir()), chosen
        )

    @work(group="files")
    async def _save_attachment(self, attachment: m.Attachment) -> None:
        try:
            path = await self.controller.save_attachment(attachment)
        except (BackendError, OSError) as error:
            self.app.notify(
                tr("file_save_failed", reason=str(error)), severity="error", markup=False
            )
            return
        self.app.notify(tr("file_saved", path=str(path)), markup=False, timeout=10)

    def action_send_file(self) -> None:
        from console.ui.screens.files import SendFileScreen  # on first use

        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if conversation is None:
            return
        cid = conversation.id

        def chosen(path: Path | None) -> None:
            if path is not None:
                self._send_file(cid, path)

        self.app.push_screen(
            SendFileScreen(conversation.customer_name, self.controller.attachment_limit()), chosen
        )

    @work(group="files")
    async def _send_file(self, conversation_id: str, path: Path) -> None:
        try:
            await self.controller.send_file(conversation_id, path)
        except BackendError as error:
            self.app.notify(
                tr("file_send_failed", reason=str(error)), severity="error", markup=False
            )
            return
        self.app.notify(tr("file_sent", name=path.name), markup=False)

    # ------------------------------------------------------------------ transcript search
    def action_search_transcripts(self) -> None:
        from console.ui.screens.search import SearchScreen  # on first use

        def chosen(hit: m.SearchHit | None) -> None:
            if hit is not None:
                self._open_hit(hit)

        self.app.push_screen(SearchScreen(self.controller), chosen)

    @work(group="past", exclusive=True)
    async def _open_hit(self, hit: m.SearchHit) -> None:
        """My open chat: its pane, scrolled to the hit when loaded; anything else: the
        read-only window at the hit."""
        cid = hit.conversation_id
        if cid in self.controller.pane_order:
            self.grid.activate(cid)
            pane = self.grid.pane_for(cid)
            stored = self.controller.stored_message(cid, hit.message_id)
            if pane is not None and stored is not None:
                pane.transcript.scroll_to_item(item_id(stored))
                return
        await self._open_past(cid, at=hit.message_id)

    @work(group="past", exclusive=True)
    async def _open_past_worker(self, conversation_id: str) -> None:
        await self._open_past(conversation_id)

    async def _open_past(self, conversation_id: str, *, at: str | None = None) -> None:
        try:
            conversation, messages = await self.controller.past_conversation(
                conversation_id, around=at
            )
        except BackendError as error:
            self.app.notify(str(error), severity="error", markup=False)
            return
        title = Content.assemble(
            (conversation.customer_name, "bold"),
            " · ",
            conversation.department_name,
            " · ",
            (conversation.created_at.strftime("%Y-%m-%d %H:%M"), "dim"),
            ("  " + tr("read_only"), "$warning"),
        )
        await self.app.push_screen(PastConversationScreen(title, messages, at=at))
