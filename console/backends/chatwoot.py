"""Chatwoot backend: Chatwoot's agent ("application") API and its ActionCable feed.

What maps to what (details and gaps in ``docs/chatwoot.md``):

* Conversations: the ``display_id`` is the conversation id.  ``resolved`` ->
  ``closed``; ``pending`` (a bot is handling it) -> ``bot``; ``open`` and
  ``snoozed`` -> ``active`` when someone is assigned, else ``queued``.
  Departments are Chatwoot *teams*.
* Messages: ``message_type`` 0 incoming -> customer, 1 outgoing -> agent (or
  bot for an agent-bot/automated sender), 2 activity and 3 template ->
  system; ``private`` -> internal note; ``echo_id`` <-> ``client_id``.
* Contacts -> customers (``labels`` -> tags, ``custom_attributes`` ->
  custom fields, ``additional_attributes`` -> account), contact notes,
  canned responses (``short_code``), teams, agents.
* Accept = assign to me (``POST .../assignments``), transfer = assign an
  agent or a team, close = ``toggle_status`` resolved, typing =
  ``toggle_typing_status``.
* Chatwoot answers **401** for permission denials as well as bad tokens: a
  401 on ``/api/v1/profile`` (or on the stream's profile check) is fatal
  (``AUTH_FAILED``); a 401 elsewhere raises :class:`AuthError` but keeps the
  session, because it usually means "your role may not do this".
* Chatwoot has no read-only role: a supervisor or ``--readonly`` console must
  wrap this backend in :class:`~console.backends.base.ReadOnlyBackend`.
* Events: ActionCable (``/cable``, ``RoomChannel`` with the profile's
  ``pubsub_token``), mapped to native event types with a ``seq`` this
  backend counts itself.  There is no replay: after a reconnect the backend
  re-lists open conversations over REST and yields one ``client.resync``.
* Sends are **not** idempotent in Chatwoot.  The ``client_id`` travels as
  ``echo_id``; before resending an entry whose earlier attempt may have
  reached the server, the backend looks for it (an ``echo_id`` seen on the
  event feed, or an identical outgoing message of ours in the latest page).

httpx and websockets are imported inside functions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import msgspec

from console.backends import _chatwoot_models as cw
from console.backends._streaming import (
    RateLimitedError,
    StreamAuthFailed,
    StreamingBackend,
    parse_retry_after,
)
from console.backends.base import (
    AuthError,
    BackendError,
    Capability,
    ConnectionPhase,
    ConnectionState,
)
from console.core.backoff import Backoff
from console.core.outbox import Fail, Pause, Retry, Verdict, new_client_id
from console.protocol import limits
from console.protocol import models as m

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

T = TypeVar("T")

PAGE_SIZE = 25  # Chatwoot's conversations page (CONVERSATION_RESULTS_PER_PAGE)
MAX_CONTENT_CHARS = 150_000  # Chatwoot's Message content limit
_MAX_RESYNC_PAGES = 40
_MAX_COUNT_PAGES = 20
_SEEN_MESSAGE_IDS = 20_000
_SEEN_ECHO_IDS = 5_000
CABLE_SUBPROTOCOL = "actioncable-v1-json"
ROOM_CHANNEL = "RoomChannel"
PRESENCE_INTERVAL = 20.0  # the web and mobile clients' PRESENCE_INTERVAL

_STATUS_OF_AVAILABILITY: dict[str, m.AgentStatus] = {
    "online": "online",
    "available": "online",
    "busy": "away",
    "offline": "offline",
}

_CONVERSATION_EVENTS = frozenset(
    {
        "conversation.updated",
        "conversation.status_changed",
        "conversation.read",
        "conversation.contact_changed",
        "assignee.changed",
        "team.changed",
    }
)


class _SubscriptionFailed(Exception):
    """RoomChannel subscription rejected or never confirmed."""


# ==================================================================== helpers


def _clean(text: str) -> str:
    """Chatwoot's sentences are outside text: sanitize before any UI shows them."""
    from console.core.sanitize import sanitize_single_line

    return sanitize_single_line(text)


