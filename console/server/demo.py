"""Load ``console.seed_data`` into the database for ``serve --demo``.

Runs once per database (``meta.demo_seeded``), so restarting a demo server keeps
what happened in it.  Seed ids (``"alex"``, ``"billing"``) are mapped to
generated database ids; agents keep their seed status so some are online and
the queue still fills up.  The CLI's demo gets a token for the first agent with
``admin.create_token(db_path, "agent", DEMO_AGENTS[0]["name"])`` (same name → same agent).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from console.server import admin
from console.server.db import Database, iso, new_id, utcnow


def _ago(item: dict[str, Any]) -> str:
    delta = timedelta(days=int(item.get("days_ago", 0)), hours=int(item.get("hours_ago", 0)))
    return iso(utcnow() - delta)


def load_demo(db: Database) -> bool:
    """Seed departments, agents, customers (accounts, activity, notes) and canned replies.

    Returns False when this database was already seeded.
    """
    from console import seed_data as seed

    with db.transaction():
        if db.one("SELECT 1 FROM meta WHERE key = 'demo_seeded'"):
            return False
        conn = db.conn
        dept_ids: dict[str, str] = {}
        for d in seed.DEMO_DEPARTMENTS:
            hours = d.get("hours")
            dept_ids[str(d.get("id", d["name"]))] = admin.insert_department(
                conn,
                str(d["name"]),
                offline_message=str(d.get("offline_message", "")),
                hours=None if hours is None else {str(k): str(v) for k, v in hours.items()},
                utc_offset_minutes=int(d.get("utc_offset_minutes", 0)),
                prechat_questions=d.get("prechat_questions", []),
                routing_rules=d.get("routing_rules", ()),
                escalation=bool(d.get("escalation", False)),
            )
        # The default "General" department only exists for servers without departments.
        general = conn.execute(
            "SELECT id FROM departments WHERE name = ? AND NOT EXISTS "
            "(SELECT 1 FROM conversations WHERE department_id = departments.id)",
            (admin.DEFAULT_DEPARTMENT,),
        ).fetchone()
        if general and admin.DEFAULT_DEPARTMENT not in [d["name"] for d in seed.DEMO_DEPARTMENTS]:
            conn.execute("DELETE FROM user_departments WHERE department_id = ?", (general[0],))
            conn.execute("DELETE FROM departments WHERE id = ?", (general[0],))
        agent_ids: dict[str, tuple[str, str]] = {}
        for a in seed.DEMO_AGENTS:
            agent_id = admin.insert_user(
                conn,
                "agent",
                str(a["name"]),
                capacity=int(a.get("capacity", 3)),
                department_ids=[dept_ids[x] for x in a.get("departments", []) if x in dept_ids],
                status=str(a.get("status", "offline")),
                languages=[str(x) for x in a.get("languages", [])],
                senior=bool(a.get("senior", False)),
            )
            agent_ids[str(a.get("id", a["name"]))] = (agent_id, str(a["name"]))
        for c in seed.DEMO_CUSTOMERS:
            customer_id = admin.insert_customer(
                conn,
                str(c["name"]),
                str(c.get("email", "")),
                account=c.get("account", {}),
                custom_fields=c.get("custom_fields", {}),
                tags=c.get("tags", []),
                # Demo customers are "signed in" on the demo website as their e-mail:
                # the simulator proves it with identifier_hash (see docs/server.md).
                identifier=str(c.get("email", "")).lower() or None,
            )
            for act in sorted(c.get("activity", []), key=_ago):
                conn.execute(
                    "INSERT INTO customer_activity (customer_id, at, kind, text) VALUES (?,?,?,?)",
                    (customer_id, _ago(act), str(act.get("kind", "")), str(act.get("text", ""))),
                )
            for note in c.get("notes", []):
                author_id, author_name = agent_ids.get(
                    str(note.get("author")), ("system", "System")
                )
                conn.execute(
                    "INSERT INTO customer_notes (id, customer_id, author_id, author_name, body, created_at) "
                    "VALUES (?,?,?,?,?,?)",
                    (
                        new_id("note"),
                        customer_id,
                        author_id,
                        author_name,
                        str(note["body"]),
                        _ago(note),
                    ),
                )
        now = iso(utcnow())
        for r in seed.DEMO_CANNED_REPLIES:
            conn.execute(
                "INSERT INTO canned_replies (id, title, shortcut, body, category, lang, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?)",
                (
                    new_id("canned"),
                    str(r["title"]),
                    str(r.get("shortcut", "")),
                    str(r["body"]),
                    str(r.get("category", "general")),
                    str(r.get("lang", "en")),
                    now,
                    now,
                ),
            )
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('demo_seeded', ?)", (json.dumps({"at": now}),)
        )
    return True
