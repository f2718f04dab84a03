"""The log goes to a file in the log dir, never to the terminal, and never holds a token."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.core import logging_setup, paths
from console.core.credentials import resolve_token


@pytest.fixture(autouse=True)
def clean_logging() -> Iterator[None]:
    yield
    logging_setup.teardown_logging()
    logging_setup.forget_secrets()


def read_log(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text(encoding="utf-8")


def test_logs_go_to_the_platformdirs_log_dir() -> None:
    path = logging_setup.setup_logging("DEBUG")
    assert path == paths.log_file() and path.parent == paths.log_dir()
    logging.getLogger("console.test").info("hello from the test")
    assert "hello from the test" in read_log(path)


def test_a_resolved_token_never_reaches_the_log() -> None:
    path = logging_setup.setup_logging("DEBUG")
    token = "s3cr3t-token-value-123"
    resolve_token("http://127.0.0.1:1", cli_token=token)
    log = logging.getLogger("console.test")
    log.info("sending with %s", token)
    log.info(f"header was {token}")
    log.debug("request %r", {"headers": {"Authorization": f"Bearer {token}"}})
    try:
        raise RuntimeError(f"server refused {token}")
    except RuntimeError:
        log.exception("call failed")
    text = read_log(path)
    assert token not in text
    assert text.count("<redacted>") >= 4
    assert "call failed" in text and "RuntimeError" in text


@pytest.mark.parametrize(
    "line",
    [
        "GET /api/v1/stream?token=abcdefghijkl&x=1",
        'body {"token": "abcdefghijkl"}',
        "Authorization: Bearer abcdefghijkl",
        "env AGENT_CONSOLE_TOKEN=abcdefghijkl",
    ],
)
def test_token_shaped_values_are_redacted_even_when_unregistered(line: str) -> None:
    assert "abcdefghijkl" not in logging_setup.redact(line)


def test_nothing_is_printed_to_the_terminal(tmp_path: Path) -> None:
    code = (
        "import logging, warnings\n"
        "logging.basicConfig()\n"  # a stderr handler someone else installed
        "logging.getLogger('uvicorn.error').addHandler(logging.StreamHandler())\n"
        "from console.core.logging_setup import setup_logging\n"
        f"setup_logging('DEBUG', log_path=__import__('pathlib').Path({str(tmp_path / 'x.log')!r}))\n"
        "logging.getLogger('uvicorn.error').error('uvicorn says hi')\n"
        "logging.getLogger('x').warning('loud warning')\n"
        "warnings.warn('a python warning')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "" and out.stderr == ""
    text = (tmp_path / "x.log").read_text(encoding="utf-8")
    assert "uvicorn says hi" in text and "loud warning" in text and "a python warning" in text
