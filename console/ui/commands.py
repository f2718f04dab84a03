"""The one command-palette provider for actions: every binding of the current screen.

The list comes from the binding registry (:mod:`console.ui.bindings`): the app's
own actions plus those of the scope the current screen declares in
``BINDING_SCOPE`` (``"screen"`` for the agent workspace, ``"supervisor"`` for
the dashboard).  Read-only screens (supervisor, or any screen without a scope)
offer nothing that could change a conversation or the agent's status.  Canned
replies stay a separate data source (:mod:`console.ui.widgets.canned`).
"""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content
from textual.markup import escape

from console.ui.bindings import SPEC_BY_ID, SPECS, BindingSpec, effective_keys, help_for, label_for

READ_ONLY_COMMANDS = frozenset({"quit"})
"""App actions that change nothing, offered on read-only screens too."""

READ_ONLY_SCOPES = frozenset({"supervisor"})
"""Screen scopes whose every action is read-only."""

_NOT_LISTED = frozenset({"command-palette"})


class ActionCommands(Provider):
    """Every action the current screen can run, by name, with its current keys."""

    def _specs(self) -> list[BindingSpec]:
        scope = getattr(self.screen, "BINDING_SCOPE", None)
        read_only = bool(getattr(self.app, "readonly", False)) or scope in READ_ONLY_SCOPES
        if scope is None:
            read_only = True
        screen_specs = [
            spec
            for spec in SPECS
            if scope is not None
            and spec.scope == scope
            # A screen hides what its backend cannot do (e.g. follow-ups without the capability).
            and self.screen.check_action(spec.action, ()) is not False
        ]
        shadowed = {spec.shadows for spec in screen_specs}
        app_specs = [
            spec
            for spec in SPECS
            if spec.scope == "app"
            and spec.id not in _NOT_LISTED
            and spec.id not in shadowed
            and (not read_only or spec.id in READ_ONLY_COMMANDS)
        ]
        if read_only and scope not in READ_ONLY_SCOPES:
            screen_specs = []
        return [*app_specs, *screen_specs]

    def _commands(self) -> list[tuple[str, str, str]]:
        """(binding id, title, keys · what it does) for every action the screen can run.

        The third item is escaped: the palette parses ``help`` as markup.
        """
        app = self.app
        keys_by_id = effective_keys(getattr(app, "keymap", {}))
        rows: list[tuple[str, str, str]] = []
        for spec in self._specs():
            keys = ", ".join(
                app.get_key_display(Binding(k, spec.action)) for k in keys_by_id[spec.id]
            )
            rows.append(
                (spec.id, f"{label_for(spec)} ({spec.id})", escape(f"{keys} · {help_for(spec)}"))
            )
        return rows

    def _run(self, binding_id: str) -> None:
        spec = SPEC_BY_ID[binding_id]
        screen = self.screen
        if spec.scope == "app":
            self.app.call_later(self.app.run_action, spec.action)
            return
        prepare = getattr(screen, "prepare_action", None)
        if prepare is not None:
            prepare(spec.action)
        self.app.call_later(screen.run_action, spec.action)

    async def discover(self) -> Hits:
        for binding_id, title, help_text in self._commands():
            yield DiscoveryHit(Content(title), partial(self._run, binding_id), help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for binding_id, title, help_text in self._commands():
            # The sentence counts too: "sort by severity" finds "Sort: severity".
            score = max(matcher.match(title), matcher.match(help_text) * 0.8)
            if score > 0:
                yield Hit(score, Content(title), partial(self._run, binding_id), help=help_text)
