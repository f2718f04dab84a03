"""WorkspaceController.past_for: the sidebar's past list reflects what the Store knows now."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from console.core.workspace import WorkspaceController
from console.protocol import models as m
from tests.core.test_boundary import FakeInner

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _conversation(cid: str, state: m.ConversationState, score: int | None = None) -> m.Conversation:
    return m.Conversation(
        id=cid,
        customer_id="u1",
        customer_name="Yuna",
        department_id="d1",
        department_name="Billing",
        state=state,
        created_at=NOW,
        csat_score=score,
    )


def test_a_chat_closed_since_the_list_was_loaded_shows_closed_with_its_rating() -> None:
    """Loaded as active; closed and rated later in the Store -> past_for says closed, ★5."""
    controller = WorkspaceController(FakeInner({}))
    assert controller.past_for("u1") is None
    controller.past["u1"] = [_conversation("c1", "active"), _conversation("c0", "closed", 3)]
    controller.store.upsert_conversation(_conversation("c1", "closed", 5))
    past = controller.past_for("u1")
    assert past is not None
    assert [(c.id, c.state, c.csat_score) for c in past] == [
        ("c1", "closed", 5),
        ("c0", "closed", 3),
    ]
    assert msgspec.structs.asdict(past[1]) == msgspec.structs.asdict(controller.past["u1"][1])
