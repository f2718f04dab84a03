"""The user's ``config.toml``: one typed, frozen settings object with defaults.

Who reads what: :func:`load_config` reads the file named by
:func:`console.core.paths.config_file` (``$AGENT_CONSOLE_CONFIG`` or
``<config dir>/config.toml``) with :mod:`tomllib`.  A missing file means all
defaults.  A bad file raises :class:`ConfigError`, whose message names the
file, the line and the key so the user can fix it without guessing: tomllib
reports the line of syntax errors; for a wrong type or an unknown key we find
the key's line by scanning the text (:func:`find_key_line`).

What it refuses: tokens.  Any key called ``token``/``password``/``secret`` is
an error pointing at ``agent-console login``, so a token never lands in a file
people paste into bug reports.  Writing back (:func:`save_settings`) imports
:mod:`tomlkit` lazily and keeps the user's comments and layout.

Example::

    default_profile = "local"
    theme = "dark"
    language = "auto"          # auto | en | ko | ja
    credential_store = "keyring"   # keyring | file (plaintext, opt-in)

    [profiles]
    local = "http://127.0.0.1:8765"
    work = { url = "https://chat.example.com", readonly = true }

    [keymap]
    send-reply = "ctrl+s"

    [notifications]
    sound = false
    bell = true
    toasts = true

    [sla]
    warning_seconds = 60
    critical_seconds = 180

    [sla.departments."Billing"]
    critical_seconds = 120
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from console.core import paths

LANGUAGES = ("en", "ko", "ja")
CredentialStore = Literal["keyring", "file"]
DEFAULT_SERVER_URL = "http://127.0.0.1:8765"
"""Where ``agent-console serve`` listens by default; the built-in ``local`` profile."""

_FORBIDDEN_KEYS = {"token", "tokens", "password", "secret", "api_key", "access_token"}


class ConfigError(Exception):
    """A config file that cannot be used; the message says where and what to fix."""

    def __init__(
        self, message: str, *, path: Path | None, line: int | None = None, key: str | None = None
    ) -> None:
        where = str(path) if path is not None else "config"
        if line is not None:
            where += f", line {line}"
        super().__init__(f"{where}: {message}")
        self.path = path
        self.line = line
        self.key = key
        self.reason = message


@dataclass(frozen=True, slots=True)
class Profile:
    """One server the console can connect to."""

    name: str
    url: str
    backend: str = "native"
    """Which backend adapter talks to it: a name in ``console.backends.BACKENDS``."""
    readonly: bool = False
    """Always connect read-only, whatever the token allows."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Backend-specific keys of the profile table (declared in ``console.backends.BACKENDS``),
    passed to the backend's constructor."""


@dataclass(frozen=True, slots=True)
class Notifications:
    """How the console gets an agent's attention."""

    sound: bool = False
    """Play a sound (terminal bell burst) for new chats and customer messages."""
    bell: bool = True
    """Ring the terminal bell once for a new queued chat or a reply in a background chat."""
    toasts: bool = True
    """Show pop-up toasts inside the console."""


@dataclass(frozen=True, slots=True)
class SlaThresholds:
    """How long a customer may wait for a reply before the console warns."""

    warning_seconds: float = 60.0
    """Wait after which a chat is marked as getting late (yellow)."""
    critical_seconds: float = 180.0
    """Wait after which a chat is marked critical (red)."""
    departments: dict[str, float] = field(default_factory=dict)
    """Per-department ``critical_seconds`` (``[sla.departments."Billing"]``), keyed by
    department name or id as written (matched case-insensitively by the supervisor
    dashboard); departments not listed use ``critical_seconds``."""


