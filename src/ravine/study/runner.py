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
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .batched import MAX_BATCH, batch_group_key, unbatchable
from .display import StudyProgress
from .executors import Executor, make_executor
from .protocols import first_stage, next_stage
from .records import FINISHED, EpochEvent, TrialConfig, TrialResult
from .spec import Spec, SpecError, check_device, load_spec
from .store import Store, runner_id

__all__ = ["Progress", "default_store_path", "run_study"]

Progress = StudyProgress  # the name ravine.study has always exported

Task = list[tuple[int, TrialConfig]]  # the trials shipped to an executor as one task


def default_store_path(spec: Spec) -> Path:
    """``<study name>.study.db`` in the current directory."""
    return Path(f"{spec.name}.study.db")


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

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)


def _problem_info(spec: Spec, skip: set[str] = frozenset()) -> dict[str, dict]:
    """Target and direction per problem label (the problem's own target unless the spec sets
    one), recorded in the store for summaries; the labels in ``skip`` are left out."""
    out = {}
    for i, p in enumerate(spec.problems):
        if p.label in skip:
            continue
        try:
            problem = p.build()
        except (OSError, ValueError, TypeError, ImportError) as err:  # e.g. a data path
            text = str(err)
            bad = [k for k in p.options if text.startswith((f"{k}:", f"path {p.options[k]!r}"))]
            key = f"problems[{i}].options.{bad[0]}" if bad else f"problems[{i}]"
            raise SpecError(key, f"problem {p.name!r} cannot be built: {text}") from None
        out[p.label] = {
            "target": p.target if p.target is not None else problem.target,
            "higher_is_better": problem.higher_is_better,
            "metric": problem.metric_name,
            "n_train": problem.n_train,
            "n_val": len(problem.x_val),
        }
    return out


_GROWABLE = ("optimizers", "seeds", "problems")  # what a spec may add to a store's study


def _record_spec(db: Store, spec: Spec) -> None:
    """Write the spec into a new store. A store's study may be extended: a spec that differs
    from the stored one only in its optimizers, grids, seeds and problems replaces it (its
    new trials run, the finished ones are kept by their config hash); a spec that changes
    anything else (name, budget, batch size, evaluation, protocol, device) is another study
    and is refused."""
    new = spec.to_dict()
    existing = db.get_meta("spec")
    if existing is not None:
        fixed = {k: v for k, v in existing.items() if k not in _GROWABLE}
        if fixed != {k: v for k, v in new.items() if k not in _GROWABLE}:
            raise ValueError(
                f"store {db.path} holds a different study ({existing.get('name')!r}); only "
                f"{', '.join(_GROWABLE)} may change between runs into one store: give another "
                "store path, or rerun with the same settings to resume or extend"
            )
    if existing != new:
        db.set_meta("spec", new)
    known = db.problem_info()
    if any(p.label not in known for p in spec.problems):
        db.set_meta("problems", {**known, **_problem_info(spec, skip=set(known))})


