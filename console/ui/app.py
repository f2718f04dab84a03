"""``AgentConsoleApp``: the Textual app for agents (and, read-only, supervisors).

Startup order (paint first, then connect): the agent screen is pushed at once
with a "connecting" indicator; a worker connects, loads my chats and the
queue, then consumes the event stream for the life of the app.  A supervisor
token or ``readonly=True`` wraps the backend in ``ReadOnlyBackend`` and shows
the supervisor screen instead (lazy import: another module owns it).

The clock is ``self.clock`` (a callable returning an aware ``datetime``) so
tests can move time; every timer in the workspace reads it.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.actions import ActionParseResult
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import WorkerFailed

from console.backends.base import (
    AuthError,
    Backend,
    BackendError,
    ConnectionPhase,
    ConnectionState,
    ReadOnlyBackend,
)
from console.core.backoff import Backoff
from console.core.boundary import ensure_sanitized
from console.core.changes import WorkspaceChanges
from console.core.triggers import category_label
from console.core.workspace import Clock, WorkspaceController, set_language, system_clock, tr
from console.protocol import models as m
from console.ui.bindings import (
    bindings_for,
    find_collisions,
    human_key,
    install_alt_digit_keys,
    translate_bindings,
    unknown_ids,
)
from console.ui.commands import ActionCommands
from console.ui.screens.loading import LoadingScreen
from console.ui.wide_glyphs import install as install_wide_glyph_chops

if TYPE_CHECKING:
    # Imported when the agent screen is built, after the first frame (~25 ms of imports).
    from console.ui.screens.agent import AgentScreen, WorkspaceSettings

log = logging.getLogger(__name__)

ATTENTION_GAP = 2.0
"""Seconds between two new-chat/new-message toasts (and bells)."""


GC_THRESHOLDS = (20_000, 50, 100)
"""Collection thresholds once the workspace is up (CPython's default: 700, 10, 10)."""


def settle_heap() -> None:
    """Once, after the first role screen is painted: collect, freeze, raise thresholds.

    The startup heap (modules, Textual's DOM, CSS, the first state) lives as long
    as the app; frozen, no later collection walks it, so a full collection no
    longer costs ~100 ms every second or so under load (issue 16;
    ``bench/gc_pauses.py``).  Higher thresholds collect less often; most of the
    console's per-message garbage is freed by reference counting anyway.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class AgentConsoleApp(App[None]):
    """The agent console."""

    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "agent-console"
    BINDINGS = bindings_for("app")
    COMMANDS = App.COMMANDS | {ActionCommands}
    ENABLE_COMMAND_PALETTE = True

    survived_errors: ClassVar[list[BaseException]] = []
    """Every error any instance survived (see ``_handle_exception``); tests check it."""

    def __init__(
        self,
        backend: Backend,
        *,
        config: Any = None,
        readonly: bool = False,
        theme: str | None = None,
        lang: str | None = None,
        clock: Clock | None = None,
        gc_tuning: bool = False,
    ) -> None:
        super().__init__()
        install_alt_digit_keys()  # alt+1…6 arrive as alt+N, not as ¡™£ typed into the reply
        install_wide_glyph_chops()  # toasts over pane borders keep their CJK glyphs
        self.config = config
        # Everything the backend returns is typed and sanitized at this boundary
        # (a no-op if cli/demo already wrapped it).
        backend = ensure_sanitized(backend)
        self.readonly = readonly or isinstance(backend, ReadOnlyBackend)
        if readonly and not isinstance(backend, ReadOnlyBackend):
            backend = ReadOnlyBackend(backend)
        self.lang = set_language(lang or getattr(config, "language", None))
        translate_bindings(self)
        self.clock: Clock = clock or system_clock
        self._settings: WorkspaceSettings | None = None
        self.keymap: dict[str, str] = dict(getattr(config, "keymap", None) or {})
        self._wanted_theme = theme or getattr(config, "theme", None)
        self.controller = WorkspaceController(
            backend,
            clock=lambda: self.clock(),
            on_changed=self._controller_changed,
            on_connection=self._connection_changed,
            on_event=self._event_applied,
        )
        self.agent_screen: AgentScreen | None = None
        self.loading_screen: LoadingScreen | None = None
        self._connect_backoff = Backoff(base=2.0, cap=30.0)
        self._retry_timer: Timer | None = None
        self.errors: list[BaseException] = []
        self.binding_problems: list[str] = []
        self._last_attention = -1e9
        self.gc_tuning = gc_tuning
        self.attention_gap = ATTENTION_GAP
        self._suppressed = 0

    def get_key_display(self, binding: Binding) -> str:
        """Textual's display, with Unicode key names shown as the character (``™``)."""
        return human_key(super().get_key_display(binding))

    # ------------------------------------------------------------------ startup
    @property
    def settings(self) -> WorkspaceSettings:
        """The workspace settings from the config (built on first use: the agent screen's
        module, which defines them, is imported after the first frame)."""
        if self._settings is None:
            from console.ui.screens.agent import WorkspaceSettings

            self._settings = WorkspaceSettings.from_config(self.config)
        return self._settings

    @settings.setter
    def settings(self, value: WorkspaceSettings) -> None:
        self._settings = value

    @property
    def workspace_ready(self) -> bool:
        """The agent workspace is up and has drawn its first state."""
        return self.agent_screen is not None and self.agent_screen.ready

    def on_mount(self) -> None:
        self._register_themes()
        if self.keymap:
            self.set_keymap(self.keymap)
        self.binding_problems = [c.sentence() for c in find_collisions(self.keymap)]
        self.binding_problems += [
            tr("keymap_unknown_id", id=binding_id) for binding_id in unknown_ids(self.keymap)
        ]
        for problem in self.binding_problems:
            self.notify(
                problem, title=tr("keymap_problem"), severity="warning", markup=False, timeout=15
            )
        # Neutral until the server says which role the token has: no role-dependent
        # screen exists that could receive updates and then be replaced.
        self.loading_screen = LoadingScreen()
        self.push_screen(self.loading_screen)
        # Paint first, then connect: the network stack (httpx, websockets, the TLS
        # context) loads in the worker, after the first frame is on the terminal.
        self.call_after_refresh(self.start_workspace)

    def _register_themes(self) -> None:
        from console.ui.themes import register_themes  # deferred: reads theme files

        for problem in register_themes(self, self._wanted_theme):
            self.notify(problem, severity="warning", markup=False)

    @work(group="stream", exclusive=True)
    async def start_workspace(self) -> None:
        """Connect, learn the role, show the matching screen, then consume the stream."""
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None
        controller = self.controller
        try:
            me = await controller.start()
        except AuthError as error:
            self._connection_changed(
                ConnectionState(ConnectionPhase.AUTH_FAILED, detail=str(error))
            )
            self._first_connect_failed(tr("auth_failed", reason=str(error)), retry=False)
            return
        except BackendError as error:
            self._connection_changed(ConnectionState(ConnectionPhase.OFFLINE, detail=str(error)))
            self._first_connect_failed(tr("connect_failed", reason=str(error)), retry=True)
            return
        self._connect_backoff.reset()
        if me.role == "supervisor" or self.readonly:
            controller.make_read_only()
            self.readonly = True
            await self._show_supervisor()
        else:
            from console.ui.screens.agent import AgentScreen

            self.agent_screen = AgentScreen(self.controller, self.settings)
            await self.switch_screen(self.agent_screen)
            self._status_hint(me)
        self.loading_screen = None
        if self.gc_tuning:
            self.call_after_refresh(settle_heap)
        await controller.run_events()

    def _first_connect_failed(self, sentence: str, *, retry: bool) -> None:
        """Say why on the first screen (and in a toast); try again later unless it is fatal."""
        self.notify(sentence, severity="error", markup=False, timeout=30)
        screen = self.loading_screen
        if screen is not None and screen.is_attached:
            screen.show_problem(sentence)
        if retry and self.loading_screen is not None:
            self._retry_timer = self.set_timer(
                self._connect_backoff.next_delay(), self.start_workspace
            )

    async def _show_supervisor(self) -> None:
        from console.ui.screens.supervisor import SupervisorScreen  # deferred: heavy, role-only

        store = getattr(self.controller, "store", None)
        screen: Screen[Any] = SupervisorScreen(self.controller.supervision(), store)
        await self.switch_screen(screen)

    # ------------------------------------------------------------------ controller callbacks
    def _live_agent_screen(self) -> AgentScreen | None:
        """The agent screen if it is on the stack and mounted; callbacks go nowhere else."""
        screen = self.agent_screen
        if screen is None or not screen.is_attached or screen not in self.screen_stack:
            return None
        return screen

    def _controller_changed(self, changes: WorkspaceChanges) -> None:
        screen = self._live_agent_screen()
        if screen is not None and screen.ready:
            self.call_later(screen.apply_changes, changes)

    def _connection_changed(self, state: ConnectionState) -> None:
        def update() -> None:
            try:
                show()
            except Exception as error:
                self.report_error(error)

        def show() -> None:
            screen = self._live_agent_screen()
            if screen is not None and screen.is_mounted:
                screen.show_connection(state)
            loading = self.loading_screen
            if loading is not None and loading.is_attached:
                loading.show_connection(state)
            if state.phase is ConnectionPhase.AUTH_FAILED and self.loading_screen is None:
                self.notify(tr("auth_failed", reason=state.detail), severity="error", markup=False)

        try:
            self.call_later(update)
        except RuntimeError:  # called from another thread
            self.call_from_thread(update)

    # ------------------------------------------------------------------ errors
    def report_error(self, error: BaseException) -> None:
        """Log ``error`` with its traceback, keep it in ``errors`` and show an error toast.

        Textual ends the app on an unhandled exception; an agent would lose every
        open chat to one bad update.  Our entry points (``console.ui.errors.guarded``,
        :meth:`run_action`, workers) report here instead.  The test suite fails any
        test that leaves an error behind (``survived_errors``).
        """
        if not self._running:  # shutting down: widgets are being removed under their workers
            log.info("error while closing (ignored): %r", error)
            return
        log.error("unhandled error in the console", exc_info=error)
        self.errors.append(error)
        AgentConsoleApp.survived_errors.append(error)
        try:
            self.notify(
                tr("internal_error", what=type(error).__name__),
                severity="error",
                markup=False,
                timeout=15,
            )
        except Exception:
            log.exception("could not show the error toast")

    def _handle_exception(self, error: Exception) -> None:
        # A worker's failure does not stop any message loop, so the app can go on.
        if isinstance(error, WorkerFailed) and self.screen_stack:
            cause = error.error
            self.report_error(cause if isinstance(cause, Exception) else error)
            return
        super()._handle_exception(error)

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key binding and palette command: a failing action is reported, not fatal."""
        try:
            return await super().run_action(action, default_namespace, namespaces)
        except Exception as error:
            self.report_error(error)
            return True

    def _event_applied(self, event: m.Event, data: Any) -> None:
        """Toasts, bell and trigger badges for things that need the agent's attention.

        A read-only console (supervisor token or ``--readonly``) gets none of them:
        supervisors watch every queue, and a toast and bell per new chat is noise meant
        for the agent who takes it (the supervisor screen has its own alerts).
        """
        if self.readonly:
            return
        controller = self.controller
        if isinstance(data, m.Conversation):
            if event.type == "conversation.created" and data.state == "queued":
                entry = controller.entry(data.id)  # the sanitized copy, as it is now
                if (
                    entry is not None
                    and entry.conversation is not None
                    and entry.conversation.state == "queued"
                ):
                    conversation = entry.conversation
                    self._attention(
                        tr(
                            "new_chat",
                            name=conversation.customer_name,
                            department=conversation.department_name,
                        )
                    )
            return
        if not isinstance(data, m.Message) or data.author_kind != "customer":
            return
        cid = data.conversation_id
        if cid not in controller.pane_order:
            return
        stored = controller.stored_message(cid, data.id)
        current = controller.conversation(cid)
        name = current.customer_name if current else ""
        if stored is not None and stored.triggers:
            categories: list[str] = []
            for span in stored.triggers.spans:
                label = category_label(span.category)
                if label not in categories:
                    categories.append(label)
            self.notify(
                tr("trigger_notice", name=name, what=", ".join(categories)),
                severity="warning",
                markup=False,
                timeout=10,
            )
            if self.settings.bell:
                self.bell()
            return
        screen = self.agent_screen
        active = screen.grid.active_id if screen is not None and screen.is_mounted else None
        if cid != active:
            self._attention(tr("new_message", name=name))

    def _attention(self, text: str) -> None:
        """Toast + bell, at most one per ``ATTENTION_GAP`` seconds (a burst of 40 new
        chats is one toast and one bell, not 40)."""
        now = time.monotonic()
        if now - self._last_attention < self.attention_gap:
            self._suppressed += 1
            return
        if self._suppressed:
            text = f"{text} (+{self._suppressed})"
        self._suppressed = 0
        self._last_attention = now
        if self.settings.toasts:
            self.notify(text, markup=False)
        if self.settings.bell or self.settings.sound:
            self.bell()
        if self.settings.sound:  # "sound": a short burst the agent notices from afar
            self.set_timer(0.15, self.bell)
            self.set_timer(0.30, self.bell)

    # ------------------------------------------------------------------ app actions
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Textual's system commands without its "Quit": ``ActionCommands`` lists our
        ``quit`` binding (translated, with its keys), so the palette showed Quit twice."""
        for command in super().get_system_commands(screen):
            if command.callback != self.action_quit:
                yield command

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """The palette's "Screenshot": an SVG in the pictures (else state) folder, and a
        toast that says where (Textual's default wrote into the current directory)."""
        from console.core import paths

        folder = Path(path) if path else paths.screenshots_dir()
        stamp = self.clock().strftime("%Y-%m-%dT%H_%M_%S_%f")
        target = folder / (filename or f"agent-console_{stamp}.svg")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            target.write_text(self.export_screenshot(), encoding="utf-8")
        except OSError as error:
            self.notify(
                tr("screenshot_failed", path=str(target), reason=str(error)),
                severity="error",
                markup=False,
            )
            return
        self.notify(tr("screenshot_saved", path=str(target)), markup=False, timeout=10)

    def action_show_help(self) -> None:
        from console.ui.screens.help import HelpScreen, active_binding_rows  # on first F1

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(active_binding_rows(self, self.keymap)))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("toggle_away", "toggle_accepting") and self.readonly:
            return False
        return True

    def _status_hint(self, me: m.Me) -> None:
        """Starting away/offline or not accepting: say so, and which key changes it."""
        screen = self.agent_screen
        if screen is None:
            return
        if me.status != "online":
            status = tr(f"status_{me.status}")
            keys = screen._keys_for("toggle-away")
            self.notify(tr("start_away_hint", status=status, keys=keys), markup=False, timeout=15)
        elif not me.accepting:
            keys = screen._keys_for("toggle-accepting")
            self.notify(tr("start_not_accepting_hint", keys=keys), markup=False, timeout=15)

    async def action_quit(self) -> None:
        """Quit safely: with open chats ask first; then set me away and not accepting on
        the server (so routing stops) and save the composer drafts, then exit."""
        from console.ui.screens.quit import QuitScreen  # only when quitting

        screen = self._live_agent_screen()
        if screen is None or self.readonly:
            self.exit()
            return
        open_chats = len(self.controller.pane_order)
        if open_chats and not isinstance(self.screen, QuitScreen):

            def answered(leave: bool | None) -> None:
                if leave:
                    self._sign_off_and_exit()

            self.push_screen(QuitScreen(open_chats), answered)
            return
        if isinstance(self.screen, QuitScreen):
            self.screen.dismiss(False)  # the quit key again: quit without asking twice
        self._sign_off_and_exit()

    @work(group="quit", exclusive=True)
    async def _sign_off_and_exit(self) -> None:
        await self.controller.sign_off()
        self.exit()

    def action_toggle_away(self) -> None:
        me = self.controller.me
        if me is None:
            return
        self._set_status(m.StatusUpdate(status="away" if me.status == "online" else "online"))

    def action_toggle_accepting(self) -> None:
        me = self.controller.me
        if me is None:
            return
        self._set_status(m.StatusUpdate(accepting=not me.accepting))

    @work(group="status", exclusive=True)
    async def _set_status(self, update: m.StatusUpdate) -> None:
        try:
            me = await self.controller.set_status(update)
        except BackendError as error:
            self.notify(tr("status_failed", reason=str(error)), severity="error", markup=False)
            return
        if update.accepting is not None:
            self.notify(
                tr("accepting_on_notice") if me.accepting else tr("accepting_off_notice"),
                markup=False,
            )

    @property
    def backend(self) -> Backend:
        """The controller's backend (boundary-wrapped; read-only for supervisors). Widgets
        never call it: every call goes through ``self.controller``."""
        return self.controller.backend

    async def on_unmount(self) -> None:
        await self.controller.aclose()
