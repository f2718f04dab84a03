"""The ``ref_server`` fixture itself: starts, answers, survives a hard restart."""

from __future__ import annotations

import httpx

from tests.fixtures.reference_server import RefServer


def test_ref_server_serves_restarts_and_logs_requests(ref_server: RefServer) -> None:
    """Health answers, tokens work, a SIGKILL restart keeps the data, the request log records roles."""
    token = ref_server.token("agent", "Alice")
    headers = {"Authorization": f"Bearer {token}"}
    me = httpx.get(ref_server.api + "/me", headers=headers).json()
    assert me["name"] == "Alice" and me["role"] == "agent"
    assert (
        httpx.put(
            ref_server.api + "/me/status", headers=headers, json={"status": "away"}
        ).status_code
        == 200
    )
    ref_server.stop()
    assert not ref_server.running
    ref_server.start()
    assert httpx.get(ref_server.api + "/me", headers=headers).json()["status"] == "away"
    supervisor = ref_server.token("supervisor", "Sam")
    httpx.get(ref_server.api + "/queues", headers={"Authorization": f"Bearer {supervisor}"})
    assert ref_server.mutating_requests(role="supervisor") == []
    log = ref_server.request_log()
    assert {"method": "GET", "path": "/api/v1/queues", "role": "supervisor", "status": 200} in log
    ref_server.clear_request_log()
    assert ref_server.request_log() == []


def test_revoked_token_is_refused(server: RefServer) -> None:
    """admin.revoke_token takes effect on the running server at once."""
    from console.server.admin import revoke_token

    token = server.token("agent", "Leaver")
    headers = {"Authorization": f"Bearer {token}"}
    assert httpx.get(server.api + "/me", headers=headers).status_code == 200
    assert revoke_token(server.db_path, token) is True
    assert revoke_token(server.db_path, token) is False
    assert httpx.get(server.api + "/me", headers=headers).status_code == 401
