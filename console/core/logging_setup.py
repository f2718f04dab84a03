"""Logging for the console: a rotating file, never the terminal, never a token.

While the TUI owns the terminal, a stray log line on stderr would tear the
screen, so :func:`setup_logging` sends everything to
``<log dir>/agent-console.log`` (1 MB x 3 files) and removes terminal
handlers from the root logger (and from ``uvicorn``'s loggers, which install
their own when the demo runs the server in-process).  Python warnings are
captured into the log too.

Redaction: :class:`RedactingFilter` sits on our handler and rewrites each
record before it is formatted: every string registered with
:func:`register_secret` (credentials registers each token it sees) and
anything shaped like ``Bearer <x>``, ``token=<x>`` or ``"token": "<x>"``
becomes ``<redacted>``, in the message, its arguments and the traceback.

Level: ``AGENT_CONSOLE_LOG_LEVEL`` (DEBUG, INFO, ...) or the ``level`` argument.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from pathlib import Path

from console.core import paths

REDACTED = "<redacted>"
LEVEL_ENV = "AGENT_CONSOLE_LOG_LEVEL"
MIN_SECRET_LENGTH = 6
"""Shorter strings are not registered: redacting 'abc' everywhere would garble logs."""

_secrets: set[str] = set()
_secrets_lock = threading.Lock()

_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)(bearer\s+)[^\s'\",]+"), r"\1" + REDACTED),
    (re.compile(r"(?i)([?&](?:access_)?token=)[^&\s'\"]+"), r"\1" + REDACTED),
    (
        re.compile(r"""(?i)(["']?(?:access_)?token["']?\s*[:=]\s*["'])[^"']+(["'])"""),
        r"\1" + REDACTED + r"\2",
    ),
    (re.compile(r"(AGENT_CONSOLE_TOKEN=)\S+"), r"\1" + REDACTED),
]

_HANDLER_MARK = "_agent_console_handler"


def register_secret(secret: str | None) -> None:
    """Make sure ``secret`` never appears in the log."""
    if secret and len(secret) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(secret)


def forget_secrets() -> None:
    """Drop all registered secrets (tests)."""
    with _secrets_lock:
        _secrets.clear()


def redact(text: str) -> str:
    """``text`` with registered secrets and token-shaped values replaced by ``<redacted>``."""
    with _secrets_lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Renders each record's message (and traceback) early and redacts it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: keep what we can
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _is_terminal_handler(handler: logging.Handler) -> bool:
    if isinstance(handler, logging.FileHandler):
        return False
    if isinstance(handler, logging.StreamHandler):
        return True
    # textual's own handler or others that print: keep only known-safe kinds
    return type(handler).__name__ in {"RichHandler", "TextualHandler"}


def quiet_terminal_handlers() -> None:
    """Remove handlers that would print to the terminal, from root and every known logger.

    Call again after starting something that configures its own logging
    (uvicorn's ``dictConfig`` adds stderr handlers to ``uvicorn.*``).
    """
    loggers = [logging.getLogger()] + [
        obj for obj in logging.Logger.manager.loggerDict.values() if isinstance(obj, logging.Logger)
    ]
    for logger in loggers:
        for handler in list(logger.handlers):
            if _is_terminal_handler(handler) and not getattr(handler, _HANDLER_MARK, False):
                logger.removeHandler(handler)
        if logger is not logging.getLogger() and logger.name.startswith("uvicorn"):
            logger.propagate = True


def teardown_logging() -> None:
    """Remove and close the handler :func:`setup_logging` installed (tests, clean exit)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()


def setup_logging(level: str | int | None = None, *, log_path: Path | None = None) -> Path:
    """Log to a rotating file (default in the platformdirs log dir); returns its path.

    Idempotent: calling it again replaces the previous file handler.
    """
    log_path = log_path or paths.log_file()
    paths.ensure_dir(log_path.parent, private=True)
    chosen = level if level is not None else os.environ.get(LEVEL_ENV, "INFO")
    if isinstance(chosen, str):
        numeric = logging.getLevelName(chosen.upper())
        chosen = numeric if isinstance(numeric, int) else logging.INFO

    teardown_logging()
    root = logging.getLogger()
    handler = logging.handlers.RotatingFileHandler(
        log_path, maxBytes=1_000_000, backupCount=3, encoding="utf-8", delay=True
    )
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s")
    )
    root.addHandler(handler)
    root.setLevel(chosen)
    quiet_terminal_handlers()
    logging.captureWarnings(True)
    # httpx logs every request URL at INFO; a ?token= query would be redacted, but keep it quiet.
    for noisy in ("httpx", "httpcore", "websockets", "hpack", "asyncio", "aiosqlite"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, chosen))
    if os.name == "posix" and log_path.exists():
        os.chmod(log_path, 0o600)
    logging.getLogger(__name__).debug("logging to %s (python %s)", log_path, sys.version.split()[0])
    return log_path
