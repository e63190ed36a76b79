#!/usr/bin/env python3
"""Mapping search speed, side by side in one run: sparsim against Timeloop's
mapper and ZigZag 3.9.1.

1. Mapping evaluations per second per core, dense and 2:4: every valid
   mapping of the mapper's space for ResNet-50 res2a_branch2b (the conv
   Timeloop's mapper searched, 56x56x64 -> 64, 3x3) is scored by the model
   sparsim's mapper uses to rank candidates; CPU seconds of this process (one
   core). Timeloop v3's mapper on the same conv on this machine: 220 valid
   mappings/s (../shared/validation/timeloop/MEASUREMENTS.yaml, read here).
   Full simulations per second (what the mapper runs on its best candidates)
   are printed beside.
2. ResNet-50 (54 layers) with per-layer mapping search: sparsim's
   `--dataflow best` in this process, then ZigZag 3.9.1 (LOMA temporal-mapping
   search on its tpu_like 32x32 hardware, ../shared/peers/zigzag.sh, its own
   venv) in a subprocess, one after the other (never concurrently), wall time
   of each and the ratio. `--reuse` reads ZigZag's last time from
   OUT/zigzag.json instead of running it again (about 100 s).

    .venv/bin/python bench/mapping_speed.py [--reuse] [--part 1|2] [-o out/bench]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from mappings.dataflow import Dataflow  # noqa: E402
from mappings.mapping import Mapping  # noqa: E402
from simulator.load import load_arch  # noqa: E402
from simulator.simulate import (  # noqa: E402
    _Evaluator,
    candidate_mappings,
    plan_layer,
    simulate_layer,
)
from sparsim import api  # noqa: E402

SHARED = Path(os.environ.get("SPARSIM_SHARED", REPO.parent / "shared"))
PEERS = SHARED / "peers"
CONV = "conv:58x58x64:3x3x64"  # res2a_branch2b: 56x56 outputs, no padding needed


MODEL_PACKAGES = ("simulator.", "mappings.", "workloads.")


def model_caches() -> list[Callable[[], None]]:
    """The `cache_clear` of every functools cache of the model's imported modules.
    (`simulator.simulate` as an attribute of the package is the function, not the
    module: modules are looked up in sys.modules.)"""
    return [
        fn.cache_clear
        for name, module in list(sys.modules.items())
        if name.startswith(MODEL_PACKAGES)
        for fn in vars(module).values()
        if callable(getattr(fn, "cache_clear", None))
    ]


def _clear(caches: list[Callable[[], None]]) -> None:
    """Empty every model cache, so that each round pays for what a first search
    of the layer computes."""
    for clear in caches:
        clear()


def _search_round(lw, arch) -> int:
    """Every dataflow's candidate mappings of the layer, scored; how many."""
    plan = plan_layer(lw, arch)  # planned each round: part of evaluating
    ev = _Evaluator(plan)  # counts every mapping it scores
    for df in Dataflow:
        candidate_mappings(plan, df, None, ev)
    return ev.evaluations


def evaluations_per_s(
    arch_name: str, sparsity: str, min_cpu_s: float = 2.0
) -> tuple[float, int, float]:
    """Valid mappings scored per CPU second (all dataflows), repeated for at least
    `min_cpu_s`, every model cache emptied before each round; also full
    simulations per CPU second."""
    arch = load_arch(arch_name)
    lw = api.load_workload(CONV, sparsity).layers[0]
    _search_round(lw, arch)  # untimed: imports whatever the search imports lazily
    caches = model_caches()
    count, t0 = 0, time.process_time()
    while True:
        _clear(caches)
        count += _search_round(lw, arch)
        if time.process_time() - t0 >= min_cpu_s:
            break
    rate = count / (time.process_time() - t0)
    sims, t0 = 0, time.process_time()
    while time.process_time() - t0 < min_cpu_s / 2:
        _clear(caches)  # every simulation pays its own default-tiling search
        for df in Dataflow:
            simulate_layer(lw, arch, Mapping(df))
            sims += 1
    return rate, count, sims / (time.process_time() - t0)


def timeloop_rate() -> float | None:
    path = SHARED / "validation" / "timeloop" / "MEASUREMENTS.yaml"
    if not path.exists():
        return None
    doc = yaml.safe_load(path.read_text())
    runs = doc["mapper_runs"]["dense_eyeriss_resnet50_res2a_branch2b"]["default_search"]
    return float(runs["valid_mappings_per_s"])


