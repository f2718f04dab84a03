"""A small themed app shown by ``agent-console demo`` while the real workspace is missing.

Used only when :mod:`console.ui.app` cannot be imported (a tree where that
issue has not landed).  It proves the plumbing the real app relies on: themes
from TOML, the active language, and a clean exit.  Everything shown is built
as :class:`~textual.content.Content` from plain text, never from markup.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Center, Vertical
from textual.content import Content
from textual.widgets import Footer, Header, Static

from console.core.i18n import get_language, t
from console.ui.themes import register_themes


class PlaceholderApp(App[None]):
    """Shows what is running and that the workspace (issue ``issue``) is not built yet."""

    CSS = """
    Screen { align: center middle; }
    #card {
        width: 72; height: auto; padding: 1 2;
        border: round $primary; background: $surface;
    }
    #title { text-style: bold; color: $warning; margin-bottom: 1; }
    #body { margin-bottom: 1; }
    .info { color: $text-muted; }
    #problems { color: $error; margin-top: 1; }
    """

    BINDINGS = [
        Binding("q", "quit", t("action.quit"), id="placeholder-quit"),
        Binding("t", "next_theme", t("action.next_theme"), id="placeholder-next-theme"),
    ]

    def __init__(
        self,
        *,
        issue: int = 6,
        details: list[str] | None = None,
        theme: str | None = None,
        user_themes: Path | None = None,
        problems: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.issue = issue
        self.details = list(details or [])
        self.requested_theme = theme
        self.user_themes = user_themes
        self.problems = list(problems or [])
        self.theme_messages: list[str] = []
        self.title = t("app.title")
        self.sub_title = t("app.not_built_title")

    def compose(self) -> ComposeResult:
        yield Header()
        with Center(), Vertical(id="card"):
            yield Static(Content(t("app.not_built_title")), id="title")
            yield Static(Content(t("app.not_built_body", issue=self.issue)), id="body")
            for line in self.details:
                yield Static(Content(line), classes="info")
            yield Static(Content(t("app.language_label", language=get_language())), classes="info")
            yield Static(Content(""), id="theme-label", classes="info")
            yield Static(Content(t("app.not_built_hint")), classes="info")
            yield Static(Content("\n".join(self.problems)), id="problems")
        yield Footer()

    def on_mount(self) -> None:
        self.theme_messages = register_themes(self, self.requested_theme, user_dir=self.user_themes)
        for message in self.theme_messages:
            self.notify(message, severity="warning", markup=False, timeout=10)
        self._show_theme()

    def _show_theme(self) -> None:
        label = self.query_one("#theme-label", Static)
        label.update(Content(t("app.theme_label", theme=self.theme)))

    def action_next_theme(self) -> None:
        ours = ["dark", "light", "high-contrast"]
        names = [name for name in ours if name in self.available_themes] or sorted(
            self.available_themes
        )
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self._show_theme()
