"""Running a sweep: the points the store lacks, in batches, on local worker
processes (default) or a Dask distributed cluster; the client alone writes
the store, one transaction per finished batch.

Interrupting (Ctrl-C) cancels what has not started, stops the workers and
keeps every batch already committed; a rerun computes only the rest. A
worker that dies (SIGKILL, out of memory) stops a local sweep the same way,
with what finished kept (Dask reschedules a lost worker's batches itself).
"""

from __future__ import annotations

import json
import math
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sparsim import api
from sparsim.store import Store
from sparsim.sweep.evaluate import evaluate, model_version
from sparsim.sweep.spec import DesignPoint, Sweep
from workloads.errors import InputError


class PointError(Exception):
    """A point failed on a worker (picklable: one message, and whether it was bad input)."""

    def __init__(self, message: str, bad_input: bool = False) -> None:
        super().__init__(message, bad_input)
        self.message, self.bad_input = message, bad_input

    def __str__(self) -> str:
        return self.message


class SweepError(RuntimeError):
    """The sweep could not finish (a worker died, a point failed); finished batches are kept."""


def run_batch(batch: list[tuple[DesignPoint, str]], model: str) -> list[dict]:
    """What a worker runs: one batch of (point, key) -> rows."""
    rows = []
    for point, key in batch:
        try:
            rows.append(evaluate(point, key, model))
        except Exception as err:
            bad = isinstance(err, InputError)
            raise PointError(f"{point.describe()}: {type(err).__name__}: {err}", bad) from None
    return rows


@dataclass(frozen=True, slots=True)
class SweepSummary:
    name: str
    store: str
    points: int
    cached: int  # already in the store
    computed: int  # computed and stored by this run
    stale_dropped: int  # rows of an older model version deleted
    seconds: float
    workers: int
    executor: str
    interrupted: bool = False

    @property
    def points_per_s(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        return {
            "sweep": self.name,
            "store": self.store,
            "points": self.points,
            "cached": self.cached,
            "computed": self.computed,
            "stale_dropped": self.stale_dropped,
            "seconds": round(self.seconds, 3),
            "points_per_s": round(self.points_per_s, 1),
            "workers": self.workers,
            "executor": self.executor,
            "interrupted": self.interrupted,
        }


class ProgressBar:
    """`[#####.....] 120/400 30% 812 pts/s ETA 0:00:03` on one line of a terminal."""

    def __init__(self, out: TextIO, total: int, enabled: bool, width: int = 28) -> None:
        self.out, self.total, self.enabled, self.width = out, total, enabled, width
        self.start = time.perf_counter()
        self._last = 0.0

    def __call__(self, done: int) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self._last < 0.1 and done < self.total):
            return
        self._last = now
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else math.inf
        fill = int(self.width * done / self.total) if self.total else self.width
        eta_text = time.strftime("%H:%M:%S", time.gmtime(eta)) if eta < math.inf else "--:--:--"
        pct = done / self.total if self.total else 1.0
        self.out.write(
            f"\r[{'#' * fill}{'.' * (self.width - fill)}] {done}/{self.total} "
            f"{pct:4.0%} {rate:7.1f} pts/s ETA {eta_text}"
        )
        self.out.flush()

    def close(self) -> None:
        if self.enabled:
            self.out.write("\n")
            self.out.flush()


def _ignore_sigint() -> None:
    # Ctrl-C goes to the whole process group: the client handles it and stops the workers
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalExecutor:
    """Worker processes on this machine (concurrent.futures)."""

    name = "local"

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint)

    def submit(self, fn: Callable, *args):
        return self.pool.submit(fn, *args)

    def wait_any(self, futures: set) -> tuple[set, set]:
        done, pending = wait(futures, return_when=FIRST_COMPLETED)
        return set(done), set(pending)

    def close(self, cancel: bool = False) -> None:
        if cancel:
            # stop the running batches too (their points are recomputed on a rerun):
            # the executor has no public way to, so terminate its worker processes
            processes = list((getattr(self.pool, "_processes", None) or {}).values())
            self.pool.shutdown(wait=False, cancel_futures=True)
            for proc in processes:
                proc.terminate()
            for proc in processes:
                proc.join(timeout=5)
        else:
            self.pool.shutdown(wait=True)


