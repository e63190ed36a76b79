"""The `sparsim` command line (sits on top of the model; nothing imports it).

Exit codes: 0 success; 2 bad input (spec, workload, argument) with a message
naming the file or argument, the field and the allowed values; 1 internal error.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from mappings.dataflow import Dataflow
from mappings.mapping import Mapping
from simulator.arch import ArchSpec, load_arch, preset_names
from simulator.output import write_json
from simulator.results import Comparison, WorkloadResult
from simulator.simulate import compare_to_dense, simulate
from workloads.errors import InputError
from workloads.layers import Conv2d, Gemm, Layer
from workloads.specs import SHAPE_FORMS, SparsitySpec, build_workload, parse_shape, parse_sparsity
from workloads.workload import Workload

DEMO_LAYERS = ("gemm:256x512x768", "conv:56x56x64:3x3x64")


class UsageError(InputError):
    """A bad command-line argument."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so every bad input takes one path."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(self.prog, "arguments", " ".join(sys.argv[1:]), message)


def _with_batch(layer: Layer, batch: int) -> Layer:
    if batch == 1:
        return layer
    if isinstance(layer, Gemm):
        return dataclasses.replace(layer, m=layer.m * batch, name=f"{layer.name}@b{batch}")
    if isinstance(layer, Conv2d):
        return dataclasses.replace(layer, batch=batch, name=f"{layer.name}@b{batch}")
    return layer


def _load_workload(text: str, spec: SparsitySpec, batch: int, seed: int) -> Workload:
    if batch < 1:
        raise UsageError("--batch", "batch", batch, "an integer >= 1")
    if ":" not in text:
        raise UsageError("--workload", "workload", text, SHAPE_FORMS)
    layer = _with_batch(parse_shape(text), batch)
    return build_workload([layer], spec, seed=seed)


def _mapping(arch: ArchSpec, dataflow: str | None) -> Mapping:
    return Mapping(Dataflow(dataflow) if dataflow else arch.pe_array.dataflow)


def _run_one(
    workload: Workload, arch: ArchSpec, dataflow: str | None
) -> Comparison | WorkloadResult:
    if dataflow == "best":
        results = {
            df: _run_one(workload, arch, df.value) for df in (Dataflow.WS, Dataflow.OS, Dataflow.IS)
        }
        return min(results.values(), key=_total_cycles)
    mapping = _mapping(arch, dataflow)
    if workload.sparsity == "dense":
        return simulate(workload, arch, mapping)
    return compare_to_dense(workload, arch, mapping)


def _total_cycles(res: Comparison | WorkloadResult) -> int:
    return (res.sparse if isinstance(res, Comparison) else res).totals.cycles.total


def _fmt_int(v: float) -> str:
    return f"{v:,.0f}"


def format_table(rows: list[tuple[str, WorkloadResult, float | None]]) -> str:
    """One line per (label, result): cycles breakdown, utilization, energy, speedup."""
    head = (
        f"{'run':<34} {'mode':>5} {'compute':>13} {'fill/drain':>11} {'mem stall':>12} "
        f"{'total':>13} {'util':>6} {'energy uJ':>10} {'speedup':>8}"
    )
    lines = [head, "-" * len(head)]
    for label, res, speedup in rows:
        t = res.totals
        modes = sorted({lr.mode for lr in res.layers})
        lines.append(
            f"{label:<34} {'/'.join(modes):>5} {_fmt_int(t.cycles.compute):>13} "
            f"{_fmt_int(t.cycles.fill_drain):>11} {_fmt_int(t.cycles.memory_stall):>12} "
            f"{_fmt_int(t.cycles.total):>13} {t.utilization:>6.1%} "
            f"{t.energy_pj['total'] / 1e6:>10.2f} "
            f"{(f'{speedup:.3f}x' if speedup is not None else '-'):>8}"
        )
    return "\n".join(lines)


def _table_rows(label: str, res: Comparison | WorkloadResult) -> list:
    if isinstance(res, Comparison):
        return [
            (f"{label} dense", res.dense, 1.0),
            (f"{label} {res.sparse.sparsity}", res.sparse, res.speedup),
        ]
    return [(label, res, None)]


