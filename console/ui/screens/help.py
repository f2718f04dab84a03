"""``?``/F1: every binding by id with the keys it has *now* (after the keymap).

Keys are shown with ``App.get_key_display`` so remaps appear as the user set
them.  Bindings of widgets we do not own (the composer) are read from the
focused widget chain through :func:`active_binding_rows`, the one place that
touches Textual's private ``_bindings``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from console.core.workspace import tr
from console.ui.bindings import SPECS, effective_keys, help_for

SUPERVISOR_SCOPES = frozenset({"supervisor", "supervisor-help"})


@dataclass(frozen=True, slots=True)
class BindingRow:
    id: str
    keys: str
    description: str
    scope: str


def _display(app: App[Any], keys: list[str], action: str) -> str:
    return ", ".join(app.get_key_display(Binding(key, action)) for key in keys)


def active_binding_rows(app: App[Any], keymap: dict[str, str]) -> list[BindingRow]:
    """Our registry plus any id'd binding in the focus chain that is not in it."""
    rows: list[BindingRow] = []
    keys_by_id = effective_keys(keymap)
    for spec in SPECS:
        if spec.scope in SUPERVISOR_SCOPES:
            continue  # the supervisor screen's own help lists those
        rows.append(
            BindingRow(
                spec.id,
                _display(app, keys_by_id[spec.id], spec.action),
                help_for(spec),
                spec.scope,
            )
        )
    known = {row.id for row in rows}
    node: DOMNode | None = app.focused
    while node is not None:
        bindings_map = getattr(node, "_bindings", None)  # private Textual API, isolated here
        if bindings_map is not None:
            for key, bindings in bindings_map.key_to_bindings.items():
                for binding in bindings:
                    if binding.id and binding.id not in known:
                        keys = keymap.get(binding.id, key).split(",")
                        rows.append(
                            BindingRow(
                                binding.id,
                                _display(app, keys, binding.action),
                                binding.tooltip or binding.description,
                                type(node).__name__.lower(),
                            )
                        )
                        known.add(binding.id)
        node = node.parent
    return rows


class HelpScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Vertical { width: 90%; height: 90%; border: round $accent; background: $surface; }
    HelpScreen #help-title { text-style: bold; padding: 0 1; }
    HelpScreen DataTable { height: 1fr; }
    """

    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss_help", "Close", show=True)]

    def __init__(self, rows: list[BindingRow]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Content(tr("help_title")), id="help-title")
            yield DataTable(zebra_stripes=True, cursor_type="row", id="help-table")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns(Text(tr("help_id")), Text(tr("help_keys")), Text(tr("help_what")))
        for row in self.rows:
            table.add_row(Text(row.id, style="bold"), Text(row.keys), Text(row.description))
        table.focus()

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
