"""Startup contract: what a fresh interpreter has (not) imported after each start step.

STYLE.md §7 / DESIGN.md: the TUI paints first, then connects, so the network
and server stacks stay out of ``import console.ui.app``, and ``--help`` loads
neither Textual nor the server.  Each case runs in a fresh subprocess (this
test process has imported everything already).  Timing lives in
``bench/startup.py``; nothing here asserts wall-clock time.

The first frame itself: the app paints its neutral loading screen, then starts
the connection worker (``call_after_refresh``), so no network module is loaded
when the first frame is rendered; the worker loads them afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

NETWORK_AND_SERVER = (
    "httpx",
    "httpcore",
    "anyio",
    "websockets",
    "starlette",
    "uvicorn",
    "console.server",
    "console.sim",
)

PROBE = """
import json, sys
{code}
print(json.dumps(sorted(sys.modules)))
"""


def loaded_after(code: str) -> set[str]:
    """Module names present after running ``code`` in a fresh interpreter."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env.pop("AGENT_CONSOLE_TOKEN", None)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(code=code)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def present(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules]


def test_import_cli_loads_neither_textual_nor_network_nor_server() -> None:
    modules = loaded_after("import console.cli")
    assert "console.cli" in modules  # the probe sees what was imported
    assert present(modules, ("textual", "rich", "msgspec", "keyring", *NETWORK_AND_SERVER)) == []


def test_help_loads_neither_textual_nor_network_nor_server() -> None:
    code = (
        "import contextlib, io\n"
        "from console.cli import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit as exc:\n"
        "        assert exc.code == 0, exc.code\n"
        "assert 'agent-console' in out.getvalue()\n"
    )
    modules = loaded_after(code)
    assert present(modules, ("textual", "keyring", *NETWORK_AND_SERVER)) == []


def test_import_ui_app_leaves_network_server_and_backends_for_later() -> None:
    modules = loaded_after("import console.ui.app")
    assert "textual.app" in modules and "msgspec" in modules  # what the TUI does need
    lazy = (
        *NETWORK_AND_SERVER,
        "keyring",
        "console.backends.native",
        "console.backends.chatwoot",
        "console.ui.screens.supervisor",
        "console.core.dashboard",
        "tomlkit",
    )
    assert present(modules, lazy) == []


@pytest.mark.parametrize("backend", ["native"])
def test_console_start_path_before_run_does_not_load_network(backend: str) -> None:
    """``agent-console --server URL --token T`` up to ``app.run()``: config, logging,
    token and backend are ready, yet httpx/websockets wait for the first request."""
    code = (
        "from console.cli import build_parser, prepare_console\n"
        "args = build_parser().parse_args(\n"
        "    ['--server', 'http://127.0.0.1:9', '--token', 'tok-startup-test', '--lang', 'en'])\n"
        "app = prepare_console(args, interactive=False)\n"
        "inner = getattr(app.backend, 'inner', app.backend)  # behind the sanitizing boundary\n"
        f"assert type(inner).__name__.lower().startswith({backend!r}), inner\n"
    )
    modules = loaded_after(code)
    assert f"console.backends.{backend}" in modules
    # keyring: not needed when --token is given
    assert present(modules, (*NETWORK_AND_SERVER, "keyring")) == []


FIRST_FRAME = """
import asyncio, sys
from console.cli import build_parser, prepare_console

args = build_parser().parse_args(
    ['--server', 'http://127.0.0.1:9', '--token', 'tok-startup-test', '--lang', 'en'])
app = prepare_console(args, interactive=False)
at_first_frame: list[str] = []
after: list[str] = []
original = app._display

def display(screen, renderable):
    if renderable is not None and not app._batch_count and not at_first_frame:
        at_first_frame.extend(sorted(sys.modules))
        at_first_frame.append('screen:' + type(screen).__name__)
    return original(screen, renderable)

app._display = display

async def drive():
    async with app.run_test(headless=True, size=(100, 30)) as pilot:
        for _ in range(200):
            await pilot.pause(0.02)
            if at_first_frame and 'httpx' in sys.modules:
                break
        after.extend(sorted(sys.modules))

asyncio.run(drive())
sys.modules_at_first_frame = at_first_frame
sys.modules_after = after
"""


def test_first_frame_is_painted_before_the_network_stack_loads(tmp_path: Path) -> None:
    """The real start path (NativeBackend, unreachable server): at the first rendered
    frame neither httpx, httpcore, anyio nor websockets is imported; the connection
    worker imports them afterwards (which shows the probe sees the difference)."""
    code = (
        FIRST_FRAME
        + "import json\n"
        + "print(json.dumps({'first': sys.modules_at_first_frame, 'after': sys.modules_after}))\n"
        + "raise SystemExit(0)\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env.pop("AGENT_CONSOLE_TOKEN", None)
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(tmp_path / name.lower())
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    first, after = set(data["first"]), set(data["after"])
    assert "screen:LoadingScreen" in first
    assert "textual.app" in first and "console.backends.native" in first
    lazy = (
        *NETWORK_AND_SERVER,
        "console.ui.screens.agent",  # built after the role is known
        "console.ui.widgets.transcript",
        "console.ui.screens.supervisor",
        "console.core.dashboard",
    )
    assert present(first, lazy) == []
    assert "httpx" in after  # the worker did connect (and fail) after the first frame


def test_console_start_path_freezes_the_startup_heap() -> None:
    """``agent-console`` asks for GC tuning; ``settle_heap`` (run once after the first role
    screen is painted) freezes what is alive and raises the thresholds.  In a fresh
    interpreter: freezing in the test process would keep every test's garbage."""
    code = (
        "import gc\n"
        "from console.cli import build_parser, prepare_console\n"
        "args = build_parser().parse_args(\n"
        "    ['--server', 'http://127.0.0.1:9', '--token', 'tok-startup-test', '--lang', 'en'])\n"
        "app = prepare_console(args, interactive=False)\n"
        "assert app.gc_tuning is True\n"
        "from console.ui.app import GC_THRESHOLDS, settle_heap\n"
        "assert gc.get_freeze_count() == 0\n"
        "settle_heap()\n"
        "assert gc.get_freeze_count() > 10_000, gc.get_freeze_count()\n"
        "assert gc.get_threshold() == GC_THRESHOLDS\n"
    )
    loaded_after(code)
