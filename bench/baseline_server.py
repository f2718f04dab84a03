"""The floor for ``bench/server.py``: a minimal Starlette + uvicorn server doing one
SQLite (WAL, synchronous=NORMAL) INSERT per POST on the event loop and the same
fan-out of one JSON frame per message to every WebSocket reader.

    python bench/baseline_server.py PORT DB_PATH

``POST /c/{id}/messages`` with ``{"client_id", "body"}`` → 201 ``{"id", "seq"}``;
``GET /stream`` (WebSocket): send anything, then frames
``{"seq", "type": "message.created", "at", "data": {...}}`` follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import sys
from datetime import UTC, datetime

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


def build(db_path: str) -> Starlette:
    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, "
        "conversation_id TEXT, client_id TEXT, body TEXT, created_at TEXT)"
    )
    readers: set[asyncio.Queue[str]] = set()

    async def post(request: Request) -> Response:
        body = json.loads(await request.body())
        at = datetime.now(UTC).isoformat()
        cur = conn.execute(
            "INSERT INTO messages (conversation_id, client_id, body, created_at) VALUES (?,?,?,?)",
            (request.path_params["id"], body["client_id"], body["body"], at),
        )
        seq = cur.lastrowid
        data = {
            "id": f"msg_{seq}",
            "conversation_id": request.path_params["id"],
            "body": body["body"],
        }
        frame = json.dumps({"seq": seq, "type": "message.created", "at": at, "data": data})
        for q in readers:
            q.put_nowait(frame)
        return Response(
            json.dumps({"id": data["id"], "seq": seq}), 201, media_type="application/json"
        )

    async def stream(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()
        q: asyncio.Queue[str] = asyncio.Queue()
        readers.add(q)
        try:
            while True:
                frame = await q.get()
                await ws.send_text(frame)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            readers.discard(q)

    return Starlette(
        routes=[
            Route("/c/{id}/messages", post, methods=["POST"]),
            WebSocketRoute("/stream", stream),
        ]
    )


def main() -> None:
    port, db_path = int(sys.argv[1]), sys.argv[2]
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.run(
            build(db_path),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws_per_message_deflate=False,
        )


if __name__ == "__main__":
    main()
