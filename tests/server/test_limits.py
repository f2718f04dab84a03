"""Limits: body length, JSON size, attachment size, rate limit."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx

from console.protocol import limits
from tests.fixtures.reference_server import RefServer
from tests.server.conftest import agent, client, customer, error_code, start_chat


def test_message_body_limit(server: RefServer) -> None:
    """10,000 characters (CJK counts per character) pass; one more is a 400."""
    cust, _ = customer(server)
    conv = start_chat(cust)
    a = agent(server)
    url = f"/conversations/{conv['id']}/messages"
    ok = a.post(url, json={"client_id": "max", "body": "가" * limits.MAX_BODY_CHARS})
    assert ok.status_code == 201
    r = a.post(url, json={"client_id": "over", "body": "x" * (limits.MAX_BODY_CHARS + 1)})
    assert r.status_code == 400 and error_code(r) == "bad_request"
    assert "10000" in r.json()["error"]["message"]
    assert a.get(url).json()["items"][-1]["client_id"] == "max"


def test_json_over_one_mib_is_413(server: RefServer) -> None:
    """Bodies over 1 MiB are refused with 413, with or without Content-Length."""
    a = agent(server)
    big = b'{"title": "x", "body": "' + b"y" * limits.MAX_JSON_BYTES + b'"}'
    r = a.post("/canned-replies", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and error_code(r) == "too_large"

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(big), 64 * 1024):
            yield big[i : i + 64 * 1024]

    r = a.post("/canned-replies", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert not [c for c in a.get("/canned-replies").json() if c["title"] == "x"]


def test_attachment_over_25_mb_is_413(server: RefServer) -> None:
    """One byte over 25 MB is refused and nothing is stored."""
    a = agent(server)
    before = sorted((server.data_dir / "attachments").iterdir())
    r = a.post(
        "/attachments", files={"file": ("big.bin", b"\0" * (limits.MAX_ATTACHMENT_BYTES + 1))}
    )
    assert r.status_code == 413 and error_code(r) == "too_large"
    r = a.post(
        "/attachments",
        files={"file": ("huge.bin", b"\0" * (limits.MAX_ATTACHMENT_BYTES + 2 * 1024 * 1024))},
    )
    assert r.status_code == 413
    assert sorted((server.data_dir / "attachments").iterdir()) == before


def test_rate_limit_answers_429_with_retry_after(make_ref_server: Callable[..., RefServer]) -> None:
    """Past the burst a token gets 429 + Retry-After; other tokens are unaffected."""
    srv = make_ref_server(rate_limit=True, rate_burst=5, rate_per_second=0.5)
    a = client(srv, srv.token("agent", "Hasty"))
    b = client(srv, srv.token("agent", "Calm"))
    codes = [a.get("/me").status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    r = a.get("/me")
    assert r.status_code == 429 and error_code(r) == "rate_limited"
    assert int(r.headers["Retry-After"]) >= 1
    assert b.get("/me").status_code == 200
    assert httpx.get(srv.api + "/health").status_code == 200
