"""Every NativeBackend call against the real reference server, and its error sentences."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from console.backends import backend_names, load_backend
from console.backends.base import AuthError, BackendError, Capability
from console.backends.native import NativeBackend
from console.core.outbox import new_client_id
from console.protocol import models as m
from tests.fixtures.reference_server import free_port

from .conftest import start_conversation


async def test_every_call_round_trips_through_the_real_server(
    ref_server: Any, backends: list[NativeBackend]
) -> None:
    alice = NativeBackend(ref_server.url, ref_server.token("agent", "Alice"))
    bob = NativeBackend(ref_server.url + "/api/v1/", ref_server.token("agent", "Bob"))
    boss = NativeBackend(ref_server.url, ref_server.token("supervisor", "Boss"))
    backends.extend([alice, bob, boss])
    assert alice.capabilities == frozenset(Capability)

    me = await alice.connect()
    assert (me.name, me.role) == ("Alice", "agent")
    bob_me = await bob.connect()
    await bob.set_status(m.StatusUpdate(status="online"))
    assert (await alice.set_status(m.StatusUpdate(status="online", capacity=5))).capacity == 5
    departments = await alice.list_departments()
    assert departments

    # Alice is online with room: a new chat is routed to her (or Bob).
    conversation, _ = start_conversation(ref_server, "Cora", "Where is my parcel?")
    conv = await alice.get_conversation(conversation)
    assert conv.state == "active" and conv.customer_name == "Cora"
    page = await alice.list_conversations(state="active")
    assert conversation in {c.id for c in page.items}

    request = m.SendMessage(client_id=new_client_id(), body="Let me check that for you.")
    first = await alice.send_message(conversation, request)
    again = await alice.send_message(conversation, request)  # same client_id: a replay
    assert first.id == again.id and first.author_kind == "agent"
    note = await alice.send_message(
        conversation, m.SendMessage(client_id=new_client_id(), body="VIP", internal=True)
    )
    assert note.internal
    await alice.set_typing(conversation, True)
    await alice.mark_read(conversation)

    attachment = await alice.upload_attachment("label.txt", b"tracking 123", "text/plain")
    assert attachment.size == len(b"tracking 123")
    with_file = await alice.send_message(
        conversation,
        m.SendMessage(client_id=new_client_id(), body="zebracode", attachment_ids=[attachment.id]),
    )
    assert [a.id for a in with_file.attachments] == [attachment.id]
    assert await alice.download_attachment(attachment.id) == b"tracking 123"

    history = await alice.list_messages(conversation, limit=200)
    ids = [msg.id for msg in history.items]
    assert ids.index(first.id) < ids.index(note.id) < ids.index(with_file.id)
    newer = await alice.list_messages(conversation, after=first.id)
    assert [msg.id for msg in newer.items][:1] == [note.id]
    older = await alice.list_messages(conversation, before=note.id, limit=1)
    assert [msg.id for msg in older.items] == [first.id]

    customer = await alice.get_customer(conv.customer_id)
    assert customer.name == "Cora"
    assert (await alice.set_customer_tags(customer.id, ["vip", "parcel"])).tags == ["vip", "parcel"]
    created = await alice.add_customer_note(customer.id, "Prefers email.")
    assert created.body == "Prefers email."
    assert created.id in {n.id for n in await alice.list_customer_notes(customer.id)}
    assert conversation in {c.id for c in await alice.list_customer_conversations(customer.id)}

    reply = await alice.create_canned_reply(
        m.CannedReplyCreate(title="Parcel delay", shortcut="pd", body="Sorry for the delay.")
    )
    assert reply.id in {r.id for r in await alice.list_canned_replies("Parcel")}
    hits = await alice.search("zebracode")
    assert with_file.id in {h.message_id for h in hits.items}

    queues = await boss.queues()
    assert {q.department_id for q in queues.items} >= {departments[0].id}
    agents = await boss.agents()
    assert {"Alice", "Bob"} <= {a.name for a in agents.items}

    holder = alice if conv.assignee_id == me.id else bob
    other_id = bob_me.id if holder is alice else me.id
    moved = await holder.transfer(conversation, m.TransferRequest(agent_id=other_id, note="fyi"))
    assert moved.assignee_id == other_id
    closed = await holder.close(conversation, m.CloseRequest(request_csat=False))
    assert closed.state == "closed"

    # Nobody accepting: the next chat waits in the queue until someone accepts it.
    await alice.set_status(m.StatusUpdate(status="away"))
    await bob.set_status(m.StatusUpdate(status="away"))
    queued, _ = start_conversation(ref_server, "Dirk")
    assert (await alice.get_conversation(queued)).state == "queued"
    taken = await alice.accept(queued)
    assert taken.state == "active" and taken.assignee_id == me.id
    with pytest.raises(BackendError) as conflict:
        await alice.accept(queued)
    assert conflict.value.code == "not_queued" and conflict.value.status == 409
    assert "not queued" in str(conflict.value)


async def test_errors_are_sentences_from_the_server(
    ref_server: Any, backends: list[NativeBackend]
) -> None:
    backend = NativeBackend(ref_server.url, ref_server.token("agent", "Rae"))
    backends.append(backend)
    with pytest.raises(BackendError) as missing:
        await backend.get_conversation("conv_does_not_exist")
    assert missing.value.status == 404 and missing.value.code == "not_found"
    assert str(missing.value) == "Conversation was not found. Check the id and try again."
    assert not isinstance(missing.value, AuthError)

    conversation, _ = start_conversation(ref_server, "Sol")
    with pytest.raises(BackendError) as too_long:
        await backend.send_message(
            conversation, m.SendMessage(client_id=new_client_id(), body="x" * 10_001)
        )
    assert too_long.value.status == 400
    assert str(too_long.value).endswith((".", ")"))
    # An id with URL syntax stays one path segment.
    with pytest.raises(BackendError) as odd:
        await backend.get_conversation("../me?x=1")
    assert odd.value.status == 404


async def test_unreachable_server_says_so() -> None:
    backend = NativeBackend(f"http://127.0.0.1:{free_port()}", "t", timeout=2.0)
    with pytest.raises(BackendError) as info:
        await backend.me()
    assert info.value.code == "unreachable"
    assert str(info.value).startswith("Cannot reach the server at http://127.0.0.1:")
    await backend.aclose()


def test_bad_base_url_is_refused_with_a_sentence() -> None:
    with pytest.raises(ValueError, match="is not an http:// or https:// URL"):
        NativeBackend("ftp://example", "t")


def test_load_backend_by_name() -> None:
    assert "native" in backend_names()
    backend = load_backend("native", base_url="http://127.0.0.1:9", token="t")
    assert isinstance(backend, NativeBackend)
    with pytest.raises(
        ValueError, match=r"Unknown backend 'nope'\. Choose one of: chatwoot, matrix, native\."
    ):
        load_backend("nope")


def test_importing_the_native_backend_defers_httpx_and_websockets() -> None:
    code = (
        "import sys\n"
        "from console.backends import load_backend\n"
        "load_backend('native', base_url='http://127.0.0.1:9', token='t')\n"
        "print(sorted(n for n in ('httpx', 'websockets', 'textual') if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_server_sentences_are_sanitized_before_the_ui_sees_them() -> None:
    """Error text is outside text: escape sequences never reach the terminal via an error."""
    import httpx

    def hostile(request: httpx.Request) -> httpx.Response:
        body = {
            "error": {"code": "bad_request", "message": "Nope\x1b]52;c;ZXZpbA==\x07 \u202eevil"}
        }
        return httpx.Response(400, json=body)

    backend = NativeBackend("http://127.0.0.1:9", "t", transport=httpx.MockTransport(hostile))
    with pytest.raises(BackendError) as info:
        await backend.get_conversation("c1")
    text = str(info.value)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert text.startswith("Nope")
    await backend.aclose()
