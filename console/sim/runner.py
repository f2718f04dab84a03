"""Simulated customers talking to a native-protocol server over real HTTP and WebSocket.

Each customer follows a :class:`~console.sim.plan.CustomerPlan`:

1. ``POST /customer/session`` for a customer token, open ``/api/v1/stream``
   with it and send ``hello``;
2. ``POST /customer/conversations`` with name, email, department, page URL,
   pre-chat answers and the opening line;
3. wait for an agent's reply on the stream, "read and type" (typing
   indicator, a pause), send the next line; optionally upload an attachment;
4. while nobody answers: nudge after each patience period; when the nudges run
   out some customers say so and leave (``POST …/leave``), the others wait one
   more, longer period and then leave silently;
5. at the end say thanks, wait for the agent to close, rate the chat and ask
   for the transcript.

If the stream cannot be opened (or drops for good) the customer polls
``GET /customer/conversations/{id}/messages?after=`` instead, so the
simulator still works against a server whose stream is broken, just slower.

Everything is bounded: :func:`run_simulator` stops by itself after
``customers`` customers, or when ``stop`` is set (running customers are then
cancelled).  httpx and websockets are imported inside the functions that use
them, so importing this module stays cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from console.protocol import limits
from console.sim.plan import CustomerPlan, FileSpec, iter_plans, plan_customers
from console.sim.scripts import BOT_ANSWERS, LEAVING, looks_frustrated

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

MAX_BOT_ANSWERS = 2
STREAM_CONNECT_WAIT = 5.0  # seconds (real time) to wait for ``welcome`` before chatting anyway
MAX_RETRY_AFTER = 5.0  # cap on a server's Retry-After we are willing to sleep


# --------------------------------------------------------------------------- results


@dataclass(slots=True)
class SentMessage:
    customer: int
    conversation_id: str
    kind: str  # opening | line | nudge | leaving | thanks | bot_answer | attachment
    body: str
    client_id: str | None = None


@dataclass(slots=True)
class SimStats:
    """What the simulator did.  ``errors`` lists unexpected failures (5xx, network, bad JSON);
    ``refused`` lists 4xx answers the server gave (e.g. rating an open chat)."""

    seed: int = 0
    customers_started: int = 0
    customers_finished: int = 0
    customers_interrupted: int = 0
    conversations_started: int = 0
    messages_sent: int = 0
    frustrated_messages: int = 0
    attachments_sent: int = 0
    agent_replies: int = 0
    bot_messages: int = 0
    abandoned: int = 0
    conversations_closed: int = 0
    rated: int = 0
    transcripts_requested: int = 0
    stream_fallbacks: int = 0
    elapsed_seconds: float = 0.0
    conversation_ids: list[str] = field(default_factory=list)
    sent: list[SentMessage] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Counters only (for benchmarks printing JSON)."""
        out = asdict(self)
        for key in ("conversation_ids", "sent", "errors", "refused"):
            out.pop(key)
        out["errors"] = len(self.errors)
        out["refused"] = len(self.refused)
        return out


class HttpError(Exception):
    def __init__(self, method: str, path: str, status: int, code: str, message: str) -> None:
        super().__init__(f"{method} {path} → {status} {code}: {message}")
        self.status = status
        self.code = code


# --------------------------------------------------------------------------- HTTP


def _split_base(base_url: str) -> tuple[str, str]:
    """(REST base ending in /api/v1, WebSocket stream URL) from a server or API URL."""
    root = base_url.rstrip("/")
    if root.endswith(limits.API_PREFIX):
        root = root[: -len(limits.API_PREFIX)]
    api = root + limits.API_PREFIX
    ws = "ws" + api[len("http") :] if api.startswith("http") else api
    return api, ws + "/stream"


