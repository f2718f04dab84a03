"""Transcript mail through plain SMTP (``smtplib``), sent off the event loop."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

from console.server.settings import ServerSettings

log = logging.getLogger("console.server.mail")

_background: set[asyncio.Task[None]] = set()


def send_mail_blocking(settings: ServerSettings, to: str, subject: str, body: str) -> None:
    """Send one UTF-8 plain-text mail; raises on SMTP errors."""
    if settings.smtp_port is None:
        log.info("SMTP disabled; transcript for %s not sent", to)
        return
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=15) as smtp:
        smtp.send_message(msg)


def send_mail_soon(settings: ServerSettings, to: str, subject: str, body: str) -> None:
    """Send in a worker thread; failures are logged, never raised into a request."""

    async def run() -> None:
        try:
            await asyncio.to_thread(send_mail_blocking, settings, to, subject, body)
        except Exception:  # SMTP down: the chat itself is already closed and saved
            log.exception("Could not send the transcript to %s", to)

    task = asyncio.get_running_loop().create_task(run())
    _background.add(task)
    task.add_done_callback(_background.discard)
