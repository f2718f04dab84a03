"""The screen agents live in: status bar, chat panes, customer sidebar, queue.

Every action here acts on the *active* pane (the one last focused); the
footer shows these keys, the command palette lists them all and ``?`` shows
them with their ids.  Network calls run in workers; errors come back as
notifications whose text is the backend's sentence, shown as plain text.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from console.backends.base import BackendError, Capability
from console.protocol import models as m
from console.ui.bindings import bindings_for
from console.ui.controller import tr
from console.ui.screens.jump import JumpOverlay, jump_targets
from console.ui.widgets.pane import ChatPane, FallbackComposer
from console.ui.widgets.pane_grid import PaneGrid
from console.ui.widgets.queue_panel import QueueList, QueuePanel
from console.ui.widgets.sidebar import CustomerSidebar, NoteInput, PastConversations
from console.ui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from console.ui.controller import WorkspaceController


@dataclass(frozen=True, slots=True)
class WorkspaceSettings:
    """The parts of the config the workspace reads."""

    warning_seconds: float = 60.0
    critical_seconds: float = 180.0
    bell: bool = True
    toasts: bool = True

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
        )


# Expectation shortcuts.  console.core.expectations (client core) supplies the
# real templates; these are used only if it is absent.
_FALLBACK_EXPECTATIONS: dict[str, tuple[str, float, str]] = {
    "researching": (
        "I'm looking into this now, one moment please.",
        120.0,
        "Thanks for waiting, I'm still on it and will be back with you shortly.",
    ),
    "colleague": (
        "I'm checking this with a colleague, I'll be right back.",
        300.0,
        "Still checking with my colleague, thank you for your patience.",
    ),
    "minutes": (
        "This will take about 5 minutes, I'll update you then.",
        300.0,
        "Sorry, this is taking a little longer than I said. I'll update you soon.",
    ),
}


def expectation_template(template_id: str, lang: str, customer_name: str) -> tuple[str, float, str]:
    """(message, seconds promised, follow-up message) for an expectation key."""
    try:
        expectations = importlib.import_module("console.core.expectations")  # client core
    except ImportError:
        return _FALLBACK_EXPECTATIONS[template_id]
    get = getattr(expectations, "expectation_for", None) or getattr(
        expectations, "get_template", None
    )
    if get is None:
        return _FALLBACK_EXPECTATIONS[template_id]
    try:
        template = get(template_id, lang)
    except (KeyError, ValueError, TypeError):
        return _FALLBACK_EXPECTATIONS[template_id]
    body = getattr(template, "body", None) or getattr(template, "message", None)
    seconds = getattr(template, "seconds", None) or getattr(template, "promise_seconds", None)
    follow_up = getattr(template, "follow_up", None)
    if not (
        isinstance(body, str) and isinstance(seconds, int | float) and isinstance(follow_up, str)
    ):
        return _FALLBACK_EXPECTATIONS[template_id]
    return body, float(seconds), follow_up


class TransferScreen(ModalScreen[m.TransferRequest | None]):
    """Pick a department (its queue) or an agent."""

    DEFAULT_CSS = """
    TransferScreen { align: center middle; }
    TransferScreen > Vertical { width: 60; height: 20; border: round $accent; background: $surface; }
    TransferScreen OptionList { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, departments: list[m.Department], agents: list[m.AgentStats]) -> None:
        super().__init__()
        self.departments = departments
        self.agents = agents

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(tr("transfer_title")))
            options = [
                Option(Content.assemble((tr("department") + ": ", "dim"), d.name), id=f"d:{d.id}")
                for d in self.departments
            ] + [
                Option(
                    Content.assemble(
                        (tr("agent") + ": ", "dim"), a.name, (f"  {a.load}/{a.capacity}", "dim")
                    ),
                    id=f"a:{a.agent_id}",
                )
                for a in self.agents
            ]
            yield OptionList(*options, id="transfer-targets")
            yield Input(placeholder=tr("transfer_note"), id="transfer-note")

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        target = event.option.id or ""
        note = self.query_one("#transfer-note", Input).value
        kind, _, ident = target.partition(":")
        if kind == "d":
            self.dismiss(m.TransferRequest(department_id=ident, note=note))
        elif kind == "a":
            self.dismiss(m.TransferRequest(agent_id=ident, note=note))

    def action_cancel(self) -> None:
        self.dismiss(None)