class _Api:
    """One token's view of the REST API on a shared ``httpx.AsyncClient``."""

    def __init__(self, client: httpx.AsyncClient, token: str | None = None) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        for attempt in range(4):
            response = await self.client.request(
                method, path, json=json_body, files=files, params=params, headers=self.headers
            )
            if response.status_code == 429 and attempt < 3:
                retry_after = response.headers.get("Retry-After", "1")
                try:
                    delay = min(MAX_RETRY_AFTER, max(0.05, float(retry_after)))
                except ValueError:
                    delay = 1.0
                await asyncio.sleep(delay)
                continue
            break
        if response.status_code >= 400:
            code, message = "http_error", response.text[:200]
            with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
                detail = response.json()["error"]
                code, message = str(detail["code"]), str(detail["message"])
            raise HttpError(method, path, response.status_code, code, message)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()


# --------------------------------------------------------------------------- stream


class _Inbox:
    """Events for one customer, from the stream or (fallback) from polling."""

    def __init__(self) -> None:
        self.messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.closed = asyncio.Event()
        self.welcomed = asyncio.Event()
        self.stream_down = asyncio.Event()
        self.conversation_id: str | None = None
        self.seen: set[str] = set()
        self.last_message_id: str | None = None
        self.state: str | None = None
        """The conversation's state as last heard (``bot`` while the bot asks questions)."""

    def offer_message(self, data: dict[str, Any]) -> None:
        mid = str(data.get("id", ""))
        if not mid or mid in self.seen:
            return
        if self.conversation_id and data.get("conversation_id") != self.conversation_id:
            return
        self.seen.add(mid)
        self.last_message_id = mid
        if data.get("author_kind") in ("agent", "bot") and not data.get("internal"):
            self.messages.put_nowait(data)

    def offer_conversation(self, data: dict[str, Any]) -> None:
        if data.get("id") != self.conversation_id:
            return  # also before ours is known: the same person may have older chats
        if isinstance(data.get("state"), str):
            self.state = str(data["state"])
        if data.get("state") == "closed":
            self.closed.set()

    def offer_event(self, frame: dict[str, Any]) -> None:
        data = frame.get("data")
        if not isinstance(data, dict):
            return
        kind = frame.get("type")
        if kind == "message.created":
            self.offer_message(data)
        elif kind in ("conversation.updated", "conversation.created"):
            self.offer_conversation(data)


async def _stream(ws_url: str, token: str, inbox: _Inbox) -> None:
    """Keep a stream open, resuming after the last seq; give up after 3 failures in a row."""
    # Deferred: websockets costs ~37 ms to import.
    from websockets.asyncio.client import connect

    last_seq: int | None = None
    failures = 0
    while failures < 3:
        try:
            async with connect(
                ws_url,
                additional_headers={"Authorization": f"Bearer {token}"},
                proxy=None,
                open_timeout=5,
                max_size=limits.MAX_JSON_BYTES * 2,
            ) as ws:
                await ws.send(json.dumps({"type": "hello", "resume_after": last_seq}))
                async for raw in ws:
                    frame = json.loads(raw)
                    if not isinstance(frame, dict):
                        continue
                    if "seq" in frame and isinstance(frame["seq"], int):
                        last_seq = frame["seq"]
                        inbox.offer_event(frame)
                        continue
                    kind = frame.get("type")
                    if kind == "welcome":
                        failures = 0
                        inbox.stream_down.clear()
                        inbox.welcomed.set()
                    elif kind == "reset":
                        # Missed events are gone: catch up over REST on the next wait.
                        last_seq = frame.get("last_seq")
                        inbox.stream_down.set()
                    elif kind == "ping":
                        await ws.send(json.dumps({"type": "pong"}))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # network errors, handshake refusals, bad frames
            log.debug("sim stream failed: %s", exc)
        failures += 1
        inbox.stream_down.set()
        await asyncio.sleep(0.2 * failures)
    inbox.stream_down.set()


# --------------------------------------------------------------------------- one customer


async def _start_conversation(api: _Api, plan: CustomerPlan, missing: set[str]) -> Any:
    """``POST /customer/conversations``; a server without the demo departments gets the default one."""
    department = "" if plan.department in missing else plan.department
    if plan.scenario.routed_by_topic:
        department = ""  # the server routes by the pre-chat topic (issue 17)
    body = {
        "name": plan.name,
        "email": plan.email,
        "department": department,
        "page_url": plan.scenario.page_url,
        # The widget knows the page's language: routing prefers an agent who speaks it.
        "prechat": {**plan.prechat, "language": plan.lang},
        "message": plan.opening,
    }
    try:
        return await api.call("POST", "/customer/conversations", json_body=body)
    except HttpError as exc:
        if not department or exc.status != 400 or "department" not in str(exc).lower():
            raise
        missing.add(department)
        return await api.call(
            "POST", "/customer/conversations", json_body={**body, "department": ""}
        )


