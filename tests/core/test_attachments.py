"""Safe names, no overwrite, never executable, path completion (console.core.attachments)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from console.core.attachments import complete_path, human_size, safe_filename, save_new_file
from tests.core.safety import HOSTILE_CASES, assert_terminal_safe


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../.bashrc", "bashrc"),
        ("C:\\Windows\\evil.exe", "evil.exe"),
        ("/etc/passwd", "passwd"),
        ("CON.txt", "_CON.txt"),
        ("lpt1", "_lpt1"),
        ("...", "attachment"),
        ("", "attachment"),
        ('a<b>c:d"e|f?g*h.png', "a_b_c_d_e_f_g_h.png"),
        ("영수증 2026.pdf", "영수증 2026.pdf"),
    ],
)
def test_safe_filename(given: str, expected: str) -> None:
    assert safe_filename(given) == expected


@pytest.mark.parametrize("case", list(HOSTILE_CASES.values()), ids=list(HOSTILE_CASES))
def test_hostile_names_become_plain_names(case: str) -> None:
    """Controls and separators never survive; the name stays within the cap."""
    name = safe_filename(case + ".txt")
    assert "/" not in name and "\\" not in name
    assert all(ord(ch) >= 0x20 and not 0x7F <= ord(ch) <= 0x9F for ch in name)
    assert len(name) <= 120


def test_long_names_keep_their_extension() -> None:
    name = safe_filename("x" * 500 + ".jpeg")
    assert name.endswith(".jpeg") and len(name) <= 120


def test_saving_never_overwrites_and_never_sets_an_execute_bit(tmp_path: Path) -> None:
    """Same name three times: name, 'name (1)', 'name (2)'; all 0644 with their own bytes."""
    existing = tmp_path / "run.sh"
    existing.write_bytes(b"keep me")
    first = save_new_file(tmp_path, "../run.sh", b"one")
    second = save_new_file(tmp_path, "run.sh", b"two")
    assert (first.name, second.name) == ("run (1).sh", "run (2).sh")
    assert existing.read_bytes() == b"keep me"
    assert first.read_bytes() == b"one" and second.read_bytes() == b"two"
    for path in (first, second):
        assert stat.S_IMODE(path.stat().st_mode) & 0o111 == 0
        assert path.parent == tmp_path


def test_complete_path(tmp_path: Path) -> None:
    (tmp_path / "receipt-march.pdf").write_bytes(b"x")
    (tmp_path / "receipt-may.pdf").write_bytes(b"x")
    (tmp_path / "reports").mkdir()
    (tmp_path / ".hidden").write_bytes(b"x")
    completed, names = complete_path(str(tmp_path / "rec"))
    assert completed == str(tmp_path / "receipt-ma")
    assert names == ["receipt-march.pdf", "receipt-may.pdf"]
    completed, names = complete_path(str(tmp_path / "rep"))
    assert completed == str(tmp_path / "reports") + "/" and names == ["reports/"]
    assert complete_path(str(tmp_path / "zzz")) == (str(tmp_path / "zzz"), [])


def test_human_size() -> None:
    assert [human_size(n) for n in (532, 12_595, 4 * 1024 * 1024)] == ["532 B", "12.3 KB", "4.0 MB"]
    assert_terminal_safe(human_size(1))
