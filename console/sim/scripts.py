"""What simulated customers say: support scenarios in English, Korean and Japanese.

Pure data plus tiny helpers; no I/O.  A scenario is a realistic support case
(double charge, login trouble, shipping delay, refund, …) with the department
it goes to, the page the customer was on, pre-chat answers, an opening line and
the follow-ups sent after each agent reply.  Frustrated customers mix in the
trigger statements the console's anger detection is meant to catch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGS: tuple[str, ...] = ("en", "ko", "ja")


@dataclass(frozen=True, slots=True)
class Scenario:
    key: str
    lang: str
    department: str  # a DEMO_DEPARTMENTS id (the plan sends its name)
    page_url: str
    prechat: dict[str, str]
    opening: str
    followups: tuple[str, ...]
    thanks: str
    frustrated: tuple[str, ...] = field(default=())
    attachment_text: str = ""  # what the customer says when attaching a file
    bot_reply: str = ""  # answer to the department bot's pre-chat question, if it asks
    # The widget names no department: the server's routing rules pick it from the topic.
    routed_by_topic: bool = False


SCENARIOS: tuple[Scenario, ...] = (
    # ------------------------------------------------------------------ English
    Scenario(
        key="double_charge",
        lang="en",
        department="billing",
        page_url="https://shop.example.com/account/billing",
        prechat={"topic": "Billing", "invoice": "INV-20931"},
        opening="Hi, I was charged twice for my subscription this month. Invoice INV-20931.",
        followups=(
            "Both charges are $49.00, on the same day.",
            "It's the Visa ending in 4242.",
            "How long until the refund shows up?",
        ),
        thanks="Great, thanks for sorting that out so quickly!",
        frustrated=(
            "This is ridiculous, you took my money twice.",
            "I WANT MY MONEY BACK NOW",
        ),
        attachment_text="Here's a screenshot of my bank statement.",
    ),
    Scenario(
        key="login_trouble",
        lang="en",
        department="tech",
        page_url="https://app.example.com/login",
        prechat={"topic": "Can't sign in", "browser": "Firefox 133"},
        opening="I can't log in. It keeps saying my password is wrong but I just reset it.",
        followups=(
            "I tried the reset link twice already.",
            "Yes, I cleared the cache. Still the same error.",
            "Okay, that worked! I'm in.",
        ),
        thanks="Thank you, you saved my afternoon.",
        frustrated=(
            "I've been locked out for two days, this is ridiculous.",
            "WHY DOES THIS KEEP HAPPENING???",
        ),
        attachment_text="This is the error I get, see attached.",
    ),
    Scenario(
        key="shipping_delay",
        lang="en",
        department="sales",
        page_url="https://shop.example.com/orders/A-55812",
        prechat={"topic": "Order status", "order": "A-55812"},
        opening="Hello, my order A-55812 was supposed to arrive on Monday and tracking hasn't moved.",
        followups=(
            "Tracking number is 1Z999AA10123456784.",
            "We need the kits for an event on Friday. Can you expedite a replacement?",
        ),
        thanks="Thanks, please keep me posted by email.",
        frustrated=(
            "I want to speak to a manager.",
            "If this doesn't arrive by Friday, cancel my subscription.",
        ),
    ),
    Scenario(
        key="refund",
        routed_by_topic=True,
        lang="en",
        department="billing",
        page_url="https://shop.example.com/account/cancel",
        prechat={"topic": "Refund"},
        opening="I'd like a refund for the annual plan, I only used it for a week.",
        followups=(
            "I bought it on the 3rd of this month.",
            "I just don't need the extra features after all.",
        ),
        thanks="Understood, thanks for the help.",
        frustrated=("Just cancel my subscription and refund me.", "???"),
        bot_reply="It's invoice INV-20877, paid on the 3rd.",
    ),
    # ------------------------------------------------------------------ Korean
    Scenario(
        key="double_charge",
        lang="ko",
        department="billing",
        page_url="https://shop.example.com/ko/account/billing",
        prechat={"topic": "결제", "invoice": "INV-31877"},
        opening="안녕하세요, 이번 달 구독료가 두 번 결제됐어요. 청구서 번호는 INV-31877입니다.",
        followups=(
            "둘 다 59,000원이고 같은 날 결제됐습니다.",
            "신한카드 끝자리 1207이에요.",
            "환불은 언제쯤 들어오나요?",
        ),
        thanks="빠르게 처리해 주셔서 감사합니다!",
        frustrated=("정말 짜증나네요. 돈을 두 번이나 가져가다니요.", "매니저 바꿔주세요."),
        attachment_text="카드 결제 내역 캡처 첨부합니다.",
    ),
    Scenario(
        key="login_trouble",
        lang="ko",
        department="tech",
        page_url="https://app.example.com/ko/login",
        prechat={"topic": "로그인 문제", "browser": "Chrome"},
        opening="로그인이 안 돼요. 2단계 인증 코드를 넣어도 계속 틀렸다고 나와요.",
        followups=(
            "휴대폰 시간은 자동으로 설정되어 있어요.",
            "네, 코드를 새로 받아서 다시 해 봤어요.",
            "아, 이제 됩니다!",
        ),
        thanks="감사합니다. 덕분에 해결됐어요.",
        frustrated=("벌써 세 번째 문의인데 정말 짜증나네요.", "왜 아직도 안 되는 거죠???"),
        attachment_text="오류 화면 캡처입니다.",
    ),
    Scenario(
        key="shipping_delay",
        lang="ko",
        department="sales",
        page_url="https://shop.example.com/ko/orders/K-20417",
        prechat={"topic": "배송 문의", "order": "K-20417"},
        opening="주문번호 K-20417인데 일주일째 배송 준비 중으로만 나와요.",
        followups=("주말 전에 받을 수 있을까요?", "그럼 다른 택배로 다시 보내 주실 수 있나요?"),
        thanks="확인해 주셔서 고맙습니다.",
        frustrated=("매니저 바꿔주세요.", "이럴 거면 구독 취소할게요."),
    ),
    Scenario(
        key="refund",
        routed_by_topic=True,
        lang="ko",
        department="billing",
        page_url="https://shop.example.com/ko/account/cancel",
        prechat={"topic": "환불"},
        opening="연간 요금제를 실수로 결제했어요. 환불 받을 수 있나요?",
        followups=("어제 결제했습니다.", "월간 요금제로 바꾸고 싶어요."),
        thanks="친절하게 안내해 주셔서 감사합니다.",
        frustrated=("정말 짜증나네요.", "???"),
        bot_reply="청구서 INV-31902, 어제 결제한 건입니다.",
    ),
    # ------------------------------------------------------------------ Japanese
    Scenario(
        key="double_charge",
        lang="ja",
        department="billing",
        page_url="https://shop.example.com/ja/account/billing",
        prechat={"topic": "請求", "invoice": "INV-40212"},
        opening="今月の利用料が二重に請求されています。請求書番号は INV-40212 です。",
        followups=(
            "どちらも3,300円で、同じ日の請求です。",
            "JCBカードの末尾は8810です。",
            "返金はいつ頃になりますか。",
        ),
        thanks="迅速に対応していただき、ありがとうございました。",
        frustrated=("ふざけるな、二回も引き落とすなんて。", "責任者を出してください。"),
        attachment_text="明細のスクリーンショットを添付します。",
    ),
    Scenario(
        key="login_trouble",
        lang="ja",
        department="tech",
        page_url="https://app.example.com/ja/login",
        prechat={"topic": "ログインできない", "browser": "Safari"},
        opening="ログインできません。パスワードを再設定したのに「認証に失敗しました」と出ます。",
        followups=(
            "再設定メールは届いています。",
            "キャッシュも削除しましたが、同じです。",
            "あ、ログインできました！",
        ),
        thanks="助かりました。ありがとうございます。",
        frustrated=("何度やっても駄目です。ふざけるな。", "？？？"),
        attachment_text="エラー画面を添付します。",
    ),
    Scenario(
        key="shipping_delay",
        lang="ja",
        department="sales",
        page_url="https://shop.example.com/ja/orders/J-10422",
        prechat={"topic": "配送", "order": "J-10422"},
        opening="注文 J-10422 の配送が遅れているようです。いつ届きますか。",
        followups=(
            "金曜日までに必要なのですが、間に合いますか。",
            "別の配送方法に変更できますか。",
        ),
        thanks="ご確認ありがとうございました。",
        frustrated=("もう待てません。解約したい。", "責任者を出してください。"),
    ),
    Scenario(
        key="refund",
        routed_by_topic=True,
        lang="ja",
        department="billing",
        page_url="https://shop.example.com/ja/account/cancel",
        prechat={"topic": "返金"},
        opening="年額プランを解約したいのですが、返金はありますか。",
        followups=("購入したのは先月の20日です。", "上長の方に確認していただけますか。"),
        thanks="ご丁寧にありがとうございました。",
        frustrated=("解約したい。今すぐです。", "ふざけるな。"),
        bot_reply="請求書 INV-40388 です。先月20日に購入しました。",
    ),
)

# Nudges when nobody answers; the frustrated variants are trigger statements.
NUDGES: dict[str, tuple[str, ...]] = {
    "en": ("Hello? Is anyone there?", "Still waiting…"),
    "ko": ("저기요, 계신가요?", "아직 기다리고 있어요…"),
    "ja": ("すみません、どなたかいらっしゃいますか。", "まだ待っています…"),
}
ANGRY_NUDGES: dict[str, tuple[str, ...]] = {
    "en": ("???", "This is ridiculous. I've been waiting forever.", "HELLO??? IS ANYONE THERE???"),
    "ko": ("???", "정말 짜증나네요. 언제까지 기다려야 하죠?", "매니저 바꿔주세요."),
    "ja": ("？？？", "ふざけるな。いつまで待たせるんですか。", "解約したい。"),
}
# Said when the customer gives up waiting.
LEAVING: dict[str, str] = {
    "en": "Forget it, I'll try again later.",
    "ko": "됐어요, 나중에 다시 문의할게요.",
    "ja": "もういいです。また後で問い合わせます。",
}
# Answers to a bot question the customer did not see coming.
BOT_ANSWERS: dict[str, str] = {
    "en": "Yes, please connect me to a person.",
    "ko": "네, 상담원 연결 부탁드려요.",
    "ja": "はい、担当者につないでください。",
}
RATING_COMMENTS: dict[str, dict[int, str]] = {
    "en": {
        5: "Fast and friendly, thank you!",
        4: "Good help.",
        3: "Okay.",
        2: "Took too long.",
        1: "Not helpful at all.",
    },
    "ko": {
        5: "빠르고 친절했어요!",
        4: "도움이 됐어요.",
        3: "보통이에요.",
        2: "너무 오래 걸렸어요.",
        1: "전혀 도움이 안 됐어요.",
    },
    "ja": {
        5: "迅速で丁寧でした。",
        4: "助かりました。",
        3: "普通です。",
        2: "時間がかかりすぎです。",
        1: "全く役に立ちませんでした。",
    },
}

# Extra people besides the demo customers: (name, email local part).
EXTRA_PEOPLE: dict[str, tuple[tuple[str, str], ...]] = {
    "en": (
        ("Chris Taylor", "chris.taylor"),
        ("Emma Wilson", "emma.wilson"),
        ("Noah Patel", "noah.patel"),
        ("Ava Johnson", "ava.johnson"),
        ("Liam O'Connor", "liam.oconnor"),
        ("Mia Hernández", "mia.hernandez"),
    ),
    "ko": (
        ("정하늘", "haneul.jung"),
        ("윤지우", "jiwoo.yoon"),
        ("강민수", "minsu.kang"),
        ("한예린", "yerin.han"),
        ("오세훈", "sehun.oh"),
    ),
    "ja": (
        ("小林 陽菜", "hina.kobayashi"),
        ("中村 蓮", "ren.nakamura"),
        ("加藤 結衣", "yui.kato"),
        ("吉田 大翔", "hiroto.yoshida"),
        ("松本 さくら", "sakura.matsumoto"),
    ),
}

# The trigger statements this module uses, per language, for tests and docs.
TRIGGER_PHRASES: dict[str, tuple[str, ...]] = {
    "en": ("this is ridiculous", "speak to a manager", "cancel my subscription", "???"),
    "ko": ("정말 짜증나네요", "매니저 바꿔주세요", "구독 취소", "???"),
    "ja": ("解約したい", "ふざけるな", "責任者を出してください", "？？？"),
}


def scenarios_for(lang: str) -> tuple[Scenario, ...]:
    return tuple(s for s in SCENARIOS if s.lang == lang)


def looks_frustrated(text: str) -> bool:
    """True if ``text`` contains a trigger phrase or is shouted (mostly upper-case Latin letters)."""
    lowered = text.lower()
    if any(p.lower() in lowered for phrases in TRIGGER_PHRASES.values() for p in phrases):
        return True
    letters = [c for c in text if c.isascii() and c.isalpha()]
    return len(letters) >= 6 and sum(c.isupper() for c in letters) / len(letters) > 0.8
