"""The one duration formatter: compact, in the UI language.

Every wait, timer and average the agent and supervisor screens show goes
through :func:`format_duration`: ``45s`` / ``3m05s`` / ``2h04m`` in English,
``45초`` / ``3분05초`` / ``2시간04분`` in Korean, ``45秒`` / ``3分05秒`` /
``2時間04分`` in Japanese (catalog keys ``core.duration.*``).  Time past a
deadline (an overdue promise) is negative and gets a minus sign: ``-0m05s``
is shown as ``-5s``.  Unknown (``None``) is ``-``.
"""

from __future__ import annotations

from console.core.i18n import t

UNKNOWN = "-"


def format_duration(seconds: float | None) -> str:
    """``75`` → ``1m15s``; ``7440`` → ``2h04m``; ``-5`` → ``-5s``; ``None`` → ``-``."""
    if seconds is None:
        return UNKNOWN
    sign = "-" if seconds <= -1 else ""
    total = int(abs(seconds))
    if total < 60:
        text = t("core.duration.seconds", s=total)
    elif total < 3600:
        text = t("core.duration.minutes", m=total // 60, s=f"{total % 60:02d}")
    else:
        text = t("core.duration.hours", h=total // 3600, m=f"{(total % 3600) // 60:02d}")
    return sign + text
