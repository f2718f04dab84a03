"""Startup contract: what a fresh interpreter has (not) imported after each start step.

STYLE.md §7 / DESIGN.md: the TUI paints first, then connects, so the network
and server stacks stay out of ``import console.ui.app``, and ``--help`` loads
neither Textual nor the server.  Each case runs in a fresh subprocess (this
test process has imported everything already).  Timing lives in
``bench/startup.py``; nothing here asserts wall-clock time.

Not asserted (yet): "httpx/websockets not loaded before the first frame".  The
app's ``start_workspace`` worker and the agent screen's ``load_canned_replies``
worker both call the backend before the first paint today (see
/work/team/workspace-notes.md and ``bench/startup.py``).
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
        f"assert type(app.backend).__name__.lower().startswith({backend!r}), app.backend\n"
    )
    modules = loaded_after(code)
    assert f"console.backends.{backend}" in modules
    # keyring: not needed when --token is given
    assert present(modules, (*NETWORK_AND_SERVER, "keyring")) == []
