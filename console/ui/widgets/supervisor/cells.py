"""Safe cells for the supervisor tables: untrusted text only ever becomes ``Text``.

``DataTable`` renders a ``str`` cell as *markup* (``Text.from_markup``), so a
customer called ``[@click=app.quit]`` would be an action and ``[/]`` a crash.
Every cell here is a ``rich.text.Text`` built from plain text that arrives
sanitized (``console.core.supervision.SupervisorGateway`` for REST answers,
the backend boundary's typed events for the stream); the UI never sanitizes.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from console.core.duration import format_duration


def clean(value: str) -> str:
    """One line of display text from (already sanitized) text: line breaks fold to spaces."""
    return value.replace("\n", " ") if "\n" in value else value


def cell(value: str, style: str | Style = "") -> Text:
    """A table cell that shows ``value`` literally."""
    return Text(clean(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def number_cell(value: int, style: str | Style = "") -> Text:
    return Text(str(value), style=style, no_wrap=True, justify="right", end="")


def duration_cell(seconds: float | None, style: str | Style = "") -> Text:
    return Text(format_duration(seconds), style=style, no_wrap=True, justify="right", end="")


class KeyedText(Text):
    """A cell that remembers its row id, so ``DataTable.sort`` can order rows by our key."""

    row_id: str

    @classmethod
    def for_row(cls, row_id: str, value: str, style: str | Style = "") -> KeyedText:
        text = cls(clean(value), style=style, no_wrap=True, overflow="ellipsis", end="")
        text.row_id = row_id
        return text


class Palette:
    """Rich styles derived from the active Textual theme (so dark and light both read well)."""

    def __init__(self, variables: dict[str, str] | None = None) -> None:
        v = variables or {}
        self.error = Style(color=v.get("error", "red"), bold=True)
        self.warning = Style(color=v.get("warning", "yellow"), bold=True)
        self.success = Style(color=v.get("success", "green"))
        self.muted = Style(dim=True)
        self.plain = Style()
