"""The client core loads without Textual, httpx or websockets (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

import pytest

MODULES = [
    "console.core.store",
    "console.core.triggers",
    "console.core.expectations",
    "console.core.placeholders",
    "console.core.text",
]


@pytest.mark.parametrize("module", MODULES)
def test_core_modules_do_not_load_the_tui_or_the_network(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'httpx', 'websockets', 'starlette', 'uvicorn') or m.startswith('console.ui'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
