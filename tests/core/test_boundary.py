"""The backend boundary: whatever a backend returns comes out typed and sanitized.

A fake inner backend answers every model-returning ``Backend`` method (and
the event stream) with hypothesis-generated models whose strings are drawn
from the hostile cases of DESIGN.md mixed with arbitrary text; everything
that comes out of :class:`SanitizingBackend` is walked string by string.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import msgspec
import msgspec.inspect as mi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.backends.base import (
    Backend,
    BackendError,
    ConnectionPhase,
    ConnectionState,
    ReadOnlyBackend,
)
from console.core.boundary import SanitizingBackend, ensure_sanitized, is_sanitized
from console.core.events import TypedEvent, typed_event
from console.core.store import Store
from console.protocol import models as m

from .safety import HOSTILE_CASES, assert_terminal_safe

hostile_text = st.one_of(
    st.sampled_from(list(HOSTILE_CASES.values())),
    st.lists(st.sampled_from(list(HOSTILE_CASES.values())), min_size=2, max_size=4).map("".join),
    st.text(max_size=30),
    st.builds(
        lambda a, b: a + b, st.text(max_size=10), st.sampled_from(list(HOSTILE_CASES.values()))
    ),
)
aware_datetimes = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


def strategy_for(t: mi.Type) -> st.SearchStrategy[Any]:
    """A hypothesis strategy for one msgspec type, every string hostile."""
    if isinstance(t, mi.StrType):
        return hostile_text
    if isinstance(t, mi.BoolType):
        return st.booleans()
    if isinstance(t, mi.IntType):
        return st.integers(min_value=0, max_value=10_000)
    if isinstance(t, mi.FloatType):
        return st.floats(min_value=0, max_value=1e6)
    if isinstance(t, mi.DateTimeType):
        return aware_datetimes
    if isinstance(t, mi.NoneType):
        return st.none()
    if isinstance(t, mi.LiteralType):
        return st.sampled_from(list(t.values))
    if isinstance(t, mi.UnionType):
        return st.one_of(*(strategy_for(u) for u in t.types))
    if isinstance(t, mi.ListType):
        return st.lists(strategy_for(t.item_type), max_size=3)
    if isinstance(t, mi.DictType):
        return st.dictionaries(strategy_for(t.key_type), strategy_for(t.value_type), max_size=3)
    if isinstance(t, mi.StructType):
        return struct_strategy(t.cls)
    if isinstance(t, mi.AnyType):
        return hostile_text
    raise NotImplementedError(t)


def struct_strategy(cls: type[msgspec.Struct]) -> st.SearchStrategy[Any]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    fields = {f.name: st.deferred(lambda f=f: strategy_for(f.type)) for f in info.fields}
    return st.fixed_dictionaries(fields).map(lambda kwargs: cls(**kwargs))


def walk_strings(value: Any) -> list[str]:
    """Every str inside a result: Struct fields, lists, tuples, dict keys and values."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, msgspec.Struct):
        return [s for name in value.__struct_fields__ for s in walk_strings(getattr(value, name))]
    if isinstance(value, list | tuple):
        return [s for v in value for s in walk_strings(v)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [*walk_strings(k), *walk_strings(v)]]
    return []


# Every Backend method that returns models, with arguments to call it with.
CALLS: dict[str, tuple[tuple[Any, ...], dict[str, Any]]] = {
    "connect": ((), {}),
    "me": ((), {}),
    "list_conversations": ((), {"state": "active"}),
    "get_conversation": (("c1",), {}),
    "list_messages": (("c1",), {"after": "x"}),
    "get_customer": (("u1",), {}),
    "list_customer_notes": (("u1",), {}),
    "list_customer_conversations": (("u1",), {}),
    "list_canned_replies": (("",), {}),
    "search": (("q",), {}),
    "queues": ((), {}),
    "agents": ((), {}),
    "list_departments": ((), {}),
    "set_status": ((m.StatusUpdate(status="online"),), {}),
    "send_message": (("c1", m.SendMessage(client_id="c-1", body="hi")), {}),
    "accept": (("c1",), {}),
    "transfer": (("c1", m.TransferRequest(department_id="d")), {}),
    "close": (("c1", m.CloseRequest()), {}),
    "upload_attachment": (("f.txt", b"x"), {}),
    "add_customer_note": (("u1", "note"), {}),
    "set_customer_tags": (("u1", ["vip"]), {}),
    "create_canned_reply": ((m.CannedReplyCreate(title="t", body="b"),), {}),
}


