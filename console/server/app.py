"""The reference chat server: ``create_app(settings)`` (Starlette) and ``serve(settings)`` (uvicorn).

Request pipeline for every REST route in :data:`console.server.routes.ROUTES`:

1. :class:`RequestGuard` (pure ASGI) refuses bodies over the limit with 413
   (JSON 1 MiB; uploads 25 MB plus form overhead) from ``Content-Length`` or
   while streaming, and records ``method path role status`` in
   ``app.state.request_log`` (served by ``GET /api/v1/_debug/requests`` only
   when ``settings.debug_endpoints`` is on: tests use it to prove that a
   read-only client never sent a mutating request).
2. Bearer token → :class:`Principal` (not revoked, not expired), else 401 ``unauthorized``.
3. Token bucket per token (``rate_per_second``/``rate_burst``) → 429 ``rate_limited``
   with ``Retry-After`` (off when ``settings.rate_limit`` is false).
4. Supervisor + mutating method → 403 ``read_only``, before anything else is
   looked at (except routes marked ``read_only_safe``, e.g. a stream ticket); other role mismatches → 403 ``forbidden``.
5. JSON body decoded into the route's msgspec Struct → 400 ``bad_request`` with
   msgspec's explanation.
6. The handler runs; mutating handlers on the database writer thread inside their
   own savepoint of a group-committed transaction (``Database.write``), so an
   error anywhere leaves nothing half-written; reads in one read snapshot.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
import json
import logging
import math
import re
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from console.protocol import limits
from console.server import admin
from console.server.api import Ctx, Principal, RouteSpec
from console.server.db import Database, now_iso, private_dir
from console.server.errors import ApiError, error_response
from console.server.routes import ROUTES
from console.server.service import Presence, Service
from console.server.settings import ServerSettings
from console.server.stream import Hub, stream_endpoint

log = logging.getLogger("console.server")

API = limits.API_PREFIX
UPLOAD_OVERHEAD = 1024 * 1024
TOKEN_CACHE_SECONDS = 0.5  # how long a token lookup is reused (revocation bites after this)
QUERY_MAX_CHARS = 200  # documented as maxLength of every free-text query parameter  # multipart boundaries and headers around a 25 MB file


class TokenBucket:
    __slots__ = ("stamp", "tokens")

    def __init__(self, burst: int) -> None:
        self.tokens = float(burst)
        self.stamp = time.monotonic()


@dataclass(slots=True)
class ServerState:
    """Everything handlers share; ``app.state.ac``."""

    settings: ServerSettings
    db: Database
    svc: Service
    hub: Hub
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    # token → (principal or None, monotonic expiry): see cached_principal.
    token_cache: dict[str, tuple[Principal | None, float]] = field(default_factory=dict)
    token_cache_version: int = -1
    request_log: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=20_000)
    )
    identity_secret: str = ""
    # Single-use stream tickets: ticket → (token key, monotonic expiry).
    tickets: dict[str, tuple[str, float]] = field(default_factory=dict)
    # Open streams → the token key they were opened with (revocation/expiry watcher).
    streams: dict[asyncio.Future[None], str] = field(default_factory=dict)

    def authenticate(self, token: str | None) -> Principal | None:
        if not token or len(token) > 512:
            return None
        return self.principal_for_key(admin.hash_token(token))

    def principal_for_key(self, key: str) -> Principal | None:
        """The caller behind a token hash, if the token is neither revoked nor expired."""
        row = self.db.one(
            "SELECT role, subject_id FROM tokens WHERE hash = ? AND revoked = 0 "
            "AND (expires_at IS NULL OR expires_at > ?)",
            (key, now_iso()),
        )
        if row is None:
            return None
        table = "customers" if row["role"] == "customer" else "users"
        who = self.db.one(f"SELECT name FROM {table} WHERE id = ?", (row["subject_id"],))
        if who is None:
            return None
        return Principal(role=row["role"], subject_id=row["subject_id"], name=who["name"], key=key)

    def valid_keys(self, keys: set[str]) -> set[str]:
        """Those of ``keys`` whose token is still neither revoked nor expired."""
        found: set[str] = set()
        listed = list(keys)
        now = now_iso()
        for start in range(0, len(listed), 500):
            chunk = listed[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.all(
                f"SELECT hash FROM tokens WHERE hash IN ({marks}) AND revoked = 0 "
                "AND (expires_at IS NULL OR expires_at > ?)",
                (*chunk, now),
            )
            found.update(str(r[0]) for r in rows)
        return found

    def issue_ticket(self, principal: Principal) -> str:
        """A single-use stream ticket for ``principal``'s token (``POST /stream/ticket``)."""
        now = time.monotonic()
        if len(self.tickets) > 10_000:
            self.tickets = {t: v for t, v in self.tickets.items() if v[1] > now}
        ticket = "st_" + secrets.token_urlsafe(24)
        self.tickets[ticket] = (principal.key, now + self.settings.stream_ticket_seconds)
        return ticket

    def redeem_ticket(self, ticket: str) -> Principal | None:
        """Use up a ticket: its principal if it is known, unexpired and its token still valid."""
        entry = self.tickets.pop(ticket, None)
        if entry is None or entry[1] <= time.monotonic():
            return None
        return self.principal_for_key(entry[0])

    def end_invalid_streams(self) -> int:
        """Close (1008) the open streams whose token was revoked or has expired."""
        keys = set(self.streams.values())
        if not keys:
            return 0
        dead = keys - self.valid_keys(keys)
        ended = 0
        for serving, key in list(self.streams.items()):
            if key in dead and not serving.done():
                serving.cancel()
                ended += 1
        return ended

    def cached_principal(self, token: str) -> Principal | None:
        """:meth:`authenticate` behind a cache of :data:`TOKEN_CACHE_SECONDS` (saves two
        SELECTs and a sha256 per request; costs one ``PRAGMA data_version``).  A commit by
        another process (the CLI's revoke) empties the cache at once (when it lands in the
        instant of one of our own commits: at the writer's next transaction or after the
        cache time, see ``Database.foreign_generation``); a revocation or
        expiry inside this process bites within the cache time (well under the promised
        second); clear ``token_cache`` to make it bite at once."""
        # Another process (``agent-console token revoke``) committed: forget everything.
        version = self.db.foreign_generation()
        if version != self.token_cache_version:
            self.token_cache.clear()
            self.token_cache_version = version
        now = time.monotonic()
        hit = self.token_cache.get(token)
        if hit is not None and hit[1] > now:
            return hit[0]
        principal = self.authenticate(token)
        if len(self.token_cache) > 10_000:
            self.token_cache.clear()
        self.token_cache[token] = (principal, now + TOKEN_CACHE_SECONDS)
        return principal

    def rate_check(self, key: str) -> None:
        """Take one token from ``key``'s bucket or raise 429 with the seconds to wait."""
        s = self.settings
        if not s.rate_limit:
            return
        now = time.monotonic()
        bucket = self.buckets.get(key)
        if bucket is None:
            if len(self.buckets) > 100_000:
                self.buckets.clear()
            bucket = self.buckets[key] = TokenBucket(s.rate_burst)
        bucket.tokens = min(
            float(s.rate_burst), bucket.tokens + (now - bucket.stamp) * s.rate_per_second
        )
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        wait = math.ceil((1.0 - bucket.tokens) / s.rate_per_second) if s.rate_per_second > 0 else 60
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests; wait {wait} s and try again.",
            headers={"Retry-After": str(max(1, wait))},
        )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


