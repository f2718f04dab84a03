"""The workspace core is the UI's gateway: what its calls return is clean, whatever the backend.

The backend here is deliberately *not* wrapped in ``SanitizingBackend``: the
controller and the supervisor gateway must not depend on that wrapper for what
they hand to a screen.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from console.core.supervision import SupervisorGateway
from console.core.workspace import WorkspaceController
from console.protocol import models as m
from tests.core.safety import HOSTILE_CASES, assert_terminal_safe
from tests.core.test_boundary import FakeInner, walk_strings

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
EVIL = " ".join(HOSTILE_CASES.values())


def agent(agent_id: str, name: str = EVIL) -> m.AgentStats:
    return m.AgentStats(
        agent_id=agent_id, name=name, status="online", accepting=True, load=0, capacity=3
    )


def conversation(cid: str = "c1") -> m.Conversation:
    return m.Conversation(
        id=cid,
        customer_id="u1",
        customer_name=EVIL,
        department_id="d1",
        department_name=EVIL,
        state="closed",
        created_at=NOW,
    )


def message(mid: str, body: str) -> m.Message:
    return m.Message(
        id=mid,
        conversation_id="c1",
        author_kind="customer",
        author_name=EVIL,
        body=body,
        created_at=NOW,
    )


def assert_clean(value: Any) -> None:
    for text in walk_strings(value):
        assert_terminal_safe(text)


async def test_transfer_targets_default_to_agents_without_me_and_clean() -> None:
    """Backend.transfer_targets defaults to agents(); the controller drops me and sanitizes."""
    me = m.Me(id="me", name="Ana", role="agent")
    backend = FakeInner({"agents": m.AgentsView(items=[agent("me", "Ana"), agent("a2")])})
    controller = WorkspaceController(backend)
    controller.store.set_me(me)
    controller.departments = {"d1": m.Department(id="d1", name="Billing")}
    departments, agents = await controller.transfer_targets("c1")
    assert [a.agent_id for a in agents] == ["a2"]
    assert [d.id for d in departments] == ["d1"]
    assert_clean(agents)


async def test_transfer_targets_use_the_backends_own_list() -> None:
    """A backend that knows who may take the chat (Chatwoot's assignable agents) is asked."""
    backend = FakeInner(
        {"agents": m.AgentsView(items=[agent("a1")]), "transfer_targets": [agent("a9")]}
    )
    _, agents = await WorkspaceController(backend).transfer_targets("c1")
    assert [a.agent_id for a in agents] == ["a9"]


async def test_past_conversation_is_clean_and_triggers_are_found_on_clean_text() -> None:
    """The read-only window gets sanitized messages; trigger spans index the clean body."""
    angry = "\u202e\u200bI want a REFUND NOW, this is ridiculous!!!"
    backend = FakeInner(
        {
            "get_conversation": conversation(),
            "list_messages": m.MessagePage(items=[message("m1", angry)]),
        }
    )
    conv, messages = await WorkspaceController(backend).past_conversation("c1")
    assert_clean(conv)
    assert_clean([stored.message for stored in messages])
    (stored,) = messages
    assert stored.triggers.spans
    for span in stored.triggers.spans:
        assert stored.message.body[span.start : span.end].strip()


async def test_close_and_transfer_return_clean_conversations() -> None:
    """The toast names come from what close/transfer return: the Store's or a sanitized copy."""
    backend = FakeInner({"close": conversation(), "transfer": conversation("c2")})
    controller = WorkspaceController(backend)
    closed = await controller.close("c1", m.CloseRequest())
    moved = await controller.transfer("c2", m.TransferRequest(agent_id="a2"))
    assert_clean([closed, moved])


@pytest.mark.parametrize(
    ("method", "answer", "args"),
    [
        ("list_departments", [m.Department(id="d1", name=EVIL)], ()),
        ("queues", m.QueuesView(items=[]), ()),
        ("agents", m.AgentsView(items=[agent("a1")]), ()),
        ("get_conversation", conversation(), ("c1",)),
        ("list_messages", m.MessagePage(items=[message("m1", EVIL)]), ("c1",)),
    ],
)
async def test_supervisor_gateway_answers_are_clean(method: str, answer: Any, args: Any) -> None:
    """Every read of the supervisor screen comes back sanitized."""
    gateway = SupervisorGateway(FakeInner({method: answer}))
    assert_clean(await getattr(gateway, method)(*args))
