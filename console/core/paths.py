"""Every file-system location agent-console uses, in one place.

Nothing else in the project builds paths to user folders: ask this module.
Locations come from :mod:`platformdirs` (XDG on Linux, ``~/Library`` on
macOS, ``%APPDATA%`` on Windows), so tests isolate everything by pointing the
``XDG_*`` variables at a temporary folder.

Discovery order for the config file: the ``AGENT_CONSOLE_CONFIG`` environment
variable (an explicit file path, handy for tests and for several setups on one
machine), then ``config.toml`` in the user config dir.  The directory
functions only compute paths; callers that write create the folder with
:func:`ensure_dir`.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "agent-console"
CONFIG_ENV = "AGENT_CONSOLE_CONFIG"
"""Environment variable naming an explicit config file path."""


def config_dir() -> Path:
    """User config folder, e.g. ``~/.config/agent-console``."""
    return platformdirs.user_config_path(APP_NAME, appauthor=False)


def config_file() -> Path:
    """The ``config.toml`` in use (``$AGENT_CONSOLE_CONFIG`` wins when set)."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return config_dir() / "config.toml"


def user_themes_dir() -> Path:
    """Folder for the user's own ``*.toml`` themes, ``<config dir>/themes``."""
    return config_dir() / "themes"


def data_dir() -> Path:
    """User data folder, e.g. ``~/.local/share/agent-console`` (outbox, demo DB, opt-in token file)."""
    return platformdirs.user_data_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    """User state folder, e.g. ``~/.local/state/agent-console``."""
    return platformdirs.user_state_path(APP_NAME, appauthor=False)


def screenshots_dir() -> Path:
    """Where screenshots go: ``<Pictures>/agent-console`` when the user has a pictures
    folder, else ``<state dir>/screenshots`` (never the current directory)."""
    pictures = platformdirs.user_pictures_path()
    if pictures.is_dir():
        return pictures / APP_NAME
    return state_dir() / "screenshots"


DOWNLOADS_ENV = "AGENT_CONSOLE_DOWNLOADS"
"""Environment variable naming the folder saved attachments go to (tests, kiosks)."""


def downloads_dir() -> Path:
    """Where saved attachments go: ``$AGENT_CONSOLE_DOWNLOADS``, else the user's downloads
    folder (platformdirs), else ``<state dir>/downloads``."""
    explicit = os.environ.get(DOWNLOADS_ENV)
    if explicit:
        return Path(explicit).expanduser()
    downloads = platformdirs.user_downloads_path()
    if downloads.is_dir():
        return downloads
    return state_dir() / "downloads"


def log_dir() -> Path:
    """Log folder, e.g. ``~/.local/state/agent-console/log``."""
    return platformdirs.user_log_path(APP_NAME, appauthor=False)


def log_file() -> Path:
    """The rotating log file written by :mod:`console.core.logging_setup`."""
    return log_dir() / "agent-console.log"


def cache_dir() -> Path:
    """User cache folder, e.g. ``~/.cache/agent-console``."""
    return platformdirs.user_cache_path(APP_NAME, appauthor=False)


def credentials_file() -> Path:
    """The opt-in plaintext token store (used only with ``credential_store = "file"``)."""
    return data_dir() / "credentials.json"


def outbox_dir() -> Path:
    """Folder for persisted outboxes (messages typed while offline)."""
    return data_dir() / "outbox"


def outbox_file(server_url: str, token: str) -> Path:
    """The persistent outbox of one identity on one server.

    Named by a hash of URL and token, so two agents on one machine never share
    an outbox and the file name reveals neither.
    """
    import hashlib

    digest = hashlib.sha256(f"{server_url.rstrip('/')}\0{token}".encode()).hexdigest()[:20]
    return outbox_dir() / f"{digest}.outbox"


def drafts_file(backend: str, identity: str) -> Path:
    """Unsent composer text of one agent of one backend kind (named by a hash)."""
    import hashlib

    digest = hashlib.sha256(f"{backend}\0{identity}".encode()).hexdigest()[:20]
    return state_dir() / "drafts" / f"{digest}.json"


def demo_dir() -> Path:
    """Folder for the demo's server database, attachments and outbox (kept across runs)."""
    return state_dir() / "demo"


def shipped_themes_dirs() -> list[Path]:
    """Folders that may hold the themes shipped with agent-console, most specific first.

    A source checkout or editable install has ``themes/`` next to the
    ``console`` package; a wheel install puts the same files in
    ``<prefix>/share/agent-console/themes`` (setuptools ``data-files``).
    Only folders that exist are returned.
    """
    import sys

    package_root = Path(__file__).resolve().parent.parent  # .../console
    candidates = [
        package_root.parent / "themes",
        Path(sys.prefix) / "share" / APP_NAME / "themes",
        Path(sys.base_prefix) / "share" / APP_NAME / "themes",
    ]
    seen: list[Path] = []
    for folder in candidates:
        if folder.is_dir() and folder not in seen:
            seen.append(folder)
    return seen


def ensure_dir(path: Path, *, private: bool = False) -> Path:
    """Create ``path`` (and parents) if missing; ``private`` makes it ``0700``."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    if private:
        os.chmod(path, 0o700)
    return path
