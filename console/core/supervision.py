"""The supervisor screen's road to the backend: reads only, results sanitized.

The supervisor dashboard never holds a ``Backend``: it asks this gateway, as
the agent screen asks :class:`console.core.workspace.WorkspaceController`.
Every model it returns passes through ``sanitize_model`` here (whatever
wrapper the backend already has), so a name, title or body drawn on the
dashboard, in a table cell or in a watch pane is clean.  Stream events are
passed on as they come: the screen decodes them once with
``console.core.events.typed_event`` (typed and sanitized) and the Store
sanitizes on ingest as well.

There is no mutating method here on purpose: read-only is a promise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from console.backends.base import Backend, Capability, ConnectionState, ReadOnlyBackend
from console.core.reducers import sanitize_model
from console.protocol import models as m

__all__ = ["SupervisorGateway"]


class SupervisorGateway:
    """GET-only calls of the supervisor screen, each answer sanitized."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    @property
    def read_only(self) -> bool:
        """True when the backend refuses every mutating call locally."""
        return isinstance(self._backend, ReadOnlyBackend)

    @property
    def connection(self) -> ConnectionState:
        return self._backend.connection

    def on_connection_change(self, callback: Callable[[ConnectionState], None]) -> None:
        self._backend.on_connection_change(callback)

    def events(self) -> AsyncIterator[m.Event]:
        """The stream, for a screen running without the app's controller (tests, bench)."""
        return self._backend.events()

    async def list_departments(self) -> list[m.Department]:
        return [sanitize_model(d) for d in await self._backend.list_departments()]

    async def list_conversations(self, **query: Any) -> m.ConversationPage:
        return sanitize_model(await self._backend.list_conversations(**query))

    async def queues(self) -> m.QueuesView:
        return sanitize_model(await self._backend.queues())

    async def agents(self) -> m.AgentsView:
        return sanitize_model(await self._backend.agents())

    @property
    def has_history(self) -> bool:
        """The backend stores per-department/agent figures (``Capability.HISTORY``)."""
        return Capability.HISTORY in self._backend.capabilities

    async def history(self) -> m.HistoryView | None:
        """Today vs the last 7 days (``GET /history``); None when the backend has none."""
        if not self.has_history:
            return None
        view = await self._backend.history()
        return None if view is None else sanitize_model(view)

    async def get_conversation(self, conversation_id: str) -> m.Conversation:
        return sanitize_model(await self._backend.get_conversation(conversation_id))

    async def list_messages(self, conversation_id: str, **query: Any) -> m.MessagePage:
        return sanitize_model(await self._backend.list_messages(conversation_id, **query))

    async def get_customer(self, customer_id: str) -> m.Customer:
        return sanitize_model(await self._backend.get_customer(customer_id))
