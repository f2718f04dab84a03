"""Property-based contract test: schemathesis fuzzes every documented route of the
real reference server (subprocess on loopback) from its own ``/api/v1/openapi.json``.

Generated requests, valid and invalid, must never produce a 5xx, and answers
must match the documented response schemas.  Each role walks every route
(agents and customers reach the deep paths, supervisors the 403s).  Examples
per route are bounded so the module stays well under a minute.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

# Raise for an exploratory run: AGENT_CONSOLE_FUZZ_EXAMPLES=200 pytest tests/server_contract
MAX_EXAMPLES = int(os.environ.get("AGENT_CONSOLE_FUZZ_EXAMPLES", "6"))

BOUNDED = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=os.environ.get("AGENT_CONSOLE_FUZZ_EXAMPLES") is None,
    database=None,
)


@dataclass(frozen=True)
class Target:
    url: str
    headers: dict[str, str]


def _target(server: Any, role: str) -> Target:
    token = server.token(role, f"Fuzz {role.title()}")
    return Target(server.url, {"Authorization": f"Bearer {token}"})


@pytest.fixture
def api_schema(ref_server: Any) -> Any:
    return schemathesis.openapi.from_url(ref_server.api + "/openapi.json")


@pytest.fixture
def agent_target(ref_server: Any) -> Target:
    return _target(ref_server, "agent")


@pytest.fixture
def supervisor_target(ref_server: Any) -> Target:
    return _target(ref_server, "supervisor")


@pytest.fixture
def customer_target(ref_server: Any) -> Target:
    return _target(ref_server, "customer")


def _call(case: Any, target: Target) -> None:
    case.call_and_validate(
        base_url=target.url,
        headers=target.headers,
        checks=[not_a_server_error, response_schema_conformance],
        timeout=10,
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@BOUNDED
def test_agent_requests_never_cause_server_errors(case: Any, agent_target: Target) -> None:
    _call(case, agent_target)


@schema.parametrize()
@BOUNDED
def test_supervisor_requests_never_cause_server_errors(
    case: Any, supervisor_target: Target
) -> None:
    _call(case, supervisor_target)


@schema.parametrize()
@BOUNDED
def test_customer_requests_never_cause_server_errors(case: Any, customer_target: Target) -> None:
    _call(case, customer_target)
