"""Jump mode (after posting's ``Jumper``/``JumpOverlay``): one key per target.

Press the jump key and a label appears over every chat pane (1–6) and panel
(s sidebar, q queue, n note); pressing a label focuses that target.  Targets
are any visible widget with a ``jump_key`` attribute.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center
from textual.content import Content
from textual.errors import NoWidget
from textual.geometry import Offset
from textual.screen import ModalScreen, Screen
from textual.widget import Widget
from textual.widgets import Label

from console.core.workspace import tr


@runtime_checkable
class Jumpable(Protocol):
    jump_key: str


def _tab_offset(screen: Screen[Any], child: Widget) -> Offset | None:
    """Where a chat hidden behind the tab strip (one pane at a time) shows its tab."""
    index = getattr(child, "index", None)
    if not isinstance(index, int):
        return None
    for strip in screen.query("TabStrip"):
        tab_x = getattr(strip, "tab_x", None)
        if not strip.display or tab_x is None:
            continue
        x = tab_x(index)
        if x is None:
            continue
        try:
            strip_x, strip_y = screen.get_offset(strip)
        except NoWidget:
            continue
        return Offset(strip_x + x, strip_y)
    return None


def jump_targets(screen: Screen[Any]) -> dict[str, tuple[Offset, Widget]]:
    """key → (screen offset, widget) for every visible Jumpable widget; a chat hidden
    behind the tab strip (80×24 with two chats or more) is labelled on its tab."""
    targets: dict[str, tuple[Offset, Widget]] = {}
    for child in screen.walk_children(Widget):
        if not isinstance(child, Jumpable):
            continue
        key = child.jump_key
        if not key or key in targets:
            continue
        if not child.display:
            hidden_at = _tab_offset(screen, child) if child.parent is not None else None
            if hidden_at is not None and child.parent is not None and child.parent.display:
                targets[key] = (hidden_at, child)
            continue
        try:
            x, y = screen.get_offset(child)
        except NoWidget:
            continue
        targets[key] = (Offset(x, y), child)
    return targets


class JumpOverlay(ModalScreen[Widget | None]):
    DEFAULT_CSS = """
    JumpOverlay { background: black 25%; }
    JumpOverlay .jump-label { background: $accent; color: $text; text-style: bold; padding: 0 1; }
    JumpOverlay #jump-info { dock: bottom; height: 1; width: 100%; }
    """

    BINDINGS = [Binding("escape", "dismiss_overlay", "Dismiss", show=False)]

    def __init__(self, targets: dict[str, tuple[Offset, Widget]]) -> None:
        super().__init__()
        self.targets = targets

    def compose(self) -> ComposeResult:
        for key, (offset, _widget) in self.targets.items():
            label = Label(Content(key), classes="jump-label")
            label.styles.offset = (offset.x, offset.y)
            label.styles.position = "absolute"
            yield label
        with Center(id="jump-info"):
            yield Label(Content(tr("jump_hint")))

    def on_key(self, event: events.Key) -> None:
        character = event.character or ""
        target = self.targets.get(character) or self.targets.get(event.key)
        if target is not None:
            event.stop()
            self.dismiss(target[1])

    def action_dismiss_overlay(self) -> None:
        self.dismiss(None)
