"""DraftFile: composer drafts on disk (issue 14 fix 4)."""

from __future__ import annotations

import stat
from pathlib import Path

from console.core.drafts import DraftFile


def test_drafts_round_trip_private_and_blank_ones_left_out(tmp_path: Path) -> None:
    """Saved drafts load back (CJK intact), blank ones are dropped, the file is 0600 in 0700."""
    path = tmp_path / "drafts" / "me.json"
    first = DraftFile(path)
    assert first.load() == {}
    assert first.save({"c1": "안녕하세요, 확인 중", "c2": "  \n"}) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert DraftFile(path).load() == {"c1": "안녕하세요, 확인 중"}


def test_unchanged_drafts_are_not_written_again(tmp_path: Path) -> None:
    """A save with the same drafts does not touch the file; a changed one does."""
    drafts = DraftFile(tmp_path / "d.json")
    drafts.load()
    assert drafts.save({"c1": "x"}) is True
    assert drafts.save({"c1": "x"}) is False
    assert drafts.save({"c1": "y"}) is True


def test_an_unreadable_file_means_no_drafts(tmp_path: Path) -> None:
    """A corrupt file starts empty instead of failing the start."""
    path = tmp_path / "d.json"
    path.write_text("{not json", encoding="utf-8")
    assert DraftFile(path).load() == {}
