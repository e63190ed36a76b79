"""`sparsim sweep`: run a design-space sweep spec into a result store."""

from __future__ import annotations

import argparse
import json
import sys

from sparsim.cli.common import COMMAND_HELP, UsageError

EXAMPLES = """examples:
  sparsim sweep sweep.yaml --store results.db                 # local worker processes
  sparsim sweep sweep.yaml --store results.db --workers 2 --json
  sparsim sweep sweep.yaml --store results.db --scheduler tcp://10.0.0.5:8786   # Dask
  sparsim export results.db --csv -o results.csv && sparsim report results.db -o report/

A rerun computes only the points the store lacks (Ctrl-C keeps what finished).
The spec's fields: name, workloads, arch, set (arch fields by dotted path),
sparsity, dataflow (arch, ws, os, is, best), objective, batch, seed."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sweep", help=COMMAND_HELP["sweep"], epilog=EXAMPLES)
    p.add_argument("spec", help="sweep spec YAML")
    p.add_argument("--store", required=True, help="SQLite result store (created if missing)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--workers", type=int, help="local worker processes (default: CPUs)")
    how.add_argument("--scheduler", help="a Dask scheduler, tcp://HOST:PORT (sparsim[cluster])")
    p.add_argument("--batch-size", type=int, help="points per task (default: automatic)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=sweep)


def sweep(args: argparse.Namespace) -> int:
    from sparsim.sweep import load_sweep, run_sweep
    from sparsim.sweep.run import SweepError, stderr_progress

    if args.workers is not None and args.workers < 1:
        raise UsageError("sparsim sweep", "--workers", args.workers, "an integer >= 1")
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError("sparsim sweep", "--batch-size", args.batch_size, "an integer >= 1")
    spec = load_sweep(args.spec)
    bars = []

    def progress(total: int):
        bars.append(stderr_progress(total, args.quiet))
        return bars[-1]

    try:
        summary = run_sweep(
            spec,
            args.store,
            workers=args.workers,
            scheduler=args.scheduler,
            batch_size=args.batch_size,
            progress=progress,
        )
    except SweepError as err:
        for bar in bars:
            bar.close()
        print(f"sparsim: sweep stopped: {err}", file=sys.stderr)
        return 1
    for bar in bars:
        bar.close()
    if args.json:
        print(json.dumps(summary.to_dict(), indent=2))
    else:
        print(
            f"sweep {summary.name}: {summary.points} points, {summary.cached} already stored, "
            f"{summary.computed} computed in {summary.seconds:.1f} s "
            f"({summary.points_per_s:.0f} points/s, {summary.workers} {summary.executor} "
            f"workers) -> {summary.store}"
        )
        if summary.stale_dropped:
            print(f"dropped {summary.stale_dropped} rows of an older model version")
    if summary.interrupted:
        print(
            f"sparsim: interrupted: {summary.cached + summary.computed} of {summary.points} "
            "points stored; rerun to resume",
            file=sys.stderr,
        )
        return 130
    return 0
