"""The demo seed data now lives in :mod:`console.seed_data`.

It moved out of ``console.server`` because the simulator reads it too and
``console.sim`` may not import the server (it is an HTTP client; see the import
contracts in ``pyproject.toml``).  This module keeps the old import path.
"""

from __future__ import annotations

from console.seed_data import (
    DEMO_AGENTS,
    DEMO_CANNED_REPLIES,
    DEMO_CUSTOMERS,
    DEMO_DEPARTMENTS,
)

__all__ = ["DEMO_AGENTS", "DEMO_CANNED_REPLIES", "DEMO_CUSTOMERS", "DEMO_DEPARTMENTS"]
