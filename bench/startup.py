"""Benchmark: startup time of agent-console, each step in a fresh subprocess.

Prints one JSON object.  Every case runs ``--runs`` times (default 7, after one
discarded warm-up that also writes the bytecode caches), interleaved so load
from other work on the machine spreads over all cases; each figure is given as
``best`` and ``median`` in milliseconds.

Cases:

* ``bare_python``: ``python -c pass`` (the interpreter floor).
* ``import_cli``: ``import console.cli``.
* ``help``: the ``agent-console --help`` entry script (process wall time only).
* ``import_ui_app``: ``import console.ui.app`` (the TUI, no app created).
* ``console_first_frame``: the real ``agent-console --server URL --token T``
  start path (``console.cli.prepare_console``: config, logging, language,
  token, ``NativeBackend``) against the **real reference server**
  (``python -m console.server`` on a free loopback port, started once by this
  script), then ``AgentConsoleApp.run_test()`` headless at 120x36; the first
  frame is the first compositor update that a terminal would get (not inside a
  batch; the neutral ``LoadingScreen``, painted before the app connects),
  rendered to escape codes as the terminal driver would; the child exits there.
* ``console_agent_screen``: the same start, measured until the first frame of
  the agent screen (connect, learn the role, load my chats and the queue: the
  network is on this path, so it is not compared with the empty app's ratio
  target; it shows what the user waits for until the workspace is usable).
* ``baseline_first_frame``: an empty ``textual.app.App`` measured the same way
  (import, first frame, exit): the baseline of the ratios.

Each case reports ``process_ms`` (wall time of the whole subprocess, measured
by this script: interpreter start, imports, first frame, shutdown) and, where
it applies, ``in_process_ms`` (from the child's first line to the import
finishing) or ``first_frame_ms`` (from the child's first line to the first
frame).  ``*_cpu_ms`` are the CPU times of the same spans (whole process for
``process_cpu_ms`` and ``first_frame_cpu_ms``): steadier than wall time when
other work shares the machine.  Ratios are of medians.  ``loaded_before_first_frame`` says which
heavy modules the console had imported when it painted (httpx and websockets
must be false: the UI paints first, then connects in a worker started with
``call_after_refresh``; ``tests/test_startup_imports.py`` asserts the same).

``top_self_imports``: the 10 largest ``-X importtime`` *self* costs among the
console's own and third-party modules (stdlib left out) up to the console's
first frame, median over ``--importtime-runs`` runs; ``import_by_package``
sums self costs per top-level package.  ``-X importtime`` slows imports
down, so these are for ranking, not for adding up to ``process_ms``.

Run: ``.venv/bin/python bench/startup.py`` (``--runs N``, ``--importtime-runs N``).
Children get a temporary XDG home (your config, keyring and logs are not used)
and ``PYTHONPATH`` set to this checkout.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 36)

# Modules whose presence at first frame is reported (true = loaded).
WATCHED = (
    "httpx",
    "httpcore",
    "websockets",
    "starlette",
    "uvicorn",
    "anyio",
    "keyring",
    "console.server",
    "console.sim",
    "console.backends.chatwoot",
    "console.ui.screens.supervisor",
    "console.core.dashboard",
    "tomlkit",
    "sqlite3",
)

IMPORT_CHILD = """\
import time
_t0, _c0 = time.perf_counter(), time.process_time()
import {module}
_ms, _cpu = (time.perf_counter() - _t0) * 1000, (time.process_time() - _c0) * 1000
import json, sys
_loaded = [n for n in {watched!r} if n in sys.modules]
print(json.dumps({{"in_process_ms": _ms, "in_process_cpu_ms": _cpu, "loaded": _loaded}}))
"""

# The first-frame children.  ``_first_frame`` wraps App._display: the first
# update of the wanted screen outside a batch (batched updates are not shown;
# the app mounts inside one) is rendered to escape codes (what the terminal
# driver would write) and timed; a marker on fd 2 ends the -X importtime count.
FRAME_PRELUDE = """\
import time
_t0 = time.perf_counter()
import asyncio, json, os, sys

