"""The console's Matrix backend: team-room state + conversation rooms → protocol models/events.

The mapping is docs/matrix.md.  In short: the team room's
``io.agent-console.conversation`` state (one per conversation room) is the
queue; conversation rooms carry the messages; ``/sync`` long-polling with a
``since`` token (kept on disk) is the event stream; sends go through the
persistent outbox with the client id as the Matrix transaction id, so a
resend is idempotent.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

from console.backends._streaming import StreamingBackend
from console.backends.base import (
    AuthError,
    BackendError,
    Capability,
    ConnectionPhase,
    ConnectionState,
)
from console.backends.matrix._api import (
    CLIENT,
    MEDIA_DOWNLOAD,
    MEDIA_UPLOAD,
    Api,
    seg,
)
from console.core.backoff import Backoff
from console.core.outbox import Fail, Pause, Retry, Verdict
from console.protocol import limits
from console.protocol import models as m

log = logging.getLogger(__name__)

CONVERSATION = "io.agent-console.conversation"
CUSTOMER = "io.agent-console.customer"
DEPARTMENT = "io.agent-console.department"
CANNED = "io.agent-console.canned_reply"
CLIENT_ID_KEY = "io.agent-console.client_id"
AGENT_LEVEL = 50
_TEXT_TYPES = {"m.text", "m.notice", "m.emote"}
_FILE_TYPES = {"m.file", "m.image", "m.audio", "m.video"}
_SEEN_EVENTS = 50_000
_GAP_PAGES = 50

SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {
        "timeline": {"limit": 100},
        "ephemeral": {"types": ["m.typing"]},
        "account_data": {"not_types": ["*"]},
        "state": {"lazy_load_members": False},
    },
}


def conversation_id_for(room_id: str) -> str:
    """The console's id for a room: ``mx`` + unpadded URL-safe base64 of the room id.

    Room ids (``!abc:example.org``) carry ``!`` and ``:``, which the UI cannot use in
    widget ids; the encoding keeps letters, digits, ``-`` and ``_`` only.
    """
    return "mx" + base64.urlsafe_b64encode(room_id.encode()).decode().rstrip("=")


def room_of(conversation_id: str) -> str:
    """Inverse of :func:`conversation_id_for` (a raw ``!room:id`` passes through)."""
    if conversation_id.startswith("!") or not conversation_id.startswith("mx"):
        return conversation_id
    raw = conversation_id[2:]
    try:
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return conversation_id


def _ms(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.fromtimestamp(value / 1000, UTC)


def _now_ms() -> int:
    return int(time.time() * 1000)


def safe_filename(name: str, fallback: str = "attachment") -> str:
    """A file name safe to create in a download folder: no separators, controls or leading dots."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    name = re.sub(r"[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]", "", name)
    name = name.strip().lstrip(".").strip()
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + dot + ext[:9]) if dot and len(ext) < 10 else name[:120]
    return name or fallback


def password_login(
    url: str, user: str, password: str, *, timeout: float = 15.0, **_settings: Any
) -> str:
    """``POST /login`` (``m.login.password``) once; returns the access token.  Raises BackendError."""
    import httpx

    body = {
        "type": "m.login.password",
        "identifier": {"type": "m.id.user", "user": user},
        "password": password,
        "initial_device_display_name": "agent-console",
    }
    try:
        response = httpx.post(url.rstrip("/") + CLIENT + "/login", json=body, timeout=timeout)
    except httpx.HTTPError as exc:
        raise BackendError(
            f"Cannot reach the homeserver at {url}. Check the address.", code="unreachable"
        ) from exc
    if response.status_code != 200:
        detail = Api(url, None, timeout=timeout).error_from(response)
        if response.status_code == 403:
            raise AuthError(
                "The homeserver refused that user and password.", code=detail.code, status=403
            )
        raise detail
    token = response.json().get("access_token")
    if not isinstance(token, str) or not token:
        raise BackendError("The homeserver did not return an access token.", code="bad_response")
    return token