class _Driver:
    """One run of the driver over a store: claims tasks, ships them, commits the results."""

    ex: Executor  # set once made, with this driver's on_epoch

    def __init__(
        self,
        spec: Spec,
        db: Store,
        prog: StudyProgress | None,
        *,
        stale_after: float,
        poll: float,
        max_trials: int | None,
        on_result: Callable[[int, TrialResult], None] | None,
        batch: bool,
    ):
        self.spec, self.db, self.prog = spec, db, prog
        self.runner = runner_id()
        self.stale_after, self.poll, self.batch = stale_after, poll, batch
        self.max_trials, self.on_result = max_trials, on_result
        self.inflight: dict[int, TrialConfig] = {}
        self.task_of: dict[int, list[int]] = {}  # in-flight trial -> the ids of its task
        self.configs: dict[int, TrialConfig] = {}  # each trial's config, parsed once
        self.keys: dict[int, str | None] = {}  # and its batch group key
        self.handled = 0
        self.expected = 0

    # -- the plan ---------------------------------------------------------------------------

    def start(self) -> None:
        """Add the first stage's trials and say where the study stands."""
        stage, configs = first_stage(self.spec)
        self.db.add_trials(configs, stage=stage)
        self.expected = len(configs)
        if self.spec.protocol.kind == "two_stage":  # the reruns of the best settings to come
            s = self.spec
            self.expected += len(s.problems) * len(s.optimizers) * (len(s.seeds) - 1)
        self.refresh_counts()
        if self.prog is not None:
            c = self.db.counts()
            to_come = self.expected - len(configs) - sum(self.db.counts(stage="final").values())
            more = f" (+{to_come} final-stage trials to come)" if to_come > 0 else ""
            self.prog.message(
                f"study {self.spec.name!r}: {sum(c.values())} trials{more}, "
                f"{sum(c[s] for s in FINISHED)} already finished; store {self.db.path}"
            )

    def progress_counts(self) -> tuple[int, int]:
        """Trials finished in the store, and all the study will have."""
        c = self.db.counts()
        return sum(c[s] for s in FINISHED), max(sum(c.values()), self.expected)

    def refresh_counts(self) -> None:
        if self.prog is not None:
            self.prog.counts(*self.progress_counts())

    # -- claiming ---------------------------------------------------------------------------

    def _group(self, claimed: Task) -> list[Task]:
        """Claimed trials as tasks: those sharing a batch group key together (in chunks of at
        most MAX_BATCH, in claim order), any other trial alone. A trial seen before keeps
        the config first parsed for it (its optimizer resolved once)."""
        groups: dict[object, Task] = {}
        for tid, config in claimed:
            if tid not in self.configs:
                self.configs[tid], self.keys[tid] = config, batch_group_key(config)
            key = self.keys[tid]
            group = groups.setdefault(key if key is not None else ("alone", tid), [])
            group.append((tid, self.configs[tid]))
        return [g[i : i + MAX_BATCH] for g in groups.values() for i in range(0, len(g), MAX_BATCH)]

    def _claim(self, tasks: int, limit: int) -> list[Task]:
        """Claim the trials of up to ``tasks`` tasks (at most ``limit`` trials): one trial per
        task without batching; with it, whole batches chosen among the pending trials, or
        the stale trials of a dead runner grouped the same way."""
        if tasks < 1 or limit < 1:
            return []
        db, stale = self.db, self.stale_after
        if not self.batch:
            return [[t] for t in db.claim(self.runner, min(tasks, limit), stale)]
        pending = [(t.id, t.config) for t in db.trials("pending")]
        if not pending:
            return self._group(db.claim(self.runner, min(limit, tasks * MAX_BATCH), stale))
        plan, room = [], limit
        for g in self._group(pending)[:tasks]:
            if room <= 0:
                break
            plan.append(g[:room])
            room -= len(plan[-1])
        got = dict(db.claim(self.runner, stale_after=stale, ids=[i for g in plan for i, _ in g]))
        return [t for t in ([(i, c) for i, c in g if i in got] for g in plan) if t]

    def fill(self) -> None:
        """Claim and submit tasks while the executor has room."""
        free = self.ex.capacity - len({tuple(ids) for ids in self.task_of.values()})
        limit = sys.maxsize
        if self.max_trials is not None:
            limit = self.max_trials - self.handled - len(self.inflight)
        for task in self._claim(free, limit):
            ids = [tid for tid, _ in task]
            for tid, config in task:
                self.inflight[tid], self.task_of[tid] = config, ids
            self.ex.submit_batch(ids, [c for _, c in task])
            if self.prog is not None and len(task) > 1:
                self.prog.batched([c for _, c in task])
            elif self.prog is not None and self.batch:
                self.prog.alone(unbatchable(task[0][1]))

    # -- results ----------------------------------------------------------------------------

    def on_epoch(self, tid: int, event: EpochEvent) -> None:
        if self.prog is not None and tid in self.inflight:
            self.prog.epoch(self.inflight[tid], event, len(self.task_of.get(tid, [tid])))

    def collect(self) -> None:
        """Commit every result the executor has finished (waiting up to ``poll`` seconds)."""
        for tid, result in self.ex.poll(self.poll):
            config = self.inflight.pop(tid)
            self.task_of.pop(tid, None)
            self.db.complete(tid, self.runner, result)
            self.handled += 1
            if self.prog is not None:
                self.prog.alone(((result.environment or {}).get("batch") or {}).get("why_not"))
                self.prog.trial(config, result, *self.progress_counts())
            if self.on_result is not None:
                self.on_result(tid, result)

    def more(self) -> bool:
        """Whether there is more to do once nothing is in flight: a next stage to add, or
        another runner's trials to wait for (or take over if it dies)."""
        if self.max_trials is not None and self.handled >= self.max_trials:
            return False
        nxt = next_stage(self.spec, self.db)
        if nxt is not None and self.db.add_trials(nxt[1], stage=nxt[0]):
            self.refresh_counts()
            return True
        if self.db.counts()["running"]:
            time.sleep(self.poll)
            return True
        return False

    def run(self) -> None:
        """Run until every trial is finished (or ``max_trials`` results are in); on any
        error or interrupt the trials in flight are given back."""
        try:
            self.start()
            while True:
                self.fill()
                if self.inflight:
                    self.collect()
                elif not self.more():
                    break
        except BaseException:
            if self.inflight:
                self.db.release(self.runner, list(self.inflight))
            raise


