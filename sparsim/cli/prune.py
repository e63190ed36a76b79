"""`sparsim prune`: prune a model's weights and save the workload (JSON + .npz)."""

from __future__ import annotations

import argparse
import json

from sparsim import api
from sparsim.cli.common import COMMAND_HELP, UsageError, output_json
from workloads.resolve import WORKLOAD_FORMS
from workloads.sparsity import finest_nm
from workloads.sparsity_spec import SPARSITY_FORMS
from workloads.workload import Workload

EXAMPLES = """examples:
  sparsim prune model.onnx --method nm:2:4 -o pruned.json
  sparsim prune weights.safetensors --method global:0.9 --min-density 0.02 -o pruned.json
  sparsim prune digits-cnn --method bdwp:2:4 -o cnn_bdwp.json
  sparsim prune resnet50 --method channel:0.5 --json
  sparsim run --workload pruned.json        # runs the saved masks (no --sparsity needed)

MODEL is anything --workload accepts. A model with weights gets real masks
(saved in an .npz beside the JSON); a zoo network or a SCALE-Sim topology has
shapes only, so it gets density / N:M descriptors."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("prune", help=COMMAND_HELP["prune"], epilog=EXAMPLES)
    p.add_argument("model", metavar="MODEL", help=WORKLOAD_FORMS)
    p.add_argument("--method", default="dense", help=SPARSITY_FORMS)
    p.add_argument("-o", "--output", help="workload .json to write (arrays go to a .npz beside it)")
    p.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed of random pruning and weights")
    p.add_argument(
        "--min-density",
        type=float,
        default=0.01,
        help="global:S only: fraction of each layer always kept (default 0.01)",
    )
    p.add_argument("--json", action="store_true", help="print the per-layer summary as JSON")
    p.set_defaults(func=prune)


def layer_summary(workload: Workload) -> list[dict]:
    rows = []
    for lw in workload.layers:
        g = lw.gemm
        nm = finest_nm(lw.mask) if lw.mask is not None else lw.pattern
        rows.append(
            {
                "name": lw.name,
                "type": type(lw.layer).__name__,
                "gemm": {"groups": lw.groups, "m": g.m, "n": g.n, "k": g.k},
                "macs": lw.macs,
                "weight_density": lw.weight_density,
                "nm": str(nm) if nm else None,
                "real_mask": lw.mask is not None,
                "activation_density": lw.activation_density,
            }
        )
    return rows


def prune(args: argparse.Namespace) -> int:
    if not 0.0 <= args.min_density <= 1.0:
        raise UsageError("--min-density", "min_density", args.min_density, "0 <= D <= 1")
    if args.output:
        output_json(args.output)  # a bad -o fails now, not after pruning
    workload = api.prune(
        args.model, args.method, batch=args.batch, seed=args.seed, min_density=args.min_density
    )
    rows = layer_summary(workload)
    written = api.save_workload(workload, args.output) if args.output else []
    if args.json:
        print(
            json.dumps(
                {"workload": workload.name, "sparsity": workload.sparsity, "layers": rows}, indent=2
            )
        )
        return 0
    print(f"{workload.name}: {len(rows)} layers, sparsity {workload.sparsity}")
    head = f"{'layer':<32} {'type':<15} {'G x M x N x K':>26} {'density':>8} {'N:M':>6} {'act':>6}"
    print(head)
    print("-" * len(head))
    for r in rows:
        g = r["gemm"]
        shape = f"{g['groups']}x{g['m']}x{g['n']}x{g['k']}"
        kind = r["type"] + ("" if r["real_mask"] else "*")
        print(
            f"{r['name'][:32]:<32} {kind:<15} {shape:>26} {r['weight_density']:>8.3f} "
            f"{r['nm'] or '-':>6} {r['activation_density']:>6.3f}"
        )
    if not all(r["real_mask"] for r in rows):
        print("* shapes only: density and N:M are descriptors, not a real mask")
    for path in written:
        print(f"wrote {path}")
    return 0
