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


@pytest.fixture(autouse=True)
def no_survived_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """The console survives a failing callback (logged, toasted); a test must not leave one.

    ``AgentConsoleApp._handle_exception`` keeps the app running instead of exiting, so
    without this check an error would no longer fail the test that caused it.  A test
    that provokes one on purpose is marked ``survives_errors`` and clears the list.
    """
    import sys

    app_module = sys.modules.get("console.ui.app")
    if app_module is not None:
        app_module.AgentConsoleApp.survived_errors.clear()
    yield
    app_module = sys.modules.get("console.ui.app")
    if app_module is None or request.node.get_closest_marker("survives_errors"):
        return
    errors = list(app_module.AgentConsoleApp.survived_errors)
    app_module.AgentConsoleApp.survived_errors.clear()
    assert not errors, f"the console survived errors this test should not cause: {errors!r}"
