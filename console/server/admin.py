"""Admin operations on a server database: tokens, departments, agents.

Used by the CLI (``agent-console token create``, department/agent setup), by
``--demo`` seeding and by the test fixture.  Each call opens its own short
connection, so it works while a server process runs on the same file (WAL).
Tokens are returned once and stored only as sha256 hashes, with a public id
(``tok_…``, safe to print and log) for ``token list`` / ``token revoke``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from console.protocol import limits
from console.server.db import connect, iso, new_id, now_iso, utcnow

TokenRole = Literal["agent", "supervisor", "customer"]

DEFAULT_DEPARTMENT = "General"


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_token() -> str:
    return "ac_" + secrets.token_urlsafe(32)


def identifier_hash(secret: str, identifier: str) -> str:
    """``identifier_hash`` for ``POST /customer/session``: hex HMAC-SHA256(secret, identifier).

    The website that embeds the chat computes it on its own server for the
    signed-in user (as with Chatwoot's identity validation or Intercom's
    identity verification); the browser never sees the secret.
    """
    key, message = secret.encode("utf-8"), identifier.encode("utf-8", "surrogatepass")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify_identifier(secret: str, identifier: str, given_hash: str) -> bool:
    """Constant-time check of ``given_hash`` against :func:`identifier_hash`."""
    given = given_hash.strip().lower().encode("utf-8", "surrogatepass")
    return hmac.compare_digest(identifier_hash(secret, identifier).encode("ascii"), given)


IDENTITY_SECRET_KEY = "identity_secret"


def ensure_identity_secret(conn: sqlite3.Connection) -> str:
    """The database's identity secret (``meta``), created on first use.

    Used when the server is started without ``identity_secret``: then the secret
    lives only in the (0600) database and ``agent-console identity-secret``
    prints it for the website's backend.
    """
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (IDENTITY_SECRET_KEY,)).fetchone()
    if row:
        return str(row[0])
    secret = secrets.token_hex(32)
    conn.execute(
        "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (IDENTITY_SECRET_KEY, secret)
    )
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (IDENTITY_SECRET_KEY,)).fetchone()
    return str(row[0])


def identity_secret(db_path: Path | str) -> str:
    """Path-level :func:`ensure_identity_secret` (the demo hands it to the simulator)."""
    conn = connect(Path(db_path))
    try:
        _tx(conn)
        try:
            secret = ensure_identity_secret(conn)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return secret
    finally:
        conn.close()


def _tx(conn: sqlite3.Connection) -> None:
    conn.execute("BEGIN IMMEDIATE")


# --------------------------------------------------------------------------- connection-level helpers


def ensure_default_department(conn: sqlite3.Connection) -> str:
    """Create the ``General`` department when none exists; returns the first department's id."""
    row = conn.execute(
        "SELECT id FROM departments ORDER BY position, created_at LIMIT 1"
    ).fetchone()
    if row:
        return str(row[0])
    return insert_department(conn, DEFAULT_DEPARTMENT)


