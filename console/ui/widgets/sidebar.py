"""The focused chat's customer: account, custom fields, tags, activity, notes, history.

All values are the customer's or other agents' text, so every line is built as
``Content`` from plain strings.  Notes can be added from the input at the
bottom; past conversations open read-only with Enter.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.core.workspace import tr
from console.protocol import models as m
from console.ui.bindings import bindings_for, translate_bindings


class PastConversations(OptionList):
    BINDINGS = bindings_for("sidebar")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        translate_bindings(self)

    class OpenRequested(Message):
        def __init__(self, conversation_id: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    def on_focus(self) -> None:
        # Enter opens the first row at once; no arrow key needed first.
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def action_open_past(self) -> None:
        if self.highlighted is None or not self.option_count:
            return
        option = self.get_option_at_index(self.highlighted)
        if option.id:
            self.post_message(self.OpenRequested(option.id))


class NoteInput(Input):
    class NoteSubmitted(Message):
        def __init__(self, body: str) -> None:
            super().__init__()
            self.body = body


def _section(title: str) -> Content:
    return Content.styled(title, "bold $accent")


def customer_content(
    conversation: m.Conversation,
    customer: m.Customer | None,
    notes: list[m.CustomerNote],
    follow_ups: list[m.FollowUp] | None = None,
) -> Content:
    """Everything but the past-conversations list, as one block of Content."""
    lines: list[Content] = [Content.styled(conversation.customer_name, "bold")]
    if conversation.escalated_at is not None:
        # The escalation badge: who escalated and why (untrusted text, as Content).
        lines.append(
            Content.assemble(
                ("⇪ " + tr("escalated_badge", name=conversation.escalated_by_name or "?"), "bold $error"),
                ": ",
                conversation.escalation_reason or "",
            )
        )
    if follow_ups:
        lines.append(_section(tr("follow_ups", count=len(follow_ups))))
        for follow_up in follow_ups[:5]:
            done = follow_up.state == "done"
            lines.append(
                Content.assemble(
                    (follow_up.due_at.strftime("%m-%d %H:%M") + " ", "dim"),
                    (tr(f"channel_{follow_up.channel}"), "dim strike" if done else "bold"),
                    " ",
                    follow_up.note,
                )
            )
    email = customer.email if customer else conversation.customer_email
    if email:
        lines.append(Content(email))
    if conversation.page_url:
        lines.append(Content.assemble((tr("page") + ": ", "dim"), conversation.page_url))
    if conversation.prechat:
        lines.append(_section(tr("prechat")))
        lines += [Content.assemble((f"{k}: ", "dim"), v) for k, v in conversation.prechat.items()]
    if customer is None:
        lines.append(Content.styled(tr("loading"), "dim italic"))
        return Content("\n").join(lines)
    if customer.account:
        lines.append(_section(tr("account")))
        lines += [Content.assemble((f"{k}: ", "dim"), v) for k, v in customer.account.items()]
    if customer.custom_fields:
        lines.append(_section(tr("custom_fields")))
        lines += [Content.assemble((f"{k}: ", "dim"), v) for k, v in customer.custom_fields.items()]
    if customer.tags:
        lines.append(_section(tr("tags")))
        lines.append(
            Content("  ").join(Content.styled(f"#{tag}", "$secondary") for tag in customer.tags)
        )
    if customer.activity:
        lines.append(_section(tr("activity")))
        for item in customer.activity[-5:]:
            lines.append(
                Content.assemble((item.at.strftime("%m-%d %H:%M") + " ", "dim"), item.text)
            )
    lines.append(_section(tr("notes", count=len(notes))))
    for note in notes[-10:]:
        lines.append(
            Content.assemble(
                (note.author_name, "bold"), (" " + note.created_at.strftime("%m-%d %H:%M"), "dim")
            )
        )
        lines.append(Content(note.body))
    return Content("\n").join(lines)


def past_outcome(conversation: m.Conversation) -> str:
    """A past list row's state in words, with the customer's rating once closed (★4)."""
    state = tr(f"past_state_{conversation.state}")
    if conversation.csat_score is not None:
        return f"{state} ★{conversation.csat_score}"
    return state


class CustomerSidebar(VerticalScroll):
    DEFAULT_CSS = """
    CustomerSidebar { height: 2fr; padding: 0 1; }
    CustomerSidebar > #customer { height: auto; }
    CustomerSidebar > #past-box { dock: bottom; height: auto; max-height: 7;
                                  background: $surface; border-top: solid $panel-lighten-2; }
    CustomerSidebar > #past-box.-empty { display: none; }
    CustomerSidebar #past-title { height: 1; text-style: bold; }
    CustomerSidebar PastConversations { height: auto; max-height: 5; border: none; }
    CustomerSidebar > NoteInput { margin-top: 1; }
    """

    jump_key = "s"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.customer_id: str | None = None
        self.conversation_id: str | None = None
        """The chat whose customer is shown (the screen keeps it on the focused chat)."""
        self._block: Content | None = None
        self._past_rows: tuple[tuple[str, str, str, str], ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static(Content(tr("no_customer")), id="customer")
        yield NoteInput(placeholder=tr("note_placeholder"), id="note-input")
        # Docked under the scrolling customer block: a long account or activity list
        # must not push the past conversations out of sight (0 rows at 200x50 before).
        with Vertical(id="past-box", classes="-empty"):
            yield Static(Content(tr("past_conversations")), id="past-title")
            yield PastConversations(id="past")

    def show(
        self,
        conversation: m.Conversation | None,
        customer: m.Customer | None,
        notes: list[m.CustomerNote],
        past: list[m.Conversation] | None,
        follow_ups: list[m.FollowUp] | None = None,
    ) -> None:
        """Show this chat's customer; only what differs from what is shown is redrawn.

        The past-conversations list is rebuilt only when its rows change, and
        then keeps the highlighted conversation (a new message never moves the
        agent's selection).
        """
        if conversation is None:
            self.customer_id = self.conversation_id = None
            self._set_block(Content(tr("no_customer")))
            self._set_past(())
            return
        self.customer_id = conversation.customer_id
        self.conversation_id = conversation.id
        self._set_block(customer_content(conversation, customer, notes, follow_ups))
        if past is not None:
            self._set_past(
                tuple(
                    (
                        c.id,
                        c.created_at.strftime("%Y-%m-%d"),
                        c.department_name or c.department_id,
                        past_outcome(c),
                    )
                    for c in past
                    if c.id != conversation.id
                )
            )

    def _set_block(self, block: Content) -> None:
        shown = self._block
        if shown is None or (shown.plain, shown.spans) != (block.plain, block.spans):
            self._block = block
            self.query_one("#customer", Static).update(block)

    def _set_past(self, rows: tuple[tuple[str, str, str, str], ...]) -> None:
        if rows == self._past_rows:
            return
        self._past_rows = rows
        self.query_one("#past-box").set_class(not rows, "-empty")
        options = self.query_one(PastConversations)
        highlighted = (
            options.get_option_at_index(options.highlighted).id
            if options.highlighted is not None and options.option_count
            else None
        )
        options.clear_options()
        options.add_options(
            [
                Option(
                    Content.assemble((day + " ", "dim"), department, ("  " + outcome, "dim")),
                    id=cid,
                )
                for cid, day, department, outcome in rows
            ]
        )
        if highlighted is not None:
            for index, row in enumerate(rows):
                if row[0] == highlighted:
                    options.highlighted = index
                    break

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "note-input":
            return
        event.stop()
        body = event.value.strip()
        if body:
            self.post_message(NoteInput.NoteSubmitted(body))
        event.input.value = ""