class CloseScreen(ModalScreen[m.CloseRequest | None]):
    """Confirm closing: transcript e-mail and satisfaction survey."""

    DEFAULT_CSS = """
    CloseScreen { align: center middle; }
    CloseScreen > Vertical { width: 60; height: auto; border: round $accent; background: $surface; padding: 1; }
    CloseScreen Horizontal { height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, email: str) -> None:
        super().__init__()
        self.email = email

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(tr("close_title")))
            yield Checkbox(
                tr("close_send_transcript"), value=bool(self.email), id="send-transcript"
            )
            yield Input(value=self.email, placeholder=tr("close_email"), id="transcript-email")
            yield Checkbox(tr("close_request_csat"), value=True, id="request-csat")
            with Horizontal():
                yield Button(tr("close_confirm"), variant="error", id="confirm-close")
                yield Button(tr("cancel"), id="cancel-close")

    @on(Button.Pressed, "#confirm-close")
    def confirm(self) -> None:
        send = self.query_one("#send-transcript", Checkbox).value
        email = self.query_one("#transcript-email", Input).value.strip()
        self.dismiss(
            m.CloseRequest(
                send_transcript=send and bool(email),
                transcript_email=email or None,
                request_csat=self.query_one("#request-csat", Checkbox).value,
            )
        )

    @on(Button.Pressed, "#cancel-close")
    def action_cancel(self) -> None:
        self.dismiss(None)


class PastConversationScreen(ModalScreen[None]):
    """A closed conversation, read-only."""

    DEFAULT_CSS = """
    PastConversationScreen { align: center middle; }
    PastConversationScreen > Vertical { width: 90%; height: 90%; border: round $accent; background: $surface; }
    PastConversationScreen #past-body { height: 1fr; }
    """
    BINDINGS = [Binding("escape,q", "dismiss_past", "Close")]

    def __init__(self, title: Content, messages: list[m.Message]) -> None:
        super().__init__()
        self.title_content = title
        self.messages = messages

    def compose(self) -> ComposeResult:
        from textual.widgets import RichLog

        with Vertical():
            yield Static(self.title_content)
            yield RichLog(markup=False, wrap=True, highlight=False, id="past-body")

    def on_mount(self) -> None:
        from rich.text import Text
        from textual.widgets import RichLog

        log = self.query_one(RichLog)
        for message in self.messages:
            line = Text()
            line.append(message.created_at.strftime("%H:%M "), style="dim")
            line.append(message.author_name or message.author_kind, style="bold")
            line.append(": ")
            line.append(message.body)
            log.write(line)

    def action_dismiss_past(self) -> None:
        self.dismiss(None)


class AgentScreen(Screen[None]):
    """Status bar, pane grid, sidebar (customer + queue), footer."""

    BINDINGS = bindings_for("screen")

    DEFAULT_CSS = """
    AgentScreen #body { height: 1fr; }
    AgentScreen #side { width: 38; border-left: solid $panel-lighten-2; }
    AgentScreen #side.-hidden { display: none; }
    AgentScreen.-narrow #side { display: none; }
    AgentScreen.-narrow.-side-forced #side { display: block; width: 32; }
    """

    def __init__(self, controller: WorkspaceController, settings: WorkspaceSettings) -> None:
        super().__init__(id="agent-screen")
        self.controller = controller
        self.settings = settings
        self._past_cache: dict[str, list[m.Conversation]] = {}

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield StatusBar(id="status-bar")
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
        self.status_bar.indicator.state = self.controller.backend.connection
        self._update_narrow()
        # Whatever the controller loaded before this screen existed.
        self.call_after_refresh(self.apply_changes, frozenset(self.controller.pane_order), True)

    def on_resize(self) -> None:
        self._update_narrow()

    def _update_narrow(self) -> None:
        self.set_class(self.size.width < 110, "-narrow")

    def tick(self) -> None:
        """Once a second: timers, colours, promise alerts."""
        self.grid.tick()
        self._refresh_queue()
        for conversation_id, _promise in self.controller.due_promises():
            conversation = self.controller.conversations.get(conversation_id)
            name = conversation.customer_name if conversation else "?"
            keys = self._keys_for("promise-follow-up")
            self.app.notify(
                tr("promise_due", name=name, keys=keys),
                severity="warning",
                markup=False,
                timeout=10,
            )
            self.app.bell()
            self.grid.activate(conversation_id, focus=False)

    def _keys_for(self, binding_id: str) -> str:
        from console.ui.bindings import effective_keys

        keys = effective_keys(getattr(self.app, "keymap", {})).get(binding_id, [])
        return ", ".join(self.app.get_key_display(Binding(key, "")) for key in keys)

    # ------------------------------------------------------------------ refresh from controller
    async def apply_changes(self, dirty: frozenset[str], lists: bool) -> None:
        controller = self.controller
        grid = self.grid
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
                pane.refresh_messages()
                pane.tick()
        if lists or dirty:
            self._refresh_queue()
            self._refresh_status()
        active = grid.active_id
        if active and (active in dirty or lists):
            self.refresh_sidebar()

    def _refresh_queue(self) -> None:
        self.queue_panel.show(
            self.controller.queued(),
            self.controller.clock(),
            self.settings.warning_seconds,
            self.settings.critical_seconds,
        )

    def _refresh_status(self) -> None:
        self.status_bar.show_me(
            self.controller.me, len(self.controller.pane_order), len(self.controller.queued())
        )

    def refresh_sidebar(self) -> None:
        active = self.grid.active_id
        conversation = self.controller.conversations.get(active) if active else None
        if conversation is None:
            self.sidebar.show(None, None, [], None)
            return
        customer = self.controller.customers.get(conversation.customer_id)
        notes = self.controller.notes.get(conversation.customer_id, [])
        self.sidebar.show(
            conversation, customer, notes, self._past_cache.get(conversation.customer_id)
        )
        if customer is None and Capability.CUSTOMERS in self.controller.backend.capabilities:
            self._load_customer(conversation.customer_id)

    @work(group="customer", exclusive=True, exit_on_error=False)
    async def _load_customer(self, customer_id: str) -> None:
        try:
            await self.controller.load_customer(customer_id)
            self._past_cache[
                customer_id
            ] = await self.controller.backend.list_customer_conversations(customer_id)
        except BackendError as error:
            self.app.notify(str(error), severity="warning", markup=False)
            return
        self.refresh_sidebar()

    # ------------------------------------------------------------------ focus tracking
    def on_descendant_focus(self, event: Any) -> None:
        widget: Widget | None = event.widget if hasattr(event, "widget") else None
        node = widget
        while node is not None and not isinstance(node, ChatPane):
            node = node.parent  # type: ignore[assignment]
        if isinstance(node, ChatPane) and node.conversation_id != self.grid.active_id:
            self.grid.active_id = node.conversation_id
            self.grid.refresh_tabs()
            self.refresh_sidebar()
        if isinstance(node, ChatPane):
            state = self.controller.pane(node.conversation_id)
            if state.unread:
                state.unread = 0
                node.tick()

    # ------------------------------------------------------------------ sending
    @on(FallbackComposer.Submitted)
    def composer_submitted(self, event: FallbackComposer.Submitted) -> None:
        event.stop()
        self.submit_text(event.composer.conversation_id, event.text, clear=event.composer)

    def submit_text(self, conversation_id: str, text: str, *, clear: Any = None) -> bool:
        """Fill placeholders, refuse unknown ones, then send.  Returns True if sent."""
        body = text.strip()
        if not body:
            return False
        conversation = self.controller.conversations.get(conversation_id)
        if conversation is None:
            return False
        filled, problems = self.fill_placeholders(body, conversation)
        if problems:
            self.app.notify(
                tr("placeholder_refused", names=", ".join(problems)),
                severity="error",
                markup=False,
            )
            return False
        if clear is not None:
            clear.clear() if hasattr(clear, "clear") else None
        self._send(conversation_id, filled)
        return True

    def fill_placeholders(self, body: str, conversation: m.Conversation) -> tuple[str, list[str]]:
        """(filled text, unfilled or unknown placeholder names)."""
        me = self.controller.me
        customer = self.controller.customers.get(conversation.customer_id)
        values = {
            "customer.name": conversation.customer_name,
            "customer.first_name": conversation.customer_name.split(" ")[0]
            if conversation.customer_name
            else "",
            "customer.email": (customer.email if customer else conversation.customer_email),
            "agent.name": me.name if me else "",
            "department.name": conversation.department_name,
        }
        try:
            placeholders: Any = importlib.import_module("console.core.placeholders")
        except ImportError:
            placeholders = None
        fill = getattr(placeholders, "fill", None) if placeholders else None
        if fill is not None:
            result = fill(body, values)
            if isinstance(result, tuple):
                return result[0], list(result[1])
            text = getattr(result, "text", body)
            missing = list(getattr(result, "missing", []) or []) + list(
                getattr(result, "unknown", []) or []
            )
            return text, missing
        import re

        problems: list[str] = []

        def replace(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            value = values.get(name)
            if not value:
                problems.append("{" + name + "}")
                return match.group(0)
            return value

        filled = re.sub(r"\{([A-Za-z_][\w.]*)\}", replace, body)
        return filled, problems

    @work(group="send", exit_on_error=False)
    async def _send(self, conversation_id: str, body: str) -> None:
        try:
            await self.controller.send(conversation_id, body)
        except BackendError as error:
            self.app.notify(tr("send_failed", reason=str(error)), severity="error", markup=False)

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
        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if pane is None or conversation is None:
            self.app.notify(tr("no_active_chat"), severity="warning", markup=False)
            return
        lang = getattr(self.app, "lang", "en") or "en"
        body, seconds, follow_up = expectation_template(
            template_id, lang, conversation.customer_name
        )
        if self.submit_text(conversation.id, body):
            self.controller.start_promise(conversation.id, template_id, seconds, follow_up)
            pane.tick()

    def action_expect_researching(self) -> None:
        self.action_expectation("researching")

    def action_expect_colleague(self) -> None:
        self.action_expectation("colleague")

    def action_expect_minutes(self) -> None:
        self.action_expectation("minutes")

    def action_follow_up(self) -> None:
        pane = self.active_pane
        if pane is None:
            return
        state = self.controller.pane(pane.conversation_id)
        if state.promise is None:
            self.app.notify(tr("no_promise"), severity="information", markup=False)
            return
        promise = state.promise
        if self.submit_text(pane.conversation_id, promise.follow_up):
            elapsed = (promise.deadline - promise.started).total_seconds()
            self.controller.start_promise(
                pane.conversation_id, promise.template_id, elapsed, promise.follow_up
            )
            pane.tick()

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

    @work(group="accept", exit_on_error=False)
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
        await self.apply_changes(frozenset({conversation.id}), True)
        self.grid.activate(conversation.id)

    def action_close_chat(self) -> None:
        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if conversation is None:
            return

        def closed(request: m.CloseRequest | None) -> None:
            if request is not None:
                self._close_worker(conversation.id, request)

        self.app.push_screen(CloseScreen(conversation.customer_email), closed)

    @work(group="close", exit_on_error=False)
    async def _close_worker(self, conversation_id: str, request: m.CloseRequest) -> None:
        try:
            conversation = await self.controller.backend.close(conversation_id, request)
        except BackendError as error:
            self.app.notify(tr("close_failed", reason=str(error)), severity="error", markup=False)
            return
        self.controller.apply_conversation(conversation)
        self.app.notify(tr("closed", name=conversation.customer_name), markup=False)

    def action_transfer_chat(self) -> None:
        pane = self.active_pane
        conversation = pane.conversation if pane else None
        if conversation is None:
            return
        self._transfer_dialog(conversation.id)

    @work(group="transfer", exit_on_error=False)
    async def _transfer_dialog(self, conversation_id: str) -> None:
        departments = list(self.controller.departments.values())
        try:
            agents = (await self.controller.backend.agents()).items
        except BackendError:
            agents = []
        me = self.controller.me
        agents = [a for a in agents if me is None or a.agent_id != me.id]
        request = await self.app.push_screen_wait(TransferScreen(departments, agents))
        if request is None:
            return
        try:
            conversation = await self.controller.backend.transfer(conversation_id, request)
        except BackendError as error:
            self.app.notify(
                tr("transfer_failed", reason=str(error)), severity="error", markup=False
            )
            return
        self.controller.apply_conversation(conversation)
        self.app.notify(tr("transferred", name=conversation.customer_name), markup=False)

    def action_canned_replies(self) -> None:
        open_palette = getattr(self.app, "open_canned_replies", None)
        if open_palette is not None:
            open_palette()

    # ------------------------------------------------------------------ sidebar
    @on(NoteInput.NoteSubmitted)
    def note_submitted(self, event: NoteInput.NoteSubmitted) -> None:
        customer_id = self.sidebar.customer_id
        if customer_id is None:
            self.app.notify(tr("no_active_chat"), severity="warning", markup=False)
            return
        self._add_note(customer_id, event.body)

    @work(group="note", exit_on_error=False)
    async def _add_note(self, customer_id: str, body: str) -> None:
        try:
            await self.controller.add_note(customer_id, body)
        except BackendError as error:
            self.app.notify(tr("note_failed", reason=str(error)), severity="error", markup=False)
            return
        self.refresh_sidebar()

    @on(PastConversations.OpenRequested)
    def open_past(self, event: PastConversations.OpenRequested) -> None:
        self._open_past(event.conversation_id)

    @work(group="past", exclusive=True, exit_on_error=False)
    async def _open_past(self, conversation_id: str) -> None:
        try:
            conversation = await self.controller.backend.get_conversation(conversation_id)
            page = await self.controller.backend.list_messages(conversation_id)
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
        await self.app.push_screen(PastConversationScreen(title, page.items))
