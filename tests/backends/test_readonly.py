"""A supervisor's backend cannot change anything: refused locally, before the network.

Two independent witnesses that nothing left the console: an httpx event hook
recording every request the client sends, and the reference server's own log
of mutating requests (``ref_server.mutating_requests``).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from console.backends.base import (
    MUTATING_METHODS,
    BackendError,
    Capability,
    ReadOnlyBackend,
    ReadOnlyError,
)
from console.backends.native import NativeBackend
from console.core.outbox import new_client_id
from console.protocol import models as m

from .conftest import start_conversation

# One plausible call for every mutating method of the Backend interface.
MUTATING_CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "set_status": ((m.StatusUpdate(status="online"),), {}),
    "send_message": (("CONV", m.SendMessage(client_id="c1", body="hi")), {}),
    "accept": (("CONV",), {}),
    "transfer": (("CONV", m.TransferRequest(department_id="d")), {}),
    "close": (("CONV", m.CloseRequest()), {}),
    "set_typing": (("CONV", True), {}),
    "upload_attachment": (("a.txt", b"hello"), {}),
    "add_customer_note": (("CUST", "note"), {}),
    "set_customer_tags": (("CUST", ["vip"]), {}),
    "create_canned_reply": ((m.CannedReplyCreate(title="t", body="b"),), {}),
    "mark_read": (("CONV",), {}),
    "create_follow_up": (
        ("CONV", m.FollowUpCreate(channel="phone", due_at=datetime(2030, 1, 1, tzinfo=UTC))),
        {},
    ),
    "complete_follow_up": (("FU",), {}),
    "escalate": (("CONV", m.EscalateRequest(reason="why")), {}),
    "discard_unsent": (("c1",), {}),
}


def test_every_mutating_method_has_a_call_here() -> None:
    assert set(MUTATING_CALLS) == set(MUTATING_METHODS)


@pytest.fixture
def recorder() -> tuple[list[tuple[str, str]], dict[str, list[Any]]]:
    sent: list[tuple[str, str]] = []

    async def on_request(request: Any) -> None:
        sent.append((request.method, request.url.path))

    return sent, {"request": [on_request]}


async def test_supervisor_backend_refuses_every_mutation_locally(
    ref_server: Any, tmp_path: Path, recorder: tuple[list[tuple[str, str]], dict[str, list[Any]]]
) -> None:
    conversation, _ = start_conversation(ref_server, "Lee")
    sent, hooks = recorder
    inner = NativeBackend(
        ref_server.url,
        ref_server.token("supervisor", "Sam"),
        outbox_path=tmp_path / "outbox.jsonl",
        event_hooks=hooks,
    )
    backend = ReadOnlyBackend(inner)
    me = await backend.connect()
    assert me.role == "supervisor"
    # Reads really go to the real server.
    conv = await backend.get_conversation(conversation)
    customer = await backend.get_customer(conv.customer_id)
    assert (await backend.list_messages(conversation)).items
    assert (await backend.queues()).items
    ref_server.clear_request_log()
    sent.clear()

    for name, (args, kwargs) in MUTATING_CALLS.items():
        args = tuple(
            conversation if a == "CONV" else customer.id if a == "CUST" else a for a in args
        )
        with pytest.raises(ReadOnlyError) as refused:
            await getattr(backend, name)(*args, **kwargs)
        assert refused.value.operation == name
        assert "Read-only" in str(refused.value)

    assert sent == []  # not one request left the client
    assert ref_server.mutating_requests() == []
    assert inner.outbox is not None and inner.outbox.pending() == []
    assert Capability.SEND not in backend.capabilities
    assert Capability.SEARCH in backend.capabilities
    await backend.aclose()


async def test_the_witnesses_do_see_a_mutation_that_gets_through(
    ref_server: Any, recorder: tuple[list[tuple[str, str]], dict[str, list[Any]]]
) -> None:
    """Control: without the wrapper the same send reaches the server, which answers read_only."""
    conversation, _ = start_conversation(ref_server, "Max")
    sent, hooks = recorder
    inner = NativeBackend(ref_server.url, ref_server.token("supervisor", "Sue"), event_hooks=hooks)
    await inner.connect()
    ref_server.clear_request_log()
    with pytest.raises(BackendError) as refused:
        await inner.send_message(conversation, m.SendMessage(client_id=new_client_id(), body="x"))
    assert refused.value.code == "read_only"
    assert refused.value.status == 403
    assert type(refused.value) is BackendError  # not AuthError: the session stays usable
    assert inner.connection.phase.value != "auth_failed"
    assert ("POST", f"/api/v1/conversations/{conversation}/messages") in sent
    assert [r["role"] for r in ref_server.mutating_requests()] == ["supervisor"]
    await inner.aclose()


async def test_supervisor_session_never_delivers_an_agents_queued_outbox(
    ref_server: Any, tmp_path: Path
) -> None:
    """Entries queued in the file by an agent stay pending when a supervisor opens it."""
    conversation, _ = start_conversation(ref_server, "Ned")
    outbox_path = tmp_path / "outbox.jsonl"
    ref_server.stop()
    agent = NativeBackend(ref_server.url, ref_server.token("agent", "Ann"), outbox_path=outbox_path)
    assert agent.outbox is not None
    await agent.outbox.enqueue(conversation, m.SendMessage(client_id=new_client_id(), body="mine"))
    await agent.aclose()
    ref_server.start()

    supervisor = NativeBackend(
        ref_server.url, ref_server.token("supervisor", "Sid"), outbox_path=outbox_path
    )
    await supervisor.connect()
    assert supervisor.outbox is not None and not supervisor.outbox.started
    with pytest.raises(BackendError) as refused:
        await supervisor.send_message(
            conversation, m.SendMessage(client_id=new_client_id(), body="x")
        )
    assert refused.value.code == "read_only"
    assert [e.body for e in supervisor.outbox.pending()] == ["mine"]
    assert ref_server.mutating_requests() == []
    await supervisor.aclose()


async def test_supervisor_started_offline_pauses_instead_of_failing_queued_entries(
    ref_server: Any, tmp_path: Path
) -> None:
    """Role unknown at start (server down): the server's 403 read_only pauses the outbox."""
    conversation, _ = start_conversation(ref_server, "Ola")
    outbox_path = tmp_path / "outbox.jsonl"
    ref_server.stop()
    agent = NativeBackend(ref_server.url, ref_server.token("agent", "Art"), outbox_path=outbox_path)
    assert agent.outbox is not None
    await agent.outbox.enqueue(conversation, m.SendMessage(client_id=new_client_id(), body="mine"))
    await agent.aclose()

    supervisor = NativeBackend(
        ref_server.url,
        ref_server.token("supervisor", "Sky"),
        outbox_path=outbox_path,
        backoff_base=0.05,
        backoff_cap=0.2,
    )
    with pytest.raises(BackendError):
        await supervisor.connect()  # unreachable: the role is not known yet
    assert supervisor.outbox is not None and supervisor.outbox.started
    ref_server.start()
    deadline = asyncio.get_running_loop().time() + 20
    while supervisor.outbox.paused is None:
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.05)
    assert [e.body for e in supervisor.outbox.pending()] == ["mine"]
    assert supervisor.outbox.failed() == []
    assert [r["role"] for r in ref_server.mutating_requests()] == ["supervisor"]
    await supervisor.aclose()
