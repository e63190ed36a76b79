#!/usr/bin/env python3
"""sparsim against SCALE-Sim v3 on the same layers and configs: cycles and wall time.

Runs SCALE-Sim 3.0.0 through ../shared/peers/scalesim.sh (its own venv; first
use installs it, ~20 s) and sparsim in this process, on the same `.cfg` and
topology `.csv` files, and prints per layer sparsim's `compute` cycles beside
SCALE-Sim's "Total Cycles" (COMPUTE_REPORT.csv), then each tool's wall time.

Runs (ResNet-50 with real output sizes, ../shared/peers/examples/):
  ws-full   all 54 layers, 128 x 128 WS (SCALE-Sim: ~3-4 min, ~10 GB)
  os, is    a subset of layers, 128 x 128 OS / IS (--full: all 54 layers)
  nm24, nm14  the subset with SCALE-Sim's layer-wise N:M (2:4, 1:4) under WS

Not part of `make test`. SCALE-Sim's numbers are saved in OUT/peer_scalesim.json;
`--reuse` reads them from there instead of running SCALE-Sim again.

    .venv/bin/python bench/peer_scalesim.py [--full] [--reuse] [--only ws-full,os] [-o OUT]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from simulator.load import load_arch  # noqa: E402
from simulator.simulate import simulate  # noqa: E402
from workloads.resolve import load_workload  # noqa: E402
from workloads.sparsity_spec import parse_sparsity  # noqa: E402

PEERS = Path(os.environ.get("SPARSIM_PEERS", REPO.parent / "shared" / "peers"))
EXAMPLES = PEERS / "examples"
SUBSET = ("layer1.0.conv1", "layer2.1.conv2", "layer3.1.conv1", "layer4.1.conv2", "fc")


@dataclass(frozen=True)
class Run:
    name: str
    dataflow: str
    nm: str | None  # layer-wise N:M for every layer (SCALE-Sim's topology column)
    subset: bool


RUNS = (
    Run("ws-full", "ws", None, False),
    Run("os", "os", None, True),
    Run("is", "is", None, True),
    Run("nm24", "ws", "2:4", True),
    Run("nm14", "ws", "1:4", True),
)


def write_inputs(run: Run, out: Path) -> tuple[Path, Path]:
    """The run's cfg (the example's, dataflow and sparsity switched) and topology."""
    cfg = (EXAMPLES / "sa128_ws.cfg").read_text()
    cfg = cfg.replace("run_name = sa128_ws", f"run_name = {run.name}")
    cfg = cfg.replace("Dataflow : ws", f"Dataflow : {run.dataflow}")
    if run.nm:
        cfg = cfg.replace("SparsitySupport : false", "SparsitySupport : true")
    lines = (EXAMPLES / "resnet50_scalesim.csv").read_text().splitlines()
    header, rows = lines[0], [r for r in lines[1:] if r.strip()]
    if run.subset:
        rows = [r for r in rows if r.split(",")[0].strip() in SUBSET]
    if run.nm:
        header += " N:M,"
        rows = [f"{r.rstrip().rstrip(',')}, {run.nm}," for r in rows]
    cfg_path, topo_path = out / f"{run.name}.cfg", out / f"{run.name}.csv"
    cfg_path.write_text(cfg)
    topo_path.write_text("\n".join([header, *rows]) + "\n")
    return cfg_path, topo_path


def run_scalesim(cfg: Path, topo: Path, out: Path, name: str) -> tuple[list[int], float]:
    """SCALE-Sim's per-layer "Total Cycles" and its wall time."""
    t0 = time.perf_counter()
    peer = [str(PEERS / "scalesim.sh"), "-c", str(cfg), "-t", str(topo), "-p", str(out)]
    subprocess.run([*peer, "-s", "N", "-q"], check=True)
    wall = time.perf_counter() - t0
    with open(out / name / "COMPUTE_REPORT.csv") as fh:
        rows = list(csv.reader(fh))
    head = [h.strip() for h in rows[0]]
    col = head.index("Total Cycles")
    return [int(float(r[col])) for r in rows[1:] if r], wall


