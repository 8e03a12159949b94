"""The driver: expands a spec into trials, hands them to an executor, writes every result.

The driver is the only writer of the store. It claims trials atomically (so several drivers
may share one store), keeps a heartbeat on its claims from a background thread (so a dead
driver's trials are taken back by the next one), and commits each result in one transaction
as soon as it arrives. Killing it at any moment loses at most the trials in flight.

Trials that differ only in hyperparameters and seed (same problem, optimizer, budget and
batching; see :func:`~ravine.study.batched.batch_group_key`) are claimed together, up to
:data:`~ravine.study.batched.MAX_BATCH` at a time, and shipped to the executor as one task
that runs them as one batched computation; each trial's result is still committed as its
own. ``batch=False`` (``--no-batch``) runs every trial alone.
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .batched import MAX_BATCH, batch_group_key, unbatchable
from .executors import make_executor
from .protocols import first_stage, next_stage
from .spec import Spec, load_spec
from .store import FINISHED, Store, runner_id
from .summary import setting_label

__all__ = ["Progress", "default_store_path", "run_study"]


def default_store_path(spec: Spec) -> Path:
    """``<study name>.study.db`` in the current directory."""
    return Path(f"{spec.name}.study.db")


def _fmt_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "?"
    seconds = round(seconds)
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{s:02d}s" if m else f"{s}s")


class Progress:
    """Prints trials done of total, the running trial's epoch and an ETA.

    On a terminal one status line is redrawn in place; otherwise one line per finished trial.
    The ETA is (remaining trials) x (seconds of this run per trial finished, counting the
    finished part of a running in-process trial), so parallel workers are accounted for.
    """

    def __init__(self, stream: TextIO | None = None, capacity: int = 1):
        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.capacity = capacity
        self.start = time.perf_counter()
        self.finished_here = 0
        self.done = 0
        self.total = 0
        self.fraction = 0.0  # of the trial running in this process (in-process executor)
        self.statuses: dict[str, int] = {}
        self.said: set[str] = set()  # reasons already given why a batch ran one at a time

    def eta(self) -> float:
        work = self.finished_here + self.fraction  # trials' worth of work done in this run
        if work <= 0:
            return math.inf
        per = (time.perf_counter() - self.start) / work
        return per * max(self.total - self.done - self.fraction, 0)

    def counts(self, done: int, total: int) -> None:
        self.done, self.total = done, total

    def _line(self, text: str, final: bool = False) -> None:
        if self.tty:
            self.stream.write("\r\x1b[2K" + text + ("\n" if final else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def epoch(self, config: dict[str, Any], event: dict[str, Any]) -> None:
        self.fraction = min(event["step"] / max(event["steps"], 1), 1.0)
        if not self.tty:
            return
        v = event.get("val_metric")
        self._line(
            f"[{self.done}/{self.total} trials] {_describe(config)} "
            f"epoch {event['epoch']}/{event['epochs']}"
            + (f" val {v:.4f}" if isinstance(v, float) and math.isfinite(v) else "")
            + f" | ETA {_fmt_time(self.eta())}"
        )

    def trial(self, config: dict[str, Any], result: dict[str, Any]) -> None:
        self.finished_here += 1
        self.fraction = 0.0
        self.statuses[result["status"]] = self.statuses.get(result["status"], 0) + 1
        rows = result.get("rows") or []
        v = rows[-1][5] if rows else math.nan
        self._line(
            f"[{self.done}/{self.total} trials] {_describe(config)}: {result['status']}"
            + (f", val {v:.4f}" if isinstance(v, float) and math.isfinite(v) else "")
            + f" in {result.get('wall_time') or 0:.1f}s | elapsed "
            f"{_fmt_time(time.perf_counter() - self.start)}, ETA {_fmt_time(self.eta())}",
            final=True,
        )

    def message(self, text: str) -> None:
        self._line(text, final=True)


def _batch_line(group: list[tuple[int, dict[str, Any]]]) -> str:
    c = group[0][1]
    return (
        f"batched: {len(group)} trials of {c['problem']['label']} {c['optimizer']['label']} "
        "step together as one computation (--no-batch runs them one at a time)"
    )


def _say_once(prog: Progress, why: str | None) -> None:
    """Say once per reason why trials run one at a time instead of batched."""
    if why and why not in prog.said:
        prog.said.add(why)
        prog.message(f"trials run one at a time: {why}")


def _note_unbatched(prog: Progress, result: dict[str, Any]) -> None:
    _say_once(prog, ((result.get("environment") or {}).get("batch") or {}).get("why_not"))


def _describe(config: dict[str, Any]) -> str:
    return (
        f"{config['problem']['label']} {config['optimizer']['label']} "
        f"{setting_label(config['hyperparameters'])} seed={config['seed']}"
    )


def _group(claimed: list[tuple[int, dict[str, Any]]]) -> list[list[tuple[int, dict[str, Any]]]]:
    """Claimed trials as tasks: those sharing a batch group key together (in chunks of at
    most MAX_BATCH, in claim order), any other trial alone."""
    groups: dict[Any, list[tuple[int, dict[str, Any]]]] = {}
    for tid, config in claimed:
        key = batch_group_key(config)
        groups.setdefault(key if key is not None else ("alone", tid), []).append((tid, config))
    return [g[i : i + MAX_BATCH] for g in groups.values() for i in range(0, len(g), MAX_BATCH)]


def _claim_tasks(
    db: Store, runner: str, tasks: int, limit: int, stale_after: float, batch: bool
) -> list[list[tuple[int, dict[str, Any]]]]:
    """Claim the trials of up to ``tasks`` tasks (at most ``limit`` trials): one trial per task
    without ``batch``; with it, whole batches chosen among the pending trials, or the stale
    trials of a dead runner grouped the same way."""
    if tasks < 1 or limit < 1:
        return []
    if not batch:
        return [[t] for t in db.claim(runner, min(tasks, limit), stale_after)]
    pending = db.trials("pending")
    if not pending:
        return _group(db.claim(runner, min(limit, tasks * MAX_BATCH), stale_after))
    plan, room = [], limit
    for g in _group([(t["id"], t["config"]) for t in pending])[:tasks]:
        if room <= 0:
            break
        plan.append([tid for tid, _ in g[:room]])
        room -= len(plan[-1])
    got = dict(db.claim(runner, stale_after=stale_after, ids=[i for ids in plan for i in ids]))
    tasks_ = [[(i, got[i]) for i in ids if i in got] for ids in plan]
    return [t for t in tasks_ if t]


class _Heartbeat(threading.Thread):
    """Refreshes this runner's claims every ``every`` seconds on its own connection."""

    def __init__(self, path: Path, runner: str, every: float):
        super().__init__(daemon=True)
        self.path, self.runner, self.every = path, runner, every
        self.stop_event = threading.Event()

    def run(self) -> None:
        store = Store(self.path)
        try:
            while not self.stop_event.wait(self.every):
                with contextlib.suppress(Exception):  # a busy database: try next beat
                    store.heartbeat(self.runner)
        finally:
            store.close()


