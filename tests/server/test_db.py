"""Persistence details: migrations, one-transaction writes, hashed tokens, demo seed."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from console.server import admin
from console.server.db import MIGRATIONS, Database
from console.server.demo import load_demo
from tests.fixtures.reference_server import RefServer
from tests.server.conftest import client


def test_schema_is_versioned_and_wal(tmp_path: Path) -> None:
    """A new file is migrated to the latest user_version in WAL mode; reopening is a no-op."""
    db = Database(tmp_path / "a.sqlite3")
    assert db.one("PRAGMA user_version")[0] == len(MIGRATIONS)  # type: ignore[index]
    assert db.one("PRAGMA journal_mode")[0] == "wal"  # type: ignore[index]
    db.close()
    again = Database(tmp_path / "a.sqlite3")
    assert again.one("PRAGMA user_version")[0] == len(MIGRATIONS)  # type: ignore[index]
    again.close()


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    """A database from a newer version is not touched."""
    path = tmp_path / "b.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        Database(path)


def test_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    """An error mid-request rolls back rows and events, and nothing is published."""
    db = Database(tmp_path / "c.sqlite3")
    published: list[int] = []
    db.subscribers.append(lambda events: published.extend(e.seq for e in events))
    with pytest.raises(ValueError), db.transaction():
        db.execute("INSERT INTO meta (key, value) VALUES ('x', '1')")
        db.append_event("agent.updated", {"id": "a"})
        raise ValueError("boom")
    assert db.one("SELECT COUNT(*) FROM meta WHERE key = 'x'")[0] == 0  # type: ignore[index]
    assert db.last_seq() == 0 and published == []
    with db.transaction():
        seq = db.append_event("agent.updated", {"id": "a"})
    assert published == [seq] == [1]
    db.close()


def test_tokens_are_stored_hashed(tmp_path: Path) -> None:
    """Only the sha256 of a token is in the database."""
    path = tmp_path / "d.sqlite3"
    token = admin.create_token(path, "agent", "Hashy")
    with sqlite3.connect(path) as raw:
        stored = [r[0] for r in raw.execute("SELECT hash FROM tokens")]
        dump = "\n".join(raw.iterdump())
    assert stored == [admin.hash_token(token)]
    assert token not in dump
    assert admin.subject_of(path, token)[0] == "agent"  # type: ignore[index]
    assert admin.subject_of(path, token + "x") is None
    with pytest.raises(ValueError):
        admin.create_token(path, "root", "x")  # type: ignore[arg-type]


def test_demo_seed_loads_once(tmp_path: Path) -> None:
    """The demo loader seeds departments, agents, customers, notes, canned replies once."""
    from console.server import seed_data

    db = Database(tmp_path / "e.sqlite3")
    assert load_demo(db) is True
    assert load_demo(db) is False
    names = {r[0] for r in db.all("SELECT name FROM departments")}
    assert names == {d["name"] for d in seed_data.DEMO_DEPARTMENTS}
    assert db.one("SELECT COUNT(*) FROM canned_replies")[0] == len(seed_data.DEMO_CANNED_REPLIES)  # type: ignore[index]
    assert db.one("SELECT COUNT(*) FROM users WHERE role = 'agent'")[0] == len(
        seed_data.DEMO_AGENTS
    )  # type: ignore[index]
    assert db.one("SELECT COUNT(*) FROM customers")[0] == len(seed_data.DEMO_CUSTOMERS)  # type: ignore[index]
    assert {r[0] for r in db.all("SELECT DISTINCT lang FROM canned_replies")} == {"en", "ko", "ja"}
    db.close()


def test_demo_server(make_ref_server: Callable[..., RefServer]) -> None:
    """``--demo`` serves the seeded data; the first demo agent can log in by name."""
    from console.server import seed_data

    srv = make_ref_server(demo=True)
    a = client(srv, srv.token("agent", seed_data.DEMO_AGENTS[0]["name"]))
    me = a.get("/me").json()
    assert me["status"] == seed_data.DEMO_AGENTS[0]["status"]
    assert len(me["department_ids"]) == len(seed_data.DEMO_AGENTS[0]["departments"])
    hits = a.get("/canned-replies", params={"q": "{customer.name}"}).json()
    assert hits and all("{customer.name}" in h["body"] for h in hits)
    jane = next(c for c in seed_data.DEMO_CUSTOMERS if c.get("notes"))
    sess = a.get("/departments").json()
    assert {d["name"] for d in sess} == {d["name"] for d in seed_data.DEMO_DEPARTMENTS}
    import httpx

    # A demo customer is reattached only with a verified identity (identifier + HMAC).
    identifier = jane["email"].lower()
    proof = admin.identifier_hash(admin.identity_secret(srv.db_path), identifier)
    info = httpx.post(
        srv.api + "/customer/session",
        json={"name": jane["name"], "identifier": identifier, "identifier_hash": proof},
    ).json()
    profile = a.get(f"/customers/{info['subject_id']}").json()
    assert profile["account"] == jane["account"] and profile["tags"] == jane["tags"]
    assert len(a.get(f"/customers/{info['subject_id']}/notes").json()) == len(jane["notes"])


def test_everything_survives_a_hard_restart(make_ref_server: Callable[..., RefServer]) -> None:
    """Conversations, messages, notes, tags, canned replies, tokens, attachments and CSAT
    are all there after SIGKILL and restart."""
    import httpx

    srv = make_ref_server()
    a = client(srv, srv.token("agent", "Keeper"))
    session = httpx.post(
        srv.api + "/customer/session", json={"name": "Pat", "email": "pat@example.com"}
    ).json()
    cust = client(srv, session["token"])
    conv = cust.post("/customer/conversations", json={"name": "Pat", "message": "hello"}).json()
    att = a.post("/attachments", files={"file": ("r.pdf", b"%PDF-1.4 test")}).json()
    a.post(f"/conversations/{conv['id']}/accept")
    a.post(
        f"/conversations/{conv['id']}/messages",
        json={"client_id": "m1", "body": "hi", "attachment_ids": [att["id"]]},
    )
    a.post(
        f"/conversations/{conv['id']}/messages",
        json={"client_id": "m2", "body": "note", "internal": True},
    )
    a.put(f"/customers/{session['subject_id']}/tags", json={"tags": ["vip"]})
    a.post(f"/customers/{session['subject_id']}/notes", json={"body": "likes tea"})
    canned = a.post("/canned-replies", json={"title": "T", "body": "Hi {customer.name}"}).json()
    a.post(f"/conversations/{conv['id']}/close", json={})
    cust.post(f"/customer/conversations/{conv['id']}/rate", json={"score": 4})
    before = {
        "conv": a.get(f"/conversations/{conv['id']}").json(),
        "messages": a.get(f"/conversations/{conv['id']}/messages").json(),
        "customer": a.get(f"/customers/{session['subject_id']}").json(),
        "notes": a.get(f"/customers/{session['subject_id']}/notes").json(),
        "canned": a.get("/canned-replies").json(),
    }
    srv.stop()
    srv.start()
    after = {
        "conv": a.get(f"/conversations/{conv['id']}").json(),
        "messages": a.get(f"/conversations/{conv['id']}/messages").json(),
        "customer": a.get(f"/customers/{session['subject_id']}").json(),
        "notes": a.get(f"/customers/{session['subject_id']}/notes").json(),
        "canned": a.get("/canned-replies").json(),
    }
    assert after == before
    assert after["conv"]["csat_score"] == 4 and after["customer"]["tags"] == ["vip"]
    assert canned in after["canned"]
    assert a.get(f"/attachments/{att['id']}").content == b"%PDF-1.4 test"
    assert cust.get("/customer/conversations").json()[0]["id"] == conv["id"]  # customer token too
