"""Snapshot: Korean/Japanese transcript with an internal note, triggers and delivery states."""

from __future__ import annotations

from typing import Any

from console.ui.widgets.transcript import TranscriptAttachment
from tests.ui_widgets.helpers import TranscriptApp, make_item

ANGRY = "주문한 물건이 아직 도착하지 않았어요. 정말 화가 나네요. 환불해 주세요!"
ANGER = (ANGRY.index("화가 나네요"), ANGRY.index("화가 나네요") + len("화가 나네요"), "anger")
REFUND = (ANGRY.index("환불"), ANGRY.index("환불") + 2, "refund")

ITEMS = [
    make_item(0, "안녕하세요, 무엇을 도와드릴까요?", delivery="sent"),
    make_item(
        1,
        ANGRY,
        author="김민지",
        trigger_spans=(ANGER, REFUND),
    ),
    make_item(2, "배송 상태를 확인하고 있습니다. 잠시만 기다려 주세요.", delivery="pending"),
    make_item(
        3,
        "[社内] 倉庫に確認済み、明日発送予定。",
        author="佐藤",
        author_kind="agent",
        internal=True,
    ),
    make_item(
        5,
        "ありがとうございます。写真を送ります。",
        author="山田 花子",
        attachments=(TranscriptAttachment("写真_2026.jpg", 245_760),),
    ),
    make_item(6, "전송에 실패한 메시지 [/] [@click=app.quit]", delivery="failed"),
    make_item(
        7, "Conversation transferred to 日本語サポート", author="system", author_kind="system"
    ),
]


def test_transcript_korean_japanese(snap_compare: Any) -> None:
    """Wide characters wrap inside the border; labels and glyphs line up."""
    assert snap_compare(TranscriptApp(ITEMS), terminal_size=(50, 34))
