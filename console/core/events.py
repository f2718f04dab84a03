"""Stream events decoded once, into typed and sanitized models.

A backend yields :class:`console.protocol.models.Event` with a raw ``data``
dict.  At the backend boundary (:class:`console.core.boundary.SanitizingBackend`,
or the workspace controller for a backend used without it) each event becomes
a :class:`TypedEvent`: the payload decoded once into its model
(``m.Message``, ``m.Conversation``, ...), every string sanitized, and ``data``
replaced by the sanitized builtins whenever something changed.  The Store,
the controller's listeners, the app and the supervisor dashboard read
``event.model`` and never decode again.

``TypedEvent`` is a client-side type; servers never send it.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from console.core.reducers import MULTILINE_FIELDS, sanitize_model
from console.core.sanitize import sanitize_inbound_text, sanitize_single_line
from console.protocol import models as m

__all__ = ["TypedEvent", "event_model", "sanitize_data", "typed_event"]

log = logging.getLogger(__name__)


class TypedEvent(m.Event, kw_only=True):
    """An event whose payload was decoded and sanitized once, at the boundary.

    ``model``: the typed payload, or ``None`` for an unknown event type (and
    for a malformed payload, then ``malformed`` is true).  Build it only with
    :func:`typed_event`, which is what guarantees the text is clean.
    """

    model: Any = None
    malformed: bool = False


def sanitize_data(value: Any, key: str = "") -> Any:
    """Every string of a JSON-like value sanitized (fields in MULTILINE_FIELDS keep newlines)."""
    if isinstance(value, str):
        return (
            sanitize_inbound_text(value) if key in MULTILINE_FIELDS else sanitize_single_line(value)
        )
    if isinstance(value, dict):
        return {
            (sanitize_single_line(k) if isinstance(k, str) else k): sanitize_data(
                v, k if isinstance(k, str) else key
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [sanitize_data(v, key) for v in value]
    return value


def typed_event(event: m.Event) -> TypedEvent:
    """Decode and sanitize ``event`` once; an already typed event is returned as it is."""
    if isinstance(event, TypedEvent):
        return event
    kind = sanitize_single_line(event.type)
    try:
        raw = m.decode_event_data(event)
    except (msgspec.ValidationError, TypeError, ValueError) as exc:
        log.warning(
            "malformed %s event seq=%s: %s", kind, event.seq, sanitize_single_line(str(exc))
        )
        return TypedEvent(
            seq=event.seq, type=kind, at=event.at, data=sanitize_data(event.data), malformed=True
        )
    if raw is None:
        return TypedEvent(seq=event.seq, type=kind, at=event.at, data=sanitize_data(event.data))
    model = sanitize_model(raw)
    data = event.data
    if model is not raw or not data.keys() <= set(type(raw).__struct_fields__):
        # Something was cleaned (or the payload has fields the model does not know):
        # the dict listeners may still read is rebuilt from the clean model.
        data = m.to_builtins(model)
    return TypedEvent(seq=event.seq, type=kind, at=event.at, data=data, model=model)


def event_model(event: m.Event) -> Any:
    """The typed, sanitized payload of any event (decoded now only if it was not yet)."""
    return typed_event(event).model
