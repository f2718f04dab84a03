"""Outbox: every reply goes to disk first, then to the server, exactly once, in order.

Why it exists: an agent types a reply while the link is down, or the console
crashes between "Enter" and the server's answer.  Nothing typed may be lost,
nothing may arrive twice, and replies in one conversation must arrive in the
order they were typed.

How:

* :meth:`Outbox.enqueue` appends an ``enqueue`` record to an append-only JSON
  lines file and ``fsync``\\ s it before returning (writes are group-committed:
  one ``fsync`` covers every record queued meanwhile).
* One worker per conversation sends that conversation's entries one at a
  time, head first, each with its *own* ``client_id`` (the server is
  idempotent on it), so a retry after a timeout or a server crash returns the
  message already stored instead of a copy.  The next entry waits until the
  head is acknowledged or failed: order per conversation is the order of
  ``enqueue`` calls.  Conversations are delivered concurrently.
* Outcomes are appended as ``sent`` / ``failed`` records.  On open the file is
  replayed; entries without an outcome are pending again and are resent with
  the same ``client_id``.  A crash after the server stored a message but
  before ``sent`` hit the disk therefore costs one idempotent replay, never a
  duplicate.  Resolved records are compacted away on open.
* The send function and the error classification are injected, so this
  module does no HTTP and never imports a UI (``mypy --strict``).

Failed entries (a permanent 4xx such as "message too long") stay in the file
until :meth:`Outbox.dismiss`, so the UI can show the text again after a
restart.  Torn last lines (a crash in the middle of a write) are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import msgspec

from console.core.backoff import Backoff
from console.protocol import models as m

log = logging.getLogger(__name__)

DeliveryStatus = Literal["pending", "sent", "failed"]
SendFn = Callable[[str, m.SendMessage], Awaitable[m.Message]]


def _open_private(path: Path, flags: int) -> Any:
    """Open ``path`` for binary writing, created (or kept) readable by the owner only."""
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "ab" if flags & os.O_APPEND else "wb")


def new_client_id() -> str:
    """A fresh idempotency key for one outgoing message (uuid4, hex).

    The one client-id function: the workspace controller and the backends use it.
    """
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One queued outgoing message."""

    client_id: str
    conversation_id: str
    body: str
    internal: bool = False
    attachment_ids: tuple[str, ...] = ()
    enqueued_at: float = 0.0  # time.time()

    def to_request(self) -> m.SendMessage:
        return m.SendMessage(
            client_id=self.client_id,
            body=self.body,
            internal=self.internal,
            attachment_ids=list(self.attachment_ids),
        )


@dataclass(frozen=True, slots=True)
class DeliveryUpdate:
    """A change in one entry's delivery: pending (maybe retrying), sent or failed."""

    entry: OutboxEntry
    status: DeliveryStatus
    message: m.Message | None = None  # set when sent
    reason: str = ""  # why it failed, or why the last attempt did not go through
    code: str = ""  # machine-readable reason (server error code when there is one)
    attempts: int = 0
    retry_at: float | None = None  # time.monotonic() of the next attempt


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True, slots=True)
class Retry:
    """Try again later; ``after`` (seconds) overrides the backoff, e.g. from Retry-After."""

    after: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Fail:
    """Permanent: the server refused this message; retrying cannot help."""

    reason: str
    code: str = "rejected"


@dataclass(frozen=True, slots=True)
class Pause:
    """Stop sending everything until :meth:`Outbox.resume` (e.g. the token was revoked)."""

    reason: str


Verdict = Retry | Fail | Pause


def default_classify(exc: BaseException) -> Verdict:
    """Classify by duck typing on ``status`` / ``code`` / ``retry_after`` attributes."""
    status = getattr(exc, "status", None)
    code = str(getattr(exc, "code", "") or "rejected")
    reason = str(exc) or type(exc).__name__
    if status == 401:
        return Pause(reason)
    if status == 429:
        after = getattr(exc, "retry_after", None)
        return Retry(after=float(after) if after is not None else None, reason=reason)
    if isinstance(status, int) and 400 <= status < 500 and status not in (408, 425):
        return Fail(reason, code)
    return Retry(reason=reason)