def _ts(value: Any) -> datetime | None:
    """Chatwoot time (unix seconds as int/float, or an ISO string) -> aware UTC datetime."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        if value <= 0:
            return None
        return datetime.fromtimestamp(float(value), UTC)
    if isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except ValueError:
            pass
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def _text_map(values: Mapping[str, Any] | None) -> dict[str, str]:
    """Chatwoot attribute hashes (any JSON values) -> str -> str for display."""
    out: dict[str, str] = {}
    for key, value in (values or {}).items():
        if value is None or isinstance(value, dict | list):
            if value in (None, {}, []):
                continue
            out[str(key)] = msgspec.json.encode(value).decode()
        elif isinstance(value, bool):
            out[str(key)] = "yes" if value else "no"
        else:
            out[str(key)] = str(value)
    return out


def _message_id(value: str) -> str:
    """A message id, or a notice id ``<message id>:<what>`` this backend made up."""
    head, sep, tail = value.partition(":")
    return head if sep and tail in _NOTICE_KINDS else value


_NOTICE_KINDS = frozenset({"failed", "deleted"})


def _num(value: str, what: str) -> str:
    """A Chatwoot numeric id for a URL path; anything else is a local 'not found'."""
    if not value.isascii() or not value.isdigit():
        raise BackendError(
            f"There is no Chatwoot {what} with id {value!r}; Chatwoot ids are numbers.",
            code="not_found",
            status=404,
        )
    return str(int(value))


_CHANNELS = {
    "Channel::WebWidget": "web",
    "Channel::Email": "email",
    "Channel::Api": "api",
    "Channel::Whatsapp": "whatsapp",
    "Channel::TwilioSms": "sms",
    "Channel::Sms": "sms",
    "Channel::FacebookPage": "facebook",
    "Channel::Instagram": "instagram",
    "Channel::Telegram": "telegram",
    "Channel::Line": "line",
}


def _channel(value: str | None) -> str:
    if not value:
        return "web"
    return _CHANNELS.get(value) or value.removeprefix("Channel::").lower() or "web"


def map_state(status: str, assigned: bool, bot: bool = False) -> m.ConversationState:
    """Chatwoot status (+ whether an agent or an AgentBot is assigned) -> protocol state.

    ``snoozed`` counts as ``closed``: the console has no snooze, Chatwoot's
    open lists leave snoozed chats out, and Chatwoot reopens them by itself
    (an ``open`` event brings them back), so they stay out of the queue
    everywhere, events and re-lists alike.
    """
    if status in ("resolved", "snoozed"):
        return "closed"
    if status == "pending" or bot:
        return "bot"
    return "active" if assigned else "queued"


def _bot_assigned(c: cw.CwConversation) -> bool:
    """``meta.assignee`` is an AgentBot (its id is a bot id, not a user id)."""
    assignee = c.meta.assignee
    return c.meta.assignee_type == "AgentBot" or (
        assignee is not None and (assignee.type or "").lower() in ("agent_bot", "agentbot")
    )


def map_conversation(c: cw.CwConversation) -> m.Conversation:
    meta = c.meta
    sender = meta.sender
    bot = _bot_assigned(c)
    assignee = None if bot else meta.assignee
    team = meta.team
    created = _ts(c.created_at) or _ts(c.timestamp) or _ts(c.last_activity_at)
    additional = c.additional_attributes or {}
    referer = additional.get("referer")
    return m.Conversation(
        id=str(c.id),
        customer_id=str(sender.id) if sender else "",
        customer_name=(sender.name or "") if sender else "",
        customer_email=(sender.email or "") if sender else "",
        department_id=str(team.id) if team else "",
        department_name=team.name if team else "",
        state=map_state(c.status, assignee is not None, bot),
        assignee_id=str(assignee.id) if assignee else None,
        assignee_name=(assignee.available_name or assignee.name or "") if assignee else None,
        channel=_channel(c.channel or meta.channel),
        page_url=referer if isinstance(referer, str) else "",
        prechat=_text_map(c.custom_attributes),
        created_at=created or datetime.fromtimestamp(0, UTC),
        last_message_at=_ts(c.last_activity_at),
        waiting_since=_ts(c.waiting_since),
        first_response_at=_ts(c.first_reply_created_at),
    )


def _author_kind(msg: cw.CwMessage) -> m.AuthorKind:
    if msg.message_type == 0:
        return "customer"
    if msg.message_type == 1:
        kind = (msg.sender.type if msg.sender else None) or msg.sender_type or ""
        kind = kind.lower()
        if kind in ("agent_bot", "agentbot", "captain_assistant"):
            return "bot"
        if msg.sender is None and msg.sender_id is None:
            return "bot"  # automated outgoing text (auto-reply, campaign)
        return "agent"
    return "system"


def _content_type(file_type: str | None, extension: str | None) -> str:
    kind = (file_type or "file").lower()
    ext = (extension or "").lower().lstrip(".")
    if kind in ("image", "audio", "video") and ext:
        return f"{kind}/{'jpeg' if ext == 'jpg' else ext}"
    if kind in ("image", "audio", "video"):
        return f"{kind}/*"
    if ext == "pdf":
        return "application/pdf"
    return "application/octet-stream"


def map_attachment(a: cw.CwAttachment) -> m.Attachment:
    url = a.data_url or ""
    name = urlsplit(url).path.rsplit("/", 1)[-1] if url else ""
    from urllib.parse import unquote

    return m.Attachment(
        id=str(a.id),
        filename=unquote(name) or f"attachment-{a.id}",
        content_type=_content_type(a.file_type, a.extension),
        size=a.file_size or 0,
        url=url,
    )


def map_message(msg: cw.CwMessage, conversation_id: str | None = None) -> m.Message:
    sender = msg.sender
    return m.Message(
        id=str(msg.id),
        conversation_id=str(msg.conversation_id)
        if msg.conversation_id is not None
        else (conversation_id or ""),
        author_kind=_author_kind(msg),
        author_id=str(sender.id)
        if sender and sender.id is not None
        else (str(msg.sender_id) if msg.sender_id is not None else None),
        author_name=(sender.available_name or sender.name or "") if sender else "",
        body=msg.content or "",
        internal=msg.private,
        client_id=msg.echo_id or None,
        attachments=[map_attachment(a) for a in msg.attachments],
        created_at=_ts(msg.created_at) or datetime.fromtimestamp(0, UTC),
    )


S = TypeVar("S", bound=msgspec.Struct)


def _struct_types(annotation: Any) -> list[type[msgspec.Struct]]:
    import typing

    found = []
    for arg in (annotation, *typing.get_args(annotation)):
        if isinstance(arg, type) and issubclass(arg, msgspec.Struct):
            found.append(arg)
    return found


def lenient(data: Any, kind: type[S]) -> S:
    """``msgspec.convert`` that drops a field of the wrong type instead of the whole payload.

    Chatwoot's live feed sends what Rails serializes (datetimes as ISO
    strings where the REST views send unix seconds, keys that come and go
    between versions); one surprise must not lose a reassignment or a close.
    Required fields (ids) still have to be right.
    """
    try:
        return msgspec.convert(data, kind)
    except msgspec.ValidationError:
        if not isinstance(data, dict):
            raise
    kept: dict[str, Any] = {}
    for f in msgspec.structs.fields(kind):
        if f.encode_name not in data:
            continue
        value = data[f.encode_name]
        try:
            msgspec.convert(value, f.type)
            kept[f.encode_name] = value
            continue
        except msgspec.ValidationError:
            pass
        nested = _struct_types(f.type)
        try:
            if nested and isinstance(value, dict):
                kept[f.encode_name] = msgspec.to_builtins(lenient(value, nested[0]))
            elif isinstance(value, list) and (inner := _struct_types(_list_item(f.type))):
                items = []
                for item in value:
                    with contextlib.suppress(msgspec.ValidationError, TypeError):
                        items.append(msgspec.to_builtins(lenient(item, inner[0])))
                kept[f.encode_name] = items
            else:
                log.info("chatwoot: ignoring %s.%s=%r", kind.__name__, f.encode_name, value)
        except msgspec.ValidationError:
            log.info("chatwoot: ignoring %s.%s", kind.__name__, f.encode_name)
    return msgspec.convert(kept, kind)


def _list_item(annotation: Any) -> Any:
    import typing

    if typing.get_origin(annotation) is list:
        return typing.get_args(annotation)[0]
    return None


_LIQUID_SPAN = re.compile(r"(\{\{.*?\}\}|\{%.*?%\})", re.DOTALL)


def same_rendered_body(sent: str, stored: str) -> bool:
    """Is ``stored`` what Chatwoot made of ``sent``?

    Chatwoot renders outgoing message content as Liquid before saving it
    (``Liquidable#process_liquid_in_content``): ``{{ contact.name }}`` becomes
    the name, an unknown variable becomes nothing, ``{% ... %}`` tags run.
    So every Liquid span of ``sent`` may match any text.
    """
    if sent == stored:
        return True
    if "{{" not in sent and "{%" not in sent:
        return False
    parts = _LIQUID_SPAN.split(sent)
    pattern = "".join(".*?" if i % 2 else re.escape(part) for i, part in enumerate(parts))
    return re.fullmatch(pattern, stored, re.DOTALL) is not None


def map_customer(contact: cw.CwContact, labels: list[str]) -> m.Customer:
    account = _text_map(contact.additional_attributes)
    if contact.phone_number:
        account.setdefault("phone", contact.phone_number)
    if contact.identifier:
        account.setdefault("identifier", contact.identifier)
    return m.Customer(
        id=str(contact.id),
        name=contact.name or "",
        email=contact.email or "",
        account=account,
        custom_fields=_text_map(contact.custom_attributes),
        tags=list(labels),
        created_at=_ts(contact.created_at) or datetime.fromtimestamp(0, UTC),
    )


def map_note(note: cw.CwNote, customer_id: str) -> m.CustomerNote:
    user = note.user
    return m.CustomerNote(
        id=str(note.id),
        customer_id=str(note.contact_id) if note.contact_id is not None else customer_id,
        author_id=str(user.id) if user else "",
        author_name=(user.available_name or user.name or "") if user else "",
        body=note.content or "",
        created_at=_ts(note.created_at) or datetime.fromtimestamp(0, UTC),
    )


# Chatwoot Liquid variables (NOTES §3 "Placeholders") <-> the console's placeholders.
_LIQUID_TO_CONSOLE: dict[str, str] = {
    "contact.name": "customer.name",
    "contact.first_name": "customer.first_name",
    "contact.email": "customer.email",
    "contact.id": "customer.id",
    "agent.name": "agent.name",
    "agent.available_name": "agent.name",
    "agent.first_name": "agent.first_name",
    "conversation.id": "conversation.id",
}
_CONSOLE_TO_LIQUID: dict[str, str] = {
    "customer.name": "contact.name",
    "customer.first_name": "contact.first_name",
    "customer.email": "contact.email",
    "customer.id": "contact.id",
    "agent.name": "agent.name",
    "agent.first_name": "agent.first_name",
    "conversation.id": "conversation.id",
}
_LIQUID_VAR = re.compile(r"\{\{\s*([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\s*\}\}", re.ASCII)
_CONSOLE_VAR = re.compile(r"(?<!\{)\{([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)\}(?!\})", re.ASCII)


def liquid_to_console(text: str) -> str:
    """``{{ contact.name }}`` -> ``{customer.name}``; other Liquid is left as written."""

    def swap(match: re.Match[str]) -> str:
        known = _LIQUID_TO_CONSOLE.get(match.group(1))
        return "{" + known + "}" if known else match.group(0)

    return _LIQUID_VAR.sub(swap, text)


def console_to_liquid(text: str) -> str:
    """``{customer.name}`` -> ``{{contact.name}}``, so the reply also works in Chatwoot's dashboard."""

    def swap(match: re.Match[str]) -> str:
        known = _CONSOLE_TO_LIQUID.get(match.group(1))
        return "{{" + known + "}}" if known else match.group(0)

    return _CONSOLE_VAR.sub(swap, text)


def map_canned(c: cw.CwCannedResponse) -> m.CannedReply:
    code = c.short_code or ""
    return m.CannedReply(
        id=str(c.id),
        title=code or f"#{c.id}",
        shortcut=code,
        body=liquid_to_console(c.content or ""),
    )


def _split_base_url(base_url: str) -> tuple[str, str, int | None]:
    """(origin + path prefix, ActionCable URL, account id found in the URL)."""
    raw = base_url.strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"Chatwoot address {base_url!r} is not an http:// or https:// URL. "
            "Use the address you open Chatwoot with, e.g. https://chat.example.com."
        )
    path = parts.path.rstrip("/")
    account: int | None = None
    found = re.search(r"/accounts/(\d+)", path)
    if found:
        account = int(found.group(1))
    # Dashboard URLs (/app/accounts/3/...) and API URLs (/api/v1/...) name the same server.
    for marker in ("/app/", "/api/"):
        cut = (path + "/").find(marker)
        if cut != -1:
            path = path[:cut]
    root = urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    ws_scheme = "wss" if parts.scheme == "https" else "ws"
    cable = urlunsplit((ws_scheme, parts.netloc, path + "/cable", "", ""))
    return root, cable, account