def return_type(name: str) -> Any:
    hints = inspect.get_annotations(getattr(Backend, name), eval_str=True)
    return hints["return"]


def model_returning_methods() -> list[str]:
    return sorted(
        name
        for name, _fn in inspect.getmembers(Backend, inspect.iscoroutinefunction)
        if return_type(name) not in (None, bytes, type(None))
    )


def arguments(name: str) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """CALLS, or placeholders for a method added later (the fake inner ignores arguments)."""
    if name in CALLS:
        return CALLS[name]
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in list(inspect.signature(getattr(Backend, name)).parameters.values())[1:]:
        if param.default is not inspect.Parameter.empty:
            continue
        if param.kind is inspect.Parameter.KEYWORD_ONLY:
            kwargs[param.name] = None
        else:
            args.append(None)
    return tuple(args), kwargs


def test_every_model_returning_method_is_covered() -> None:
    """A method added to Backend that returns models must be added to CALLS (and wrapped)."""
    returning = model_returning_methods()
    assert set(CALLS) <= set(returning)
    for name in returning:
        arguments(name)  # callable by the property test
        assert name in SanitizingBackend.__dict__, f"SanitizingBackend does not define {name}"


class FakeInner(Backend):
    """Answers each call with whatever the test put in ``answers``; raises hostile errors."""

    name = "fake"

    def __init__(self, answers: dict[str, Any], events: list[m.Event] | None = None) -> None:
        self.answers = answers
        self._events = events or []
        self.events_called = False
        self._callbacks: list[Callable[[ConnectionState], None]] = []

    def __getattribute__(self, name: str) -> Any:
        if name in object.__getattribute__(self, "answers"):
            answers = object.__getattribute__(self, "answers")

            async def answer(*_args: Any, **_kwargs: Any) -> Any:
                value = answers[name]
                if isinstance(value, BaseException):
                    raise value
                return value

            return answer
        return object.__getattribute__(self, name)

    async def aclose(self) -> None:
        return None

    def events(self) -> AsyncIterator[m.Event]:
        self.events_called = True

        async def stream() -> AsyncIterator[m.Event]:
            for event in self._events:
                yield event

        return stream()

    @property
    def connection(self) -> ConnectionState:
        return ConnectionState(ConnectionPhase.OFFLINE, detail="down \x1b]0;t\x07 \u202e")

    def on_connection_change(self, callback: Callable[[ConnectionState], None]) -> None:
        self._callbacks.append(callback)

    # Abstract methods; __getattribute__ answers them.
    async def connect(self) -> m.Me:
        raise AssertionError

    async def me(self) -> m.Me:
        raise AssertionError

    async def list_conversations(self, **_kwargs: Any) -> m.ConversationPage:  # type: ignore[override]
        raise AssertionError

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        raise AssertionError

    async def list_messages(self, conversation_id: str, **_kwargs: Any) -> m.MessagePage:  # type: ignore[override]
        raise AssertionError

    async def send_message(self, conversation_id: str, message: m.SendMessage) -> m.Message:
        raise AssertionError


def answers_strategy() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            name: st.deferred(lambda name=name: model_strategy(return_type(name)))
            for name in model_returning_methods()
        }
    )


def model_strategy(tp: Any) -> st.SearchStrategy[Any]:
    return strategy_for(mi.type_info(tp))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(answers=answers_strategy())