class _Customer:
    def __init__(self, plan: CustomerPlan, run: _Run) -> None:
        self.plan = plan
        self.run = run
        self.api: _Api | None = None
        self.inbox = _Inbox()
        self.conversation_id = ""
        self.sent_count = 0
        self.bot_answers = 0
        self.fell_back = False

    # ------------------------------------------------------------------ helpers

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds / self.run.speed))

    def _client_id(self) -> str:
        self.sent_count += 1
        return f"sim-{self.run.seed}-{self.plan.index}-{self.sent_count}"

    def _record(self, kind: str, body: str, client_id: str | None) -> None:
        stats = self.run.stats
        stats.messages_sent += 1
        if looks_frustrated(body):
            stats.frustrated_messages += 1
        stats.sent.append(SentMessage(self.plan.index, self.conversation_id, kind, body, client_id))

    async def send(self, body: str, kind: str, attachment_ids: Iterable[str] = ()) -> None:
        assert self.api is not None
        client_id = self._client_id()
        await self.api.call(
            "POST",
            f"/customer/conversations/{self.conversation_id}/messages",
            json_body={
                "client_id": client_id,
                "body": body,
                "attachment_ids": list(attachment_ids),
            },
        )
        self._record(kind, body, client_id)

    async def typing(self, on: bool) -> None:
        assert self.api is not None
        try:
            await self.api.call(
                "POST",
                f"/customer/conversations/{self.conversation_id}/typing",
                json_body={"typing": on},
            )
        except HttpError as exc:
            self.run.note_http_error(self.plan.index, exc)

    async def send_attachment(self, spec: FileSpec) -> None:
        assert self.api is not None
        meta = await self.api.call(
            "POST",
            "/customer/attachments",
            files={"file": (spec.filename, spec.data, spec.content_type)},
        )
        await self.send(self.plan.attachment_text, "attachment", [str(meta["id"])])
        self.run.stats.attachments_sent += 1

    async def leave(self) -> None:
        """Close the chat widget: ``POST …/leave`` (the server marks a waiting chat abandoned)."""
        assert self.api is not None
        self.run.stats.abandoned += 1
        try:
            await self.api.call("POST", f"/customer/conversations/{self.conversation_id}/leave")
        except HttpError as exc:
            self.run.note_http_error(self.plan.index, exc)

    async def poll(self) -> None:
        """Catch up over REST (stream down or reset)."""
        assert self.api is not None
        params: dict[str, Any] = {"limit": limits.MAX_PAGE_SIZE}
        if self.inbox.last_message_id:
            params["after"] = self.inbox.last_message_id
        page = await self.api.call(
            "GET", f"/customer/conversations/{self.conversation_id}/messages", params=params
        )
        items = page.get("items", []) if isinstance(page, dict) else page
        for item in items or []:
            self.inbox.offer_message(item)
        conversations = await self.api.call("GET", "/customer/conversations")
        items = conversations.get("items", []) if isinstance(conversations, dict) else conversations
        for conv in items or []:
            self.inbox.offer_conversation(conv)

    async def wait_reply(self, patience: float) -> dict[str, Any] | str | None:
        """Next agent/bot message, ``"closed"``, or ``None`` when patience runs out."""
        deadline = time.monotonic() + patience / self.run.speed
        poll_every = max(0.05, min(1.0, 2.0 / self.run.speed))
        while True:
            if not self.inbox.messages.empty():
                early = self.inbox.messages.get_nowait()
                if early.get("conversation_id") not in (None, self.conversation_id):
                    continue  # another chat of the same person, queued before ours was known
                return early
            if self.inbox.closed.is_set():
                return "closed"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if self.inbox.stream_down.is_set():
                if not self.fell_back:
                    self.fell_back = True
                    self.run.stats.stream_fallbacks += 1
                await self.poll()
                if not self.inbox.messages.empty() or self.inbox.closed.is_set():
                    continue
            with contextlib.suppress(TimeoutError):
                got = await asyncio.wait_for(self.inbox.messages.get(), min(remaining, poll_every))
                if got.get("conversation_id") in (None, self.conversation_id):
                    return got

    # ------------------------------------------------------------------ the script

    async def main(self) -> None:
        plan, stats = self.plan, self.run.stats
        public = _Api(self.run.client)
        info = await public.call(
            "POST", "/customer/session", json_body=session_body(plan, self.run.identity_secret)
        )
        token = str(info["token"])
        self.api = _Api(self.run.client, token)
        stream = asyncio.create_task(_stream(self.run.ws_url, token, self.inbox))
        try:
            await self._chat()
        finally:
            stream.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await stream
        stats.customers_finished += 1

    async def _chat(self) -> None:
        plan, stats = self.plan, self.run.stats
        assert self.api is not None
        waiter = asyncio.create_task(self.inbox.welcomed.wait())
        downer = asyncio.create_task(self.inbox.stream_down.wait())
        await asyncio.wait(
            {waiter, downer}, timeout=STREAM_CONNECT_WAIT, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        downer.cancel()

        conv = await _start_conversation(self.api, plan, self.run.missing_departments)
        self.conversation_id = str(conv["id"])
        self.inbox.conversation_id = self.conversation_id
        self.inbox.offer_conversation(conv)
        stats.conversation_ids.append(self.conversation_id)
        stats.conversations_started += 1
        self._record("opening", plan.opening, None)
        if not self.inbox.welcomed.is_set():
            self.inbox.stream_down.set()  # never welcomed: poll
        if plan.attachment is not None and plan.attachment_after_line == 0:
            await self.sleep(3.0)
            await self.send_attachment(plan.attachment)

        lines = [*plan.lines, plan.thanks]
        kinds = ["line"] * len(plan.lines) + ["thanks"]
        thinks = [*plan.think_seconds, 2.0]
        nudges = list(plan.nudges)
        step = 0
        while step < len(lines):
            reply = await self.wait_reply(plan.patience_seconds)
            if reply == "closed":
                break
            if reply is None:
                if nudges:
                    await self.send(nudges.pop(0), "nudge")
                    continue
                if plan.leaves_if_ignored:
                    await self.send(LEAVING[plan.lang], "leaving")
                    await self.leave()
                    return
                # Patient customers wait one more long period, then give up quietly.
                reply = await self.wait_reply(plan.patience_seconds * 2)
                if reply is None:
                    await self.leave()
                    return
                if reply == "closed":
                    break
            assert isinstance(reply, dict)
            if reply.get("author_kind") == "bot":
                stats.bot_messages += 1
                if self.bot_answers < MAX_BOT_ANSWERS and step == 0:
                    await self.sleep(2.0)
                    # Only a question gets an answer: the bot's "an agent will be
                    # with you shortly" comes once the chat is queued (answering it
                    # sent the same answer twice).
                    if self.inbox.state == "bot":
                        self.bot_answers += 1
                        answer = plan.bot_reply or BOT_ANSWERS[plan.lang]
                        await self.send(answer, "bot_answer")
                continue
            stats.agent_replies += 1
            # Several quick agent messages in a row get one answer.
            await self.sleep(0.5)
            while not self.inbox.messages.empty():
                extra = self.inbox.messages.get_nowait()
                if extra.get("author_kind") == "agent":
                    stats.agent_replies += 1
            await self.typing(True)
            await self.sleep(thinks[step])
            if (
                plan.attachment is not None
                and plan.attachment_after_line == step + 1
                and step < len(plan.lines)
            ):
                await self.send_attachment(plan.attachment)
            await self.send(lines[step], kinds[step])
            step += 1

        await self._finish()

    async def _finish(self) -> None:
        plan, stats = self.plan, self.run.stats
        assert self.api is not None
        if not self.inbox.closed.is_set():
            # Wait for the agent to close the chat, counting any last replies.
            deadline = time.monotonic() + plan.patience_seconds / self.run.speed
            while time.monotonic() < deadline:
                reply = await self.wait_reply(
                    max(0.0, (deadline - time.monotonic()) * self.run.speed)
                )
                if reply in ("closed", None):
                    break
                if isinstance(reply, dict) and reply.get("author_kind") == "agent":
                    stats.agent_replies += 1
        if self.inbox.closed.is_set():
            stats.conversations_closed += 1
        base = f"/customer/conversations/{self.conversation_id}"
        if plan.rating is not None:
            try:
                await self.api.call(
                    "POST",
                    f"{base}/rate",
                    json_body={"score": plan.rating, "comment": plan.rating_comment},
                )
                stats.rated += 1
            except HttpError as exc:
                self.run.note_http_error(plan.index, exc)
        if plan.transcript:
            try:
                await self.api.call("POST", f"{base}/transcript", json_body={"email": plan.email})
                stats.transcripts_requested += 1
            except HttpError as exc:
                self.run.note_http_error(plan.index, exc)


# --------------------------------------------------------------------------- the run


@dataclass(slots=True)
class _Run:
    client: httpx.AsyncClient
    ws_url: str
    seed: int
    speed: float
    stats: SimStats
    missing_departments: set[str] = field(default_factory=set)
    identity_secret: str | None = None

    def note_http_error(self, index: int, exc: HttpError) -> None:
        text = f"customer {index}: {exc}"
        (self.stats.errors if exc.status >= 500 else self.stats.refused).append(text)

    async def customer(self, plan: CustomerPlan) -> None:
        self.stats.customers_started += 1
        try:
            await _Customer(plan, self).main()
        except asyncio.CancelledError:
            self.stats.customers_interrupted += 1
            raise
        except HttpError as exc:
            self.note_http_error(plan.index, exc)
            if exc.status < 500:
                # A refused step ends this customer but is not a simulator failure.
                return
        except Exception as exc:
            self.stats.errors.append(f"customer {plan.index}: {type(exc).__name__}: {exc}")


def _http_client(api_base: str, connections: int) -> httpx.AsyncClient:
    # Deferred: httpx costs ~57 ms to import.
    import httpx

    return httpx.AsyncClient(
        base_url=api_base,
        timeout=httpx.Timeout(15.0),
        trust_env=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def _wait_or_stop(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep ``seconds``; True if ``stop`` was set meanwhile."""
    if seconds <= 0:
        return stop.is_set()
    try:
        await asyncio.wait_for(stop.wait(), seconds)
    except TimeoutError:
        return False
    return True


def session_body(plan: CustomerPlan, identity_secret: str | None) -> dict[str, str]:
    """``POST /customer/session`` body: a verified identity when the secret is known."""
    body = {"name": plan.name, "email": plan.email}
    if identity_secret and plan.email:
        identifier = plan.email.lower()
        digest = hmac.new(identity_secret.encode(), identifier.encode(), hashlib.sha256)
        body["identifier"] = identifier
        body["identifier_hash"] = digest.hexdigest()
    return body


async def run_simulator(
    base_url: str,
    *,
    seed: int = 0,
    customers: int | None = None,
    rate: float = 3.0,
    stop: asyncio.Event | None = None,
    speed: float = 1.0,
    max_concurrent: int = 50,
    identity_secret: str | None = None,
) -> SimStats:
    """Run simulated customers against the server at ``base_url`` and return what happened.

    With the server's ``identity_secret`` the customers sign in as the demo website
    would: ``identifier`` = their e-mail plus its HMAC, so a demo customer is
    reattached to its seeded record (account, notes, history).  Without it every
    simulated customer is a new customer.

    ``base_url`` is the server root (``http://127.0.0.1:8765``) or the API base
    (``…/api/v1``).  ``rate`` is new customers per minute at ``speed=1.0``;
    ``speed`` divides every pause (reading, typing, patience, arrivals), so
    ``speed=50`` runs a realistic chat in seconds.  The run ends when all
    ``customers`` are done, or when ``stop`` is set (customers still chatting
    are cancelled).  With neither ``customers`` nor ``stop``, 10 customers run.
    At most ``max_concurrent`` customers chat at once; later arrivals wait for
    a free place, so a high ``rate`` cannot flood the server (or this process).
    """
    if speed <= 0:
        raise ValueError("speed must be positive, e.g. 1.0 for a realistic pace.")
    if max_concurrent < 1:
        raise ValueError("max_concurrent must be at least 1.")
    if customers is None and stop is None:
        customers = 10
    stop_event = stop if stop is not None else asyncio.Event()
    api_base, ws_url = _split_base(base_url)
    stats = SimStats(seed=seed)
    started = time.monotonic()
    tasks: set[asyncio.Task[None]] = set()
    async with _http_client(api_base, 100) as client:
        run = _Run(
            client=client,
            ws_url=ws_url,
            seed=seed,
            speed=speed,
            stats=stats,
            identity_secret=identity_secret,
        )
        for plan in iter_plans(seed, per_minute=rate):
            if customers is not None and plan.index >= customers:
                break
            due = plan.arrival_seconds / speed - (time.monotonic() - started)
            if await _wait_or_stop(stop_event, due):
                break
            while len(tasks) >= max_concurrent and not stop_event.is_set():
                # Full house: the next customer arrives when one leaves (or on stop).
                stopper_wait = asyncio.create_task(stop_event.wait())
                await asyncio.wait({*tasks, stopper_wait}, return_when=asyncio.FIRST_COMPLETED)
                stopper_wait.cancel()
            if stop_event.is_set():
                break
            task = asyncio.create_task(run.customer(plan), name=f"sim-customer-{plan.index}")
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        if tasks:
            everyone: asyncio.Future[Any] = asyncio.gather(*tasks, return_exceptions=True)
            stopper: asyncio.Future[Any] = asyncio.create_task(stop_event.wait())
            await asyncio.wait({everyone, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not everyone.done():
                for task in list(tasks):
                    task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await everyone
    stats.elapsed_seconds = round(time.monotonic() - started, 3)
    return stats


async def run_load(
    base_url: str,
    *,
    seed: int = 0,
    conversations: int = 100,
    concurrency: int = 20,
    messages_per_conversation: int = 3,
) -> SimStats:
    """Create many conversations as fast as the server allows (for benchmarks).

    No stream and no waiting for agents: each customer opens a session, starts a
    conversation with its opening line and sends ``messages_per_conversation - 1``
    follow-ups back to back.  ``concurrency`` customers are in flight at once.
    """
    api_base, _ = _split_base(base_url)
    stats = SimStats(seed=seed)
    missing_departments: set[str] = set()
    started = time.monotonic()
    plans = plan_customers(seed, conversations, per_minute=0)
    queue: asyncio.Queue[CustomerPlan] = asyncio.Queue()
    for plan in plans:
        queue.put_nowait(plan)

    async with _http_client(api_base, max(1, concurrency)) as client:

        async def one(plan: CustomerPlan) -> None:
            stats.customers_started += 1
            public = _Api(client)
            info = await public.call(
                "POST", "/customer/session", json_body={"name": plan.name, "email": plan.email}
            )
            api = _Api(client, str(info["token"]))
            conv = await _start_conversation(api, plan, missing_departments)
            cid = str(conv["id"])
            stats.conversation_ids.append(cid)
            stats.conversations_started += 1
            stats.messages_sent += 1
            for n, line in enumerate(plan.lines[: max(0, messages_per_conversation - 1)], start=1):
                client_id = f"load-{seed}-{plan.index}-{n}"
                await api.call(
                    "POST",
                    f"/customer/conversations/{cid}/messages",
                    json_body={"client_id": client_id, "body": line},
                )
                stats.messages_sent += 1
                if looks_frustrated(line):
                    stats.frustrated_messages += 1
            stats.customers_finished += 1

        async def worker() -> None:
            while not queue.empty():
                plan = queue.get_nowait()
                try:
                    await one(plan)
                except HttpError as exc:
                    text = f"customer {plan.index}: {exc}"
                    (stats.errors if exc.status >= 500 else stats.refused).append(text)
                except Exception as exc:
                    stats.errors.append(f"customer {plan.index}: {type(exc).__name__}: {exc}")

        await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    stats.elapsed_seconds = round(time.monotonic() - started, 3)
    return stats
