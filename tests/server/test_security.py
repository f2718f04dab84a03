"""Issue 11, security half, against the real server: revocation and expiry that bite on
open streams, no secret in the server log, stream tickets instead of tokens in URLs,
customer identity only with a verified HMAC, private files, and who closed a chat."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from console.server import admin
from tests.fixtures.reference_server import RefServer
from tests.server.conftest import agent, client, customer, error_code, start_chat, supervisor
from tests.server.test_stream import hello, token_of, ws_connect


async def closed_within(ws: ClientConnection, seconds: float) -> ConnectionClosed:
    """Read (and drop) frames until the server closes the stream; fail if it stays open."""

    async def until_closed() -> ConnectionClosed:
        try:
            while True:
                await ws.recv()
        except ConnectionClosed as exc:
            return exc

    try:
        return await asyncio.wait_for(until_closed(), seconds)
    except TimeoutError:
        pytest.fail(f"the stream was still open {seconds} s later")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "console", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --------------------------------------------------------------------------- revocation, expiry


async def test_revoked_token_closes_its_open_stream_within_a_second(server: RefServer) -> None:
    """Revoking with the CLI (another process, same database) ends the live stream with
    1008 within 1 s; a reconnect and REST calls get 401.  Other streams stay open."""
    leaver = agent(server)
    stayer = agent(server)
    token = token_of(leaver)
    token_id = admin.token_id_of(server.db_path, token)
    assert token_id is not None and token_id.startswith("tok_")
    async with ws_connect(server, token) as ws, ws_connect(server, token_of(stayer)) as other:
        assert (await hello(ws, None))["type"] == "welcome"
        assert (await hello(other, None))["type"] == "welcome"
        listed = await asyncio.to_thread(cli, "token", "list", "--db", str(server.db_path))
        assert listed.returncode == 0, listed.stderr
        assert token_id in listed.stdout and token not in listed.stdout
        revoked = await asyncio.to_thread(
            cli, "token", "revoke", token_id, "--db", str(server.db_path)
        )
        assert revoked.returncode == 0, revoked.stderr
        closed = await closed_within(ws, 1.0)
        assert closed.rcvd is not None and closed.rcvd.code == 1008
        # The other agent's stream is untouched: it still answers a ping.
        await other.send(json.dumps({"type": "ping"}))
        assert json.loads(await asyncio.wait_for(other.recv(), 5)) == {"type": "pong"}
    assert leaver.get("/me").status_code == 401
    with pytest.raises(InvalidStatus) as info:
        async with ws_connect(server, token):
            pass
    assert info.value.response.status_code == 401
    listed = await asyncio.to_thread(cli, "token", "list", "--db", str(server.db_path))
    row = next(line for line in listed.stdout.splitlines() if token_id in line)
    assert "revoked" in row
    again = await asyncio.to_thread(cli, "token", "revoke", token_id, "--db", str(server.db_path))
    assert again.returncode != 0


async def test_expired_token_gets_401_and_its_stream_is_closed(server: RefServer) -> None:
    token = admin.create_token(
        server.db_path, "agent", "Shortlived", expires_in=timedelta(seconds=2)
    )
    c = client(server, token)
    assert c.get("/me").status_code == 200
    async with ws_connect(server, token) as ws:
        assert (await hello(ws, None))["type"] == "welcome"
        closed = await closed_within(ws, 10.0)
        assert closed.rcvd is not None and closed.rcvd.code == 1008
    r = c.get("/me")
    assert r.status_code == 401 and error_code(r) == "unauthorized"
    rows = {row.id: row for row in admin.list_tokens(server.db_path)}
    token_id = admin.token_id_of(server.db_path, token)
    assert token_id is not None and rows[token_id].state == "expired"


def test_token_create_with_expiry_from_the_cli(server: RefServer) -> None:
    out = cli(
        "token", "create", "--role", "agent", "--name", "Temp", "--expires", "8h",
        "--db", str(server.db_path),
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    token = out.stdout.strip()
    assert client(server, token).get("/me").status_code == 200
    token_id = admin.token_id_of(server.db_path, token)
    row = next(r for r in admin.list_tokens(server.db_path) if r.id == token_id)
    assert row.expires_at is not None and row.state == "active"
    bad = cli("token", "create", "--role", "agent", "--name", "T", "--expires", "soon",
              "--db", str(server.db_path))  # fmt: skip
    assert bad.returncode != 0 and "duration" in bad.stderr


# --------------------------------------------------------------------------- no token in URLs or logs


async def test_stream_ticket_is_single_use_and_tied_to_the_token(server: RefServer) -> None:
    cust, _ = customer(server)
    sup = supervisor(server)
    for who, role in ((cust, "customer"), (sup, "supervisor")):
        r = who.post("/stream/ticket")
        assert r.status_code == 201, r.text
        body = r.json()
        ticket = body["ticket"]
        assert 0 < body["expires_in"] <= 60 and not ticket.startswith("ac_")
        async with connect(f"{server.ws_url}?ticket={ticket}", open_timeout=5) as ws:
            assert (await hello(ws, None))["role"] == role
        with pytest.raises(InvalidStatus) as info:  # used up
            async with connect(f"{server.ws_url}?ticket={ticket}", open_timeout=5):
                pass
        assert info.value.response.status_code == 401
    # A ticket of a token revoked meanwhile does not open a stream.
    a = agent(server)
    ticket = a.post("/stream/ticket").json()["ticket"]
    assert admin.revoke_token(server.db_path, token_of(a))
    with pytest.raises(InvalidStatus) as info:
        async with connect(f"{server.ws_url}?ticket={ticket}", open_timeout=5):
            pass
    assert info.value.response.status_code == 401


async def test_no_token_or_ticket_in_the_server_log(
    make_ref_server: Callable[..., RefServer],
) -> None:
    """uvicorn at info level (the default of 'agent-console serve') logs every request
    line and 'WebSocket /api/v1/stream… [accepted]'; no token or ticket may be in it."""
    srv = make_ref_server(log_level="info")
    a = agent(srv)
    token = token_of(a)
    secrets = [token]
    assert a.get("/me").status_code == 200
    async with ws_connect(srv, token) as ws:
        assert (await hello(ws, None))["type"] == "welcome"
    ticket = a.post("/stream/ticket").json()["ticket"]
    secrets.append(ticket)
    async with connect(f"{srv.ws_url}?ticket={ticket}", open_timeout=5) as ws:
        assert (await hello(ws, None))["type"] == "welcome"
    # Clients that still put a token in the URL are refused and not logged either.
    with pytest.raises(InvalidStatus):
        async with connect(f"{srv.ws_url}?token={token}", open_timeout=5):
            pass
    assert httpx.get(f"{srv.api}/me?token={token}").status_code == 401
    session = httpx.post(srv.api + "/customer/session", json={"name": "Logged"}).json()
    secrets.append(session["token"])
    await asyncio.sleep(0.2)  # let the server flush its last lines (it runs unbuffered)
    text = srv.log_path.read_text(errors="replace")
    assert "/api/v1/stream" in text and "[accepted]" in text, text[-2000:]  # info is on
    for secret in secrets:
        assert secret not in text, f"{secret[:6]}… is in the server log"


# --------------------------------------------------------------------------- customer identity


def _session(server: RefServer, **body: Any) -> httpx.Response:
    body.setdefault("name", "Someone")
    return httpx.post(server.api + "/customer/session", json=body, timeout=10.0)


def test_knowing_an_email_or_name_does_not_reattach_a_customer(server: RefServer) -> None:
    """The old takeover: a session with the victim's e-mail (any case) or, without e-mail,
    their display name got the victim's record, chats and stored e-mail."""
    victim, victim_id = customer(server, name="Victim Vee", email="vee@example.com")
    conv = start_chat(victim, name="Victim Vee", email="vee@example.com", message="my secret")
    for body in (
        {"name": "Victim Vee", "email": "vee@example.com"},
        {"name": "Attacker", "email": "VEE@Example.COM"},
        {"name": "Victim Vee"},
    ):
        r = _session(server, **body)
        assert r.status_code == 201, r.text
        assert r.json()["subject_id"] != victim_id, body
        thief = client(server, r.json()["token"])
        assert thief.get("/customer/conversations").json() == []
        assert thief.get(f"/customer/conversations/{conv['id']}/messages").status_code == 404
        start_chat(thief, name="Attacker", email="attacker@example.com", message="hi")
    a = agent(server)
    profile = a.get(f"/customers/{victim_id}").json()
    assert profile["email"] == "vee@example.com" and profile["name"] == "Victim Vee"


