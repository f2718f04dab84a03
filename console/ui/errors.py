"""Errors in our own callbacks are reported, never fatal.

Textual ends the app on any unhandled exception, and an exception raised in a
message handler also stops that node's message loop, so "catch it later" is
not possible: the guard has to sit at our entry points.  ``guarded`` wraps the
methods the controller and timers call (change application, connection state,
the once-a-second tick); ``AgentConsoleApp`` wraps actions and workers the same
way.  The report goes to ``App.report_error`` (log with traceback, error toast,
kept for the test suite to check).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def report(node: Any, error: BaseException) -> bool:
    """Hand ``error`` to the app's ``report_error``; False if there is no such app."""
    try:
        app = node.app
    except Exception:
        return False
    reporter = getattr(app, "report_error", None)
    if reporter is None:
        return False
    reporter(error)
    return True


def guarded(method: Callable[P, R]) -> Callable[P, R]:
    """Run ``method``; an ``Exception`` is reported through the node's app instead of raised."""
    if inspect.iscoroutinefunction(method):

        @functools.wraps(method)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await method(*args, **kwargs)
            except Exception as error:
                if not report(args[0], error):
                    raise
                return None

        return run_async  # type: ignore[return-value]

    @functools.wraps(method)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception as error:
            if not report(args[0], error):
                raise
            return None

    return run
