"""Demo seed data for ``agent-console serve --demo`` and the simulator (plain data, no imports).

The server's demo loader turns these lists into rows; the simulator
(``console.sim``) reuses :data:`DEMO_CUSTOMERS` and :data:`DEMO_DEPARTMENTS` so
simulated chats come from customers who have accounts, notes and history.

Every list holds plain ``dict`` values with ``str`` keys so the loader can be
written without importing anything from here but the names.  Stable string
``id`` values tie the lists together (an agent's ``departments`` name
department ids, a note's ``author`` names an agent id).  The loader may use them
as database ids or map them to generated ones.

Times are relative (``days_ago``) so a demo started on any day looks fresh; the
loader computes ``now - timedelta(days=days_ago, hours=hours_ago)`` in UTC.

Text is in English, Korean and Japanese on purpose: the console must render
all three, and canned replies are filtered by ``lang``.
"""

from __future__ import annotations

from typing import Any, Final

# --------------------------------------------------------------------------- departments

DEMO_DEPARTMENTS: Final[list[dict[str, Any]]] = [
    {
        "id": "billing",
        "name": "Billing",
        "utc_offset_minutes": 0,
        "hours": {
            "0": "07:00-22:00",
            "1": "07:00-22:00",
            "2": "07:00-22:00",
            "3": "07:00-22:00",
            "4": "07:00-22:00",
            "5": "09:00-17:00",
        },
        "offline_messages": {
            "en": "Billing is closed right now (Mon–Fri 07:00–22:00, Sat 09:00–17:00 UTC). "
            "Leave your question here and we will reply by email within one business day.",
            "ko": "지금은 결제팀 운영 시간이 아닙니다(월–금 07:00–22:00, 토 09:00–17:00 UTC). "
            "문의를 남겨 주시면 영업일 기준 1일 이내에 이메일로 답변드리겠습니다.",
            "ja": "ただいま請求チームは営業時間外です（月〜金 07:00〜22:00、土 09:00〜17:00 UTC）。"
            "ご用件を残していただければ、1営業日以内にメールでご返信いたします。",
        },
        # Issue 17: a chat whose widget names no department comes here for these topics.
        "routing_rules": [
            {"key": "topic", "equals": ["refund", "billing", "환불", "결제", "返金", "請求"]},
        ],
        "prechat_questions": [
            {
                "key": "invoice",
                "question": "Which invoice or order is this about? / 어떤 청구서나 주문에 관한 문의인가요? / どの請求書またはご注文についてのお問い合わせですか？",
            },
        ],
    },
    {
        "id": "tech",
        "name": "Technical support",
        "utc_offset_minutes": 0,
        "hours": None,
        "offline_messages": {
            "en": "Technical support is briefly unavailable. We usually reply within 30 minutes.",
            "ko": "기술 지원팀이 잠시 자리를 비웠습니다. 보통 30분 이내에 답변드립니다.",
            "ja": "技術サポートは一時的に対応できません。通常30分以内にご返信いたします。",
        },
        "routing_rules": [
            {"key": "topic", "equals": ["can't sign in", "로그인 문제", "ログインできない"]},
        ],
        # The default target of escalations (a senior agent can be picked instead).
        "escalation": True,
        "prechat_questions": [
            {
                "key": "browser",
                "question": "Which browser or app version are you using? / 어떤 브라우저나 앱 버전을 사용하시나요? / ご利用のブラウザまたはアプリのバージョンを教えてください。",
            },
        ],
    },
    {
        "id": "sales",
        "name": "Sales",
        "utc_offset_minutes": 540,
        "hours": {str(day): "09:00-18:00" for day in range(5)},
        "offline_messages": {
            "en": "Our sales team works Mon–Fri 09:00–18:00 (KST/JST). "
            "Leave your email and a good time to reach you, and we will get back to you.",
            "ko": "영업팀은 월–금 09:00–18:00(KST) 에 운영합니다. "
            "이메일과 연락 가능한 시간을 남겨 주시면 다시 연락드리겠습니다.",
            "ja": "営業チームの受付時間は月〜金 09:00〜18:00（JST）です。"
            "メールアドレスとご都合のよい時間をお知らせいただければ、折り返しご連絡いたします。",
        },
        "prechat_questions": [],
    },
]
"""Departments.

Shape of each item:

- ``id`` (str): stable key, used by ``DEMO_AGENTS[*]["departments"]`` and the
  simulator's scenarios (the simulator sends the department *name*, which the
  server resolves like an id, so generated database ids are fine).
- ``name`` (str): display name.
- ``utc_offset_minutes`` (int): the department's clock, minutes east of UTC.
- ``hours`` (dict[str, str] | None): weekday ``"0"`` (Monday) … ``"6"`` (Sunday)
  → ``"HH:MM-HH:MM"`` in that clock; a missing weekday is closed; ``None`` is
  always open (same shape as ``console.server.admin.insert_department``).
- ``offline_messages`` (dict[str, str]): language (``en``/``ko``/``ja``) → text
  posted when a conversation starts outside business hours.
- ``offline_message`` (str): the three joined by newlines, for a server that
  stores one text per department.
- ``prechat_questions`` (list of ``{"key": str, "question": str}``): what the
  bot asks when the pre-chat form left that key empty (questions are trilingual).

- ``routing_rules`` (list of ``{"key", "equals": [...]}``, optional): pre-chat answers that
  route a chat here when the widget named no department (docs/protocol.md §6).
- ``escalation`` (bool, optional): the default target of escalations.

So a loader can call ``insert_department(conn, d["name"], offline_message=d["offline_message"],
hours=d["hours"], utc_offset_minutes=d["utc_offset_minutes"], prechat_questions=d["prechat_questions"],
routing_rules=d.get("routing_rules", ()), escalation=d.get("escalation", False))``.
``tech`` is open around the clock so the demo always has a staffed queue.
"""