def run_sparsim(cfg: Path, topo: Path, dataflow: str) -> tuple[list[tuple[str, int]], float, float]:
    """sparsim's per-layer compute cycles, its in-process time and the CLI's wall time."""
    t0 = time.perf_counter()
    arch = load_arch(cfg)
    workload = load_workload(str(topo), parse_sparsity("dense"))
    result = simulate(workload, arch)
    in_process = time.perf_counter() - t0
    t0 = time.perf_counter()
    cli = [sys.executable, "-m", "sparsim", "run", "--arch", str(cfg), "--workload"]
    subprocess.run([*cli, str(topo), "--dataflow", dataflow, "--json"], check=True,
                   capture_output=True, cwd=REPO)  # fmt: skip
    cli_wall = time.perf_counter() - t0
    return [(lr.name, lr.cycles.compute) for lr in result.layers], in_process, cli_wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", default=str(REPO / "out" / "bench"), help="output directory")
    ap.add_argument("--full", action="store_true", help="OS, IS and N:M on all 54 layers too")
    ap.add_argument("--reuse", action="store_true", help="SCALE-Sim numbers from a previous run")
    ap.add_argument("--only", help="comma-separated run names: " + ", ".join(r.name for r in RUNS))
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    saved_path = out / "peer_scalesim.json"
    saved = json.loads(saved_path.read_text()) if saved_path.exists() else {}
    only = set(args.only.split(",")) if args.only else None
    summary = []
    for run in RUNS:
        if only and run.name not in only:
            continue
        if args.full:
            run = Run(run.name, run.dataflow, run.nm, False)
        cfg, topo = write_inputs(run, out)
        ours, t_ours, t_cli = run_sparsim(cfg, topo, run.dataflow)
        key = f"{run.name}{'-full' if not run.subset else ''}"
        if args.reuse and key in saved:
            theirs, t_theirs = saved[key]["cycles"], saved[key]["wall_s"]
        else:
            theirs, t_theirs = run_scalesim(cfg, topo, out, run.name)
            saved[key] = {"cycles": theirs, "wall_s": t_theirs}
            saved_path.write_text(json.dumps(saved, indent=1))
        print(f"\n== {run.name}: 128x128 {run.dataflow.upper()}"
              f"{', layer-wise ' + run.nm if run.nm else ''}, {len(ours)} layers")  # fmt: skip
        print(f"{'layer':<22} {'sparsim compute':>16} {'SCALE-Sim Total':>16} {'diff':>6}")
        same = 0
        for (name, c), s in zip(ours, theirs, strict=True):
            same += c == s
            print(f"{name:<22} {c:>16,} {s:>16,} {c - s:>6}")
        total_ours, total_theirs = sum(c for _, c in ours), sum(theirs)
        print(f"{'total':<22} {total_ours:>16,} {total_theirs:>16,} {total_ours - total_theirs:>6}")
        print(
            f"equal on {same}/{len(ours)} layers; wall time: SCALE-Sim {t_theirs:.1f} s, "
            f"sparsim {t_ours:.3f} s in process ({t_theirs / t_ours:,.0f}x), "
            f"{t_cli:.2f} s as a CLI process ({t_theirs / t_cli:,.0f}x)"
        )
        summary.append((run.name, same, len(ours), t_theirs, t_ours, t_cli))
    print("\nrun        equal layers  SCALE-Sim s  sparsim s (in process / CLI)  ratio")
    for name, same, n, tt, to, tc in summary:
        print(f"{name:<10} {same:>5}/{n:<6} {tt:>11.1f}  {to:>9.3f} / {tc:<6.2f}          "
              f"{tt / to:>7,.0f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
