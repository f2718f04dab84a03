"""The database writer (issue 11): writes run on one thread with its own connection and
are group-committed; reads use another connection.  Concurrent sends from many clients
keep ``seq`` gap-free and ``client_id`` idempotency intact; a request that fails inside
a batch fails alone; events reach subscribers in commit order."""

from __future__ import annotations

import asyncio
import functools
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from console.server.db import Database, PendingEvent
from console.server.errors import ApiError
from tests.fixtures.reference_server import RefServer
from tests.server.conftest import agent, customer, start_chat


def _insert(db: Database, key: str) -> int:
    db.execute("INSERT INTO meta (key, value) VALUES (?, '1')", (key,))
    return db.append_event("test.write", {"key": key})


async def test_a_failure_inside_a_batch_fails_only_that_request(tmp_path: Path) -> None:
    db = Database(tmp_path / "w.sqlite3")
    published: list[int] = []
    db.subscribers.append(lambda events: published.extend(e.seq for e in events))
    db.start_writer(asyncio.get_running_loop())
    try:
        started, release = threading.Event(), threading.Event()

        def blocker() -> int:
            started.set()
            release.wait(10)
            return _insert(db, "first")

        first = asyncio.ensure_future(db.write(blocker))
        assert await asyncio.to_thread(started.wait, 10)
        # Queued while the writer is busy: these ten run as one batch.

        def failing(key: str, exc: Exception) -> Any:
            def run() -> int:
                _insert(db, key)  # written, then rolled back with its savepoint
                raise exc

            return run

        fns: list[Callable[[], Any]] = []
        for i in range(10):
            if i == 3:
                fns.append(failing("api", ApiError(409, "conflict", "no")))
            elif i == 6:
                fns.append(failing("bug", ValueError("boom")))
            elif i == 8:  # a constraint violation: the same key as job 0
                fns.append(functools.partial(_insert, db, "k0"))
            else:
                fns.append(functools.partial(_insert, db, f"k{i}"))
        jobs = [asyncio.ensure_future(db.write(fn)) for fn in fns]
        await asyncio.sleep(0)  # each has queued its job
        batches_before = db.batches
        release.set()
        assert await first == 1
        results = await asyncio.gather(*jobs, return_exceptions=True)
        assert db.batches == batches_before + 2  # the blocker's batch, then all ten in one
        assert isinstance(results[3], ApiError)
        assert isinstance(results[6], ValueError)
        assert isinstance(results[8], sqlite3.IntegrityError)
        ok = [r for i, r in enumerate(results) if i not in (3, 6, 8)]
        assert ok == list(range(2, 9))  # gap-free: the failed ones took no seq
        keys = {r[0] for r in db.all("SELECT key FROM meta WHERE key LIKE 'k%' OR key = 'bug'")}
        assert keys == {f"k{i}" for i in range(10) if i not in (3, 6, 8)}
        assert [r[0] for r in db.all("SELECT seq FROM events ORDER BY seq")] == list(range(1, 9))
        await asyncio.sleep(0)
        assert published == list(range(1, 9))  # published after commit, in order
    finally:
        db.close()


async def test_events_are_published_in_commit_order_with_direct_transactions(
    tmp_path: Path,
) -> None:
    """A transaction on the event loop (uploads, startup) and writer batches interleave;
    subscribers still see seq in commit order."""
    db = Database(tmp_path / "o.sqlite3")
    seen: list[PendingEvent] = []
    db.subscribers.append(seen.extend)
    db.start_writer(asyncio.get_running_loop())
    try:
        pending = [
            asyncio.ensure_future(db.write(functools.partial(_insert, db, f"w{i}")))
            for i in range(50)
        ]
        for i in range(20):
            with db.transaction():
                _insert(db, f"d{i}")
            await asyncio.sleep(0)
        await asyncio.gather(*pending)
        await asyncio.sleep(0.05)
        assert [e.seq for e in seen] == list(range(1, 71))
        # Reads on the event loop use the read-only connection.
        with pytest.raises(sqlite3.OperationalError):
            db.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
    finally:
        db.close()


async def test_concurrent_sends_keep_seq_gap_free_and_client_ids_idempotent(
    server: RefServer,
) -> None:
    """20 customers and their agent send at once, every message twice with the same
    client_id: one message per client_id, the duplicate answered with the same message,
    and the stream sees a gap-free run of seq."""
    a = agent(server, capacity=20)
    token = str(a.headers["Authorization"]).removeprefix("Bearer ")
    chats = []
    for _ in range(20):
        cust, _cid = customer(server)
        conv = start_chat(cust, message="hi")
        assert a.post(f"/conversations/{conv['id']}/accept").status_code == 200
        chats.append((str(cust.headers["Authorization"]), conv["id"]))

    async with connect(
        server.ws_url, additional_headers={"Authorization": f"Bearer {token}"}, open_timeout=5
    ) as ws:
        await ws.send(json.dumps({"type": "hello", "resume_after": None}))
        welcome = json.loads(await asyncio.wait_for(ws.recv(), 5))
        start = welcome["last_seq"]

        async with httpx.AsyncClient(base_url=server.api, timeout=30) as http:

            async def send(auth: str, path: str, client_id: str) -> dict[str, Any]:
                r = await http.post(
                    path,
                    json={"client_id": client_id, "body": client_id},
                    headers={"Authorization": auth},
                )
                assert r.status_code in (200, 201), r.text
                return dict(r.json())

            calls = []
            for n, (auth, conv_id) in enumerate(chats):
                for k in range(5):
                    for _twice in range(2):
                        calls.append(
                            send(auth, f"/customer/conversations/{conv_id}/messages", f"c{n}-{k}")
                        )
                        calls.append(
                            send(
                                a.headers["Authorization"],
                                f"/conversations/{conv_id}/messages",
                                f"a{n}-{k}",
                            )
                        )
            results = await asyncio.gather(*calls)

        by_client: dict[str, set[str]] = {}
        for r in results:
            by_client.setdefault(r["client_id"], set()).add(r["id"])
        assert len(by_client) == 200
        assert all(len(ids) == 1 for ids in by_client.values())

        seqs: list[int] = []
        created: set[str] = set()
        while len(created) < 200:
            frame = json.loads(await asyncio.wait_for(ws.recv(), 10))
            if "seq" not in frame:
                continue
            seqs.append(frame["seq"])
            if frame["type"] == "message.created":
                created.add(frame["data"]["id"])
    assert seqs == list(range(start + 1, start + len(seqs) + 1))
    assert created == {next(iter(ids)) for ids in by_client.values()}
    with sqlite3.connect(server.db_path) as conn:
        rows = [
            r[0]
            for r in conn.execute("SELECT seq FROM events WHERE seq > ? ORDER BY seq", (start,))
        ]
        assert rows[: len(seqs)] == seqs
        assert rows == list(range(start + 1, start + len(rows) + 1))
        for n, (_auth, conv_id) in enumerate(chats):
            count = conn.execute(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND client_id IS NOT NULL",
                (conv_id,),
            ).fetchone()[0]
            assert count == 10, n
