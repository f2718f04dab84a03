"""Follow-up dialog, the agent's due list and the escalation dialog.

Untrusted text (customer names, notes, reasons) is only ever rendered as
``Content``; nothing here builds markup from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, RadioButton, RadioSet, Static
from textual.widgets.option_list import Option

from console.core.followups import CHANNELS, FollowUpTracker, WhenError, resolve_when
from console.core.workspace import tr
from console.protocol import models as m


@dataclass(frozen=True, slots=True)
class FollowUpRequest:
    channel: m.FollowUpChannel
    due_at: datetime
    note: str


def due_label(follow_up: m.FollowUp, zone: timezone | None = None) -> str:
    local = follow_up.due_at.astimezone(zone) if zone else follow_up.due_at
    return local.strftime("%m-%d %H:%M")


class FollowUpScreen(ModalScreen[FollowUpRequest | None]):
    """Channel, when ("in N hours", "14:30", "2026-12-08 10:00"), note; Enter saves."""

    DEFAULT_CSS = """
    FollowUpScreen { align: center middle; }
    FollowUpScreen > Vertical { width: 64; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1; }
    FollowUpScreen RadioSet { width: 100%; layout: horizontal; height: auto; }
    FollowUpScreen #follow-up-error { color: $error; height: auto; }
    FollowUpScreen .label { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, customer_name: str, now: datetime, zone: timezone | None) -> None:
        super().__init__()
        self.customer_name = customer_name
        self.now = now
        self.zone = zone

    def compose(self) -> ComposeResult:
        zone = tr("follow_up_zone_customer") if self.zone else tr("follow_up_zone_unknown")
        with Vertical():
            yield Static(
                Content.assemble(tr("follow_up_title") + " ", (self.customer_name, "bold"))
            )
            with RadioSet(id="follow-up-channel"):
                for index, channel in enumerate(CHANNELS):
                    yield RadioButton(
                        tr(f"channel_{channel}"), value=index == 0, id=f"ch-{channel}"
                    )
            yield Static(Content(tr("follow_up_when") + " · " + zone), classes="label")
            yield Input(placeholder=tr("follow_up_when_placeholder"), id="follow-up-when")
            yield Static(Content(tr("follow_up_note")), classes="label")
            yield Input(placeholder=tr("follow_up_note_placeholder"), id="follow-up-note")
            yield Static(Content(""), id="follow-up-error")
            yield Static(Content(tr("follow_up_hint")), classes="label")

    def on_mount(self) -> None:
        self.query_one("#follow-up-when", Input).focus()

    def _channel(self) -> m.FollowUpChannel:
        pressed = self.query_one(RadioSet).pressed_button
        name = (pressed.id or "ch-phone").removeprefix("ch-") if pressed else "phone"
        return name if name in ("phone", "email", "chat") else "phone"  # type: ignore[return-value]

    @on(Input.Submitted)
    def submit(self, event: Input.Submitted) -> None:
        event.stop()
        when = self.query_one("#follow-up-when", Input).value
        try:
            due_at = resolve_when(when, self.now, self.zone)
        except WhenError as error:
            self.query_one("#follow-up-error", Static).update(Content(str(error)))
            self.query_one("#follow-up-when", Input).focus()
            return
        note = self.query_one("#follow-up-note", Input).value
        self.dismiss(FollowUpRequest(self._channel(), due_at, note))

    def action_cancel(self) -> None:
        self.dismiss(None)


def due_row(follow_up: m.FollowUp, now: datetime) -> Content:
    missed = FollowUpTracker.missed(follow_up, now)
    due = follow_up.due_at <= now
    state = tr("follow_up_missed") if missed else tr("follow_up_due_now") if due else ""
    style = "bold $error" if missed else "bold $warning" if due else ""
    return Content.assemble(
        (due_label(follow_up) + "  ", "dim"),
        (f"{state} " if state else "", style),
        (tr(f"channel_{follow_up.channel}") + "  ", "bold"),
        (follow_up.customer_name, style or "bold"),
        "  ",
        Content(follow_up.note),
    )


