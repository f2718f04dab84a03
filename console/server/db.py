"""SQLite persistence of the reference server: schema, migrations, one writer.

Why this shape:

* **One connection, one writer.**  The server runs every request's database
  work synchronously on the event-loop thread inside :meth:`Database.transaction`
  (``BEGIN IMMEDIATE`` … ``COMMIT``), never awaiting in between.  So writes are
  serialized without a lock dance, a request either commits everything or
  nothing, and the event log rows a request appends get their ``seq`` in commit
  order.  Other processes (the CLI's ``token create``, test fixtures) may open
  their own connection; WAL plus ``busy_timeout`` lets them interleave.
* **Events live in the same transaction as the change they describe**
  (:meth:`Database.append_event`), so ``seq`` is strictly increasing and a
  replay after a restart is exact.  Subscribers are told only after commit.
* **Versioned migrations** in :data:`MIGRATIONS`, applied by ``PRAGMA user_version``.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        if os.fstat(fd).st_mode & 0o077:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
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


class Database:
    """The server's single connection plus transaction and event helpers."""

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
        self._lock = threading.RLock()
        self._pending: list[PendingEvent] | None = None
        self._on_commit: list[Callable[[], None]] = []
        self.subscribers: list[Callable[[list[PendingEvent]], None]] = []

    def close(self) -> None:
        self.conn.close()

    # ----------------------------------------------------------------- queries

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        return list(self.conn.execute(sql, params).fetchall())

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    # ----------------------------------------------------------------- transactions

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Database]:
        """One atomic unit; events appended inside are published after ``COMMIT``.

        Nested use joins the outer transaction.
        """
        with self._lock:
            if self._pending is not None:
                yield self
                return
            self._pending = []
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                self._pending = None
                self._on_commit.clear()
                raise
            events, self._pending = self._pending, None
            callbacks, self._on_commit = self._on_commit, []
        if events:
            for subscriber in list(self.subscribers):
                subscriber(events)
        for callback in callbacks:
            callback()

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once the current transaction has committed (dropped on rollback)."""
        if self._pending is None:
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
        if self._pending is None:
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