_state = {{}}

def _first_frame(app, want):
    original = app._display
    seen = asyncio.Event()

    def display(screen, renderable):
        if (
            renderable is not None
            and not seen.is_set()
            and not app._batch_count
            and (want is None or type(screen).__name__ == want)
        ):
            try:
                if hasattr(renderable, "render_segments"):
                    renderable.render_segments(app.console)
            finally:
                _state["first_frame_ms"] = (time.perf_counter() - _t0) * 1000
                _state["first_frame_cpu_ms"] = time.process_time() * 1000
                _state["screen"] = type(screen).__name__
                _state["loaded"] = [n for n in {watched!r} if n in sys.modules]
                os.write(2, b"--first-frame--\\n")
                seen.set()
        return original(screen, renderable)

    app._display = display
    return seen

async def _drive(app, want):
    seen = _first_frame(app, want)
    async with app.run_test(headless=True, size={size!r}) as pilot:
        await asyncio.wait_for(seen.wait(), 30)
"""

CONSOLE_CHILD = (
    FRAME_PRELUDE
    + """
from console.cli import build_parser, prepare_console
_args = build_parser().parse_args(["--server", {url!r}, "--token", {token!r}, "--lang", "en"])
_app = prepare_console(_args, interactive=False)
asyncio.run(_drive(_app, {want!r}))
print(json.dumps(_state))
"""
)

BASELINE_CHILD = (
    FRAME_PRELUDE
    + """
