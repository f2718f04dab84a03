"""Placeholders in canned replies: ``Hi {customer.first_name}, this is {agent.name}.``

Syntax: ``{name}`` or ``{name.part}`` (ASCII letters, digits, ``_``; dotted).
``{{`` and ``}}`` are literal braces.  Any other brace is just text, so
``{ "json": 1 }`` or ``:-}`` need no escaping.  Values are inserted once and
never re-scanned, so a customer called ``{agent.name}`` stays literally that.

A reply must not go out with a hole in it.  :func:`fill` reports every
problem with its span *in the template*, so the composer can highlight it and
refuse to send until it is fixed:

* ``unknown``  - a name not in :data:`KNOWN_PLACEHOLDERS` (typo: ``{custmer.name}``);
* ``unfilled`` - a known name without a value here (no department loaded, empty email).

API::

    find_placeholders(template) -> list[Placeholder]        # for highlighting while typing
    describe_problem(problem) -> str                         # "Unknown placeholder {x}: ..." (i18n)
    fill(template, values) -> FillResult                     # .text, .problems, .ok
    values_for(conversation=None, me=None, customer=None)    # dict from protocol models
    KNOWN_PLACEHOLDERS
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from console.core.i18n import t
from console.protocol import models as m

__all__ = [
    "KNOWN_PLACEHOLDERS",
    "FillResult",
    "Placeholder",
    "PlaceholderProblem",
    "Problem",
    "describe_problem",
    "fill",
    "find_placeholders",
    "values_for",
]

KNOWN_PLACEHOLDERS: Final = frozenset(
    {
        "customer.name",
        "customer.first_name",
        "customer.email",
        "customer.id",
        "agent.name",
        "agent.first_name",
        "conversation.id",
        "department.name",
    }
)

_TOKEN = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}")


class Problem(enum.StrEnum):
    UNKNOWN = "unknown"
    UNFILLED = "unfilled"


@dataclass(frozen=True, slots=True)
class Placeholder:
    """One ``{name}`` in a template: ``start``/``end`` include the braces."""

    start: int
    end: int
    name: str
    known: bool


@dataclass(frozen=True, slots=True)
class PlaceholderProblem:
    start: int
    end: int
    name: str
    problem: Problem


@dataclass(frozen=True, slots=True)
class FillResult:
    text: str  # the reply with every fillable placeholder replaced
    problems: tuple[PlaceholderProblem, ...]  # spans index into the template

    @property
    def ok(self) -> bool:
        """True when the reply may be sent as it is."""
        return not self.problems


def describe_problem(problem: PlaceholderProblem) -> str:
    """A sentence for the composer saying what to fix (in the active UI language)."""
    return t(f"core.placeholder.{problem.problem.value}", placeholder="{" + problem.name + "}")


def find_placeholders(template: str) -> list[Placeholder]:
    """Every ``{name}`` in ``template`` (escaped ``{{``/``}}`` skipped)."""
    return [
        Placeholder(match.start(), match.end(), name, name in KNOWN_PLACEHOLDERS)
        for match in _TOKEN.finditer(template)
        if (name := match.group(1)) is not None
    ]


def fill(template: str, values: Mapping[str, str | None]) -> FillResult:
    """Replace placeholders with ``values``; report unknown and unfilled ones.

    Unfilled and unknown placeholders are left in ``text`` as written, so the
    agent sees exactly what is missing.
    """
    out: list[str] = []
    problems: list[PlaceholderProblem] = []
    last = 0
    for match in _TOKEN.finditer(template):
        out.append(template[last : match.start()])
        last = match.end()
        token = match.group(0)
        name = match.group(1)
        if name is None:
            out.append(token[0])  # {{ → {, }} → }
            continue
        if name not in KNOWN_PLACEHOLDERS:
            problems.append(PlaceholderProblem(match.start(), match.end(), name, Problem.UNKNOWN))
            out.append(token)
            continue
        value = values.get(name)
        if value is None or not value.strip():
            problems.append(PlaceholderProblem(match.start(), match.end(), name, Problem.UNFILLED))
            out.append(token)
            continue
        out.append(value)
    out.append(template[last:])
    return FillResult("".join(out), tuple(problems))


def _first_name(name: str) -> str:
    """First word of a Western name; CJK names (no spaces) are used whole."""
    parts = name.split()
    return parts[0] if parts else ""


def values_for(
    conversation: m.Conversation | None = None,
    me: m.Me | None = None,
    customer: m.Customer | None = None,
) -> dict[str, str | None]:
    """Placeholder values from (sanitized) store models; absent ones are ``None``."""
    values: dict[str, str | None] = dict.fromkeys(KNOWN_PLACEHOLDERS)
    if conversation is not None:
        values["customer.name"] = conversation.customer_name or None
        values["customer.first_name"] = _first_name(conversation.customer_name) or None
        values["customer.email"] = conversation.customer_email or None
        values["customer.id"] = conversation.customer_id or None
        values["conversation.id"] = conversation.id or None
        values["department.name"] = conversation.department_name or None
    if customer is not None:
        values["customer.name"] = customer.name or values["customer.name"]
        values["customer.first_name"] = _first_name(customer.name) or values["customer.first_name"]
        values["customer.email"] = customer.email or values["customer.email"]
        values["customer.id"] = customer.id or values["customer.id"]
    if me is not None:
        values["agent.name"] = me.name or None
        values["agent.first_name"] = _first_name(me.name) or None
    return values
