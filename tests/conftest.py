"""Suite-wide fixtures: keep the developer's config, keyring and data out of every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.fixtures.reference_server"]


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point XDG dirs at a temp folder and use keyring's null backend."""
    root = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        (root / var.lower()).mkdir()
        monkeypatch.setenv(var, str(root / var.lower()))
    monkeypatch.setenv("HOME", str(root))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("AGENT_CONSOLE_TOKEN", raising=False)
    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "none")
    yield root
