"""The demo stack (real server + simulator in threads), kept in the state folder."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from console.core.config import Config
from console.demo import DemoStack, build_demo_app


def get(stack: DemoStack, path: str) -> httpx.Response:
    assert stack.url and stack.token
    return httpx.get(
        f"{stack.url}/api/v1{path}", headers={"Authorization": f"Bearer {stack.token}"}, timeout=10
    )


def test_demo_stack_serves_seeds_simulates_and_stops() -> None:
    with DemoStack("agent", seed=3, speed=40, rate=60) as stack:
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
    with DemoStack("supervisor", simulate=False) as stack:
        assert get(stack, "/me").json()["role"] == "supervisor"


async def test_demo_app_is_the_real_console() -> None:
    from console.ui.app import AgentConsoleApp

    with DemoStack("supervisor", simulate=False) as stack:
        app = build_demo_app(stack, config=Config(), theme="light", lang="ja")
        assert isinstance(app, AgentConsoleApp)
        assert app.readonly is True


def test_demo_restart_resumes_from_the_state_directory() -> None:
    """`agent-console demo` keeps its database in the state folder: a restart finds it."""
    from console.core import paths

    folder = paths.demo_dir()
    assert folder.is_relative_to(paths.state_dir())
    with DemoStack("agent", simulate=False, workdir=folder) as stack:
        assert stack.url and stack.token
        created = httpx.post(
            f"{stack.url}/api/v1/canned-replies",
            headers={"Authorization": f"Bearer {stack.token}"},
            json={"title": "Kept across restarts", "body": "still here"},
            timeout=10,
        )
        assert created.status_code == 201, created.text
        seeded = len(get(stack, "/canned-replies").json())
    assert (folder / "demo.sqlite3").exists()  # a given folder is kept
    assert folder.stat().st_mode & 0o777 == 0o700
    with DemoStack("agent", simulate=False, workdir=folder) as stack:
        replies = get(stack, "/canned-replies").json()
        assert "Kept across restarts" in {r["title"] for r in replies}
        assert len(replies) == seeded  # the demo seed is not applied twice


def test_demo_fresh_starts_over(monkeypatch: pytest.MonkeyPatch) -> None:
    """`demo --fresh` removes the kept folder before starting."""
    from console import demo
    from console.core import paths

    folder = paths.demo_dir()
    folder.mkdir(parents=True)
    (folder / "demo.sqlite3").write_bytes(b"old")
    seen: list[bool] = []

    class Stop(Exception):
        pass

    def fake_stack(*args: object, workdir: Path, **kwargs: object) -> None:
        seen.append((workdir / "demo.sqlite3").exists())
        raise Stop

    monkeypatch.setattr(demo, "DemoStack", fake_stack)
    with pytest.raises(Stop):
        demo.run_demo(config=Config())
    with pytest.raises(Stop):
        demo.run_demo(config=Config(), fresh=True)
    assert seen == [True, False]


def test_demo_on_a_busy_port_is_a_clear_error() -> None:
    import socket

    from console.demo import DemoError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(DemoError, match="--port 0"):
            with DemoStack(port=port, simulate=False):
                pass
