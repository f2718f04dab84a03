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
