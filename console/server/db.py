"""SQLite persistence of the reference server: schema, migrations, one writer.

Why this shape:

* **One writer thread, group commit, readers on their own connection.**  Once the
  server starts it (:meth:`Database.start_writer`), every mutating request hands its
  synchronous handler to :meth:`Database.write`; a dedicated thread with its own
  connection runs the handlers that queued up while the previous commit was in
  flight in one ``BEGIN IMMEDIATE`` … ``COMMIT`` (at most :data:`MAX_BATCH`), each
  inside a ``SAVEPOINT`` so a failing request is rolled back alone.  After the
  commit the events, after-commit callbacks and each request's result go back to
  the event loop in one call, in commit order.  Reads on the event loop use a
  second, read-only connection (WAL readers do not block the writer nor it them).
  Without the writer (tools, tests, startup) :meth:`Database.transaction` runs in
  the calling thread under the same lock.  Other processes (the CLI's ``token
  create``) open their own connection; WAL plus ``busy_timeout`` lets them interleave.
* **Events live in the same transaction as the change they describe**
  (:meth:`Database.append_event`), so ``seq`` is strictly increasing and a
  replay after a restart is exact.  Subscribers are told only after commit.
* **Versioned migrations** in :data:`MIGRATIONS`, applied by ``PRAGMA user_version``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import queue
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("console.server.db")

MIGRATIONS: list[str] = [
    # 1: initial schema
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE departments (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        offline_message TEXT NOT NULL DEFAULT '',
        hours TEXT,                         -- JSON {"0": "09:00-17:00", ...} or NULL = always open
        utc_offset_minutes INTEGER NOT NULL DEFAULT 0,
        prechat_questions TEXT NOT NULL DEFAULT '[]',  -- JSON [{"key","question"}]
        position INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor')),
        name TEXT NOT NULL,
        email TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'offline',
        capacity INTEGER NOT NULL DEFAULT 3,
        accepting INTEGER NOT NULL DEFAULT 1,
        last_reply_at TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE user_departments (
        user_id TEXT NOT NULL REFERENCES users(id),
        department_id TEXT NOT NULL REFERENCES departments(id),
        PRIMARY KEY (user_id, department_id)
    );
    CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL DEFAULT '',
        account TEXT NOT NULL DEFAULT '{}',
        custom_fields TEXT NOT NULL DEFAULT '{}',
        tags TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL
    );
    CREATE INDEX customers_email ON customers(email);
    CREATE TABLE customer_activity (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL
    );
    CREATE TABLE tokens (
        hash TEXT PRIMARY KEY,              -- sha256 hex of the token; the token itself is never stored
        role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'customer')),
        subject_id TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE conversations (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        department_id TEXT NOT NULL REFERENCES departments(id),
        state TEXT NOT NULL CHECK (state IN ('bot', 'queued', 'active', 'closed')),
        assignee_id TEXT REFERENCES users(id),
        channel TEXT NOT NULL DEFAULT 'web',
        page_url TEXT NOT NULL DEFAULT '',
        prechat TEXT NOT NULL DEFAULT '{}',
        bot_pending TEXT,                   -- key of the pre-chat question the bot waits on
        created_at TEXT NOT NULL,
        queued_at TEXT,
        assigned_at TEXT,
        closed_at TEXT,
        last_message_at TEXT,
        waiting_since TEXT,
        first_response_at TEXT,
        csat_score INTEGER,
        csat_comment TEXT,
        abandoned INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX conversations_state ON conversations(state, queued_at);
    CREATE INDEX conversations_customer ON conversations(customer_id);
    CREATE INDEX conversations_assignee ON conversations(assignee_id, state);
    CREATE TABLE messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        conversation_id TEXT NOT NULL REFERENCES conversations(id),
        author_kind TEXT NOT NULL,
        author_id TEXT,
        author_name TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL DEFAULT '',
        internal INTEGER NOT NULL DEFAULT 0,
        client_id TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (conversation_id, client_id)
    );
    CREATE INDEX messages_conversation ON messages(conversation_id, seq);
    CREATE VIRTUAL TABLE messages_fts USING fts5(
        body, content='messages', content_rowid='seq', tokenize='trigram'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts(rowid, body) VALUES (new.seq, new.body);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts(messages_fts, rowid, body) VALUES ('delete', old.seq, old.body);
    END;
    CREATE TABLE attachments (
        id TEXT PRIMARY KEY,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        uploader_role TEXT NOT NULL,
        uploader_id TEXT NOT NULL,
        message_id TEXT REFERENCES messages(id),
        created_at TEXT NOT NULL
    );
    CREATE TABLE customer_notes (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        author_id TEXT NOT NULL,
        author_name TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE canned_replies (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        shortcut TEXT NOT NULL DEFAULT '',
        body TEXT NOT NULL,
        category TEXT NOT NULL DEFAULT 'general',
        lang TEXT NOT NULL DEFAULT 'en',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE assignments (            -- one row per hand-over to an agent ("chats today")
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE INDEX assignments_agent ON assignments(agent_id, at);
    CREATE TABLE responses (              -- one row per agent reply to a waiting customer
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_id TEXT NOT NULL,
        department_id TEXT NOT NULL,
        agent_id TEXT NOT NULL,
        seconds REAL NOT NULL,
        first INTEGER NOT NULL DEFAULT 0,
        at TEXT NOT NULL
    );
    CREATE TABLE reads (
        user_id TEXT NOT NULL,
        conversation_id TEXT NOT NULL,
        last_message_seq INTEGER NOT NULL,
        PRIMARY KEY (user_id, conversation_id)
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        at TEXT NOT NULL,
        data TEXT NOT NULL,                 -- JSON of the protocol model
        customer_id TEXT,                   -- the customer this event concerns, if any
        public INTEGER NOT NULL DEFAULT 0,  -- 1 = that customer may see it
        actor_id TEXT                       -- who caused it (a client does not get its own typing)
    );
    """,
    # 2: token ids and expiry, verified customer identifiers, who closed a chat
    """
    ALTER TABLE tokens ADD COLUMN id TEXT;
    UPDATE tokens SET id = 'tok_' || substr(hash, 1, 12) WHERE id IS NULL;
    CREATE UNIQUE INDEX tokens_id ON tokens(id);
    ALTER TABLE tokens ADD COLUMN expires_at TEXT;  -- NULL = never, else the same ISO form as created_at
    ALTER TABLE customers ADD COLUMN identifier TEXT;  -- verified by identifier_hash (HMAC)
    CREATE UNIQUE INDEX customers_identifier ON customers(identifier) WHERE identifier IS NOT NULL;
    ALTER TABLE conversations ADD COLUMN closed_by_id TEXT;
    ALTER TABLE conversations ADD COLUMN closed_by_name TEXT;
    """,
    # 3: routing by pre-chat answers (department rules, agent languages), escalation, follow-ups
    """
    ALTER TABLE departments ADD COLUMN routing_rules TEXT NOT NULL DEFAULT '[]';  -- JSON [{"key","equals":[...]}]
    ALTER TABLE departments ADD COLUMN escalation INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN languages TEXT NOT NULL DEFAULT '[]';  -- JSON ["en", "ko"]
    ALTER TABLE users ADD COLUMN senior INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN department_explicit INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE conversations ADD COLUMN language TEXT;
    ALTER TABLE conversations ADD COLUMN escalated_at TEXT;
    ALTER TABLE conversations ADD COLUMN escalated_by_name TEXT;
    ALTER TABLE conversations ADD COLUMN escalation_reason TEXT;
    CREATE TABLE follow_ups (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES conversations(id),
        customer_id TEXT NOT NULL REFERENCES customers(id),
        agent_id TEXT NOT NULL REFERENCES users(id),
        agent_name TEXT NOT NULL,
        channel TEXT NOT NULL CHECK (channel IN ('phone', 'email', 'chat')),
        due_at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
        created_at TEXT NOT NULL,
        done_at TEXT
    );
    CREATE INDEX follow_ups_agent ON follow_ups(agent_id, state, due_at);
    CREATE INDEX follow_ups_customer ON follow_ups(customer_id, due_at);
    """,
]


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """Canonical stored form: fixed-width ISO 8601 in UTC, so text order is time order."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")


def now_iso() -> str:
    return iso(utcnow())


def parse_time(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def new_id(prefix: str) -> str:
    """Opaque, URL-safe ids such as ``conv_3f9a1c0d2b7e``."""
    return f"{prefix}_{secrets.token_hex(6)}"


def private_file(path: Path) -> None:
    """Create ``path`` readable by its owner only (0600), or tighten an existing one.

    SQLite creates ``-wal`` and ``-shm`` with the database file's permissions,
    so a 0600 database keeps its WAL and shared-memory files private too.
    """
    # Never open+close an existing database file: closing any descriptor of it drops
    # every POSIX lock this process holds on it (e.g. a live connection's WAL locks).
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        if path.stat().st_mode & 0o077:
            path.chmod(0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            if side.stat().st_mode & 0o077:
                side.chmod(0o600)


def private_dir(path: Path) -> None:
    """Create ``path`` (and missing parents) as 0700, or tighten an existing one."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


def connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` with the settings every connection needs (WAL, FKs, busy timeout).

    The file and its WAL/SHM are private to the owner (0600); a missing parent
    folder is created 0700.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    private_file(path)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    migrate(conn)
    return conn


def migrate(conn: sqlite3.Connection) -> int:
    """Apply pending migrations; returns the schema version now in the file."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(MIGRATIONS):
        raise RuntimeError(
            f"The database schema is version {version}, newer than this server knows "
            f"({len(MIGRATIONS)}). Upgrade agent-console or use another --db file."
        )
    for index in range(version, len(MIGRATIONS)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # executescript would COMMIT first; run statements one by one inside our transaction.
            for statement in _split_sql(MIGRATIONS[index]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={index + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (trigger bodies contain ``;`` so use sqlite's parser)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        statements.append(buffer.strip())
    return statements


def frame(seq: int, type: str, at: str, data: str) -> str:
    """The stream frame of one event (``data`` is already JSON)."""
    return f'{{"seq":{seq},"type":{json.dumps(type)},"at":"{at}","data":{data}}}'


class PendingEvent:
    """An event row written in the current transaction, published after commit."""

    __slots__ = ("actor_id", "at", "customer_id", "data", "frame", "public", "seq", "type")

    def __init__(
        self,
        seq: int,
        type: str,
        at: str,
        data: str,
        customer_id: str | None,
        public: bool,
        actor_id: str | None,
    ) -> None:
        self.seq = seq
        self.type = type
        self.at = at
        self.data = data
        self.customer_id = customer_id
        self.public = public
        self.actor_id = actor_id
        self.frame = frame(seq, type, at, data)  # built once, sent to every reader


MAX_BATCH = 256
"""Writes committed together at most (group commit)."""


class WriteJob:
    """One request's write, run by the writer thread inside a batch."""

    __slots__ = ("error", "fn", "future", "result")

    def __init__(self, fn: Callable[[], Any], future: asyncio.Future[Any]) -> None:
        self.fn = fn
        self.future = future
        self.result: Any = None
        self.error: BaseException | None = None

    def settle(self) -> None:
        """On the event loop: hand the outcome to the awaiting request."""
        if self.future.done():  # the request was cancelled (client gone)
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.result)


class Database:
    """The server's connections plus the writer, transaction and event helpers.

    ``conn`` is the writer's connection.  Before :meth:`start_writer` (and in tools and
    tests that never start it) everything runs on ``conn`` in the calling thread.
    After it, :meth:`write` hands a function to the writer thread, which runs the
    functions that queued up meanwhile in one transaction (group commit), each inside
    its own ``SAVEPOINT`` so a failing one is rolled back alone; :meth:`one`/
    :meth:`all`/:meth:`execute` run on ``conn`` in the thread holding the write
    transaction and on a read-only second connection everywhere else.
    """

    def __init__(
        self, path: Path, *, event_retention: int = 50_000, synchronous: str = "NORMAL"
    ) -> None:
        self.path = path
        self.conn = connect(path)
        if synchronous.upper() not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous must be NORMAL or FULL, not {synchronous!r}")
        # NORMAL (WAL): a commit survives a process crash; FULL: also an OS crash/power cut.
        self.conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self.event_retention = event_retention
        self._lock = threading.RLock()  # the write transaction (writer thread or a direct caller)
        self._owner: int | None = None  # thread id holding it
        self._pending: list[PendingEvent] | None = None
        self._on_commit: list[Callable[[], None]] = []
        self.subscribers: list[Callable[[list[PendingEvent]], None]] = []
        # Writer thread (start_writer): its queue, the loop results go back to, the readers' conn.
        self._jobs: queue.SimpleQueue[WriteJob | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reader: sqlite3.Connection | None = None
        # Commits by other processes (see foreign_generation).
        self.commits = 0  # our own commits
        self.foreign_commits = 0  # seen by the writer at BEGIN
        self._writer_version: int | None = None
        self._reader_version: int | None = None
        self._reader_commits = 0
        self._foreign_seen = 0
        self.batches = 0  # writer transactions committed (stats for tests/bench)
        self.batched_writes = 0

    def close(self) -> None:
        self.stop_writer()
        self.conn.close()

    # ----------------------------------------------------------------- writer thread

    def start_writer(self, loop: asyncio.AbstractEventLoop) -> None:
        """Move writes to a dedicated thread and reads to a read-only connection."""
        if self._thread is not None:
            return
        # Not connect(): its os.open/close of the file would drop this process's POSIX
        # locks on it, which the writer's connection holds (SQLite's known hazard).
        reader = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=10
        )
        reader.row_factory = sqlite3.Row
        reader.execute("PRAGMA busy_timeout=10000")
        reader.execute("PRAGMA query_only=ON")
        self._reader = reader
        self._reader_version = int(reader.execute("PRAGMA data_version").fetchone()[0])
        self._reader_commits = self.commits
        self._loop = loop
        self._thread = threading.Thread(target=self._run_writer, name="db-writer", daemon=True)
        self._thread.start()

    def stop_writer(self) -> None:
        """Finish the queued writes and go back to single-connection mode."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._jobs.put(None)
        thread.join()
        self._loop = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    async def write(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` in a write transaction and return its result (or raise its error)
        once that transaction has committed and its events are published."""
        if self._thread is None or self._loop is None:
            with self.transaction():
                return fn()
        job = WriteJob(fn, self._loop.create_future())
        self._jobs.put(job)
        return await job.future

    def _run_writer(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            batch = [job]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    more = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            try:
                self._run_batch(batch)
            except BaseException as exc:  # never leave a request waiting forever
                log.exception("database writer failed")
                for item in batch:
                    item.error = item.error or exc
                if self._loop is not None:
                    self._loop.call_soon_threadsafe(self._deliver, [], [], batch)
            if stop:
                return

    def _run_batch(self, batch: list[WriteJob]) -> None:
        """One transaction for ``batch``; each job in its own savepoint."""
        loop = self._loop
        assert loop is not None
        live = [j for j in batch if not j.future.cancelled()]
        done: list[WriteJob] = []
        with self._lock:
            self._owner = threading.get_ident()
            self._pending = []
            self._on_commit = []
            try:
                try:
                    self._begin()
                except Exception as exc:
                    for j in live:
                        j.error = exc
                    loop.call_soon_threadsafe(self._deliver, [], [], batch)
                    return
                for j in live:
                    marks = (len(self._pending), len(self._on_commit))
                    self.conn.execute("SAVEPOINT job")
                    try:
                        j.result = j.fn()
                        self.conn.execute("RELEASE job")
                        done.append(j)
                    except Exception as exc:
                        j.error = exc
                        del self._pending[marks[0] :]
                        del self._on_commit[marks[1] :]
                        if self.conn.in_transaction:
                            self.conn.execute("ROLLBACK TO job")
                            self.conn.execute("RELEASE job")
                        else:  # SQLite rolled the whole transaction back (I/O error, disk full)
                            for ok in done:
                                ok.error = RuntimeError("the write was rolled back")
                            done.clear()
                            self._pending.clear()
                            self._on_commit.clear()
                            self._begin()
                try:
                    self.conn.execute("COMMIT")
                except Exception as exc:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    for ok in done:
                        ok.error = exc
                    self._pending.clear()
                    self._on_commit.clear()
                else:
                    self.commits += 1
                    self.batches += 1
                    self.batched_writes += len(done)
                # Scheduled while holding the lock: deliveries run in commit order.
                loop.call_soon_threadsafe(self._deliver, self._pending, self._on_commit, batch)
            finally:
                self._pending = None
                self._on_commit = []
                self._owner = None

    def _begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")
        # Holding the write lock: data_version moved = another process committed meanwhile.
        version = int(self.conn.execute("PRAGMA data_version").fetchone()[0])
        if self._writer_version is not None and version != self._writer_version:
            self.foreign_commits += 1
        self._writer_version = version

    def _deliver(
        self,
        events: list[PendingEvent],
        callbacks: list[Callable[[], None]],
        jobs: list[WriteJob],
    ) -> None:
        """After a commit: publish its events, run its callbacks, answer its requests."""
        if events:
            for subscriber in list(self.subscribers):
                try:
                    subscriber(events)
                except Exception:
                    log.exception("event subscriber failed")
        for callback in callbacks:
            try:
                callback()
            except Exception:
                log.exception("after-commit callback failed")
        for job in jobs:
            job.settle()

    def foreign_generation(self) -> int:
        """A number that changes when another process (the CLI's ``token revoke``) has
        committed to the file.  Commits by the writer are not counted once they are seen
        alone; a foreign commit seen together with ours is counted when the writer next
        begins a transaction."""
        reader = self._reader
        if reader is None:
            return int(self.conn.execute("PRAGMA data_version").fetchone()[0])
        version = int(reader.execute("PRAGMA data_version").fetchone()[0])
        commits = self.commits
        if version != self._reader_version:
            if commits == self._reader_commits:  # nobody here committed: another process did
                self._foreign_seen += 1
            self._reader_version = version
            self._reader_commits = commits
        return -1 - (self._foreign_seen + self.foreign_commits)

    # ----------------------------------------------------------------- queries

    def _conn(self) -> sqlite3.Connection:
        if self._reader is None or self._owner == threading.get_ident():
            return self.conn
        return self._reader

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._conn().execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return list(self._conn().execute(sql, params).fetchall())

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self._conn().execute(sql, params)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Database]:
        """Reads inside see one consistent state (a read transaction on the reader)."""
        conn = self._conn()
        if conn is self.conn or conn.in_transaction:
            yield self
            return
        conn.execute("BEGIN")
        try:
            yield self
        finally:
            conn.execute("COMMIT")

    # ----------------------------------------------------------------- transactions

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """One atomic unit in the calling thread; events appended inside are published
        after ``COMMIT`` (through the event loop, in commit order, once the writer runs).

        Nested use joins the outer transaction (also inside a :meth:`write` function).
        """
        if self._owner == threading.get_ident():
            yield self
            return
        direct: tuple[list[PendingEvent], list[Callable[[], None]]] | None = None
        with self._lock:
            self._owner = threading.get_ident()
            self._pending = []
            self._on_commit = []
            try:
                self._begin()
                try:
                    yield self
                    self.conn.execute("COMMIT")
                except BaseException:
                    if self.conn.in_transaction:
                        self.conn.execute("ROLLBACK")
                    raise
                self.commits += 1
                if self._loop is not None:
                    self._loop.call_soon_threadsafe(
                        self._deliver, self._pending, self._on_commit, []
                    )
                else:
                    direct = (self._pending, self._on_commit)
            finally:
                self._pending = None
                self._on_commit = []
                self._owner = None
        if direct is not None:
            events, callbacks = direct
            if events:
                for subscriber in list(self.subscribers):
                    subscriber(events)
            for callback in callbacks:
                callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current transaction has committed (dropped on rollback)."""
        if self._pending is None or self._owner != threading.get_ident():
            callback()
        else:
            self._on_commit.append(callback)

    def append_event(
        self,
        type: str,
        data: Any,
        *,
        customer_id: str | None = None,
        public: bool = False,
        actor_id: str | None = None,
    ) -> int:
        """Write one event row in the current transaction; returns its ``seq``."""
        if self._pending is None or self._owner != threading.get_ident():
            raise RuntimeError("append_event outside a transaction")
        at = now_iso()
        payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        cur = self.conn.execute(
            "INSERT INTO events (type, at, data, customer_id, public, actor_id) VALUES (?,?,?,?,?,?)",
            (type, at, payload, customer_id, int(public), actor_id),
        )
        seq = int(cur.lastrowid or 0)
        self._pending.append(PendingEvent(seq, type, at, payload, customer_id, public, actor_id))
        if self.event_retention > 0 and seq % max(1, min(500, self.event_retention // 10)) == 0:
            self._prune_events(seq)
        return seq

    def _prune_events(self, last_seq: int) -> None:
        cutoff = last_seq - self.event_retention
        if cutoff <= 0:
            return
        self.conn.execute("DELETE FROM events WHERE seq <= ?", (cutoff,))
        self.conn.execute(
            "INSERT INTO meta (key, value) VALUES ('events_pruned_through', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), excluded.value)",
            (str(cutoff),),
        )

    # ----------------------------------------------------------------- event log reads

    def last_seq(self) -> int:
        row = self.one("SELECT seq FROM sqlite_sequence WHERE name = 'events'")
        return int(row[0]) if row else 0

    def pruned_through(self) -> int:
        row = self.one("SELECT value FROM meta WHERE key = 'events_pruned_through'")
        return int(row[0]) if row else 0

    def events_between(self, after: int, upto: int, limit: int) -> list[sqlite3.Row]:
        """Event rows with ``after < seq <= upto`` in order, at most ``limit``."""
        return self.all(
            "SELECT seq, type, at, data, customer_id, public, actor_id FROM events "
            "WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
            (after, upto, limit),
        )

    def events_after(self, seq: int, limit: int = 1000) -> list[sqlite3.Row]:
        return self.all("SELECT * FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