from textual.app import App
asyncio.run(_drive(App(), None))
print(json.dumps(_state))
"""
)


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENT_CONSOLE_")}
    for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[name] = str(home / name.lower())
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # This checkout, whatever the venv's editable install points at.
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return env


def children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float, str, str]:
    """(wall ms, CPU ms, stdout, stderr) of one subprocess; raises if it fails."""
    start, cpu = time.perf_counter(), children_cpu_ms()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    wall, cpu = (time.perf_counter() - start) * 1000, children_cpu_ms() - cpu
    if proc.returncode != 0:
        raise RuntimeError(f"{argv[:3]} exited with {proc.returncode}:\n{proc.stderr[-3000:]}")
    return wall, cpu, proc.stdout, proc.stderr


def summary(values: list[float]) -> dict[str, float]:
    return {"best": round(min(values), 1), "median": round(statistics.median(values), 1)}


def is_stdlib(module: str) -> bool:
    top = module.split(".")[0]
    return top in sys.stdlib_module_names or top.startswith("_") or top == "encodings"


def parse_importtime(stderr: str) -> dict[str, tuple[int, int]]:
    """module -> (self us, cumulative us) up to the first-frame marker."""
    costs: dict[str, tuple[int, int]] = {}
    for line in stderr.splitlines():
        if line.startswith("--first-frame--"):
            break
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line[len("import time:") :].split("|")
        costs[name.strip()] = (int(self_us), int(cumulative_us))
    return costs


class Server:
    """The reference server in a subprocess on a free loopback port."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.db = root / "server.sqlite3"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        argv = [
            sys.executable,
            "-m",
            "console.server",
            "--port",
            str(self.port),
            "--db",
            str(self.db),
            "--data-dir",
            str(root / "data"),
            "--no-rate-limit",
            "--log-level",
            "warning",
        ]
        self.proc = subprocess.Popen(
            argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the reference server exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/api/v1/health", timeout=1) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("the reference server did not answer within 30 s")

    def token(self, role: str, name: str) -> str:
        from console.server.admin import create_token

        return create_token(self.db, role, name)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="timed runs per case (default 7)")
    parser.add_argument(
        "--importtime-runs", type=int, default=3, help="-X importtime runs (default 3)"
    )
    args = parser.parse_args()
    py = sys.executable
    entry = Path(py).with_name("agent-console")
    help_argv = [str(entry), "--help"] if entry.exists() else [py, "-m", "console", "--help"]

    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        home = Path(tmp)
        env = child_env(home)
        server = Server(home, env)
        try:
            token = server.token("agent", "Bench Agent")
            console_code = CONSOLE_CHILD.format(
                watched=WATCHED, size=SIZE, url=server.url, token=token, want="LoadingScreen"
            )
            agent_code = CONSOLE_CHILD.format(
                watched=WATCHED, size=SIZE, url=server.url, token=token, want="AgentScreen"
            )
            cases: dict[str, list[str]] = {
                "bare_python": [py, "-c", "pass"],
                "import_cli": [
                    py,
                    "-c",
                    IMPORT_CHILD.format(module="console.cli", watched=WATCHED),
                ],
                "help": help_argv,
                "import_ui_app": [
                    py,
                    "-c",
                    IMPORT_CHILD.format(module="console.ui.app", watched=WATCHED),
                ],
                "console_first_frame": [py, "-c", console_code],
                "console_agent_screen": [py, "-c", agent_code],
                "baseline_first_frame": [
                    py,
                    "-c",
                    BASELINE_CHILD.format(watched=WATCHED, size=SIZE),
                ],
            }
            figures: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
            last: dict[str, dict[str, Any]] = {}
            for round_no in range(args.runs + 1):
                for name, argv in cases.items():
                    ms, cpu, out, _ = run(argv, env)
                    if round_no == 0:
                        continue  # warm-up: bytecode caches, OS file cache
                    figures[name]["process_ms"].append(ms)
                    figures[name]["process_cpu_ms"].append(cpu)
                    if out.strip().startswith("{"):
                        data = json.loads(out.strip().splitlines()[-1])
                        last[name] = data
                        for key, value in data.items():
                            if key.endswith("_ms"):
                                figures[name][key].append(value)

            samples: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for _ in range(args.importtime_runs):
                _, _, _, err = run([py, "-X", "importtime", "-c", console_code], env)
                for module, cost in parse_importtime(err).items():
                    samples[module].append(cost)
        finally:
            server.stop()

    results: dict[str, Any] = {
        "benchmark": "startup",
        "runs": args.runs,
        "python": platform.python_version(),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cpus",
        "loadavg_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "backend": "NativeBackend against the real reference server (python -m console.server)",
        "terminal_size": list(SIZE),
        "cases": {},
    }
    for name in cases:
        entry_result: dict[str, Any] = {k: summary(v) for k, v in figures[name].items()}
        if name in last and name != "baseline_first_frame":
            loaded = set(last[name].get("loaded", []))
            label = "loaded_before_first_frame" if "screen" in last[name] else "loaded"
            entry_result[label] = {module: module in loaded for module in WATCHED}
        if "screen" in last.get(name, {}):
            entry_result["screen"] = last[name]["screen"]
        results["cases"][name] = entry_result

    base = results["cases"]["baseline_first_frame"]
    ratios: dict[str, float] = {}
    for name, case in results["cases"].items():
        if name == "baseline_first_frame":
            continue
        for metric in ("process_ms", "process_cpu_ms", "first_frame_ms", "first_frame_cpu_ms"):
            if metric in case:
                ratios[f"{name}.{metric}"] = round(
                    case[metric]["median"] / base[metric]["median"], 2
                )
    results["ratios_vs_baseline_median"] = ratios

    medians = {
        module: (
            statistics.median(c[0] for c in costs) / 1000,
            statistics.median(c[1] for c in costs) / 1000,
        )
        for module, costs in samples.items()
    }
    ours = {k: v for k, v in medians.items() if not is_stdlib(k)}
    top = sorted(ours.items(), key=lambda kv: kv[1][0], reverse=True)[:10]
    results["top_self_imports"] = [
        {"module": k, "self_ms": round(v[0], 1), "cumulative_ms": round(v[1], 1)} for k, v in top
    ]
    by_package: dict[str, float] = defaultdict(float)
    for module, (self_ms, _) in medians.items():
        by_package["(stdlib)" if is_stdlib(module) else module.split(".")[0]] += self_ms
    results["import_by_package_self_ms"] = {
        k: round(v, 1) for k, v in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]
    }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