def insert_department(
    conn: sqlite3.Connection,
    name: str,
    *,
    offline_message: str = "",
    hours: Mapping[str, str] | None = None,
    utc_offset_minutes: int = 0,
    prechat_questions: Iterable[Mapping[str, str]] = (),
    routing_rules: Iterable[Mapping[str, Any]] = (),
    escalation: bool = False,
) -> str:
    """Insert (or update by name) a department; returns its id.

    ``hours`` maps weekday ``"0"``..``"6"`` (Monday = 0) to ``"HH:MM-HH:MM"`` in the
    department's local time (``utc_offset_minutes``); a missing weekday is closed.
    ``None`` means always open.  ``prechat_questions`` are ``{"key", "question"}``
    pairs the bot asks when the customer did not answer them in the pre-chat form.
    ``routing_rules`` = ``[{"key": "topic", "equals": ["refund", "환불"]}]``: a chat whose
    widget named no department comes here when a pre-chat answer matches (docs/protocol.md §6).
    ``escalation`` marks the default target of escalations.
    """
    rules = json.dumps([dict(r) for r in routing_rules], ensure_ascii=False)
    existing = conn.execute("SELECT id FROM departments WHERE name = ?", (name,)).fetchone()
    questions = json.dumps([dict(q) for q in prechat_questions], ensure_ascii=False)
    hours_json = None if hours is None else json.dumps(dict(hours))
    if existing:
        conn.execute(
            "UPDATE departments SET offline_message=?, hours=?, utc_offset_minutes=?, "
            "prechat_questions=?, routing_rules=?, escalation=? WHERE id=?",
            (
                offline_message,
                hours_json,
                utc_offset_minutes,
                questions,
                rules,
                int(escalation),
                existing[0],
            ),
        )
        return str(existing[0])
    dept_id = new_id("dept")
    position = conn.execute("SELECT COUNT(*) FROM departments").fetchone()[0]
    conn.execute(
        "INSERT INTO departments (id, name, offline_message, hours, utc_offset_minutes, "
        "prechat_questions, routing_rules, escalation, position, created_at) "
        "VALUES (?,?,?,?,?,?,?,?,?,?)",
        (
            dept_id,
            name,
            offline_message,
            hours_json,
            utc_offset_minutes,
            questions,
            rules,
            int(escalation),
            position,
            now_iso(),
        ),
    )
    return dept_id


def insert_user(
    conn: sqlite3.Connection,
    role: Literal["agent", "supervisor"],
    name: str,
    *,
    email: str = "",
    capacity: int = limits.DEFAULT_CAPACITY,
    department_ids: Iterable[str] = (),
    status: str = "offline",
    languages: Iterable[str] | None = None,
    senior: bool | None = None,
) -> str:
    """Insert an agent or supervisor (or return the existing one with that role and name).

    An agent without departments serves every department.
    """
    row = conn.execute("SELECT id FROM users WHERE role = ? AND name = ?", (role, name)).fetchone()
    if row:
        user_id = str(row[0])
    else:
        user_id = new_id("agent" if role == "agent" else "sup")
        conn.execute(
            "INSERT INTO users (id, role, name, email, status, capacity, created_at) VALUES (?,?,?,?,?,?,?)",
            (user_id, role, name, email, status, capacity, now_iso()),
        )
    if languages is not None:
        conn.execute(
            "UPDATE users SET languages = ? WHERE id = ?", (json.dumps(list(languages)), user_id)
        )
    if senior is not None:
        conn.execute("UPDATE users SET senior = ? WHERE id = ?", (int(senior), user_id))
    for dept_id in department_ids:
        conn.execute(
            "INSERT OR IGNORE INTO user_departments (user_id, department_id) VALUES (?, ?)",
            (user_id, dept_id),
        )
    return user_id


def insert_customer(
    conn: sqlite3.Connection,
    name: str,
    email: str = "",
    *,
    account: Mapping[str, str] | None = None,
    custom_fields: Mapping[str, str] | None = None,
    tags: Iterable[str] = (),
    identifier: str | None = None,
    reuse: bool = True,
) -> str:
    """Insert a customer.

    With ``identifier`` (a *verified* identity: the caller checked its HMAC, or
    it is admin/demo seeding) the customer with that identifier is returned if
    there is one.  Without it, ``reuse`` returns an existing customer with the
    same name and email, which only admin paths (``token create``, fixtures)
    may do: a public session never reuses a customer without a verified identity.
    """
    if identifier:
        row = conn.execute(
            "SELECT id FROM customers WHERE identifier = ?", (identifier,)
        ).fetchone()
        if row:
            return str(row[0])
    elif reuse:
        row = conn.execute(
            "SELECT id FROM customers WHERE name = ? AND email = ? AND identifier IS NULL",
            (name, email),
        ).fetchone()
        if row:
            return str(row[0])
    customer_id = new_id("cust")
    conn.execute(
        "INSERT INTO customers (id, name, email, account, custom_fields, tags, identifier, "
        "created_at) VALUES (?,?,?,?,?,?,?,?)",
        (
            customer_id,
            name,
            email,
            json.dumps(dict(account or {}), ensure_ascii=False),
            json.dumps(dict(custom_fields or {}), ensure_ascii=False),
            json.dumps(list(tags), ensure_ascii=False),
            identifier or None,
            now_iso(),
        ),
    )
    return customer_id


