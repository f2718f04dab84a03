"""Token resolution order with a fake keyring set through keyring's own backend API."""

from __future__ import annotations

import json
import os
import stat
import threading
from collections.abc import Iterator
from typing import Any

import keyring
import keyring.backend
import pytest
from keyring.backends import fail, null

from console.core import credentials, paths
from console.core.config import Config
from console.core.credentials import (
    SERVICE,
    CredentialError,
    delete_token,
    probe_keyring,
    resolve_token,
    store_token,
)

URL = "http://127.0.0.1:8765"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A secure-looking in-memory keyring (priority 1 = 'recommended')."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.items.pop((service, username))


class PlaintextKeyring(MemoryKeyring):
    """Looks like keyrings.alt's plaintext file backend: must not count as a keyring."""

    priority = 0.5  # type: ignore[assignment]


class HangingKeyring(MemoryKeyring):
    """Answers never (a locked secret service)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.release.wait(10)
        return "too-late-token"


@pytest.fixture(autouse=True)
def restore_keyring() -> Iterator[None]:
    before = keyring.get_keyring()
    yield
    keyring.set_keyring(before)


@pytest.fixture
def memory() -> MemoryKeyring:
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    return ring


FILE_STORE = Config(credential_store="file")


def test_argument_beats_environment_beats_keyring(memory: MemoryKeyring) -> None:
    memory.set_password(SERVICE, URL, "keyring-token")
    env = {"AGENT_CONSOLE_TOKEN": "env-token"}
    found = resolve_token(URL, cli_token="cli-token", environ=env)
    assert found is not None and (found.token, found.source) == ("cli-token", "argument")
    found = resolve_token(URL, environ=env)
    assert found is not None and (found.token, found.source) == ("env-token", "environment")
    found = resolve_token(URL + "/", environ={})
    assert found is not None and (found.token, found.source) == ("keyring-token", "keyring")


def test_keyring_beats_the_file_store(memory: MemoryKeyring) -> None:
    store_token(URL, "file-token", config=FILE_STORE)
    memory.set_password(SERVICE, URL, "keyring-token")
    found = resolve_token(URL, config=FILE_STORE, environ={})
    assert found is not None and found.source == "keyring"


def test_file_store_only_when_opted_in() -> None:
    keyring.set_keyring(null.Keyring())
    store_token(URL, "file-token", config=FILE_STORE)
    assert resolve_token(URL, config=Config(), environ={}) is None
    found = resolve_token(URL, config=FILE_STORE, environ={})
    assert found is not None and (found.token, found.source) == ("file-token", "file")


def test_nothing_found_means_prompt(memory: MemoryKeyring) -> None:
    assert resolve_token(URL, config=FILE_STORE, environ={}) is None


@pytest.mark.parametrize("backend", [fail.Keyring(), null.Keyring(), PlaintextKeyring()])
def test_fail_null_and_plaintext_backends_count_as_no_keyring(backend: Any) -> None:
    if isinstance(backend, MemoryKeyring):
        backend.set_password(SERVICE, URL, "leaked")
    keyring.set_keyring(backend)
    assert probe_keyring().usable is False
    assert resolve_token(URL, environ={}) is None
    with pytest.raises(CredentialError, match='credential_store = "file"'):
        store_token(URL, "some-token")


def test_a_hanging_keyring_times_out_and_counts_as_none() -> None:
    ring = HangingKeyring()
    keyring.set_keyring(ring)
    try:
        assert resolve_token(URL, environ={}, keyring_timeout=0.2) is None
    finally:
        ring.release.set()


def test_store_token_uses_the_keyring(memory: MemoryKeyring) -> None:
    stored = store_token(URL + "/", "  new-token  ")
    assert stored.where == "keyring" and stored.warning is None
    assert memory.items == {(SERVICE, URL): "new-token"}
    assert not paths.credentials_file().exists()
    assert not paths.config_file().exists()


def test_file_store_is_0600_warns_and_keeps_other_servers() -> None:
    keyring.set_keyring(null.Keyring())
    first = store_token(URL, "token-one", config=FILE_STORE)
    store_token("https://other.example", "token-two", config=FILE_STORE)
    assert first.where == "file" and first.warning and "plain text" in first.warning
    path = paths.credentials_file()
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    tokens = json.loads(path.read_text())["tokens"]
    assert tokens == {URL: "token-one", "https://other.example": "token-two"}


def test_a_token_file_readable_by_others_is_ignored() -> None:
    keyring.set_keyring(null.Keyring())
    store_token(URL, "token-one", config=FILE_STORE)
    os.chmod(paths.credentials_file(), 0o644)
    assert resolve_token(URL, config=FILE_STORE, environ={}) is None


def test_delete_token_removes_from_both_stores(memory: MemoryKeyring) -> None:
    store_token(URL, "k-token")
    store_token(URL, "f-token", config=FILE_STORE)
    assert delete_token(URL) is True
    assert memory.items == {}
    assert resolve_token(URL, config=FILE_STORE, environ={}) is None


def test_empty_token_is_refused(memory: MemoryKeyring) -> None:
    with pytest.raises(CredentialError):
        store_token(URL, "   ")


def test_resolved_token_repr_hides_the_token() -> None:
    found = resolve_token(URL, cli_token="very-secret-token")
    assert "very-secret-token" not in repr(found)
    assert credentials.credential_key(URL + "/") == URL
