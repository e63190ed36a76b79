"""`sparsim report`: a result store as one self-contained HTML page with figures."""

from __future__ import annotations

import argparse

from sparsim.cli.common import COMMAND_HELP, UsageError

EXAMPLES = """examples:
  sparsim report results.db -o report/          # report/index.html + report/figures/*.png|svg
  sparsim report results.db -o report/ --sweep edge-sizing --metric edp \\
      --axes pe_array.rows,memory.glb.capacity_kib"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help=COMMAND_HELP["report"], epilog=EXAMPLES)
    p.add_argument("store", help="SQLite result store written by 'sparsim sweep'")
    p.add_argument("-o", "--output", default="report", help="directory (default: report/)")
    p.add_argument("--sweep", help="only the points of this sweep")
    p.add_argument("--metric", help="heat map metric: a store column (default speedup or cycles)")
    p.add_argument("--axes", help="heat map axes X,Y: columns or set: fields (default: first two)")
    p.set_defaults(func=report)


def report(args: argparse.Namespace) -> int:
    from sparsim.report import build_report

    axes = None
    if args.axes:
        axes = tuple(a.strip() for a in args.axes.split(","))
        if len(axes) != 2 or not all(axes):
            raise UsageError("sparsim report", "--axes", args.axes, "two axes X,Y")
    path = build_report(args.store, args.output, sweep=args.sweep, metric=args.metric, axes=axes)
    print(f"wrote {path}")
    return 0
