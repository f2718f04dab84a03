"""Validate HTTP exchanges against Chatwoot's OpenAPI 3.0.4 spec (``spec/application_swagger.json``).

The spec is copied unchanged from Chatwoot 4.10.0 (see ``spec/SOURCE.txt``).
Chatwoot calls the console needs that the swagger does not describe are in
:data:`NOTES_OPERATIONS` / :data:`NOTES_QUERY` / :data:`NOTES_PATCHES`, each
with the section of ``/work/shared/reference/chatwoot/NOTES.md`` (checked
against Chatwoot's source) it comes from.  Everything else must be in the
swagger: an unknown path or method, an undeclared query parameter, a request
or response body that does not validate, or an undeclared response status is
a *violation*.

Schemas are OpenAPI 3.0 (``nullable``); they are turned into JSON Schema
2020-12 and checked with ``jsonschema_rs`` (installed with schemathesis, in
the ``test`` extra).  ``$ref``\\ s resolve against the whole document.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs

SPEC_FILE = Path(__file__).parent / "spec" / "application_swagger.json"
ACCOUNT = "/api/v1/accounts/{account_id}"

_note_schema = {
    "type": "object",
    "required": ["id", "content"],
    "properties": {
        "id": {"type": "integer"},
        "content": {"type": "string"},
        # _note.json.jbuilder writes `json.contact_id json.contact_id`: always null.
        "contact_id": {"type": "integer", "nullable": True},
        "account_id": {"type": "integer", "nullable": True},
        "user": {"$ref": "#/components/schemas/agent"},
        "created_at": {"type": "integer"},
        "updated_at": {"type": "integer"},
    },
}
_conv_param = [
    {"$ref": "#/components/parameters/account_id"},
    {"$ref": "#/components/parameters/conversation_id"},
]
_contact_param = [
    {"$ref": "#/components/parameters/account_id"},
    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
]
_empty_ok = {"200": {"description": "OK (empty body)"}}

# Operations missing from the swagger, written from NOTES.md (which cites the Chatwoot source).
NOTES_OPERATIONS: dict[str, dict[str, Any]] = {
    # NOTES §2 "Typing": toggle_typing_status {typing_status:"on"|"off", is_private:bool} -> 200 empty.
    ACCOUNT + "/conversations/{conversation_id}/toggle_typing_status": {
        "parameters": _conv_param,
        "post": {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["typing_status"],
                            "additionalProperties": False,
                            "properties": {
                                "typing_status": {"type": "string", "enum": ["on", "off"]},
                                "is_private": {"type": "boolean"},
                            },
                        }
                    }
                },
            },
            "responses": _empty_ok,
        },
    },
    # NOTES §2 "update_last_seen": POST, no body.
    ACCOUNT + "/conversations/{conversation_id}/update_last_seen": {
        "parameters": _conv_param,
        "post": {"responses": _empty_ok},
    },
    # NOTES §2 "Transcript": POST {email} -> 200; missing email -> 422.
    ACCOUNT + "/conversations/{conversation_id}/transcript": {
        "parameters": _conv_param,
        "post": {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["email"],
                            "additionalProperties": False,
                            "properties": {"email": {"type": "string", "minLength": 1}},
                        }
                    }
                },
            },
            "responses": _empty_ok,
        },
    },
    # NOTES §4 "Contact notes (not in swagger)": list newest first; create {note:{content}}.
    ACCOUNT + "/contacts/{id}/notes": {
        "parameters": _contact_param,
        "get": {
            "responses": {
                "200": {
                    "description": "notes, newest first",
                    "content": {
                        "application/json": {"schema": {"type": "array", "items": _note_schema}}
                    },
                }
            }
        },
        "post": {
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["note"],
                            "properties": {
                                "note": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["content"],
                                    "properties": {"content": {"type": "string", "minLength": 1}},
                                }
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "note",
                    "content": {"application/json": {"schema": _note_schema}},
                }
            },
        },
    },
}

# NOTES §2 "Assignments": GET /assignable_agents?inbox_ids[]= (members of all those inboxes,
# plus every administrator), as {"payload": [agent...]}
# [app/controllers/api/v1/accounts/assignable_agents_controller.rb].
NOTES_OPERATIONS[ACCOUNT + "/assignable_agents"] = {
    "parameters": [{"$ref": "#/components/parameters/account_id"}],
    "get": {
        "parameters": [
            {
                "name": "inbox_ids",
                "in": "query",
                "required": True,
                "schema": {"type": "array", "items": {"type": "integer"}},
            }
        ],
        "responses": {
            "200": {
                "description": "assignable agents",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["payload"],
                            "properties": {
                                "payload": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/agent"},
                                }
                            },
                        }
                    }
                },
            }
        },
    },
}

# Query parameters the swagger does not list, per (method, path template).
NOTES_QUERY: dict[tuple[str, str], list[dict[str, Any]]] = {
    # NOTES §3: messages before=/after= (message ids), filter_internal_messages.
    ("get", ACCOUNT + "/conversations/{conversation_id}/messages"): [
        {"name": "before", "in": "query", "schema": {"type": "integer"}},
        {"name": "after", "in": "query", "schema": {"type": "integer"}},
        {"name": "filter_internal_messages", "in": "query", "schema": {"type": "boolean"}},
    ],
    # NOTES §4: canned_responses?search=.
    ("get", ACCOUNT + "/canned_responses"): [
        {"name": "search", "in": "query", "schema": {"type": "string"}},
    ],
    # NOTES §2: updated_within=<seconds> (dashboard refresh after reconnect).
    ("get", ACCOUNT + "/conversations"): [
        {"name": "updated_within", "in": "query", "schema": {"type": "integer"}},
    ],
}


def _patch_assignments(spec: dict[str, Any]) -> None:
    """NOTES §2 "Assignments": ``assignee_id: null`` unassigns, ``team_id: null`` clears the
    team; the answer is the agent JSON, the team JSON, or ``null``.  The swagger types both
    ids as plain numbers and the answer as ``user`` only."""
    op = spec["paths"][ACCOUNT + "/conversations/{conversation_id}/assignments"]["post"]
    props = op["requestBody"]["content"]["application/json"]["schema"]["properties"]
    props["assignee_id"]["nullable"] = True
    props["team_id"]["nullable"] = True
    ok = op["responses"]["200"]["content"]["application/json"]
    ok["schema"] = {
        "nullable": True,
        "anyOf": [{"$ref": "#/components/schemas/user"}, {"$ref": "#/components/schemas/team"}],
    }


def _patch_availability(spec: dict[str, Any]) -> None:
    """NOTES §4 (profile/availability, presence.update): availability is online|busy|offline;
    the swagger's ``agent.availability_status`` enum says ``available`` instead of ``online``."""
    enum = spec["components"]["schemas"]["agent"]["properties"]["availability_status"]["enum"]
    enum.append("online")


