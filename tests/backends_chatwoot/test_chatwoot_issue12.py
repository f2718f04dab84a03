"""Issue 12: one test (or more) per numbered item, against the fake built from Chatwoot's source.

Events are the ones the fake broadcasts for what happened (``fake.events``),
built as ``EventDataPresenter#push_data`` / ``Message#push_event_data`` build
them, and fed to :meth:`ChatwootBackend.map_cable_event` for the agent who
would receive them.  ``test_chatwoot_consoles.py`` runs the same over the
loopback cable and through the consoles.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from console.backends.base import AuthError, BackendError
from console.backends.chatwoot import ChatwootBackend, RateLimitedError, same_rendered_body
from console.protocol import models as m
from tests.backends_chatwoot._fake import ACCOUNT_ID, ADMIN_TOKEN, TOKEN, FakeChatwoot
from tests.backends_chatwoot.conftest import BASE


def send(body: str, *, client_id: str = "c-1", internal: bool = False) -> m.SendMessage:
    return m.SendMessage(client_id=client_id, body=body, internal=internal)


def feed(backend: ChatwootBackend, fake: FakeChatwoot, user: int = 1) -> list[tuple[str, Any]]:
    """The protocol events ``user``'s backend makes of everything broadcast so far."""
    out: list[tuple[str, Any]] = []
    for name, data, to in fake.events:
        if user in to:
            out += backend.map_cable_event(name, data)
    fake.events.clear()
    return out


def conversations(events: list[tuple[str, Any]], cid: str) -> list[dict[str, Any]]:
    return [d for k, d in events if k.startswith("conversation.") and d["id"] == cid]


async def admin(fake: FakeChatwoot) -> ChatwootBackend:
    bo = ChatwootBackend(BASE, ADMIN_TOKEN, ACCOUNT_ID, transport=fake.transport())
    await bo.connect()
    return bo


# ---------------------------------------------------------------- 1. ISO first_reply_created_at


