"""Canned-reply placeholders: filling, escapes, unknown and unfilled names with spans."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from console.core.placeholders import (
    KNOWN_PLACEHOLDERS,
    Problem,
    fill,
    find_placeholders,
    values_for,
)
from console.protocol import models as m

T0 = datetime(2026, 11, 26, tzinfo=UTC)
CONV = m.Conversation(
    id="c42",
    customer_id="cu7",
    customer_name="Kim Minji",
    customer_email="minji@example.com",
    department_id="d1",
    department_name="Billing",
    state="active",
    created_at=T0,
)
ME = m.Me(id="ag1", name="Tanaka Hanako", role="agent")


def test_fill_known_placeholders() -> None:
    values = values_for(CONV, ME)
    result = fill(
        "Hi {customer.first_name}, I'm {agent.first_name} from {department.name} ({conversation.id}).",
        values,
    )
    assert result.ok
    assert result.text == "Hi Kim, I'm Tanaka from Billing (c42)."


def test_cjk_names_are_used_whole() -> None:
    conv = m.Conversation(**{**m.to_builtins(CONV), "customer_name": "김민지", "created_at": T0})
    assert (
        fill("{customer.first_name}님 안녕하세요", values_for(conv)).text == "김민지님 안녕하세요"
    )


def test_unknown_placeholder_is_reported_with_its_span_and_kept() -> None:
    template = "Hi {custmer.name}!"
    result = fill(template, values_for(CONV, ME))
    assert not result.ok
    [problem] = result.problems
    assert problem.problem is Problem.UNKNOWN and problem.name == "custmer.name"
    assert template[problem.start : problem.end] == "{custmer.name}"
    assert result.text == template


def test_unfilled_values_are_reported() -> None:
    conv = m.Conversation(**{**m.to_builtins(CONV), "department_name": "", "created_at": T0})
    template = "{agent.name} / {department.name} / {customer.name}"
    result = fill(template, values_for(conv, None))
    assert [(p.name, p.problem) for p in result.problems] == [
        ("agent.name", Problem.UNFILLED),
        ("department.name", Problem.UNFILLED),
    ]
    assert result.text == "{agent.name} / {department.name} / Kim Minji"
    assert template[result.problems[1].start : result.problems[1].end] == "{department.name}"
    whitespace = fill("{agent.name}", {"agent.name": "   "})
    assert not whitespace.ok


def test_escaped_and_stray_braces_are_literal() -> None:
    values = values_for(CONV, ME)
    assert (
        fill("{{customer.name}} is {customer.name}", values).text == "{customer.name} is Kim Minji"
    )
    assert fill("set {{x}} and }} and {{", values).text == "set {x} and } and {"
    stray = fill('json { "a": 1 } smile :-} {', values)
    assert stray.ok and stray.text == 'json { "a": 1 } smile :-} {'
    assert fill("{ customer.name }", values).text == "{ customer.name }"


def test_values_are_not_rescanned() -> None:
    result = fill("{customer.name}", {"customer.name": "{agent.name}"})
    assert result.ok and result.text == "{agent.name}"


def test_find_placeholders_for_highlighting() -> None:
    found = find_placeholders("a {agent.name} {{no}} {nope} {customer.email}")
    assert [(p.name, p.known) for p in found] == [
        ("agent.name", True),
        ("nope", False),
        ("customer.email", True),
    ]


def test_customer_profile_overrides_conversation_copy() -> None:
    customer = m.Customer(id="cu7", name="Minji Kim", email="new@example.com", created_at=T0)
    values = values_for(CONV, ME, customer)
    assert values["customer.first_name"] == "Minji"
    assert values["customer.email"] == "new@example.com"
    assert set(values) == KNOWN_PLACEHOLDERS


@given(st.text(alphabet=st.sampled_from(list("ab {}.{}_x")), max_size=30))
def test_fill_without_placeholders_only_unescapes(template: str) -> None:
    result = fill(template, {})
    if not find_placeholders(template):
        assert result.ok
        assert "{{" not in template or len(result.text) < len(template)
    for problem in result.problems:
        assert template[problem.start] == "{" and template[problem.end - 1] == "}"


def test_problems_are_described_in_sentences() -> None:
    from console.core.placeholders import describe_problem

    [problem] = fill("Hi {custmer.name}", {}).problems
    text = describe_problem(problem)
    assert "{custmer.name}" in text and "spelling" in text
