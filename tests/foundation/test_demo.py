"""The demo stack (real server + simulator in threads) and the placeholder app."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from console.core.config import Config
from console.demo import DemoStack, build_demo_app
from console.ui.placeholder import PlaceholderApp


def get(stack: DemoStack, path: str) -> httpx.Response:
    assert stack.url and stack.token
    return httpx.get(
        f"{stack.url}/api/v1{path}", headers={"Authorization": f"Bearer {stack.token}"}, timeout=10
    )


def test_demo_stack_serves_seeds_simulates_and_stops() -> None:
    pytest.importorskip("console.server.app")
    pytest.importorskip("console.sim")
    with DemoStack("agent", seed=3, speed=40, rate=60) as stack:
        assert stack.problems == []
        workdir = stack.workdir
        me = get(stack, "/me").json()
        assert me["role"] == "agent" and me["department_ids"]
        deadline = time.monotonic() + 30
        conversations: list[object] = []
        while time.monotonic() < deadline and not conversations:
            conversations = get(stack, "/conversations?state=queued&assignee=any").json()["items"]
            time.sleep(0.2)
        assert conversations, "the simulator never opened a conversation"
    assert not stack.server_alive
    assert not workdir.exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("demo-")]


def test_demo_as_supervisor_gets_a_supervisor_token() -> None:
    pytest.importorskip("console.server.app")
    with DemoStack("supervisor", simulate=False) as stack:
        assert get(stack, "/me").json()["role"] == "supervisor"


async def test_demo_app_is_the_real_console_when_it_is_built() -> None:
    pytest.importorskip("console.ui.app")
    pytest.importorskip("console.server.app")
    from console.ui.app import AgentConsoleApp

    with DemoStack("supervisor", simulate=False) as stack:
        app = build_demo_app(stack, config=Config(), theme="light", lang="ja")
        assert isinstance(app, AgentConsoleApp)
        assert app.readonly is True


async def test_demo_falls_back_to_the_placeholder_when_parts_are_missing(tmp_path: Path) -> None:
    stack = DemoStack(workdir=tmp_path)
    stack.problems.append("agent-console: the reference server is not built yet (issue 4).")
    app = build_demo_app(stack, config=Config(theme="high-contrast"))
    assert isinstance(app, PlaceholderApp)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "high-contrast"
        text = " ".join(str(w.render()) for w in app.query("Static"))
        assert "Not built yet" in text and "reference server is not built yet" in text


async def test_placeholder_is_translated_and_cycles_themes() -> None:
    from console.core.i18n import get_language, set_language

    before = get_language()
    set_language("ko")
    try:
        app = PlaceholderApp(theme="dark", details=["[@click=app.quit]not markup[/]"])
        async with app.run_test() as pilot:
            await pilot.pause()
            text = " ".join(str(w.render()) for w in app.query("Static"))
            assert "아직 만들어지지 않음" in text
            assert "[@click=app.quit]not markup[/]" in text
            await pilot.press("t")
            assert app.theme == "light"
            await pilot.press("t")
            assert app.theme == "high-contrast"
            await pilot.press("q")
        assert app.return_code == 0
    finally:
        set_language(before)


def test_demo_on_a_busy_port_is_a_clear_error() -> None:
    pytest.importorskip("console.server.app")
    import socket

    from console.demo import DemoError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DemoError, match="--port 0"):
            with DemoStack(port=port, simulate=False):
                pass
