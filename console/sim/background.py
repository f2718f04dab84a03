"""Run the simulator beside something that owns the main thread (uvicorn, a Textual app).

``agent-console serve --demo`` blocks in uvicorn and ``agent-console demo``
blocks in the console's UI, so the simulator gets its own thread and event
loop.  It waits until the server answers ``GET /api/v1/health``, then runs
:func:`~console.sim.runner.run_simulator` until :meth:`BackgroundSimulator.stop`
(or until ``customers`` are done).  Nothing here touches the caller's loop.

    sim = BackgroundSimulator("http://127.0.0.1:8765", seed=0)
    sim.start()
    ...                      # serve / run the app
    stats = sim.stop()       # cancels customers still chatting, joins the thread
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from console.protocol import limits
from console.sim.runner import SimStats, run_simulator

log = logging.getLogger(__name__)


class BackgroundSimulator:
    """The simulator in a daemon thread; see the module docstring."""

    def __init__(
        self,
        base_url: str,
        *,
        seed: int = 0,
        rate: float = 3.0,
        speed: float = 1.0,
        customers: int | None = None,
        wait_for_server: float = 30.0,
        identity_secret: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.seed = seed
        self.rate = rate
        self.speed = speed
        self.customers = customers
        self.wait_for_server = wait_for_server
        self.identity_secret = identity_secret
        self.stats: SimStats | None = None
        self.error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="agent-console-sim", daemon=True)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(5.0)

    def stop(self, timeout: float = 15.0) -> SimStats | None:
        """Stop spawning customers, cancel running ones, wait for the thread; returns the stats."""
        self._stopping = True
        loop, event = self._loop, self._stop
        if loop is not None and event is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # loop closed between the check and the call
                pass
        if self._thread.is_alive():
            self._thread.join(timeout)
        return self.stats

    # ------------------------------------------------------------------ thread side

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # reported through .error; a demo must not crash
            self.error = exc
            log.exception("simulator stopped with an error")
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if self._stopping:
            self._stop.set()
        self._ready.set()
        if not await self._server_answers():
            log.warning("simulator: no server at %s; no simulated customers", self.base_url)
            return
        self.stats = await run_simulator(
            self.base_url,
            seed=self.seed,
            identity_secret=self.identity_secret,
            customers=self.customers,
            rate=self.rate,
            stop=self._stop,
            speed=self.speed,
        )

    async def _server_answers(self) -> bool:
        # Deferred: httpx costs ~57 ms to import.
        import httpx

        assert self._stop is not None
        deadline = time.monotonic() + self.wait_for_server
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline and not self._stop.is_set():
                try:
                    response = await client.get(self.base_url + limits.API_PREFIX + "/health")
                    if response.status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                try:
                    await asyncio.wait_for(self._stop.wait(), 0.2)
                except TimeoutError:
                    pass
        return False
