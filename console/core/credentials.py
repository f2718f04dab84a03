"""Where the console's API token comes from, and where ``agent-console login`` puts it.

Resolution order (:func:`resolve_token`), first hit wins:

1. ``--token`` on the command line, then the ``AGENT_CONSOLE_TOKEN`` variable;
2. the OS keyring (:mod:`keyring`), service ``agent-console``, user = the
   server URL.  The keyring is probed in a daemon thread with a 2 s timeout
   (a locked or absent D-Bus secret service can hang for a long time), and a
   fail, null or plaintext backend counts as "no keyring";
3. the opt-in plaintext file ``<data dir>/credentials.json`` (mode 0600),
   read and written only when config.toml says ``credential_store = "file"``;
4. nothing: the caller prompts (the CLI with getpass, the TUI with a login
   screen).

Refusals: a token is never written to config.toml (the config loader rejects
token keys) and never logged: every token this module sees is registered with
:func:`console.core.logging_setup.register_secret`, and the log filter
redacts it.  A token file readable by group or others is ignored.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from console.core import paths
from console.core.config import Config
from console.core.logging_setup import register_secret

SERVICE = "agent-console"
TOKEN_ENV = "AGENT_CONSOLE_TOKEN"
KEYRING_TIMEOUT = 2.0

TokenSource = Literal["argument", "environment", "keyring", "file"]

log = logging.getLogger(__name__)
T = TypeVar("T")


class CredentialError(Exception):
    """A token could not be stored; the message says what to do instead."""


@dataclass(frozen=True, slots=True)
class ResolvedToken:
    token: str
    source: TokenSource

    def __repr__(self) -> str:  # never show the token in tracebacks or logs
        return f"ResolvedToken(token=<redacted>, source={self.source!r})"


@dataclass(frozen=True, slots=True)
class KeyringStatus:
    """Result of :func:`probe_keyring`: ``usable`` only for a real, secure OS keyring."""

    usable: bool
    backend: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class StoredToken:
    """Where :func:`store_token` put a token; ``warning`` is set for the plaintext file."""

    where: Literal["keyring", "file"]
    location: str
    warning: str | None = None


def credential_key(url: str) -> str:
    """The keyring user name / file key for a server: the URL without a trailing slash."""
    return url.strip().rstrip("/")


# --------------------------------------------------------------------------- keyring


def _call_with_timeout(fn: Callable[[], T], timeout: float) -> T:
    """Run ``fn`` in a daemon thread; ``TimeoutError`` if it does not finish in time.

    A daemon thread (not a ThreadPoolExecutor) so a hung keyring never blocks exit.
    """
    result: list[T] = []
    error: list[BaseException] = []

    def run() -> None:
        try:
            result.append(fn())
        except BaseException as exc:
            error.append(exc)

    thread = threading.Thread(target=run, name="keyring-probe", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"the OS keyring did not answer within {timeout:g} s")
    if error:
        raise error[0]
    return result[0]


def _backend_is_secure(backend: Any) -> tuple[bool, str]:
    from keyring.backends import chainer, fail, null

    name = f"{type(backend).__module__}.{type(backend).__qualname__}"
    if isinstance(backend, fail.Keyring | null.Keyring):
        return False, f"{name} stores nothing"
    if "plaintext" in name.lower() or name.startswith("keyrings.alt.file"):
        return False, f"{name} keeps secrets in plain text"
    if isinstance(backend, chainer.ChainerBackend):
        members = [b for b in backend.backends if _backend_is_secure(b)[0]]
        return (bool(members), f"{name} has no secure backend" if not members else "")
    try:
        priority = float(backend.priority)
    except Exception as exc:
        return False, f"{name} is not viable ({exc})"
    if priority < 1:
        return False, f"{name} has priority {priority:g}, below 'recommended'"
    return True, ""


def _probe_now() -> KeyringStatus:
    import keyring

    backend = keyring.get_keyring()
    secure, detail = _backend_is_secure(backend)
    return KeyringStatus(secure, f"{type(backend).__module__}.{type(backend).__qualname__}", detail)


def probe_keyring(timeout: float = KEYRING_TIMEOUT) -> KeyringStatus:
    """Find the OS keyring backend without hanging; never raises."""
    try:
        return _call_with_timeout(_probe_now, timeout)
    except Exception as exc:
        log.warning("OS keyring unavailable: %s", exc)
        return KeyringStatus(False, "unknown", str(exc))


def _keyring_get(key: str, timeout: float) -> str | None:
    """Probe and read in one thread call, so the whole lookup waits at most ``timeout``."""

    def probe_and_get() -> str | None:
        import keyring

        status = _probe_now()
        if not status.usable:
            log.info("not using keyring %s: %s", status.backend, status.detail)
            return None
        value = keyring.get_password(SERVICE, key)
        return value if isinstance(value, str) else None

    try:
        return _call_with_timeout(probe_and_get, timeout)
    except Exception as exc:
        log.warning("reading the OS keyring failed: %s", exc)
        return None


# --------------------------------------------------------------------------- file store


def _read_file_store(path: Path) -> dict[str, str]:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return {}
    if os.name == "posix" and mode & 0o077:
        log.warning(
            "ignoring token file %s: it is readable by other users (mode %o); run chmod 600 on it",
            path,
            mode & 0o777,
        )
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring unreadable token file %s: %s", path, type(exc).__name__)
        return {}
    tokens = data.get("tokens") if isinstance(data, dict) else None
    if not isinstance(tokens, dict):
        return {}
    return {k: v for k, v in tokens.items() if isinstance(k, str) and isinstance(v, str)}


def _write_file_store(path: Path, tokens: dict[str, str]) -> None:
    paths.ensure_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if os.name == "posix":
            os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"version": 1, "tokens": tokens}, handle, indent=2, sort_keys=True)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


# --------------------------------------------------------------------------- public API


def resolve_token(
    profile_url: str,
    *,
    cli_token: str | None = None,
    config: Config | None = None,
    environ: Mapping[str, str] | None = None,
    keyring_timeout: float = KEYRING_TIMEOUT,
) -> ResolvedToken | None:
    """Find a token for ``profile_url`` in the documented order; None means "prompt"."""
    env = os.environ if environ is None else environ
    found: ResolvedToken | None = None
    if cli_token and cli_token.strip():
        found = ResolvedToken(cli_token.strip(), "argument")
    elif env.get(TOKEN_ENV, "").strip():
        found = ResolvedToken(env[TOKEN_ENV].strip(), "environment")
    else:
        key = credential_key(profile_url)
        from_keyring = _keyring_get(key, keyring_timeout)
        if from_keyring:
            found = ResolvedToken(from_keyring, "keyring")
        elif config is not None and config.credential_store == "file":
            from_file = _read_file_store(paths.credentials_file()).get(key)
            if from_file:
                log.warning(
                    "using the plaintext token file %s for %s", paths.credentials_file(), key
                )
                found = ResolvedToken(from_file, "file")
    if found is not None:
        register_secret(found.token)
        log.info("token for %s from %s", credential_key(profile_url), found.source)
    return found


def store_token(
    profile_url: str,
    token: str,
    *,
    config: Config | None = None,
    keyring_timeout: float = KEYRING_TIMEOUT,
) -> StoredToken:
    """Save ``token`` for ``profile_url``: the file store if opted in, else the OS keyring.

    Raises :class:`CredentialError` with advice when neither is possible.
    """
    token = token.strip()
    if not token:
        raise CredentialError("The token is empty; nothing was saved.")
    register_secret(token)
    key = credential_key(profile_url)
    if config is not None and config.credential_store == "file":
        path = paths.credentials_file()
        tokens = _read_file_store(path)
        tokens[key] = token
        _write_file_store(path, tokens)
        log.warning("stored a token for %s in the plaintext file %s", key, path)
        return StoredToken(
            "file",
            str(path),
            warning=f"{path} holds the token in plain text (permissions 0600).",
        )
    status = probe_keyring(keyring_timeout)
    if not status.usable:
        config_path = config.path if config and config.path else paths.config_file()
        raise CredentialError(
            f"No usable OS keyring ({status.detail or status.backend}). Pass --token or set "
            f"{TOKEN_ENV}, or opt in to a plaintext token file by setting "
            f'credential_store = "file" in {config_path}.'
        )

    def put() -> None:
        import keyring

        keyring.set_password(SERVICE, key, token)

    try:
        _call_with_timeout(put, keyring_timeout)
    except Exception as exc:
        raise CredentialError(
            f"Saving to the OS keyring failed ({type(exc).__name__}). Pass --token or set "
            f"{TOKEN_ENV} instead."
        ) from None
    log.info("stored a token for %s in keyring %s", key, status.backend)
    return StoredToken("keyring", status.backend)


def delete_token(
    profile_url: str, *, config: Config | None = None, keyring_timeout: float = KEYRING_TIMEOUT
) -> bool:
    """Remove a stored token from the keyring and the file store; True if one was removed."""
    key = credential_key(profile_url)
    removed = False
    if probe_keyring(keyring_timeout).usable:

        def delete() -> None:
            import keyring

            keyring.delete_password(SERVICE, key)

        try:
            _call_with_timeout(delete, keyring_timeout)
            removed = True
        except Exception as exc:
            log.info("no keyring entry removed for %s: %s", key, type(exc).__name__)
    path = paths.credentials_file()
    tokens = _read_file_store(path)
    if key in tokens:
        del tokens[key]
        _write_file_store(path, tokens)
        removed = True
    return removed
