"""The client store: ordering, dedupe, outbox entries, counters, timers, selectors. No network."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from console.core.reducers import Area, Change, Delivery
from console.core.sanitize import ESC_PLACEHOLDER
from console.core.store import TYPING_TTL, Store
from console.protocol import models as m
from tests.core.safety import assert_terminal_safe

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ME = m.Me(id="ag_me", name="Mina", role="agent", status="online")
_seq = 0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def event(kind: str, data: msgspec.Struct | dict[str, Any], when: datetime = T0) -> m.Event:
    global _seq
    _seq += 1
    payload = data if isinstance(data, dict) else m.to_builtins(data)
    return m.Event(seq=_seq, type=kind, at=when, data=payload)


def conv(cid: str = "c1", **kw: Any) -> m.Conversation:
    fields: dict[str, Any] = {
        "id": cid,
        "customer_id": f"cu_{cid}",
        "customer_name": "Kim Minji",
        "department_id": "d1",
        "state": "active",
        "assignee_id": ME.id,
        "created_at": T0,
        "assigned_at": T0,
    }
    fields.update(kw)
    return m.Conversation(**fields)


def msg(
    mid: str, seconds: float, cid: str = "c1", kind: m.AuthorKind = "customer", **kw: Any
) -> m.Message:
    fields: dict[str, Any] = {
        "id": mid,
        "conversation_id": cid,
        "author_kind": kind,
        "author_id": ME.id if kind == "agent" else f"cu_{cid}",
        "body": f"body {mid}",
        "created_at": at(seconds),
    }
    fields.update(kw)
    return m.Message(**fields)


def fresh() -> Store:
    store = Store(me=ME)
    store.upsert_conversation(conv())
    return store


def bodies(store: Store, cid: str = "c1") -> list[str]:
    return [s.body for s in store.messages(cid)]


# --------------------------------------------------------------------------- messages


def test_messages_are_ordered_by_time_then_id_and_deduplicated() -> None:
    store = fresh()
    for message in [msg("m3", 30), msg("m1", 10), msg("m2b", 20), msg("m2a", 20), msg("m1", 10)]:
        store.apply(event("message.created", message), now=at(40))
    assert [s.id for s in store.messages("c1")] == ["m1", "m2a", "m2b", "m3"]
    before = store.transcript("c1").revision
    assert not store.apply(event("message.created", msg("m3", 30)), now=at(41))
    assert store.transcript("c1").revision == before


def test_history_pages_merge_with_live_messages() -> None:
    store = fresh()
    store.apply(event("message.created", msg("m5", 50)), now=at(50))
    change = store.load_messages(
        "c1", m.MessagePage(items=[msg("m3", 30), msg("m4", 40), msg("m5", 50)], has_more=True)
    )
    assert change.transcripts == {"c1"}
    store.load_messages("c1", m.MessagePage(items=[msg("m1", 10), msg("m2", 20)], has_more=False))
    transcript = store.transcript("c1")
    assert [s.id for s in transcript] == ["m1", "m2", "m3", "m4", "m5"]
    assert transcript.has_more_before is False
    assert transcript.oldest_id == "m1" and transcript.newest_id == "m5"
    assert transcript[0].id == "m1" and transcript[-1].id == "m5" and len(transcript) == 5


def test_pending_message_is_replaced_by_its_server_echo() -> None:
    store = fresh()
    store.apply(event("message.created", msg("m1", 10)), now=at(10))
    change = store.add_pending("c1", "cl-1", "On it!", internal=False, now=at(12))
    assert change.transcripts == {"c1"}
    pending = store.messages("c1")[-1]
    assert pending.delivery is Delivery.PENDING and pending.key == "pending:cl-1"
    assert store.pending("cl-1") is not None

    echo = msg("m2", 11, kind="agent", body="On it!", client_id="cl-1")
    store.apply(event("message.created", echo), now=at(13))
    assert [(s.id, s.delivery) for s in store.messages("c1")] == [
        ("m1", Delivery.SENT),
        ("m2", Delivery.SENT),
    ]
    assert store.pending("cl-1") is None
    # The POST answer arriving after the echo changes nothing.
    assert not store.mark_sent("cl-1", echo)
    # A late failure report for a delivered message is ignored.
    assert not store.mark_failed("cl-1", "timeout")
    # The outbox re-announcing it after a restart does not resurrect it.
    assert not store.add_pending("c1", "cl-1", "On it!", now=at(14))
    assert len(store.messages("c1")) == 2


def test_pending_stays_after_confirmed_messages_and_can_fail_retry_and_discard() -> None:
    store = fresh()
    store.add_pending("c1", "cl-1", "first", now=at(5))
    store.add_pending("c1", "cl-2", "second", now=at(6))
    store.apply(event("message.created", msg("m1", 100)), now=at(100))
    assert bodies(store) == ["body m1", "first", "second"]

    store.mark_failed("cl-1", "The server refused the message\x1b[31m")
    failed = store.pending("cl-1")
    assert failed is not None and failed.delivery is Delivery.FAILED
    assert failed.error == f"The server refused the message{ESC_PLACEHOLDER}"
    assert bodies(store) == ["body m1", "first", "second"]  # position kept

    store.retry_pending("cl-1")
    retried = store.pending("cl-1")
    assert retried is not None and retried.delivery is Delivery.PENDING and retried.error == ""

    assert store.discard_pending("cl-2").transcripts == {"c1"}
    assert bodies(store) == ["body m1", "first"]
    assert not store.discard_pending("cl-2")


def test_mark_sent_confirms_without_waiting_for_the_echo() -> None:
    store = fresh()
    store.add_pending("c1", "cl-9", "hello", now=at(1))
    answer = msg("m9", 1, kind="agent", body="hello", client_id=None)
    store.mark_sent("cl-9", answer)
    [only] = store.messages("c1")
    assert only.id == "m9" and only.client_id == "cl-9" and only.delivery is Delivery.SENT
    assert (
        store.apply(event("message.created", msgspec.structs.replace(answer, client_id="cl-9")))
        == Change()
    )


def test_history_page_containing_the_pending_message_replaces_it() -> None:
    store = fresh()
    store.add_pending("c1", "cl-3", "typed offline", now=at(5))
    page = m.MessagePage(items=[msg("m7", 6, kind="agent", body="typed offline", client_id="cl-3")])
    store.load_messages("c1", page, older=False)
    assert [(s.id, s.delivery) for s in store.messages("c1")] == [("m7", Delivery.SENT)]


def test_clear_conversations_keeps_pending_sends() -> None:
    store = fresh()
    store.apply(event("message.created", msg("m1", 1)), now=at(1))
    store.add_pending("c1", "cl-1", "still mine", now=at(2))
    change = store.clear_conversations()
    assert "c1" in change.conversations and Area.CONVERSATIONS in change.areas
    assert store.conversation("c1") is None
    assert bodies(store) == ["still mine"]


# --------------------------------------------------------------------------- sanitizing on ingest


def test_every_ingested_string_is_sanitized() -> None:
    store = Store(me=ME)
    store.upsert_conversation(
        conv(customer_name="Evil\x1b]0;pwned\x07\nName", department_name="Sales\u202e")
    )
    store.apply(
        event(
            "message.created", msg("m1", 1, body="hi\x1b[2J there\r\nbye", author_name="A\u200bB")
        )
    )
    entry = store.conversation("c1")
    assert entry is not None and entry.conversation is not None
    assert entry.customer_name == f"Evil{ESC_PLACEHOLDER} Name"
    assert entry.conversation.department_name == "Sales⟨U+202E⟩"
    [stored] = store.messages("c1")
    assert stored.body == f"hi{ESC_PLACEHOLDER} there\nbye"
    assert stored.message.author_name == "A⟨U+200B⟩B"
    store.add_pending("c1", "cl-1", "pasted\x07bell", now=at(2))
    assert store.messages("c1")[-1].body == "pasted⟨U+0007⟩bell"


def test_customer_and_notes_are_sanitized() -> None:
    store = Store(me=ME)
    customer = m.Customer(
        id="cu1",
        name="Lee\x9b2J",
        account={"plan\n": "Pro\x1b[5m"},
        tags=["vip\u2066"],
        created_at=T0,
    )
    store.apply(event("customer.updated", customer))
    got = store.customer("cu1")
    assert got is not None
    assert got.name == f"Lee{ESC_PLACEHOLDER}"
    assert got.account == {"plan": f"Pro{ESC_PLACEHOLDER}"}
    assert got.tags == ["vip⟨U+2066⟩"]
    note = m.CustomerNote(
        id="n1",
        customer_id="cu1",
        author_id="a",
        author_name="Bo",
        body="two\nlines\x00",
        created_at=T0,
    )
    change = store.apply(event("customer.note_created", note))
    assert change.customers == {"cu1"}
    assert [n.body for n in store.customer_notes("cu1")] == ["two\nlines⟨U+0000⟩"]
    assert not store.apply(event("customer.note_created", note))


# --------------------------------------------------------------------------- counters and timers


def test_unread_counts_others_messages_and_resets_on_mark_read() -> None:
    store = fresh()
    store.apply(event("message.created", msg("m1", 1)), now=at(1))
    store.apply(event("message.created", msg("m2", 2)), now=at(2))
    store.apply(event("message.created", msg("m3", 3, kind="agent")), now=at(3))  # mine
    store.apply(
        event("message.created", msg("m4", 4, kind="agent", author_id="ag_other", internal=True))
    )
    assert store.unread("c1") == 3
    assert store.total_unread(ME.id) == 3
    assert store.mark_read("c1").conversations == {"c1"}
    assert store.unread("c1") == 0
    assert not store.mark_read("c1")


def test_history_pages_do_not_count_as_unread_but_catch_up_pages_do() -> None:
    store = fresh()
    store.load_messages("c1", m.MessagePage(items=[msg("m1", 1), msg("m2", 2)]))
    assert store.unread("c1") == 0
    store.load_messages("c1", m.MessagePage(items=[msg("m3", 3), msg("m4", 4)]), older=False)
    assert store.unread("c1") == 2


def test_waiting_since_starts_at_first_unanswered_customer_message_and_stops_on_reply() -> None:
    store = fresh()
    store.apply(event("message.created", msg("m1", 10)), now=at(10))
    store.apply(event("message.created", msg("m2", 20)), now=at(20))
    entry = store.conversation("c1")
    assert entry is not None
    assert entry.waiting_since == at(10)
    assert entry.waiting_seconds(at(70)) == 60
    assert entry.first_response_seconds(at(70)) == 70  # running since created_at
    assert not entry.first_response_done

    store.apply(event("message.created", msg("m3", 30, kind="agent", internal=True)), now=at(30))
    entry = store.conversation("c1")
    assert entry is not None and entry.waiting_since == at(10)  # a note is not a reply

    store.apply(event("message.created", msg("m4", 40, kind="agent")), now=at(40))
    entry = store.conversation("c1")
    assert entry is not None
    assert entry.waiting_since is None and entry.waiting_seconds(at(100)) == 0
    assert entry.first_response_at == at(40)
    assert entry.first_response_seconds(at(999)) == 40

    store.apply(event("message.created", msg("m5", 50)), now=at(50))
    entry = store.conversation("c1")
    assert entry is not None and entry.waiting_since == at(50) and entry.first_response_at == at(40)


def test_server_conversation_timer_fields_win() -> None:
    store = fresh()
    store.apply(event("message.created", msg("m1", 10)), now=at(10))
    store.apply(event("conversation.updated", conv(waiting_since=at(5), first_response_at=None)))
    entry = store.conversation("c1")
    assert entry is not None and entry.waiting_since == at(5)


def test_severity_is_the_max_over_recent_customer_messages() -> None:
    store = fresh()
    store.apply(
        event("message.created", msg("m1", 1, body="I want to speak to a manager")), now=at(1)
    )
    entry = store.conversation("c1")
    assert entry is not None and entry.severity == 3
    stored = store.messages("c1")[0]
    assert stored.triggers.spans and stored.body[stored.triggers.spans[0].start :].startswith(
        "speak"
    )
    for i in range(2, 7):
        store.apply(event("message.created", msg(f"m{i}", i, body="ok thanks")), now=at(i))
    entry = store.conversation("c1")
    assert entry is not None and entry.severity == 0  # five calm messages later
    # Agent messages never carry triggers.
    store.apply(
        event("message.created", msg("m9", 9, kind="agent", body="I understand you are angry"))
    )
    assert store.messages("c1")[-1].triggers.severity == 0


def test_severity_is_recomputed_from_loaded_history() -> None:
    store = fresh()
    store.load_messages(
        "c1", m.MessagePage(items=[msg("m1", 1, body="짜증나요 진짜"), msg("m2", 2, body="네")])
    )
    entry = store.conversation("c1")
    assert entry is not None and entry.severity == 1


def test_an_agent_reply_clears_the_severity_and_a_new_trigger_brings_it_back() -> None:
    """The trigger badge is for unanswered messages: a visible reply clears it, a note does not."""
    store = fresh()
    store.apply(event("message.created", msg("m1", 1, body="This is unacceptable")), now=at(1))
    entry = store.conversation("c1")
    assert entry is not None and entry.severity == 2
    store.apply(event("message.created", msg("m2", 2, kind="agent", internal=True)), now=at(2))
    entry = store.conversation("c1")
    assert entry is not None and entry.severity == 2  # an internal note is not an answer
    store.apply(event("message.created", msg("m3", 3, kind="agent", body="Sorry!")), now=at(3))
    entry = store.conversation("c1")
    assert entry is not None and entry.severity == 0
    store.apply(event("message.created", msg("m4", 4, body="ok thanks")), now=at(4))
    entry = store.conversation("c1")
    assert entry is not None and entry.severity == 0
    store.apply(event("message.created", msg("m5", 5, body="Where is it???")), now=at(5))
    entry = store.conversation("c1")
    assert entry is not None and entry.severity == 1


def test_loaded_history_counts_only_triggers_after_the_last_reply() -> None:
    store = fresh()
    store.load_messages(
        "c1",
        m.MessagePage(
            items=[
                msg("m1", 1, body="짜증나요 진짜"),
                msg("m2", 2, kind="agent", body="죄송합니다"),
                msg("m3", 3, body="네"),
            ]
        ),
    )
    entry = store.conversation("c1")
    assert entry is not None and entry.severity == 0


def test_typing_expires_and_clears_when_the_message_arrives() -> None:
    store = fresh()
    typing = m.TypingEvent(
        conversation_id="c1", author_kind="customer", author_name="Kim Minji", typing=True
    )
    change = store.apply(event("typing", typing), now=at(0))
    assert change.typing == {"c1"} and Area.TYPING in change.areas
    assert [t.author_name for t in store.typing("c1", at(1))] == ["Kim Minji"]
    assert store.typing("c1", at(0) + TYPING_TTL) == []
    assert not store.expire_typing(at(1))
    assert store.expire_typing(at(0) + TYPING_TTL).typing == {"c1"}

    store.apply(event("typing", typing), now=at(20))
    store.apply(event("message.created", msg("m1", 21, author_name="Kim")), now=at(21))
    assert store.typing("c1", at(22)) == []

    store.apply(event("typing", typing), now=at(30))
    store.apply(event("typing", msgspec.structs.replace(typing, typing=False)), now=at(31))
    assert store.typing("c1", at(31)) == []


# --------------------------------------------------------------------------- selectors


def test_queue_is_longest_wait_first_and_tracks_membership() -> None:
    store = Store(me=ME)
    store.upsert_conversation(conv("q2", state="queued", assignee_id=None, queued_at=at(20)))
    store.upsert_conversation(conv("q1", state="queued", assignee_id=None, queued_at=at(10)))
    store.upsert_conversation(
        conv("q3", state="queued", assignee_id=None, queued_at=at(30), department_id="d2")
    )
    assert [e.id for e in store.queue()] == ["q1", "q2", "q3"]
    assert [e.id for e in store.queue("d2")] == ["q3"]
    change = store.apply(
        event("conversation.updated", conv("q1", state="active", queued_at=at(10)))
    )
    assert Area.QUEUE in change.areas and Area.CONVERSATIONS in change.areas
    assert [e.id for e in store.queue()] == ["q2", "q3"]
    assert [e.id for e in store.active_for(ME.id)] == ["q1"]


def test_active_for_keeps_assignment_order_and_filters_by_agent() -> None:
    store = Store(me=ME)
    store.upsert_conversation(conv("b", assigned_at=at(20)))
    store.upsert_conversation(conv("a", assigned_at=at(10)))
    store.upsert_conversation(conv("x", assignee_id="ag_other"))
    store.upsert_conversation(conv("z", state="closed"))
    assert [e.id for e in store.active_for(ME.id)] == ["a", "b"]
    assert [e.id for e in store.active_for("ag_other")] == ["x"]


def test_most_at_risk_prefers_critical_then_weighted_waiting_time() -> None:
    store = Store(me=ME)
    for cid in ("calm", "long", "angry", "critical"):
        store.upsert_conversation(conv(cid))
    store.apply(event("message.created", msg("a", 0, cid="long", body="hello")), now=at(0))
    store.apply(event("message.created", msg("b", 100, cid="angry", body="this is unacceptable")))
    assert store.most_at_risk(at(130)).id == "long"  # 130 s vs 30 s x 3
    assert store.most_at_risk(at(130), agent_id="ag_other") is None
    store.apply(
        event("message.created", msg("c", 129, cid="critical", body="I will call my lawyer"))
    )
    assert [e.id for e in store.at_risk(at(130))][:1] == ["critical"]
    assert "calm" not in [e.id for e in store.at_risk(at(130))]


def test_message_for_an_unknown_conversation_reports_it_missing() -> None:
    store = Store(me=ME)
    change = store.apply(event("message.created", msg("m1", 1, cid="new")), now=at(1))
    assert change.missing == {"new"}
    assert store.conversation("new") is None and store.entry("new") is not None
    assert store.unread("new") == 1
    store.upsert_conversation(conv("new"))
    entry = store.conversation("new")
    assert entry is not None and entry.unread == 1


def test_resync_reports_conversations_missing_from_an_authoritative_list() -> None:
    store = Store(me=ME)
    store.upsert_conversation(conv("gone"))
    store.upsert_conversation(conv("kept"))
    change = store.load_conversations(
        m.ConversationPage(items=[conv("kept")]), authoritative_states=["active"]
    )
    assert change.missing == {"gone"}


def test_agents_queue_stats_and_me_follow_events() -> None:
    store = Store(me=ME)
    agent = m.Agent(id=ME.id, name="Mina", status="away", capacity=4, accepting=False)
    change = store.apply(event("agent.updated", agent))
    assert change.areas == {Area.AGENTS, Area.ME}
    assert store.me is not None and store.me.status == "away" and store.me.capacity == 4
    store.load_agents([m.Agent(id="b", name="Bo", status="online", capacity=3, accepting=True)])
    assert [a.name for a in store.agents()] == ["Bo", "Mina"]
    stats = m.QueueStats(department_id="d1", department_name="Sales", waiting=2, active=1)
    assert store.apply(event("queue.updated", stats)).areas == {Area.QUEUE_STATS}
    assert store.queue_stats()[0].waiting == 2


def test_unknown_and_malformed_events_change_nothing() -> None:
    store = fresh()
    assert store.apply(m.Event(seq=99, type="future.thing", at=T0, data={"x": 1})) == Change()
    assert store.apply(m.Event(seq=100, type="message.created", at=T0, data={"id": 5})) == Change()
    assert store.last_seq == 100


def test_change_union_and_touches() -> None:
    a = Change(conversations=frozenset({"c1"}))
    b = Change(areas=frozenset({Area.QUEUE}), typing=frozenset({"c2"}))
    merged = Change.merge([a, b, Change()])
    assert merged.touches("c1") and merged.touches("c2") and not merged.touches("c3")
    assert Area.QUEUE in merged.areas
    assert not Change() and merged


# --------------------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 30), st.integers(0, 1000)),
        min_size=1,
        max_size=40,
    ),
    st.randoms(use_true_random=False),
)
def test_any_delivery_order_gives_the_same_sorted_unique_transcript(
    items: list[tuple[int, int]], rnd: Any
) -> None:
    messages = [msg(f"m{mid:02d}", ts) for mid, ts in {mid: ts for mid, ts in items}.items()]
    deliveries = messages + rnd.sample(messages, k=len(messages) // 2)  # with duplicates
    rnd.shuffle(deliveries)
    store = fresh()
    for i, message in enumerate(deliveries):
        if i % 3 == 0:
            store.load_messages("c1", m.MessagePage(items=[message]))
        else:
            store.apply(event("message.created", message), now=at(2000))
    got = [(s.created_at, s.id) for s in store.messages("c1")]
    assert got == sorted({(x.created_at, x.id) for x in messages})


def test_resync_event_replaces_open_conversations_and_marks_transcripts_stale() -> None:
    store = fresh()
    store.upsert_conversation(conv("closed-meanwhile"))
    store.load_messages("c1", m.MessagePage(items=[msg("m1", 1)]))
    resync = m.Resync(
        reason="reset", last_seq=500, conversations=[conv("c1"), conv("new", state="queued")]
    )
    change = store.apply(
        m.Event(seq=500, type=m.RESYNC_EVENT_TYPE, at=T0, data=m.to_builtins(resync))
    )
    assert change.missing == {"closed-meanwhile"}
    assert "c1" in change.transcripts and Area.QUEUE in change.areas
    assert store.transcript("c1").stale
    assert [e.id for e in store.queue()] == ["new"]
    store.load_messages("c1", m.MessagePage(items=[msg("m2", 2)], has_more=False), older=False)
    assert not store.transcript("c1").stale
    assert [s.id for s in store.messages("c1")] == ["m1", "m2"]


def _snapshot(store: Store) -> object:
    return (
        [(s.key, s.delivery, s.body) for cid in ("c1", "c2") for s in store.messages(cid)],
        [
            (e.id, e.unread, e.waiting_since, e.first_response_at, e.severity)
            for e in store.conversations()
        ],
    )


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["c1", "c2"]),
            st.sampled_from(["customer", "agent"]),
            st.integers(0, 50),
            st.sampled_from(["ok", "this is unacceptable", "환불해 주세요", "thanks!!!"]),
        ),
        max_size=25,
    )
)
def test_replaying_the_same_events_changes_nothing(
    specs: list[tuple[str, m.AuthorKind, int, str]],
) -> None:
    store = Store(me=ME)
    store.upsert_conversation(conv("c1"))
    store.upsert_conversation(conv("c2"))
    events = [
        event("message.created", msg(f"m{i}", ts, cid=cid, kind=kind, body=body))
        for i, (cid, kind, ts, body) in enumerate(specs)
    ]
    for e in events:
        store.apply(e, now=at(100))
    first = _snapshot(store)
    for e in events:
        assert not store.apply(e, now=at(200))
    assert _snapshot(store) == first


hostile_strings = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "\x1b[2J",
                "\x1b]52;c;ZXZpbA==\x07",
                "\u202e",
                "\u200b",
                "\x9b1m",
                "\r\n",
                "\t",
                "\x00",
                "[/]",
                "\U000e0041",
            ]
        ),
        st.characters(),
    ),
    min_size=1,
    max_size=12,
).map("".join)


def _all_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, msgspec.Struct):
        return [s for name in value.__struct_fields__ for s in _all_strings(getattr(value, name))]
    if isinstance(value, list):
        return [s for v in value for s in _all_strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in (*_all_strings(k), *_all_strings(v))]
    return []


@settings(max_examples=60, deadline=None)
@given(hostile_strings, hostile_strings, hostile_strings)
def test_no_hostile_character_survives_anywhere_in_the_store(a: str, b: str, c: str) -> None:
    store = Store(me=m.Me(id="me", name=a, role="agent"))
    raw_conv = conv(
        "c1", customer_name=a, customer_email=b, department_name=c, page_url=a, prechat={a: b}
    )
    store.apply(event("conversation.created", raw_conv))
    attachment = m.Attachment(id="at", filename=b, content_type=c, size=1, url=a)
    store.apply(
        event(
            "message.created",
            msg("m1", 1, body=a + "\n" + b, author_name=c, attachments=[attachment]),
        )
    )
    store.apply(
        event(
            "customer.updated",
            m.Customer(
                id="cu_c1",
                name=a,
                email=b,
                account={b: c},
                custom_fields={c: a},
                tags=[a, b],
                activity=[m.Activity(at=T0, kind=b, text=c)],
                created_at=T0,
            ),
        )
    )
    store.apply(
        event(
            "typing",
            m.TypingEvent(conversation_id="c1", author_kind="customer", author_name=b, typing=True),
        ),
        now=T0,
    )
    store.apply(
        event("agent.updated", m.Agent(id="x", name=c, status="online", capacity=3, accepting=True))
    )
    store.add_pending("c1", "cl", b, now=T0)
    store.mark_failed("cl", c)

    entry = store.conversation("c1")
    assert entry is not None
    found = [*_all_strings(entry.conversation), entry.last_preview]
    for stored in store.messages("c1"):
        found += [*_all_strings(stored.message), stored.error]
    found += _all_strings(store.customer("cu_c1")) + _all_strings(store.me)
    found += [t.author_name for t in store.typing("c1", T0)]
    found += [s for agent in store.agents() for s in _all_strings(agent)]
    assert found
    for text in found:
        assert_terminal_safe(text)


def test_language_of_follows_the_customers_latest_messages() -> None:
    store = fresh()
    assert store.language_of("c1") == "en"
    assert store.language_of("c1", default="ja") == "ja"
    store.apply(event("message.created", msg("m1", 1, body="hello")), now=at(1))
    assert store.language_of("c1") == "en"
    store.apply(event("message.created", msg("m2", 2, body="안녕하세요")), now=at(2))
    store.apply(event("message.created", msg("m3", 3, body="👍")), now=at(3))
    store.apply(event("message.created", msg("m4", 4, kind="agent", body="Hello!")), now=at(4))
    assert store.language_of("c1") == "ko"
    other = Store(me=ME)
    other.upsert_conversation(conv("c9", prechat={"질문": "배송 문의"}))
    assert other.language_of("c9") == "ko"
