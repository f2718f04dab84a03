"""The neutral first screen: shown until the token's role is known.

Which screen the console shows (agent workspace or supervisor dashboard)
depends on the role the server reports for the token, so no role-dependent
screen exists before that answer: nothing can queue an update into a screen
that is about to be replaced.  This screen shows the link state and, when the
first connection fails, the reason and what to do next.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.backends.base import ConnectionPhase, ConnectionState
from console.core.workspace import tr
from console.ui.bindings import bindings_for, effective_keys, translate_bindings


class LoadingScreen(Screen[None]):
    """ "Connecting…" with the link state; the first failure's sentence when there is one."""

    BINDINGS = bindings_for("loading")

    DEFAULT_CSS = """
    LoadingScreen { align: center middle; }
    LoadingScreen #loading-title { text-style: bold; width: auto; }
    LoadingScreen #loading-detail { width: auto; max-width: 76; color: $text-muted; }
    LoadingScreen #loading-detail.-error { color: $error; text-style: bold; }
    """

    def __init__(self) -> None:
        super().__init__(id="loading-screen")
        translate_bindings(self)
        self._state = ConnectionState(ConnectionPhase.CONNECTING)
        self._problem = ""

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static(Content("agent-console"), id="loading-title")
        with Center():
            yield Static(Content(tr("loading_connecting")), id="loading-detail")
        yield Footer()

    def on_mount(self) -> None:
        self._show()

    def show_connection(self, state: ConnectionState) -> None:
        self._state = state
        self._show()

    def show_problem(self, sentence: str) -> None:
        """A failed first connection: the sentence says what to do next (plain text)."""
        self._problem = sentence
        self._show()

    def _show(self) -> None:
        if not self.is_mounted:
            return
        detail = self.query_one("#loading-detail", Static)
        if self._problem:
            text = f"{self._problem}\n{tr('loading_retry_hint', retry=self._keys('retry-connect'), quit=self._keys('quit'))}"
        elif self._state.phase is ConnectionPhase.RECONNECTING:
            text = tr("loading_reconnecting")
        else:
            text = tr("loading_connecting")
        detail.set_class(bool(self._problem), "-error")
        detail.update(Content(text))  # Content: the reason may hold server text

    def _keys(self, binding_id: str) -> str:
        keys = effective_keys(getattr(self.app, "keymap", {})).get(binding_id, [])
        return ", ".join(self.app.get_key_display(Binding(key, "")) for key in keys)

    def action_retry_connect(self) -> None:
        self._problem = ""
        self._show()
        retry = getattr(self.app, "start_workspace", None)
        if retry is not None:
            retry()
