"""The palette's "Screenshot" writes to the pictures (else state) folder and says where."""

from __future__ import annotations

from pathlib import Path

import platformdirs
import pytest

from console.backends.native import NativeBackend
from console.core import paths
from tests.fixtures.reference_server import RefServer
from tests.supervisor.live import build_world, wait_for

pytestmark = pytest.mark.timeout(120)


def test_screenshots_dir_prefers_pictures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pictures = tmp_path / "Pictures"
    monkeypatch.setattr(platformdirs, "user_pictures_path", lambda: pictures)
    monkeypatch.setattr(paths, "state_dir", lambda: tmp_path / "state")
    assert paths.screenshots_dir() == tmp_path / "state" / "screenshots"  # no Pictures yet
    pictures.mkdir()
    assert paths.screenshots_dir() == pictures / "agent-console"


async def test_screenshot_goes_to_the_folder_and_the_toast_says_where(
    ref_server: RefServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from console.ui.app import AgentConsoleApp
    from console.ui.screens.supervisor import SupervisorScreen

    folder = tmp_path / "shots"
    monkeypatch.setattr(paths, "screenshots_dir", lambda: folder)
    monkeypatch.chdir(tmp_path)
    world = await build_world(ref_server)
    app = AgentConsoleApp(NativeBackend(ref_server.url, world.supervisor_token))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SupervisorScreen), "the screen")
        app.action_screenshot()
        await pilot.pause()
        (saved,) = folder.glob("*.svg")
        assert saved.read_text(encoding="utf-8").startswith("<svg")
        assert not list(tmp_path.glob("*.svg"))  # nothing in the current directory
        toasts = [str(n.message) for n in list(app._notifications)]
        assert any(str(saved) in text for text in toasts), toasts
