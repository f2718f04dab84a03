"""Drill-down: from a department or an agent to its open conversations, then a watch pane.

The dashboard's summary tables have no cursor on purpose (a red first row stays
visible), so drilling down is a chooser: ``o`` on the dashboard opens
:class:`DrillDownScreen`, a list of departments and agents (each with its open
chats) beside the conversations of the highlighted one.  ``Enter`` on a
department or agent moves to its conversations; ``Enter`` on a conversation
closes the chooser with its id, and the supervisor screen watches it.

Everything shown comes from the screen's ``Dashboard`` (already sanitized
data); names reach the widgets only as ``Content`` / ``rich.text.Text``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from console.core.dashboard import ConversationRow
from console.core.i18n import t
from console.ui.bindings import bindings_for
from console.ui.widgets.supervisor.cells import cell, clean, duration_cell, number_cell


@dataclass(frozen=True, slots=True)
class Subject:
    """A department or an agent to drill into."""

    kind: str  # "department" | "agent"
    subject_id: str
    name: str
    open_chats: int

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.subject_id}"


class DrillDownScreen(ModalScreen[str | None]):
    """Departments and agents on the left, the highlighted one's conversations on the right."""

    # Esc closes (the binding of the supervisor key list's modal: "close-help").
    BINDINGS: ClassVar[list[BindingType]] = bindings_for("supervisor-help")

    DEFAULT_CSS = """
    DrillDownScreen { align: center middle; }
    DrillDownScreen > Vertical {
        width: 96%; max-width: 160; height: 90%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    DrillDownScreen #drill-title { text-style: bold; height: 1; }
    DrillDownScreen #drill-body { height: 1fr; }
    DrillDownScreen #drill-subjects { width: 34; max-width: 40%; height: 1fr; }
    DrillDownScreen #drill-right { width: 1fr; height: 1fr; }
    DrillDownScreen #drill-caption { height: 1; color: $text-muted; padding: 0 1; }
    DrillDownScreen #drill-conversations { height: 1fr; }
    DrillDownScreen #drill-empty { height: auto; color: $text-muted; padding: 0 1; }
    DrillDownScreen .drill-hint { height: 1; color: $text-muted; }
    """

    def __init__(
        self,
        subjects: Sequence[Subject],
        rows_for: Callable[[Subject], list[ConversationRow]],
        *,
        initial: str | None = None,
    ) -> None:
        super().__init__(id="drill-down")
        self.subjects = list(subjects)
        self.rows_for = rows_for
        self.initial = initial
        self.current: Subject | None = None
        self._shown: tuple[tuple[str, ...], ...] = ()

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(t("supervisor.drill.title")), id="drill-title", markup=False)
            with Horizontal(id="drill-body"):
                yield OptionList(*self._options(), id="drill-subjects", markup=False)
                with Vertical(id="drill-right"):
                    yield Static("", id="drill-caption", markup=False)
                    yield Static("", id="drill-empty", markup=False)
                    table: DataTable[Text] = DataTable(
                        id="drill-conversations", cursor_type="row", zebra_stripes=True
                    )
                    yield table
            yield Static(Content(t("supervisor.drill.hint")), classes="drill-hint", markup=False)

    def _options(self) -> list[Option | None]:
        options: list[Option | None] = []
        for kind, heading in (
            ("department", t("supervisor.drill.departments")),
            ("agent", t("supervisor.drill.agents")),
        ):
            group = [s for s in self.subjects if s.kind == kind]
            if not group:
                continue
            if options:
                options.append(None)  # a separator line
            options.append(Option(Content.styled(heading, "bold"), disabled=True))
            for subject in group:
                prompt = Content.assemble(
                    Content(clean(subject.name)),
                    (f"  {subject.open_chats}", "dim"),
                )
                options.append(Option(prompt, id=subject.key))
        return options

    @property
    def subject_list(self) -> OptionList:
        return self.query_one("#drill-subjects", OptionList)

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#drill-conversations", DataTable)

    def on_mount(self) -> None:
        table = self.table
        # Wait and state first: at 80 columns the right-hand columns are cut.
        for key in ("customer", "wait", "state", "agent", "department", "severity"):
            table.add_column(Text(t(f"supervisor.col.{key}")), key=key)
        options = self.subject_list
        index = None
        for i in range(options.option_count):
            option = options.get_option_at_index(i)
            if option.disabled:
                continue
            if index is None or option.id == self.initial:
                index = i
                if option.id == self.initial:
                    break
        if index is not None:
            options.highlighted = index
            option_id = options.get_option_at_index(index).id
            self._show_subject(option_id)
        options.focus()
        self.set_interval(1.0, self.refresh_rows)

    def _subject(self, key: str | None) -> Subject | None:
        return next((s for s in self.subjects if s.key == key), None)

    @on(OptionList.OptionHighlighted, "#drill-subjects")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_subject(event.option.id)

    @on(OptionList.OptionSelected, "#drill-subjects")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._show_subject(event.option.id)
        if self.table.row_count:
            self.table.focus()

    @on(DataTable.RowSelected, "#drill-conversations")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.dismiss(event.row_key.value)

    def _show_subject(self, key: str | None) -> None:
        subject = self._subject(key)
        if subject is None:
            return
        self.current = subject
        self._shown = ()
        caption = t(f"supervisor.drill.caption_{subject.kind}", name="\0").split("\0")
        self.query_one("#drill-caption", Static).update(
            Content.assemble(caption[0], Content(clean(subject.name)), caption[-1])
        )
        self.refresh_rows()

    def refresh_rows(self) -> None:
        """(Re)fill the conversations of the current subject; keeps the highlighted row."""
        subject = self.current
        if subject is None or not self.is_mounted:
            return
        rows = self.rows_for(subject)
        signature = tuple(
            (
                r.conversation_id,
                r.customer_name,
                r.state,
                r.department_name,
                r.assignee_name,
                str(int(r.wait_seconds)),
                str(r.severity),
            )
            for r in rows
        )
        if signature == self._shown:
            return
        self._shown = signature
        table = self.table
        keep = None
        if table.row_count and table.cursor_row >= 0:
            keep = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        for row in rows:
            table.add_row(
                cell(row.customer_name or row.customer_email),
                duration_cell(row.wait_seconds),
                cell(t(f"supervisor.state.{row.state}")),
                cell(row.assignee_name or t("supervisor.department.unassigned")),
                cell(row.department_name),
                number_cell(row.severity),
                key=row.conversation_id,
            )
        if keep is not None and keep in {r.conversation_id for r in rows}:
            table.move_cursor(row=table.get_row_index(keep))
        empty = self.query_one("#drill-empty", Static)
        empty.update(Content(t("supervisor.drill.none") if not rows else ""))
        empty.display = not rows
