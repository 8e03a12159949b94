"""A progress display for long work: a bar redrawn in place on a terminal, lines elsewhere.

    with Progress(total=steps, unit="steps", description="race") as bar:
        for chunk in work:
            ...
            bar.update(len(chunk))           # redrawn a few times a second at most
        bar.line("adam: done")               # a line of its own (above the bar on a terminal)

On a terminal the bar (drawn by ``rich``) shows the description, done of total, the time
elapsed and the time left, and is redrawn at most every ``min_interval`` seconds however
often :meth:`Progress.update` is called. Anywhere else (a log file, a pipe, a notebook's
captured output) nothing is redrawn: only the lines given to :meth:`Progress.line` appear,
one per finished item.

The time left is the work left divided by the rate of *this* run: the work done since the
display started (work already done when it started, such as the finished trials of a
resumed study, is not counted as done in no time) over the time since it started. With
``warmup=k`` the first k updates are warm-up (compiling, allocating, a first slow step): the
rate is measured from the end of the k-th update, so the ETA is not hours for a moment.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

__all__ = ["Progress", "format_seconds"]


def format_seconds(seconds: float) -> str:
    """``45s``, ``3m05s``, ``1h02m``; ``?`` when unknown (infinite or NaN)."""
    if not math.isfinite(seconds):
        return "?"
    seconds = round(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


def _isatty(stream: Any) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


class Progress:
    """Done of ``total`` units of work (``unit``: "trials", "steps", ...), with an ETA.

    ``stream`` defaults to standard error; ``terminal`` (default: whether ``stream`` is one)
    decides between the redrawn bar and plain lines. ``clock`` returns seconds (a fake one
    in tests); ``completed`` is the work already done when the display starts; the first
    ``warmup`` updates are not measured (:meth:`restart` after them).
    """

    def __init__(
        self,
        total: float | None = None,
        *,
        description: str = "",
        unit: str = "",
        stream: TextIO | None = None,
        terminal: bool | None = None,
        min_interval: float = 0.25,
        clock: Callable[[], float] = time.monotonic,
        completed: float = 0.0,
        warmup: int = 0,
    ):
        self.stream = stream if stream is not None else sys.stderr
        self.terminal = _isatty(self.stream) if terminal is None else terminal
        self.total, self.completed = total, completed
        self.description, self.unit = description, unit
        self.min_interval, self.clock = min_interval, clock
        self.start, self._start_completed = clock(), completed
        self._last_draw = -math.inf
        self._rich: Any = None  # rich.progress.Progress and its task, made on the first draw
        self._task: Any = None
        self.draws = 0  # how many times the bar was redrawn
        self._warmup = warmup  # updates left before the rate is measured from scratch

    # -- the numbers ------------------------------------------------------------------------

    def elapsed(self) -> float:
        return self.clock() - self.start

    def rate(self) -> float | None:
        """Units of work per second in this run; None before any work is done."""
        done, seconds = self.completed - self._start_completed, self.elapsed()
        return done / seconds if done > 0 and seconds > 0 else None

    def eta(self) -> float:
        """Seconds left: the work left over this run's rate (``inf`` when unknown)."""
        if self.total is None:
            return math.inf
        left = max(self.total - self.completed, 0.0)
        if left == 0:
            return 0.0
        rate = self.rate()
        return left / rate if rate else math.inf

    def status(self) -> str:
        """``3/10 trials | 12s elapsed | ETA 28s``."""
        total = "?" if self.total is None else f"{self.total:g}"
        unit = f" {self.unit}" if self.unit else ""
        return (
            f"{self.completed:.0f}/{total}{unit} | {format_seconds(self.elapsed())} elapsed"
            f" | ETA {format_seconds(self.eta())}"
        )

    # -- changes ----------------------------------------------------------------------------

    def restart(self, completed: float | None = None) -> None:
        """Measure the rate from now on, with ``completed`` units (default: as they stand)
        already done: work done before (a resumed run's) is not counted as done in no time."""
        if completed is not None:
            self.completed = completed
        self.start, self._start_completed = self.clock(), self.completed

    def update(
        self,
        n: float = 1.0,
        *,
        completed: float | None = None,
        total: float | None = None,
        description: str | None = None,
    ) -> None:
        """Advance by ``n`` units (or set ``completed``), optionally change the total and
        the description; redraws if the last redraw is ``min_interval`` seconds old."""
        self.completed = self.completed + n if completed is None else completed
        if total is not None:
            self.total = total
        if description is not None:
            self.description = description
        if self._warmup > 0:
            self._warmup -= 1
            if self._warmup == 0:
                self.restart()
        self.refresh()

    def line(self, text: str) -> None:
        """Show ``text`` as a line of its own: above the bar on a terminal, else as is."""
        if self._rich is not None:
            self._sync()
            self._rich.refresh()  # so that the bar drawn again below the line is the current one
            self._rich.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def refresh(self, force: bool = False) -> None:
        """Redraw the bar (on a terminal only), unless it was redrawn less than
        ``min_interval`` seconds ago and ``force`` is not set."""
        now = self.clock()
        if not self.terminal or (not force and now - self._last_draw < self.min_interval):
            return
        self._last_draw = now
        if self._rich is None:
            self._start_rich()
        self._sync()
        self._rich.refresh()
        self.draws += 1

    def close(self) -> None:
        """Draw the final state and leave the bar on screen."""
        if self._rich is not None:
            self.refresh(force=True)
            self._rich.stop()
            self._rich = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- drawing ----------------------------------------------------------------------------

    def _start_rich(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, TextColumn
        from rich.progress import Progress as RichProgress
        from rich.table import Column

        console = Console(file=self.stream, force_terminal=True, highlight=False)
        self._rich = RichProgress(  # the description gives way to the numbers on a narrow line
            TextColumn(
                "{task.description}",
                markup=False,
                table_column=Column(ratio=1, no_wrap=True, overflow="ellipsis"),
            ),
            BarColumn(bar_width=24),
            TextColumn("{task.fields[status]}", markup=False, table_column=Column(no_wrap=True)),
            console=console,
            expand=True,
            auto_refresh=False,
            redirect_stdout=False,
            redirect_stderr=False,
            get_time=self.clock,
        )
        self._task = self._rich.add_task(self.description, total=self.total, status="")
        self._rich.start()

    def _sync(self) -> None:
        self._rich.update(
            self._task,
            completed=self.completed,
            total=self.total,
            description=self.description,
            status=self.status(),
        )
