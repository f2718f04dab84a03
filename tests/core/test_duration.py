"""The one duration formatter (console/core/duration.py): compact, localized, signed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.core import i18n
from console.core.duration import format_duration


@pytest.fixture
def language() -> Iterator[None]:
    before = i18n.get_language()
    yield
    i18n.set_language(before)


CASES = (None, 0, 5.9, 59, 60, 75, 185, 3599, 3600, 7440, -5, -75, -0.5)


EXPECTED = {
    "en": "- 0s 5s 59s 1m00s 1m15s 3m05s 59m59s 1h00m 2h04m -5s -1m15s 0s",
    "ko": "- 0초 5초 59초 1분00초 1분15초 3분05초 59분59초 1시간00분 2시간04분 -5초 -1분15초 0초",
    "ja": "- 0秒 5秒 59秒 1分00秒 1分15秒 3分05秒 59分59秒 1時間00分 2時間04分 -5秒 -1分15秒 0秒",
}


@pytest.mark.parametrize("lang", sorted(EXPECTED))
def test_one_compact_form_per_language(language: None, lang: str) -> None:
    i18n.set_language(lang)
    assert [format_duration(seconds) for seconds in CASES] == EXPECTED[lang].split()


def test_nothing_else_formats_durations() -> None:
    """The agent pane, queue and supervisor widgets all import the core formatter."""
    import console.ui.widgets.pane as pane
    import console.ui.widgets.queue_panel as queue_panel
    import console.ui.widgets.supervisor.cells as cells
    import console.ui.widgets.supervisor.panels as panels
    import console.ui.widgets.supervisor.watch as watch

    for module in (pane, queue_panel, cells, panels, watch):
        assert module.format_duration is format_duration, module.__name__