class DueListScreen(ModalScreen[str | None]):
    """My open follow-ups, earliest first; Enter opens the customer, d marks done."""

    DEFAULT_CSS = """
    DueListScreen { align: center middle; }
    DueListScreen > Vertical { width: 90%; height: 80%; border: round $accent;
        background: $surface; padding: 0 1; }
    DueListScreen OptionList { height: 1fr; }
    DueListScreen .label { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Close"),
        Binding("d", "done", "Done"),
    ]

    def __init__(self, follow_ups: list[m.FollowUp], now: datetime) -> None:
        super().__init__()
        self.follow_ups = follow_ups
        self.now = now
        self.completed: list[str] = []

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(tr("due_list_title", count=len(self.follow_ups))))
            options = [Option(due_row(f, self.now), id=f.id) for f in self.follow_ups]
            yield OptionList(*options, id="due-list")
            if not self.follow_ups:
                yield Static(Content(tr("due_list_empty")), classes="label")
            yield Static(Content(tr("due_list_hint")), classes="label")

    def _highlighted(self) -> m.FollowUp | None:
        option_list = self.query_one(OptionList)
        index = option_list.highlighted
        if index is None:
            return None
        option_id = option_list.get_option_at_index(index).id
        return next((f for f in self.follow_ups if f.id == option_id), None)

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        follow_up = next((f for f in self.follow_ups if f.id == event.option.id), None)
        if follow_up is not None:
            self.dismiss(follow_up.conversation_id)

    def action_done(self) -> None:
        follow_up = self._highlighted()
        if follow_up is None:
            return
        self.completed.append(follow_up.id)
        option_list = self.query_one(OptionList)
        option_list.remove_option(follow_up.id)
        self.follow_ups = [f for f in self.follow_ups if f.id != follow_up.id]

    def action_cancel(self) -> None:
        self.dismiss(None)


class EscalateScreen(ModalScreen[m.EscalateRequest | None]):
    """A reason (required), then a target: a department marked for escalation or an agent."""

    DEFAULT_CSS = """
    EscalateScreen { align: center middle; }
    EscalateScreen > Vertical { width: 64; max-width: 100%; height: 20; max-height: 100%;
        border: round $error; background: $surface; padding: 0 1; }
    EscalateScreen OptionList { height: 1fr; }
    EscalateScreen #escalate-error { color: $error; height: auto; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, departments: list[m.Department], agents: list[m.AgentStats]) -> None:
        super().__init__()
        self.departments = departments
        self.agents = agents

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(tr("escalate_title")))
            yield Input(placeholder=tr("escalate_reason"), id="escalate-reason")
            options = [
                Option(Content.assemble((tr("department") + ": ", "dim"), d.name), id=f"d:{d.id}")
                for d in self.departments
            ] + [
                Option(Content.assemble((tr("agent") + ": ", "dim"), a.name), id=f"a:{a.agent_id}")
                for a in self.agents
            ]
            yield OptionList(*options, id="escalate-targets")
            with Horizontal():
                yield Static(Content(""), id="escalate-error")

    @on(Input.Submitted)
    def reason_entered(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.departments and not self.agents:
            self._escalate("")
            return
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self._escalate(event.option.id or "")

    def _escalate(self, target: str) -> None:
        reason = self.query_one("#escalate-reason", Input).value.strip()
        if not reason:
            self.query_one("#escalate-error", Static).update(Content(tr("escalate_need_reason")))
            self.query_one("#escalate-reason", Input).focus()
            return
        kind, _, ident = target.partition(":")
        if kind == "d":
            self.dismiss(m.EscalateRequest(reason=reason, department_id=ident))
        elif kind == "a":
            self.dismiss(m.EscalateRequest(reason=reason, agent_id=ident))
        else:
            self.dismiss(m.EscalateRequest(reason=reason))

    def action_cancel(self) -> None:
        self.dismiss(None)
