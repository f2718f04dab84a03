"""OpenAPI 3.1 document of the REST API, generated from the route table and the protocol models.

Schemas come from ``msgspec.json.schema_components`` over every request and
response type named in :data:`console.server.routes.ROUTES`, so the document
cannot drift from the code.  Served at ``GET /api/v1/openapi.json``.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from console.protocol import limits
from console.protocol import models as m
from console.server.api import RouteSpec

REF = "#/components/schemas/{name}"

_ERROR_TEXT = {
    400: "Malformed request (bad JSON, failed validation, bad query parameter).",
    401: "Missing or invalid bearer token.",
    403: "Role not allowed (`forbidden`) or supervisor token on a mutating route (`read_only`).",
    404: "Unknown id (or not visible to this caller).",
    409: "State conflict (`capacity_full`, `not_queued`, `conversation_closed`).",
    413: "Body too large (JSON > 1 MiB, file > 25 MB).",
    429: "Rate limited; see the `Retry-After` header (seconds).",
}

_EXTRA_SCHEMA_TYPES: list[Any] = [
    m.Event,
    m.Hello,
    m.Ping,
    m.Welcome,
    m.Reset,
    m.Pong,
    m.TypingEvent,
    m.Agent,
]


def _path_params(path: str) -> list[str]:
    return re.findall(r"{(\w+)}", path)


def build_openapi(routes: list[RouteSpec]) -> dict[str, Any]:
    types: list[Any] = [m.ErrorBody]
    for spec in routes:
        if spec.body is not None:
            types.append(spec.body)
        if spec.response is not None:
            types.append(spec.response)
    types += _EXTRA_SCHEMA_TYPES
    schemas, components = msgspec.json.schema_components(types, ref_template=REF)
    by_type = dict(zip(types, schemas, strict=True))
    error_ref = by_type[m.ErrorBody]

    paths: dict[str, dict[str, Any]] = {}
    for spec in routes:
        op: dict[str, Any] = {
            "operationId": spec.handler.__name__
            if spec.path != "/customer/attachments"
            else "customer_upload_attachment",
            "summary": spec.summary,
            "description": (spec.handler.__doc__ or "").strip(),
            "tags": [spec.tag],
        }
        params: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": {"type": "string", "minLength": 1},
            }
            for name in _path_params(spec.path)
        ]
        for q in spec.query:
            schema: dict[str, Any] = {"type": q.kind}
            if q.enum:
                schema["enum"] = list(q.enum)
            if q.minimum is not None:
                schema["minimum"] = q.minimum
            if q.maximum is not None:
                schema["maximum"] = q.maximum
            if q.kind == "string" and not q.enum:
                schema["maxLength"] = 200  # app.QUERY_MAX_CHARS
                if q.required:
                    schema["minLength"] = 1
            if q.pattern:
                schema["pattern"] = q.pattern
            params.append(
                {
                    "name": q.name,
                    "in": "query",
                    "required": q.required,
                    "description": q.description,
                    "schema": schema,
                }
            )
        if params:
            op["parameters"] = params
        if spec.body is not None:
            # A body whose fields all have defaults may be omitted (it reads as ``{}``).
            op["requestBody"] = {
                "required": bool(components[spec.body.__name__].get("required")),
                "content": {"application/json": {"schema": by_type[spec.body]}},
            }
        if spec.multipart:
            op["requestBody"] = {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["file"],
                            "additionalProperties": False,
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    }
                },
            }
        responses: dict[str, Any] = {}
        if spec.binary:
            responses[str(spec.status)] = {
                "description": "The file's bytes.",
                "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
            }
        elif spec.response is not None:
            responses[str(spec.status)] = {
                "description": "Success.",
                "content": {"application/json": {"schema": by_type[spec.response]}},
            }
            if spec.method == "POST" and spec.status == 201 and spec.body is m.SendMessage:
                responses["200"] = {
                    "description": "Idempotent replay: a message with this client_id already exists.",
                    "content": {"application/json": {"schema": by_type[spec.response]}},
                }
        else:
            responses[str(spec.status)] = {"description": "Success, no body."}
        codes = set(spec.errors) | {429}
        if spec.body is not None or spec.query or spec.multipart:
            codes.add(400)
        if spec.auth:
            codes |= {401, 403}
        if spec.body is not None or spec.multipart:
            codes.add(413)
        if spec.mutating and spec.auth:
            codes.add(403)
        for code in sorted(codes):
            responses[str(code)] = {
                "description": _ERROR_TEXT.get(code, "Error."),
                "content": {"application/json": {"schema": error_ref}},
            }
            if code == 429:
                responses[str(code)]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
        op["responses"] = responses
        if spec.auth:
            op["security"] = [{"bearer": []}]
        else:
            op["security"] = []
        paths.setdefault(limits.API_PREFIX + spec.path, {})[spec.method.lower()] = op

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "agent-console native protocol",
            "version": "1",
            "description": "REST API of the agent-console reference server. The WebSocket stream "
            "`/api/v1/stream` is described in docs/protocol.md; its frames are the Event, Hello, "
            "Welcome, Reset, Ping and Pong schemas.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
