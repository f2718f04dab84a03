"""Transcript mail through a real SMTP server (aiosmtpd) on loopback."""

from __future__ import annotations

import email
import email.policy
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.fixtures.reference_server import RefServer, free_port
from tests.server.conftest import agent, customer, start_chat


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
        return "250 OK"

    def wait(self, count: int, timeout: float = 10.0) -> list[tuple[list[str], EmailMessage]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_close_mails_the_public_transcript(
    smtp: tuple[Inbox, int], make_ref_server: Callable[..., RefServer]
) -> None:
    """Closing with send_transcript mails the public messages (UTF-8), never internal notes."""
    inbox, port = smtp
    srv = make_ref_server(smtp_port=port, smtp_from="help@shop.example")
    cust, _ = customer(srv, email="mina@example.com")
    conv = start_chat(cust, name="Mina", message="주문이 아직 안 왔어요")
    a = agent(srv, name="Alex")
    a.post(f"/conversations/{conv['id']}/accept")
    a.post(
        f"/conversations/{conv['id']}/messages", json={"client_id": "1", "body": "確認いたします"}
    )
    a.post(
        f"/conversations/{conv['id']}/messages",
        json={"client_id": "2", "body": "refund abuse suspected", "internal": True},
    )
    r = a.post(f"/conversations/{conv['id']}/close", json={"send_transcript": True})
    assert r.status_code == 200
    ((rcpt, mail),) = inbox.wait(1)
    assert rcpt == ["mina@example.com"]
    assert mail["From"] == "help@shop.example" and mail["To"] == "mina@example.com"
    assert "transcript" in mail["Subject"].lower()
    text = mail.get_content()
    assert "주문이 아직 안 왔어요" in text and "確認いたします" in text and "Alex" in text
    assert "refund abuse suspected" not in text


def test_customer_requests_transcript_and_bad_addresses(
    smtp: tuple[Inbox, int], make_ref_server: Callable[..., RefServer]
) -> None:
    """A customer's transcript request is mailed (202); closing without any address is a 400."""
    inbox, port = smtp
    srv = make_ref_server(smtp_port=port)
    cust, _ = customer(srv)  # no email on file
    conv = start_chat(cust, message="please send me this")
    r = cust.post(
        f"/customer/conversations/{conv['id']}/transcript", json={"email": "copy@example.org"}
    )
    assert r.status_code == 202
    ((rcpt, mail),) = inbox.wait(1)
    assert rcpt == ["copy@example.org"] and "please send me this" in mail.get_content()
    a = agent(srv)
    r = a.post(f"/conversations/{conv['id']}/close", json={"send_transcript": True})
    assert r.status_code == 400
    assert a.get(f"/conversations/{conv['id']}").json()["state"] != "closed"  # the 400 left it open
    r = a.post(
        f"/conversations/{conv['id']}/close",
        json={"send_transcript": True, "transcript_email": "x@example.org"},
    )
    assert r.status_code == 200
    assert [rc for rc, _ in inbox.wait(2)][1] == ["x@example.org"]


def test_smtp_down_does_not_fail_the_close(make_ref_server: Callable[..., RefServer]) -> None:
    """With nobody listening on the SMTP port the close still succeeds (the error is logged)."""
    srv = make_ref_server(smtp_port=free_port())
    cust, _ = customer(srv, email="z@example.com")
    conv = start_chat(cust, message="x")
    a = agent(srv)
    r = a.post(f"/conversations/{conv['id']}/close", json={"send_transcript": True})
    assert r.status_code == 200 and r.json()["state"] == "closed"
