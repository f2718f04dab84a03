"""Supervisor tests run in English unless a test picks a language (snapshots compare text)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.core.i18n import get_language, set_language


@pytest.fixture(autouse=True)
def english_ui() -> Iterator[None]:
    """Whatever an earlier test in this worker left active, start in English and restore it."""
    before = get_language()
    set_language("en")
    yield
    set_language(before)
