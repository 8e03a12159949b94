"""A fake clock for tests of anything timed (progress displays, rates, ETAs)."""

from __future__ import annotations


class Clock:
    """Seconds that move only when told (``tick``)."""

    def __init__(self, t: float = 100.0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def tick(self, seconds: float) -> None:
        self.t += seconds
