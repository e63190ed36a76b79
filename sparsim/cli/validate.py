"""`sparsim validate`: run the validation cases and write docs/validation.md."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

from sparsim.cli.common import COMMAND_HELP, UsageError
from sparsim.writers import write_atomic
from workloads.inputs import is_regular_file

EXAMPLES = """examples:
  sparsim validate                       all cases -> docs/validation.md
  sparsim validate --fast -o out/v.md    the fast subset (what make test runs)
  sparsim validate --timeloop DIR        Timeloop case folders from DIR"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help=COMMAND_HELP["validate"],
        epilog=EXAMPLES,
    )
    p.add_argument("--fast", action="store_true", help="only the fast cases")
    p.add_argument("--only", help="only anchor cases whose id contains this text")
    p.add_argument(
        "--timeloop",
        type=Path,
        help="folder of Timeloop case folders (default ../shared/validation/timeloop)",
    )
    p.add_argument(
        "--anchors", type=Path, help="a YAML of anchor cases (default: the packaged anchors.yaml)"
    )
    p.add_argument(
        "-o", "--output", type=Path, default=Path("docs/validation.md"), help="the report"
    )
    p.add_argument(
        "--strict", action="store_true", help="exit 3 when a held check fails (no known gap)"
    )
    p.set_defaults(func=validate)


def _revision() -> str:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
        )
        return out.stdout.strip()
    except OSError:
        return ""


def validate(args: argparse.Namespace) -> int:
    from sparsim.validate import run
    from sparsim.validate.report import render, summary

    if args.anchors is not None and not is_regular_file(args.anchors):
        raise UsageError(
            "sparsim validate", "--anchors", str(args.anchors), "an existing YAML file"
        )
    report = run(fast=args.fast, root=args.timeloop, only=args.only, anchors=args.anchors)
    write_atomic(args.output, render(report, _revision()))
    for c in report.anchors:
        err = "n/a" if c.error is None else f"{c.error:+.1%}"
        mark = "pass" if c.passed else ("FAIL (known gap)" if c.known_gap else "FAIL")
        got = "n/a" if c.sparsim is None else f"{c.sparsim:.4g}"
        print(
            f"{c.case:<32} {c.quantity:<12} ref {c.reference:<10g} "
            f"sparsim {got:<11} {err:>8} {mark}"
        )
    s = summary(report)
    print(
        f"timeloop: {s['timeloop_cases']} cases, {s['timeloop_held_passed']}/{s['timeloop_held']} "
        f"held comparisons pass ({s['timeloop_all_within']}/{s['timeloop_comparisons']} within)"
    )
    print(f"wrote {args.output}")
    failed = [c for c in report.anchors if not c.passed and not c.known_gap] + [
        c for o in report.timeloop for c in o.comparisons if c.held and not c.passed
    ]
    return 3 if args.strict and failed else 0