for _dept in DEMO_DEPARTMENTS:
    # One stored text for servers that keep a single offline message: all three languages.
    _dept["offline_message"] = "\n".join(
        _dept["offline_messages"][lang] for lang in ("en", "ko", "ja")
    )

# --------------------------------------------------------------------------- agents

DEMO_AGENTS: Final[list[dict[str, Any]]] = [
    {
        "id": "alex",
        "name": "Alex Morgan",
        "capacity": 3,
        "departments": ["tech", "billing"],
        "languages": ["en"],
        "status": "online",
    },
    {
        "id": "minji",
        "name": "김민지",
        "capacity": 3,
        "departments": ["billing", "sales"],
        "languages": ["ko", "en"],
        "senior": True,
        "status": "away",
    },
    {
        "id": "kenji",
        "name": "佐藤 健二",
        "capacity": 3,
        "departments": ["tech"],
        "languages": ["ja", "en"],
        "status": "away",
    },
    {
        "id": "priya",
        "name": "Priya Natarajan",
        "capacity": 3,
        "departments": ["sales", "billing"],
        "languages": ["en"],
        "senior": True,
        "status": "offline",
    },
    {
        "id": "junho",
        "name": "이준호",
        "capacity": 3,
        "departments": ["tech", "sales"],
        "languages": ["ko"],
        "status": "offline",
    },
    {
        "id": "misaki",
        "name": "田中 美咲",
        "capacity": 3,
        "departments": ["billing", "tech"],
        "languages": ["ja"],
        "status": "offline",
    },
]
"""Agents.

Shape of each item:

- ``id`` (str): stable id (customer notes name it in ``author``).
- ``name`` (str): display name (may be Korean or Japanese).
- ``capacity`` (int): concurrent chats, 3 like the protocol default.
- ``departments`` (list[str]): department ids the agent serves.
- ``languages`` (list[str]): languages the agent answers in (informational).
- ``status`` (str): initial ``online``/``away``/``offline``.  Only the first
  agent (the person at the demo console) is ``online``, so auto-assignment
  never hands a simulated customer to an agent nobody operates; once that
  agent's 3 slots are full the queue fills up, which the demo wants to show.
"""

# --------------------------------------------------------------------------- customers

