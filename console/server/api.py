"""Plumbing shared by route handlers: the caller, the request context, the route table type.

Every REST route is one :class:`RouteSpec`; ``console.server.app`` builds the
Starlette routes from the table and ``console.server.openapi`` builds the
OpenAPI document from the very same table, so an undocumented route cannot exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from console.protocol import limits
from console.server.errors import bad_request
from console.server.service import Service
from console.server.settings import ServerSettings

STAFF = ("agent", "supervisor")
AGENT = ("agent",)
CUSTOMER = ("customer",)
EVERYONE = ("agent", "supervisor", "customer")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: from the bearer token."""

    role: str
    subject_id: str
    name: str
    key: str  # sha256 of the token: the rate-limit bucket key


@dataclass(frozen=True, slots=True)
class QueryParam:
    name: str
    description: str
    kind: str = "string"  # "string" | "integer"
    enum: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    required: bool = False
    pattern: str | None = None


@dataclass(slots=True)
class Ctx:
    """What a handler gets: the request, the caller, the decoded body, the service."""

    request: Request
    principal: Principal | None
    body: Any
    svc: Service
    settings: ServerSettings
    spec: RouteSpec

    @property
    def me(self) -> Principal:
        assert self.principal is not None
        return self.principal

    def path(self, name: str) -> str:
        return str(self.request.path_params[name])

    def query(self, name: str) -> str | None:
        value = self.request.query_params.get(name)
        if value is None:
            return None
        param = next((q for q in self.spec.query if q.name == name), None)
        if param is not None and param.enum and value not in param.enum:
            raise bad_request(f"Query parameter {name!r} must be one of: {', '.join(param.enum)}.")
        return value

    def query_int(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise bad_request(f"Query parameter {name!r} must be a whole number.") from None
        if not lo <= value <= hi:
            raise bad_request(f"Query parameter {name!r} must be between {lo} and {hi}.")
        return value

    def limit(self) -> int:
        return self.query_int("limit", limits.DEFAULT_PAGE_SIZE, 1, limits.MAX_PAGE_SIZE)


Handler = Callable[[Ctx], Any]


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """One REST route: the single source for routing, role checks, body decoding and OpenAPI."""

    method: str
    path: str  # relative to /api/v1, Starlette syntax: /conversations/{id}
    handler: Handler
    summary: str
    roles: tuple[str, ...] = STAFF
    body: type | None = None
    response: Any = None  # msgspec-describable type; None = no body
    status: int = 200
    query: tuple[QueryParam, ...] = ()
    auth: bool = True
    multipart: bool = False
    binary: bool = False  # response is raw bytes (downloads)
    errors: tuple[int, ...] = field(default=())
    tag: str = "agent"
    read_only_safe: bool = False  # POST that changes no data: allowed for supervisor tokens

    @property
    def mutating(self) -> bool:
        return self.method not in ("GET", "HEAD", "OPTIONS")
