"""ChatwootBackend against the spec-checked fake Chatwoot (``_fake.py``): every call, mapped."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from console.backends import load_backend
from console.backends.base import AuthError, BackendError, Capability, ConnectionPhase
from console.backends.chatwoot import ChatwootBackend
from console.protocol import models as m
from tests.backends_chatwoot._fake import ACCOUNT_ID, ADMIN_TOKEN, TOKEN, FakeChatwoot
from tests.backends_chatwoot.conftest import BASE


def send(body: str, *, internal: bool = False, client_id: str = "c-1") -> m.SendMessage:
    return m.SendMessage(client_id=client_id, body=body, internal=internal)


async def test_connect_maps_profile_to_me(backend: ChatwootBackend, fake: FakeChatwoot) -> None:
    me = await backend.connect()
    assert me == m.Me(
        id="1",
        name="Ana",
        role="agent",
        status="online",
        capacity=3,
        accepting=True,
        department_ids=["1"],
    )
    assert backend.chatwoot_role == "agent"
    assert fake.log[0].path == "/api/v1/profile"
    assert Capability.STATUS not in backend.capabilities
    assert Capability.ATTACHMENTS not in backend.capabilities
    assert Capability.SEARCH not in backend.capabilities
    assert Capability.CSAT not in backend.capabilities


async def test_administrator_is_an_agent_role(fake: FakeChatwoot) -> None:
    b = ChatwootBackend(BASE, ADMIN_TOKEN, ACCOUNT_ID, transport=fake.transport())
    try:
        me = await b.connect()
    finally:
        await b.aclose()
    assert (me.role, me.status, me.department_ids, b.chatwoot_role) == (
        "agent",
        "away",
        ["2"],
        "administrator",
    )


async def test_account_id_from_dashboard_url_and_load_backend(fake: FakeChatwoot) -> None:
    b = load_backend(
        "chatwoot",
        base_url=f"{BASE}/app/accounts/{ACCOUNT_ID}/dashboard",
        token=TOKEN,
        outbox_path=None,
        transport=fake.transport(),
    )
    assert isinstance(b, ChatwootBackend)
    try:
        assert b.account_id == ACCOUNT_ID
        assert (await b.connect()).id == "1"
        assert [c.id for c in (await b.list_conversations(state="queued")).items] == ["101"]
    finally:
        await b.aclose()


async def test_account_id_from_profile_when_only_one(fake: FakeChatwoot) -> None:
    b = ChatwootBackend(BASE, TOKEN, transport=fake.transport())
    try:
        await b.connect()
        assert b.account_id == ACCOUNT_ID
    finally:
        await b.aclose()


async def test_list_conversations_by_state(backend: ChatwootBackend) -> None:
    async def ids(**kw: object) -> list[str]:
        return [c.id for c in (await backend.list_conversations(**kw)).items]  # type: ignore[arg-type]

    assert await ids(state="queued") == ["101"]
    assert await ids(state="active") == ["102", "105"]
    assert await ids(state="bot") == ["103"]
    assert await ids(state="closed") == ["104"]
    assert await ids() == ["101", "102", "103", "104", "105"]
    assert await ids(state="active", assignee="me") == ["102"]
    assert await ids(state="active", assignee="2") == ["105"]


async def test_conversation_mapping(backend: ChatwootBackend, fake: FakeChatwoot) -> None:
    conv = await backend.get_conversation("101")
    assert conv.id == "101" and conv.state == "queued"
    assert (conv.customer_id, conv.customer_name, conv.customer_email) == (
        "11",
        "Carla <b>Customer</b>",
        "carla@example.com",
    )
    assert (conv.department_id, conv.department_name) == ("1", "Billing")
    assert conv.assignee_id is None and conv.channel == "web"
    assert conv.page_url == "https://shop.example/checkout"
    assert conv.prechat == {"order": "A-1"}
    assert conv.created_at.timestamp() == fake.conversations[101]["created_at"]
    assert conv.waiting_since is not None
    active = await backend.get_conversation("105")
    assert (active.state, active.assignee_id, active.assignee_name) == ("active", "2", "Bo")
    assert active.waiting_since is None  # Chatwoot's 0 means nobody waits


async def test_unknown_conversation_is_a_sentence(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    with pytest.raises(BackendError) as err:
        await backend.get_conversation("999")
    assert err.value.status == 404 and "not found" in str(err.value)
    with pytest.raises(BackendError) as err:
        await backend.get_conversation("../profile")
    assert err.value.status == 404
    assert all("profile" not in e.path for e in fake.log)  # refused locally


async def test_messages_mapping_and_paging(backend: ChatwootBackend, fake: FakeChatwoot) -> None:
    page = await backend.list_messages("101")
    kinds = [(msg.author_kind, msg.internal, msg.body) for msg in page.items]
    assert kinds == [
        ("customer", False, "Hello, my invoice is wrong"),
        ("agent", True, "Customer is VIP"),
        ("system", False, "Conversation was assigned to Billing"),
    ]
    assert page.has_more is False
    assert page.items[0].author_id == "11" and page.items[1].author_name == "Bo"
    assert all(msg.conversation_id == "101" for msg in page.items)
    first, second = page.items[0].id, page.items[1].id
    older = await backend.list_messages("101", before=second)
    assert [msg.id for msg in older.items] == [first]
    newer = await backend.list_messages("101", after=first)
    assert [msg.id for msg in newer.items] == [msg.id for msg in page.items[1:]]
    assert ("before", second) in fake.log[-2].query and ("after", first) in fake.log[-1].query

    (with_file,) = (await backend.list_messages("102")).items
    (att,) = with_file.attachments
    assert (att.filename, att.content_type, att.size) == ("screen shot.png", "image/png", 2048)
    assert att.url.startswith("https://cw.example/")


async def test_send_public_reply_and_private_note(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()
    reply = await backend.send_message("102", send("On it!", client_id="r-1"))
    note = await backend.send_message(
        "102", send("Check refund policy", internal=True, client_id="n-1")
    )
    assert (reply.author_kind, reply.internal, reply.client_id, reply.author_id) == (
        "agent",
        False,
        "r-1",
        "1",
    )
    assert (note.internal, note.client_id) == (True, "n-1")
    posts = [e.body for e in fake.log if e.method == "POST"]
    assert posts == [
        {"content": "On it!", "private": False, "echo_id": "r-1"},
        {"content": "Check refund policy", "private": True, "echo_id": "n-1"},
    ]
    stored = fake.messages[102][-2:]
    assert [(s["message_type"], s["private"]) for s in stored] == [(1, False), (1, True)]


async def test_send_refuses_attachments_and_empty_text_locally(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    with pytest.raises(BackendError, match="attachments"):
        await backend.send_message(
            "102", m.SendMessage(client_id="a", body="x", attachment_ids=["9"])
        )
    with pytest.raises(BackendError, match="Type a message"):
        await backend.send_message("102", send("   "))
    assert fake.mutations() == []


async def test_outbox_does_not_duplicate_when_the_answer_is_lost(
    fake: FakeChatwoot, tmp_path: Path
) -> None:
    b = ChatwootBackend(
        BASE,
        TOKEN,
        ACCOUNT_ID,
        transport=fake.transport(),
        outbox_path=tmp_path / "outbox.jsonl",
        backoff_base=0.01,
        backoff_cap=0.05,
    )
    try:
        await b.connect()
        fake.fail_next_post_after_store = 1  # stored, but the answer never arrives
        sent = await b.send_message("102", send("Exactly once please", client_id="once-1"))
    finally:
        await b.aclose()
    copies = [msg for msg in fake.messages[102] if msg["content"] == "Exactly once please"]
    assert len(copies) == 1
    assert sent.id == str(copies[0]["id"]) and sent.client_id == "once-1"
    # The retry looked for the message instead of posting it again.
    assert fake.message_posts == 1
    assert fake.log[-1].method == "GET" and fake.log[-1].path.endswith("/102/messages")


async def test_outbox_left_overs_are_looked_up_before_resending(
    fake: FakeChatwoot, tmp_path: Path
) -> None:
    path = tmp_path / "outbox.jsonl"
    # Session 1 queues while Chatwoot is unreachable, then closes with the entry pending.
    fake.tokens = {}
    first = ChatwootBackend(
        BASE,
        TOKEN,
        ACCOUNT_ID,
        transport=fake.transport(),
        outbox_path=path,
        backoff_base=0.01,
        backoff_cap=0.05,
    )
    assert first.outbox is not None
    await first.outbox.start()
    await first.outbox.enqueue("102", send("queued earlier", client_id="left-1"))
    await first.aclose()
    # Meanwhile it did arrive (e.g. the first attempt got through before the crash).
    fake.tokens = {TOKEN: 1}
    fake.add_message(102, "queued earlier", message_type=1, sender=("user", 1))
    second = ChatwootBackend(
        BASE,
        TOKEN,
        ACCOUNT_ID,
        transport=fake.transport(),
        outbox_path=path,
        backoff_base=0.01,
        backoff_cap=0.05,
    )
    try:
        await second.connect()
        assert second.outbox is not None
        delivered = await second.outbox.delivery("left-1")
    finally:
        await second.aclose()
    assert delivered.client_id == "left-1"
    assert [msg["content"] for msg in fake.messages[102]].count("queued earlier") == 1
    assert not any(e.method == "POST" and e.path.endswith("/messages") for e in fake.log)


async def test_accept_assigns_me(backend: ChatwootBackend, fake: FakeChatwoot) -> None:
    await backend.connect()
    conv = await backend.accept("101")
    assert (conv.state, conv.assignee_id, conv.assignee_name) == ("active", "1", "Ana")
    post = [e for e in fake.log if e.method == "POST"]
    assert [(e.path, e.body) for e in post] == [
        (f"/api/v1/accounts/{ACCOUNT_ID}/conversations/101/assignments", {"assignee_id": 1})
    ]


async def test_accept_refuses_a_chat_someone_else_has(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()
    with pytest.raises(BackendError, match="already assigned to Bo") as err:
        await backend.accept("105")
    assert err.value.code == "not_queued"
    with pytest.raises(BackendError, match="resolved"):
        await backend.accept("104")
    assert fake.mutations() == []
    assert fake.conversations[105]["assignee"] == 2


async def test_transfer_to_agent_and_to_team(backend: ChatwootBackend, fake: FakeChatwoot) -> None:
    await backend.connect()
    to_bo = await backend.transfer("102", m.TransferRequest(agent_id="2", note="Bo knows refunds"))
    assert (to_bo.assignee_id, to_bo.state) == ("2", "active")
    notes = [msg for msg in fake.messages[102] if msg["private"]]
    assert notes[-1]["content"] == "Bo knows refunds"
    # Bo is in Tech: Chatwoot keeps him assigned, and so does the console.
    to_tech = await backend.transfer("102", m.TransferRequest(department_id="2"))
    assert (to_tech.department_id, to_tech.department_name, to_tech.assignee_id, to_tech.state) == (
        "2",
        "Tech",
        "2",
        "active",
    )
    bodies = [e.body for e in fake.log if e.path.endswith("/assignments")]
    assert bodies == [{"assignee_id": 2}, {"team_id": 2}]
    with pytest.raises(BackendError, match="either an agent or a team"):
        await backend.transfer("102", m.TransferRequest())


async def test_close_resolves_and_sends_transcript(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    closed = await backend.close(
        "102", m.CloseRequest(send_transcript=True, transcript_email="c@example.com")
    )
    assert closed.state == "closed"
    assert fake.transcripts == [(102, "c@example.com")]
    toggle = [e for e in fake.log if e.path.endswith("/toggle_status")]
    assert [e.body for e in toggle] == [{"status": "resolved"}]


async def test_close_mails_the_transcript_to_the_contacts_address_by_default(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    """No ``transcript_email`` (the close dialog's default): the contact's stored e-mail,
    as the protocol says; a contact without one is refused before anything is resolved."""
    await backend.close("102", m.CloseRequest(send_transcript=True))
    assert fake.transcripts == [(102, "carla@example.com")]
    assert fake.conversations[102]["status"] == "resolved"
    with pytest.raises(BackendError, match="none in Chatwoot"):
        await backend.close("105", m.CloseRequest(send_transcript=True))
    assert fake.conversations[105]["status"] == "open"
    assert fake.transcripts == [(102, "carla@example.com")]


async def test_typing_and_mark_read(backend: ChatwootBackend, fake: FakeChatwoot) -> None:
    await backend.set_typing("102", True)
    await backend.set_typing("102", False)
    await backend.mark_read("102")
    assert fake.typing == [(102, "on", False), (102, "off", False)]
    assert fake.last_seen == [102]


async def test_customer_profile_tags_notes_history(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()
    customer = await backend.get_customer("11")
    assert customer.name == "Carla <b>Customer</b>" and customer.email == "carla@example.com"
    assert customer.tags == ["vip"]
    assert customer.custom_fields == {"plan": "pro", "seats": "5", "trial": "no"}
    assert customer.account == {
        "company_name": "Acme",
        "city": "Seoul",
        "phone": "+821012345678",
        "identifier": "crm-11",
    }
    tagged = await backend.set_customer_tags("11", ["vip", "refund"])
    assert tagged.tags == ["vip", "refund"] and fake.contacts[11]["labels"] == ["vip", "refund"]

    assert await backend.list_customer_notes("11") == []
    first = await backend.add_customer_note("11", "Prefers e-mail")
    second = await backend.add_customer_note("11", "Called twice")
    assert (first.author_id, first.author_name, first.customer_id) == ("1", "Ana", "11")
    notes = await backend.list_customer_notes("11")
    assert [n.body for n in notes] == [
        "Called twice",
        "Prefers e-mail",
    ]  # newest first, as Chatwoot
    assert second.id == notes[0].id
    posted = [e.body for e in fake.log if e.path.endswith("/notes") and e.method == "POST"]
    assert posted == [
        {"note": {"content": "Prefers e-mail"}},
        {"note": {"content": "Called twice"}},
    ]

    history = await backend.list_customer_conversations("11")
    assert [c.id for c in history] == ["101", "102"]


async def test_canned_replies_search_and_create(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    everything = await backend.list_canned_replies()
    assert [(c.shortcut, c.body) for c in everything][:2] == [
        ("hello", "Hi {customer.name}!"),
        ("bye", "Have a nice day."),
    ]
    found = await backend.list_canned_replies("hello")
    assert [c.shortcut for c in found] == ["hello", "refund"]  # short-code prefix first
    assert ("search", "hello") in fake.log[-1].query
    created = await backend.create_canned_reply(
        m.CannedReplyCreate(title="Thanks a lot", body="Thank you!")
    )
    assert (created.title, created.shortcut, created.body) == (
        "thanks_a_lot",
        "thanks_a_lot",
        "Thank you!",
    )
    with pytest.raises(BackendError, match="already been taken") as err:
        await backend.create_canned_reply(
            m.CannedReplyCreate(title="x", shortcut="bye", body="again")
        )
    assert err.value.status == 422


async def test_departments_queues_agents(backend: ChatwootBackend, fake: FakeChatwoot) -> None:
    assert [(d.id, d.name) for d in await backend.list_departments()] == [
        ("1", "Billing"),
        ("2", "Tech"),
    ]
    queues = {q.department_id: (q.waiting, q.active) for q in (await backend.queues()).items}
    assert queues == {"1": (1, 0), "2": (0, 1)}
    agents = {
        a.agent_id: (a.name, a.status, a.load, a.capacity) for a in (await backend.agents()).items
    }
    assert agents == {
        "1": ("Ana", "online", 1, 3),
        "2": ("Bo", "away", 1, 3),
        "3": ("Cy", "online", 0, 3),
    }


async def test_bad_token_is_fatal(fake: FakeChatwoot) -> None:
    b = ChatwootBackend(BASE, "wrong", ACCOUNT_ID, transport=fake.transport())
    states: list[ConnectionPhase] = []
    b.on_connection_change(lambda s: states.append(s.phase))
    try:
        with pytest.raises(AuthError, match="did not accept your access token") as err:
            await b.connect()
    finally:
        await b.aclose()
    assert err.value.status == 401
    assert b.connection.phase == ConnectionPhase.AUTH_FAILED and states == [
        ConnectionPhase.AUTH_FAILED
    ]


async def test_401_elsewhere_is_an_auth_error_but_not_fatal(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()
    fake.tokens = {}  # revoked (or, in real Chatwoot, a permission denial: also 401)
    with pytest.raises(AuthError, match="may not be allowed"):
        await backend.list_conversations()
    assert backend.connection.phase != ConnectionPhase.AUTH_FAILED
    with pytest.raises(AuthError):
        await backend.me()  # the profile check tells them apart
    assert backend.connection.phase == ConnectionPhase.AUTH_FAILED


async def test_wrong_account_is_fatal(fake: FakeChatwoot) -> None:
    b = ChatwootBackend(BASE, TOKEN, 99, transport=fake.transport())
    try:
        with pytest.raises(AuthError, match="not a member of account 99"):
            await b.connect()
    finally:
        await b.aclose()
    assert b.connection.phase == ConnectionPhase.AUTH_FAILED


async def test_server_errors_and_unreachable_are_sentences(fake: FakeChatwoot) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    b = ChatwootBackend(BASE, TOKEN, ACCOUNT_ID, transport=httpx.MockTransport(boom))
    try:
        with pytest.raises(
            BackendError, match=r"Cannot reach Chatwoot at https://chatwoot\.test"
        ) as err:
            await b.connect()
        assert err.value.code == "unreachable"
    finally:
        await b.aclose()

    def limited(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "7"}, text="Retry later\n")

    b = ChatwootBackend(BASE, TOKEN, ACCOUNT_ID, transport=httpx.MockTransport(limited))
    try:
        with pytest.raises(BackendError, match="try again in 7 s") as err:
            await b.list_conversations()
        assert err.value.status == 429
    finally:
        await b.aclose()


def test_importing_and_constructing_loads_no_network_library() -> None:
    code = (
        "import sys\n"
        "from console.backends.chatwoot import ChatwootBackend\n"
        "ChatwootBackend('https://x.test', 't', 1)\n"
        "print(sorted(n for n in ('httpx', 'websockets') if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


async def test_outbox_permission_denial_fails_one_entry_revoked_token_pauses(
    fake: FakeChatwoot, tmp_path: Path
) -> None:
    b = ChatwootBackend(
        BASE,
        TOKEN,
        ACCOUNT_ID,
        transport=fake.transport(),
        outbox_path=tmp_path / "outbox.jsonl",
        backoff_base=0.01,
        backoff_cap=0.05,
    )
    try:
        await b.connect()
        fake.denied_conversations = {105}
        with pytest.raises(BackendError, match="not authorized to do this action") as err:
            await b.send_message("105", send("not my inbox", client_id="deny-1"))
        assert err.value.code == "forbidden"
        assert (
            await b.send_message("102", send("still fine", client_id="ok-1"))
        ).client_id == "ok-1"
        assert b.connection.phase != ConnectionPhase.AUTH_FAILED

        fake.tokens = {}  # now the token itself is revoked
        assert b.outbox is not None
        await b.outbox.enqueue("102", send("after revoke", client_id="rev-1"))
        for _ in range(200):
            if b.outbox.paused:
                break
            await asyncio.sleep(0.01)
        assert b.outbox.paused and b.connection.phase == ConnectionPhase.AUTH_FAILED
        assert [e.client_id for e in b.outbox.pending()] == ["rev-1"]
    finally:
        await b.aclose()
    assert [msg["content"] for msg in fake.messages[102]][-1] == "still fine"


async def test_canned_placeholders_translate_both_ways(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    from console.core.placeholders import fill

    fake.canned.append(
        {
            "id": 9,
            "account_id": ACCOUNT_ID,
            "short_code": "mix",
            "content": "{{ contact.first_name }}, {{agent.available_name}} here; "
            "call {{contact.phone_number}} about #{{conversation.id}} {x}",
        }
    )
    (mix,) = [c for c in await backend.list_canned_replies("mix")]
    assert mix.body == (
        "{customer.first_name}, {agent.name} here; "
        "call {{contact.phone_number}} about #{conversation.id} {x}"
    )
    # Known ones fill in the console; an unknown Liquid variable is left for the agent to fix.
    result = fill(
        mix.body, {"customer.first_name": "Carla", "agent.name": "Ana", "conversation.id": "101"}
    )
    assert result.text == "Carla, Ana here; call {contact.phone_number} about #101 {x}"

    await backend.create_canned_reply(
        m.CannedReplyCreate(
            title="greet",
            body="Hi {customer.first_name}, {agent.name} here. {{literal}} {unknown.thing}",
        )
    )
    assert fake.canned[-1]["content"] == (
        "Hi {{contact.first_name}}, {{agent.name}} here. {{literal}} {unknown.thing}"
    )


async def test_inbox_filter(fake: FakeChatwoot) -> None:
    b = ChatwootBackend(BASE, TOKEN, ACCOUNT_ID, inbox_ids=[4], transport=fake.transport())
    both = ChatwootBackend(BASE, TOKEN, ACCOUNT_ID, inbox_ids=[3, 4], transport=fake.transport())
    try:
        assert [c.id for c in (await b.list_conversations()).items] == ["104", "105"]
        assert ("inbox_id", "4") in fake.log[-1].query
        assert [c.id for c in await b.list_customer_conversations("12")] == ["104", "105"]
        queues = {q.department_id: (q.waiting, q.active) for q in (await b.queues()).items}
        assert queues == {"1": (0, 0), "2": (0, 1)}
        queues = {q.department_id: (q.waiting, q.active) for q in (await both.queues()).items}
        assert queues == {"1": (1, 0), "2": (0, 1)}
        assert len((await both.list_conversations()).items) == 5
        assert all(name != "inbox_id" for name, _ in fake.log[-1].query)
    finally:
        await b.aclose()
        await both.aclose()
