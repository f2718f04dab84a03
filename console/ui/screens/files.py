"""Attachments in the agent workspace (issue 14): save a customer's file, send a file.

``alt+a`` lists the focused chat's files (newest first: name, type, size, who
sent it; images marked) and Enter saves the chosen one to the downloads folder
under a safe, unused name (``WorkspaceController.save_attachment``); the
console never opens or runs it.  ``alt+u`` asks for a path (Tab completes,
candidates listed below) and sends the file (``send_file``) within the
backend's size limit.  File names are the customer's text: shown as
``Content`` only.
"""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.core.attachments import complete_path, human_size
from console.core.store import StoredMessage
from console.core.workspace import tr
from console.protocol import models as m


def attachment_prompt(stored: StoredMessage, attachment: m.Attachment) -> Content:
    """``🖼 photo.png  image/png · 12.3 KB · 정하늘 12:03`` (the name and sender as Content)."""
    image = attachment.content_type.startswith("image/")
    return Content.assemble(
        ("🖼 " if image else "📄 ", ""),
        (attachment.filename, "bold"),
        ("  " + attachment.content_type + " · " + human_size(attachment.size), "dim"),
        ("  " + (stored.message.author_name or stored.message.author_kind), ""),
        (" " + stored.message.created_at.strftime("%H:%M"), "dim"),
    )


class AttachmentsScreen(ModalScreen[m.Attachment | None]):
    """The focused chat's files; Enter picks one to save."""

    DEFAULT_CSS = """
    AttachmentsScreen { align: center middle; }
    AttachmentsScreen > Vertical { width: 80; max-width: 100%; height: 20; max-height: 100%;
                                   border: round $accent; background: $surface; padding: 0 1; }
    AttachmentsScreen #files-title { text-style: bold; }
    AttachmentsScreen OptionList { height: 1fr; }
    """
    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(
        self, customer_name: str, files: list[tuple[StoredMessage, m.Attachment]], folder: Path
    ) -> None:
        super().__init__(id="files-dialog")
        self.customer_name = customer_name
        self.files = files
        self.folder = folder

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content(tr("files_title", name=self.customer_name, folder=str(self.folder))),
                id="files-title",
            )
            if not self.files:
                yield Static(Content(tr("files_none")), id="files-none")
            yield OptionList(
                *(
                    Option(attachment_prompt(stored, attachment), id=str(index))
                    for index, (stored, attachment) in enumerate(self.files)
                ),
                id="files-list",
            )

    def on_mount(self) -> None:
        files = self.query_one("#files-list", OptionList)
        if files.option_count:
            files.highlighted = 0
        files.focus()

    @on(OptionList.OptionSelected, "#files-list")
    def chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.files[int(event.option.id or 0)][1])

    def action_cancel(self) -> None:
        self.dismiss(None)


class PathInput(Input):
    """An input whose Tab completes a file path (instead of moving focus)."""

    # Not a priority binding: those run before the typed characters queued ahead of the Tab
    # reach the input (tmux delivers "path<Tab>" at once), completing a stale value.
    BINDINGS = [Binding("tab", "complete", "Complete", show=False)]

    def action_complete(self) -> None:
        completed, names = complete_path(self.value)
        if completed != self.value:
            self.value = completed
            self.cursor_position = len(completed)
        screen = self.screen
        if isinstance(screen, SendFileScreen):
            screen.show_candidates(names)


class SendFileScreen(ModalScreen[Path | None]):
    """Type a path (Tab completes); Enter sends it if it is a file within the limit."""

    DEFAULT_CSS = """
    SendFileScreen { align: center middle; }
    SendFileScreen > Vertical { width: 80; max-width: 100%; height: auto; max-height: 100%;
                                border: round $accent; background: $surface; padding: 0 1; }
    SendFileScreen #send-file-title { text-style: bold; }
    SendFileScreen #send-file-candidates { color: $text-muted; max-height: 8; }
    SendFileScreen #send-file-problem { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Close")]

    def __init__(self, customer_name: str, limit: int) -> None:
        super().__init__(id="send-file-dialog")
        self.customer_name = customer_name
        self.limit = limit

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                Content(tr("send_file_title", name=self.customer_name)), id="send-file-title"
            )
            yield PathInput(placeholder=tr("send_file_placeholder"), id="send-file-path")
            yield Static(
                Content(tr("send_file_hint", limit=human_size(self.limit))), id="send-file-hint"
            )
            yield Static("", id="send-file-candidates", markup=False)
            yield Static("", id="send-file-problem", markup=False)

    def on_mount(self) -> None:
        self.query_one(PathInput).focus()

    def show_candidates(self, names: list[str]) -> None:
        self.query_one("#send-file-candidates", Static).update(Content("  ".join(names)))

    @on(Input.Submitted, "#send-file-path")
    def submitted(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        problem = ""
        if not event.value.strip() or not path.is_file():
            problem = tr("file_not_a_file", path=str(path))
        elif path.stat().st_size > self.limit:
            problem = tr(
                "file_too_big",
                size=human_size(path.stat().st_size),
                limit=human_size(self.limit),
            )
        if problem:
            self.query_one("#send-file-problem", Static).update(Content(problem))
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
