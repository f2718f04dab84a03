"""History: today vs the last 7 days per department and per agent (``GET /history``).

``h`` on the dashboard opens :class:`HistoryScreen`.  It reads the backend's
figures once through the screen's loader (``SupervisorGateway.history``, a GET,
answers sanitized) and shows two tables, departments and agents, with two rows
each: today and the last 7 days (chats, average first reply, average reply,
abandoned, satisfaction = average stored rating with the number of ratings).
A backend without ``Capability.HISTORY`` gets a sentence instead.  Names reach
the tables only as ``rich.text.Text``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from console.backends.base import BackendError
from console.core.i18n import t
from console.protocol import models as m
from console.ui.bindings import bindings_for
from console.ui.widgets.supervisor.cells import cell, duration_cell, number_cell

COLUMNS = ("name", "chats", "first", "reply", "abandoned", "satisfaction")
"""A subject takes three rows: its name, then today and the last 7 days (no period
column: at 80 columns every figure fits)."""


def satisfaction_text(figures: m.HistoryFigures) -> str:
    """``4.50 (2)``: the average stored rating and how many; ``-`` without ratings."""
    if figures.satisfaction is None or not figures.ratings:
        return "-"
    return f"{figures.satisfaction:.2f} ({figures.ratings})"


class HistoryScreen(ModalScreen[None]):
    """Departments and agents, today and the last 7 days."""

    # Esc closes (the binding of the supervisor key list's modal: "close-help").
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("supervisor-help")

    DEFAULT_CSS = """
    HistoryScreen { align: center middle; }
    HistoryScreen > Vertical {
        width: 96%; max-width: 120; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    HistoryScreen #history-title { text-style: bold; height: 1; }
    HistoryScreen #history-status { height: auto; color: $text-muted; }
    HistoryScreen #history-body { height: 1fr; }
    HistoryScreen .history-heading { text-style: bold; height: 1; margin-top: 1; }
    HistoryScreen DataTable { height: auto; max-height: 100%; }
    HistoryScreen .history-hint { height: 1; color: $text-muted; }
    """

    def __init__(self, load: Callable[[], Awaitable[m.HistoryView | None]]) -> None:
        super().__init__(id="history")
        self.load = load
        self.view: m.HistoryView | None = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(t("supervisor.history.title")), id="history-title", markup=False)
            yield Static(
                Content(t("supervisor.history.loading")), id="history-status", markup=False
            )
            with VerticalScroll(id="history-body"):
                yield Static(
                    Content(t("supervisor.history.departments")),
                    classes="history-heading",
                    markup=False,
                )
                yield DataTable(id="history-departments", cursor_type="none", zebra_stripes=True)
                yield Static(
                    Content(t("supervisor.history.agents")),
                    classes="history-heading",
                    markup=False,
                )
                yield DataTable(id="history-agents", cursor_type="none", zebra_stripes=True)
            yield Static(
                Content(t("supervisor.history.hint")), classes="history-hint", markup=False
            )

    def on_mount(self) -> None:
        for table_id in ("#history-departments", "#history-agents"):
            table = self.query_one(table_id, DataTable)
            for key in COLUMNS:
                table.add_column(Text(t(f"supervisor.history.col.{key}")), key=key)
        self.query_one("#history-body").focus()
        self.fetch()

    @work(exclusive=True, group="supervisor-history")
    async def fetch(self) -> None:
        status = self.query_one("#history-status", Static)
        try:
            view = await self.load()
        except BackendError as exc:
            status.update(Content(t("supervisor.history.failed", error=str(exc))))
            return
        self.view = view
        if view is None:
            status.update(Content(t("supervisor.history.unavailable")))
            self.loaded = True
            return
        status.update(
            Content(
                t(
                    "supervisor.history.since",
                    today=view.today_since.strftime("%Y-%m-%d %H:%M"),
                    week=view.week_since.strftime("%Y-%m-%d"),
                )
            )
        )
        self._fill(
            "#history-departments",
            [
                (d.department_id, d.department_name, d.today, d.last_7_days)
                for d in view.departments
            ],
        )
        self._fill(
            "#history-agents",
            [(a.agent_id, a.name, a.today, a.last_7_days) for a in view.agents],
        )
        self.loaded = True

    def _fill(
        self,
        table_id: str,
        subjects: list[tuple[str, str, m.HistoryFigures, m.HistoryFigures]],
    ) -> None:
        table: DataTable[Text] = self.query_one(table_id, DataTable)
        table.clear()
        blank = Text("", end="")
        for subject_id, name, today, week in subjects:
            table.add_row(cell(name, "bold"), *([blank] * (len(COLUMNS) - 1)), key=subject_id)
            for period, figures in (("today", today), ("week", week)):
                table.add_row(
                    cell("  " + t(f"supervisor.history.period.{period}")),
                    number_cell(figures.chats),
                    duration_cell(figures.avg_first_response_seconds),
                    duration_cell(figures.avg_response_seconds),
                    number_cell(figures.abandoned),
                    Text(satisfaction_text(figures), justify="right", no_wrap=True, end=""),
                    key=f"{subject_id}:{period}",
                )