class DaskExecutor:
    """A Dask distributed cluster at `address` (tcp://HOST:PORT); needs sparsim[cluster]."""

    name = "dask"

    def __init__(self, address: str) -> None:
        try:
            from dask.distributed import Client
        except ImportError:
            raise InputError(
                "--scheduler", "scheduler", address, "dask.distributed installed: sparsim[cluster]"
            ) from None
        try:
            self.client = Client(address, timeout="10s")
        except OSError as err:
            raise InputError(
                "--scheduler", "scheduler", address, f"a reachable Dask scheduler ({err})"
            ) from None
        self.workers = max(1, sum(w["nthreads"] for w in self._workers().values()))

    def _workers(self) -> dict:
        return self.client.scheduler_info().get("workers", {})

    def submit(self, fn: Callable, *args):
        return self.client.submit(fn, *args, pure=False)

    def wait_any(self, futures: set) -> tuple[set, set]:
        from dask.distributed import wait as dask_wait

        done, pending = dask_wait(list(futures), return_when="FIRST_COMPLETED")
        return set(done), set(pending)

    def close(self, cancel: bool = False) -> None:
        self.client.close()


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _batches(todo: list, size: int) -> Iterator[list]:
    for i in range(0, len(todo), size):
        yield todo[i : i + size]


def _locality(p: DesignPoint) -> tuple:
    overrides = json.dumps(p.overrides, default=str)
    return (p.workload.source, p.batch, p.seed, p.arch_base, overrides, p.dataflow, p.objective)


def check_workloads(sweep: Sweep) -> None:
    """Load each workload once (dense) in the client, so a bad one is bad input (exit 2)
    before anything runs, not a failure on a worker."""
    for source in dict.fromkeys(p.workload.source for p in sweep.points):
        api.load_workload(source, "dense", seed=sweep.points[0].seed)


def run_sweep(
    sweep: Sweep,
    store_path: str | Path,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    batch_size: int | None = None,
    progress: Callable[[int], Callable[[int], None]] | None = None,
) -> SweepSummary:
    """Compute the points of `sweep` the store lacks; returns what happened.

    `progress(total)` makes the callback told the count of points stored so far."""
    model = model_version()
    keyed = [(p, p.key(model)) for p in sweep.points]
    start = time.perf_counter()
    check_workloads(sweep)  # bad input is exit 2 before the store is opened or created
    with Store(store_path) as store:
        dropped = store.purge_stale(model)
        done_keys = store.keys()
        store.record_sweep(
            sweep.name,
            {"source": sweep.source, "axes": sweep.axes, "points": len(keyed)},
            [k for _, k in keyed],
            done_keys,
        )
        todo = [(p, k) for p, k in keyed if k not in done_keys]
        # the points of one workload and arch side by side: a batch reuses the worker's
        # loaded workload and the dense baseline every sparsity of that arch compares to
        todo.sort(key=lambda pk: _locality(pk[0]))
        cached = len(keyed) - len(todo)
        executor = None
        computed, n_workers, interrupted = 0, 0, False
        if todo:
            executor = (
                DaskExecutor(scheduler)
                if scheduler
                else LocalExecutor(workers or default_workers())
            )
            n_workers = executor.workers
            tick = progress(len(todo)) if progress else None
            size = batch_size or max(1, min(64, math.ceil(len(todo) / (executor.workers * 8))))
            pending_batches = _batches(todo, size)
            in_flight: set = set()
            limit = executor.workers * 4
            try:
                while True:
                    while len(in_flight) < limit:
                        batch = next(pending_batches, None)
                        if batch is None:
                            break
                        in_flight.add(executor.submit(run_batch, batch, model))
                    if not in_flight:
                        break
                    finished, in_flight = executor.wait_any(in_flight)
                    for fut in finished:
                        rows = _result(fut)
                        store.add(sweep.name, rows)
                        computed += len(rows)
                        if tick:
                            tick(computed)
            except KeyboardInterrupt:
                interrupted = True
                executor.close(cancel=True)
                executor = None
            except BrokenProcessPool:  # seen by submit() before any result reports it
                executor.close(cancel=True)
                executor = None
                raise SweepError(WORKER_DIED) from None
            except BaseException:
                executor.close(cancel=True)
                executor = None
                raise
            finally:
                if executor is not None:
                    executor.close()
    return SweepSummary(
        sweep.name,
        str(store_path),
        len(keyed),
        cached,
        computed,
        dropped,
        time.perf_counter() - start,
        n_workers,
        "dask" if scheduler else "local",
        interrupted,
    )


WORKER_DIED = "a worker process died; finished points are stored, rerun to resume"


def _result(fut) -> list[dict]:
    try:
        return fut.result()
    except PointError as err:
        if err.bad_input:
            raise InputError(
                "sweep", "point", err.message, "a point the workload accepts"
            ) from None
        raise SweepError(f"point failed: {err.message}") from None
    except BrokenProcessPool:
        raise SweepError(WORKER_DIED) from None


def stderr_progress(total: int, quiet: bool) -> ProgressBar:
    return ProgressBar(sys.stderr, total, enabled=sys.stderr.isatty() and not quiet)


__all__ = [
    "DaskExecutor",
    "LocalExecutor",
    "PointError",
    "ProgressBar",
    "SweepError",
    "SweepSummary",
    "run_batch",
    "run_sweep",
]