async def test_1_events_of_an_answered_chat_are_not_dropped(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()
    await backend.send_message("102", send("On it"))  # Ana's first reply
    fake.events.clear()
    bo = await admin(fake)
    try:
        await bo.transfer("102", m.TransferRequest(agent_id="2"))  # Bo takes it over
    finally:
        await bo.aclose()
    names = [name for name, _, to in fake.events if 1 in to]
    assert "assignee.changed" in names
    raw = next(d for n, d, _ in fake.events if n == "assignee.changed")
    assert isinstance(raw["first_reply_created_at"], str)  # the raw datetime, ISO-8601
    updates = conversations(feed(backend, fake), "102")
    assert updates and all(u["assignee_id"] == "2" for u in updates)
    assert updates[-1]["first_response_at"] is not None


def test_1_one_odd_field_does_not_drop_the_event(fake: FakeChatwoot) -> None:
    backend = ChatwootBackend(BASE, TOKEN, ACCOUNT_ID, transport=fake.transport())
    data = fake.push_data(101) | {"unread_count": "many", "waiting_since": {"odd": 1}}
    data["meta"]["team"] = {"id": 1, "name": ["not", "text"]}
    [(kind, conv)] = backend.map_cable_event("conversation.updated", data)
    assert (kind, conv["id"], conv["state"], conv["department_id"]) == (
        "conversation.updated",
        "101",
        "queued",
        "1",
    )


# ---------------------------------------------------------------- 2. top-level channel


def test_2_channel_is_read_from_the_top_of_an_event(fake: FakeChatwoot) -> None:
    backend = ChatwootBackend(BASE, TOKEN, ACCOUNT_ID, transport=fake.transport())
    data = fake.push_data(105)  # inbox 4 is WhatsApp
    assert "channel" not in data["meta"]
    [(_, conv)] = backend.map_cable_event("conversation.updated", data)
    assert conv["channel"] == "whatsapp"


# ---------------------------------------------------------------- 3. AgentBot assignee


async def test_3_a_chat_assigned_to_an_agent_bot_is_not_the_user_with_that_id(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    fake.users[9] = dict(fake.users[1], id=9, name="Nine", available_name="Nine")
    fake.assign_bot(101, 9)  # AgentBot 9; user 9 also exists
    conv = conversations(feed(backend, fake), "101")[-1]
    assert (conv["state"], conv["assignee_id"]) == ("bot", None)
    rest = await backend.get_conversation("101")
    assert (rest.state, rest.assignee_id) == ("bot", None)
    queued = await backend.list_conversations(state="queued")
    assert "101" in [c.id for c in queued.items]  # a re-list keeps it (as "bot")
    del fake.users[9]


# ---------------------------------------------------------------- 4. assignable agents


async def test_4_transfer_targets_are_the_inbox_members_and_admins(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()
    targets = await backend.transfer_targets("101")  # inbox 3: Ana; Bo is an admin
    assert sorted(a.agent_id for a in targets) == ["1", "2"]
    with pytest.raises(BackendError, match="not a member of this chat's inbox") as caught:
        await backend.transfer("101", m.TransferRequest(agent_id="3"))  # Cy: inbox 5 only
    assert caught.value.code == "not_assignable"
    assert not [e for e in fake.mutations() if e.path.endswith("/assignments")]
    assert fake.conversations[101]["assignee"] is None


# ---------------------------------------------------------------- 5. 200 null


async def test_5_an_unknown_assignee_or_team_is_a_failure_not_success(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()
    with pytest.raises(BackendError, match="does not know that agent"):
        await backend._assign("102", {"assignee_id": 99})
    assert fake.conversations[102]["assignee"] is None  # Chatwoot did unassign it
    with pytest.raises(BackendError, match="does not know that team"):
        await backend._assign("101", {"team_id": 99})
    assert fake.conversations[101]["team"] is None
    # transfer() checks first, so it never gets there.
    fake.log.clear()
    with pytest.raises(BackendError, match="no team with id 77"):
        await backend.transfer("102", m.TransferRequest(department_id="77"))
    assert not fake.mutations()


# ---------------------------------------------------------------- 6. team auto-assign


async def test_6_team_transfer_lets_chatwoot_auto_assign(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    fake.teams[2]["members"] = [2, 3]
    fake.inboxes[3]["members"].add(3)  # Cy: online, in Tech and in the chat's inbox
    await backend.connect()
    conv = await backend.transfer("102", m.TransferRequest(department_id="2"))
    assert (conv.department_name, conv.assignee_id, conv.assignee_name) == ("Tech", "3", "Cy")
    assert [e.body for e in fake.mutations() if e.path.endswith("/assignments")] == [{"team_id": 2}]
    activity = [msg["content"] for msg in fake.messages[102] if msg["message_type"] == 2]
    assert activity == ["Assigned to Cy Agent via Tech by Ana Agent"]


async def test_6_team_transfer_from_a_member_goes_to_the_teams_queue(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()  # Ana is in Billing (auto-assign off); she has 102
    conv = await backend.transfer("102", m.TransferRequest(department_id="1"))
    assert (conv.department_name, conv.assignee_id, conv.state) == ("Billing", None, "queued")
    assert [e.body for e in fake.mutations() if e.path.endswith("/assignments")] == [
        {"team_id": 1},
        {"assignee_id": None},
    ]


# ---------------------------------------------------------------- 7. no presence when read-only


@pytest.mark.parametrize(("readonly", "presence"), [(True, False), (False, None)])
def test_7_a_read_only_chatwoot_console_sends_no_presence(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, readonly: bool, presence: bool | None
) -> None:
    import console.backends as backends
    from console.cli import build_parser, prepare_console

    seen: list[dict[str, Any]] = []

    def fake_load_backend(kind: str, **options: Any) -> Any:
        seen.append(options)
        raise ValueError("stop here")

    monkeypatch.setattr(backends, "load_backend", fake_load_backend)
    monkeypatch.setenv("AGENT_CONSOLE_TOKEN", "tok")
    config = tmp_path / "config.toml"
    config.write_text(
        'default_profile = "cw"\n[profiles.cw]\nurl = "https://c.example"\n'
        f'backend = "chatwoot"\naccount_id = 3\nreadonly = {str(readonly).lower()}\n',
        encoding="utf-8",
    )
    args: argparse.Namespace = build_parser().parse_args(["--config", str(config)])
    with pytest.raises(SystemExit):
        prepare_console(args, interactive=False)
    assert seen[0].get("send_presence") is presence


# ---------------------------------------------------------------- 8. message.updated, can_reply


async def test_8_failed_delivery_and_deletion_reach_the_transcript(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()
    sent = await backend.send_message("105", send("Here is your refund"))
    fake.events.clear()
    fake.fail_delivery(int(sent.id), "Message failed: outside the 24 hour window")
    fake.fail_delivery(int(sent.id), "Message failed: outside the 24 hour window")  # repeated
    fake.delete_message(int(sent.id))
    events = feed(backend, fake)
    bodies = [(d["id"], d["author_kind"], d["body"]) for _, d in events]
    assert [b[:2] for b in bodies] == [
        (f"{sent.id}:failed", "system"),
        (f"{sent.id}:deleted", "system"),
    ]
    assert "outside the 24 hour window" in bodies[0][2]
    assert all(k == "message.created" for k, _ in events)
    # A notice id may end a transcript: a catch-up with after=<it> still works.
    page = await backend.list_messages("105", after=f"{sent.id}:deleted")
    assert page.items == []


async def test_8_can_reply_false_refuses_replies_but_not_notes(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    await backend.connect()
    fake.conversations[105]["can_reply"] = False
    await backend.get_conversation("105")
    with pytest.raises(BackendError, match="reply window") as caught:
        await backend.send_message("105", send("Hello?"))
    assert caught.value.code == "cannot_reply"
    note = await backend.send_message("105", send("Ask on e-mail", client_id="n", internal=True))
    assert note.internal
    fake.conversations[105]["can_reply"] = True
    fake.conversation_changed(105)
    feed(backend, fake)
    assert (await backend.send_message("105", send("Back", client_id="b"))).body == "Back"


# ---------------------------------------------------------------- 9. snoozed


async def test_9_a_snoozed_chat_leaves_the_open_set_everywhere(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    fake.set_status(101, "snoozed", snoozed_until=fake.now + 3600)
    updates = conversations(feed(backend, fake), "101")
    assert updates and all(u["state"] == "closed" for u in updates)  # out of the queue now ...
    listed = [
        c.id
        for s in ("bot", "queued", "active")
        for c in (await backend.list_conversations(state=s)).items
    ]
    assert "101" not in listed  # ... and after a resync
    assert (await backend.get_conversation("101")).state == "closed"
    fake.customer_writes(101, "Hello again")  # Chatwoot reopens it
    fake.set_status(101, "open")
    assert conversations(feed(backend, fake), "101")[-1]["state"] == "queued"


# ---------------------------------------------------------------- 10. smaller ones


def test_10_liquid_rendered_bodies_match() -> None:
    assert same_rendered_body("Hi {{contact.first_name}}, done", "Hi Carla, done")
    assert same_rendered_body("Hi {{ unknown }}!", "Hi !")
    assert not same_rendered_body("Hi {{contact.first_name}}, done", "Hi Carla, not done")
    assert not same_rendered_body("a.b", "axb")  # literal text stays literal


async def test_10_resend_dedupe_sees_through_liquid(fake: FakeChatwoot, tmp_path: Path) -> None:
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
        fake.fail_next_post_after_store = 1
        sent = await b.send_message("102", send("Hi {{contact.name}}, refunded", client_id="l-1"))
    finally:
        await b.aclose()
    assert fake.message_posts == 1
    assert sent.body == "Hi Carla <b>Customer</b>, refunded" and sent.client_id == "l-1"


async def test_10_rest_messages_without_sender_id(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    page = await backend.list_messages("101")
    views = [fake.message_view(dict(row)) for row in fake.messages[101]]
    assert all("sender_id" not in v and "account_id" not in v for v in views)
    by_kind = {(msg.author_kind, msg.author_id) for msg in page.items}
    assert ("customer", "11") in by_kind and ("agent", "2") in by_kind


async def test_10_text_plain_429_without_retry_after(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    fake.rate_limited = 1
    with pytest.raises(RateLimitedError) as caught:
        await backend.get_conversation("101")
    assert caught.value.retry_after > 0 and "rate limiting" in str(caught.value)


async def test_10_message_create_error_body(backend: ChatwootBackend, fake: FakeChatwoot) -> None:
    fake.fail_next_message_create = "Too many messages"
    with pytest.raises(BackendError, match="Too many messages") as caught:
        await backend.send_message("102", send("flood"))
    assert caught.value.status == 422


async def test_10_a_dropped_token_header_is_named(
    backend: ChatwootBackend, fake: FakeChatwoot
) -> None:
    fake.drop_token_header = True
    with pytest.raises(AuthError) as caught:
        await backend.connect()
    text = str(caught.value)
    assert "api_access_token" in text and "underscores_in_headers" in text
    assert backend.connection.phase == "auth_failed"