class MatrixBackend(StreamingBackend):
    """Backend for a support desk on a Matrix homeserver (see docs/matrix.md).

    ``base_url``: the homeserver's client-server base URL.  ``token``: the
    account's access token.  ``team_room``: alias or id of the team room.
    ``desk_user``: the desk account (its messages are ``system`` messages).
    ``outbox_path``: persistent outbox; the ``since`` token is kept beside it
    (``state_path`` to choose another file).  ``sync_timeout``: long-poll seconds.
    """

    name = "matrix"
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.SEND,
            Capability.ACCEPT,
            Capability.TRANSFER,
            Capability.CLOSE,
            Capability.TYPING,
            Capability.ATTACHMENTS,
            Capability.CUSTOMERS,
            Capability.CUSTOMER_NOTES,
            Capability.CANNED_REPLIES,
            Capability.SUPERVISOR_VIEWS,
        }
    )

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        team_room: str,
        desk_user: str | None = None,
        outbox_path: Path | str | None = None,
        state_path: Path | str | None = None,
        timeout: float = 10.0,
        sync_timeout: float = 25.0,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        stable_after: float = 10.0,
        transport: Any = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        if not re.match(r"^https?://[^\s/]+", base_url or ""):
            raise ValueError(f"Homeserver address {base_url!r} is not an http:// or https:// URL.")
        self.base_url = base_url.rstrip("/")
        self._api = Api(
            self.base_url,
            token,
            timeout=timeout,
            on_fatal=self._fatal_auth,
            transport=transport,
            event_hooks=event_hooks,
        )
        self._team_ref = team_room
        self._desk = desk_user
        self._timeout = timeout
        self._sync_timeout = sync_timeout
        Backoff(backoff_base, backoff_cap)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._stable_after = stable_after
        self._state = ConnectionState(ConnectionPhase.OFFLINE)
        self._closed = False
        self._auth_failed = False
        self._stop: asyncio.Event | None = None
        self._ws = None
        self._stream_task: asyncio.Task[None] | None = None
        self._events: asyncio.Queue[m.Event | None] | None = None
        self._client = None  # the Api owns the httpx client
        # Identity and team.
        self._me: m.Me | None = None
        self._user_id = ""
        self._team_id = ""
        self._power: dict[str, int] = {}
        self._users_default = 0
        self._names: dict[str, str] = {}
        self._team_members: set[str] = set()
        # Conversations and their rooms.
        self._convs: dict[str, dict[str, Any]] = {}
        self._joined: set[str] = set()
        self._customers: dict[str, dict[str, Any]] = {}
        self._departments: dict[str, str] = {}
        self._canned: dict[str, dict[str, Any]] = {}
        self._typing: dict[str, set[str]] = {}
        self._last_event: dict[str, str] = {}
        self._handed: dict[str, str] = {}  # room -> last message event handed to the consumer
        self._last_message_at: dict[str, datetime] = {}
        self._waiting: dict[str, datetime | None] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._seq = 0
        self._since: str | None = None
        if state_path is None and outbox_path is not None:
            state_path = Path(str(outbox_path) + ".sync.json")
        self._state_path = Path(state_path) if state_path is not None else None
        self._load_since()
        self._open_outbox(
            outbox_path, self._send_once, backoff_base=backoff_base, backoff_cap=backoff_cap
        )

    # ================================================================ state

    @property
    def since(self) -> str | None:
        """The ``/sync`` resume point handed on so far."""
        return self._since

    @property
    def user_id(self) -> str:
        return self._user_id

    @property
    def team_room_id(self) -> str:
        return self._team_id

    def _load_since(self) -> None:
        if self._state_path is None:
            return
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(self._state_path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("since"), str):
                self._since = data["since"]
                handed = data.get("handed")
                if isinstance(handed, dict):
                    self._handed = {str(k): str(v) for k, v in handed.items()}

    def _save_since(self) -> None:
        if self._state_path is None or self._since is None:
            return
        tmp = self._state_path.with_name(self._state_path.name + ".tmp")
        try:
            self._state_path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps({"since": self._since, "handed": self._handed}), "utf-8")
            os.replace(tmp, self._state_path)
        except OSError as exc:
            log.warning("cannot keep the sync position in %s: %s", self._state_path, exc)

    async def aclose(self) -> None:
        if self._closed:
            return
        await super().aclose()
        await self._api.aclose()

    def _level(self, user_id: str) -> int:
        return self._power.get(user_id, self._users_default)

    def _name(self, user_id: str | None) -> str:
        if not user_id:
            return ""
        return self._names.get(user_id) or user_id

    def _is_team_writer(self, sender: str) -> bool:
        return self._level(sender) >= AGENT_LEVEL

    # ================================================================ lifecycle

    async def connect(self) -> m.Me:
        """whoami, team room, one initial ``/sync`` to fill the caches; starts the outbox."""
        who = await self._api.request("GET", CLIENT + "/account/whoami", fatal_403=True)
        self._user_id = str(msgspec.json.decode(who.content).get("user_id", ""))
        if self._team_ref.startswith("#"):
            data = await self._api.get_json(CLIENT + "/directory/room/" + seg(self._team_ref))
            self._team_id = str(data.get("room_id", ""))
        else:
            self._team_id = self._team_ref
        # The first /sync of an account builds its whole state on the server: slow on a
        # busy homeserver, so it gets more time than an ordinary call.
        initial = await self._api.request(
            "GET",
            CLIENT + "/sync",
            params={"filter": json.dumps(SYNC_FILTER), "timeout": 0},
            timeout=max(60.0, self._timeout * 6),
        )
        response = msgspec.json.decode(initial.content)
        if self._team_id not in response.get("rooms", {}).get("join", {}):
            raise AuthError(
                f"This account is not a member of the team room {self._team_ref}. "
                "Ask the desk to invite it (docs/matrix.md).",
                code="not_in_team",
                status=403,
            )
        self._absorb_sync(response, live=False)
        if self._since is None:
            self._since = str(response.get("next_batch", "")) or None
            self._save_since()
        with contextlib.suppress(BackendError):
            profile = await self._api.get_json(CLIENT + "/profile/" + seg(self._user_id))
            if isinstance(profile.get("displayname"), str):
                self._names.setdefault(self._user_id, profile["displayname"])
        role: m.Role = "agent" if self._level(self._user_id) >= AGENT_LEVEL else "supervisor"
        self._me = m.Me(
            id=self._user_id,
            name=self._name(self._user_id),
            role=role,
            status="online",
            department_ids=sorted(self._all_departments()),
        )
        if role == "agent" and self._outbox is not None and not self._outbox.started:
            await self._outbox.start()
        return self._me

    async def me(self) -> m.Me:
        if self._me is None:
            return await self.connect()
        return self._me

    # ================================================================ sync → caches/events

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _emit(self, kind: str, data: Any) -> None:
        if self._events is None:
            return
        self._events.put_nowait(
            m.Event(
                seq=self._next_seq(),
                type=kind,
                at=datetime.now(UTC),
                data=msgspec.to_builtins(data),
            )
        )

    def _absorb_sync(self, response: Mapping[str, Any], *, live: bool) -> list[tuple[str, Any]]:
        """Update caches from one /sync answer; return (event type, model) pairs in order."""
        out: list[tuple[str, Any]] = []
        rooms = response.get("rooms", {}) or {}
        joined = rooms.get("join", {}) or {}
        left = rooms.get("leave", {}) or {}
        team = joined.get(self._team_id)
        if team is not None:
            events = [
                *team.get("state", {}).get("events", []),
                *team.get("timeline", {}).get("events", []),
            ]
            # Power levels first: they decide whose conversation state counts.
            for event in events:
                if event.get("type") == "m.room.power_levels" and "state_key" in event:
                    self._absorb_power(event.get("content", {}))
            for event in events:
                if "state_key" in event:
                    out.extend(self._absorb_team_state(event))
        for room_id, room in [*joined.items(), *left.items()]:
            if room_id == self._team_id:
                continue
            if room_id in joined:
                self._joined.add(room_id)
            else:
                self._joined.discard(room_id)
            for event in room.get("state", {}).get("events", []):
                self._absorb_member(event)
            timeline = room.get("timeline", {}) or {}
            if timeline.get("limited") and live and room_id in self._convs:
                # Older events were skipped: fetch them first so the order holds.
                out.append(("_gap", (room_id, timeline.get("prev_batch"))))
            for event in timeline.get("events", []):
                self._absorb_member(event)
                message = self._message_from(room_id, event)
                # Before the stream runs (connect) nothing is handed out: with a stored
                # ``since`` the first live /sync delivers these again, as events.
                if message is not None and live and self._first_time(event):
                    out.append(("message.created", message))
            for ephemeral in room.get("ephemeral", {}).get("events", []):
                if ephemeral.get("type") == "m.typing":
                    out.extend(self._absorb_typing(room_id, ephemeral.get("content", {})))
        return out

    def _first_time(self, event: Mapping[str, Any]) -> bool:
        event_id = event.get("event_id")
        if not isinstance(event_id, str):
            return False
        if event_id in self._seen:
            return False
        self._seen[event_id] = None
        while len(self._seen) > _SEEN_EVENTS:
            self._seen.popitem(last=False)
        return True

    def _absorb_power(self, content: Mapping[str, Any]) -> None:
        users = content.get("users", {})
        if isinstance(users, dict):
            self._power = {str(k): int(v) for k, v in users.items() if isinstance(v, int)}
        default = content.get("users_default", 0)
        self._users_default = default if isinstance(default, int) else 0

    def _absorb_member(self, event: Mapping[str, Any]) -> None:
        if event.get("type") != "m.room.member" or "state_key" not in event:
            return
        content = event.get("content", {}) or {}
        name = content.get("displayname")
        if isinstance(name, str) and name:
            self._names[str(event["state_key"])] = name

    def _absorb_team_state(self, event: Mapping[str, Any]) -> list[tuple[str, Any]]:
        kind, key = event.get("type"), str(event.get("state_key", ""))
        content = event.get("content", {}) or {}
        sender = str(event.get("sender", ""))
        if kind == "m.room.member":
            self._absorb_member(event)
            if content.get("membership") == "join":
                self._team_members.add(key)
            else:
                self._team_members.discard(key)
            return []
        if kind not in (CONVERSATION, CUSTOMER, DEPARTMENT, CANNED):
            return []
        if not self._is_team_writer(sender):
            log.info("ignoring %s from %s (not a team writer)", kind, sender)
            return []
        if kind == CONVERSATION:
            if not content or not key.startswith("!"):
                return []
            created = key not in self._convs
            self._convs[key] = dict(content)
            if isinstance(content.get("customer_name"), str) and content.get("customer"):
                self._names.setdefault(str(content["customer"]), content["customer_name"])
            department = content.get("department")
            if isinstance(department, str) and department:
                self._departments.setdefault(department, department)
            return [
                ("conversation.created" if created else "conversation.updated", key),
            ]
        if kind == CUSTOMER:
            customer_id = "@" + key  # state keys starting with "@" belong to that user
            self._customers[customer_id] = dict(content)
            return [("customer.updated", customer_id)]
        if kind == DEPARTMENT:
            if isinstance(content.get("name"), str):
                self._departments[key] = content["name"]
            return []
        if content:
            self._canned[key] = dict(content)
        else:
            self._canned.pop(key, None)
        return []

    def _absorb_typing(self, room_id: str, content: Mapping[str, Any]) -> list[tuple[str, Any]]:
        if room_id not in self._convs:
            return []
        now = {str(u) for u in content.get("user_ids", []) if u != self._user_id}
        before = self._typing.get(room_id, set())
        self._typing[room_id] = now
        out: list[tuple[str, Any]] = []
        for user, typing in [
            *((u, True) for u in now - before),
            *((u, False) for u in before - now),
        ]:
            out.append(
                (
                    "typing",
                    m.TypingEvent(
                        conversation_id=conversation_id_for(room_id),
                        author_kind=self._author_kind(room_id, user),
                        author_name=self._name(user),
                        typing=typing,
                    ),
                )
            )
        return out

    def _author_kind(self, room_id: str, sender: str) -> m.AuthorKind:
        conv = self._convs.get(room_id, {})
        if sender == conv.get("customer"):
            return "customer"
        if self._desk is not None and sender == self._desk:
            return "system"
        return "agent"

    def _message_from(self, room_id: str, event: Mapping[str, Any]) -> m.Message | None:
        if event.get("type") != "m.room.message" or room_id not in self._convs:
            return None
        content = event.get("content", {}) or {}
        msgtype = content.get("msgtype")
        body = content.get("body")
        if not isinstance(body, str) or msgtype not in _TEXT_TYPES | _FILE_TYPES:
            return None
        sender = str(event.get("sender", ""))
        created = _ms(event.get("origin_server_ts")) or datetime.now(UTC)
        attachments: list[m.Attachment] = []
        if msgtype in _FILE_TYPES:
            info = content.get("info", {}) if isinstance(content.get("info"), dict) else {}
            url = content.get("url")
            if isinstance(url, str) and url.startswith("mxc://"):
                filename = (
                    content.get("filename") if isinstance(content.get("filename"), str) else body
                )
                attachments.append(
                    m.Attachment(
                        id=url,
                        filename=safe_filename(str(filename)),
                        content_type=str(info.get("mimetype") or "application/octet-stream"),
                        size=int(info.get("size") or 0) if isinstance(info.get("size"), int) else 0,
                        url=url,
                    )
                )
                body = ""
        client_id = content.get(CLIENT_ID_KEY)
        if not isinstance(client_id, str):
            unsigned = event.get("unsigned", {}) or {}
            txn = unsigned.get("transaction_id")
            client_id = txn if isinstance(txn, str) else None
        kind = self._author_kind(room_id, sender)
        event_id = str(event.get("event_id", ""))
        previous = self._last_message_at.get(room_id)
        if previous is None or created >= previous:
            self._last_event[room_id] = event_id
            self._last_message_at[room_id] = created
            if kind == "customer":
                if self._waiting.get(room_id) is None:
                    self._waiting[room_id] = created
            elif kind == "agent":
                self._waiting[room_id] = None
        return m.Message(
            id=event_id,
            conversation_id=conversation_id_for(room_id),
            author_kind=kind,
            author_id=sender,
            author_name=self._name(sender),
            body=body[: limits.MAX_BODY_CHARS],
            client_id=client_id,
            attachments=attachments,
            created_at=created,
        )

    def _conversation(self, room_id: str) -> m.Conversation:
        c = self._convs[room_id]
        raw_state = c.get("state")
        state: m.ConversationState = (
            "active" if raw_state == "active" else "closed" if raw_state == "closed" else "queued"
        )
        customer = str(c.get("customer") or "")
        department = str(c.get("department") or "")
        assignee = c.get("assignee") if isinstance(c.get("assignee"), str) else None
        created = _ms(c.get("created_at")) or _ms(c.get("queued_at")) or datetime.now(UTC)
        waiting = self._waiting.get(room_id)
        if state == "queued" and waiting is None:
            waiting = _ms(c.get("queued_at")) or created
        if state == "closed":
            waiting = None
        return m.Conversation(
            id=conversation_id_for(room_id),
            customer_id=customer,
            customer_name=self._names.get(customer) or str(c.get("customer_name") or customer),
            department_id=department,
            department_name=self._departments.get(department, department),
            state=state,
            assignee_id=assignee,
            assignee_name=self._name(assignee) if assignee else None,
            channel="matrix",
            created_at=created,
            queued_at=_ms(c.get("queued_at")),
            assigned_at=_ms(c.get("assigned_at")),
            closed_at=_ms(c.get("closed_at")),
            last_message_at=self._last_message_at.get(room_id),
            waiting_since=waiting,
        )

    def _all_departments(self) -> set[str]:
        return set(self._departments)

    # ================================================================ event stream

    stream_name = "matrix-sync"
    closed_detail = "The homeserver ended the sync."

    def _auth_error_is_fatal(self, exc: AuthError) -> bool:
        return exc.status == 401  # a 403 on sync is worth another try

    def _describe_disconnect(self, exc: Exception) -> str:
        if isinstance(exc, BackendError):
            return str(exc)
        log.exception("matrix sync failed")  # a bad answer must not end the stream
        return f"Connection lost: {exc or type(exc).__name__}"

    async def _one_connection(self) -> float | None:
        """Long-poll ``/sync`` until it fails; the first (immediate) sync marks the link up."""
        assert self._stop is not None
        connected_at: float | None = None
        try:
            while not self._stop.is_set():
                await self._sync_once(0 if connected_at is None else self._sync_timeout)
                if connected_at is None:
                    connected_at = time.monotonic()
                    self._set_state(ConnectionPhase.CONNECTED)
                    if self._outbox is not None:
                        self._outbox.wake()
        except Exception as exc:
            exc.connected_at = connected_at  # type: ignore[attr-defined]
            raise
        return connected_at

    async def _sync_once(self, timeout: float) -> None:
        params: dict[str, Any] = {"filter": json.dumps(SYNC_FILTER), "timeout": int(timeout * 1000)}
        if self._since:
            params["since"] = self._since
        raw = await self._api.request(
            "GET", CLIENT + "/sync", params=params, timeout=timeout + self._timeout * 3
        )
        response = msgspec.json.decode(raw.content)
        changes = self._absorb_sync(response, live=True)
        for kind, payload in changes:
            if kind == "_gap":
                room_id, prev_batch = payload
                for message in await self._fill_gap(room_id, prev_batch):
                    self._emit_change("message.created", message)
                continue
            self._emit_change(kind, payload)
        next_batch = response.get("next_batch")
        if isinstance(next_batch, str) and next_batch:
            self._since = next_batch
            self._save_since()

    def _emit_change(self, kind: str, payload: Any) -> None:
        if kind == "message.created":
            self._handed[room_of(payload.conversation_id)] = payload.id
        if kind in ("conversation.created", "conversation.updated"):
            self._emit(kind, self._conversation(payload))
        elif kind == "customer.updated":
            self._emit(kind, self._customer_model(payload))
        else:
            self._emit(kind, payload)

    async def _fill_gap(self, room_id: str, prev_batch: str | None) -> list[m.Message]:
        """A ``limited`` timeline skipped events: page back to the last one handed out.

        Returns the skipped messages oldest first; the caller emits them before
        the timeline's own, so the order per conversation holds.
        """
        if not prev_batch:
            return []
        stop_at = self._handed.get(room_id)
        found: list[m.Message] = []
        token: str | None = prev_batch
        for _ in range(_GAP_PAGES):
            if token is None:
                break
            data = await self._api.get_json(
                CLIENT + f"/rooms/{seg(room_id)}/messages",
                {
                    "dir": "b",
                    "from": token,
                    "limit": 100,
                    "filter": json.dumps({"types": ["m.room.message"]}),
                },
            )
            chunk = data.get("chunk", []) or []
            reached = False
            for event in chunk:
                event_id = event.get("event_id")
                if event_id == stop_at or event_id in self._seen:
                    reached = True
                    break
                message = self._message_from(room_id, event)
                if message is not None and self._first_time(event):
                    found.append(message)
            if reached or not chunk:
                break
            token = data.get("end")
        found.reverse()
        return found

    # ================================================================ reads

    async def list_conversations(
        self,
        *,
        state: m.ConversationState | None = None,
        assignee: str | None = None,
        cursor: str | None = None,
        limit: int | None = None,
    ) -> m.ConversationPage:
        wanted = self._user_id if assignee == "me" else assignee
        items = []
        for room_id in self._convs:
            conv = self._conversation(room_id)
            if state is not None and conv.state != state:
                continue
            if wanted not in (None, "any") and conv.assignee_id != wanted:
                continue
            items.append(conv)
        items.sort(key=lambda c: c.queued_at or c.created_at)
        return m.ConversationPage(items=items)

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        room = room_of(conversation_id)
        if room not in self._convs:
            data = await self._api.get_json(self._team_state_path(CONVERSATION, room))
            if not data:
                raise BackendError("That conversation was not found.", code="not_found", status=404)
            self._convs[room] = dict(data)
        return self._conversation(room)

    async def list_messages(
        self,
        conversation_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int | None = None,
    ) -> m.MessagePage:
        room = room_of(conversation_id)
        if room not in self._convs:
            await self.get_conversation(room)
        if room not in self._joined:
            if self._me is None or self._me.role == "agent":
                return m.MessagePage(items=[])
            # A supervisor must be a member to read (docs/matrix.md, "Roles").
            await self._api.post_json(CLIENT + "/join/" + seg(room))
            self._joined.add(room)
        limit = max(1, min(limit or 50, 100))
        direction, token = "b", None
        if before or after:
            context = await self._api.get_json(
                CLIENT + f"/rooms/{seg(room)}/context/{seg(before or after or '')}",
                {"limit": 0},
            )
            token = context.get("start") if before else context.get("end")
            direction = "b" if before else "f"
        data = await self._api.get_json(
            CLIENT + f"/rooms/{seg(room)}/messages",
            {
                "dir": direction,
                "from": token,
                "limit": limit,
                "filter": json.dumps({"types": ["m.room.message"]}),
            },
        )
        chunk = data.get("chunk", []) or []
        messages = [msg for msg in (self._message_from(room, e) for e in chunk) if msg]
        if direction == "b":
            messages.reverse()
        return m.MessagePage(items=messages, has_more=len(chunk) >= limit and bool(data.get("end")))

    def _customer_model(self, customer_id: str) -> m.Customer:
        state = self._customers.get(customer_id, {})
        tags = [str(t) for t in state.get("tags", []) if isinstance(t, str)]
        first = min(
            (
                self._conversation(r).created_at
                for r, c in self._convs.items()
                if c.get("customer") == customer_id
            ),
            default=datetime.fromtimestamp(0, UTC),
        )
        return m.Customer(
            id=customer_id,
            name=self._name(customer_id),
            account={"matrix_id": customer_id},
            tags=tags,
            created_at=first,
        )

    async def get_customer(self, customer_id: str) -> m.Customer:
        return self._customer_model(customer_id)

    async def list_customer_notes(self, customer_id: str) -> list[m.CustomerNote]:
        notes = self._customers.get(customer_id, {}).get("notes", [])
        return [self._note(customer_id, n) for n in notes if isinstance(n, dict)]

    def _note(self, customer_id: str, note: Mapping[str, Any]) -> m.CustomerNote:
        return m.CustomerNote(
            id=str(note.get("id", "")),
            customer_id=customer_id,
            author_id=str(note.get("author", "")),
            author_name=str(note.get("author_name") or self._name(str(note.get("author", "")))),
            body=str(note.get("body", "")),
            created_at=_ms(note.get("ts")) or datetime.fromtimestamp(0, UTC),
        )

    async def list_customer_conversations(self, customer_id: str) -> list[m.Conversation]:
        return [
            self._conversation(r)
            for r, c in self._convs.items()
            if c.get("customer") == customer_id and c.get("state") == "closed"
        ]

    async def list_canned_replies(self, query: str = "") -> list[m.CannedReply]:
        q = query.lower()
        out = []
        for key, c in sorted(self._canned.items()):
            reply = m.CannedReply(
                id=key,
                title=str(c.get("title", key)),
                shortcut=str(c.get("shortcut", "")),
                body=str(c.get("body", "")),
                category=str(c.get("category", "general")),
                lang=str(c.get("lang", "en")),
            )
            if (
                not q
                or q in reply.title.lower()
                or q in reply.shortcut.lower()
                or q in reply.body.lower()
            ):
                out.append(reply)
        return out

    async def list_departments(self) -> list[m.Department]:
        return [m.Department(id=k, name=v) for k, v in sorted(self._departments.items())]

    async def queues(self) -> m.QueuesView:
        now = datetime.now(UTC)
        stats: dict[str, dict[str, Any]] = {
            d: {"waiting": 0, "active": 0, "longest": 0.0} for d in self._departments
        }
        for room_id in self._convs:
            conv = self._conversation(room_id)
            entry = stats.setdefault(
                conv.department_id, {"waiting": 0, "active": 0, "longest": 0.0}
            )
            if conv.state == "queued":
                entry["waiting"] += 1
                since = conv.queued_at or conv.created_at
                entry["longest"] = max(entry["longest"], (now - since).total_seconds())
            elif conv.state == "active":
                entry["active"] += 1
        return m.QueuesView(
            items=[
                m.QueueStats(
                    department_id=d,
                    department_name=self._departments.get(d, d),
                    waiting=s["waiting"],
                    active=s["active"],
                    longest_wait_seconds=s["longest"],
                )
                for d, s in sorted(stats.items())
            ]
        )

    async def agents(self) -> m.AgentsView:
        load: dict[str, int] = {}
        for c in self._convs.values():
            if c.get("state") == "active" and isinstance(c.get("assignee"), str):
                load[c["assignee"]] = load.get(c["assignee"], 0) + 1
        items = [
            m.AgentStats(
                agent_id=user,
                name=self._name(user),
                status="online",
                accepting=True,
                load=load.get(user, 0),
                capacity=limits.DEFAULT_CAPACITY,
            )
            for user in sorted(self._team_members)
            if self._level(user) >= AGENT_LEVEL and user != self._desk
        ]
        return m.AgentsView(items=items)

    async def download_attachment(self, attachment_id: str) -> bytes:
        if not attachment_id.startswith("mxc://"):
            raise BackendError("That is not a Matrix media id.", code="not_found", status=404)
        server, _, media = attachment_id[len("mxc://") :].partition("/")
        response = await self._api.request(
            "GET", f"{MEDIA_DOWNLOAD}/{seg(server)}/{seg(media)}", timeout=60.0
        )
        return response.content

    # ================================================================ writes

    def _team_state_path(self, kind: str, key: str) -> str:
        return CLIENT + f"/rooms/{seg(self._team_id)}/state/{seg(kind)}/{seg(key)}"

    async def _fresh_conversation(self, room_id: str) -> dict[str, Any]:
        data = await self._api.get_json(self._team_state_path(CONVERSATION, room_id))
        if not data:
            raise BackendError("That conversation was not found.", code="not_found", status=404)
        return dict(data)

    async def _write_conversation(self, room_id: str, content: dict[str, Any]) -> m.Conversation:
        await self._api.put_json(self._team_state_path(CONVERSATION, room_id), content)
        self._convs[room_id] = content
        return self._conversation(room_id)

    async def accept(self, conversation_id: str) -> m.Conversation:
        room = room_of(conversation_id)
        current = await self._fresh_conversation(room)
        if current.get("state") == "closed":
            raise BackendError("That chat is already closed.", code="closed", status=409)
        taken = current.get("assignee")
        if current.get("state") == "active" and taken and taken != self._user_id:
            raise BackendError(
                f"{self._name(str(taken))} already took that chat.", code="taken", status=409
            )
        content = {
            **current,
            "state": "active",
            "assignee": self._user_id,
            "assignee_name": self._name(self._user_id),
            "assigned_at": _now_ms(),
        }
        conversation = await self._write_conversation(room, content)
        await self._join(room)
        return conversation

    async def _join(self, room_id: str) -> None:
        if room_id not in self._joined:
            await self._api.post_json(CLIENT + "/join/" + seg(room_id))
            self._joined.add(room_id)

    async def _leave(self, room_id: str) -> None:
        with contextlib.suppress(BackendError):
            await self._api.post_json(CLIENT + f"/rooms/{seg(room_id)}/leave")
        self._joined.discard(room_id)

    async def transfer(self, conversation_id: str, request: m.TransferRequest) -> m.Conversation:
        room = room_of(conversation_id)
        if bool(request.agent_id) == bool(request.department_id):
            raise BackendError(
                "Transfer to one agent or one department.", code="bad_request", status=400
            )
        current = await self._fresh_conversation(room)
        if request.agent_id:
            content = {
                **current,
                "state": "active",
                "assignee": request.agent_id,
                "assignee_name": self._name(request.agent_id),
                "assigned_at": _now_ms(),
            }
        else:
            content = {
                **current,
                "state": "queued",
                "department": request.department_id,
                "assignee": None,
                "assignee_name": None,
                "queued_at": _now_ms(),
            }
        conversation = await self._write_conversation(room, content)
        if request.agent_id and request.agent_id != self._user_id:
            try:
                await self._api.post_json(
                    CLIENT + f"/rooms/{seg(room)}/invite", {"user_id": request.agent_id}
                )
            except AuthError as exc:  # already a member: the state change is what counts
                log.info("invite of %s: %s", request.agent_id, exc)
        if request.agent_id != self._user_id:
            await self._leave(room)
        return conversation

    async def close(self, conversation_id: str, request: m.CloseRequest) -> m.Conversation:
        room = room_of(conversation_id)
        current = await self._fresh_conversation(room)
        content = {**current, "state": "closed", "closed_at": _now_ms()}
        conversation = await self._write_conversation(room, content)
        await self._leave(room)
        return conversation

    async def set_typing(self, conversation_id: str, typing: bool) -> None:
        room = room_of(conversation_id)
        if room not in self._joined:
            return
        body: dict[str, Any] = {"typing": typing}
        if typing:
            body["timeout"] = 30000
        await self._api.put_json(CLIENT + f"/rooms/{seg(room)}/typing/{seg(self._user_id)}", body)

    async def mark_read(self, conversation_id: str) -> None:
        room = room_of(conversation_id)
        event_id = self._last_event.get(room)
        if not event_id or room not in self._joined:
            return
        await self._api.post_json(CLIENT + f"/rooms/{seg(room)}/receipt/m.read/{seg(event_id)}", {})

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        if message.internal:
            raise BackendError(
                "Matrix has no internal notes: everyone in the room would read it. "
                "Use a customer note instead.",
                code="unsupported",
                status=400,
            )
        if self._outbox is None:
            return await self._send_once(conversation_id, message)
        if not self._outbox.started:
            await self._outbox.start()
        return await self._send_through_outbox(conversation_id, message)

    async def _send_once(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        room = room_of(conversation_id)
        """One attempt: ``PUT /send/m.room.message/{client_id}`` (idempotent per device)."""
        attachments: list[m.Attachment] = []
        for index, mxc in enumerate(message.attachment_ids):
            content = {
                "msgtype": "m.file",
                "body": safe_filename(mxc.rsplit("/", 1)[-1]),
                "url": mxc,
                CLIENT_ID_KEY: f"{message.client_id}.{index}",
            }
            await self._api.put_json(
                CLIENT
                + f"/rooms/{seg(room)}/send/m.room.message/"
                + seg(f"{message.client_id}.{index}"),
                content,
            )
        body: dict[str, Any] = {
            "msgtype": "m.text",
            "body": message.body,
            CLIENT_ID_KEY: message.client_id,
        }
        data = await self._api.put_json(
            CLIENT + f"/rooms/{seg(room)}/send/m.room.message/{seg(message.client_id)}",
            body,
        )
        event_id = str(data.get("event_id", ""))
        self._last_event[room] = event_id
        return m.Message(
            id=event_id,
            conversation_id=conversation_id_for(room),
            author_kind="agent",
            author_id=self._user_id,
            author_name=self._name(self._user_id),
            body=message.body,
            client_id=message.client_id,
            attachments=attachments,
            created_at=datetime.now(UTC),
        )

    def _classify_send_error(self, exc: BaseException) -> Verdict:
        if (verdict := self._rate_limit_verdict(exc)) is not None:
            return verdict
        if isinstance(exc, AuthError) and exc.status == 401:
            return Pause(str(exc))
        if isinstance(exc, BackendError) and exc.status is not None:
            if 400 <= exc.status < 500 and exc.status not in (408, 425):
                return Fail(str(exc), exc.code)
        return Retry(reason=str(exc))

    async def upload_attachment(
        self, filename: str, content: bytes, content_type: str | None = None
    ) -> m.Attachment:
        if len(content) > limits.MAX_ATTACHMENT_BYTES:
            raise BackendError(
                f"'{safe_filename(filename)}' is too large to send.", code="too_large", status=413
            )
        name = safe_filename(filename)
        kind = content_type or "application/octet-stream"
        response = await self._api.request(
            "POST",
            MEDIA_UPLOAD,
            params={"filename": name},
            content=content,
            content_type=kind,
            timeout=120.0,
        )
        uri = str(msgspec.json.decode(response.content).get("content_uri", ""))
        return m.Attachment(id=uri, filename=name, content_type=kind, size=len(content), url=uri)

    async def _update_customer(
        self, customer_id: str, change: Callable[[dict[str, Any]], None]
    ) -> dict[str, Any]:
        # Synapse lets only the user itself write a state key that starts with "@".
        path = self._team_state_path(CUSTOMER, customer_id.removeprefix("@"))
        try:
            current = dict(await self._api.get_json(path))
        except BackendError as exc:
            if exc.status != 404:
                raise
            current = {}
        change(current)
        await self._api.put_json(path, current)
        self._customers[customer_id] = current
        return current

    async def add_customer_note(self, customer_id: str, body: str) -> m.CustomerNote:
        note = {
            "id": secrets.token_hex(8),
            "author": self._user_id,
            "author_name": self._name(self._user_id),
            "body": body,
            "ts": _now_ms(),
        }

        def add(state: dict[str, Any]) -> None:
            notes = state.get("notes")
            kept: list[Any] = notes if isinstance(notes, list) else []
            state["notes"] = [*kept, note][-200:]

        await self._update_customer(customer_id, add)
        return self._note(customer_id, note)

    async def set_customer_tags(self, customer_id: str, tags: list[str]) -> m.Customer:
        def put(state: dict[str, Any]) -> None:
            state["tags"] = list(dict.fromkeys(tags))

        await self._update_customer(customer_id, put)
        return self._customer_model(customer_id)

    async def create_canned_reply(self, reply: m.CannedReplyCreate) -> m.CannedReply:
        key = secrets.token_hex(6)
        content: dict[str, Any] = msgspec.to_builtins(reply)
        await self._api.put_json(self._team_state_path(CANNED, key), content)
        self._canned[key] = content
        return m.CannedReply(id=key, **content)
