"""Attachments: sniffed types, safe names, who may download, attaching to messages."""

from __future__ import annotations

import urllib.parse

import pytest

from console.server.routes import content_disposition, safe_filename, sniff_content_type
from tests.fixtures.reference_server import RefServer
from tests.server.conftest import agent, customer, error_code, start_chat

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"%PDF-1.7\n", "application/pdf"),
        (b"PK\x03\x04zip", "application/zip"),
        ("안녕하세요 hello\n".encode(), "text/plain; charset=utf-8"),
        (b"\x00\x01\x02binary", "application/octet-stream"),
        (b"text with \x1b[31m escape", "application/octet-stream"),
        ("切れ".encode()[:-1], "text/plain; charset=utf-8"),  # multibyte char cut at the window end
    ],
)
def test_sniffing(head: bytes, expected: str) -> None:
    """The type comes from magic bytes, never from the client."""
    assert sniff_content_type(head) == expected


def test_safe_names() -> None:
    """Path parts and control characters go; an empty name gets a default."""
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("C:\\Users\\me\\report.pdf") == "report.pdf"
    assert safe_filename("bad\x1b]52;c;x\x07name\u202e.txt") == "bad]52;c;xname.txt"
    assert safe_filename("...") == "attachment"
    assert safe_filename(None) == "attachment"
    header = content_disposition('請求書 "2026".pdf')
    assert header.startswith('attachment; filename="')
    assert "filename*=UTF-8''" + urllib.parse.quote('請求書 "2026".pdf', safe="") in header
    assert '"2026"' not in header.split(";")[1]


def test_upload_download_and_attach(server: RefServer) -> None:
    """Upload sniffs and cleans; the message carries the attachment; downloads are safe."""
    a = agent(server)
    r = a.post("/attachments", files={"file": ("../../evil.png", PNG, "text/html")})
    assert r.status_code == 201, r.text
    att = r.json()
    assert (
        att["filename"] == "evil.png"
        and att["content_type"] == "image/png"
        and att["size"] == len(PNG)
    )
    assert att["url"] == f"/api/v1/attachments/{att['id']}"
    d = a.get(f"/attachments/{att['id']}")
    assert d.status_code == 200 and d.content == PNG
    assert d.headers["content-type"] == "image/png"
    assert d.headers["x-content-type-options"] == "nosniff"
    assert "filename*=UTF-8''evil.png" in d.headers["content-disposition"]
    assert a.get("/attachments/att_nope").status_code == 404

    cust, _ = customer(server)
    conv = start_chat(cust, message="see file")
    r = a.post(
        f"/conversations/{conv['id']}/messages",
        json={"client_id": "f1", "body": "", "attachment_ids": [att["id"]]},
    )
    assert r.status_code == 201 and [x["id"] for x in r.json()["attachments"]] == [att["id"]]
    # the customer of that chat may now download it; another customer may not
    assert cust.get(f"/attachments/{att['id']}").content == PNG
    stranger, _ = customer(server)
    assert stranger.get(f"/attachments/{att['id']}").status_code == 404
    # an attachment can't be reused, unknown ids are refused
    r = a.post(
        f"/conversations/{conv['id']}/messages",
        json={"client_id": "f2", "body": "again", "attachment_ids": [att["id"]]},
    )
    assert r.status_code == 400
    r = a.post(
        f"/conversations/{conv['id']}/messages",
        json={"client_id": "f3", "body": "x", "attachment_ids": ["att_nope"]},
    )
    assert r.status_code == 400
    # an attachment in an internal note stays invisible to the customer
    secret = a.post("/attachments", files={"file": ("notes.txt", b"internal only")}).json()
    a.post(
        f"/conversations/{conv['id']}/messages",
        json={"client_id": "f4", "body": "ref", "internal": True, "attachment_ids": [secret["id"]]},
    )
    assert cust.get(f"/attachments/{secret['id']}").status_code == 404


def test_customer_upload(server: RefServer) -> None:
    """Customers upload through /customer/attachments and attach to their own message."""
    cust, _ = customer(server)
    conv = start_chat(cust, message="screenshot coming")
    r = cust.post("/customer/attachments", files={"file": ("스크린샷.png", PNG)})
    assert r.status_code == 201
    att = r.json()
    assert att["filename"] == "스크린샷.png"
    r = cust.post(
        f"/customer/conversations/{conv['id']}/messages",
        json={"client_id": "s1", "body": "", "attachment_ids": [att["id"]]},
    )
    assert r.status_code == 201
    a = agent(server)
    d = a.get(f"/attachments/{att['id']}")
    assert d.content == PNG
    assert (
        "filename*=UTF-8''" + urllib.parse.quote("스크린샷.png", safe="")
        in d.headers["content-disposition"]
    )
    # someone else's upload cannot be attached
    other = a.post("/attachments", files={"file": ("a.txt", b"a")}).json()
    r = cust.post(
        f"/customer/conversations/{conv['id']}/messages",
        json={"client_id": "s2", "body": "x", "attachment_ids": [other["id"]]},
    )
    assert r.status_code == 400


def test_bad_uploads(server: RefServer) -> None:
    """No file field or no multipart body is a 400."""
    a = agent(server)
    r = a.post("/attachments", data={"other": "x"}, files={"notfile": ("a.txt", b"a")})
    assert r.status_code == 400 and error_code(r) == "bad_request"
    r = a.post("/attachments", json={"file": "x"})
    assert r.status_code == 400
    r = a.post(
        "/attachments",
        content=b"--xx\r\nbroken",
        headers={"Content-Type": "multipart/form-data; boundary=xx"},
    )
    assert r.status_code == 400
