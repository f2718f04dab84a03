"""``agent-console demo``: a whole support desk on one machine.

:class:`DemoStack` starts, in this process:

1. the reference server (``console.server.app.create_app`` with demo data) on
   a loopback socket, served by uvicorn in a background thread, with its
   database, attachments and the console's outbox in ``workdir``: the state
   directory for ``agent-console demo`` (:func:`console.core.paths.demo_dir`,
   so a restart resumes where it was; ``--fresh`` starts over), a temporary
   folder removed on exit when none is given (tests);
2. a token for the person at the keyboard (the first demo agent, or a demo
   supervisor) via ``console.server.admin.create_token``;
3. the customer simulator (``console.sim.run_simulator``) in a second thread
   with its own event loop, so simulated customers never steal time from the UI.

:func:`run_demo` then opens the console (``console.ui.app.AgentConsoleApp``)
with that token and tears everything down when it exits.

Nothing here prints while the TUI runs: uvicorn gets ``log_config=None`` so
its records go to the log file (:mod:`console.core.logging_setup`).
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from console.core import paths
from console.core.config import Config, load_config
from console.core.i18n import pick_language, set_language
from console.core.logging_setup import quiet_terminal_handlers, register_secret, setup_logging

if TYPE_CHECKING:
    from textual.app import App

DemoRole = Literal["agent", "supervisor"]
SUPERVISOR_NAME = "Demo Supervisor"
START_TIMEOUT = 20.0

log = logging.getLogger(__name__)


def demo_agent_name() -> str:
    """The first seeded demo agent: the person at the console in ``demo --as agent``."""
    from console.server.seed_data import DEMO_AGENTS

    return str(DEMO_AGENTS[0]["name"])


class DemoError(Exception):
    """The demo could not start; the message says why and what to try."""


class DemoStack:
    """Reference server + token + simulator, started and stopped together.

    Use as a context manager.  ``url`` and ``token`` are set once it started.
    A given ``workdir`` is kept (and reused: the server's demo seed is
    idempotent); without one a temporary folder is made and removed on stop.
    """

    def __init__(
        self,
        role: DemoRole = "agent",
        *,
        seed: int = 0,
        port: int = 0,
        simulate: bool = True,
        speed: float = 1.0,
        rate: float = 3.0,
        workdir: Path | None = None,
    ) -> None:
        self.role = role
        self.seed = seed
        self.port = port
        self.simulate = simulate
        self.speed = speed
        self.rate = rate
        self.url: str | None = None
        self.token: str | None = None
        self.sim_error: BaseException | None = None
        self.identity_secret: str | None = None
        self._own_workdir = workdir is None
        self.workdir = (
            paths.ensure_dir(workdir, private=True)
            if workdir is not None
            else Path(tempfile.mkdtemp(prefix="agent-console-demo-"))
        )
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self._sim_thread: threading.Thread | None = None
        self._sim_loop: asyncio.AbstractEventLoop | None = None
        self._sim_stop: asyncio.Event | None = None

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> DemoStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._start_server()
        if self.simulate:
            self._start_simulator()

    def _start_server(self) -> None:
        import uvicorn  # deferred: only the demo and `serve` need it

        from console.server.admin import create_token, identity_secret
        from console.server.app import create_app
        from console.server.settings import ServerSettings

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", self.port))
        except OSError as exc:
            sock.close()
            raise DemoError(
                f"cannot listen on 127.0.0.1:{self.port} ({exc.strerror}); "
                "pick another --port or use --port 0 for any free port."
            ) from None
        port = sock.getsockname()[1]
        settings = ServerSettings(
            host="127.0.0.1",
            port=port,
            db_path=self.workdir / "demo.sqlite3",
            data_dir=self.workdir / "data",
            demo=True,
            log_level="warning",
        )
        app = create_app(settings)
        name = SUPERVISOR_NAME if self.role == "supervisor" else demo_agent_name()
        self.token = str(create_token(settings.db_path, self.role, name))
        # The simulator signs its customers in like the demo website would (HMAC).
        self.identity_secret = str(identity_secret(settings.db_path))
        register_secret(self.identity_secret)
        register_secret(self.token)
        config = uvicorn.Config(
            app,
            log_config=None,  # records propagate to our log file, never the terminal
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._server_thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="demo-server", daemon=True
        )
        self._server_thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._server_thread.is_alive() or time.monotonic() > deadline:
                raise DemoError("the demo server did not start; the log file says why.")
            time.sleep(0.02)
        quiet_terminal_handlers()
        self.url = f"http://127.0.0.1:{port}"
        log.info("demo server on %s (workdir %s)", self.url, self.workdir)

    def _start_simulator(self) -> None:
        from console.sim import run_simulator

        assert self.url is not None
        url = self.url
        ready = threading.Event()

        async def simulate() -> None:
            self._sim_loop = asyncio.get_running_loop()
            self._sim_stop = asyncio.Event()
            ready.set()
            await run_simulator(
                url,
                seed=self.seed,
                stop=self._sim_stop,
                rate=self.rate,
                speed=self.speed,
                identity_secret=self.identity_secret,
            )

        def run() -> None:
            try:
                # asyncio.run cancels and awaits leftover tasks before closing the loop.
                asyncio.run(simulate())
            except BaseException as exc:
                self.sim_error = exc
                log.exception("demo simulator stopped")
            finally:
                ready.set()

        self._sim_thread = threading.Thread(target=run, name="demo-simulator", daemon=True)
        self._sim_thread.start()
        ready.wait(START_TIMEOUT)

    def stop(self) -> None:
        """Stop simulator, then server; remove a temporary folder.  Safe to call twice."""
        if self._sim_thread is not None:
            loop, stop = self._sim_loop, self._sim_stop
            if loop is not None and stop is not None and not loop.is_closed():
                try:
                    loop.call_soon_threadsafe(stop.set)
                except RuntimeError:  # loop closed in between
                    pass
            self._sim_thread.join(10)
            if self._sim_thread.is_alive():
                log.warning("demo simulator did not stop within 10 s")
            self._sim_thread = None
        if self._server is not None and self._server_thread is not None:
            self._server.should_exit = True
            self._server_thread.join(10)
            if self._server_thread.is_alive():
                self._server.force_exit = True
                self._server_thread.join(3)
            self._server_thread = None
        if self._own_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    @property
    def server_alive(self) -> bool:
        return self._server_thread is not None and self._server_thread.is_alive()


def build_demo_app(
    stack: DemoStack, *, config: Config, theme: str | None = None, lang: str | None = None
) -> App[Any]:
    """The console connected to ``stack`` (started), with its outbox in the stack's folder."""
    from console.backends import load_backend
    from console.core.boundary import ensure_sanitized
    from console.ui.app import AgentConsoleApp

    if stack.url is None or stack.token is None:
        raise DemoError("the demo server is not running.")
    backend = load_backend(
        "native",
        base_url=stack.url,
        token=stack.token,
        outbox_path=stack.workdir / "outbox",
    )
    backend = ensure_sanitized(backend)  # typed and sanitized once, whatever the call
    return AgentConsoleApp(
        backend,
        config=config,
        readonly=stack.role == "supervisor",
        theme=theme,
        lang=lang,
    )


def run_demo(
    as_role: DemoRole = "agent",
    *,
    seed: int = 0,
    port: int = 0,
    config: Config | None = None,
    theme: str | None = None,
    lang: str | None = None,
    fresh: bool = False,
    workdir: Path | None = None,
) -> int:
    """Run the whole demo in the foreground; returns the exit status.

    The demo's database lives in ``workdir`` (default :func:`paths.demo_dir`, in
    the state directory), so quitting and starting again resumes the same
    chats, queue and outbox; ``fresh`` deletes it first.
    """
    config = config or load_config()
    log_path = setup_logging()
    language = set_language(pick_language(lang, config.language))
    folder = workdir or paths.demo_dir()
    if fresh:
        shutil.rmtree(folder, ignore_errors=True)
    log.info("demo as %s, seed %s, log %s, folder %s", as_role, seed, log_path, folder)
    with DemoStack(as_role, seed=seed, port=port, workdir=folder) as stack:
        app = build_demo_app(stack, config=config, theme=theme, lang=language)
        quiet_terminal_handlers()
        app.run()
        code = app.return_code
    return int(code or 0)
