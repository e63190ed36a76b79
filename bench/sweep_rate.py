#!/usr/bin/env python3
"""Sweep throughput: design points per second on 1 and 2 local worker processes
and on 2 Dask workers (a LocalCluster of 2 single-thread worker processes on
loopback TCP), side by side in one run.

The sweep: single-layer points (small GEMMs and a conv) on `edge` with the PE
array's rows and cols and the GLB capacity swept, dense / 2:4 / 1:4, WS / OS /
IS: a fresh store each time, so every point is computed. Each configuration
runs in its own fresh Python process (no simulator cache carried over from
another configuration); repeats are interleaved and the median is reported.
"model alone" simulates the same points in a plain loop in one process (no
store, no workers): the ceiling the sweep machinery is measured against.
Times are those of `run_sweep` (store writes, batching and the workers'
start-up included; the Dask cluster is started, and its workers import
sparsim, before the clock: a cluster serves many sweeps; its workers run
without Dask's statistical profiler, as a throughput deployment would).

    .venv/bin/python bench/sweep_rate.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SPEC = """
name: sweep-rate
workloads: [gemm:16x64x64, gemm:32x128x64, conv:8x8x16:3x3x16]
arch: [edge]
set:
  pe_array.rows: [4, 8, 16, 32]
  pe_array.cols: [4, 8, 16, 32]
  memory.glb.capacity_kib: [64, 128, 256]
sparsity: [dense, nm:2:4, nm:1:4]
dataflow: [ws, os, is]
"""
CONFIGS = (("model", 1), ("local", 1), ("local", 2), ("dask", 2))


# A throughput deployment of Dask workers: no statistical profiler (it samples every
# thread every 10 ms, holding the GIL) and slower housekeeping ticks. For `dask worker`
# the same comes from DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False etc.
DASK_CONFIG = {
    "distributed.worker.profile.enabled": False,
    "distributed.admin.tick.interval": "500ms",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.worker.memory.monitor-interval": "2s",
}


def cpu_seconds() -> float:
    """CPU time of this process, its reaped children (local pool workers) and its
    live descendants (Dask worker processes)."""
    import psutil  # comes with dask.distributed

    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    for proc in psutil.Process().children(recursive=True):
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def child(mode: str, workers: int) -> dict:
    """One measurement, in this (fresh) process."""
    import logging

    from sparsim.sweep import load_sweep, model_version, run_sweep
    from sparsim.sweep.evaluate import evaluate

    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "sweep.yaml"
        spec.write_text(SPEC)
        sweep = load_sweep(spec)
        store = Path(tmp) / "r.db"
        if mode == "model":  # the points simulated in a plain loop: no store, no workers
            model = model_version()
            cpu, start = cpu_seconds(), time.perf_counter()
            for point in sweep.points:
                evaluate(point, "", model)
            wall = time.perf_counter() - start
            return {"points": len(sweep.points), "seconds": wall, "cpu": cpu_seconds() - cpu}
        if mode == "local":
            cpu = cpu_seconds()
            summary = run_sweep(sweep, store, workers=workers)
            return {**summary.to_dict(), "cpu": cpu_seconds() - cpu}
        import dask
        from dask.distributed import Client, LocalCluster

        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        with (
            dask.config.set(DASK_CONFIG),
            LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                protocol="tcp",
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster,
        ):
            # a Dask cluster serves sweep after sweep: its workers have sparsim
            # imported (local processes are forked from a client that has)
            with Client(cluster) as client:
                client.run(importlib.import_module, "sparsim.sweep.evaluate")
            cpu = cpu_seconds()
            summary = run_sweep(sweep, store, scheduler=cluster.scheduler_address)
            return {**summary.to_dict(), "cpu": cpu_seconds() - cpu}


def measure(mode: str, workers: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(workers)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "WORKERS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return 0
    runs: dict[tuple[str, int], list[dict]] = {c: [] for c in CONFIGS}
    for _ in range(args.repeat):
        for config in CONFIGS:
            runs[config].append(measure(*config))
    cpus = len(os.sched_getaffinity(0))
    points = runs[CONFIGS[0]][0]["points"]
    print(f"sweep-rate: {points} single-layer design points per run, {args.repeat} runs each")
    print(f"(medians; {cpus} CPUs visible; CPU s = all processes of the run: client,")
    print("scheduler, workers; points per CPU-second is the per-core rate)\n")
    print(
        f"{'executor':<26} {'wall s':>7} {'points/s':>9} {'vs 1 proc':>9} "
        f"{'CPU s':>7} {'points/CPU-s':>12}"
    )
    wall = {c: statistics.median(r["seconds"] for r in runs[c]) for c in CONFIGS}
    cpu = {c: statistics.median(r["cpu"] for r in runs[c]) for c in CONFIGS}
    rate = {c: points / wall[c] for c in CONFIGS}
    for config in CONFIGS:
        label = f"{config[0]}, {config[1]} worker{'s' if config[1] > 1 else ''}"
        if config[0] == "model":
            label = "model alone, in-process"
        print(
            f"{label:<26} {wall[config]:>7.2f} {rate[config]:>9.0f} "
            f"{rate[config] / rate[('local', 1)]:>8.2f}x {cpu[config]:>7.2f} "
            f"{points / cpu[config]:>12.0f}"
        )
    local2, dask2 = ("local", 2), ("dask", 2)
    print(
        f"\nDask vs local processes at 2 workers: {wall[dask2] / wall[local2] - 1:+.1%} wall time, "
        f"{cpu[dask2] / cpu[local2] - 1:+.1%} CPU time (budget: +15%)"
    )
    print(
        f"sweep machinery (store, batches, a worker) vs the model alone: "
        f"{cpu[('local', 1)] / cpu[('model', 1)] - 1:+.1%} CPU time"
    )
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f} on {cpus} CPUs (other work shares them)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
