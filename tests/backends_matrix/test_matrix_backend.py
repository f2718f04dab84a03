"""MatrixBackend against a real Synapse: the desk's flow, read-only by power level, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from console.backends import password_login
from console.backends.base import (
    AuthError,
    BackendError,
    ConnectionPhase,
    ReadOnlyBackend,
    ReadOnlyError,
)
from console.backends.matrix import MatrixBackend, safe_filename
from console.backends.matrix import conversation_id_for as cid
from console.protocol import models as m
from tests.backends_matrix.conftest import Team


async def collect(backend: MatrixBackend, sink: list[m.Event]) -> asyncio.Task[None]:
    async def run() -> None:
        async for event in backend.events():
            sink.append(event)

    return asyncio.create_task(run())


async def until(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def of_type(events: list[m.Event], kind: str) -> list[Any]:
    return [m.decode_event_data(e) for e in events if e.type == kind]


async def test_queue_accept_reply_typing_notes_tags_transfer_close(team: Team) -> None:
    ana, bo = team.agents
    customer = await team.customer("Mina Park")
    room = await team.open(customer, "Mina Park")
    await customer.say(room, "Hello, my parcel is late")

    backend = team.backend(ana, outbox="ana.jsonl")
    me = await backend.connect()
    assert me.role == "agent" and me.id == ana.user_id and me.name == "Ana Agent"
    queued = (await backend.list_conversations(state="queued", assignee="any")).items
    assert [(c.id, c.customer_name, c.department_name) for c in queued] == [
        (cid(room), "Mina Park", "Billing")
    ]
    assert {d.name for d in await backend.list_departments()} == {"Billing", "Shipping"}
    events: list[m.Event] = []
    task = await collect(backend, events)
    await until(lambda: backend.connection.phase is ConnectionPhase.CONNECTED, "connected")

    accepted = await backend.accept(room)
    assert accepted.state == "active" and accepted.assignee_id == ana.user_id
    history = await backend.list_messages(room)
    assert [x.body for x in history.items] == ["Hello, my parcel is late"]
    assert history.items[0].author_kind == "customer"

    reply = await backend.send_message(room, m.SendMessage(client_id="c-1", body="Checking now"))
    assert reply.id.startswith("$")
    bodies = [e["content"]["body"] for e in await customer.messages(room)]
    assert bodies == ["Hello, my parcel is late", "Checking now"]
    # Idempotent: the same client id again is the same event, not a copy.
    again = await backend._send_once(room, m.SendMessage(client_id="c-1", body="Checking now"))
    assert again.id == reply.id
    assert len(await customer.messages(room)) == 2

    await customer.say(room, "thanks")
    await until(
        lambda: any(x.body == "thanks" for x in of_type(events, "message.created")), "live message"
    )
    created = [x for x in of_type(events, "message.created") if x.body == "thanks"]
    assert len(created) == 1 and created[0].author_kind == "customer"
    assert created[0].author_name == "Mina Park"

    await customer.typing(room, True)
    await until(
        lambda: any(t.typing and t.author_kind == "customer" for t in of_type(events, "typing")),
        "customer typing",
    )
    await backend.set_typing(room, True)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 20
    while ana.user_id not in await customer.typing_users(room):
        assert loop.time() < deadline, "agent typing never reached the customer"
        await asyncio.sleep(0.1)

    note = await backend.add_customer_note(customer.user_id, "Prefers e-mail")
    await backend.set_customer_tags(customer.user_id, ["vip", "late-parcel"])
    assert [n.body for n in await backend.list_customer_notes(customer.user_id)] == [
        "Prefers e-mail"
    ]
    assert note.author_name == "Ana Agent"
    # Saved on the homeserver: a second console (Bo) sees both.
    bo_backend = team.backend(bo)
    await bo_backend.connect()
    assert [n.body for n in await bo_backend.list_customer_notes(customer.user_id)] == [
        "Prefers e-mail"
    ]
    assert (await bo_backend.get_customer(customer.user_id)).tags == ["vip", "late-parcel"]

    moved = await backend.transfer(room, m.TransferRequest(agent_id=bo.user_id))
    assert moved.assignee_id == bo.user_id and moved.state == "active"
    await until(
        lambda: any(
            c.id == cid(room) and c.assignee_id == bo.user_id
            for c in of_type(events, "conversation.updated")
        ),
        "transfer seen on the stream",
    )
    bo_events: list[m.Event] = []
    bo_task = await collect(bo_backend, bo_events)
    await until(lambda: bo_backend.connection.phase is ConnectionPhase.CONNECTED, "bo connected")
    mine = (await bo_backend.list_conversations(state="active", assignee="me")).items
    assert [c.id for c in mine] == [cid(room)]
    await bo_backend.accept(room)  # joins (invited by the transfer); state stays his
    await bo_backend.send_message(room, m.SendMessage(client_id="bo-1", body="Bo here"))
    closed = await bo_backend.close(room, m.CloseRequest())
    assert closed.state == "closed"
    await until(
        lambda: any(
            c.id == cid(room) and c.state == "closed"
            for c in of_type(events, "conversation.updated")
        ),
        "close seen by Ana",
    )
    bodies = [e["content"]["body"] for e in await customer.messages(room)]
    assert bodies == ["Hello, my parcel is late", "Checking now", "thanks", "Bo here"]
    task.cancel()
    bo_task.cancel()


async def test_supervisor_is_read_only_in_the_client_and_on_synapse(team: Team) -> None:
    customer = await team.customer("Kai")
    room = await team.open(customer, "Kai")
    await customer.say(room, "hello")
    inner = team.backend(team.supervisor)
    me = await inner.connect()
    assert me.role == "supervisor"
    backend = ReadOnlyBackend(inner)
    with pytest.raises(ReadOnlyError):
        await backend.send_message(room, m.SendMessage(client_id="s-1", body="hi"))
    with pytest.raises(ReadOnlyError):
        await backend.accept(room)
    page = await backend.list_messages(room)  # joins to read (docs/matrix.md, Roles)
    assert [x.body for x in page.items] == ["hello"]
    queues = (await backend.queues()).items
    assert {q.department_id: q.waiting for q in queues}["billing"] == 1
    # Synapse itself refuses the supervisor's writes (power level 0).
    http = team.supervisor.http
    r = await http.put(
        f"/rooms/{room}/send/m.room.message/x1", json={"msgtype": "m.text", "body": "hi"}
    )
    assert r.status_code == 403 and r.json()["errcode"] == "M_FORBIDDEN"
    r = await http.put(
        f"/rooms/{team.team_room}/state/io.agent-console.conversation/{room}",
        json={"state": "closed"},
    )
    assert r.status_code == 403 and r.json()["errcode"] == "M_FORBIDDEN"
    # And the inner backend (no client-side guard) gets the same refusal as a sentence.
    with pytest.raises(AuthError) as info:
        await inner._send_once(room, m.SendMessage(client_id="s-2", body="hi"))
    assert info.value.status == 403 and "not allowed" in str(info.value)
    assert [e["content"]["body"] for e in await customer.messages(room)] == ["hello"]


async def test_login_with_password_and_bad_token_is_fatal(team: Team) -> None:
    ana = team.agents[0]
    token = await asyncio.to_thread(
        password_login, "matrix", team.server.url, ana.user_id, ana.password
    )
    assert token and token != ana.token
    backend = team.backend(
        ana.__class__(team.server, {"user_id": ana.user_id, "access_token": token, "password": ""})
    )
    assert (await backend.connect()).id == ana.user_id
    with pytest.raises(AuthError, match="refused that user and password"):
        await asyncio.to_thread(password_login, "matrix", team.server.url, ana.user_id, "wrong")
    bad = MatrixBackend(team.server.url, "syt_nope", team_room=team.team_room)
    team.backends.append(bad)
    with pytest.raises(AuthError):
        await bad.connect()
    assert bad.connection.phase is ConnectionPhase.AUTH_FAILED


async def test_not_a_team_member_is_told_so(team: Team) -> None:
    stranger = await team.customer("Stranger")
    backend = team.backend(stranger)
    with pytest.raises(AuthError, match="not a member of the team room"):
        await backend.connect()


def test_safe_filename() -> None:
    assert safe_filename("../../etc/passwd") == "passwd"
    assert safe_filename("..\\..\\boot.ini") == "boot.ini"
    assert safe_filename(".bashrc") == "bashrc"
    assert safe_filename("in\u202evoice\x1b[31m.pdf") == "invoice[31m.pdf"
    assert safe_filename("") == "attachment"
    assert len(safe_filename("a" * 300 + ".png")) <= 120


async def test_attachment_round_trip(team: Team) -> None:
    ana = team.agents[0]
    customer = await team.customer("Pat")
    room = await team.open(customer, "Pat")
    backend = team.backend(ana)
    await backend.connect()
    await backend.accept(room)
    uploaded = await backend.upload_attachment("../receipt.txt", b"total 3", "text/plain")
    assert uploaded.filename == "receipt.txt" and uploaded.id.startswith("mxc://")
    assert await backend.download_attachment(uploaded.id) == b"total 3"
    await backend.send_message(
        room, m.SendMessage(client_id="f-1", body="here", attachment_ids=[uploaded.id])
    )
    page = await backend.list_messages(room)
    files = [a for x in page.items for a in x.attachments]
    assert [a.url for a in files] == [uploaded.id]
    with pytest.raises(BackendError):
        await backend.send_message(room, m.SendMessage(client_id="n-1", body="x", internal=True))


async def test_cli_login_stores_only_the_access_token_and_the_console_uses_it(
    team: Team, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """``agent-console login mx --stdin`` (user, password) → token in the keyring → console."""
    import io

    import keyring

    from console.cli import build_parser, cmd_login, prepare_console
    from tests.foundation.test_credentials import MemoryKeyring

    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    ana = team.agents[0]
    config = tmp_path / "config.toml"
    config.write_text(
        f'default_profile = "mx"\n[profiles.mx]\nurl = "{team.server.url}"\nbackend = "matrix"\n'
        f'team_room = "{team.team_room}"\ndesk_user = "{team.desk.user_id}"\n',
        encoding="utf-8",
    )
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{ana.user_id}\n{ana.password}\n"))
    args = build_parser().parse_args(["--config", str(config), "login", "mx", "--stdin"])
    assert await asyncio.to_thread(cmd_login, args) == 0
    stored = keyring.get_password("agent-console", team.server.url)
    assert stored and stored.startswith("syt_") and ana.password not in str(ring.__dict__)
    app = prepare_console(build_parser().parse_args(["--config", str(config)]), interactive=False)
    from console.core.boundary import SanitizingBackend

    assert isinstance(app.backend, SanitizingBackend)  # the one boundary, then Matrix
    backend = app.backend.inner
    assert isinstance(backend, MatrixBackend)
    team.backends.append(backend)
    assert (await backend.connect()).id == ana.user_id
