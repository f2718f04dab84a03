"""``agent-console serve --demo`` seeds the demo data *and* starts simulated customers."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.cli import _loopback_url, build_parser


def test_serve_parses_sim_switches() -> None:
    parser = build_parser()
    plain = parser.parse_args(["serve", "--demo"])
    assert (plain.no_sim, plain.seed) == (False, 0)
    quiet = parser.parse_args(["serve", "--demo", "--no-sim", "--seed", "7"])
    assert (quiet.no_sim, quiet.seed) == (True, 7)


def test_serve_help_explains_customer_identity_verification(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "never reattaches an existing customer by e-mail or name" in text
    assert "identifier_hash" in text
    assert "development and demo server" in text
    assert "--no-sim" in text and "--seed" in text


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:8765"),
        ("0.0.0.0", "http://127.0.0.1:8765"),
        ("::", "http://[::1]:8765"),
        ("::1", "http://[::1]:8765"),
        ("localhost", "http://localhost:8765"),
    ],
)
def test_simulator_reaches_the_server_on_loopback(host: str, url: str) -> None:
    assert _loopback_url(host, 8765) == url


def _serve(port: int, db: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "console", "serve", "--port", str(port), "--db", str(db), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_healthy(port: int, proc: subprocess.Popen[str]) -> None:
    import httpx

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate(timeout=5)[1]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    pytest.fail("the server did not answer /api/v1/health within 20 s")


def _agent_token(db: Path) -> str:
    created = subprocess.run(
        [
            *(sys.executable, "-m", "console", "token", "create"),
            *("--role", "agent", "--name", "Sim Watcher", "--db", str(db)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 0, created.stderr
    return created.stdout.strip()


def _conversations(port: int, token: str) -> list[dict[str, object]]:
    import httpx

    response = httpx.get(
        f"http://127.0.0.1:{port}/api/v1/conversations",
        params={"assignee": "any"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, object]] = response.json()["items"]
    return items


def test_serve_demo_starts_simulated_customers_and_no_sim_does_not(tmp_path: Path) -> None:
    pytest.importorskip("console.server.app")
    from tests.fixtures.reference_server import free_port

    # The demo seed has customers but no conversations: any conversation is a simulated one.
    port, db = free_port(), tmp_path / "sim.sqlite3"
    proc = _serve(port, db, "--demo", "--seed", "3")
    try:
        _wait_healthy(port, proc)
        token = _agent_token(db)
        deadline = time.monotonic() + 12
        found: list[dict[str, object]] = []
        while not found and time.monotonic() < deadline:
            found = _conversations(port, token)
            if not found:
                time.sleep(0.2)
        assert found, "no simulated customer started a conversation"
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
    # SIGTERM unwinds like Ctrl+C so the simulator is stopped instead of killed mid-request.
    assert proc.returncode == 128 + signal.SIGTERM, stderr
    assert "Traceback" not in stderr, stderr

    # Same demo data, --no-sim: the server stays empty of conversations.
    port, db = free_port(), tmp_path / "nosim.sqlite3"
    proc = _serve(port, db, "--demo", "--no-sim")
    try:
        _wait_healthy(port, proc)
        token = _agent_token(db)
        time.sleep(1.5)
        assert _conversations(port, token) == []
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
