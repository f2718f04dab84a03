"""Settings of the reference chat server (``agent-console serve``).

One typed object, built by the CLI from flags or by tests directly.  Nothing
here reads the environment: the caller decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from console.protocol import limits


@dataclass(slots=True)
class ServerSettings:
    """Everything the server needs to start.  Paths are created on start."""

    host: str = "127.0.0.1"
    """Interface to bind.  Keep it on loopback unless you put TLS in front."""
    port: int = 8765
    """TCP port (0 is not supported: the fixture picks a free port itself)."""
    db_path: Path = field(default_factory=lambda: Path("agent-console.sqlite3"))
    """SQLite database file (WAL mode; ``-wal``/``-shm`` files live beside it)."""
    data_dir: Path = field(default_factory=lambda: Path("agent-console-data"))
    """Directory for attachment bytes (``data_dir/attachments/<id>``)."""
    demo: bool = False
    """Seed demo departments, agents, customers and canned replies on start."""
    smtp_host: str = "127.0.0.1"
    """SMTP server for transcript mail."""
    smtp_port: int | None = None
    """SMTP port; ``None`` disables mail (transcript requests are accepted and logged)."""
    smtp_from: str = "support@agent-console.invalid"
    """Envelope and header sender of transcript mail."""
    rate_limit: bool = True
    """Token-bucket rate limit per token (429 + Retry-After)."""
    rate_per_second: float = limits.RATE_PER_SECOND
    """Sustained requests per second per token."""
    rate_burst: int = limits.RATE_BURST
    """Bucket size: requests a token may make at once."""
    route_to_present_agents_only: bool = True
    """Route new chats only to agents with a console attached (an open stream, or one
    closed less than ``presence_grace_seconds`` ago), not to every agent marked online."""
    presence_grace_seconds: float = 30.0
    """How long an agent whose last stream closed still counts as present (reconnects)."""
    heartbeat_seconds: float = limits.HEARTBEAT_SECONDS
    """Interval of server ``ping`` frames on the stream."""
    event_log_retention: int = 50_000
    """Events kept for stream replay; a client resuming from before them gets ``reset``."""
    debug_endpoints: bool = False
    """Expose ``GET /api/v1/_debug/requests`` (request log for tests).  Never in production."""
    log_level: str = "warning"
    """uvicorn log level."""
    header_timeout: float = 10.0
    """Seconds a client has to send complete request headers; then the connection is dropped."""
    body_timeout: float = 30.0
    """Seconds a client has to send a JSON request body (408 after); uploads get 10x."""
    stream_send_timeout: float = 10.0
    """Seconds a stream send may wait on a reader that stopped reading; then close 1013."""
    stream_close_timeout: float = 5.0
    """Seconds the 1013 close frame may wait behind a stalled reader's unread data; a
    reader that reads again within it gets the close frame, else the connection is
    aborted (its buffers freed)."""
    sqlite_synchronous: str = "NORMAL"
    """``NORMAL`` (WAL: a commit survives a process crash, the last ones may be lost
    on an OS crash or power cut) or ``FULL`` (fsync at every commit group)."""
    identity_secret: str | None = None
    """Secret for customer identity verification: ``POST /customer/session`` reattaches a
    customer only when ``identifier_hash`` = hex HMAC-SHA256(secret, identifier).
    ``None``: a random secret kept in the database (``agent-console token identity-secret``)."""
    stream_ticket_seconds: float = 30.0
    """Lifetime of a single-use stream ticket (``POST /stream/ticket``)."""
    token_check_seconds: float = 0.25
    """How often open streams re-check their token (revoked or expired → closed with 1008)."""
