"""config.toml: defaults, every section, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.core import paths
from console.core.config import (
    DEFAULT_SERVER_URL,
    Config,
    ConfigError,
    load_config,
    parse_config,
    save_settings,
)

FULL = """\
# my console
default_profile = "work"
theme = "light"
language = "ko"
credential_store = "file"

[profiles]
work = { url = "https://chat.example.com/", readonly = true }
staging = "http://127.0.0.1:9000"

[keymap]
send-reply = "ctrl+s"
next-chat = ["f6", "ctrl+n"]

[notifications]
sound = true
bell = false

[sla]
warning_seconds = 30
critical_seconds = 90.5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_missing_file_gives_defaults_with_a_local_profile() -> None:
    config = load_config()
    assert config.path is None
    assert config.profile().url == DEFAULT_SERVER_URL
    assert config.theme == "dark"
    assert config.language == "auto"
    assert config.credential_store == "keyring"
    assert config.sla.warning_seconds < config.sla.critical_seconds


def test_default_location_is_in_the_platformdirs_config_dir(tmp_path: Path) -> None:
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text('theme = "light"\n', encoding="utf-8")
    config = load_config()
    assert config.theme == "light"
    assert config.path == paths.config_dir() / "config.toml"


def test_every_section_is_read(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, FULL))
    assert config.default_profile == "work"
    work = config.profile()
    assert (work.url, work.readonly, work.backend) == ("https://chat.example.com", True, "native")
    assert config.profile("staging").url == "http://127.0.0.1:9000"
    assert config.profile("local").url == DEFAULT_SERVER_URL
    assert config.theme == "light" and config.language == "ko"
    assert config.credential_store == "file"
    assert config.keymap == {"send-reply": "ctrl+s", "next-chat": "f6,ctrl+n"}
    assert (config.notifications.sound, config.notifications.bell) == (True, False)
    assert config.notifications.toasts is True
    assert (config.sla.warning_seconds, config.sla.critical_seconds) == (30.0, 90.5)


def test_unknown_profile_is_a_sentence() -> None:
    with pytest.raises(KeyError, match="No server profile named 'nope'"):
        Config().profile("nope")


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "dark"\n\n[sla]\nwarning_seconds = = 3\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert err.line == 4
    assert str(path) in str(err) and "line 4" in str(err)
    assert "syntax" in str(err).lower()


def test_wrong_type_names_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "dark"\n[notifications]\n# loud\nsound = "yes"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert (err.key, err.line) == ("notifications.sound", 4)
    assert "line 4" in str(err) and "'notifications.sound'" in str(err)
    assert "true or false" in str(err)


def test_unknown_key_names_its_line_and_lists_known_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "[sla]\nwarning_seconds = 10\nwarn_seconds = 5\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (info.value.key, info.value.line) == ("sla.warn_seconds", 3)
    assert "unknown key" in str(info.value) and "critical_seconds" in str(info.value)


def test_unknown_top_level_key_with_dotted_syntax(tmp_path: Path) -> None:
    path = write(tmp_path, 'theme = "dark"\ncolour.scheme = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (info.value.key, info.value.line) == ("colour", 2)


def test_error_inside_inline_table_points_at_the_enclosing_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[profiles]\nlocal = "http://127.0.0.1:1"\nwork = { url = 5 }\n')
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert (info.value.key, info.value.line) == ("profiles.work.url", 3)


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        ('language = "fr"\n', "language", '"fr" is not one of'),
        ('credential_store = "plain"\n', "credential_store", "is not one of"),
        ('default_profile = "ghost"\n', "default_profile", "no profile named"),
        ('[profiles]\nx = "ftp://h"\n', "profiles.x", "not an http"),
        ("[sla]\nwarning_seconds = -1\n", "sla.warning_seconds", "positive"),
        ("[sla]\nwarning_seconds = 100\ncritical_seconds = 50\n", "sla.critical_seconds", "larger"),
        ("[keymap]\nsend-reply = 5\n", "keymap.send-reply", "expected keys"),
        ("sla = 3\n", "sla", "expected a table"),
    ],
)
def test_bad_values_are_reported_with_their_key(text: str, key: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, path=Path("/x/config.toml"))
    assert info.value.key == key
    assert fragment in str(info.value)
    assert str(info.value).startswith("/x/config.toml, line ")


@pytest.mark.parametrize(
    "text", ['token = "abc"\n', '[profiles]\nw = { url = "http://h", token = "abc" }\n']
)
def test_tokens_are_refused_with_a_pointer_to_login(text: str) -> None:
    with pytest.raises(ConfigError, match="agent-console login") as info:
        parse_config(text)
    assert "abc" not in str(info.value)


def test_save_settings_keeps_comments_and_round_trips(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    save_settings({"theme": "high-contrast", "sla.warning_seconds": 45}, path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# my console")
    config = load_config(path)
    assert config.theme == "high-contrast" and config.sla.warning_seconds == 45.0


def test_save_settings_refuses_tokens_and_invalid_results(tmp_path: Path) -> None:
    path = write(tmp_path, FULL)
    with pytest.raises(ConfigError):
        save_settings({"profiles.work.token": "secret"}, path)
    with pytest.raises(ConfigError):
        save_settings({"language": "xx"}, path)
    assert path.read_text(encoding="utf-8") == FULL
