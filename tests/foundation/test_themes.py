"""Shipped themes load and register; user themes override; bad files give a clear error."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Label

from console.core import paths
from console.ui.themes import (
    DEFAULT_THEME,
    ThemeError,
    load_themes,
    register_themes,
    theme_from_toml,
)

REPO_THEMES = Path(__file__).resolve().parents[2] / "themes"
SHIPPED = sorted(REPO_THEMES.glob("*.toml"))


def test_shipped_themes_are_found_from_the_package() -> None:
    assert REPO_THEMES.resolve() in [p.resolve() for p in paths.shipped_themes_dirs()]
    assert {p.stem for p in SHIPPED} >= {"dark", "light", "high-contrast"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_every_shipped_theme_loads(path: Path) -> None:
    theme = theme_from_toml(path)
    assert theme.name == path.stem
    colors = theme.to_color_system().generate()
    assert colors["primary"] and colors["background"]


def test_load_themes_without_user_themes_has_no_errors(tmp_path: Path) -> None:
    themes, errors = load_themes(tmp_path / "none")
    assert errors == []
    assert {"dark", "light", "high-contrast"} <= {theme.name for theme in themes}


def test_user_theme_is_added_and_can_replace_a_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "ocean.toml").write_text('primary = "#0077BE"\n', encoding="utf-8")
    (tmp_path / "light.toml").write_text('primary = "#FF00FF"\ndark = false\n', encoding="utf-8")
    themes, errors = load_themes(tmp_path)
    by_name = {theme.name: theme for theme in themes}
    assert errors == []
    assert by_name["ocean"].primary == "#0077BE"
    assert by_name["light"].primary == "#FF00FF"


@pytest.mark.parametrize(
    ("text", "fragment", "line"),
    [
        ('dark = true\nprimary = "#zzzzzz"\n', "key 'primary'", 2),
        ('primary = "#000000"\nsparkle = true\n', "unknown key", 2),
        ("dark = true\n", "missing the required key primary", None),
        ('primary = "#000000"\ndark = "yes"\n', "true or false", 2),
        ('primary = "#000000"\ntext_alpha = 3\n', "between 0 and 1", 2),
        ('primary = "#000000\n', "TOML syntax error", None),
        ('primary = "#000000"\nname = "my theme"\n', "without spaces", 2),
    ],
)
def test_bad_theme_file_gives_a_clear_error(
    tmp_path: Path, text: str, fragment: str, line: int | None
) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ThemeError) as info:
        theme_from_toml(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)
    assert info.value.line == line
    themes, errors = load_themes(tmp_path)
    assert "broken" not in {theme.name for theme in themes}
    assert len(errors) == 1 and str(path) in errors[0]


class ThemedApp(App[None]):
    def __init__(self, requested: str | None, user_dir: Path) -> None:
        super().__init__()
        self.requested = requested
        self.user_dir = user_dir
        self.messages: list[str] = []

    def compose(self) -> ComposeResult:
        yield Label("hi")

    def on_mount(self) -> None:
        self.messages = register_themes(self, self.requested, user_dir=self.user_dir)


@pytest.mark.parametrize("name", ["dark", "light", "high-contrast"])
async def test_shipped_themes_register_and_apply_in_a_real_app(tmp_path: Path, name: str) -> None:
    app = ThemedApp(name, tmp_path)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == name
        assert app.messages == []
        assert app.current_theme.dark == (name != "light")


async def test_broken_requested_theme_falls_back_with_messages(tmp_path: Path) -> None:
    (tmp_path / "ocean.toml").write_text('primary = "not a colour"\n', encoding="utf-8")
    app = ThemedApp("ocean", tmp_path)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == DEFAULT_THEME
        assert len(app.messages) == 2
        assert "ocean.toml, line 1" in app.messages[0] and "primary" in app.messages[0]
        assert '"ocean"' in app.messages[1]


async def test_textual_builtin_theme_names_still_work(tmp_path: Path) -> None:
    app = ThemedApp("nord", tmp_path)
    async with app.run_test() as pilot:
        await pilot.pause()
        assert app.theme == "nord" and app.messages == []


def _luminance(hex_color: str) -> float:
    from textual.color import Color

    color = Color.parse(hex_color)

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.r) + 0.7152 * channel(color.g) + 0.0722 * channel(color.b)


def test_high_contrast_theme_meets_wcag_aaa_against_its_background() -> None:
    theme = theme_from_toml(REPO_THEMES / "high-contrast.toml")
    assert theme.background is not None
    background = _luminance(theme.background)
    for field in ("foreground", "primary", "secondary", "accent", "warning", "error", "success"):
        value = getattr(theme, field)
        lighter, darker = sorted((_luminance(value), background), reverse=True)
        ratio = (lighter + 0.05) / (darker + 0.05)
        assert ratio >= 7.0, f"{field} {value} has contrast {ratio:.2f}"