def test_verified_identity_reattaches_and_a_bad_hash_is_refused(server: RefServer) -> None:
    secret = admin.identity_secret(server.db_path)
    identifier = "user-4711"
    proof = admin.identifier_hash(secret, identifier)
    first = _session(server, name="Known", identifier=identifier, identifier_hash=proof)
    assert first.status_code == 201, first.text
    known_id = first.json()["subject_id"]
    conv = start_chat(client(server, first.json()["token"]), name="Known", message="earlier")
    again = _session(server, name="Known", identifier=identifier, identifier_hash=proof.upper())
    assert again.status_code == 201 and again.json()["subject_id"] == known_id
    mine = client(server, again.json()["token"]).get("/customer/conversations").json()
    assert [c["id"] for c in mine] == [conv["id"]]
    for bad in (
        {"identifier": identifier, "identifier_hash": admin.identifier_hash("guess", identifier)},
        {"identifier": identifier, "identifier_hash": ""},
        {"identifier": identifier},
        {"identifier": "user-4712", "identifier_hash": proof},
        {"identifier_hash": proof},
    ):
        r = _session(server, name="Mallory", **bad)
        assert r.status_code == 401, (bad, r.text)
        assert error_code(r) == "identity_invalid"


def test_a_stored_email_is_not_overwritten(server: RefServer) -> None:
    secret = admin.identity_secret(server.db_path)
    proof = admin.identifier_hash(secret, "acct-9")
    info = _session(
        server, name="Owner", email="owner@example.com", identifier="acct-9", identifier_hash=proof
    ).json()
    cust = client(server, info["token"])
    start_chat(cust, name="Owner", email="owner@example.com", message="one")
    start_chat(cust, name="Owner", email="elsewhere@example.net", message="two")
    profile = agent(server).get(f"/customers/{info['subject_id']}").json()
    assert profile["email"] == "owner@example.com"


