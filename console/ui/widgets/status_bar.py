"""The always-visible top line: connection, who I am, status, accepting, load.

The connection part comes from ``controller.connection`` and every
``on_connection_change`` callback; while reconnecting it counts down to the
next attempt once a second.  Names come from the server, so everything is
assembled as ``Content`` (never markup).
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import Static

from console.backends.base import ConnectionPhase, ConnectionState
from console.core.duration import format_duration
from console.core.workspace import tr
from console.protocol import models as m


def connection_text(state: ConnectionState, now: float | None = None) -> str:
    """One short sentence for the indicator, e.g. 'reconnecting in 4 s'."""
    phase = state.phase
    if phase is ConnectionPhase.RECONNECTING:
        if state.retry_at is not None:
            left = max(0, round(state.retry_at - (time.monotonic() if now is None else now)))
            return tr("conn_reconnecting_in", seconds=left)
        return tr("conn_reconnecting")
    return tr(f"conn_{phase.value}")


class ConnectionIndicator(Static):
    """● connected / ◌ reconnecting in N s / ○ offline / ✖ auth failed."""

    DEFAULT_CSS = """
    ConnectionIndicator { width: auto; padding: 0 1; }
    """

    state: reactive[ConnectionState] = reactive(
        ConnectionState(ConnectionPhase.CONNECTING), always_update=True
    )

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.state.phase is ConnectionPhase.RECONNECTING:
            self.refresh()

    def watch_state(self, state: ConnectionState) -> None:
        for phase in ConnectionPhase:
            self.set_class(phase is state.phase, f"-{phase.value.replace('_', '-')}")
        self.refresh()

    def render(self) -> Content:
        symbol = {
            ConnectionPhase.CONNECTED: "●",
            ConnectionPhase.CONNECTING: "◌",
            ConnectionPhase.RECONNECTING: "◌",
            ConnectionPhase.OFFLINE: "○",
            ConnectionPhase.AUTH_FAILED: "✖",
        }[self.state.phase]
        text = connection_text(self.state)
        if self.state.detail and self.state.phase is ConnectionPhase.AUTH_FAILED:
            text = f"{text}: {self.state.detail}"
        return Content.assemble((symbol, "bold"), " ", text)


class StatusBar(Horizontal):
    """Top bar of the agent screen."""

    DEFAULT_CSS = """
    StatusBar { height: 1; dock: top; background: $panel; }
    StatusBar > #me { width: 1fr; padding: 0 1; }
    StatusBar > #load { width: auto; padding: 0 1; }
    """

    def compose(self) -> ComposeResult:
        yield ConnectionIndicator(id="connection")
        yield Static(id="me", markup=False)
        yield Static(id="load", markup=False)

    @property
    def indicator(self) -> ConnectionIndicator:
        return self.query_one(ConnectionIndicator)

    _shown: dict[str, Content] | None = None

    def _set(self, widget_id: str, content: Content) -> None:
        """Update one field only if it changed; lay out only if its width changed.

        ``show_me`` runs for every change the workspace applies (each message)."""
        if self._shown is None:
            self._shown = {}
        previous = self._shown.get(widget_id)
        if previous == content:
            return
        self._shown[widget_id] = content
        layout = previous is None or previous.cell_length != content.cell_length
        self.query_one(f"#{widget_id}", Static).update(content, layout=layout)

    def show_me(
        self,
        me: m.Me | None,
        active: int,
        queued: int,
        today: m.HistoryFigures | None = None,
    ) -> None:
        if me is None:
            self._set("me", Content(tr("signing_in")))
            self._set("load", Content(""))
            return
        status_style = {"online": "bold $success", "away": "bold $warning"}.get(me.status, "dim")
        accepting = tr("accepting_on") if me.accepting else tr("accepting_off")
        self._set(
            "me",
            Content.assemble(
                (me.name, "bold"),
                "  ",
                (tr(f"status_{me.status}"), status_style),
                "  ",
                (accepting, "" if me.accepting else "$warning"),
            ),
        )
        load = tr("load_line", active=active, capacity=me.capacity, queued=queued)
        if today is not None and today.avg_first_response_seconds is not None:
            load += " · " + tr(
                "my_today",
                first=format_duration(today.avg_first_response_seconds),
                average=format_duration(today.avg_response_seconds),
            )
        self._set("load", Content(load))


class ConnectionBanner(Static):
    """A full-width line under the status bar while the link is down.

    Hidden while connected (and before the first connection attempt ends);
    says what happens to replies typed meanwhile.
    """

    DEFAULT_CSS = """
    ConnectionBanner { height: 1; dock: top; display: none; padding: 0 1; }
    ConnectionBanner.-visible { display: block; }
    ConnectionBanner.-reconnecting { background: $warning 40%; color: $text; }
    ConnectionBanner.-offline, ConnectionBanner.-auth-failed {
        background: $error; color: $text; text-style: bold;
    }
    """

    state: reactive[ConnectionState] = reactive(
        ConnectionState(ConnectionPhase.CONNECTING), always_update=True
    )

    def on_mount(self) -> None:
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        if self.state.phase is ConnectionPhase.RECONNECTING:
            self.refresh()

    def watch_state(self, state: ConnectionState) -> None:
        phase = state.phase
        down = phase in (
            ConnectionPhase.RECONNECTING,
            ConnectionPhase.OFFLINE,
            ConnectionPhase.AUTH_FAILED,
        )
        self.set_class(down, "-visible")
        self.set_class(phase is ConnectionPhase.RECONNECTING, "-reconnecting")
        self.set_class(phase is ConnectionPhase.OFFLINE, "-offline")
        self.set_class(phase is ConnectionPhase.AUTH_FAILED, "-auth-failed")
        self.refresh()

    def render(self) -> Content:
        state = self.state
        if state.phase is ConnectionPhase.AUTH_FAILED:
            return Content(tr("banner_auth_failed"))
        return Content.assemble((connection_text(state), "bold"), " — ", tr("banner_queued"))
