"""Where trials run: in this process, in a local process pool, or on a Ray cluster.

An executor only runs :func:`ravine.study.trial.run_trial` on configs and hands the results
back; it never touches the store (the driver alone writes it). The interface is small::

    executor.capacity                 how many trials may be in flight at once
    executor.submit(trial_id, config) start one
    executor.poll(timeout)            -> [(trial_id, result), ...] finished since last poll
    executor.close()
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import sys
from collections.abc import Callable
from typing import Any

from .trial import run_trial

__all__ = ["EXECUTORS", "Executor", "InProcess", "ProcessPool", "RayExecutor", "make_executor"]


class Executor:
    capacity: int = 1

    def submit(self, trial_id: int, config: dict[str, Any]) -> None:  # pragma: no cover
        raise NotImplementedError

    def poll(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcess(Executor):
    """Runs trials one at a time in the calling process (the default; epoch-level progress)."""

    capacity = 1

    def __init__(self, on_epoch: Callable[[int, dict[str, Any]], None] | None = None):
        self.on_epoch = on_epoch
        self._queue: list[tuple[int, dict[str, Any]]] = []

    def submit(self, trial_id: int, config: dict[str, Any]) -> None:
        self._queue.append((trial_id, config))

    def poll(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        if not self._queue:
            return []
        tid, config = self._queue.pop(0)
        callback = None
        if self.on_epoch is not None:
            on_epoch = self.on_epoch

            def callback(event: dict[str, Any]) -> None:
                on_epoch(tid, event)

        return [(tid, run_trial(config, callback))]


def _worker_init(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


class ProcessPool(Executor):
    """A local pool of ``workers`` processes, one torch thread each by default.

    Workers are forked on Linux (as torch's DataLoader does: they start at once, with torch
    already imported) and spawned elsewhere; ``start_method`` overrides the choice."""

    def __init__(self, workers: int, threads_per_worker: int = 1, start_method: str | None = None):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.capacity = workers
        if start_method is None:
            start_method = "fork" if sys.platform.startswith("linux") else "spawn"
        self._pool = cf.ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context(start_method),
            initializer=_worker_init,
            initargs=(threads_per_worker,),
        )
        self._futures: dict[cf.Future, int] = {}

    def submit(self, trial_id: int, config: dict[str, Any]) -> None:
        self._futures[self._pool.submit(run_trial, config)] = trial_id

    def poll(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        if not self._futures:
            return []
        done, _ = cf.wait(list(self._futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        out = []
        for fut in done:
            tid = self._futures.pop(fut)
            try:
                out.append((tid, fut.result()))
            except Exception as err:  # the worker process died
                out.append((tid, _failure(err)))
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _failure(err: BaseException) -> dict[str, Any]:
    return {
        "status": "failed",
        "rows": [],
        "steps": 0,
        "error": f"{type(err).__name__}: {err}",
        "model": None,
        "environment": None,
        "wall_time": None,
    }


class RayExecutor(Executor):
    """Runs trials as Ray tasks (one CPU each by default) on the cluster at ``address``, or on
    a local Ray instance started here when there is none; uses an already initialised Ray as
    is. ``capacity`` defaults to the cluster's CPUs divided by ``num_cpus`` per trial."""

    def __init__(
        self,
        address: str | None = None,
        capacity: int | None = None,
        num_cpus: float = 1.0,
        num_gpus: float = 0.0,
    ):
        import ray

        self._ray = ray
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self._remote = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus)(_ray_trial)
        cpus = ray.cluster_resources().get("CPU", 1)
        self.capacity = capacity or max(1, int(cpus // max(num_cpus, 1e-9)))
        self._refs: dict[Any, int] = {}

    def submit(self, trial_id: int, config: dict[str, Any]) -> None:
        self._refs[self._remote.remote(config)] = trial_id

    def poll(self, timeout: float) -> list[tuple[int, dict[str, Any]]]:
        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            tid = self._refs.pop(ref)
            try:
                out.append((tid, self._ray.get(ref)))
            except Exception as err:  # the task or its worker died
                out.append((tid, _failure(err)))
        return out

    def close(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref, force=True)
        self._refs.clear()


def _ray_trial(config: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    return run_trial(config)


EXECUTORS = ("inprocess", "pool", "ray")


def make_executor(
    kind: str = "inprocess",
    *,
    workers: int = 1,
    address: str | None = None,
    on_epoch: Callable[[int, dict[str, Any]], None] | None = None,
) -> Executor:
    """An executor by name: ``inprocess``, ``pool`` (``workers`` processes) or ``ray``."""
    if kind == "inprocess":
        return InProcess(on_epoch)
    if kind == "pool":
        return ProcessPool(workers)
    if kind == "ray":
        return RayExecutor(address, capacity=workers if workers > 1 else None)
    raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")
