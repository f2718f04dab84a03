"""Matrix backend: a support desk on any Matrix homeserver (see docs/matrix.md).

``MatrixBackend`` (``backend.py``) is the console's side; ``desk.py`` holds what
the team's desk account does (create the team room, open conversation rooms),
for a web widget's server, a bridge hook, the simulator and the tests.
Nothing here imports httpx at import time.
"""

from __future__ import annotations

from console.backends.matrix.backend import (
    MatrixBackend,
    conversation_id_for,
    password_login,
    room_of,
    safe_filename,
)

__all__ = ["MatrixBackend", "conversation_id_for", "password_login", "room_of", "safe_filename"]
