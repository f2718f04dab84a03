"""``python -m console.server``: run the reference server (used by the test fixture).

The user-facing command is ``agent-console serve`` (``console.cli``); this entry
exists so tests can spawn a server process without the CLI and kill it hard.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from console.server.settings import ServerSettings


def parse_args(argv: list[str] | None = None) -> ServerSettings:
    p = argparse.ArgumentParser(prog="python -m console.server", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--db", type=Path, default=Path("agent-console.sqlite3"))
    p.add_argument("--data-dir", type=Path, default=Path("agent-console-data"))
    p.add_argument("--demo", action="store_true")
    p.add_argument("--smtp-host", default="127.0.0.1")
    p.add_argument("--smtp-port", type=int, default=None)
    p.add_argument("--smtp-from", default="support@agent-console.invalid")
    p.add_argument("--no-rate-limit", action="store_true")
    p.add_argument("--rate-per-second", type=float, default=None)
    p.add_argument("--rate-burst", type=int, default=None)
    p.add_argument("--heartbeat-seconds", type=float, default=None)
    p.add_argument("--event-log-retention", type=int, default=None)
    p.add_argument("--debug-endpoints", action="store_true")
    p.add_argument("--log-level", default="warning")
    p.add_argument("--header-timeout", type=float, default=None)
    p.add_argument("--body-timeout", type=float, default=None)
    p.add_argument("--stream-send-timeout", type=float, default=None)
    p.add_argument("--stream-close-timeout", type=float, default=None)
    p.add_argument("--sqlite-synchronous", choices=("NORMAL", "FULL"), default=None)
    # Route to every agent marked online, console attached or not (REST-only tests).
    p.add_argument("--route-to-online-agents", action="store_true")
    p.add_argument("--presence-grace-seconds", type=float, default=None)
    a = p.parse_args(argv)
    s = ServerSettings(
        host=a.host,
        port=a.port,
        db_path=a.db,
        data_dir=a.data_dir,
        demo=a.demo,
        smtp_host=a.smtp_host,
        smtp_port=a.smtp_port,
        smtp_from=a.smtp_from,
        rate_limit=not a.no_rate_limit,
        debug_endpoints=a.debug_endpoints,
        log_level=a.log_level,
        route_to_present_agents_only=not a.route_to_online_agents,
    )
    if a.presence_grace_seconds is not None:
        s.presence_grace_seconds = a.presence_grace_seconds
    if a.rate_per_second is not None:
        s.rate_per_second = a.rate_per_second
    if a.rate_burst is not None:
        s.rate_burst = a.rate_burst
    if a.heartbeat_seconds is not None:
        s.heartbeat_seconds = a.heartbeat_seconds
    if a.event_log_retention is not None:
        s.event_log_retention = a.event_log_retention
    for name in (
        "header_timeout",
        "body_timeout",
        "stream_send_timeout",
        "stream_close_timeout",
        "sqlite_synchronous",
    ):
        if getattr(a, name) is not None:
            setattr(s, name, getattr(a, name))
    return s


def main(argv: list[str] | None = None) -> int:
    from console.server.app import serve

    serve(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
