"""docs/protocol.md cannot drift from the code: generated tables are current, and every
event type, error code and limit the code has is documented."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from console.protocol import limits
from console.protocol.models import EVENT_DATA_TYPES

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "protocol.md"


def load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_protocol_tables", ROOT / "docs" / "gen_protocol_tables.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_route_and_model_tables_are_current() -> None:
    gen = load_generator()
    text = DOC.read_text(encoding="utf-8")
    assert gen.render(text) == text, (
        "docs/protocol.md is stale: run python docs/gen_protocol_tables.py"
    )


def test_every_route_has_a_row() -> None:
    from console.server.routes import ROUTES

    text = DOC.read_text(encoding="utf-8")
    for spec in ROUTES:
        assert f"| {spec.method} | `/api/v1{spec.path}` |" in text, spec.path


def test_every_event_type_is_in_the_event_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    for event_type in EVENT_DATA_TYPES:
        assert re.search(rf"^\| `{re.escape(event_type)}` \|", text, re.MULTILINE), event_type


def test_every_error_code_the_server_uses_is_documented() -> None:
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in (ROOT / "console" / "server").glob("*.py")
    )
    codes = set(re.findall(r"ApiError\(\s*\d{3},\s*\"([a-z_]+)\"", source))
    codes |= set(re.findall(r"error_response\(\s*\d{3},\s*\"([a-z_]+)\"", source))
    assert {"bad_request", "unauthorized", "read_only", "capacity_full"} <= codes
    text = DOC.read_text(encoding="utf-8")
    missing = sorted(c for c in codes if f"| `{c}` |" not in text)
    assert missing == [], f"error codes missing from the errors table: {missing}"


def test_every_limit_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    names = [n for n in vars(limits) if n.isupper() and n != "API_PREFIX"]
    missing = [n for n in names if n not in text]
    assert missing == [], missing
