"""`sparsim demo`: the main job on built-in defaults (what `make demo` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.load import load_arch
from simulator.results import Comparison
from simulator.simulate import compare_to_dense
from sparsim.cli.common import COMMAND_HELP, format_table, non_negative_int, output_dir, table_rows
from sparsim.writers import json_bytes, write_set
from workloads.specs import build_workload, parse_shape, parse_sparsity

DEMO_LAYERS = ("gemm:256x512x768", "conv:56x56x64:3x3x64")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help=COMMAND_HELP["demo"],
        epilog="examples:\n  sparsim demo -o out/demo",
    )
    p.add_argument("-o", "--output", default="out/demo", help="directory for demo.json, demo.png")
    p.add_argument(
        "--seed", type=non_negative_int, default=0, help="seed of the random int8 weights"
    )
    p.set_defaults(func=demo)


def demo(args: argparse.Namespace) -> int:
    from sparsim.plots import comparison_png  # matplotlib only when plotting

    output_dir(args.output)  # a bad -o fails now, not after the runs
    arch = load_arch("edge")
    spec = parse_sparsity("nm:2:4")
    comps: dict[str, Comparison] = {}
    rows = []
    for i, text in enumerate(DEMO_LAYERS):
        wl = build_workload([parse_shape(text)], spec, seed=args.seed + i)
        comps[text] = compare_to_dense(wl, arch)
        rows += table_rows(text, comps[text])
    print(f"sparsim demo: random int8 weights (seed {args.seed}) pruned to 2:4 by magnitude,")
    print(f"on '{arch.name}': {arch.description}\n")
    print(format_table(rows))
    for text, comp in comps.items():
        print(
            f"{text}: compute speedup {comp.compute_speedup:.3f}x, total {comp.speedup:.3f}x, "
            f"energy saving {comp.energy_saving:.3f}x"
        )
    out = Path(args.output)
    doc = {"arch": arch.name, "runs": {text: c.to_dict() for text, c in comps.items()}}
    json_path, png_path = write_set(
        out, {"demo.json": json_bytes(doc), "demo.png": comparison_png(comps)}
    )
    print(f"\nwrote {json_path} and {png_path}")
    return 0
