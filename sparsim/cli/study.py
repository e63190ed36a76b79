"""`sparsim study`: the co-design study (pruned digits nets x presets), one command."""

from __future__ import annotations

import argparse
import sys

from sparsim.cli.common import COMMAND_HELP, UsageError

EXAMPLES = """examples:
  sparsim study -o out/study            # every method, every preset (about a minute)
  sparsim study -o out/study --fast     # 5 methods, 2 presets, short training
  sparsim study -o out/study --presets edge,vegeta,a100-sparse --workers 2

Writes results.db (a sweep store like any other), study.yaml (the sweep spec),
workloads/ (the pruned, fine-tuned nets), study.md, study.png|svg, report/index.html."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help=COMMAND_HELP["study"],
        epilog=EXAMPLES,
    )
    p.add_argument("-o", "--output", default="out/study", help="directory (default out/study)")
    p.add_argument("--fast", action="store_true", help="fewer methods, presets and epochs")
    p.add_argument("--methods", help="comma-separated pruning specs (default: the full list)")
    p.add_argument("--presets", help="comma-separated presets (default: all)")
    p.add_argument("--seed", type=int, default=0, help="training and pruning seed")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--workers", type=int, help="local worker processes")
    how.add_argument("--scheduler", help="a Dask scheduler, tcp://HOST:PORT")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=study)


def study(args: argparse.Namespace) -> int:
    from simulator.arch import preset_names
    from sparsim.study import FAST_METHODS, METHODS, run_study
    from sparsim.sweep.run import stderr_progress
    from workloads.sparsity_spec import parse_sparsity

    methods = tuple(m.strip() for m in args.methods.split(",")) if args.methods else None
    for m in methods or ():
        if m != "dense" and not m.startswith("gradual:"):
            parse_sparsity(m, "--methods")
        elif m.startswith("gradual:"):
            parse_sparsity("magnitude:" + m.split(":", 1)[1], "--methods")
    if methods and "dense" not in methods:
        methods = ("dense", *methods)  # the baseline of every speedup
    presets = tuple(p.strip() for p in args.presets.split(",")) if args.presets else None
    for p in presets or ():
        if p not in preset_names():
            raise UsageError("--presets", "preset", p, ", ".join(preset_names()))
    bars = []

    def progress(total: int):
        bars.append(stderr_progress(total, args.quiet))
        return bars[-1]

    result = run_study(
        args.output,
        methods=methods or (FAST_METHODS if args.fast else METHODS),
        presets=presets,
        seed=args.seed,
        fast=args.fast,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=progress,
    )
    for bar in bars:
        bar.close()
    print(result.table)
    print(f"\nwrote {result.figure}, {result.report}", file=sys.stderr)
    return 0
