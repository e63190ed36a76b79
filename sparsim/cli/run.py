"""`sparsim run`: simulate a workload on an architecture."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from simulator.arch import ArchSpec
from simulator.load import load_arch
from simulator.results import Comparison
from sparsim import api
from sparsim.cli.common import format_table, output_dir, table_rows
from sparsim.writers import write_json
from workloads.resolve import WORKLOAD_FORMS
from workloads.specs import SPARSITY_FORMS

EXAMPLES = """examples:
  sparsim run --arch edge --workload gemm:1024x1024x1024 --sparsity nm:2:4
  sparsim run --arch edge --workload conv:56x56x64:3x3x64 --sparsity nm:1:4 --json
  sparsim run --arch my_arch.yaml --workload gemm:128x768x768 --dataflow best -o out/run1
  sparsim run --arch tpu-v1 --workload resnet50 --dataflow best --objective edp
  sparsim run --arch scalesim.cfg --workload topology.csv --json   # SCALE-Sim files as they are"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="simulate a workload on an architecture", epilog=EXAMPLES)
    p.add_argument(
        "--arch",
        default="edge",
        help="preset name ('sparsim presets'), arch YAML or SCALE-Sim .cfg",
    )
    p.add_argument("--workload", required=True, help=WORKLOAD_FORMS)
    p.add_argument(
        "--dataflow",
        choices=["ws", "os", "is", "best"],
        help="default: the arch's; best: the mapper searches dataflow, tiles, loop order",
    )
    p.add_argument(
        "--objective",
        choices=list(api.OBJECTIVES),
        default="cycles",
        help="what --dataflow best minimizes (default cycles)",
    )
    p.add_argument("--sparsity", default="dense", help=SPARSITY_FORMS)
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of random weights and pruning")
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("-o", "--output", help="directory for result.json and the resolved arch")
    p.set_defaults(func=run)


def _arch_doc(arch: ArchSpec) -> dict:
    """The fully resolved spec, written beside results so they trace to it
    (an unbounded bandwidth as the string "inf": strict JSON has no Infinity)."""

    def finite(value):
        if isinstance(value, float) and value == float("inf"):
            return "inf"
        if isinstance(value, dict):
            return {k: finite(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [finite(v) for v in value]
        return value

    return json.loads(json.dumps(finite(dataclasses.asdict(arch)), default=str))


def run(args: argparse.Namespace) -> int:
    if args.output:
        output_dir(args.output)  # a bad -o fails now, not after the run
    arch = load_arch(args.arch)
    workload = api.load_workload(args.workload, args.sparsity, batch=args.batch, seed=args.seed)
    res = api.run(workload, arch, args.dataflow, args.objective)
    doc = res.to_dict()
    if args.output:
        out = Path(args.output)
        write_json(out / "result.json", doc)
        write_json(out / "arch.resolved.json", _arch_doc(arch))
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"arch {arch.name}, workload {workload.name}, sparsity {workload.sparsity}")
    print(format_table(table_rows(workload.name, res)))
    if isinstance(res, Comparison):
        print(f"compute speedup {res.compute_speedup:.3f}x, total speedup {res.speedup:.3f}x")
    return 0
