"""Chat backends behind one interface (:class:`console.backends.base.Backend`).

Backends are listed by name without importing them; :func:`load_backend`
imports only the one asked for, so the UI pays for httpx/websockets only when
it connects.  Adding a backend: write ``console/backends/<kind>.py`` with a
``Backend`` subclass and add one entry to ``BACKENDS`` naming its class, the
profile settings it accepts and how ``agent-console login`` gets a token
(see docs/backends.md).  ``console.core.config`` validates profile tables
against ``BACKENDS``; nothing else in the console knows backend names.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from console.backends.base import Backend

SettingKind = Literal["str", "int", "bool", "str_list", "int_list"]


@dataclass(frozen=True, slots=True)
class Setting:
    """One backend-specific profile key (``[profiles.x] key = value``)."""

    kind: SettingKind
    help: str
    required: bool = False
    option: str = ""
    """Constructor keyword it is passed as (default: the key itself)."""


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """How to build one backend: its class and what a profile may say about it."""

    target: str
    """``"module:Class"``, imported on demand."""
    settings: dict[str, Setting] = field(default_factory=dict)
    login: str | None = None
    """``"module:function"`` ``(url, user, password, **settings) -> token`` for backends that
    sign in with a user and password (``agent-console login`` asks for them and stores only the
    token); ``None``: the user pastes a token."""
    help: str = ""


BACKENDS: dict[str, BackendInfo] = {
    "native": BackendInfo(
        "console.backends.native:NativeBackend", help="the agent-console reference server"
    ),
    "chatwoot": BackendInfo(
        "console.backends.chatwoot:ChatwootBackend",
        settings={
            "account_id": Setting("int", "Chatwoot account id (when the user has several)"),
            "inbox_ids": Setting("int_list", "only show conversations of these inboxes"),
        },
        help="Chatwoot (REST + ActionCable); token = the agent's access token",
    ),
    "matrix": BackendInfo(
        "console.backends.matrix:MatrixBackend",
        settings={
            "team_room": Setting(
                "str", "the team room (alias #x:hs or !id) holding queue and notes", required=True
            ),
            "desk_user": Setting("str", "the desk account (@desk:hs); its messages show as system"),
        },
        login="console.backends.matrix:password_login",
        help="any Matrix homeserver (client-server API); see docs/matrix.md",
    ),
}


def backend_names() -> list[str]:
    """Names accepted by :func:`load_backend`, without importing any backend."""
    return sorted(BACKENDS)


def backend_info(kind: str) -> BackendInfo:
    """The registry entry for ``kind``; ValueError with a sentence if unknown."""
    info = BACKENDS.get(kind)
    if info is None:
        known = ", ".join(backend_names())
        raise ValueError(f"Unknown backend {kind!r}. Choose one of: {known}.")
    return info


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def load_backend(kind: str, **options: Any) -> Backend:
    """Create a backend by name, e.g. ``load_backend("native", base_url=..., token=...)``.

    Profile settings are passed as keyword options (renamed by ``Setting.option``).
    Raises ValueError with a sentence for an unknown kind.
    """
    info = backend_info(kind)
    for key, setting in info.settings.items():
        if setting.option and key in options:
            options[setting.option] = options.pop(key)
    cls = _import(info.target)
    backend: Backend = cls(**options)
    return backend


def password_login(kind: str, url: str, user: str, password: str, **settings: Any) -> str:
    """Exchange a user and password for a token (backends with ``login``); raises BackendError."""
    info = backend_info(kind)
    if info.login is None:
        raise ValueError(f"The {kind} backend signs in with a token, not a password.")
    token: str = _import(info.login)(url, user, password, **settings)
    return token
