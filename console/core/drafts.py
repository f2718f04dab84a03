"""Composer drafts kept on disk, so unsent text survives a quit or a restart.

One JSON file per identity (``paths.drafts_file``): ``{conversation id: text}``.
Written atomically (temporary file + rename), ``0600`` in a ``0700`` folder,
like the outbox: it holds what the agent was about to say to customers.  A
missing or unreadable file is an empty set of drafts, never an error at start.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from console.core.paths import ensure_dir

log = logging.getLogger(__name__)


class DraftFile:
    """Read and write the drafts of one identity; writes only when something changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._written: dict[str, str] | None = None

    def load(self) -> dict[str, str]:
        """The saved drafts (empty when there is no file or it cannot be read)."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raw = {}
        except (OSError, ValueError) as error:
            log.warning("drafts file unreadable (%s): starting without drafts", error)
            raw = {}
        drafts = {
            str(cid): text
            for cid, text in (raw.items() if isinstance(raw, dict) else ())
            if isinstance(text, str) and text.strip()
        }
        self._written = dict(drafts)
        return drafts

    def save(self, drafts: Mapping[str, str]) -> bool:
        """Write ``drafts`` (blank ones left out) if they differ from the file; True if written."""
        wanted = {cid: text for cid, text in drafts.items() if text.strip()}
        if wanted == self._written:
            return False
        try:
            ensure_dir(self.path.parent, private=True)
            temporary = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(wanted, handle, ensure_ascii=False)
            os.replace(temporary, self.path)
        except OSError as error:
            log.warning("drafts not saved: %s", error)
            return False
        self._written = wanted
        return True
