"""Profiles carry backend-specific settings declared in ``console.backends.BACKENDS``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from console.backends import BACKENDS, Setting, load_backend
from console.cli import build_parser
from console.core.config import ConfigError, parse_config


def test_a_matrix_profile_keeps_its_settings() -> None:
    config = parse_config(
        "[profiles]\n"
        'mx = { url = "https://matrix.example.org", backend = "matrix", '
        'team_room = "#team:example.org", desk_user = "@desk:example.org" }\n'
    )
    profile = config.profiles["mx"]
    assert profile.backend == "matrix"
    assert profile.settings == {"team_room": "#team:example.org", "desk_user": "@desk:example.org"}
    assert config.profiles["local"].settings == {}


def test_chatwoot_settings_are_typed() -> None:
    config = parse_config(
        "[profiles.cw]\n"
        'url = "https://chat.example.com"\nbackend = "chatwoot"\naccount_id = 3\n'
        "inbox_ids = [1, 2]\n"
    )
    assert config.profiles["cw"].settings == {"account_id": 3, "inbox_ids": [1, 2]}
    with pytest.raises(ConfigError, match=r"line 5: key 'profiles.cw.inbox_ids': expected an array of integers"):
        parse_config(
            '[profiles.cw]\nurl = "https://c.example"\nbackend = "chatwoot"\naccount_id = 3\n'
            'inbox_ids = ["x"]\n'
        )


def test_a_setting_of_another_backend_is_an_unknown_key_naming_the_allowed_ones() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config('[profiles.x]\nurl = "https://h.example"\nteam_room = "#t:h"\n')
    assert "profiles.x.team_room': unknown key" in str(info.value)
    assert "Known keys here: url, backend, readonly." in str(info.value)
    with pytest.raises(ConfigError) as info:
        parse_config(
            '[profiles.x]\nurl = "https://h.example"\nbackend = "matrix"\nteam = "#t:h"\n'
        )
    assert "url, backend, readonly, desk_user, team_room" in str(info.value)


def test_a_required_setting_is_named_and_unknown_backends_list_the_registry() -> None:
    with pytest.raises(ConfigError, match="the matrix backend needs team_room"):
        parse_config('[profiles.x]\nurl = "https://h.example"\nbackend = "matrix"\n')
    with pytest.raises(ConfigError, match='"irc" is not one of "chatwoot", "matrix", "native"'):
        parse_config('[profiles.x]\nurl = "https://h.example"\nbackend = "irc"\n')


def test_a_new_backend_is_one_registry_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registering a backend makes its profile settings valid and reach its constructor."""
    from console.backends import BackendInfo

    monkeypatch.setitem(
        BACKENDS,
        "echo",
        BackendInfo(
            "tests.foundation.test_backend_profiles:EchoBackend",
            settings={"room": Setting("str", "a room", option="room_name")},
        ),
    )
    config = parse_config('[profiles.e]\nurl = "https://h.example"\nbackend = "echo"\nroom = "r"\n')
    backend: Any = load_backend("echo", base_url="https://h.example", **config.profiles["e"].settings)
    assert backend.options == {"base_url": "https://h.example", "room_name": "r"}


class EchoBackend:
    def __init__(self, **options: Any) -> None:
        self.options = options


def test_prepare_console_passes_profile_settings_and_server_takes_backend(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import console.backends as backends
    from console.cli import prepare_console

    seen: list[tuple[str, dict[str, Any]]] = []

    def fake_load_backend(kind: str, **options: Any) -> Any:
        seen.append((kind, options))
        raise ValueError("stop here")

    monkeypatch.setattr(backends, "load_backend", fake_load_backend)
    monkeypatch.setenv("AGENT_CONSOLE_TOKEN", "tok")
    config_file = tmp_path / "config.toml"
    config_file.write_text(
        'default_profile = "mx"\n[profiles.mx]\nurl = "https://m.example"\nbackend = "matrix"\n'
        'team_room = "#t:m.example"\n',
        encoding="utf-8",
    )

    def args(*argv: str) -> argparse.Namespace:
        return build_parser().parse_args(["--config", str(config_file), *argv])

    for argv in ((), ("--server", "mx"), ("--server", "https://m.example", "--backend", "matrix")):
        with pytest.raises(SystemExit):
            prepare_console(args(*argv), interactive=False)
    assert [kind for kind, _ in seen] == ["matrix", "matrix", "matrix"]
    assert seen[0][1]["team_room"] == "#t:m.example" and seen[1][1]["team_room"] == "#t:m.example"
    assert "team_room" not in seen[2][1]
