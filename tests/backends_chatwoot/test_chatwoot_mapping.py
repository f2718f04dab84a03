"""Pure mapping rules: Chatwoot statuses, senders, timestamps, URLs."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import msgspec
import pytest

from console.backends import _chatwoot_models as cw
from console.backends.chatwoot import (
    ChatwootBackend,
    _split_base_url,
    _ts,
    map_conversation,
    map_message,
    map_state,
)
from tests.backends_chatwoot._spec import SPEC_FILE

# sha256 of /work/shared/reference/chatwoot/application_swagger.json (Chatwoot 4.10.0, e13e3c87).
SPEC_SHA256 = "a6167f8bf5c5b30db6caa028601b3ee8c77160a7ceccfeb05a2211afef643a59"


def test_the_copied_spec_is_the_reference_unchanged() -> None:
    assert hashlib.sha256(SPEC_FILE.read_bytes()).hexdigest() == SPEC_SHA256


@pytest.mark.parametrize(
    ("status", "assigned", "state"),
    [
        ("open", False, "queued"),
        ("open", True, "active"),
        ("snoozed", False, "closed"),
        ("snoozed", True, "closed"),
        ("pending", False, "bot"),
        ("pending", True, "bot"),
        ("resolved", True, "closed"),
    ],
)
def test_state(status: str, assigned: bool, state: str) -> None:
    assert map_state(status, assigned) == state


def message(**fields: object) -> cw.CwMessage:
    return msgspec.convert(
        {"id": 1, "conversation_id": 5, "created_at": 1700000000, **fields}, cw.CwMessage
    )


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({"message_type": 0, "sender": {"id": 3, "type": "contact"}}, "customer"),
        ({"message_type": 1, "sender": {"id": 3, "type": "user"}}, "agent"),
        ({"message_type": 1, "sender": {"id": 3, "type": "agent_bot"}}, "bot"),
        ({"message_type": 1, "sender_type": "AgentBot", "sender_id": 4}, "bot"),
        ({"message_type": 1}, "bot"),  # automated outgoing text without a sender
        ({"message_type": 2}, "system"),
        ({"message_type": 3, "content_type": "input_csat"}, "system"),
    ],
)
def test_author_kind(fields: dict[str, object], kind: str) -> None:
    assert map_message(message(**fields)).author_kind == kind


def test_message_without_content_and_times() -> None:
    msg = map_message(message(content=None, message_type=0))
    assert msg.body == "" and msg.created_at == datetime.fromtimestamp(1700000000, UTC)
    assert _ts(0) is None and _ts(None) is None and _ts(True) is None
    assert _ts(1700000000.5) == datetime.fromtimestamp(1700000000.5, UTC)
    assert _ts("2026-01-19T13:01:22.000Z") == datetime(2026, 1, 19, 13, 1, 22, tzinfo=UTC)
    assert _ts("1700000000") == datetime.fromtimestamp(1700000000, UTC)


def test_conversation_without_sender_team_or_times() -> None:
    conv = map_conversation(
        msgspec.convert({"id": 9, "status": "open", "meta": {}}, cw.CwConversation)
    )
    assert (conv.id, conv.state, conv.customer_id, conv.department_id, conv.channel) == (
        "9",
        "queued",
        "",
        "",
        "web",
    )
    assert conv.created_at == datetime.fromtimestamp(0, UTC)


@pytest.mark.parametrize(
    ("url", "root", "cable", "account"),
    [
        (
            "https://chat.example.com",
            "https://chat.example.com",
            "wss://chat.example.com/cable",
            None,
        ),
        (
            "https://chat.example.com/app/accounts/3/dashboard",
            "https://chat.example.com",
            "wss://chat.example.com/cable",
            3,
        ),
        (
            "http://10.0.0.5:3000/api/v1/accounts/12/",
            "http://10.0.0.5:3000",
            "ws://10.0.0.5:3000/cable",
            12,
        ),
        (
            "https://example.com/support/app/accounts/1",
            "https://example.com/support",
            "wss://example.com/support/cable",
            1,
        ),
    ],
)
def test_base_url_forms(url: str, root: str, cable: str, account: int | None) -> None:
    assert _split_base_url(url) == (root, cable, account)


def test_bad_arguments_are_sentences() -> None:
    with pytest.raises(ValueError, match="not an http"):
        ChatwootBackend("chat.example.com", "t", 1)
    with pytest.raises(ValueError, match="access token is needed"):
        ChatwootBackend("https://chat.example.com", None, 1)
    with pytest.raises(ValueError, match="must be a number"):
        ChatwootBackend("https://chat.example.com", "t", "three")