def insert_token(
    conn: sqlite3.Connection,
    role: TokenRole,
    subject_id: str,
    name: str = "",
    *,
    expires_at: datetime | None = None,
) -> str:
    """Store a new token (its hash) and return the token; ``expires_at`` None = never."""
    token = generate_token()
    conn.execute(
        "INSERT INTO tokens (hash, id, role, subject_id, name, created_at, expires_at) "
        "VALUES (?,?,?,?,?,?,?)",
        (
            hash_token(token),
            new_id("tok"),
            role,
            subject_id,
            name,
            now_iso(),
            None if expires_at is None else iso(expires_at),
        ),
    )
    return token


def parse_duration(text: str) -> timedelta:
    """``90s``, ``15m``, ``8h``, ``30d`` (or plain seconds) → a positive timedelta."""
    raw = text.strip().lower()
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    factor = units.get(raw[-1:], 0)
    number = raw[:-1] if factor else raw
    factor = factor or 1
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration; write e.g. 90s, 15m, 8h or 30d.") from None
    if not value > 0 or value * factor > 10 * 365 * 86400:
        raise ValueError(f"{text!r} must be more than 0 and at most 10 years.")
    return timedelta(seconds=value * factor)


@dataclass(frozen=True, slots=True)
class TokenRow:
    """One token as ``agent-console token list`` shows it (never the token itself)."""

    id: str
    role: str
    subject_id: str
    name: str
    created_at: str
    expires_at: str | None
    revoked: bool

    @property
    def state(self) -> str:
        if self.revoked:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now_iso():
            return "expired"
        return "active"


# --------------------------------------------------------------------------- path-level API (CLI, fixtures)


def create_token(
    db_path: Path | str,
    role: TokenRole,
    name: str,
    *,
    email: str = "",
    expires_in: timedelta | None = None,
) -> str:
    """Create (or reuse) the agent/supervisor/customer called ``name`` and return a new token for it.

    ``expires_in``: the token answers 401 (and its open streams close) after that long.
    """
    if role not in ("agent", "supervisor", "customer"):
        raise ValueError(f"Unknown role {role!r}: use agent, supervisor or customer.")
    conn = connect(Path(db_path))
    try:
        _tx(conn)
        try:
            ensure_default_department(conn)
            if role == "customer":
                subject = insert_customer(conn, name, email)
            else:
                subject = insert_user(conn, role, name, email=email)
            expires_at = None if expires_in is None else utcnow() + expires_in
            token = insert_token(conn, role, subject, name, expires_at=expires_at)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return token
    finally:
        conn.close()


def subject_of(db_path: Path | str, token: str) -> tuple[str, str] | None:
    """``(role, subject_id)`` of a token, or ``None`` when unknown/revoked/expired."""
    conn = connect(Path(db_path))
    try:
        row = conn.execute(
            "SELECT role, subject_id FROM tokens WHERE hash = ? AND revoked = 0 "
            "AND (expires_at IS NULL OR expires_at > ?)",
            (hash_token(token), now_iso()),
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))
    finally:
        conn.close()


def token_id_of(db_path: Path | str, token: str) -> str | None:
    """The public id (``tok_…``) of a token, for ``token revoke``."""
    conn = connect(Path(db_path))
    try:
        row = conn.execute("SELECT id FROM tokens WHERE hash = ?", (hash_token(token),)).fetchone()
        return None if row is None else str(row[0])
    finally:
        conn.close()