_DEFAULT_SENTENCES: dict[int, str] = {
    400: "Chatwoot refused the request as invalid.",
    403: "Chatwoot does not allow that for this inbox.",
    404: "That item was not found in Chatwoot; it may have been deleted, or you cannot see it.",
    413: "That is too large for Chatwoot.",
    422: "Chatwoot refused the request as invalid.",
}


# ==================================================================== backend


class ChatwootBackend(StreamingBackend):
    """Backend for a Chatwoot account, as one agent (their ``api_access_token``).

    ``base_url``: the address you open Chatwoot with; a dashboard URL such as
    ``https://chat.example.com/app/accounts/3/dashboard`` also supplies the
    account id.  ``api_access_token`` (or ``token``, the name the CLI passes):
    from Chatwoot's Profile settings page.  ``account_id``: the number in the
    dashboard URL; when omitted it comes from the URL or, if the user belongs
    to one account only, from the profile.  ``inbox_ids``: only show these
    inboxes.  ``outbox_path``: persistent outbox file (``None`` sends
    directly).  ``agent_capacity``: Chatwoot has no per-agent capacity; this
    number is ``Me.capacity`` (the console's accept limit) and every agent's
    capacity in supervisor views.
    ``send_presence``: send ActionCable ``update_presence`` every 20 s (keeps
    the user "online" in Chatwoot while the console is open; a read-only
    console should pass ``False``).  ``transport``/``event_hooks`` go to
    ``httpx.AsyncClient`` (tests, proxies).
    """

    name = "chatwoot"
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.SEND,
            Capability.NOTES,
            Capability.ACCEPT,
            Capability.TRANSFER,
            Capability.CLOSE,
            Capability.TYPING,
            Capability.CUSTOMERS,
            Capability.CUSTOMER_NOTES,
            Capability.CANNED_REPLIES,
            Capability.SUPERVISOR_VIEWS,
            Capability.TRANSCRIPT,
        }
    )

    def __init__(
        self,
        base_url: str,
        api_access_token: str | None = None,
        account_id: int | str | None = None,
        *,
        token: str | None = None,
        inbox_ids: list[int] | list[str] | tuple[int, ...] | None = None,
        timeout: float = 10.0,
        outbox_path: Path | str | None = None,
        agent_capacity: int = limits.DEFAULT_CAPACITY,
        send_presence: bool = True,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        stable_after: float = 10.0,
        stale_after: float = 10.0,
        subscribe_timeout: float = 5.0,
        presence_interval: float = PRESENCE_INTERVAL,
        cable_url: str | None = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
        transport: Any = None,
    ) -> None:
        secret = api_access_token if api_access_token is not None else token
        if not secret:
            raise ValueError(
                "A Chatwoot access token is needed: copy it from Profile settings → Access token."
            )
        self.base_url = base_url
        self._root, self._cable_url, url_account = _split_base_url(base_url)
        if cable_url is not None:
            self._cable_url = cable_url
        self._token = secret
        if account_id is not None and str(account_id).strip() != "":
            text = str(account_id).strip()
            if not text.isdigit():
                raise ValueError(f"Chatwoot account id {account_id!r} must be a number.")
            self._account_id: int | None = int(text)
        else:
            self._account_id = url_account
        self._inbox_ids = frozenset(int(i) for i in inbox_ids) if inbox_ids else frozenset()
        self._timeout = timeout
        self._agent_capacity = agent_capacity
        self._send_presence = send_presence
        Backoff(backoff_base, backoff_cap)  # validate now
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._stable_after = stable_after
        self._stale_after = stale_after
        self._subscribe_timeout = subscribe_timeout
        self._presence_interval = presence_interval
        self._event_hooks = dict(event_hooks or {})
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._state = ConnectionState(ConnectionPhase.OFFLINE)
        self._profile: cw.CwProfile | None = None
        self._me: m.Me | None = None
        self._chatwoot_role: str | None = None
        self._closed = False
        self._auth_failed = False
        # Stream.
        self._seq = 0
        self._seen_messages: OrderedDict[str, None] = OrderedDict()
        self._seen_echo: OrderedDict[str, m.Message] = OrderedDict()
        self._events: asyncio.Queue[m.Event | None] | None = None
        self._stream_task: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._ws: Any = None
        self._had_connection = False
        # Conversations Chatwoot says cannot get a reply now (can_reply false:
        # the channel's reply window, e.g. WhatsApp's 24 h, has closed).
        self._no_reply: set[str] = set()
        self._inbox_of: dict[str, int] = {}
        # Sends whose earlier attempt may have reached Chatwoot: client_id -> first attempt time.
        self._uncertain: dict[str, float] = {}
        outbox = self._open_outbox(
            outbox_path, self._send_once, backoff_base=backoff_base, backoff_cap=backoff_cap
        )
        if outbox is not None:
            for entry in outbox.pending():
                # Left over from an earlier session: it may have been delivered already.
                self._uncertain[entry.client_id] = entry.enqueued_at or 0.0

    # ================================================================ state

    @property
    def account_id(self) -> int | None:
        return self._account_id

    @property
    def chatwoot_role(self) -> str | None:
        """``agent`` or ``administrator`` after :meth:`connect` (both map to protocol role ``agent``)."""
        return self._chatwoot_role

    @property
    def last_seq(self) -> int:
        return self._seq

    # ================================================================ HTTP

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            import httpx

            from console import __version__

            self._client = httpx.AsyncClient(
                base_url=self._root,
                headers={
                    "api_access_token": self._token,
                    "Accept": "application/json",
                    "User-Agent": f"agent-console/{__version__}",
                },
                timeout=httpx.Timeout(self._timeout, connect=min(self._timeout, 5.0)),
                limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
                event_hooks=self._event_hooks,
                transport=self._transport,
            )
        return self._client

    def _acct(self, path: str) -> str:
        if self._account_id is None:
            raise BackendError(
                "The Chatwoot account is not known yet. Connect first, or give the account id "
                "(the number after /accounts/ in the dashboard address).",
                code="no_account",
            )
        return f"/api/v1/accounts/{self._account_id}{path}"

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        body: Any = None,
        fatal_401: bool = False,
    ) -> httpx.Response:
        import httpx

        if self._closed:
            raise BackendError("The Chatwoot connection is closed.", code="closed")
        client = self._http()
        content = msgspec.json.encode(body) if body is not None else None
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = await client.request(
                method, path, params=params, content=content, headers=headers
            )
        except httpx.TimeoutException as exc:
            raise BackendError(
                f"Chatwoot at {self._root} did not answer within {self._timeout:g} s. "
                "Check your connection and try again.",
                code="timeout",
            ) from exc
        except httpx.HTTPError as exc:
            raise BackendError(
                f"Cannot reach Chatwoot at {self._root}. Check the address and your network.",
                code="unreachable",
            ) from exc
        if response.status_code < 400:
            return response
        raise self._error_from(response, fatal_401=fatal_401)

    def _error_from(self, response: httpx.Response, *, fatal_401: bool) -> BackendError:
        status = response.status_code
        said = ""
        token_arrived = True
        with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
            err = msgspec.json.decode(response.content, type=cw.CwError)
            errors = err.errors if isinstance(err.errors, list) else [err.errors]
            for candidate in (err.error, err.message, err.description, *errors):
                if isinstance(candidate, str) and candidate.strip():
                    said = candidate
                    break
            # No api_access_token header reached Chatwoot: it fell back to
            # devise_token_auth, which answers {"errors": ["You need to sign in..."]}.
            token_arrived = err.errors is None
        said = _clean(said)[:300]
        if status == 401 and not token_arrived:
            message = (
                "Chatwoot did not receive your access token: it answered as if no token was "
                "sent. A proxy in front of Chatwoot drops the api_access_token header; "
                "nginx does this by default with any header containing an underscore "
                "(whoever runs Chatwoot must set 'underscores_in_headers on;')."
            )
            if fatal_401:
                self._fatal_auth(message)
            return AuthError(message, code="token_dropped", status=401)
        if status == 401:
            if fatal_401:
                message = (
                    "Chatwoot did not accept your access token"
                    + (f" ({said})" if said else "")
                    + ". Copy it again from Profile settings → Access token and sign in again."
                )
                self._fatal_auth(message)
                return AuthError(message, code="unauthorized", status=401)
            message = (
                "Chatwoot refused this"
                + (f" ({said})" if said else "")
                + ". Your role may not be allowed to do it, or your token was revoked."
            )
            return AuthError(message, code="forbidden", status=401)
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), default=5.0)
            return RateLimitedError(
                f"Chatwoot is rate limiting this console; try again in "
                f"{max(1, round(retry_after))} s.",
                retry_after=retry_after,
            )
        if status >= 500:
            return BackendError(
                f"Chatwoot had an internal error ({status}). Try again; if it keeps happening, "
                "tell whoever runs Chatwoot.",
                code=f"http_{status}",
                status=status,
            )
        base = _DEFAULT_SENTENCES.get(status, f"Chatwoot refused the request ({status}).")
        message = f"{base} Chatwoot said: {said}" if said else base
        return BackendError(message, code=f"http_{status}", status=status)

    def _decode(self, response: httpx.Response, kind: type[T]) -> T:
        try:
            return msgspec.json.decode(response.content, type=kind)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise BackendError(
                f"Chatwoot sent an answer the console cannot read ({exc}). "
                "It may run an unsupported version.",
                code="bad_response",
            ) from exc

    async def _get(
        self,
        path: str,
        kind: type[T],
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
    ) -> T:
        if isinstance(params, Mapping):
            params = {k: v for k, v in params.items() if v is not None}
        return self._decode(await self._request("GET", path, params=params), kind)

    # ================================================================ lifecycle

    async def connect(self) -> m.Me:
        """``GET /api/v1/profile``; 401 here is fatal. Starts the outbox."""
        try:
            me = await self.me()
        except AuthError:
            raise
        except BackendError:
            await self._start_outbox()
            raise
        await self._start_outbox()
        return me

    async def _start_outbox(self) -> None:
        if self._outbox is None or self._outbox.started or self._closed or self._auth_failed:
            return
        await self._outbox.start()

    # ================================================================ reads

    async def _fetch_profile(self) -> cw.CwProfile:
        response = await self._request("GET", "/api/v1/profile", fatal_401=True)
        profile = self._decode(response, cw.CwProfile)
        self._profile = profile
        return profile

    async def me(self) -> m.Me:
        profile = await self._fetch_profile()
        if self._account_id is None:
            if len(profile.accounts) != 1:
                names = ", ".join(f"{a.id} ({_clean(a.name)})" for a in profile.accounts)
                raise BackendError(
                    "This Chatwoot user belongs to several accounts; choose one with the "
                    f"account id option ({names or 'none listed'}).",
                    code="no_account",
                )
            self._account_id = profile.accounts[0].id
        account = next((a for a in profile.accounts if a.id == self._account_id), None)
        if account is None:
            message = (
                f"This Chatwoot user is not a member of account {self._account_id}. "
                "Check the account id (the number after /accounts/ in the dashboard address)."
            )
            self._fatal_auth(message)
            raise AuthError(message, code="not_member", status=401)
        self._chatwoot_role = account.role
        departments: list[str] = []
        with contextlib.suppress(BackendError):
            teams = await self._get(self._acct("/teams"), list[dict[str, Any]])
            departments = [str(t["id"]) for t in teams if t.get("is_member") and "id" in t]
        availability = account.availability_status or account.availability or "offline"
        self._me = m.Me(
            id=str(profile.id),
            name=profile.available_name or profile.name,
            role="agent",  # Chatwoot roles: agent | administrator; both may reply
            status=_STATUS_OF_AVAILABILITY.get(availability, "offline"),
            capacity=self._agent_capacity,
            accepting=True,
            department_ids=departments,
        )
        return self._me

    def _visible(self, inbox_id: int | None) -> bool:
        return not self._inbox_ids or inbox_id in self._inbox_ids

    def _inbox_param(self) -> int | None:
        return next(iter(self._inbox_ids)) if len(self._inbox_ids) == 1 else None

    async def list_departments(self) -> list[m.Department]:
        teams = await self._get(self._acct("/teams"), list[cw.CwTeam])
        return [m.Department(id=str(t.id), name=t.name) for t in teams]

    async def list_conversations(
        self,
        *,
        state: m.ConversationState | None = None,
        assignee: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.ConversationPage:
        """One Chatwoot page (25 conversations, fewer after client-side filters).

        ``cursor`` is the next page number.  ``limit`` cannot change Chatwoot's
        page size and is ignored.  ``assignee`` ``me``/``any``/``<agent id>``
        (an agent id is filtered here, not by Chatwoot).
        """
        status = {"bot": "pending", "queued": "open", "active": "open", "closed": "resolved"}.get(
            state or "", "all"
        )
        assignee_type: str | None = None
        if state == "queued":
            assignee_type = "unassigned"
        elif assignee == "me":
            assignee_type = "me"
        elif state == "active":
            assignee_type = "assigned"
        page = 1
        if cursor:
            if not cursor.isdigit() or int(cursor) < 1:
                raise BackendError(
                    "That page cursor is not a Chatwoot page number; reload the list.",
                    code="bad_cursor",
                    status=400,
                )
            page = int(cursor)
        params: dict[str, Any] = {
            "status": status,
            "assignee_type": assignee_type,
            "inbox_id": self._inbox_param(),
            "page": page,
        }
        data = (await self._get(self._acct("/conversations"), cw.CwConversationList, params)).data
        items = []
        for c in data.payload:
            if not self._visible(c.inbox_id):
                continue
            self._note_conversation(c)
            conv = map_conversation(c)
            if state is not None and conv.state != state:
                # An open chat assigned to an AgentBot is "unassigned" to Chatwoot's
                # filter and "bot" here; keep it so a re-list does not lose it.
                if not (state == "queued" and conv.state == "bot"):
                    continue
            if assignee not in (None, "any", "me") and conv.assignee_id != assignee:
                continue
            items.append(conv)
        next_cursor = str(page + 1) if len(data.payload) >= PAGE_SIZE else None
        return m.ConversationPage(items=items, next_cursor=next_cursor)

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        cid = _num(conversation_id, "conversation")
        raw = await self._get(self._acct(f"/conversations/{cid}"), cw.CwConversation)
        self._note_conversation(raw)
        return map_conversation(raw)

    def _note_conversation(self, c: cw.CwConversation) -> None:
        """Remember what the protocol model has no field for: ``can_reply``, ``inbox_id``."""
        key = str(c.id)
        if c.inbox_id is not None:
            self._inbox_of[key] = c.inbox_id
        if c.can_reply is False:
            self._no_reply.add(key)
        elif c.can_reply is True:
            self._no_reply.discard(key)

    async def list_messages(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> m.MessagePage:
        """Latest 20, ``before=`` 20 older, ``after=`` up to 100 newer (Chatwoot's fixed sizes).

        ``has_more``: with ``after`` it means newer ones remain (a full page of
        100); otherwise that older ones may exist (a full page of 20).
        """
        cid = _num(conversation_id, "conversation")
        params = {
            "before": _num(_message_id(before), "message") if before else None,
            "after": _num(_message_id(after), "message") if after else None,
        }
        raw = await self._get(self._acct(f"/conversations/{cid}/messages"), cw.CwMessages, params)
        rows = sorted(raw.payload, key=lambda msg: msg.id)
        full = 100 if after and not before else 20
        items = [map_message(msg, cid) for msg in rows]
        if limit is not None and len(items) > limit:
            items = items[:limit] if after else items[-limit:]
            return m.MessagePage(items=items, has_more=True)
        has_more = len(rows) >= full if not (after and before) else False
        return m.MessagePage(items=items, has_more=has_more)

    async def get_customer(self, customer_id: str) -> m.Customer:
        cid = _num(customer_id, "contact")
        shown = await self._get(self._acct(f"/contacts/{cid}"), cw.CwContactShow)
        labels = await self._get(self._acct(f"/contacts/{cid}/labels"), cw.CwLabels)
        return map_customer(shown.payload, labels.payload)

    async def list_customer_notes(self, customer_id: str) -> list[m.CustomerNote]:
        cid = _num(customer_id, "contact")
        notes = await self._get(self._acct(f"/contacts/{cid}/notes"), list[cw.CwNote])
        return [map_note(n, cid) for n in notes]

    async def list_customer_conversations(self, customer_id: str) -> list[m.Conversation]:
        cid = _num(customer_id, "contact")
        raw = await self._get(
            self._acct(f"/contacts/{cid}/conversations"), cw.CwConversationPayloadList
        )
        return [map_conversation(c) for c in raw.payload if self._visible(c.inbox_id)]

    async def list_canned_replies(self, query: str = "") -> list[m.CannedReply]:
        params = {"search": query} if query else None
        rows = await self._get(self._acct("/canned_responses"), list[cw.CwCannedResponse], params)
        return [map_canned(c) for c in rows]

    async def queues(self) -> m.QueuesView:
        """Per team: open unassigned (waiting) and open assigned (active) from ``/conversations/meta``."""
        teams = await self._get(self._acct("/teams"), list[cw.CwTeam])
        inboxes: list[int | None] = [*sorted(self._inbox_ids)] or [None]
        stats = []
        for team in teams:
            waiting = active = 0
            for inbox in inboxes:  # Chatwoot filters one inbox at a time
                counts = (
                    await self._get(
                        self._acct("/conversations/meta"),
                        cw.CwConversationMetaOnly,
                        {"status": "open", "team_id": team.id, "inbox_id": inbox},
                    )
                ).meta
                waiting += counts.unassigned_count
                active += counts.assigned_count
            stats.append(
                m.QueueStats(
                    department_id=str(team.id),
                    department_name=team.name,
                    waiting=waiting,
                    active=active,
                )
            )
        return m.QueuesView(items=stats)

    async def agents(self) -> m.AgentsView:
        """Agents with Chatwoot's availability; ``load`` counts open chats assigned to each.

        The count pages through open assigned conversations the token can see
        (up to 500); ``capacity`` is the ``agent_capacity`` option.
        """
        agents = await self._get(self._acct("/agents"), list[cw.CwUser])
        load: dict[str, int] = {}
        for page in range(1, _MAX_COUNT_PAGES + 1):
            params = {
                "status": "open",
                "assignee_type": "assigned",
                "inbox_id": self._inbox_param(),
                "page": page,
            }
            data = (
                await self._get(self._acct("/conversations"), cw.CwConversationList, params)
            ).data
            for c in data.payload:
                if (
                    c.meta.assignee is not None
                    and not _bot_assigned(c)
                    and self._visible(c.inbox_id)
                ):
                    key = str(c.meta.assignee.id)
                    load[key] = load.get(key, 0) + 1
            if len(data.payload) < PAGE_SIZE:
                break
        return m.AgentsView(items=[self._agent_stats(a, load.get(str(a.id), 0)) for a in agents])

    # ================================================================ writes

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        """Post a reply (``internal`` -> private note), through the outbox when there is one."""
        self._check_sendable(conversation_id, message)
        if self._outbox is None:
            return await self._post_message(conversation_id, message)
        await self._start_outbox()
        return await self._send_through_outbox(conversation_id, message)

    def _check_sendable(self, conversation_id: str, message: m.SendMessage) -> None:
        cid = _num(conversation_id, "conversation")
        if not message.internal and cid in self._no_reply:
            raise BackendError(
                "Chatwoot says this chat cannot be answered now: the channel's reply window "
                "has closed (for example WhatsApp's 24 hours). Private notes still work.",
                code="cannot_reply",
                status=409,
            )
        if message.attachment_ids:
            raise BackendError(
                "Sending attachments to Chatwoot is not supported by this console yet; "
                "send the text alone or use the Chatwoot dashboard.",
                code="unsupported",
                status=400,
            )
        if not message.body.strip():
            raise BackendError("Type a message first.", code="empty", status=400)
        if len(message.body) > MAX_CONTENT_CHARS:
            raise BackendError(
                f"The message is longer than Chatwoot's limit of {MAX_CONTENT_CHARS:,} "
                "characters; shorten it.",
                code="too_long",
                status=400,
            )

    async def _post_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        cid = _num(conversation_id, "conversation")
        body = {"content": message.body, "private": message.internal, "echo_id": message.client_id}
        response = await self._request(
            "POST", self._acct(f"/conversations/{cid}/messages"), body=body
        )
        sent = map_message(self._decode(response, cw.CwMessage), cid)
        if sent.client_id is None:
            sent = msgspec.structs.replace(sent, client_id=message.client_id)
        self._remember_echo(sent)
        return sent

    async def _send_once(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        """One outbox attempt. Chatwoot does not dedupe, so look before resending."""
        self._check_sendable(conversation_id, message)
        client_id = message.client_id
        seen = self._seen_echo.get(client_id)
        if seen is not None:
            self._uncertain.pop(client_id, None)
            return seen
        if client_id in self._uncertain:
            found = await self._find_delivered(conversation_id, message, self._uncertain[client_id])
            if found is not None:
                self._uncertain.pop(client_id, None)
                return found
        started = time.time()
        try:
            sent = await self._post_message(conversation_id, message)
        except AuthError as exc:
            # 401 is also Chatwoot's permission denial: ask the profile which one it is.
            # A dead token raises a fatal AuthError here (the outbox pauses); a live one
            # means this conversation is off limits (the entry fails with the sentence).
            await self.me()
            raise BackendError(str(exc), code="forbidden", status=403) from exc
        except BackendError as exc:
            if exc.status is None or exc.status >= 500:
                # Timeout, dropped connection or server error: it may have been stored.
                self._uncertain.setdefault(client_id, started)
            raise
        self._uncertain.pop(client_id, None)
        return sent

    async def _find_delivered(
        self, conversation_id: str, message: m.SendMessage, since: float
    ) -> m.Message | None:
        """Our message in the latest page: same echo id, or same text/privacy from us since then."""
        page = await self.list_messages(conversation_id)
        me_id = self._me.id if self._me else None
        for item in reversed(page.items):
            if item.client_id == message.client_id:
                return item
            if (
                item.author_kind == "agent"
                and (me_id is None or item.author_id == me_id)
                and item.internal == message.internal
                and same_rendered_body(message.body, item.body)
                and item.created_at.timestamp() >= since - 120
            ):
                return msgspec.structs.replace(item, client_id=message.client_id)
        return None

    def _classify_send_error(self, exc: BaseException) -> Verdict:
        if (verdict := self._rate_limit_verdict(exc)) is not None:
            return verdict
        if isinstance(exc, AuthError) and exc.code != "forbidden":
            return Pause(str(exc))
        if isinstance(exc, BackendError) and exc.status is not None and 400 <= exc.status < 500:
            return Fail(str(exc), exc.code)
        return Retry(reason=str(exc))

    def _remember_echo(self, message: m.Message) -> None:
        if message.client_id:
            self._seen_echo[message.client_id] = message
            while len(self._seen_echo) > _SEEN_ECHO_IDS:
                self._seen_echo.popitem(last=False)

    async def _assign(self, cid: str, body: dict[str, Any]) -> None:
        """``POST .../assignments``; Chatwoot answers ``200 null`` for an id it does not know.

        It has then already *cleared* the assignee or team (``find_by`` gives
        nil, which is saved), so say so instead of reporting success.
        """
        response = await self._request(
            "POST", self._acct(f"/conversations/{cid}/assignments"), body=body
        )
        wanted = body.get("assignee_id", body.get("team_id"))
        if wanted is None:
            return
        answer: Any = None
        with contextlib.suppress(msgspec.DecodeError):
            answer = msgspec.json.decode(response.content) if response.content else None
        if not isinstance(answer, dict) or answer.get("id") != wanted:
            what = "agent" if "assignee_id" in body else "team"
            cleared = "unassigned" if what == "agent" else "without a team"
            raise BackendError(
                f"Chatwoot does not know that {what} (id {wanted}) and left the chat "
                f"{cleared}. Reload the list of {what}s and try again.",
                code="unknown_target",
                status=409,
            )

    async def _raw_conversation(self, cid: str) -> cw.CwConversation:
        raw = await self._get(self._acct(f"/conversations/{cid}"), cw.CwConversation)
        self._note_conversation(raw)
        return raw

    async def transfer_targets(self, conversation_id: str) -> list[m.AgentStats]:
        """Agents who may take this chat: ``GET /assignable_agents?inbox_ids[]=<its inbox>``.

        That is what Chatwoot's dashboard offers: the inbox's members plus
        every administrator.  An agent outside the inbox could not even see
        the chat after a transfer.
        """
        cid = _num(conversation_id, "conversation")
        raw = await self._raw_conversation(cid)
        return [self._agent_stats(a, 0) for a in await self._assignable(raw.inbox_id)]

    async def _assignable(self, inbox_id: int | None) -> list[cw.CwUser]:
        params = [("inbox_ids[]", inbox_id)] if inbox_id is not None else None
        response = await self._request("GET", self._acct("/assignable_agents"), params=params)
        try:
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            raise BackendError(
                "Chatwoot sent an unreadable list of assignable agents.", code="bad_response"
            ) from exc
        rows = body.get("payload") if isinstance(body, dict) else body
        out = []
        for row in rows if isinstance(rows, list) else []:
            with contextlib.suppress(msgspec.ValidationError, TypeError):
                out.append(lenient(row, cw.CwUser))
        return out

    def _agent_stats(self, a: cw.CwUser, load: int) -> m.AgentStats:
        return m.AgentStats(
            agent_id=str(a.id),
            name=a.available_name or a.name or "",
            status=_STATUS_OF_AVAILABILITY.get(a.availability_status or "", "offline"),
            accepting=(a.availability_status or "") in ("online", "available"),
            load=load,
            capacity=self._agent_capacity,
        )

    async def accept(self, conversation_id: str) -> m.Conversation:
        """Assign the chat to me; refuses a chat someone else already has or that is resolved."""
        cid = _num(conversation_id, "conversation")
        me = self._me or await self.me()
        raw = await self._raw_conversation(cid)
        current = map_conversation(raw)
        if current.state == "closed":
            raise BackendError(
                f"This chat is {_clean(raw.status)} in Chatwoot; reopen it there first.",
                code="not_queued",
                status=409,
            )
        if current.assignee_id not in (None, me.id):
            raise BackendError(
                f"This chat is already assigned to {_clean(current.assignee_name or 'someone')}.",
                code="not_queued",
                status=409,
            )
        if current.assignee_id != me.id:
            await self._assign(cid, {"assignee_id": int(me.id)})
        return await self.get_conversation(cid)

    async def transfer(self, conversation_id: str, request: m.TransferRequest) -> m.Conversation:
        """To an agent (``assignee_id``) or to a team (``team_id``, Chatwoot's semantics).

        An agent must be assignable for the chat's inbox (``/assignable_agents``):
        anyone else could not see it afterwards.  A team change is one
        ``{team_id}``: Chatwoot then drops an assignee who is not in the team
        and, when the team has auto-assignment on (the default), assigns an
        online member itself.  Only when you stay assigned (you are in that
        team) does the console unassign you, so the chat waits in the team's
        queue; it never undoes Chatwoot's own pick.
        """
        cid = _num(conversation_id, "conversation")
        if (request.agent_id is None) == (request.department_id is None):
            raise BackendError(
                "Choose either an agent or a team to transfer to.", code="bad_request", status=400
            )
        raw = await self._raw_conversation(cid)
        if request.agent_id is not None:
            agent_id = int(_num(request.agent_id, "agent"))
            allowed = await self._assignable(raw.inbox_id)
            if all(a.id != agent_id for a in allowed):
                names = ", ".join(_clean(a.available_name or a.name or str(a.id)) for a in allowed)
                raise BackendError(
                    "That agent is not a member of this chat's inbox in Chatwoot and could "
                    f"not see it. Agents who can take it: {names or 'none'}.",
                    code="not_assignable",
                    status=409,
                )
        else:
            assert request.department_id is not None
            team_id = int(_num(request.department_id, "team"))
            teams = await self._get(self._acct("/teams"), list[cw.CwTeam])
            if all(t.id != team_id for t in teams):
                raise BackendError(
                    f"Chatwoot has no team with id {team_id}.", code="unknown_target", status=404
                )
        if request.note.strip():
            await self._post_message(
                cid,
                m.SendMessage(
                    client_id=new_client_id(),
                    body=request.note,
                    internal=True,
                ),
            )
        if request.agent_id is not None:
            await self._assign(cid, {"assignee_id": agent_id})
            return await self.get_conversation(cid)
        await self._assign(cid, {"team_id": team_id})
        after = await self._raw_conversation(cid)
        me = self._me.id if self._me else None
        assignee = after.meta.assignee
        if assignee is not None and not _bot_assigned(after) and str(assignee.id) == me:
            # Chatwoot kept you (a member of that team): hand it to the team's queue.
            await self._assign(cid, {"assignee_id": None})
            return await self.get_conversation(cid)
        return map_conversation(after)

    async def close(self, conversation_id: str, request: m.CloseRequest) -> m.Conversation:
        """Resolve (``toggle_status``); a transcript mail first when asked.

        ``request_csat`` is not honoured: Chatwoot sends its CSAT survey on
        resolve by itself when the inbox has it enabled.
        """
        cid = _num(conversation_id, "conversation")
        if request.send_transcript:
            # The protocol's default address is the customer's own (the close dialog
            # leaves the field empty when the agent keeps it); Chatwoot wants it spelled.
            email = request.transcript_email
            if not email:
                sender = (await self._raw_conversation(cid)).meta.sender
                email = sender.email if sender is not None else None
            if not email:
                raise BackendError(
                    "Give an e-mail address for the transcript: the contact has none in Chatwoot.",
                    code="bad_request",
                    status=400,
                )
            await self._request(
                "POST",
                self._acct(f"/conversations/{cid}/transcript"),
                body={"email": email},
            )
        response = await self._request(
            "POST",
            self._acct(f"/conversations/{cid}/toggle_status"),
            body={"status": "resolved"},
        )
        result = self._decode(response, cw.CwToggleStatus).payload
        if result.current_status not in (None, "resolved"):
            raise BackendError(
                f"Chatwoot did not resolve the chat (it is {_clean(result.current_status)}).",
                code="not_closed",
                status=409,
            )
        return await self.get_conversation(cid)

    async def set_typing(self, conversation_id: str, typing: bool) -> None:
        cid = _num(conversation_id, "conversation")
        await self._request(
            "POST",
            self._acct(f"/conversations/{cid}/toggle_typing_status"),
            body={"typing_status": "on" if typing else "off", "is_private": False},
        )

    async def mark_read(self, conversation_id: str) -> None:
        """``update_last_seen``: marks the chat read for *every* agent (one column in Chatwoot)."""
        cid = _num(conversation_id, "conversation")
        await self._request("POST", self._acct(f"/conversations/{cid}/update_last_seen"))

    async def set_customer_tags(self, customer_id: str, tags: list[str]) -> m.Customer:
        """Replace the contact's labels (Chatwoot labels must exist in the account)."""
        cid = _num(customer_id, "contact")
        await self._request(
            "POST", self._acct(f"/contacts/{cid}/labels"), body={"labels": list(tags)}
        )
        return await self.get_customer(cid)

    async def add_customer_note(self, customer_id: str, body: str) -> m.CustomerNote:
        cid = _num(customer_id, "contact")
        if not body.strip():
            raise BackendError("Type the note first.", code="empty", status=400)
        response = await self._request(
            "POST", self._acct(f"/contacts/{cid}/notes"), body={"note": {"content": body}}
        )
        return map_note(self._decode(response, cw.CwNote), cid)

    async def create_canned_reply(self, reply: m.CannedReplyCreate) -> m.CannedReply:
        """Chatwoot canned responses have a short code and content only (title -> short code)."""
        code = reply.shortcut or re.sub(r"\s+", "_", reply.title.strip().lower())
        response = await self._request(
            "POST",
            self._acct("/canned_responses"),
            body={"short_code": code, "content": console_to_liquid(reply.body)},
        )
        return map_canned(self._decode(response, cw.CwCannedResponse))

    # ================================================================ events (ActionCable)

    stream_name = "chatwoot-cable"
    closed_detail = "Chatwoot closed the event connection."

    def _auth_error_is_fatal(self, exc: AuthError) -> bool:
        return False  # the profile check calls _fatal_auth itself on a 401

    def _describe_disconnect(self, exc: Exception) -> str:
        return _describe(exc)

    def _emit(self, kind: str, data: dict[str, Any], at: datetime | None = None) -> None:
        assert self._events is not None
        self._seq += 1
        self._events.put_nowait(
            m.Event(seq=self._seq, type=kind, at=at or datetime.now(UTC), data=data)
        )

    def _identifier(self, profile: cw.CwProfile) -> str:
        # Chatwoot keys subscriptions by this exact string: build it once per connection.
        return msgspec.json.encode(
            {
                "channel": ROOM_CHANNEL,
                "pubsub_token": profile.pubsub_token,
                "account_id": self._account_id,
                "user_id": profile.id,
            }
        ).decode()

    async def _one_connection(self) -> float | None:
        """Profile check, cable handshake, subscribe, pump. Returns when it was connected."""
        from websockets.asyncio.client import connect
        from websockets.typing import Origin, Subprotocol

        assert self._stop is not None
        try:
            await self.me()  # also learns pubsub_token and account; 401 here is fatal
        except AuthError as exc:
            if self._auth_failed:
                raise StreamAuthFailed(str(exc)) from exc
            raise
        profile = self._profile
        assert profile is not None
        if not profile.pubsub_token:
            raise ConnectionError("Chatwoot's profile has no pubsub_token for the event feed.")
        identifier = self._identifier(profile)
        parts = urlsplit(self._root)
        origin = f"{parts.scheme}://{parts.netloc}"
        ws = await connect(
            self._cable_url,
            subprotocols=[Subprotocol(CABLE_SUBPROTOCOL)],
            origin=Origin(origin),
            open_timeout=self._timeout,
            ping_interval=None,  # ActionCable pings every 3 s itself
            close_timeout=2.0,
            max_size=limits.MAX_JSON_BYTES * 4,
            proxy=None,
            user_agent_header="agent-console",
        )
        self._ws = ws
        connected_at: float | None = None
        try:
            await self._handshake(ws, identifier)
            connected_at = time.monotonic()
            if self._had_connection:
                await self._resync("reconnect")
            self._had_connection = True
            self._set_state(ConnectionPhase.CONNECTED)
            if self._outbox is not None:
                self._outbox.wake()
            await self._pump(ws, identifier)
            return connected_at
        except Exception as exc:
            exc.connected_at = connected_at  # type: ignore[attr-defined]
            raise
        finally:
            self._ws = None
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 2.0)

    async def _handshake(self, ws: Any, identifier: str) -> None:
        deadline = time.monotonic() + self._timeout
        while True:
            frame = _frame(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
            if frame.get("type") == "welcome":
                break
            if frame.get("type") == "disconnect":
                raise ConnectionError(
                    f"Chatwoot refused the event connection: {frame.get('reason')}"
                )
        await ws.send(
            msgspec.json.encode({"command": "subscribe", "identifier": identifier}).decode()
        )
        deadline = time.monotonic() + self._subscribe_timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _SubscriptionFailed(
                    "Chatwoot did not confirm the event subscription; check the account id."
                )
            try:
                frame = _frame(await asyncio.wait_for(ws.recv(), remaining))
            except TimeoutError:
                continue
            kind = frame.get("type")
            if frame.get("identifier") == identifier and kind == "confirm_subscription":
                return
            if frame.get("identifier") == identifier and kind == "reject_subscription":
                raise _SubscriptionFailed("Chatwoot rejected the event subscription.")
            if kind == "disconnect":
                raise ConnectionError(
                    f"Chatwoot closed the event connection: {frame.get('reason')}"
                )

    async def _pump(self, ws: Any, identifier: str) -> None:
        presence = msgspec.json.encode(
            {
                "command": "message",
                "identifier": identifier,
                "data": msgspec.json.encode({"action": "update_presence"}).decode(),
            }
        ).decode()

        async def keep_present() -> None:
            while True:
                await ws.send(presence)
                await asyncio.sleep(self._presence_interval)

        task = (
            asyncio.create_task(keep_present(), name="chatwoot-presence")
            if self._send_presence
            else None
        )
        try:
            while True:
                try:
                    raw = await asyncio.wait_for(ws.recv(), self._stale_after)
                except TimeoutError as exc:
                    raise ConnectionError(
                        f"Nothing heard from Chatwoot for {self._stale_after:g} s."
                    ) from exc
                frame = _frame(raw)
                kind = frame.get("type")
                if kind == "ping" or kind == "confirm_subscription":
                    continue
                if kind == "disconnect":
                    if frame.get("reason") == "unauthorized" and frame.get("reconnect") is False:
                        raise StreamAuthFailed(
                            "Chatwoot ended the event connection (unauthorized)."
                        )
                    raise ConnectionError(
                        f"Chatwoot closed the event connection: {frame.get('reason')}"
                    )
                if frame.get("identifier") != identifier:
                    continue
                message = frame.get("message")
                if isinstance(message, dict):
                    self._on_cable_event(message)
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _on_cable_event(self, message: dict[str, Any]) -> None:
        name = message.get("event")
        data = message.get("data")
        if not isinstance(name, str) or not isinstance(data, dict):
            return
        if self._account_id is not None and data.get("account_id") not in (None, self._account_id):
            return  # the dashboard drops other accounts' events too
        try:
            for kind, payload in self.map_cable_event(name, data):
                self._emit(kind, payload)
        except (msgspec.ValidationError, TypeError, ValueError) as exc:
            log.warning("chatwoot: dropping malformed %s event: %s", name, exc)

    def map_cable_event(self, name: str, data: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        """One Chatwoot event -> protocol (type, data) pairs (empty when not mapped).

        Payloads are decoded field by field (:func:`lenient`): a field of an
        unexpected type is ignored, not the whole event.
        """
        if name == "message.created":
            raw = lenient(data, cw.CwMessage)
            if not self._visible(data.get("inbox_id")):
                return []
            message = map_message(raw)
            if message.id in self._seen_messages:
                return []
            self._seen_messages[message.id] = None
            while len(self._seen_messages) > _SEEN_MESSAGE_IDS:
                self._seen_messages.popitem(last=False)
            self._remember_echo(message)
            return [("message.created", m.to_builtins(message))]
        if name == "message.updated":
            if not self._visible(data.get("inbox_id")):
                return []
            return self._message_notices(lenient(data, cw.CwMessage), data)
        if name == "conversation.created" or name in _CONVERSATION_EVENTS:
            conv = lenient(data, cw.CwConversation)
            if not self._visible(conv.inbox_id):
                return []
            self._note_conversation(conv)
            kind = (
                "conversation.created" if name == "conversation.created" else "conversation.updated"
            )
            return [(kind, m.to_builtins(map_conversation(conv)))]
        if name in ("conversation.typing_on", "conversation.typing_off"):
            conv_data = data.get("conversation")
            user = data.get("user")
            if not isinstance(conv_data, dict):
                return []
            conv = lenient(conv_data, cw.CwConversation)
            if not self._visible(conv.inbox_id):
                return []
            who = lenient(user, cw.CwSender) if isinstance(user, dict) else cw.CwSender()
            if who.type == "user" and self._me is not None and str(who.id) == self._me.id:
                return []
            typing = m.TypingEvent(
                conversation_id=str(conv.id),
                author_kind="customer" if who.type == "contact" else "agent",
                author_name=who.available_name or who.name or "",
                typing=name == "conversation.typing_on",
            )
            return [("typing", m.to_builtins(typing))]
        return []

    def _message_notices(
        self, raw: cw.CwMessage, data: dict[str, Any]
    ) -> list[tuple[str, dict[str, Any]]]:
        """``message.updated`` -> a system line in the transcript for what the agent must know.

        The protocol has no message edits, so a failed delivery (``status:
        failed`` with ``content_attributes.external_error``, e.g. outside a
        channel's reply window) and a deletion (``content_attributes.deleted``)
        become system messages with the ids ``<message id>:failed`` and
        ``<message id>:deleted`` (one each, however often Chatwoot repeats the
        update).  Delivered/read receipts and other edits are not shown.
        """
        attributes = raw.content_attributes or {}
        conversation_id = str(raw.conversation_id) if raw.conversation_id is not None else ""
        if not conversation_id:
            return []
        notices: list[tuple[str, str]] = []
        if attributes.get("deleted"):
            notices.append(("deleted", "A message in this chat was deleted in Chatwoot."))
        elif raw.status == "failed":
            error = attributes.get("external_error")
            reason = _clean(error)[:300] if isinstance(error, str) and error.strip() else ""
            notices.append(
                (
                    "failed",
                    "Chatwoot could not deliver this message to the customer"
                    + (f": {reason}" if reason else ".")
                    + (f" Message: {_clean(raw.content or '')[:80]}" if raw.content else ""),
                )
            )
        out = []
        for what, text in notices:
            notice_id = f"{raw.id}:{what}"
            if notice_id in self._seen_messages:
                continue
            self._seen_messages[notice_id] = None
            notice = m.Message(
                id=notice_id,
                conversation_id=conversation_id,
                author_kind="system",
                body=text,
                created_at=_ts(data.get("updated_at")) or datetime.now(UTC),
            )
            out.append(("message.created", m.to_builtins(notice)))
        return out

    async def _resync(self, reason: str) -> None:
        """After a gap in the feed: re-list open and pending chats, yield one ``client.resync``."""
        conversations: list[m.Conversation] = []
        for state in ("bot", "queued", "active"):
            cursor: str | None = None
            for _ in range(_MAX_RESYNC_PAGES):
                page = await self.list_conversations(state=state, cursor=cursor)
                conversations.extend(page.items)
                cursor = page.next_cursor
                if not cursor:
                    break
        assert self._events is not None
        seq = self._seq + 1
        resync = m.Resync(reason=reason, last_seq=seq, conversations=conversations)
        self._emit(m.RESYNC_EVENT_TYPE, m.to_builtins(resync))


def _frame(raw: str | bytes) -> dict[str, Any]:
    try:
        frame = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ConnectionError(f"unreadable frame from Chatwoot: {exc}") from exc
    if not isinstance(frame, dict):
        raise ConnectionError("unexpected frame from Chatwoot (not a JSON object)")
    return frame


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "Chatwoot did not answer in time."
    if isinstance(exc, _SubscriptionFailed):
        return str(exc)
    if isinstance(exc, BackendError):
        return str(exc)
    if isinstance(exc, ConnectionRefusedError):
        return "Cannot reach Chatwoot (connection refused)."
    if isinstance(exc, OSError) and not isinstance(exc, ConnectionError):
        return "Cannot reach Chatwoot."
    return f"Connection lost: {str(exc) or type(exc).__name__}"