@dataclass(frozen=True, slots=True)
class Config:
    """Everything ``config.toml`` can set.  ``path`` is the file it came from (None = defaults)."""

    profiles: dict[str, Profile] = field(
        default_factory=lambda: {"local": Profile("local", DEFAULT_SERVER_URL)}
    )
    """Server profiles by name.  A ``local`` profile for ``agent-console serve`` always exists."""
    default_profile: str = "local"
    """Profile used when neither ``--server`` nor ``--profile`` is given."""
    theme: str = "dark"
    """Theme name: a shipped theme (dark, light, high-contrast), a user theme or a Textual theme."""
    language: str = "auto"
    """``auto`` (from the locale), ``en``, ``ko`` or ``ja``."""
    credential_store: CredentialStore = "keyring"
    """``keyring`` (OS keyring only) or ``file`` (opt-in plaintext file, 0600, in the data dir)."""
    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id → keys (comma-separated), passed to ``App.set_keymap``."""
    notifications: Notifications = field(default_factory=Notifications)
    sla: SlaThresholds = field(default_factory=SlaThresholds)
    path: Path | None = None

    def profile(self, name: str | None = None) -> Profile:
        """The named profile (default profile if None); ``KeyError`` with a sentence if unknown."""
        wanted = name or self.default_profile
        try:
            return self.profiles[wanted]
        except KeyError:
            known = ", ".join(sorted(self.profiles)) or "none"
            raise KeyError(
                f"No server profile named '{wanted}' (known: {known}). "
                f"Add it under [profiles] in {self.path or paths.config_file()}."
            ) from None


# --------------------------------------------------------------------------- loading


def load_config(path: Path | None = None) -> Config:
    """Read ``config.toml`` (default location from :mod:`console.core.paths`).

    A missing file gives the defaults.  Raises :class:`ConfigError` for anything
    wrong, naming file, line and key.
    """
    path = path or paths.config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path=None)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"the file is not valid UTF-8 ({exc.reason}); save it as UTF-8.", path=path
        ) from None
    except OSError as exc:
        raise ConfigError(f"cannot read the file ({exc.strerror}).", path=path) from None
    return parse_config(text, path=path)


def parse_config(text: str, *, path: Path | None = None) -> Config:
    """Parse config text; ``path`` is only used in error messages and ``Config.path``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None)
        msg = getattr(exc, "msg", None) or str(exc)
        if line is None:
            found = re.search(r"\(at line (\d+), column (\d+)\)", str(exc))
            line = int(found.group(1)) if found else None
        msg = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg)
        raise ConfigError(
            f"TOML syntax error: {msg}. Fix the line or move the file away to use defaults.",
            path=path,
            line=line,
        ) from None
    return _Builder(text, path).build(data)


