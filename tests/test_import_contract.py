"""The headless layers must not load the TUI, proven at run time (harlequin's test)."""

import subprocess
import sys

import pytest

HEADLESS = [
    "console",
    "console.protocol.models",
    "console.backends.base",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_imports_do_not_load_the_tui(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')"
        " or m.startswith('console.ui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_simulator_runs_without_loading_the_server() -> None:
    """console.sim is an HTTP client: planning chats (which reads the seed data) loads no server."""
    code = (
        "import sys\n"
        "import console.sim.runner, console.sim.plan as plan\n"
        "assert plan._people('en') and plan._department_name('billing')\n"
        "print(','.join(sorted(m for m in sys.modules if m.startswith('console.server'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
