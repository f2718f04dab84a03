"""Precise changes (issue 10): what the Store names and how changes merge between flushes."""

from __future__ import annotations

import asyncio
from itertools import product

import pytest

from console.core.changes import ChangeCollector, Op, Rows, WorkspaceChanges, merge_op
from console.core.store import Store
from console.core.workspace import WorkspaceController
from console.protocol import models as m
from tests.core.test_boundary import FakeInner
from tests.core.test_store import ME, conv, event, msg

# --------------------------------------------------------------------------- merge rules

ADDED, UPDATED, REMOVED = Op.ADDED, Op.UPDATED, Op.REMOVED

# (earlier, later) -> net effect on a widget that saw neither
RULES = {
    (ADDED, ADDED): ADDED,
    (ADDED, UPDATED): ADDED,  # never shown: show the newest copy once
    (ADDED, REMOVED): None,  # never shown: nothing to do
    (UPDATED, ADDED): UPDATED,
    (UPDATED, UPDATED): UPDATED,
    (UPDATED, REMOVED): REMOVED,
    (REMOVED, ADDED): UPDATED,  # the widget still shows the old copy
    (REMOVED, UPDATED): UPDATED,
    (REMOVED, REMOVED): REMOVED,
}


@pytest.mark.parametrize(("earlier", "later"), list(product(Op, Op)))
def test_merge_op_follows_the_rules(earlier: Op, later: Op) -> None:
    assert merge_op(earlier, later) is RULES[(earlier, later)]
    assert merge_op(None, later) is later


def test_rows_merge_add_then_update_is_add_and_add_then_remove_is_nothing() -> None:
    assert Rows.of(added=["a"]) | Rows.of(updated=["a"]) == Rows.of(added=["a"])
    assert not (Rows.of(added=["a"]) | Rows.of(removed=["a"]))
    assert Rows.of(updated=["a"]) | Rows.of(removed=["a"]) == Rows.of(removed=["a"])
    assert Rows.of(removed=["a"]) | Rows.of(added=["a"]) == Rows.of(updated=["a"])
    both = Rows.of(added=["a", "b"]) | Rows.of(updated=["b", "c"], removed=["a"])
    assert both == Rows(added=frozenset({"b"}), updated=frozenset({"c"}))


def test_collector_merges_per_conversation_and_starts_empty_after_take() -> None:
    collector = ChangeCollector()
    collector.add(messages={"c1": Rows.of(added=["m1"])}, queue=Rows.of(added=["q1"]))
    collector.add(
        dirty=["c1"],
        messages={"c1": Rows.of(updated=["m1"], added=["m2"]), "c2": Rows.of(removed=["x"])},
        queue=Rows.of(removed=["q1"], updated=["q2"]),
    )
    collector.add(transcripts=["c3"])  # flags only: listed with no rows
    collector.mark_customer("u1")
    changes = collector.take()
    assert changes.messages == {
        "c1": Rows.of(added=["m1", "m2"]),
        "c2": Rows.of(removed=["x"]),
        "c3": Rows(),
    }
    assert changes.queue == Rows.of(updated=["q2"])
    assert changes.dirty == {"c1"} and changes.customers == {"u1"} and not changes.lists
    assert not collector and not collector.take()


# --------------------------------------------------------------------------- what the Store names


def test_a_live_message_names_itself_and_a_repeat_names_nothing() -> None:
    store = Store(me=ME)
    store.upsert_conversation(conv())
    change = store.apply(event("message.created", msg("m1", 1)))
    assert change.messages == {"c1": Rows.of(added=["m1"])}
    assert not change.queue
    assert not store.apply(event("message.created", msg("m1", 1)))


def test_a_reply_is_added_once_then_updated_by_its_delivery_under_one_key() -> None:
    store = Store(me=ME)
    store.upsert_conversation(conv())
    added = store.add_pending("c1", "k1", "hello")
    assert added.messages == {"c1": Rows.of(added=["client:k1"])}
    failed = store.mark_failed("k1", "refused")
    assert failed.messages == {"c1": Rows.of(updated=["client:k1"])}
    retried = store.retry_pending("k1")
    sent = store.mark_sent("k1", msg("m9", 5, kind="agent", client_id="k1"))
    assert sent.messages == {"c1": Rows.of(updated=["client:k1"])}
    assert (added | failed | retried | sent).messages == {"c1": Rows.of(added=["client:k1"])}
    stored = store.transcript("c1").find("client:k1")
    assert stored is not None and stored.id == "m9" and stored.delivery == "sent"