class OutboxFailed(Exception):
    """Raised to a waiter when its entry failed permanently."""

    def __init__(self, entry: OutboxEntry, reason: str, code: str) -> None:
        super().__init__(reason)
        self.entry = entry
        self.code = code


class OutboxClosed(Exception):
    """Raised to a waiter when the outbox closes before its entry was delivered."""


# --------------------------------------------------------------------------- records


class _Record(msgspec.Struct, kw_only=True, omit_defaults=True):
    op: Literal["enqueue", "sent", "failed", "dismissed"]
    client_id: str
    conversation_id: str = ""
    body: str = ""
    internal: bool = False
    attachment_ids: list[str] = []
    at: float = 0.0
    message_id: str = ""
    reason: str = ""
    code: str = ""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Record)


@dataclass(slots=True)
class _Pending:
    entry: OutboxEntry
    attempts: int = 0


@dataclass(slots=True)
class _Write:
    lines: list[bytes]
    done: asyncio.Future[None] = field(repr=False)
    durable: bool = True


class Outbox:
    """Persistent, ordered, exactly-once delivery of outgoing messages.

    ``path=None`` keeps the queue in memory only (tests, ``--no-outbox``).
    Create it, then ``await start()`` inside a running loop; ``aclose()`` stops
    the workers (pending entries stay on disk for the next start).
    """

    def __init__(
        self,
        path: Path | str | None,
        send: SendFn,
        *,
        classify: Callable[[BaseException], Verdict] = default_classify,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        fsync: bool = True,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self._send = send
        self._classify = classify
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._fsync = fsync
        self._rng = random.Random()
        self._queues: dict[str, deque[_Pending]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._failed: dict[str, DeliveryUpdate] = {}
        self._outcomes: OrderedDict[str, DeliveryUpdate] = OrderedDict()
        self._waiters: dict[str, list[asyncio.Future[m.Message]]] = {}
        self._callbacks: list[Callable[[DeliveryUpdate], None]] = []
        self._subscribers: list[asyncio.Queue[DeliveryUpdate]] = []
        self._writes: list[_Write] = []
        self._inflight: list[_Write] = []
        self._writer: asyncio.Task[None] | None = None
        self._write_wakeup: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._resumed: asyncio.Event | None = None
        self._pause_reason = ""
        self._started = False
        self._closed = False
        self._file: Any = None
        self._load()

    # ----------------------------------------------------------------- loading

    def _load(self) -> None:
        """Replay the file, keep unresolved and failed-undismissed entries, compact."""
        if self.path is None:
            return
        # Replies are private: folder 0700, file 0600 (also when they existed before).
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.path.parent, 0o700)
        entries: OrderedDict[str, OutboxEntry] = OrderedDict()
        failed: dict[str, tuple[str, str]] = {}
        resolved = 0
        if self.path.exists():
            with self.path.open("rb") as fh:
                for lineno, line in enumerate(fh, 1):
                    if not line.strip():
                        continue
                    try:
                        rec = _decoder.decode(line)
                    except msgspec.DecodeError:
                        log.warning("outbox %s: skipping unreadable line %d", self.path, lineno)
                        continue
                    if rec.op == "enqueue":
                        entries[rec.client_id] = OutboxEntry(
                            client_id=rec.client_id,
                            conversation_id=rec.conversation_id,
                            body=rec.body,
                            internal=rec.internal,
                            attachment_ids=tuple(rec.attachment_ids),
                            enqueued_at=rec.at,
                        )
                    elif rec.op == "sent":
                        resolved += 1
                        entries.pop(rec.client_id, None)
                        failed.pop(rec.client_id, None)
                    elif rec.op == "failed":
                        resolved += 1
                        if rec.client_id in entries:
                            failed[rec.client_id] = (rec.reason, rec.code)
                    else:  # dismissed
                        resolved += 1
                        entries.pop(rec.client_id, None)
                        failed.pop(rec.client_id, None)
        lines: list[bytes] = []
        for client_id, entry in entries.items():
            lines.append(self._encode_enqueue(entry))
            if client_id in failed:
                reason, code = failed[client_id]
                self._failed[client_id] = DeliveryUpdate(entry, "failed", reason=reason, code=code)
                lines.append(
                    _encoder.encode(
                        _Record(op="failed", client_id=client_id, reason=reason, code=code)
                    )
                    + b"\n"
                )
            else:
                self._queues.setdefault(entry.conversation_id, deque()).append(_Pending(entry))
        if resolved:
            self._rewrite(lines)
        self._file = _open_private(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)

    def _rewrite(self, lines: list[bytes]) -> None:
        assert self.path is not None
        tmp = self.path.with_name(self.path.name + ".tmp")
        with _open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC) as fh:
            fh.writelines(lines)
            fh.flush()
            if self._fsync:
                os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        if self._fsync:
            with contextlib.suppress(OSError):
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    @staticmethod
    def _encode_enqueue(entry: OutboxEntry) -> bytes:
        rec = _Record(
            op="enqueue",
            client_id=entry.client_id,
            conversation_id=entry.conversation_id,
            body=entry.body,
            internal=entry.internal,
            attachment_ids=list(entry.attachment_ids),
            at=entry.enqueued_at,
        )
        return _encoder.encode(rec) + b"\n"

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Start delivering (entries left over from the last run go first)."""
        if self._started or self._closed:
            return
        self._started = True
        self._wake = asyncio.Event()
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._write_wakeup = asyncio.Event()
        self._writer = asyncio.create_task(self._write_loop(), name="outbox-writer")
        for conversation_id in list(self._queues):
            self._ensure_worker(conversation_id)

    @property
    def started(self) -> bool:
        return self._started

    async def aclose(self) -> None:
        """Stop workers; undelivered entries stay on disk and wait for the next start."""
        if self._closed:
            return
        self._closed = True
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        for task in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        if self._writer is not None:
            # Let queued and in-flight writes reach the disk before closing the file.
            pending_writes = [w.done for w in self._inflight + self._writes]
            if pending_writes:
                await asyncio.gather(*pending_writes, return_exceptions=True)
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        for futures in self._waiters.values():
            for fut in futures:
                if not fut.done():
                    fut.set_exception(
                        OutboxClosed(
                            "The console closed before this message was sent; "
                            "it will be sent the next time the console connects."
                        )
                    )
        self._waiters.clear()
        if self._file is not None:
            self._file.close()
            self._file = None

    # ----------------------------------------------------------------- observers

    def on_update(self, callback: Callable[[DeliveryUpdate], None]) -> None:
        """Run ``callback`` on every delivery update (in the event loop)."""
        self._callbacks.append(callback)

    def subscribe(self) -> asyncio.Queue[DeliveryUpdate]:
        """A queue receiving every delivery update from now on."""
        queue: asyncio.Queue[DeliveryUpdate] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[DeliveryUpdate]) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(queue)

    def pending(self, conversation_id: str | None = None) -> list[OutboxEntry]:
        """Entries not yet acknowledged, in delivery order per conversation."""
        return [
            p.entry
            for conv, queue in self._queues.items()
            if conversation_id is None or conv == conversation_id
            for p in queue
        ]

    def failed(self) -> list[DeliveryUpdate]:
        """Entries the server refused (kept until :meth:`dismiss`)."""
        return list(self._failed.values())

    @property
    def paused(self) -> str | None:
        """Why delivery is paused (e.g. token revoked), or None."""
        return self._pause_reason or None

    def _emit(self, update: DeliveryUpdate) -> None:
        if update.status != "pending":
            self._outcomes[update.entry.client_id] = update
            while len(self._outcomes) > 10_000:
                self._outcomes.popitem(last=False)
            for fut in self._waiters.pop(update.entry.client_id, []):
                if fut.done():
                    continue
                if update.message is not None:
                    fut.set_result(update.message)
                else:
                    fut.set_exception(OutboxFailed(update.entry, update.reason, update.code))
        for callback in list(self._callbacks):
            try:
                callback(update)
            except Exception:
                log.exception("outbox update callback failed")
        for queue in self._subscribers:
            queue.put_nowait(update)

    # ----------------------------------------------------------------- control

    def wake(self) -> None:
        """The link is back: end backoff waits now (a server's Retry-After is still honoured)."""
        if self._wake is not None:
            self._wake.set()
            self._wake = asyncio.Event()

    def pause(self, reason: str) -> None:
        self._pause_reason = reason
        if self._resumed is not None:
            self._resumed.clear()

    def resume(self) -> None:
        self._pause_reason = ""
        if self._resumed is not None:
            self._resumed.set()

    async def dismiss(self, client_id: str) -> None:
        """Forget a failed entry (the UI showed it and the agent moved on)."""
        if self._failed.pop(client_id, None) is not None:
            await self._record(_Record(op="dismissed", client_id=client_id))

    async def retry(self, client_id: str) -> OutboxEntry:
        """Queue a failed entry again, same ``client_id`` (the server never stored it), at the end."""
        failed = self._failed.get(client_id)
        if failed is None:
            raise KeyError(client_id)
        await self.dismiss(client_id)
        self._outcomes.pop(client_id, None)
        return await self.enqueue(failed.entry.conversation_id, failed.entry.to_request())

    # ----------------------------------------------------------------- enqueue / wait

    async def enqueue(self, conversation_id: str, request: m.SendMessage) -> OutboxEntry:
        """Persist ``request`` (fsync) and queue it; returns once it is on disk.

        Idempotent on ``client_id`` like the server: a client id that is already
        pending, sent or failed returns that entry and queues nothing new
        (:meth:`delivery` then reports its outcome).
        """
        if self._closed:
            raise OutboxClosed("The outbox is closed; the message was not queued.")
        client_id = request.client_id
        known = self._failed.get(client_id) or self._outcomes.get(client_id)
        if known is not None:
            return known.entry
        for queued in self._queues.get(conversation_id, ()):
            if queued.entry.client_id == client_id:
                return queued.entry
        entry = OutboxEntry(
            client_id=client_id,
            conversation_id=conversation_id,
            body=request.body,
            internal=request.internal,
            attachment_ids=tuple(request.attachment_ids),
            enqueued_at=time.time(),
        )
        # Queue in memory first (synchronously) so concurrent enqueues keep call order;
        # the worker waits for the write below before the first attempt.
        pending = _Pending(entry)
        self._queues.setdefault(conversation_id, deque()).append(pending)
        write = self._append([self._encode_enqueue(entry)])
        self._emit(DeliveryUpdate(entry, "pending"))
        try:
            await write
        except BaseException:
            queue = self._queues.get(conversation_id)
            if queue is not None and pending in queue:
                queue.remove(pending)
            raise
        if self._started:
            self._ensure_worker(conversation_id)
        return entry

    def delivery(self, client_id: str) -> asyncio.Future[m.Message]:
        """A future for the server's Message; raises OutboxFailed / OutboxClosed."""
        fut: asyncio.Future[m.Message] = asyncio.get_running_loop().create_future()
        done = self._outcomes.get(client_id) or self._failed.get(client_id)
        if done is not None:
            if done.message is not None:
                fut.set_result(done.message)
            else:
                fut.set_exception(OutboxFailed(done.entry, done.reason, done.code))
        else:
            self._waiters.setdefault(client_id, []).append(fut)
        return fut

    async def send(self, conversation_id: str, request: m.SendMessage) -> m.Message:
        """Enqueue and wait for the acknowledgement (cancelling the wait keeps the entry)."""
        entry = await self.enqueue(conversation_id, request)
        return await self.delivery(entry.client_id)

    # ----------------------------------------------------------------- disk

    def _append(self, lines: list[bytes], *, durable: bool = True) -> asyncio.Future[None]:
        """Queue lines for the writer. ``durable`` records are fsynced before the future resolves.

        Only ``enqueue`` records need to be durable: losing an outcome record
        costs at most one idempotent resend (or one repeated refusal) on the next start.
        """
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        if self.path is None:
            fut.set_result(None)
            return fut
        if self._writer is None or self._write_wakeup is None:
            # Not started yet: write synchronously (still durable).
            self._write_blocking(lines, durable)
            fut.set_result(None)
            return fut
        self._writes.append(_Write(lines, fut, durable))
        self._write_wakeup.set()
        return fut

    def _write_blocking(self, lines: list[bytes], durable: bool = True) -> None:
        fh = self._file
        if fh is None:
            raise OutboxClosed("The outbox file is closed.")
        fh.write(b"".join(lines))
        fh.flush()
        if self._fsync and durable:
            os.fsync(fh.fileno())

    async def _write_loop(self) -> None:
        """Group commit: one write + fsync for every record queued since the last one."""
        assert self._write_wakeup is not None
        while True:
            await self._write_wakeup.wait()
            self._write_wakeup.clear()
            batch, self._writes = self._writes, []
            if not batch:
                continue
            self._inflight = batch
            try:
                await asyncio.to_thread(
                    self._write_blocking,
                    [ln for w in batch for ln in w.lines],
                    any(w.durable for w in batch),
                )
            except Exception as exc:
                log.exception("outbox write failed")
                for w in batch:
                    if not w.done.done():
                        w.done.set_exception(
                            OSError(f"Could not save the outbox to {self.path}: {exc}")
                        )
                continue
            finally:
                self._inflight = []
            for w in batch:
                if not w.done.done():
                    w.done.set_result(None)

    # ----------------------------------------------------------------- delivery

    def _ensure_worker(self, conversation_id: str) -> None:
        if self._closed:
            return
        task = self._workers.get(conversation_id)
        if task is None or task.done():
            self._workers[conversation_id] = asyncio.create_task(
                self._drain(conversation_id), name=f"outbox:{conversation_id}"
            )

    async def _drain(self, conversation_id: str) -> None:
        backoff = Backoff(self._backoff_base, self._backoff_cap, rng=self._rng)
        queue = self._queues.get(conversation_id)
        try:
            while queue:
                head = queue[0]
                outcome = await self._deliver(head, backoff)
                if queue and queue[0] is head:
                    queue.popleft()
                if outcome is not None:
                    self._emit(outcome)
        finally:
            if not queue:
                self._queues.pop(conversation_id, None)
            if self._workers.get(conversation_id) is asyncio.current_task():
                del self._workers[conversation_id]
            if queue and not self._closed:
                # Entries were queued after the loop saw an empty queue.
                asyncio.get_running_loop().call_soon(self._ensure_worker, conversation_id)

    async def _record(self, rec: _Record) -> None:
        """Append an outcome record; a disk error is logged, not fatal (the send happened)."""
        try:
            await self._append([_encoder.encode(rec) + b"\n"], durable=False)
        except OSError:
            log.exception("outbox: could not record %s for %s", rec.op, rec.client_id)

    async def _deliver(self, pending: _Pending, backoff: Backoff) -> DeliveryUpdate | None:
        """Attempt until acknowledged or permanently refused; returns the final update."""
        assert self._resumed is not None
        entry = pending.entry
        while True:
            await self._resumed.wait()
            pending.attempts += 1
            try:
                message = await self._send(entry.conversation_id, entry.to_request())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                verdict = self._classify(exc)
            else:
                backoff.reset()
                await self._record(
                    _Record(op="sent", client_id=entry.client_id, message_id=message.id)
                )
                return DeliveryUpdate(entry, "sent", message=message, attempts=pending.attempts)
            if isinstance(verdict, Fail):
                await self._record(
                    _Record(
                        op="failed",
                        client_id=entry.client_id,
                        reason=verdict.reason,
                        code=verdict.code,
                    )
                )
                update = DeliveryUpdate(
                    entry,
                    "failed",
                    reason=verdict.reason,
                    code=verdict.code,
                    attempts=pending.attempts,
                )
                self._failed[entry.client_id] = update
                return update
            if isinstance(verdict, Pause):
                self.pause(verdict.reason)
                self._emit(
                    DeliveryUpdate(
                        entry, "pending", reason=verdict.reason, attempts=pending.attempts
                    )
                )
                continue
            delay = verdict.after if verdict.after is not None else backoff.next_delay()
            retry_at = time.monotonic() + delay
            self._emit(
                DeliveryUpdate(
                    entry,
                    "pending",
                    reason=verdict.reason,
                    attempts=pending.attempts,
                    retry_at=retry_at,
                )
            )
            if verdict.after is not None:
                await asyncio.sleep(delay)
            else:
                assert self._wake is not None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
