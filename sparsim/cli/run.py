"""`sparsim run`: simulate a workload on an architecture."""

from __future__ import annotations

import argparse
import dataclasses
import json
import re
import sys
from pathlib import Path

from simulator.arch import ArchSpec
from simulator.load import load_arch
from simulator.results import WorkloadResult
from sparsim import api
from sparsim.cli import common
from sparsim.cli.common import UsageError, format_table, output_dir, table_rows
from sparsim.writers import json_bytes, write_atomic, write_set
from workloads.resolve import WORKLOAD_FORMS
from workloads.specs import SPARSITY_FORMS

EXAMPLES = """examples:
  sparsim run --arch edge --workload gemm:1024x1024x1024 --sparsity nm:2:4
  sparsim run --arch edge --workload conv:56x56x64:3x3x64 --sparsity nm:1:4 --json
  sparsim run --arch my_arch.yaml --workload gemm:128x768x768 --dataflow best -o out/run1 --plot
  sparsim run --arch tpu-v1 --workload resnet50 --dataflow best --objective edp --compare best
  sparsim run --arch edge --workload resnet50 --sparsity nm:2:4 --layers --csv layers.csv
  sparsim run --arch edge --workload weights.safetensors --input-shape 224x224 --sparsity nm:2:4
  sparsim run --arch scalesim.cfg --workload topology.csv --json   # SCALE-Sim files as they are

A layer whose sparsity the array cannot use (a pattern it does not support,
unstructured sparsity on an N:M array, a dense-only array) runs in a
supported mode; the table says so (fallback: ...), and the JSON gives each
such layer a `fallback` {mode, reason}."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help=common.COMMAND_HELP["run"], epilog=EXAMPLES)
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
        help="what the mapper (--dataflow best, --compare best) minimizes (default cycles)",
    )
    p.add_argument(
        "--compare",
        choices=list(api.COMPARES),
        default="same",
        help="dense baseline on the sparse run's mapping (same, default) or each at its "
        "own best mapping (best; the same-mapping figures are reported too)",
    )
    p.add_argument(
        "--io-on-chip",
        action="store_true",
        help="the workload's own inputs and outputs stay in the on-chip activation buffer, "
        "as for layers inside a larger network",
    )
    p.add_argument("--sparsity", default="dense", help=SPARSITY_FORMS)
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of random weights and pruning")
    p.add_argument(
        "--input-shape",
        metavar="HxW",
        help="ifmap of a state dict's convs, HxW or CxHxW (a state dict has no activations)",
    )
    p.add_argument(
        "--inputs",
        metavar="FILE.npz",
        help="sample inputs of an ONNX / PyTorch model, to measure activation density",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    p.add_argument("--layers", action="store_true", help="also print one row per layer")
    p.add_argument("--csv", metavar="FILE", help="write the per-layer table as CSV")
    p.add_argument(
        "-o", "--output", help="directory for result.json and arch.resolved.json (one set)"
    )
    p.add_argument("--plot", action="store_true", help="with -o: also result.png (matplotlib)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def _input_shape(text: str | None) -> tuple[int, ...] | None:
    """`HxW`, `CxHxW` or `H` (square) as a tuple; the resolver checks the ranges."""
    if text is None:
        return None
    m = re.fullmatch(r"[0-9]{1,7}(?:x[0-9]{1,7}){0,2}", text.strip())
    if not m:
        raise UsageError("--input-shape", "input_shape", text, "HxW, CxHxW or H (square)")
    dims = tuple(int(v) for v in text.strip().split("x"))
    return dims * 2 if len(dims) == 1 else dims


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
    if args.plot and not args.output:
        raise UsageError("--plot", "plot", True, "with -o DIR (the plot joins result.json there)")
    if args.output:
        output_dir(args.output)  # a bad -o fails now, not after the run
    arch = load_arch(args.arch)
    workload = api.load_workload(
        args.workload,
        args.sparsity,
        batch=args.batch,
        seed=args.seed,
        input_shape=_input_shape(args.input_shape),
        inputs=args.inputs,
    )
    bar = common.ProgressBar(sys.stderr, common.progress_enabled(args.quiet), delay_s=1.0)
    try:
        res = api.run(
            workload, arch, args.dataflow, args.objective, bar, compare=args.compare,
            io_on_chip=args.io_on_chip,
        )  # fmt: skip
    finally:
        bar.close()
    doc = res.to_dict()
    records = common.layer_records(res)
    if args.output:
        files = {"result.json": json_bytes(doc), "arch.resolved.json": json_bytes(_arch_doc(arch))}
        if args.plot:
            from sparsim.plots import comparison_png, result_png  # matplotlib only to plot

            files["result.png"] = (
                result_png({workload.name: res})
                if isinstance(res, WorkloadResult)
                else comparison_png({workload.name: res})
            )
        write_set(Path(args.output), files)
    if args.csv:
        write_atomic(Path(args.csv), common.layers_csv(records))
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    print(f"arch {arch.name}, workload {workload.name}, sparsity {workload.sparsity}")
    print(format_table(table_rows(workload.name, res)))
    sparse = res if isinstance(res, WorkloadResult) else res.sparse
    for line in common.fallback_lines(sparse):
        print(line)
    if not isinstance(res, WorkloadResult):
        print(
            f"compute speedup {res.compute_speedup:.3f}x, total speedup {res.speedup:.3f}x, "
            f"energy saving {res.energy_saving:.3f}x"
            + (" (each at its own best mapping)" if isinstance(res, api.BestComparison) else "")
        )
        if isinstance(res, api.BestComparison):
            same = res.same
            print(
                f"on the sparse run's mappings: compute speedup {same.compute_speedup:.3f}x, "
                f"total speedup {same.speedup:.3f}x, energy saving {same.energy_saving:.3f}x"
            )
    if args.layers:
        print()
        print(common.format_layers(records))
    return 0
