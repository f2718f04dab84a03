"""Every user-visible string goes through :func:`t`.

Catalogs live in ``console/core/locales/<lang>/<area>.toml`` (``lang`` in
en, ko, ja).  Each engineer owns the area files for their part, in all three
languages; the loader merges every ``*.toml`` of a language into one flat
dict of dotted keys (``[chat]`` + ``send = "..."`` and ``"chat.send" = "..."``
are the same key).  Files are read with :mod:`importlib.resources`, so they
work from a checkout and from an installed wheel (``package-data`` ships
``**/*.toml``).

Lookup: active language → English → the key itself (so a missing string is
visible but never crashes).  Parameters use ``str.format`` fields:
``t("queue.waiting", count=3)`` with ``"{count} waiting"``.  Values are
inserted as they are and never re-parsed, but the result is plain text:
render it with ``Text``/``Content`` or ``markup=False`` when a parameter
carries untrusted text.

Language choice (:func:`pick_language`): ``--lang``, then ``language`` in
config.toml (unless ``auto``), then the locale (``LC_ALL``, ``LC_MESSAGES``,
``LANG``: ``ko_KR.UTF-8`` → ko, ``ja_JP`` → ja), else English.
"""

from __future__ import annotations

import logging
import os
import string
import threading
import tomllib
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

LANGUAGES: tuple[str, ...] = ("en", "ko", "ja")
FALLBACK = "en"

log = logging.getLogger(__name__)

_lock = threading.Lock()
_catalogs: dict[str, dict[str, str]] = {}
_active = FALLBACK


class CatalogError(Exception):
    """A locale file that cannot be read (bad TOML or a non-string value)."""


def _locales_root() -> Traversable:
    return resources.files("console.core").joinpath("locales")


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str], origin: str) -> None:
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            _flatten(dotted, value, out, origin)
        elif isinstance(value, str):
            out[dotted] = value
        else:
            raise CatalogError(
                f"{origin}: '{dotted}' must be a string, got {type(value).__name__}."
            )


def catalog_files(lang: str) -> list[Traversable]:
    """The ``*.toml`` area files of one language, sorted by name."""
    folder = _locales_root().joinpath(lang)
    if not folder.is_dir():
        return []
    return sorted(
        (f for f in folder.iterdir() if f.name.endswith(".toml") and f.is_file()),
        key=lambda f: f.name,
    )


def load_catalog_files(lang: str) -> dict[str, dict[str, str]]:
    """Each area file of ``lang`` as its own flat dict (for tests that check overlaps)."""
    result: dict[str, dict[str, str]] = {}
    for item in catalog_files(lang):
        origin = f"locales/{lang}/{item.name}"
        try:
            data = tomllib.loads(item.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{origin}: {exc}") from None
        flat: dict[str, str] = {}
        _flatten("", data, flat, origin)
        result[item.name] = flat
    return result


def load_catalog(lang: str) -> dict[str, str]:
    """All area files of ``lang`` merged into one flat dict (cached)."""
    with _lock:
        cached = _catalogs.get(lang)
        if cached is not None:
            return cached
    merged: dict[str, str] = {}
    for name, flat in load_catalog_files(lang).items():
        for key in flat.keys() & merged.keys():
            log.warning("i18n key %s is defined twice (%s/%s)", key, lang, name)
        merged.update(flat)
    with _lock:
        _catalogs[lang] = merged
    return merged


def reload_catalogs() -> None:
    """Forget cached catalogs (tests, or after adding files at run time)."""
    with _lock:
        _catalogs.clear()


def normalize_language(value: str | None) -> str | None:
    """``"ko_KR.UTF-8"`` → ``"ko"``, ``"JA"`` → ``"ja"``; None for anything unsupported."""
    if not value:
        return None
    code = value.strip().split(".")[0].split("@")[0].replace("-", "_").split("_")[0].lower()
    return code if code in LANGUAGES else None


def locale_language(environ: Mapping[str, str] | None = None) -> str:
    """Language from the POSIX locale variables (first one that is set wins), else English."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var)
        if value:
            return normalize_language(value) or FALLBACK
    return FALLBACK


def pick_language(
    cli: str | None = None, configured: str | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """``--lang`` beats config (unless ``auto``) beats the locale."""
    for choice in (cli, None if configured == "auto" else configured):
        lang = normalize_language(choice)
        if lang:
            return lang
    return locale_language(environ)


def set_language(lang: str | None) -> str:
    """Make ``lang`` active and return it.

    ``"auto"`` or None picks from the locale; unsupported values fall back to English.
    """
    global _active
    if lang is None or lang == "auto":
        _active = locale_language()
    else:
        _active = normalize_language(lang) or FALLBACK
    return _active


def get_language() -> str:
    """The active language code."""
    return _active


class _KeepMissing(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def t(key: str, /, **params: Any) -> str:
    """Translate ``key`` into the active language, filling ``{name}`` fields from ``params``."""
    template = load_catalog(_active).get(key)
    if template is None and _active != FALLBACK:
        template = load_catalog(FALLBACK).get(key)
    if template is None:
        log.debug("missing i18n key %s", key)
        return key
    if not params:
        return template
    try:
        return string.Formatter().vformat(template, (), _KeepMissing(params))
    except (ValueError, IndexError, AttributeError, KeyError) as exc:
        log.warning("bad i18n template %s in %s: %s", key, _active, exc)
        return template


def template_fields(template: str) -> set[str]:
    """Names of the ``{fields}`` used in a template (for catalog consistency tests)."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}