def test_every_backend_method_returns_only_clean_text(answers: dict[str, Any]) -> None:
    backend = SanitizingBackend(FakeInner(answers))

    async def call_all() -> dict[str, Any]:
        results = {}
        for name in model_returning_methods():
            args, kwargs = arguments(name)
            results[name] = await getattr(backend, name)(*args, **kwargs)
        return results

    results = asyncio.run(call_all())
    for name, result in results.items():
        assert type(result) is type(answers[name]) or isinstance(result, list)
        for text in walk_strings(result):
            assert_terminal_safe(text)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payloads=st.lists(
        st.sampled_from(sorted(m.EVENT_DATA_TYPES)).flatmap(
            lambda kind: struct_strategy(m.EVENT_DATA_TYPES[kind]).map(lambda d: (kind, d))
        ),
        min_size=1,
        max_size=5,
    ),
    extra=hostile_text,
)
def test_events_come_out_typed_and_clean(payloads: list[tuple[str, Any]], extra: str) -> None:
    """Each event is decoded once into its model; model, data and type hold only clean text."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    raw = [
        m.Event(seq=i + 1, type=kind, at=at, data={**m.to_builtins(data), "x_extra": extra})
        for i, (kind, data) in enumerate(payloads)
    ]
    raw.append(m.Event(seq=99, type="future.kind" + extra, at=at, data={"name": extra}))
    inner = FakeInner({}, raw)
    backend = SanitizingBackend(inner)
    events = backend.events()
    assert inner.events_called  # subscribes when called, not on first iteration

    async def collect() -> list[m.Event]:
        return [event async for event in events]

    out = asyncio.run(collect())
    assert len(out) == len(raw)
    for event, (kind, data) in zip(out, payloads, strict=False):
        assert isinstance(event, TypedEvent)
        assert isinstance(event.model, m.EVENT_DATA_TYPES[kind])
        assert type(event.model) is type(data)
        assert typed_event(event) is event  # never decoded twice
        for text in [*walk_strings(event.model), *walk_strings(event.data), event.type]:
            assert_terminal_safe(text)
    unknown = out[-1]
    assert isinstance(unknown, TypedEvent) and unknown.model is None
    for text in [*walk_strings(unknown.data), unknown.type]:
        assert_terminal_safe(text)


def test_store_takes_typed_events_without_a_second_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """A TypedEvent is neither decoded nor sanitized again by the Store."""
    at = datetime(2026, 1, 1, tzinfo=UTC)
    message = m.Message(
        id="m1",
        conversation_id="c1",
        author_kind="customer",
        body="hi \x1b]52;c;x\x07",
        created_at=at,
    )
    event = typed_event(m.Event(seq=1, type="message.created", at=at, data=m.to_builtins(message)))
    calls: list[str] = []
    import console.core.store as store_module

    original = store_module.sanitize_model
    monkeypatch.setattr(
        store_module, "sanitize_model", lambda obj: calls.append("s") or original(obj)
    )
    monkeypatch.setattr(m, "decode_event_data", lambda _e: calls.append("d"))
    store = Store()
    store.apply(event, at)
    assert calls == []
    assert store.transcript("c1")[0].body == "hi ⟨ESC⟩"
    # A raw event (a test constructing the Store directly) is still decoded and sanitized.
    monkeypatch.undo()
    store.apply(
        m.Event(seq=2, type="message.created", at=at, data={**m.to_builtins(message), "id": "m2"}),
        at,
    )
    assert store.transcript("c1")[1].body == "hi ⟨ESC⟩"


def test_errors_and_connection_details_are_clean() -> None:
    hostile = "no \x1b]52;c;ZXZpbA==\x07 \u202eway"
    backend = SanitizingBackend(FakeInner({"accept": BackendError(hostile, code="x", status=409)}))
    with pytest.raises(BackendError) as caught:
        asyncio.run(backend.accept("c1"))
    assert_terminal_safe(str(caught.value))
    assert caught.value.code == "x" and caught.value.status == 409
    assert_terminal_safe(backend.connection.detail)
    seen: list[ConnectionState] = []
    inner = backend.inner
    assert isinstance(inner, FakeInner)
    backend.on_connection_change(seen.append)
    inner._callbacks[0](ConnectionState(ConnectionPhase.RECONNECTING, detail=hostile))
    assert_terminal_safe(seen[0].detail)


def test_ensure_sanitized_is_idempotent_and_keeps_read_only_outermost() -> None:
    inner = FakeInner({})
    wrapped = ensure_sanitized(inner)
    assert isinstance(wrapped, SanitizingBackend) and ensure_sanitized(wrapped) is wrapped
    read_only = ensure_sanitized(ReadOnlyBackend(inner))
    assert isinstance(read_only, ReadOnlyBackend) and is_sanitized(read_only)
    assert ensure_sanitized(read_only) is read_only
    assert not is_sanitized(inner)