class _Builder:
    """Turns the parsed TOML dict into :class:`Config`, raising precise :class:`ConfigError`s."""

    def __init__(self, text: str, path: Path | None) -> None:
        self.text = text
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(
            f"key '{key}': {message}",
            path=self.path,
            line=find_key_line(self.text, key),
            key=key,
        )

    # -- scalar helpers
    def want_str(self, key: str, value: Any, choices: tuple[str, ...] | None = None) -> str:
        if not isinstance(value, str):
            raise self.fail(key, f"expected a string, got {_describe(value)}.")
        if choices is not None and value not in choices:
            allowed = ", ".join(f'"{c}"' for c in choices)
            raise self.fail(key, f'"{value}" is not one of {allowed}.')
        return value

    def want_bool(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"expected true or false, got {_describe(value)}.")
        return value

    def want_seconds(self, key: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(key, f"expected a number of seconds, got {_describe(value)}.")
        if value <= 0:
            raise self.fail(key, f"expected a positive number of seconds, got {value}.")
        return float(value)

    def want_table(self, key: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a table ([{key}]), got {_describe(value)}.")
        return value

    def unknown(self, key: str, known: list[str]) -> ConfigError:
        leaf = key.rsplit(".", 1)[-1]
        if leaf.lower() in _FORBIDDEN_KEYS:
            return self.fail(
                key,
                "tokens and passwords never go in config.toml. Remove it and run "
                "'agent-console login URL' (stores it in the OS keyring) or pass --token / "
                "AGENT_CONSOLE_TOKEN.",
            )
        return self.fail(key, f"unknown key. Known keys here: {', '.join(known)}.")

    # -- sections
    def build(self, data: dict[str, Any]) -> Config:
        defaults = Config()
        top_known = [
            "default_profile",
            "theme",
            "language",
            "credential_store",
            "profiles",
            "keymap",
            "notifications",
            "sla",
        ]
        for key in data:
            if key not in top_known:
                raise self.unknown(key, top_known)

        profiles = dict(defaults.profiles)
        if "profiles" in data:
            for name, raw in self.want_table("profiles", data["profiles"]).items():
                profiles[name] = self.profile(name, raw)

        default_profile = defaults.default_profile
        if "default_profile" in data:
            default_profile = self.want_str("default_profile", data["default_profile"])
            if default_profile not in profiles:
                names = ", ".join(sorted(profiles))
                raise self.fail(
                    "default_profile",
                    f'no profile named "{default_profile}" (known: {names}); '
                    "add it under [profiles].",
                )

        theme = defaults.theme
        if "theme" in data:
            theme = self.want_str("theme", data["theme"])
            if not theme.strip():
                raise self.fail("theme", "expected a theme name, got an empty string.")

        language = defaults.language
        if "language" in data:
            language = self.want_str("language", data["language"], ("auto", *LANGUAGES))

        store: CredentialStore = defaults.credential_store
        if "credential_store" in data:
            raw_store = self.want_str(
                "credential_store", data["credential_store"], ("keyring", "file")
            )
            store = "file" if raw_store == "file" else "keyring"

        keymap: dict[str, str] = {}
        if "keymap" in data:
            for binding_id, keys in self.want_table("keymap", data["keymap"]).items():
                keymap[binding_id] = self.keys(f"keymap.{binding_id}", keys)

        notifications = defaults.notifications
        if "notifications" in data:
            table = self.want_table("notifications", data["notifications"])
            known = ["sound", "bell", "toasts"]
            values: dict[str, bool] = {}
            for key, value in table.items():
                if key not in known:
                    raise self.unknown(f"notifications.{key}", known)
                values[key] = self.want_bool(f"notifications.{key}", value)
            notifications = Notifications(**values)

        sla = defaults.sla
        if "sla" in data:
            table = self.want_table("sla", data["sla"])
            known = ["warning_seconds", "critical_seconds", "departments"]
            numbers: dict[str, float] = {}
            per_department: dict[str, float] = {}
            for key, value in table.items():
                if key not in known:
                    raise self.unknown(f"sla.{key}", known)
                if key == "departments":
                    per_department = self.sla_departments(value)
                    continue
                numbers[key] = self.want_seconds(f"sla.{key}", value)
            sla = SlaThresholds(**numbers, departments=per_department)
            if sla.critical_seconds <= sla.warning_seconds:
                raise self.fail(
                    "sla.critical_seconds",
                    f"must be larger than sla.warning_seconds ({sla.warning_seconds:g}), "
                    f"got {sla.critical_seconds:g}.",
                )

        return Config(
            profiles=profiles,
            default_profile=default_profile,
            theme=theme,
            language=language,
            credential_store=store,
            keymap=keymap,
            notifications=notifications,
            sla=sla,
            path=self.path,
        )

    def sla_departments(self, raw: Any) -> dict[str, float]:
        """``[sla.departments."Billing"] critical_seconds = 120`` → ``{"Billing": 120.0}``."""
        limits: dict[str, float] = {}
        for name, sub in self.want_table("sla.departments", raw).items():
            key = f"sla.departments.{name}"
            table = self.want_table(key, sub)
            known = ["critical_seconds"]
            for leaf in table:
                if leaf not in known:
                    raise self.unknown(f"{key}.{leaf}", known)
            if "critical_seconds" not in table:
                raise self.fail(key, "expected critical_seconds = <seconds>.")
            limits[str(name)] = self.want_seconds(
                f"{key}.critical_seconds", table["critical_seconds"]
            )
        return limits

    def profile(self, name: str, raw: Any) -> Profile:
        key = f"profiles.{name}"
        if isinstance(raw, str):
            return Profile(name, self.url(key, raw))
        if not isinstance(raw, dict):
            raise self.fail(
                key,
                f'expected a URL string or a table with url = "...", got {_describe(raw)}.',
            )
        from console.backends import BACKENDS  # plain data; no backend module is imported

        common = ["url", "backend", "readonly"]
        backend = self.want_str(
            f"{key}.backend", raw.get("backend", "native"), tuple(sorted(BACKENDS))
        )
        declared = BACKENDS[backend].settings
        known = common + sorted(declared)
        for sub in raw:
            if sub not in known:
                raise self.unknown(f"{key}.{sub}", known)
        if "url" not in raw:
            raise self.fail(key, 'missing url = "https://...".')
        url = self.url(f"{key}.url", raw["url"])
        readonly = self.want_bool(f"{key}.readonly", raw.get("readonly", False))
        settings: dict[str, Any] = {}
        for name, setting in declared.items():
            if name not in raw:
                if setting.required:
                    raise self.fail(
                        key, f"the {backend} backend needs {name} = ... ({setting.help})."
                    )
                continue
            settings[name] = self.setting(f"{key}.{name}", raw[name], setting.kind)
        return Profile(name, url, backend=backend, readonly=readonly, settings=settings)

    def setting(self, key: str, value: Any, kind: str) -> Any:
        if kind == "str":
            text = self.want_str(key, value)
            if not text.strip():
                raise self.fail(key, "expected a value, got an empty string.")
            return text
        if kind == "bool":
            return self.want_bool(key, value)
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(key, f"expected an integer, got {_describe(value)}.")
            return value
        item = int if kind == "int_list" else str
        if not isinstance(value, list) or not all(
            isinstance(v, item) and not isinstance(v, bool) for v in value
        ):
            label = "integers" if item is int else "strings"
            raise self.fail(key, f"expected an array of {label}, got {_describe(value)}.")
        return list(value)

    def url(self, key: str, value: Any) -> str:
        url = self.want_str(key, value)
        if not re.match(r"^https?://[^\s/]+", url):
            raise self.fail(key, f'"{url}" is not an http:// or https:// URL.')
        return url.rstrip("/")

    def keys(self, key: str, value: Any) -> str:
        if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            value = ",".join(value)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(
                key,
                f'expected keys like "ctrl+s" or "f5,ctrl+r", got {_describe(value)}.',
            )
        return ",".join(part.strip() for part in value.split(",") if part.strip())


def _describe(value: Any) -> str:
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }
    for kind, label in names.items():
        if type(value) is kind:
            return f"{label} ({value!r})" if kind in (bool, int, float, str) else label
    return type(value).__name__


# --------------------------------------------------------------------------- key → line

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_ASSIGN = re.compile(
    r"""^\s*((?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)(?:\s*\.\s*(?:"[^"]*"|'[^']*'|[A-Za-z0-9_\-]+))*)\s*="""
)


def _split_dotted(text: str) -> list[str]:
    parts = re.findall(r"""\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*(?:\.|$)""", text)
    return [p[1:-1] if p[:1] in "\"'" else p for p in parts]


def find_key_line(text: str, dotted_key: str) -> int | None:
    """1-based line where ``dotted_key`` is assigned or its table starts (best effort).

    Understands ``[table]`` headers and dotted keys; inside an inline table the
    line of the enclosing key is returned.  Multi-line strings may confuse it,
    which only costs a less precise line number.
    """
    target = dotted_key.split(".")
    best: tuple[int, int] | None = None  # (length of matched prefix, line)
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _split_dotted(header.group(1))
            full = table
        else:
            assign = _ASSIGN.match(line)
            if not assign:
                continue
            full = table + _split_dotted(assign.group(1))
        if full[: len(target)] == target:
            return number
        if target[: len(full)] == full and (best is None or len(full) > best[0]):
            best = (len(full), number)
    return best[1] if best else None


# --------------------------------------------------------------------------- writing


def save_settings(updates: dict[str, Any], path: Path | None = None) -> Path:
    """Set top-level or dotted keys (``{"theme": "light", "sla.warning_seconds": 90}``).

    Keeps comments and layout (tomlkit), validates the result with
    :func:`parse_config` before writing, and never accepts token-like keys.
    """
    import tomlkit  # deferred: only needed when writing

    path = path or paths.config_file()
    for key in updates:
        if key.rsplit(".", 1)[-1].lower() in _FORBIDDEN_KEYS:
            raise ConfigError(f"key '{key}': tokens never go in config.toml.", path=path, key=key)
    try:
        document = tomlkit.parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        document = tomlkit.document()
    for dotted, value in updates.items():
        *parents, leaf = dotted.split(".")
        node: Any = document
        for part in parents:
            if part not in node:
                node[part] = tomlkit.table()
            node = node[part]
        node[leaf] = value
    text = tomlkit.dumps(document)
    parse_config(text, path=path)  # refuse to write something we could not read back
    paths.ensure_dir(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