def _problem_info(spec: Spec) -> dict[str, dict[str, Any]]:
    """Target and direction per problem label (the problem's own target unless the spec sets
    one), recorded in the store for summaries."""
    from .. import problems

    out = {}
    for p in spec.problems:
        problem = problems.get(p["name"], **p["options"])
        target = p.get("target") if p.get("target") is not None else problem.target
        out[p["label"]] = {
            "target": target,
            "higher_is_better": problem.higher_is_better,
            "metric": problem.metric_name,
            "n_train": problem.n_train,
            "n_val": len(problem.x_val),
        }
    return out


def run_study(
    spec: Spec | dict | str | Path,
    store: str | Path | Store | None = None,
    *,
    executor: str = "inprocess",
    workers: int = 1,
    address: str | None = None,
    progress: bool | Progress | None = True,
    stale_after: float = 120.0,
    heartbeat_every: float = 10.0,
    poll: float = 0.5,
    max_trials: int | None = None,
    on_result: Callable[[int, dict[str, Any]], None] | None = None,
    batch: bool = True,
) -> Path:
    """Run every trial of ``spec`` not yet finished in ``store``; returns the store's path.

    ``executor`` is ``"inprocess"`` (default), ``"pool"`` (``workers`` local processes) or
    ``"ray"`` (a cluster at ``address``, or a local Ray). ``max_trials`` stops after that many
    results (for tests and partial runs). ``batch`` (default True) runs trials that differ
    only in hyperparameters and seed as one batched computation where the optimizer and model
    allow (the output says so); False runs every trial alone. A store already holding a
    different study is refused.
    """
    spec = load_spec(spec)
    own_store = not isinstance(store, Store)
    db = Store(store or default_store_path(spec)) if own_store else store
    runner = runner_id()
    ex = None
    beat = None
    inflight: dict[int, dict[str, Any]] = {}
    task_of: dict[int, int] = {}  # in-flight trial -> the task (trial or batch) it is in
    try:
        existing = db.get_meta("spec")
        if existing is not None and existing != spec.to_dict():
            raise ValueError(
                f"store {db.path} holds a different study ({existing.get('name')!r}); "
                "give another store path, or rerun with the same spec to resume"
            )
        if existing is None:
            db.set_meta("spec", spec.to_dict())
        if db.get_meta("problems") is None:
            db.set_meta("problems", _problem_info(spec))
        stage, configs = first_stage(spec)
        db.add_trials(configs, stage=stage)
        expected = len(configs)
        if spec.protocol["kind"] == "two_stage":  # the reruns of the best settings to come
            expected += len(spec.problems) * len(spec.optimizers) * (len(spec.seeds) - 1)

        if progress is True:
            progress = Progress()
        prog: Progress | None = progress or None

        def on_epoch(tid: int, event: dict[str, Any]) -> None:
            if prog is not None:
                prog.epoch(inflight.get(tid, {}), event)

        ex = make_executor(executor, workers=workers, address=address, on_epoch=on_epoch)
        if prog is not None:
            prog.capacity = ex.capacity
        beat = _Heartbeat(db.path, runner, heartbeat_every)
        beat.start()
        handled = 0

        def refresh_counts() -> None:
            if prog is not None:
                c = db.counts()
                prog.counts(sum(c[s] for s in FINISHED), max(sum(c.values()), expected))

        refresh_counts()
        if prog is not None:
            c = db.counts()
            prog.message(
                f"study {spec.name!r}: {sum(c.values())} trials, "
                f"{sum(c[s] for s in FINISHED)} already finished; store {db.path}"
            )
        tasks = 0
        while True:
            free = ex.capacity - len(set(task_of.values()))
            limit = sys.maxsize if max_trials is None else max_trials - handled - len(inflight)
            for group in _claim_tasks(db, runner, free, limit, stale_after, batch):
                tasks += 1
                for tid, config in group:
                    inflight[tid], task_of[tid] = config, tasks
                ex.submit_batch([t for t, _ in group], [c for _, c in group])
                if prog is not None and len(group) > 1:
                    prog.message(_batch_line(group))
                elif prog is not None and batch:
                    _say_once(prog, unbatchable(group[0][1]))
            if inflight:
                for tid, result in ex.poll(poll):
                    config = inflight.pop(tid)
                    task_of.pop(tid, None)
                    if prog is not None:
                        _note_unbatched(prog, result)
                    db.complete(tid, runner, result)
                    handled += 1
                    refresh_counts()
                    if prog is not None:
                        prog.trial(config, result)
                    if on_result is not None:
                        on_result(tid, result)
                continue
            if max_trials is not None and handled >= max_trials:
                break
            nxt = next_stage(spec, db)
            if nxt is not None and db.add_trials(nxt[1], stage=nxt[0]):
                refresh_counts()
                continue
            if db.counts()["running"]:  # another runner is busy: wait, or take over if it dies
                time.sleep(poll)
                continue
            break
    except BaseException:
        if inflight:
            db.release(runner, list(inflight))
        raise
    finally:
        if beat is not None:
            beat.stop_event.set()
            beat.join(timeout=5)
        if ex is not None:
            ex.close()
        path = db.path
        if own_store:
            db.close()
    return path
