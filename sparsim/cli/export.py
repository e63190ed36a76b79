"""`sparsim export`: a result store as CSV or JSON."""

from __future__ import annotations

import argparse
import csv
import io
import json

from sparsim.cli.common import COMMAND_HELP
from sparsim.writers import write_atomic

EXAMPLES = """examples:
  sparsim export results.db --csv > results.csv
  sparsim export results.db --json --layers -o results.json   # with per-layer results
  sparsim export results.db --csv --sweep edge-sizing"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help=COMMAND_HELP["export"], epilog=EXAMPLES)
    p.add_argument("store", help="SQLite result store written by 'sparsim sweep'")
    fmt = p.add_mutually_exclusive_group(required=True)
    fmt.add_argument("--csv", action="store_true", help="one row per design point")
    fmt.add_argument("--json", action="store_true", help="a JSON list of design points")
    p.add_argument("--layers", action="store_true", help="JSON: include each point's full result")
    p.add_argument("--sweep", help="only the points of this sweep")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.set_defaults(func=export)


def export(args: argparse.Namespace) -> int:
    from sparsim.store import FLAT, read_results

    rows = read_results(args.store, args.sweep, with_result=args.json and args.layers)
    if args.csv:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(FLAT), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        text = buf.getvalue()
    else:
        text = json.dumps(rows, indent=1, default=str) + "\n"
    if args.output:
        write_atomic(args.output, text)
    else:
        print(text, end="")
    return 0
