"""Property-based contract test: schemathesis fuzzes every documented route of the
real reference server (subprocess on loopback) from its own ``/api/v1/openapi.json``.

Generated requests, valid and invalid, must never produce a 5xx, and answers
must match the documented response schemas.  Each role walks every route
(agents and customers reach the deep paths, supervisors the 403s).  Examples
per route are bounded so the module stays well under a minute.

Random ids only ever reach the 404 branch, so each server is first given a
real conversation, customer, canned reply and attachment, and two thirds of
the generated ``{id}`` path parameters (chosen by a checksum, so runs repeat)
are replaced by the real id of the right kind: the fuzzed bodies and queries
then reach the handlers' deep paths.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

# Exploratory run: AGENT_CONSOLE_FUZZ_EXAMPLES=200 pytest tests/server_contract --timeout=0
MAX_EXAMPLES = int(os.environ.get("AGENT_CONSOLE_FUZZ_EXAMPLES", "5"))

BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("AGENT_CONSOLE_FUZZ_EXAMPLES") is None,
    database=None,
)


# Path template prefix → kind of id it takes (longest prefixes first).
ID_KINDS: tuple[tuple[str, str], ...] = (
    ("/api/v1/customer/conversations/", "conversation"),
    ("/api/v1/conversations/", "conversation"),
    ("/api/v1/customers/", "customer"),
    ("/api/v1/canned-replies/", "canned"),
    ("/api/v1/attachments/", "attachment"),
)


@dataclass(frozen=True)
class Target:
    url: str
    headers: dict[str, str]
    real_ids: dict[str, str] = field(default_factory=dict)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _real_ids(server: Any, customer_token: str, agent_token: str | None) -> dict[str, str]:
    """A conversation with messages (and, for staff, a canned reply and a customer) to aim at."""
    api = server.api
    conv = httpx.post(
        f"{api}/customer/conversations",
        json={"name": "Fuzz Customer", "email": "fuzz@example.com", "message": "Hello, fuzz here."},
        headers=_auth(customer_token),
        trust_env=False,
    )
    conv.raise_for_status()
    ids = {"conversation": conv.json()["id"], "customer": conv.json()["customer_id"]}
    uploader = agent_token or customer_token
    upload = httpx.post(
        f"{api}/attachments",
        files={"file": ("fuzz.txt", b"fuzz attachment\n", "text/plain")},
        headers=_auth(uploader),
        trust_env=False,
    )
    upload.raise_for_status()
    ids["attachment"] = upload.json()["id"]
    if agent_token is not None:
        canned = httpx.post(
            f"{api}/canned-replies",
            json={"title": "Fuzz", "body": "Hi {customer.name}"},
            headers=_auth(agent_token),
            trust_env=False,
        )
        canned.raise_for_status()
        ids["canned"] = canned.json()["id"]
    return ids


def _customer_token(server: Any) -> str:
    r = httpx.post(
        f"{server.api}/customer/session",
        json={"name": "Fuzz Customer", "email": "fuzz@example.com"},
        trust_env=False,
    )
    r.raise_for_status()
    return str(r.json()["token"])


@pytest.fixture
def api_schema(ref_server: Any) -> Any:
    return schemathesis.openapi.from_url(ref_server.api + "/openapi.json")


@pytest.fixture
def agent_target(ref_server: Any) -> Target:
    token = ref_server.token("agent", "Fuzz Agent")
    return Target(
        ref_server.url, _auth(token), _real_ids(ref_server, _customer_token(ref_server), token)
    )


@pytest.fixture
def supervisor_target(ref_server: Any) -> Target:
    agent = ref_server.token("agent", "Fuzz Agent")
    ids = _real_ids(ref_server, _customer_token(ref_server), agent)
    return Target(ref_server.url, _auth(ref_server.token("supervisor", "Fuzz Supervisor")), ids)


@pytest.fixture
def customer_target(ref_server: Any) -> Target:
    token = _customer_token(ref_server)
    return Target(ref_server.url, _auth(token), _real_ids(ref_server, token, None))


def _aim_at_real_ids(case: Any, target: Target) -> None:
    params = case.path_parameters or {}
    value = params.get("id")
    if not isinstance(value, str) or zlib.crc32(value.encode()) % 3 == 0:
        return
    for prefix, kind in ID_KINDS:
        if case.path.startswith(prefix) and kind in target.real_ids:
            params["id"] = target.real_ids[kind]
            return


def _call(case: Any, target: Target) -> None:
    _aim_at_real_ids(case, target)
    case.call_and_validate(
        base_url=target.url,
        headers=target.headers,
        checks=[not_a_server_error, response_schema_conformance],
        timeout=10,
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.timeout(300)
@schema.parametrize()
@BOUNDED
def test_agent_requests_never_cause_server_errors(case: Any, agent_target: Target) -> None:
    _call(case, agent_target)


@pytest.mark.timeout(300)
@schema.parametrize()
@BOUNDED
def test_supervisor_requests_never_cause_server_errors(
    case: Any, supervisor_target: Target
) -> None:
    _call(case, supervisor_target)


@pytest.mark.timeout(300)
@schema.parametrize()
@BOUNDED
def test_customer_requests_never_cause_server_errors(case: Any, customer_target: Target) -> None:
    _call(case, customer_target)
