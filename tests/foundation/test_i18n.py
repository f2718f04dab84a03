"""Catalogs: complete in en/ko/ja (every engineer's area file), consistent fields, lookup rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from console.core import i18n
from console.core.i18n import (
    LANGUAGES,
    load_catalog,
    load_catalog_files,
    pick_language,
    set_language,
    t,
    template_fields,
)


@pytest.fixture(autouse=True)
def restore_language() -> Iterator[None]:
    before = i18n.get_language()
    yield
    set_language(before)
    i18n.reload_catalogs()


def test_every_area_file_exists_in_all_three_languages() -> None:
    names = {lang: set(load_catalog_files(lang)) for lang in LANGUAGES}
    assert "common.toml" in names["en"]
    for lang in LANGUAGES:
        assert names[lang] == names["en"], f"{lang} area files differ from en"


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_every_key_exists_in_every_language(lang: str) -> None:
    en_files = load_catalog_files("en")
    other = load_catalog_files(lang)
    for name, keys in en_files.items():
        missing = sorted(keys.keys() - other.get(name, {}).keys())
        extra = sorted(other.get(name, {}).keys() - keys.keys())
        assert not missing, f"{lang}/{name} lacks {missing}"
        assert not extra, f"{lang}/{name} has keys English lacks: {extra}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_key_is_defined_in_two_area_files(lang: str) -> None:
    seen: dict[str, str] = {}
    for name, keys in load_catalog_files(lang).items():
        for key in keys:
            assert key not in seen, f"{lang}: '{key}' is in both {seen[key]} and {name}"
            seen[key] = name


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_translations_use_the_same_fields_as_english(lang: str) -> None:
    en, other = load_catalog("en"), load_catalog(lang)
    for key, template in en.items():
        if key in other:  # missing keys are reported by test_every_key_exists_in_every_language
            assert template_fields(other[key]) == template_fields(template), f"{lang}: {key}"


@pytest.mark.parametrize(
    ("lang", "script"), [("ko", r"[\uac00-\ud7a3]"), ("ja", r"[\u3040-\u30ff\u4e00-\u9fff]")]
)
def test_translations_are_real_not_english_copies(lang: str, script: str) -> None:
    en, other = load_catalog("en"), load_catalog(lang)
    wordy = [k for k, v in en.items() if k in other and len(re.findall(r"[A-Za-z]{3,}", v)) >= 2]
    untranslated = [k for k in wordy if not re.search(script, other[k])]
    assert len(untranslated) <= len(wordy) // 10, f"{lang} looks untranslated: {untranslated[:20]}"


def test_lookup_formats_fields_and_falls_back() -> None:
    set_language("ko")
    assert t("connection.reconnecting", seconds=5) == "연결이 끊어졌습니다. 5초 후 다시 연결합니다…"
    set_language("ja")
    assert t("app.theme_label", theme="dark") == "テーマ: dark"
    assert t("no.such.key") == "no.such.key"
    set_language("en")
    assert t("app.server_label") == "Server: {url}"  # missing field stays visible


def test_missing_key_in_active_language_falls_back_to_english(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    i18n.reload_catalogs()
    ko = dict(load_catalog("ko"))
    del ko["action.quit"]
    monkeypatch.setitem(i18n._catalogs, "ko", ko)
    set_language("ko")
    assert t("action.quit") == "Quit"
    assert t("action.cancel") == "취소"


def test_untrusted_parameters_are_inserted_literally() -> None:
    set_language("en")
    evil = "{url.__class__} [@click=app.quit]"
    assert t("app.server_label", url=evil) == f"Server: {evil}"


@pytest.mark.parametrize(
    ("cli", "configured", "env", "expected"),
    [
        ("ja", "ko", {"LANG": "en_US.UTF-8"}, "ja"),
        (None, "ko", {"LANG": "ja_JP.UTF-8"}, "ko"),
        (None, "auto", {"LANG": "ja_JP.UTF-8"}, "ja"),
        (None, None, {"LC_ALL": "ko_KR.UTF-8", "LANG": "ja_JP"}, "ko"),
        (None, None, {"LC_MESSAGES": "ja_JP.eucJP", "LANG": "en_US"}, "ja"),
        (None, None, {"LANG": "fr_FR.UTF-8"}, "en"),
        (None, None, {}, "en"),
        ("xx", None, {"LANG": "C"}, "en"),
    ],
)
def test_language_choice_order(
    cli: str | None, configured: str | None, env: dict[str, str], expected: str
) -> None:
    assert pick_language(cli, configured, env) == expected


def test_set_language_auto_uses_the_locale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "ja_JP.UTF-8")
    assert set_language("auto") == "ja"
    assert set_language(None) == "ja"
    assert set_language("xx") == "en"
