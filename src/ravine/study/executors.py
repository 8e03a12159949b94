"""Where trials run: in this process, in a local process pool, or on a Ray cluster.

An executor only runs :func:`ravine.study.batched.run_batch` (which runs
:func:`ravine.study.trial.run_trial` on each config, or the trials of a batch as one
computation) and hands the results back; it never touches the store (the driver alone
writes it). A task is one trial or one batch of trials; the interface is small::

    executor.capacity                        how many tasks may be in flight at once
    executor.submit(trial_id, config)        start one trial
    executor.submit_batch(trial_ids, configs) start a batch of trials as one task
    executor.poll(timeout)                   -> [(trial_id, result), ...] finished since last
    executor.close()
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import sys
from collections.abc import Callable
from typing import Any

from .batched import run_batch
from .records import EpochEvent, TrialConfig, TrialResult

__all__ = ["EXECUTORS", "Executor", "InProcess", "ProcessPool", "RayExecutor", "make_executor"]


class Executor:
    capacity: int = 1

    def submit(self, trial_id: int, config: TrialConfig) -> None:
        """Start one trial."""
        self.submit_batch([trial_id], [config])

    def submit_batch(
        self, trial_ids: list[int], configs: list[TrialConfig]
    ) -> None:  # pragma: no cover
        """Start the trials ``configs`` (ids ``trial_ids``) as one task."""
        raise NotImplementedError

    def poll(self, timeout: float) -> list[tuple[int, TrialResult]]:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        pass


class InProcess(Executor):
    """Runs tasks one at a time in the calling process (the default; epoch-level progress)."""

    capacity = 1

    def __init__(self, on_epoch: Callable[[int, EpochEvent], None] | None = None):
        self.on_epoch = on_epoch
        self._queue: list[tuple[list[int], list[TrialResult]]] = []

    def submit_batch(self, trial_ids: list[int], configs: list[TrialConfig]) -> None:
        self._queue.append((list(trial_ids), list(configs)))

    def poll(self, timeout: float) -> list[tuple[int, TrialResult]]:
        if not self._queue:
            return []
        ids, configs = self._queue.pop(0)
        callback = None
        if self.on_epoch is not None:
            on_epoch, first = self.on_epoch, ids[0]

            def callback(event: EpochEvent) -> None:
                on_epoch(first, event)

        return list(zip(ids, run_batch(configs, callback), strict=True))


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
        self._futures: dict[cf.Future, list[int]] = {}

    def submit_batch(self, trial_ids: list[int], configs: list[TrialConfig]) -> None:
        self._futures[self._pool.submit(run_batch, list(configs))] = list(trial_ids)

    def poll(self, timeout: float) -> list[tuple[int, TrialResult]]:
        if not self._futures:
            return []
        done, _ = cf.wait(list(self._futures), timeout=timeout, return_when=cf.FIRST_COMPLETED)
        out = []
        for fut in done:
            out += _pairs(self._futures.pop(fut), fut.result)
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _pairs(ids: list[int], get: Callable[[], list[TrialResult]]) -> list[tuple[int, TrialResult]]:
    """(trial id, result) for each trial of a finished task; every trial failed if the task
    itself died (its worker process or Ray task)."""
    try:
        return list(zip(ids, get(), strict=True))
    except Exception as err:
        return [(tid, TrialResult.failed(err)) for tid in ids]


class RayExecutor(Executor):
    """Runs tasks (a trial, or a batch of trials shipped as one task) as Ray tasks (one CPU
    each by default) on the cluster at ``address``, or on a local Ray instance started here
    when there is none; uses an already initialised Ray as is. ``capacity`` defaults to the
    cluster's CPUs divided by ``num_cpus`` per task."""

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
            try:
                ray.init(address=address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise ValueError(
                    f"--executor ray --address {address}: no Ray cluster could be reached "
                    f"({str(err).splitlines()[0] if str(err) else type(err).__name__}). Start "
                    "one with `ray start --head`, give its address, or leave out --address "
                    "to run trials on a Ray instance started here."
                ) from None
        self._remote = ray.remote(num_cpus=num_cpus, num_gpus=num_gpus)(_ray_batch)
        cpus = ray.cluster_resources().get("CPU", 1)
        self.capacity = capacity or max(1, int(cpus // max(num_cpus, 1e-9)))
        self._refs: dict[Any, list[int]] = {}

    def submit_batch(self, trial_ids: list[int], configs: list[TrialConfig]) -> None:
        self._refs[self._remote.remote(list(configs))] = list(trial_ids)

    def poll(self, timeout: float) -> list[tuple[int, TrialResult]]:
        if not self._refs:
            return []
        ready, _ = self._ray.wait(list(self._refs), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            out += _pairs(self._refs.pop(ref), lambda ref=ref: self._ray.get(ref))
        return out

    def close(self) -> None:
        for ref in self._refs:
            self._ray.cancel(ref, force=True)
        self._refs.clear()


def _ray_batch(configs: list[TrialConfig]) -> list[TrialResult]:
    import torch

    torch.set_num_threads(1)
    return run_batch(configs)


EXECUTORS = ("inprocess", "pool", "ray")


def make_executor(
    kind: str = "inprocess",
    *,
    workers: int = 1,
    address: str | None = None,
    on_epoch: Callable[[int, EpochEvent], None] | None = None,
) -> Executor:
    """An executor by name: ``inprocess``, ``pool`` (``workers`` processes) or ``ray``."""
    if kind == "inprocess":
        return InProcess(on_epoch)
    if kind == "pool":
        return ProcessPool(workers)
    if kind == "ray":
        return RayExecutor(address, capacity=workers if workers > 1 else None)
    raise ValueError(f"executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")
