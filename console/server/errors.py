"""API errors: one exception type, one JSON shape ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec
from starlette.responses import Response


class ApiError(Exception):
    """Raised anywhere in a request; turned into a JSON error response (transaction rolled back)."""

    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    body = msgspec.json.encode({"error": {"code": code, "message": message}})
    return Response(
        body, status_code=status, media_type="application/json", headers=dict(headers or {})
    )


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} was not found. Check the id and try again.")
