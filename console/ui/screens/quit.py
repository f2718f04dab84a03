"""Quitting with open chats asks first (issue 14 fix 4).

A modal over the dimmed workspace names how many chats are open and what
quitting does (away, no new chats, drafts kept).  Enter (on the focused Quit button) or ``y`` quits, Escape
or ``n`` stays; the quit key pressed again while it is shown quits too (the
app's priority binding reaches ``action_quit`` and finds this screen).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from console.core.workspace import tr


class QuitScreen(ModalScreen[bool]):
    """ "N open chats — quit anyway?"; dismisses with True to quit."""

    DEFAULT_CSS = """
    QuitScreen { align: center middle; }
    QuitScreen > Vertical { width: 64; max-width: 100%; height: auto; border: thick $warning;
                            background: $surface; padding: 1 2; }
    QuitScreen #quit-title { text-style: bold; }
    QuitScreen #quit-body { margin: 1 0; }
    QuitScreen Horizontal { height: auto; }
    QuitScreen Button { margin-right: 2; }
    """
    BINDINGS = [
        Binding("escape,n", "stay", "Stay", show=False),
        Binding("y", "leave", "Quit", show=False),
    ]

    def __init__(self, open_chats: int) -> None:
        super().__init__(id="quit-dialog")
        self.open_chats = open_chats

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(tr("quit_title")), id="quit-title")
            yield Static(Content(tr("quit_open_chats", count=self.open_chats)), id="quit-body")
            with Horizontal():
                yield Button(tr("quit_confirm"), variant="error", id="confirm-quit")
                yield Button(tr("quit_stay"), id="stay")
            yield Static(Content.styled(tr("quit_hint"), "dim"))

    def on_mount(self) -> None:
        self.query_one("#confirm-quit", Button).focus()  # Enter presses it

    @on(Button.Pressed, "#confirm-quit")
    def action_leave(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#stay")
    def action_stay(self) -> None:
        self.dismiss(False)