def _remove_store(path: Path) -> None:
    """Delete a store file and SQLite's companions of it."""
    for leftover in (path, *(Path(f"{path}{x}") for x in ("-wal", "-shm"))):
        leftover.unlink(missing_ok=True)


def _open_store(spec: Spec, store: str | Path | Store | None) -> tuple[Store, bool, bool]:
    """The store to run into (the spec's default path if none), whether this call opened it
    (and so closes it) and whether this call created its file."""
    if isinstance(store, Store):
        return store, False, False
    path = store or default_store_path(spec)
    new = not Path(path).exists()
    return Store(path), True, new


def _stop(beat: _Heartbeat | None, ex: Executor | None, prog: StudyProgress | None) -> None:
    """Stop the heartbeat, close the executor and the progress display (those started)."""
    if beat is not None:
        beat.stop()
    if ex is not None:
        ex.close()
    if prog is not None:
        prog.close()


def run_study(
    spec: Spec | dict | str | Path,
    store: str | Path | Store | None = None,
    *,
    executor: str = "inprocess",
    workers: int = 1,
    address: str | None = None,
    progress: bool | StudyProgress | None = True,
    stale_after: float = 120.0,
    heartbeat_every: float = 10.0,
    poll: float = 0.5,
    max_trials: int | None = None,
    on_result: Callable[[int, TrialResult], None] | None = None,
    batch: bool = True,
    retry_failed: bool = False,
) -> Path:
    """Run every trial of ``spec`` not yet finished in ``store``; returns the store's path.

    ``executor`` is ``"inprocess"`` (default), ``"pool"`` (``workers`` local processes) or
    ``"ray"`` (a cluster at ``address``, or a local Ray). ``max_trials`` stops after that many
    results (for tests and partial runs). ``batch`` (default True) runs trials that differ
    only in hyperparameters and seed as one batched computation where the optimizer and model
    allow (the output says so); False runs every trial alone. ``retry_failed`` runs the
    trials that failed in an earlier run again. A store already holding a different study
    is refused; a store this call created is removed again when an error (a problem that
    cannot be built, an unreachable cluster) stops it before any trial.
    """
    spec = load_spec(spec)
    if executor != "ray":  # a Ray cluster's workers have devices of their own
        check_device(spec.device)
    db, own_store, new = _open_store(spec, store)
    prog = StudyProgress() if progress is True else (progress or None)
    ex, beat, doomed = None, None, False
    try:
        _record_spec(db, spec)
        if retry_failed:
            db.retry_failed()
        driver = _Driver(
            spec, db, prog, stale_after=stale_after, poll=poll, max_trials=max_trials,
            on_result=on_result, batch=batch,
        )  # fmt: skip
        driver.ex = ex = make_executor(
            executor, workers=workers, address=address, on_epoch=driver.on_epoch
        )
        beat = _Heartbeat(db.path, driver.runner, heartbeat_every)
        beat.start()
        driver.run()
    except BaseException:
        doomed = new and not sum(db.counts().values())  # a store made for nothing
        raise
    finally:
        _stop(beat, ex, prog)
        path = db.path
        if own_store:
            db.close()
        if doomed:  # an error before any trial leaves no empty store behind
            _remove_store(path)
    return path
