"""A real Synapse homeserver for the Matrix backend tests.

``make test`` installs Synapse into its own virtualenv (``.venv-synapse``, see the
Makefile) so its pins never touch ours; this module writes a minimal
``homeserver.yaml`` (SQLite in a temp dir, loopback only, generous rate limits,
registration by shared secret), starts ``python -m synapse.app.homeserver`` on
a free port and can SIGKILL and restart it on the same database.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
PYTHON_ENV = "AGENT_CONSOLE_SYNAPSE_PYTHON"
SKIP_ENV = "AGENT_CONSOLE_SKIP_MATRIX"
SERVER_NAME = "desk.test"


def synapse_python() -> Path | None:
    """The interpreter that has Synapse installed, or None."""
    explicit = os.environ.get(PYTHON_ENV)
    candidates = [Path(explicit)] if explicit else [REPO / ".venv-synapse" / "bin" / "python"]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    return None


def missing_message() -> str:
    return (
        "Synapse is not installed for the Matrix backend tests. Run 'make synapse' (or "
        "'make test', which does it once) to install it into .venv-synapse, or point "
        f"{PYTHON_ENV} at a Python that has matrix-synapse. Set {SKIP_ENV}=1 to skip these "
        "tests on purpose."
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


_LIMIT = {"per_second": 10000, "burst_count": 100000}

CONFIG = """\
server_name: "{server_name}"
pid_file: "{dir}/homeserver.pid"
listeners:
  - port: {port}
    bind_addresses: ["127.0.0.1"]
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
database:
  name: sqlite3
  args:
    database: "{dir}/homeserver.db"
media_store_path: "{dir}/media"
signing_key_path: "{dir}/signing.key"
log_config: "{dir}/log.yaml"
registration_shared_secret: "{secret}"
macaroon_secret_key: "{macaroon}"
form_secret: "{form}"
report_stats: false
enable_registration: false
trusted_key_servers: []
suppress_key_server_warning: true
federation_domain_whitelist: []
presence:
  enabled: false
url_preview_enabled: false
enable_metrics: false
default_room_version: "10"
rc_message: {limit}
rc_registration: {limit}
rc_room_creation: {limit}
rc_login:
  address: {limit}
  account: {limit}
  failed_attempts: {limit}
rc_joins:
  local: {limit}
  remote: {limit}
rc_joins_per_room: {limit}
rc_invites:
  per_room: {limit}
  per_user: {limit}
  per_issuer: {limit}
rc_admin_redaction: {limit}
rc_3pid_validation: {limit}
rc_presence:
  per_user: {limit}
rc_delayed_event_mgmt: {limit}
"""

LOG_CONFIG = """\
version: 1
formatters:
  plain:
    format: '%(asctime)s %(name)s %(levelname)s %(message)s'
handlers:
  file:
    class: logging.FileHandler
    filename: "{dir}/homeserver.log"
    formatter: plain
root:
  level: WARNING
  handlers: [file]
disable_existing_loggers: false
"""


class Synapse:
    """One Synapse process on loopback; ``kill()`` SIGKILLs it, ``start()`` brings it back."""

    def __init__(self, python: Path, directory: Path) -> None:
        self.python = python
        self.dir = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server_name = SERVER_NAME
        self.secret = secrets.token_hex(16)
        self.proc: subprocess.Popen[bytes] | None = None
        self.config = directory / "homeserver.yaml"
        (directory / "media").mkdir(parents=True, exist_ok=True)
        limit = "{" + ", ".join(f"{k}: {v}" for k, v in _LIMIT.items()) + "}"
        self.config.write_text(
            CONFIG.format(
                server_name=SERVER_NAME,
                dir=directory,
                port=self.port,
                secret=self.secret,
                macaroon=secrets.token_hex(16),
                form=secrets.token_hex(16),
                limit=limit,
            ),
            encoding="utf-8",
        )
        (directory / "log.yaml").write_text(LOG_CONFIG.format(dir=directory), encoding="utf-8")
        subprocess.run(
            [
                str(python),
                "-m",
                "synapse.app.homeserver",
                "-c",
                str(self.config),
                "--generate-keys",
            ],
            check=True,
            capture_output=True,
            cwd=directory,
        )

    def start(self, timeout: float = 60.0) -> None:
        assert self.proc is None or self.proc.poll() is not None
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", str(self.config)],
            cwd=self.dir,
            stdout=open(self.dir / "stdout.log", "ab"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"Synapse exited with {self.proc.returncode}; see {self.dir}/stdout.log and "
                    f"{self.dir}/homeserver.log"
                )
            try:
                if httpx.get(self.url + "/_matrix/client/versions", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"Synapse did not answer within {timeout} s (see {self.dir})")

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, like a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    # ------------------------------------------------------------------ accounts

    def register(self, username: str, password: str = "", *, admin: bool = False) -> dict[str, Any]:
        """Create a user by shared secret (``/_synapse/admin/v1/register``); returns the login."""
        password = password or secrets.token_hex(8)
        endpoint = self.url + "/_synapse/admin/v1/register"
        nonce = httpx.get(endpoint, timeout=10.0).json()["nonce"]
        mac = hmac.new(self.secret.encode(), digestmod=hashlib.sha1)
        mac.update(b"\x00".join([nonce.encode(), username.encode(), password.encode()]))
        mac.update(b"\x00" + (b"admin" if admin else b"notadmin"))
        r = httpx.post(
            endpoint,
            json={
                "nonce": nonce,
                "username": username,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
            timeout=30.0,
        )
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        body["password"] = password
        return body