# --------------------------------------------------------------------------- private files


def test_database_wal_and_attachments_are_private(server: RefServer) -> None:
    a = agent(server)
    assert a.post("/attachments", files={"file": ("p.txt", b"private")}).status_code == 201
    db = server.db_path
    files = [db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")]
    for path in files:
        assert path.exists(), path
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, (path, oct(path.stat().st_mode))
    folders = [server.data_dir, server.data_dir / "attachments"]
    for path in folders:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, (path, oct(path.stat().st_mode))
    for path in (server.data_dir / "attachments").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_existing_files_are_tightened_on_start(tmp_path: Path) -> None:
    from console.server.app import create_app
    from console.server.settings import ServerSettings

    db = tmp_path / "old.sqlite3"
    db.touch(mode=0o644)
    db.chmod(0o644)
    data = tmp_path / "data"
    (data / "attachments").mkdir(parents=True)
    (data / "attachments").chmod(0o755)
    create_app(ServerSettings(db_path=db, data_dir=data))
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE((data / "attachments").stat().st_mode) == 0o700


# --------------------------------------------------------------------------- who closed it


async def test_closing_or_transferring_another_agents_chat_says_who(server: RefServer) -> None:
    owner = agent(server, name="Owner Olivia")
    other = agent(server, name="Other Oscar")
    target = agent(server, name="Target Tess")
    cust, _ = customer(server)
    first = start_chat(cust, message="first")
    second = start_chat(cust, message="second")
    for conv in (first, second):
        assert owner.post(f"/conversations/{conv['id']}/accept").status_code == 200

    r = other.post(f"/conversations/{second['id']}/transfer", json={"agent_id": target_id(target)})
    assert r.status_code == 200, r.text
    bodies = [
        m["body"] for m in other.get(f"/conversations/{second['id']}/messages").json()["items"]
    ]
    assert any("Other Oscar" in b and "Owner Olivia" in b and "Target Tess" in b for b in bodies)

    async with ws_connect(server, token_of(owner)) as ws:
        assert (await hello(ws, None))["type"] == "welcome"
        r = other.post(f"/conversations/{first['id']}/close", json={})
        assert r.status_code == 200, r.text
        closed = r.json()
        assert closed["closed_by_name"] == "Other Oscar"
        assert closed["closed_by_id"] == other.get("/me").json()["id"]
        events = await _events_until(
            ws, lambda f: f["type"] == "conversation.updated" and f["data"]["state"] == "closed"
        )
    assert events[-1]["data"]["closed_by_name"] == "Other Oscar"
    page = owner.get(f"/conversations/{first['id']}/messages").json()["items"]
    note = next(m for m in page if m["body"] == "Other Oscar closed Owner Olivia's chat.")
    assert note["internal"] is True and note["author_kind"] == "system"
    # The customer does not see the internal note.
    public = cust.get(f"/customer/conversations/{first['id']}/messages").json()["items"]
    assert all("Other Oscar" not in m["body"] for m in public)
    # Closing one's own chat records the closer without an extra note.
    third = start_chat(cust, message="third")
    assert owner.post(f"/conversations/{third['id']}/accept").status_code == 200
    own = owner.post(f"/conversations/{third['id']}/close", json={}).json()
    assert own["closed_by_name"] == "Owner Olivia"
    third_page = owner.get(f"/conversations/{third['id']}/messages").json()["items"]
    assert not any("closed" in m["body"] and m["internal"] for m in third_page)


def target_id(c: httpx.Client) -> str:
    return str(c.get("/me").json()["id"])


async def _events_until(
    ws: ClientConnection, done: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []

    async def run() -> None:
        while True:
            frame = json.loads(await ws.recv())
            if "seq" in frame:
                frames.append(frame)
                if done(frame):
                    return

    await asyncio.wait_for(run(), 10)
    return frames


async def test_no_token_in_the_console_log(server: RefServer, tmp_path: Path) -> None:
    """The native backend (REST + stream) at the console's default log level writes no
    token to the console log, even one the redactor was never told about."""
    from console.backends.native import NativeBackend
    from console.core.logging_setup import setup_logging, teardown_logging

    log_path = setup_logging(log_path=tmp_path / "console.log")
    token = server.token("agent", "Logged Agent")
    backend = NativeBackend(server.url, token, outbox_path=tmp_path / "outbox.sqlite3")
    try:
        assert (await backend.connect()).name == "Logged Agent"
        got: list[Any] = []

        async def consume() -> None:
            async for event in backend.events():
                got.append(event)

        consumer = asyncio.ensure_future(consume())
        cust, _ = customer(server)
        for _ in range(30):  # until the stream is live: a chat started before is not replayed
            await asyncio.to_thread(start_chat, cust, message="log me")
            await asyncio.sleep(0.5)
            if got:
                break
        consumer.cancel()
        assert got, "the stream delivered nothing"
        await backend.list_conversations()
    finally:
        await backend.aclose()
        logging.getLogger("tests.security").warning("console-log-test-end")
        teardown_logging()
    text = log_path.read_text(encoding="utf-8", errors="replace")
    assert "console-log-test-end" in text, "the log handler was not in place"
    assert token not in text and token[3:20] not in text
