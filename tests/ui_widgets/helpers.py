"""Host apps and item factories for the widget tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.segment import Segment
from textual.app import App, ComposeResult
from textual.message import Message
from textual.strip import Strip

from console.ui.widgets.transcript import TranscriptItem, TranscriptView

BASE_TIME = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)


def make_item(index: int, body: str | None = None, **overrides: Any) -> TranscriptItem:
    values: dict[str, Any] = {
        "id": f"m{index}",
        "author": "Customer" if index % 2 else "Agent Kim",
        "author_kind": "customer" if index % 2 else "agent",
        "body": body if body is not None else f"message number {index}",
        "created_at": BASE_TIME + timedelta(minutes=index),
    }
    values.update(overrides)
    return TranscriptItem(**values)


def make_items(count: int, start: int = 0) -> list[TranscriptItem]:
    return [make_item(i) for i in range(start, start + count)]


class TranscriptApp(App[None]):
    """One TranscriptView filling the screen; records the messages it posts."""

    def __init__(self, items: Iterable[TranscriptItem] = (), *, has_older: bool = False) -> None:
        super().__init__()
        self._initial = list(items)
        self._has_older = has_older
        self.posted: list[Message] = []
        self.actions_run: list[str] = []

    def compose(self) -> ComposeResult:
        yield TranscriptView(self._initial, has_older=self._has_older, tz=UTC)

    @property
    def transcript(self) -> TranscriptView:
        return self.query_one(TranscriptView)

    def on_transcript_view_older_requested(self, message: TranscriptView.OlderRequested) -> None:
        self.posted.append(message)

    def on_transcript_view_unseen_changed(self, message: TranscriptView.UnseenChanged) -> None:
        self.posted.append(message)

    async def run_action(self, action: Any, default_namespace: Any = None) -> bool:
        self.actions_run.append(str(action))
        return await super().run_action(action, default_namespace)


def visible_rows(view: TranscriptView) -> list[str]:
    """Text of every row on screen, as render_line produces it."""
    return [view.render_line(y).text for y in range(view.scrollable_content_region.height)]


def segments_of(strips: Iterable[Strip]) -> list[Segment]:
    return [segment for strip in strips for segment in strip]