def test_a_reply_discarded_in_the_same_flush_is_never_named() -> None:
    store = Store(me=ME)
    store.upsert_conversation(conv())
    change = store.add_pending("c1", "k1", "hello") | store.mark_failed("k1")
    change |= store.discard_pending("k1")
    assert not change.messages["c1"]
    assert store.transcript("c1").find("client:k1") is None


def test_queue_rows_are_added_updated_and_removed() -> None:
    store = Store(me=ME)
    queued = store.upsert_conversation(conv("q1", state="queued", assignee_id=None))
    assert queued.queue == Rows.of(added=["q1"])
    said = store.apply(event("message.created", msg("m1", 1, cid="q1")))
    assert said.queue == Rows.of(updated=["q1"])
    accepted = store.upsert_conversation(conv("q1", state="active"))
    assert accepted.queue == Rows.of(removed=["q1"])
    assert not (queued | said | accepted).queue  # came and went within one flush
    assert not store.apply(event("message.created", msg("m2", 2, cid="q1"))).queue


def test_transcript_in_order_gives_positions_in_transcript_order() -> None:
    store = Store(me=ME)
    store.upsert_conversation(conv())
    for mid, seconds in (("m3", 3), ("m1", 1), ("m2", 2)):
        store.apply(event("message.created", msg(mid, seconds)))
    store.add_pending("c1", "k1", "mine")
    ordered = store.transcript("c1").in_order(["client:k1", "m3", "m1", "gone"])
    assert [(index, stored.stable_key) for index, stored in ordered] == [
        (0, "m1"),
        (2, "m3"),
        (3, "client:k1"),
    ]


# --------------------------------------------------------------------------- the controller


async def test_the_controller_hands_one_precise_change_set_per_flush() -> None:
    """200 messages in 3 chats inside one flush window: one callback naming all 200
    in their chats (and the pending reply added then confirmed as one add)."""
    seen: list[WorkspaceChanges] = []
    controller = WorkspaceController(FakeInner({}), on_changed=seen.append)
    controller.store.set_me(ME)
    for cid in ("c1", "c2", "c3"):
        controller.store.upsert_conversation(conv(cid))
    for number in range(200):
        cid = f"c{number % 3 + 1}"
        await controller.apply_event(event("message.created", msg(f"m{number}", number, cid=cid)))
    controller._absorb(controller.store.add_pending("c1", "k1", "hi"))
    sent = m.Message(
        id="mine",
        conversation_id="c1",
        author_kind="agent",
        author_id=ME.id,
        body="hi",
        client_id="k1",
        created_at=msg("x", 300).created_at,
    )
    await controller.apply_event(event("message.created", sent))
    assert seen == []  # coalesced: nothing until the flush
    await asyncio.sleep(0.1)
    assert len(seen) == 1
    changes = seen[0]
    expected = {f"c{k}": {f"m{n}" for n in range(200) if n % 3 == k - 1} for k in (1, 2, 3)}
    expected["c1"].add("client:k1")
    assert {cid: set(rows.added) for cid, rows in changes.messages.items()} == expected
    assert not any(rows.updated or rows.removed for rows in changes.messages.values())
    assert changes.dirty == {"c1", "c2", "c3"} and not changes.queue


def test_rows_union_equals_merging_op_by_op() -> None:
    """``a | b`` (plain unions when disjoint, per-row rules otherwise) equals replaying
    every operation one by one - over many random sequences."""
    import random

    from console.core.changes import RowLog

    rng = random.Random(10)
    for _ in range(500):
        steps = [(rng.choice("abcdef"), rng.choice(list(Op))) for _ in range(rng.randint(1, 8))]
        replay, merged = RowLog(), Rows()
        for row_id, op in steps:
            replay.note(row_id, op)
            merged = merged | Rows.of(**{op.value: [row_id]})
        assert merged == replay.freeze(), steps


def test_a_history_page_names_every_message_once() -> None:
    store = Store(me=ME)
    store.upsert_conversation(conv())
    page = m.MessagePage(items=[msg(f"m{n:04d}", n) for n in range(2000)], has_more=True)
    change = store.load_messages("c1", page, older=True)
    assert change.messages == {"c1": Rows.of(added=[f"m{n:04d}" for n in range(2000)])}
    assert "c1" in change.transcripts and "c1" in change.conversations