def sparsim_resnet50(arch: str) -> tuple[float, float, float]:
    """Wall and CPU seconds of the whole per-layer search, and the total cycles."""
    t0, c0 = time.perf_counter(), time.process_time()
    res = api.run(api.load_workload("resnet50"), arch, dataflow="best")
    return time.perf_counter() - t0, time.process_time() - c0, float(res.totals.cycles.total)


def zigzag_resnet50(out: Path, reuse: bool) -> dict | None:
    saved = out / "zigzag.json"
    if reuse and saved.exists():
        return json.loads(saved.read_text()) | {"reused": True}
    script = PEERS / "zigzag.sh"
    workload = PEERS / "examples" / "resnet50_zigzag.yaml"
    if not script.exists() or not workload.exists():
        return None
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(script), str(REPO / "bench" / "zigzag_driver.py"), str(workload), str(out / "zigzag")],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        print(proc.stderr[-2000:], file=sys.stderr)
        return None
    doc = json.loads(proc.stdout.strip().splitlines()[-1]) | {"process_wall_s": wall}
    saved.write_text(json.dumps(doc, indent=2) + "\n")
    return doc


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reuse", action="store_true", help="ZigZag's time from OUT/zigzag.json")
    ap.add_argument("--arch", default="sat", help="sparsim preset for ResNet-50 (32x32 WS)")
    ap.add_argument("-o", "--out", type=Path, default=REPO / "out" / "bench")
    ap.add_argument(
        "--part", type=int, choices=(1, 2), help="only part 1 (evaluation rates) or 2 (ResNet-50)"
    )
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    print(f"mapping evaluations per CPU second ({CONV}, every dataflow's valid mappings)")
    tl = timeloop_rate()
    rows = [("edge", "dense"), ("edge", "nm:2:4"), ("eyeriss", "dense")]
    print(
        f"{'arch':<10} {'sparsity':<8} {'mappings/s':>12} {'vs Timeloop':>12} {'full sims/s':>12}"
    )
    doc: dict = {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rates": []}
    for arch, sp in rows if args.part != 2 else ():
        rate, _, sims = evaluations_per_s(arch, sp)
        ratio = f"{rate / tl:.0f}x" if tl else "-"
        doc["rates"].append(
            {"arch": arch, "sparsity": sp, "mappings_per_s": rate, "sims_per_s": sims}
            | {"timeloop_per_s": tl or float("nan")}
        )
        print(f"{arch:<10} {sp:<8} {rate:>12,.0f} {ratio:>12} {sims:>12,.1f}")
    print(
        f"{'timeloop':<10} {'dense':<8} {tl or float('nan'):>12,.0f}"
        "   (mapper, res2a_branch2b, MEASUREMENTS.yaml)"
    )

    if args.part == 1:
        (args.out / "mapping_speed.json").write_text(json.dumps(doc, indent=2) + "\n")
        return 0
    print("\nResNet-50, 54 layers, per-layer mapping search (one after the other)")
    s_wall, s_cpu, s_cycles = sparsim_resnet50(args.arch)
    print(
        f"sparsim  --dataflow best on {args.arch}: {s_wall:7.1f} s wall {s_cpu:7.1f} s CPU"
        f"  ({s_cycles:,.0f} cycles)"
    )
    zz = zigzag_resnet50(args.out, args.reuse)
    if zz is None:
        print("zigzag   not run (../shared/peers/zigzag.sh or its example workload missing)")
        (args.out / "mapping_speed.json").write_text(json.dumps(doc, indent=2) + "\n")
        return 0
    z_wall = zz.get("process_wall_s", zz["wall_s"])
    tag = " (reused)" if zz.get("reused") else ""
    print(
        f"zigzag   3.9.1 LOMA on tpu_like 32x32:   {z_wall:7.1f} s wall {zz['cpu_s']:7.1f} s CPU"
        f"{tag}  ({zz['latency_cycles']:,.0f} cycles, {zz['layers']} layers)"
    )
    print(
        f"sparsim is {z_wall / s_wall:.1f}x faster by wall time, {zz['cpu_s'] / s_cpu:.1f}x by "
        "CPU time (goal: >= 10x; CPU time is the fair figure on a shared machine)"
    )
    doc["resnet50"] = {
        "sparsim_wall_s": s_wall, "sparsim_cpu_s": s_cpu, "sparsim_arch": args.arch,
        "zigzag_wall_s": z_wall, "zigzag_cpu_s": zz["cpu_s"], "zigzag_reused": bool(tag),
        "ratio_wall": z_wall / s_wall, "ratio_cpu": zz["cpu_s"] / s_cpu,
    }  # fmt: skip
    (args.out / "mapping_speed.json").write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
