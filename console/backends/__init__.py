"""Chat backends behind one interface (:class:`console.backends.base.Backend`).

Backends are listed by name without importing them; :func:`load_backend`
imports only the one asked for, so the UI pays for httpx/websockets only when
it connects.  Adding a backend: write ``console/backends/<kind>.py`` with a
``Backend`` subclass and add one line to ``BACKENDS`` (see docs/backends.md).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from console.backends.base import Backend

# kind -> "module:Class", imported on demand.
BACKENDS: dict[str, str] = {
    "native": "console.backends.native:NativeBackend",
    "chatwoot": "console.backends.chatwoot:ChatwootBackend",
}


def backend_names() -> list[str]:
    """Names accepted by :func:`load_backend`, without importing any backend."""
    return sorted(BACKENDS)


def load_backend(kind: str, **options: Any) -> Backend:
    """Create a backend by name, e.g. ``load_backend("native", base_url=..., token=...)``.

    Raises ValueError with a sentence for an unknown kind.
    """
    target = BACKENDS.get(kind)
    if target is None:
        known = ", ".join(backend_names())
        raise ValueError(f"Unknown backend {kind!r}. Choose one of: {known}.")
    module_name, _, class_name = target.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    backend: Backend = cls(**options)
    return backend
