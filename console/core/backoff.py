"""Jittered exponential backoff shared by the stream reconnect loop and the outbox.

"Equal jitter": the n-th delay is drawn uniformly from ``[d/2, d]`` where
``d = min(cap, base * factor**n)``.  Half of the delay is guaranteed (so a
flapping server is never hammered) and the other half spreads reconnecting
consoles apart after a server restart.
"""

from __future__ import annotations

import random


class Backoff:
    """Delays for consecutive failures; :meth:`reset` after a healthy period."""

    def __init__(
        self,
        base: float = 0.5,
        cap: float = 30.0,
        *,
        factor: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        if base <= 0 or cap < base or factor < 1:
            raise ValueError("backoff needs 0 < base <= cap and factor >= 1")
        self.base = base
        self.cap = cap
        self.factor = factor
        self.failures = 0
        self._rng = rng or random.Random()

    def ceiling(self) -> float:
        """Upper bound of the next delay (before jitter)."""
        # Clamp the exponent so huge failure counts cannot overflow a float.
        return min(self.cap, self.base * self.factor ** min(self.failures, 64))

    def next_delay(self) -> float:
        """Delay before the next attempt; counts one more failure."""
        ceiling = self.ceiling()
        self.failures += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.failures = 0