async def _decode_body(request: Request, model: type) -> Any:
    raw = await request.body()
    if not raw.strip():
        raw = b"{}"
    try:
        return msgspec.json.decode(raw, type=model)
    except msgspec.ValidationError as exc:
        raise ApiError(400, "bad_request", f"Invalid request body: {exc}.") from None
    except msgspec.DecodeError:
        raise ApiError(
            400, "bad_request", "The request body is not valid JSON; send a JSON object."
        ) from None


def _check_query(spec: RouteSpec, request: Request) -> None:
    """Validate the declared query parameters against their documented schema (400 on mismatch)."""
    params = request.query_params
    for q in spec.query:
        value = params.get(q.name)
        if value is None:
            if q.required:
                raise ApiError(400, "bad_request", f"Query parameter {q.name!r} is required.")
            continue
        if q.kind == "integer":
            try:
                number = int(value)
            except ValueError:
                raise ApiError(
                    400, "bad_request", f"Query parameter {q.name!r} must be a whole number."
                ) from None
            if (q.minimum is not None and number < q.minimum) or (
                q.maximum is not None and number > q.maximum
            ):
                raise ApiError(
                    400,
                    "bad_request",
                    f"Query parameter {q.name!r} must be between {q.minimum} and {q.maximum}.",
                )
            continue
        if q.enum and value not in q.enum:
            raise ApiError(
                400,
                "bad_request",
                f"Query parameter {q.name!r} must be one of: {', '.join(q.enum)}.",
            )
        if len(value) > QUERY_MAX_CHARS:
            raise ApiError(
                400,
                "bad_request",
                f"Query parameter {q.name!r} is longer than {QUERY_MAX_CHARS} characters.",
            )
        if q.required and not value.strip():
            raise ApiError(400, "bad_request", f"Query parameter {q.name!r} must not be empty.")
        if q.pattern and not re.fullmatch(q.pattern.strip("^$"), value):
            raise ApiError(400, "bad_request", f"Query parameter {q.name!r} is not valid.")


