"""Themes as data: ``*.toml`` files → :class:`textual.theme.Theme` → ``App.register_theme``.

Shipped themes live in ``themes/`` at the repository root (found next to the
package in a checkout or editable install, or in
``<prefix>/share/agent-console/themes`` when installed from a wheel; see
:func:`console.core.paths.shipped_themes_dirs`).  Users add their own in
``<config dir>/themes``; a user theme with the same name replaces a shipped
one.

A theme file holds the fields of :class:`textual.theme.Theme`::

    name = "ocean"        # optional, defaults to the file name
    dark = true
    primary = "#4C9BE8"   # required; others optional: secondary, accent, warning,
                          # error, success, foreground, background, surface, panel, boost
    luminosity_spread = 0.15
    text_alpha = 0.95
    [variables]           # optional Textual design variables
    "footer-key-foreground" = "#F2A541"

A bad file never crashes the console: :func:`load_themes` skips it and returns
one sentence naming the file, line and key; :func:`register_themes` falls back
to the default theme and hands the sentences to the caller to ``notify``.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, NamedTuple

from textual.app import App
from textual.color import Color, ColorParseError
from textual.theme import Theme

from console.core import paths
from console.core.config import find_key_line
from console.core.i18n import t

DEFAULT_THEME = "dark"
"""Shipped theme used when the configured one is missing or broken."""
TEXTUAL_FALLBACK = "textual-dark"
"""Used only if even the shipped themes cannot be found (a broken install)."""

_COLOR_FIELDS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_KNOWN = {*_COLOR_FIELDS, "name", "dark", "luminosity_spread", "text_alpha", "ansi", "variables"}


class ThemeError(Exception):
    """A theme file that cannot be used; ``str()`` is the sentence to show."""

    def __init__(self, path: Path, detail: str, *, line: int | None = None) -> None:
        where = f"{path}, line {line}" if line else str(path)
        super().__init__(f"{where}: {detail}")
        self.path = path
        self.detail = detail
        self.line = line


def theme_from_toml(path: Path) -> Theme:
    """Read and validate one theme file; raises :class:`ThemeError`."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeError(path, f"cannot read the file ({exc}).") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ThemeError(path, f"TOML syntax error: {exc}.") from None

    def fail(key: str, detail: str) -> ThemeError:
        return ThemeError(path, f"key '{key}': {detail}", line=find_key_line(text, key))

    for key in data:
        if key not in _KNOWN:
            raise fail(key, f"unknown key. Known keys: {', '.join(sorted(_KNOWN))}.")
    if "primary" not in data:
        raise ThemeError(path, 'missing the required key primary = "#rrggbb".')

    fields: dict[str, Any] = {}
    for key in _COLOR_FIELDS:
        if key not in data:
            continue
        value = data[key]
        if not isinstance(value, str):
            raise fail(key, f'expected a colour string like "#4C9BE8", got {value!r}.')
        try:
            Color.parse(value)
        except ColorParseError:
            raise fail(
                key, f'"{value}" is not a colour; use "#rrggbb", "rgb(r,g,b)" or a name.'
            ) from None
        fields[key] = value

    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip() or any(c.isspace() for c in name):
        raise fail("name", f"expected a theme name without spaces, got {name!r}.")
    for key in ("dark", "ansi"):
        if key in data:
            if not isinstance(data[key], bool):
                raise fail(key, f"expected true or false, got {data[key]!r}.")
            fields[key] = data[key]
    for key in ("luminosity_spread", "text_alpha"):
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise fail(key, f"expected a number between 0 and 1, got {value!r}.")
            fields[key] = float(value)
    variables = data.get("variables", {})
    if not isinstance(variables, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in variables.items()
    ):
        raise fail("variables", 'expected a table of strings, e.g. "border" = "#FFFFFF".')

    theme = Theme(name=name, variables=dict(variables), **fields)
    try:
        theme.to_color_system().generate()
    except Exception as exc:
        raise ThemeError(path, f"Textual cannot build colours from it ({exc}).") from None
    return theme


def theme_files(folder: Path) -> list[Path]:
    """``*.toml`` files in ``folder`` (sorted), or none if it does not exist."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.toml") if p.is_file())


def load_theme_files(user_dir: Path | None = None) -> tuple[list[Theme], list[ThemeError]]:
    """Like :func:`load_themes` but returns the :class:`ThemeError` objects."""
    folders = [*reversed(paths.shipped_themes_dirs()), user_dir or paths.user_themes_dir()]
    themes: dict[str, Theme] = {}
    errors: list[ThemeError] = []
    for folder in folders:
        for file in theme_files(folder):
            try:
                theme = theme_from_toml(file)
            except ThemeError as exc:
                errors.append(exc)
                continue
            themes[theme.name] = theme
    return list(themes.values()), errors


class ThemeLoadResult(NamedTuple):
    """``(themes, errors)``; unpack it or use the attributes."""

    themes: list[Theme]
    errors: list[str]


def load_themes(user_dir: Path | None = None) -> ThemeLoadResult:
    """Shipped themes, then the user's (``user_dir``, default ``<config dir>/themes``).

    Returns the themes that loaded (a later one with the same name replaces an
    earlier one) and one sentence per file that did not.
    """
    themes, errors = load_theme_files(user_dir)
    return ThemeLoadResult(themes, [str(error) for error in errors])


def register_themes(
    app: App[Any], requested: str | None = None, *, user_dir: Path | None = None
) -> list[str]:
    """Register every theme on ``app`` and switch to ``requested`` (or the default).

    Returns sentences for the user (bad files, unknown theme); the caller
    shows them with ``notify`` (they are plain text, so use ``markup=False``).
    """
    themes, problems = load_theme_files(user_dir)
    for theme in themes:
        app.register_theme(theme)
    available = app.available_themes
    fallback = DEFAULT_THEME if DEFAULT_THEME in available else TEXTUAL_FALLBACK
    messages = [
        t(
            "error.theme_invalid",
            path=f"{p.path}, line {p.line}" if p.line else str(p.path),
            detail=p.detail,
        )
        for p in problems
    ]
    wanted = requested or DEFAULT_THEME
    if wanted in available:
        app.theme = wanted
    else:
        if requested:
            messages.append(t("error.theme_unknown", theme=requested, fallback=fallback))
        app.theme = fallback
    return messages
