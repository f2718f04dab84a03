"""Foundation tests share process-wide state (active language, log handlers): reset it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from console.core import i18n, logging_setup


@pytest.fixture(autouse=True)
def english_and_no_file_logging() -> Iterator[None]:
    i18n.set_language("en")
    yield
    i18n.set_language("en")
    logging_setup.teardown_logging()
