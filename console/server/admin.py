"""Admin operations on a server database: tokens, departments, agents.

Used by the CLI (``agent-console token create``, department/agent setup), by
``--demo`` seeding and by the test fixture.  Each call opens its own short
connection, so it works while a server process runs on the same file (WAL).
Tokens are returned once and stored only as sha256 hashes.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

from console.protocol import limits
from console.server.db import connect, new_id, now_iso

TokenRole = Literal["agent", "supervisor", "customer"]

DEFAULT_DEPARTMENT = "General"


def hash_token(token: str) -> str:
    """The stored form of a bearer token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def generate_token() -> str:
    return "ac_" + secrets.token_urlsafe(32)


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
) -> str:
    """Insert (or update by name) a department; returns its id.

    ``hours`` maps weekday ``"0"``..``"6"`` (Monday = 0) to ``"HH:MM-HH:MM"`` in the
    department's local time (``utc_offset_minutes``); a missing weekday is closed.
    ``None`` means always open.  ``prechat_questions`` are ``{"key", "question"}``
    pairs the bot asks when the customer did not answer them in the pre-chat form.
    """
    existing = conn.execute("SELECT id FROM departments WHERE name = ?", (name,)).fetchone()
    questions = json.dumps([dict(q) for q in prechat_questions], ensure_ascii=False)
    hours_json = None if hours is None else json.dumps(dict(hours))
    if existing:
        conn.execute(
            "UPDATE departments SET offline_message=?, hours=?, utc_offset_minutes=?, "
            "prechat_questions=? WHERE id=?",
            (offline_message, hours_json, utc_offset_minutes, questions, existing[0]),
        )
        return str(existing[0])
    dept_id = new_id("dept")
    position = conn.execute("SELECT COUNT(*) FROM departments").fetchone()[0]
    conn.execute(
        "INSERT INTO departments (id, name, offline_message, hours, utc_offset_minutes, "
        "prechat_questions, position, created_at) VALUES (?,?,?,?,?,?,?,?)",
        (
            dept_id,
            name,
            offline_message,
            hours_json,
            utc_offset_minutes,
            questions,
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
    reuse: bool = True,
) -> str:
    """Insert a customer; with ``reuse`` an existing one with the same email (or name, without email) is returned."""
    if reuse:
        if email:
            row = conn.execute(
                "SELECT id FROM customers WHERE email = ? COLLATE NOCASE", (email,)
            ).fetchone()
        else:
            row = conn.execute(
                "SELECT id FROM customers WHERE email = '' AND name = ?", (name,)
            ).fetchone()
        if row:
            return str(row[0])
    customer_id = new_id("cust")
    conn.execute(
        "INSERT INTO customers (id, name, email, account, custom_fields, tags, created_at) VALUES (?,?,?,?,?,?,?)",
        (
            customer_id,
            name,
            email,
            json.dumps(dict(account or {}), ensure_ascii=False),
            json.dumps(dict(custom_fields or {}), ensure_ascii=False),
            json.dumps(list(tags), ensure_ascii=False),
            now_iso(),
        ),
    )
    return customer_id


def insert_token(conn: sqlite3.Connection, role: TokenRole, subject_id: str, name: str = "") -> str:
    token = generate_token()
    conn.execute(
        "INSERT INTO tokens (hash, role, subject_id, name, created_at) VALUES (?,?,?,?,?)",
        (hash_token(token), role, subject_id, name, now_iso()),
    )
    return token


# --------------------------------------------------------------------------- path-level API (CLI, fixtures)


def create_token(db_path: Path | str, role: TokenRole, name: str, *, email: str = "") -> str:
    """Create (or reuse) the agent/supervisor/customer called ``name`` and return a new token for it."""
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
            token = insert_token(conn, role, subject, name)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return token
    finally:
        conn.close()


def subject_of(db_path: Path | str, token: str) -> tuple[str, str] | None:
    """``(role, subject_id)`` of a token, or ``None`` when unknown/revoked."""
    conn = connect(Path(db_path))
    try:
        row = conn.execute(
            "SELECT role, subject_id FROM tokens WHERE hash = ? AND revoked = 0",
            (hash_token(token),),
        ).fetchone()
        return None if row is None else (str(row[0]), str(row[1]))
    finally:
        conn.close()


def revoke_token(db_path: Path | str, token: str) -> bool:
    """Revoke a token (it answers 401 from the next request on); False if it was unknown."""
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
) -> tuple[str, str]:
    """Create an agent in the named departments (by name or id); returns ``(agent_id, token)``."""
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
                conn, "agent", name, email=email, capacity=capacity, department_ids=dept_ids
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
