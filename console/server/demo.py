"""Load ``console.server.seed_data`` into the database for ``--demo`` (idempotent)."""

from __future__ import annotations

from console.server.db import Database


def load_demo(db: Database) -> None:
    """Seed demo departments, agents, customers and canned replies once per database."""
    from console.server import seed_data  # noqa: F401  (filled in below)