def _patch_snoozed(spec: dict[str, Any]) -> None:
    """NOTES §2 (status open|resolved|pending|snoozed; app/models/conversation.rb ``enum
    status``): the swagger's conversation ``status`` enums leave ``snoozed`` out."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            enum = node.get("enum")
            if isinstance(enum, list) and set(enum) == {"open", "resolved", "pending"}:
                enum.append("snoozed")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["components"]["schemas"])


NOTES_PATCHES = [_patch_assignments, _patch_availability, _patch_snoozed]

# NOTES §1: any call may answer 401 (bad token or permission denial, body {"error": "..."}),
# 404 (not found) or 422 (missing parameter / validation failure); Rack::Attack 429 (§6).
GENERIC_ERROR_STATUSES = {401, 404, 422, 429}


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema 2020-12 (``nullable``; ``example`` is harmless)."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items()}
    if out.pop("nullable", False):
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*types, "null"]
            if "enum" in out:
                out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


@dataclass
class Route:
    method: str
    template: str
    regex: re.Pattern[str]
    operation: dict[str, Any]
    parameters: list[dict[str, Any]]
    literal_segments: int
    from_notes: bool


@dataclass
class Match:
    route: Route
    path_params: dict[str, str]


@dataclass
class Spec:
    document: dict[str, Any]
    routes: list[Route] = field(default_factory=list)
    _validators: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Spec:
        raw = json.loads(SPEC_FILE.read_text(encoding="utf-8"))
        doc = copy.deepcopy(raw)
        for patch in NOTES_PATCHES:
            patch(doc)
        spec = cls(document=doc)
        for template, item in doc["paths"].items():
            spec._add_path(template, item, from_notes=False)
        for template, item in NOTES_OPERATIONS.items():
            assert template not in doc["paths"], f"{template} is in the swagger now; drop the note"
            spec._add_path(template, item, from_notes=True)
        return spec

    def _add_path(self, template: str, item: dict[str, Any], *, from_notes: bool) -> None:
        shared = item.get("parameters", [])
        pattern = "^" + re.sub(r"\\\{([a-z_]+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
        literal = sum(1 for seg in template.split("/") if seg and not seg.startswith("{"))
        for method, op in item.items():
            if method == "parameters":
                continue
            params = {(p := self.resolve(x))["in"] + ":" + p["name"]: p for x in shared}
            for x in op.get("parameters", []):
                p = self.resolve(x)
                params[p["in"] + ":" + p["name"]] = p
            for extra in NOTES_QUERY.get((method, template), []):
                params["query:" + extra["name"]] = extra
            self.routes.append(
                Route(
                    method,
                    template,
                    re.compile(pattern),
                    op,
                    list(params.values()),
                    literal,
                    from_notes,
                )
            )

    def resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.document
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def validator(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            wrapped = _to_json_schema(schema)
            wrapped = {
                "allOf": [wrapped],
                "components": _to_json_schema(self.document["components"]),
            }
            found = jsonschema_rs.Draft202012Validator(wrapped)
            self._validators[key] = found
        return found

    def check(self, schema: dict[str, Any], value: Any, where: str) -> list[str]:
        validator = self.validator(schema)
        return [
            f"{where}: {err.message} at {list(err.instance_path)}"
            for err in validator.iter_errors(value)
        ]

    # ------------------------------------------------------------------ matching

    def match(self, method: str, path: str) -> tuple[Match | None, list[str]]:
        """The operation for ``method path`` whose path parameters validate (most literal first)."""
        problems: list[str] = []
        candidates = [r for r in self.routes if r.regex.match(path)]
        candidates.sort(key=lambda r: -r.literal_segments)
        if not candidates:
            return None, [f"{method.upper()} {path}: no such path in the Chatwoot spec"]
        for route in candidates:
            if route.method != method.lower():
                continue
            found = route.regex.match(path)
            assert found is not None
            values = found.groupdict()
            errors: list[str] = []
            for param in route.parameters:
                if param["in"] != "path":
                    continue
                raw = values.get(param["name"])
                errors += self.check(
                    param["schema"], _coerce(raw, param["schema"]), f"path {param['name']}"
                )
            if not errors:
                return Match(route, values), []
            problems += errors
        allowed = sorted({r.method.upper() for r in candidates})
        return None, problems or [
            f"{method.upper()} {path}: method not in the spec (spec has {allowed})"
        ]

    def check_query(self, match: Match, query: list[tuple[str, str]]) -> list[str]:
        declared = {p["name"]: p for p in match.route.parameters if p["in"] == "query"}
        errors = []
        seen = set()
        for name, value in query:
            base = name.removesuffix("[]")
            param = declared.get(base)
            if param is None:
                errors.append(f"query {name!r} is not a parameter of {match.route.template}")
                continue
            seen.add(base)
            schema = param.get("schema", {})
            if schema.get("type") == "array":
                schema = schema.get("items", {})
            errors += self.check(schema, _coerce(value, schema), f"query {name}")
        for name, param in declared.items():
            if param.get("required") and name not in seen:
                errors.append(f"required query {name!r} missing")
        return errors

    def check_request_body(self, match: Match, body: Any, present: bool) -> list[str]:
        spec_body = match.route.operation.get("requestBody")
        if spec_body is None:
            return ["request has a body but the operation takes none"] if present else []
        if not present:
            return ["request body missing"] if spec_body.get("required") else []
        schema = spec_body.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return ["the operation takes no JSON body"]
        return self.check(schema, body, "request body")

    def check_response(self, match: Match, status: int, body: Any, present: bool) -> list[str]:
        responses = match.route.operation.get("responses", {})
        declared = responses.get(str(status))
        if declared is None:
            if status in GENERIC_ERROR_STATUSES:
                return []
            return [f"response status {status} is not declared for {match.route.template}"]
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema is None or not present:
            return []
        return self.check(schema, body, f"response {status}")


def _coerce(raw: str | None, schema: dict[str, Any]) -> Any:
    """Query/path strings -> the JSON type the schema asks for (invalid text stays a string)."""
    if raw is None:
        return None
    kind = schema.get("type")
    if kind in ("integer", "number"):
        try:
            return int(raw) if kind == "integer" else float(raw)
        except ValueError:
            return raw
    if kind == "boolean" and raw in ("true", "false"):
        return raw == "true"
    return raw