def _render(spec: RouteSpec, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    status = spec.status
    if isinstance(result, tuple):
        status, result = result
    if result is None or status == 204:
        return Response(status_code=status)
    return Response(msgspec.json.encode(result), status_code=status, media_type="application/json")


def endpoint_for(spec: RouteSpec) -> Any:
    is_async = inspect.iscoroutinefunction(spec.handler)

    async def endpoint(request: Request) -> Response:
        st: ServerState = request.app.state.ac
        info = request.scope.get("ac_info")
        try:
            token = _bearer(request)
            principal = st.cached_principal(token) if token else None
            if principal is None and spec.auth:
                raise ApiError(
                    401,
                    "unauthorized",
                    "Missing or invalid token: send 'Authorization: Bearer <token>' "
                    "(create one with 'agent-console token create').",
                )
            if info is not None:
                info["role"] = principal.role if principal else None
            client = request.client.host if request.client else "unknown"
            st.rate_check(principal.key if principal else "ip:" + client)
            if (
                principal is not None
                and principal.role == "supervisor"
                and spec.mutating
                and not spec.read_only_safe
            ):
                raise ApiError(
                    403,
                    "read_only",
                    "Supervisor tokens are read-only: this request would change data.",
                )
            if spec.auth and principal is not None and principal.role not in spec.roles:
                allowed = " or ".join(spec.roles)
                raise ApiError(
                    403,
                    "forbidden",
                    f"This endpoint is for {allowed} tokens, not {principal.role}.",
                )
            _check_query(spec, request)
            body = await _decode_body(request, spec.body) if spec.body is not None else None
            ctx = Ctx(
                request=request,
                principal=principal,
                body=body,
                svc=st.svc,
                settings=st.settings,
                spec=spec,
            )
            if is_async:
                result = await spec.handler(ctx)
            elif spec.mutating:  # on the writer thread, committed with its batch
                result = await st.db.write(lambda: spec.handler(ctx))
            else:
                with st.db.snapshot():
                    result = spec.handler(ctx)
            return _render(spec, result)
        except ApiError as exc:
            return error_response(exc.status, exc.code, exc.message, exc.headers)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return error_response(
                500, "internal", "The server failed on this request; it has been logged."
            )

    endpoint.__name__ = spec.handler.__name__
    endpoint.__doc__ = spec.handler.__doc__
    return endpoint


def _dispatch(handlers: dict[str, Any]) -> Any:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        response: Response = await handlers[method](request)
        return response

    return endpoint


class RequestGuard:
    """Pure ASGI: body size limits (413) and the request log."""

    def __init__(self, app: ASGIApp, state_getter: Any) -> None:
        self.app = app
        self.state_getter = state_getter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        method: str = scope["method"]
        upload = method == "POST" and path.endswith("/attachments")
        limit = limits.MAX_ATTACHMENT_BYTES + UPLOAD_OVERHEAD if upload else limits.MAX_JSON_BYTES
        info: dict[str, Any] = {"role": None, "status": None}
        scope["ac_info"] = info
        state: ServerState = self.state_getter()
        log_it = not path.startswith(API + "/_debug")

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                info["status"] = message["status"]
            await send(message)

        try:
            declared = None
            for name, value in scope.get("headers", []):
                if name == b"content-length":
                    with contextlib.suppress(ValueError):
                        declared = int(value)
            if declared is not None and declared > limit:
                what = "file" if upload else "JSON body"
                response = error_response(
                    413,
                    "too_large",
                    f"The {what} is larger than {limit // (1024 * 1024)} MiB; send less.",
                )
                response.headers["Connection"] = "close"
                await response(scope, receive, send_wrapper)
                return
            received = 0
            body_done = False
            timeout = state.settings.body_timeout * (10 if upload else 1)
            deadline = asyncio.get_running_loop().time() + timeout

            async def receive_wrapper() -> Message:
                nonlocal received, body_done
                if body_done:
                    return await receive()
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await receive()
                except TimeoutError:
                    log.info("%s %s: request body not received in %.0f s", method, path, timeout)
                    raise ApiError(
                        408,
                        "timeout",
                        f"The request body did not arrive within {timeout:.0f} s; send it again.",
                        headers={"Connection": "close"},
                    ) from None
                if message["type"] == "http.request":
                    body_done = not message.get("more_body", False)
                    received += len(message.get("body", b""))
                    if received > limit:
                        raise ApiError(
                            413, "too_large", "The request body is too large; send less."
                        )
                return message

            await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            if log_it:
                state.request_log.append(
                    {"method": method, "path": path, "role": info["role"], "status": info["status"]}
                )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        return error_response(
            405, "method_not_allowed", "This method is not allowed on this path.", exc.headers
        )
    if exc.status_code == 404:
        return error_response(404, "not_found", "No such endpoint; see /api/v1/openapi.json.")
    return error_response(exc.status_code, "http_error", str(exc.detail))


def create_app(settings: ServerSettings) -> Starlette:
    """Build the app (opens and migrates the database, seeds demo data if asked)."""
    db = Database(
        settings.db_path,
        event_retention=settings.event_log_retention,
        synchronous=settings.sqlite_synchronous,
    )
    private_dir(settings.data_dir)
    private_dir(settings.data_dir / "attachments")
    with db.transaction():
        admin.ensure_default_department(db.conn)
        identity_secret = settings.identity_secret or admin.ensure_identity_secret(db.conn)
    if settings.demo:
        from console.server.demo import load_demo

        load_demo(db)
    svc = Service(
        db,
        Presence(settings.presence_grace_seconds)
        if settings.route_to_present_agents_only
        else None,
    )
    state = ServerState(
        settings=settings, db=db, svc=svc, hub=Hub(db), identity_secret=identity_secret
    )

    # One Starlette route per path (dispatching on method) so a 405 lists every allowed method.
    by_path: dict[str, dict[str, Any]] = {}
    for spec in ROUTES:
        by_path.setdefault(spec.path, {})[spec.method] = endpoint_for(spec)
    routes: list[BaseRoute] = [
        Route(API + path, _dispatch(handlers), methods=list(handlers), name=path)
        for path, handlers in by_path.items()
    ]

    async def openapi(request: Request) -> Response:
        from console.server.openapi import build_openapi

        return JSONResponse(build_openapi(ROUTES))

    async def stream(websocket: WebSocket) -> None:
        # Credentials come from the header or a single-use ticket, never ?token= (see
        # _stream_principal); stream_endpoint rate-limits the handshake and answers 401.
        principal = _stream_principal(state, websocket)
        # An agent with a stream open is present: routing may give them chats.
        present = (
            principal.subject_id
            if principal is not None and principal.role == "agent" and svc.presence is not None
            else None
        )
        if present is not None and svc.presence is not None and svc.presence.opened(present):
            await asyncio.to_thread(_drain_queue, db, svc)
        # stream_endpoint runs as its own task so the token watcher can end it.
        serving = asyncio.ensure_future(
            stream_endpoint(
                websocket,
                authenticate=lambda _token: principal,
                hub=state.hub,
                heartbeat_seconds=settings.heartbeat_seconds,
                rate_check=state.rate_check,
                send_timeout=settings.stream_send_timeout,
            )
        )
        if principal is not None:
            state.streams[serving] = principal.key
        try:
            await asyncio.wait({serving})
            if serving.cancelled():  # end_invalid_streams: token revoked or expired
                with contextlib.suppress(Exception):
                    await websocket.close(code=1008, reason="token revoked or expired")
                return
            serving.result()
        finally:
            state.streams.pop(serving, None)
            if not serving.done():
                serving.cancel()
            if present is not None and svc.presence is not None:
                svc.presence.closed(present)

    routes.append(Route(API + "/openapi.json", openapi, methods=["GET"]))
    routes.append(WebSocketRoute(API + "/stream", stream))
    if settings.debug_endpoints:

        async def debug_requests(request: Request) -> Response:
            """Test-only request log: ``[{"method","path","role","status"}]``; DELETE clears it."""
            if request.method == "DELETE":
                state.request_log.clear()
                return Response(status_code=204)
            return JSONResponse(list(state.request_log))

        routes.append(Route(API + "/_debug/requests", debug_requests, methods=["GET", "DELETE"]))

        async def debug_events(request: Request) -> Response:
            """Test-only: append ``count`` filler events of about ``size`` bytes in one
            transaction (``{"count": n, "size": bytes}``) → ``{"first_seq", "last_seq"}``."""
            body = json.loads(await request.body() or b"{}")
            count = max(1, min(int(body.get("count", 1)), 100_000))
            pad = "x" * max(0, min(int(body.get("size", 0)), 64 * 1024))
            seqs: list[int] = []
            with db.transaction():
                for i in range(count):
                    seqs.append(db.append_event("debug.filler", {"n": i, "pad": pad}))
            return JSONResponse({"first_seq": seqs[0], "last_seq": seqs[-1]})

        async def debug_streams(request: Request) -> Response:
            """Test-only: one entry per live stream subscriber (queue sizes) + overflow count."""
            return JSONResponse(
                {"subscribers": state.hub.stats(), "overflows": state.hub.overflows}
            )

        routes.append(Route(API + "/_debug/events", debug_events, methods=["POST"]))
        routes.append(Route(API + "/_debug/streams", debug_streams, methods=["GET"]))

    async def watch_tokens() -> None:
        """Re-check the tokens of open streams; revoked (e.g. by the CLI) or expired → closed."""
        while True:
            await asyncio.sleep(settings.token_check_seconds)
            try:
                state.end_invalid_streams()
            except Exception:
                log.exception("token check of open streams failed")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        db.start_writer(asyncio.get_running_loop())
        watcher = asyncio.create_task(watch_tokens())
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(BaseException):
                await watcher
            db.close()  # finishes the queued writes first

    app = Starlette(
        routes=routes, exception_handlers={HTTPException: _http_error}, lifespan=lifespan
    )
    app.state.ac = state
    app.state.request_log = state.request_log
    app.state.settings = settings
    app.add_middleware(RequestGuard, state_getter=lambda: state)
    return app


def _drain_queue(db: Database, svc: Service) -> None:
    """An agent became present: the chats waiting for someone may go to them now."""
    with db.transaction():
        svc.drain_queue()


def _stream_principal(state: ServerState, websocket: WebSocket) -> Principal | None:
    """Who opens a stream: ``Authorization: Bearer <token>`` or a single-use ``?ticket=``.

    A token in the URL (``?token=``) is never accepted: URLs end up in logs."""
    header = websocket.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return state.authenticate(header[7:].strip())
    ticket = websocket.query_params.get("ticket")
    if ticket:
        return state.redeem_ticket(ticket)
    return None


_SECRET_IN_URL = re.compile(r"(?i)([?&](?:token|access_token|ticket)=)[^&\s\"']+")


class RedactSecrets(logging.Filter):
    """Replace ``token=``/``ticket=`` query values in log records (uvicorn logs request URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            if any(isinstance(a, str) and "=" in a for a in args):
                record.args = tuple(
                    _SECRET_IN_URL.sub(r"\1[redacted]", a) if isinstance(a, str) else a
                    for a in args
                )
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = _SECRET_IN_URL.sub(r"\1[redacted]", record.msg)
        return True


def install_log_redaction() -> None:
    """Redact secrets in uvicorn's records (its access and websocket lines carry the URL)."""
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


def serve(settings: ServerSettings) -> None:
    """Run the server in the foreground until interrupted."""
    import uvicorn

    from console.server.protocols import aborting_websocket, timed_h11

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        http=timed_h11(settings.header_timeout),
        ws=aborting_websocket(settings.stream_close_timeout),
        ws_max_size=1024 * 1024,
        ws_per_message_deflate=False,  # CPU per frame per reader; see docs/server.md
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        lifespan="on",
        proxy_headers=False,
        server_header=False,
    )
    install_log_redaction()  # after Config: it (re)configures uvicorn's loggers
    uvicorn.Server(config).run()