DEMO_CUSTOMERS: Final[list[dict[str, Any]]] = [
    {
        "id": "cust-jane",
        "name": "Jane Cooper",
        "email": "jane.cooper@example.com",
        "lang": "en",
        "account": {
            "plan": "Pro (annual)",
            "mrr": "$49",
            "signup_date": "2023-04-18",
            "company": "Cooper Design Studio",
            "seats": "5",
            "payment_method": "Visa •••• 4242",
        },
        "custom_fields": {"country": "US", "timezone": "America/Chicago", "nps": "9"},
        "tags": ["vip", "annual"],
        "activity": [
            {
                "days_ago": 0,
                "hours_ago": 2,
                "kind": "invoice",
                "text": "Invoice INV-20931 charged twice ($49.00 ×2)",
            },
            {"days_ago": 0, "hours_ago": 1, "kind": "page_view", "text": "Viewed /account/billing"},
            {"days_ago": 12, "hours_ago": 0, "kind": "login", "text": "Signed in from Chicago, US"},
        ],
        "notes": [
            {
                "author": "alex",
                "days_ago": 40,
                "body": "Prefers email follow-ups. Agreed to a 10% loyalty discount on renewal.",
            },
        ],
    },
    {
        "id": "cust-marcus",
        "name": "Marcus Webb",
        "email": "marcus.webb@example.org",
        "lang": "en",
        "account": {
            "plan": "Starter (monthly)",
            "mrr": "$12",
            "signup_date": "2025-09-02",
            "company": "",
            "seats": "1",
            "payment_method": "PayPal",
        },
        "custom_fields": {"country": "GB", "timezone": "Europe/London"},
        "tags": ["at-risk"],
        "activity": [
            {
                "days_ago": 1,
                "hours_ago": 3,
                "kind": "login_failed",
                "text": "5 failed sign-in attempts",
            },
            {
                "days_ago": 1,
                "hours_ago": 2,
                "kind": "password_reset",
                "text": "Password reset email requested",
            },
            {
                "days_ago": 30,
                "hours_ago": 0,
                "kind": "plan_change",
                "text": "Downgraded from Pro to Starter",
            },
        ],
        "notes": [
            {
                "author": "priya",
                "days_ago": 31,
                "body": "Downgraded because of price. Mentioned a competitor; offer the annual plan if he asks again.",
            },
            {
                "author": "alex",
                "days_ago": 5,
                "body": "Second complaint about 2FA SMS delays in the UK.",
            },
        ],
    },
    {
        "id": "cust-olivia",
        "name": "Olivia Brooks",
        "email": "olivia@brooks-outdoor.example",
        "lang": "en",
        "account": {
            "plan": "Business",
            "mrr": "$399",
            "signup_date": "2022-11-30",
            "company": "Brooks Outdoor Supply",
            "seats": "24",
            "payment_method": "Invoice (net 30)",
        },
        "custom_fields": {
            "country": "CA",
            "timezone": "America/Toronto",
            "account_manager": "Priya Natarajan",
        },
        "tags": ["enterprise", "shipping"],
        "activity": [
            {
                "days_ago": 6,
                "hours_ago": 0,
                "kind": "order",
                "text": "Order #A-55812 placed (hardware kit ×3)",
            },
            {
                "days_ago": 2,
                "hours_ago": 0,
                "kind": "shipment",
                "text": "Tracking 1Z999AA10123456784 stuck at 'label created'",
            },
        ],
        "notes": [
            {
                "author": "priya",
                "days_ago": 90,
                "body": "Renewal in March; decision maker is Olivia. Keep her in the loop on any outage.",
            },
        ],
    },
    {
        "id": "cust-seoyeon",
        "name": "박서연",
        "email": "seoyeon.park@example.kr",
        "lang": "ko",
        "account": {
            "plan": "프로 (월간)",
            "mrr": "₩59,000",
            "signup_date": "2024-07-09",
            "company": "서연 스튜디오",
            "seats": "3",
            "payment_method": "신한카드 •••• 1207",
        },
        "custom_fields": {"country": "KR", "timezone": "Asia/Seoul", "preferred_language": "ko"},
        "tags": ["vip", "double-charge"],
        "activity": [
            {
                "days_ago": 0,
                "hours_ago": 5,
                "kind": "invoice",
                "text": "청구서 INV-31877 두 번 결제됨 (₩59,000 ×2)",
            },
            {"days_ago": 3, "hours_ago": 0, "kind": "login", "text": "서울에서 로그인"},
        ],
        "notes": [
            {
                "author": "minji",
                "days_ago": 20,
                "body": "지난달에도 카드 승인 오류로 문의함. 환불 처리 시 문자 안내 선호.",
            },
        ],
    },
    {
        "id": "cust-dohyun",
        "name": "최도현",
        "email": "dohyun.choi@example.co.kr",
        "lang": "ko",
        "account": {
            "plan": "스타터",
            "mrr": "₩15,000",
            "signup_date": "2026-01-15",
            "company": "",
            "seats": "1",
            "payment_method": "카카오페이",
        },
        "custom_fields": {"country": "KR", "timezone": "Asia/Seoul"},
        "tags": ["new"],
        "activity": [
            {
                "days_ago": 0,
                "hours_ago": 8,
                "kind": "login_failed",
                "text": "2단계 인증 코드 3회 실패",
            },
        ],
        "notes": [],
    },
    {
        "id": "cust-haruka",
        "name": "山本 遥",
        "email": "haruka.yamamoto@example.jp",
        "lang": "ja",
        "account": {
            "plan": "ビジネス",
            "mrr": "¥42,000",
            "signup_date": "2021-06-01",
            "company": "山本商事株式会社",
            "seats": "18",
            "payment_method": "請求書払い",
        },
        "custom_fields": {"country": "JP", "timezone": "Asia/Tokyo", "preferred_language": "ja"},
        "tags": ["enterprise", "shipping"],
        "activity": [
            {
                "days_ago": 4,
                "hours_ago": 0,
                "kind": "order",
                "text": "注文 #J-10422（プリンター用紙 ×20箱）",
            },
            {"days_ago": 1, "hours_ago": 0, "kind": "shipment", "text": "配送状況が「遅延」に変更"},
        ],
        "notes": [
            {
                "author": "kenji",
                "days_ago": 60,
                "body": "丁寧な対応を希望。電話よりチャットを好む。",
            },
        ],
    },
    {
        "id": "cust-takumi",
        "name": "伊藤 拓海",
        "email": "takumi.ito@example.ne.jp",
        "lang": "ja",
        "account": {
            "plan": "プロ（年額）",
            "mrr": "¥3,300",
            "signup_date": "2025-03-21",
            "company": "",
            "seats": "1",
            "payment_method": "JCB •••• 8810",
        },
        "custom_fields": {"country": "JP", "timezone": "Asia/Tokyo"},
        "tags": ["refund-requested"],
        "activity": [
            {
                "days_ago": 2,
                "hours_ago": 0,
                "kind": "refund_request",
                "text": "年額プランの返金申請フォームを送信",
            },
            {"days_ago": 2, "hours_ago": 1, "kind": "page_view", "text": "/account/cancel を表示"},
        ],
        "notes": [
            {
                "author": "misaki",
                "days_ago": 2,
                "body": "返金規定（30日以内）の対象外。上長承認が必要。",
            },
        ],
    },
    {
        "id": "cust-sam",
        "name": "Sam Rivera",
        "email": "sam.rivera@example.net",
        "lang": "en",
        "account": {
            "plan": "Trial",
            "mrr": "$0",
            "signup_date": "2026-11-20",
            "company": "Rivera Consulting",
            "seats": "2",
            "payment_method": "",
        },
        "custom_fields": {
            "country": "US",
            "timezone": "America/Los_Angeles",
            "trial_ends": "2026-12-04",
        },
        "tags": ["trial", "sales-lead"],
        "activity": [
            {
                "days_ago": 0,
                "hours_ago": 0,
                "kind": "page_view",
                "text": "Viewed /pricing (3 times)",
            },
        ],
        "notes": [],
    },
]
"""Customers with accounts.

Shape of each item:

- ``id`` (str): stable id; ``name`` (str); ``email`` (str, unique: the customer
  session endpoint can find the customer by it).
- ``lang`` (str): the language the simulator speaks as this customer.
- ``account`` (dict[str, str]): account fields shown beside the chat
  (``plan``, ``mrr``, ``signup_date``, ``company``, ``seats``, ``payment_method``),
  all strings to match ``Customer.account``.
- ``custom_fields`` (dict[str, str]).
- ``tags`` (list[str]).
- ``activity`` (list of ``{"days_ago": int, "hours_ago": int, "kind": str, "text": str}``):
  becomes ``Customer.activity`` with ``at = now - days_ago - hours_ago``.
- ``notes`` (list of ``{"author": <agent id>, "days_ago": int, "body": str}``):
  becomes customer notes written by that agent.
"""

