"""Customer files on disk: safe names, no overwrite, never executable (issue 14).

A file name comes from the customer.  Even sanitized (no controls) it can name a
folder (``../../.bashrc``, ``C:\\x``), a hidden file (``.profile``), a device
(``CON``), or an existing file.  :func:`safe_filename` keeps only the last path
component's letters, :func:`save_new_file` writes it with ``O_EXCL`` under the
first free ``name (1).ext`` and mode ``0644``: nothing is replaced, nothing
gets an execute bit, and nothing is opened or run by the console.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

MAX_NAME_CHARS = 120
_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f-\x9f/\\:*?"<>|]')
_WINDOWS_RESERVED = {"con", "prn", "aux", "nul"} | {
    f"{p}{n}" for p in ("com", "lpt") for n in range(1, 10)
}


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A plain file name for ``name``: last component only, no separators, controls or
    leading dots, not a Windows device name, at most ``MAX_NAME_CHARS`` (extension kept)."""
    name = unicodedata.normalize("NFC", name)
    name = re.split(r"[/\\]", name)[-1]
    name = _FORBIDDEN.sub("_", name).strip().lstrip(". ").rstrip(". ")
    if not name:
        name = fallback
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    if stem.split(".")[0].casefold() in _WINDOWS_RESERVED:
        stem = "_" + stem
    ext = ext[:16]
    stem = stem[: max(1, MAX_NAME_CHARS - len(ext) - 1)]
    return f"{stem}.{ext}" if ext else stem


def save_new_file(folder: Path, name: str, content: bytes) -> Path:
    """Write ``content`` to ``folder/safe name``, or ``name (1).ext``, ``(2)``… when taken;
    never replaces a file, mode ``0644`` (no execute bit).  Returns the path written."""
    folder.mkdir(parents=True, exist_ok=True)
    clean = safe_filename(name)
    stem, dot, ext = clean.rpartition(".")
    if not dot or not stem:
        stem, dot, ext = clean, "", ""
    for number in range(10_000):
        candidate = folder / (f"{stem} ({number}){dot}{ext}" if number else clean)
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(candidate, 0o644)  # whatever the umask allowed, never executable
        return candidate
    raise FileExistsError(f"no free name for {clean} in {folder}")


def human_size(size: int) -> str:
    """``532 B``, ``12.3 KB``, ``4.0 MB`` (1024-based)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def complete_path(text: str, limit: int = 50) -> tuple[str, list[str]]:
    """Tab completion for a typed path: the longest common completion of ``text`` and the
    names it could be (folders end in ``/``), at most ``limit`` of them, sorted."""
    expanded = os.path.expanduser(text) if text.startswith("~") else text
    folder, _, prefix = expanded.rpartition(os.sep)
    base = Path(folder or ("/" if expanded.startswith(os.sep) else "."))
    try:
        entries = sorted(entry for entry in os.listdir(base) if entry.startswith(prefix))
    except OSError:
        return text, []
    if not prefix.startswith("."):
        entries = [entry for entry in entries if not entry.startswith(".")]
    names = [entry + (os.sep if (base / entry).is_dir() else "") for entry in entries[:limit]]
    if not names:
        return text, []
    common = os.path.commonprefix(names)  # noqa: RUF071 -- characters: the typed name completes
    typed_head = text[: len(text) - len(prefix)]
    return typed_head + common, names
