"""Foundation modules import without Textual (the CLI must start fast and headless parts stay UI-free)."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "console.cli",
    "console.demo",
    "console.core.paths",
    "console.core.config",
    "console.core.credentials",
    "console.core.i18n",
    "console.core.logging_setup",
]


@pytest.mark.parametrize("module", MODULES)
def test_foundation_module_does_not_load_the_tui(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'uvicorn', 'httpx',"
        " 'websockets', 'keyring', 'tomlkit') or m.startswith('console.ui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