def cmd_run(args: argparse.Namespace) -> int:
    arch = load_arch(args.arch)
    spec = parse_sparsity(args.sparsity)
    workload = _load_workload(args.workload, spec, args.batch, args.seed)
    res = _run_one(workload, arch, args.dataflow)
    doc = res.to_dict()
    if args.output:
        out = Path(args.output)
        write_json(out / "result.json", doc)
        write_json(out / "arch.resolved.json", _arch_doc(arch))
    if args.json:
        print(json.dumps(doc, indent=2))
    else:
        print(f"arch {arch.name}, workload {workload.name}, sparsity {workload.sparsity}")
        print(format_table(_table_rows(workload.name, res)))
        if isinstance(res, Comparison):
            print(f"compute speedup {res.compute_speedup:.3f}x, total speedup {res.speedup:.3f}x")
    return 0


def _arch_doc(arch: ArchSpec) -> dict:
    """The fully resolved spec, written beside results so they trace to it."""
    return json.loads(json.dumps(dataclasses.asdict(arch), default=str))


def cmd_presets(args: argparse.Namespace) -> int:
    for name in preset_names():
        arch = load_arch(name)
        pe = arch.pe_array
        pats = ", ".join(str(p) for p in pe.nm_patterns) or "dense only"
        print(
            f"{name:<12} {pe.rows}x{pe.cols} {pe.dataflow.value.upper()} "
            f"{pe.multipliers} mult/PE ({pats}), GLB {arch.glb.capacity_bytes // 1024} KiB, "
            f"DRAM {arch.dram.bandwidth_bytes_per_cycle:g} B/cycle @ {arch.clock_mhz:g} MHz"
        )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The main job on built-in defaults: a GEMM and a conv, dense vs 2:4, on `edge`."""
    from simulator.plots import plot_comparison

    arch = load_arch("edge")
    spec = parse_sparsity("nm:2:4")
    comps: dict[str, Comparison] = {}
    rows = []
    for i, text in enumerate(DEMO_LAYERS):
        wl = build_workload([parse_shape(text)], spec, seed=args.seed + i)
        comp = compare_to_dense(wl, arch)
        comps[text] = comp
        rows += _table_rows(text, comp)
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
    json_path = write_json(out / "demo.json", doc)
    png_path = plot_comparison(comps, out / "demo.png")
    print(f"\nwrote {json_path} and {png_path}")
    return 0


EXAMPLES = {
    "run": """examples:
  sparsim run --arch edge --workload gemm:1024x1024x1024 --sparsity nm:2:4
  sparsim run --arch edge --workload conv:56x56x64:3x3x64 --sparsity nm:1:4 --json
  sparsim run --arch my_arch.yaml --workload gemm:128x768x768 --dataflow best -o out/run1""",
    "presets": "examples:\n  sparsim presets",
    "demo": "examples:\n  sparsim demo -o out/demo",
}


def build_parser() -> argparse.ArgumentParser:
    fmt = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="sparsim",
        description="Simulate sparse DNN workloads on N:M sparse accelerator arrays.",
        formatter_class=fmt,
        epilog="run 'sparsim COMMAND --help' for examples",
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser(
        "run",
        help="simulate a workload on an architecture",
        epilog=EXAMPLES["run"],
        formatter_class=fmt,
    )
    run.add_argument(
        "--arch", default="edge", help="preset name (see 'sparsim presets') or arch YAML file"
    )
    run.add_argument("--workload", required=True, help=f"inline shape: {SHAPE_FORMS}")
    run.add_argument("--dataflow", choices=["ws", "os", "is", "best"], help="default: the arch's")
    run.add_argument("--sparsity", default="dense", help="dense or nm:N:M (magnitude N:M along K)")
    run.add_argument("--batch", type=int, default=1, help="batch size (default 1)")
    run.add_argument("--seed", type=int, default=0, help="seed of the random int8 weights")
    run.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    run.add_argument("-o", "--output", help="directory for result.json and the resolved arch")
    run.set_defaults(func=cmd_run)

    presets = sub.add_parser(
        "presets",
        help="list the architecture presets",
        epilog=EXAMPLES["presets"],
        formatter_class=fmt,
    )
    presets.set_defaults(func=cmd_presets)

    demo = sub.add_parser(
        "demo",
        help="the built-in demo (what 'make demo' runs)",
        epilog=EXAMPLES["demo"],
        formatter_class=fmt,
    )
    demo.add_argument(
        "-o", "--output", default="out/demo", help="directory for demo.json and demo.png"
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except InputError as err:
        print(f"sparsim: error: {err}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 — the one place that turns a bug into exit 1
        print(f"sparsim: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
