"""The app puts whatever backend it is given behind the sanitizing boundary (read-only outside)."""

from __future__ import annotations

from console.backends.base import ReadOnlyBackend
from console.backends.native import NativeBackend
from console.core.boundary import SanitizingBackend, is_sanitized
from console.ui.app import AgentConsoleApp


def test_the_app_wraps_a_raw_backend_once() -> None:
    raw = NativeBackend("http://127.0.0.1:9", "t")
    app = AgentConsoleApp(raw, lang="en")
    assert isinstance(app.backend, SanitizingBackend) and app.backend.inner is raw
    assert app.controller.backend is app.backend
    again = AgentConsoleApp(app.backend, lang="en")
    assert again.backend is app.backend  # already behind the boundary: not wrapped twice


def test_read_only_stays_outermost_and_reads_are_sanitized() -> None:
    raw = NativeBackend("http://127.0.0.1:9", "t")
    for app in (
        AgentConsoleApp(raw, readonly=True, lang="en"),
        AgentConsoleApp(ReadOnlyBackend(raw), lang="en"),
    ):
        assert app.readonly
        assert isinstance(app.backend, ReadOnlyBackend) and is_sanitized(app.backend)
