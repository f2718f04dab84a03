"""The farewell the close dialog offers to send before closing (issue 14 fix 6).

One line per language (en/ko/ja), picked by the customer's language
(``WorkspaceController.customer_language``); English for any other.  Plain
text: it goes to the customer like a reply and is rendered as ``Content``.
"""

from __future__ import annotations

FAREWELLS: dict[str, str] = {
    "en": "Thank you for contacting us. If you need anything else, just start a new chat. Have a nice day!",
    "ko": "문의해 주셔서 감사합니다. 더 필요하신 점이 있으면 언제든 새 상담을 시작해 주세요. 좋은 하루 보내세요!",
    "ja": "お問い合わせいただきありがとうございました。ほかにご不明な点があれば、いつでも新しいチャットでご連絡ください。",
}


def farewell_text(lang: str) -> str:
    """The farewell in ``lang`` (English when there is none for it)."""
    return FAREWELLS.get(lang, FAREWELLS["en"])
