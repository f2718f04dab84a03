"""Matrix client-server API plumbing: one httpx client, errors as sentences, 429 retries."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import msgspec

from console.backends._streaming import RateLimitedError, retry_rate_limited
from console.backends.base import AuthError, BackendError

LIMIT = "M_LIMIT_EXCEEDED"
"""Error code of a Matrix 429 (kept as the ``RateLimitedError`` code)."""

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

CLIENT = "/_matrix/client/v3"
MEDIA_UPLOAD = "/_matrix/media/v3/upload"
MEDIA_DOWNLOAD = "/_matrix/client/v1/media/download"
_MAX_429_WAIT = 30.0


def seg(value: str) -> str:
    """One URL path segment (room ids contain '!' and ':'; never trust them in a path)."""
    return quote(value, safe="")


def clean(text: str) -> str:
    from console.core.sanitize import sanitize_single_line  # only needed on errors

    return sanitize_single_line(text)


_SENTENCES: dict[int, str] = {
    400: "The homeserver refused the request as invalid.",
    401: "The homeserver did not accept your access token. Sign in again (agent-console login).",
    403: "Your Matrix account is not allowed to do that.",
    404: "That room or item was not found on the homeserver.",
    409: "That change conflicts with the current state; refresh and try again.",
    413: "That is too large for the homeserver.",
    429: "The homeserver is rate limiting this console; wait a moment and try again.",
}


class Api:
    """Requests to one homeserver with one access token."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        timeout: float,
        on_fatal: Callable[[str], None] | None = None,
        transport: Any = None,
        event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self._on_fatal = on_fatal
        self._transport = transport
        self._event_hooks = dict(event_hooks or {})
        self.client: httpx.AsyncClient | None = None
        self.closed = False

    def http(self) -> httpx.AsyncClient:
        if self.client is None:
            import httpx  # deferred: ~57 ms at import

            from console import __version__

            headers = {"Accept": "application/json", "User-Agent": f"agent-console/{__version__}"}
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            self.client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=headers,
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
                transport=self._transport,
                event_hooks=self._event_hooks,
            )
        return self.client

    async def aclose(self) -> None:
        self.closed = True
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content: bytes | None = None,
        content_type: str | None = None,
        timeout: float | None = None,
        retry_429: bool = True,
        fatal_403: bool = False,
    ) -> httpx.Response:
        import httpx

        if self.closed:
            raise BackendError("The console is disconnecting; try again after it reconnects.")
        headers: dict[str, str] = {}
        if body is not None:
            content = msgspec.json.encode(body)
            headers["Content-Type"] = "application/json"
        elif content_type is not None:
            headers["Content-Type"] = content_type
        clean_params = {k: v for k, v in (params or {}).items() if v is not None} or None
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.http().request(
                    method,
                    path,
                    params=clean_params,
                    content=content,
                    headers=headers or None,
                    timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
                )
            except httpx.TimeoutException as exc:
                raise BackendError(
                    f"The homeserver at {self.base_url} did not answer in time. Check your "
                    "network; the console keeps trying to reconnect.",
                    code="timeout",
                ) from exc
            except httpx.TransportError as exc:
                raise BackendError(
                    f"Cannot reach the homeserver at {self.base_url}. Check that it is running "
                    "and that your network is up; the console keeps trying to reconnect.",
                    code="unreachable",
                ) from exc
            if response.status_code < 400:
                return response
            error = self.error_from(response, fatal_403=fatal_403)
            if retry_429 and await retry_rate_limited(
                error, attempt, max_attempts=5, max_wait=_MAX_429_WAIT, what=path
            ):
                continue
            raise error

    def error_from(self, response: httpx.Response, *, fatal_403: bool = False) -> BackendError:
        status = response.status_code
        errcode, message = f"http_{status}", ""
        with contextlib.suppress(msgspec.DecodeError, ValueError, TypeError):
            data = msgspec.json.decode(response.content)
            if isinstance(data, dict):
                errcode = clean(str(data.get("errcode") or errcode))[:64]
                message = clean(str(data.get("error") or ""))[:500]
                retry_ms = data.get("retry_after_ms")
                if status == 429:
                    wait = float(retry_ms) / 1000 if isinstance(retry_ms, int | float) else 1.0
                    return RateLimitedError(
                        message or _SENTENCES[429], retry_after=max(0.0, wait), code=LIMIT
                    )
        if status == 429:
            return RateLimitedError(_SENTENCES[429], retry_after=1.0, code=LIMIT)
        if not message:
            message = (
                _SENTENCES.get(status, f"The homeserver refused the request ({status}).")
                if status < 500
                else f"The homeserver had an internal error ({status}); try again."
            )
        elif status in _SENTENCES and status < 500:
            message = f"{_SENTENCES[status]} ({message})"
        if status == 401 or (status == 403 and fatal_403):
            if self._on_fatal is not None:
                self._on_fatal(message)
            return AuthError(message, code=errcode, status=status)
        if status == 403:
            return AuthError(message, code=errcode, status=status)
        return BackendError(message, code=errcode, status=status)

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return decode(await self.request("GET", path, params=params))

    async def put_json(self, path: str, body: Any) -> Any:
        return decode(await self.request("PUT", path, body=body))

    async def post_json(self, path: str, body: Any = None) -> Any:
        return decode(await self.request("POST", path, body=body if body is not None else {}))


def decode(response: httpx.Response) -> Any:
    try:
        return msgspec.json.decode(response.content) if response.content else {}
    except msgspec.DecodeError as exc:
        raise BackendError(
            "The homeserver sent an answer the console cannot read.", code="bad_response"
        ) from exc