# --------------------------------------------------------------------------- canned replies

PLACEHOLDERS: Final[tuple[str, ...]] = (
    "{customer.name}",
    "{customer.email}",
    "{agent.name}",
    "{conversation.id}",
    "{department.name}",
)
"""Placeholders used in :data:`DEMO_CANNED_REPLIES` bodies; the client or server fills them in."""


def _reply(lang: str, category: str, shortcut: str, title: str, body: str) -> dict[str, str]:
    return {"lang": lang, "category": category, "shortcut": shortcut, "title": title, "body": body}


DEMO_CANNED_REPLIES: Final[list[dict[str, str]]] = [
    # ----------------------------------------------------------------- English
    _reply(
        "en",
        "greeting",
        "/hi",
        "Greeting",
        "Hi {customer.name}, this is {agent.name} from {department.name}. How can I help you today?",
    ),
    _reply(
        "en",
        "general",
        "/look",
        "Looking into it",
        "Thanks, {customer.name}. I'm looking into it now. This may take a couple of minutes.",
    ),
    _reply(
        "en",
        "general",
        "/hold",
        "Still working on it",
        "Thanks for waiting. I'm still checking this for you and will be back in a moment.",
    ),
    _reply(
        "en",
        "billing",
        "/dup",
        "Duplicate charge refund",
        "I can see the duplicate charge on your account. I've issued a refund for the second payment; "
        "it should appear on your statement within 5–10 business days.",
    ),
    _reply(
        "en",
        "billing",
        "/refund",
        "Refund policy",
        "Refunds are available within 30 days of purchase. I'll check whether your order qualifies, {customer.name}.",
    ),
    _reply(
        "en",
        "tech",
        "/reset",
        "Password reset",
        "Please use the reset link at /account/reset. If the email doesn't arrive within 5 minutes, "
        "check your spam folder and let me know.",
    ),
    _reply(
        "en",
        "tech",
        "/cache",
        "Clear cache",
        "Could you try signing out, clearing your browser cache and signing in again? "
        "That fixes most loading problems.",
    ),
    _reply(
        "en",
        "general",
        "/ship",
        "Shipping delay",
        "I'm sorry about the delay. I've contacted the carrier about your order and will email you "
        "at {customer.email} as soon as I hear back.",
    ),
    _reply(
        "en",
        "general",
        "/ref",
        "Reference number",
        "For your records, your reference number is {conversation.id}.",
    ),
    _reply(
        "en",
        "farewell",
        "/bye",
        "Goodbye",
        "Is there anything else I can help you with, {customer.name}? Have a great day!",
    ),
    # ----------------------------------------------------------------- Korean
    _reply(
        "ko",
        "greeting",
        "/안녕",
        "인사",
        "안녕하세요 {customer.name}님, {department.name} 상담원 {agent.name}입니다. 무엇을 도와드릴까요?",
    ),
    _reply(
        "ko",
        "general",
        "/확인",
        "확인 중",
        "{customer.name}님, 말씀하신 내용 지금 확인하고 있습니다. 잠시만 기다려 주세요.",
    ),
    _reply(
        "ko",
        "general",
        "/대기",
        "계속 확인 중",
        "기다려 주셔서 감사합니다. 아직 확인 중이며 곧 다시 안내드리겠습니다.",
    ),
    _reply(
        "ko",
        "billing",
        "/중복",
        "중복 결제 환불",
        "계정에서 중복 결제를 확인했습니다. 두 번째 결제는 환불 처리했으며, 영업일 기준 5~10일 내에 반영됩니다.",
    ),
    _reply(
        "ko",
        "billing",
        "/환불",
        "환불 규정",
        "구매 후 30일 이내에는 환불이 가능합니다. {customer.name}님 주문이 대상인지 확인해 보겠습니다.",
    ),
    _reply(
        "ko",
        "tech",
        "/비번",
        "비밀번호 재설정",
        "/account/reset 에서 비밀번호를 재설정해 주세요. 5분 안에 메일이 오지 않으면 스팸함을 확인해 주세요.",
    ),
    _reply(
        "ko",
        "tech",
        "/캐시",
        "캐시 삭제",
        "로그아웃 후 브라우저 캐시를 삭제하고 다시 로그인해 보시겠어요? 대부분의 로딩 문제가 해결됩니다.",
    ),
    _reply(
        "ko",
        "general",
        "/배송",
        "배송 지연",
        "배송이 늦어져 죄송합니다. 택배사에 확인 요청했으며 답변을 받는 대로 {customer.email}로 안내드리겠습니다.",
    ),
    _reply(
        "ko",
        "general",
        "/번호",
        "문의 번호",
        "문의 번호는 {conversation.id} 입니다. 추후 문의 시 알려 주세요.",
    ),
    _reply(
        "ko",
        "farewell",
        "/끝",
        "마무리 인사",
        "더 도와드릴 일이 있을까요, {customer.name}님? 좋은 하루 보내세요!",
    ),
    # ----------------------------------------------------------------- Japanese
    _reply(
        "ja",
        "greeting",
        "/こん",
        "挨拶",
        "{customer.name}様、{department.name}の{agent.name}です。本日はどのようなご用件でしょうか。",
    ),
    _reply(
        "ja",
        "general",
        "/確認",
        "確認中",
        "{customer.name}様、ただいま確認しております。少々お待ちください。",
    ),
    _reply(
        "ja",
        "general",
        "/待機",
        "引き続き確認中",
        "お待たせして申し訳ございません。引き続き確認しておりますので、もうしばらくお待ちください。",
    ),
    _reply(
        "ja",
        "billing",
        "/二重",
        "二重請求の返金",
        "お客様のアカウントで二重請求を確認いたしました。2回目のお支払いは返金手続き済みで、5〜10営業日以内に反映されます。",
    ),
    _reply(
        "ja",
        "billing",
        "/返金",
        "返金規定",
        "ご購入から30日以内であれば返金が可能です。{customer.name}様のご注文が対象か確認いたします。",
    ),
    _reply(
        "ja",
        "tech",
        "/パス",
        "パスワード再設定",
        "/account/reset からパスワードを再設定してください。5分以内にメールが届かない場合は迷惑メールフォルダをご確認ください。",
    ),
    _reply(
        "ja",
        "tech",
        "/キャ",
        "キャッシュ削除",
        "一度ログアウトし、ブラウザのキャッシュを削除してから再度ログインをお試しいただけますか。",
    ),
    _reply(
        "ja",
        "general",
        "/配送",
        "配送遅延",
        "配送が遅れており申し訳ございません。配送業者に確認中で、回答があり次第 {customer.email} にご連絡いたします。",
    ),
    _reply(
        "ja",
        "general",
        "/番号",
        "お問い合わせ番号",
        "お問い合わせ番号は {conversation.id} です。今後のお問い合わせの際にお伝えください。",
    ),
    _reply(
        "ja",
        "farewell",
        "/終了",
        "締めの挨拶",
        "他にお手伝いできることはございますか、{customer.name}様。本日はありがとうございました。",
    ),
]
"""Canned replies, ten per language.

Each item has exactly the fields of ``CannedReplyCreate``: ``title`` (str),
``shortcut`` (str, starts with ``/``), ``body`` (str, may contain the
:data:`PLACEHOLDERS`), ``category`` (``greeting``, ``farewell``, ``general``,
``billing`` or ``tech``) and ``lang`` (``en``, ``ko`` or ``ja``).  So the loader
can do ``CannedReplyCreate(**item)``.
"""