def list_tokens(db_path: Path | str, *, include_customers: bool = False) -> list[TokenRow]:
    """Every staff token (and customer tokens if asked), oldest first."""
    conn = connect(Path(db_path))
    try:
        where = "" if include_customers else "WHERE role != 'customer'"
        rows = conn.execute(
            "SELECT id, role, subject_id, name, created_at, expires_at, revoked FROM tokens "
            f"{where} ORDER BY created_at, id"
        ).fetchall()
        return [
            TokenRow(
                id=str(r["id"]),
                role=str(r["role"]),
                subject_id=str(r["subject_id"]),
                name=str(r["name"]),
                created_at=str(r["created_at"]),
                expires_at=None if r["expires_at"] is None else str(r["expires_at"]),
                revoked=bool(r["revoked"]),
            )
            for r in rows
        ]
    finally:
        conn.close()


def revoke_token_id(db_path: Path | str, token_id: str) -> bool:
    """Revoke the token with public id ``token_id``: 401 from the next request on, and
    a running server closes its open streams within a second.  False if unknown
    or already revoked."""
    conn = connect(Path(db_path))
    try:
        cur = conn.execute(
            "UPDATE tokens SET revoked = 1 WHERE id = ? AND revoked = 0", (token_id.strip(),)
        )
        return cur.rowcount > 0
    finally:
        conn.close()


def revoke_token(db_path: Path | str, token: str) -> bool:
    """Revoke a token given the token itself; see :func:`revoke_token_id`."""
    conn = connect(Path(db_path))
    try:
        cur = conn.execute(
            "UPDATE tokens SET revoked = 1 WHERE hash = ? AND revoked = 0", (hash_token(token),)
        )
        return cur.rowcount > 0
    finally:
        conn.close()


def create_department(
    db_path: Path | str,
    name: str,
    *,
    offline_message: str = "",
    hours: Mapping[str, str] | None = None,
    utc_offset_minutes: int = 0,
    prechat_questions: Iterable[Mapping[str, str]] = (),
    routing_rules: Iterable[Mapping[str, Any]] = (),
    escalation: bool = False,
) -> str:
    """Create or update the department ``name``; returns its id (see :func:`insert_department`)."""
    conn = connect(Path(db_path))
    try:
        _tx(conn)
        try:
            dept_id = insert_department(
                conn,
                name,
                offline_message=offline_message,
                hours=hours,
                utc_offset_minutes=utc_offset_minutes,
                prechat_questions=prechat_questions,
                routing_rules=routing_rules,
                escalation=escalation,
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return dept_id
    finally:
        conn.close()


def create_agent(
    db_path: Path | str,
    name: str,
    *,
    departments: Iterable[str] = (),
    capacity: int = limits.DEFAULT_CAPACITY,
    email: str = "",
    languages: Iterable[str] = (),
    senior: bool = False,
) -> tuple[str, str]:
    """Create an agent in the named departments (by name or id); returns ``(agent_id, token)``.
    ``languages``: ISO 639-1 codes the agent speaks; ``senior``: an escalation target."""
    conn = connect(Path(db_path))
    try:
        _tx(conn)
        try:
            ensure_default_department(conn)
            dept_ids: list[str] = []
            for dept in departments:
                row = conn.execute(
                    "SELECT id FROM departments WHERE id = ? OR name = ? COLLATE NOCASE",
                    (dept, dept),
                ).fetchone()
                if row is None:
                    raise ValueError(f"Unknown department {dept!r}: create it first.")
                dept_ids.append(str(row[0]))
            agent_id = insert_user(
                conn,
                "agent",
                name,
                email=email,
                capacity=capacity,
                department_ids=dept_ids,
                languages=languages,
                senior=senior,
            )
            conn.execute("UPDATE users SET capacity = ? WHERE id = ?", (capacity, agent_id))
            token = insert_token(conn, "agent", agent_id, name)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return agent_id, token
    finally:
        conn.close()
