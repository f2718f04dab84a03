"""Customer labels (tags) edited from the sidebar (issue 14).

``alt+t`` opens a one-line editor over the dimmed workspace with the labels of
the customer the sidebar shows, comma-separated; Enter saves them through
``WorkspaceController.set_customer_tags`` (the backend's ``PUT
/customers/{id}/tags``), and the sidebar redraws from the Store.  Custom fields
stay read-only: no backend offers a write for them (see docs/agent-workspace.md).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.core.workspace import tr

MAX_TAGS = 50
MAX_TAG_CHARS = 64


def parse_tags(text: str) -> list[str]:
    """``"vip, #refund-risk ,vip"`` → ``["vip", "refund-risk"]``: split on commas, strip
    spaces and a leading ``#``, drop empties and repeats, at most 50 of 64 characters."""
    tags: list[str] = []
    for part in text.split(","):
        tag = part.strip().lstrip("#").strip()[:MAX_TAG_CHARS]
        if tag and tag not in tags:
            tags.append(tag)
    return tags[:MAX_TAGS]


class TagsScreen(ModalScreen[list[str] | None]):
    """Edit one customer's labels; dismisses with the new list (or None)."""

    DEFAULT_CSS = """
    TagsScreen { align: center middle; }
    TagsScreen > Vertical { width: 72; max-width: 100%; height: auto;
                            border: round $accent; background: $surface; padding: 0 1; }
    TagsScreen #tags-title { text-style: bold; }
    TagsScreen #tags-hint { color: $text-muted; }
    """
    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, customer_name: str, tags: list[str]) -> None:
        super().__init__(id="tags-dialog")
        self.customer_name = customer_name
        self.tags = tags

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(tr("tags_title", name=self.customer_name)), id="tags-title")
            yield Input(
                value=", ".join(self.tags), placeholder=tr("tags_placeholder"), id="tags-input"
            )
            yield Static(Content(tr("tags_hint")), id="tags-hint")

    def on_mount(self) -> None:
        self.query_one("#tags-input", Input).focus()

    @on(Input.Submitted, "#tags-input")
    def submitted(self, event: Input.Submitted) -> None:
        self.dismiss(parse_tags(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
