"""Mapping search speed: evaluations per second per core, and ResNet-50 with a
per-layer mapping search, in one run.

An evaluation is one mapping (tiles at every level, loop order, bypass,
dataflow) scored with exact compute cycles, every level's accesses from the
loop nest and its energy priced per level and action (`simulate.estimate`).
Peers, measured on this machine and quoted (not rerun here): Timeloop
v3.0.3's mapper, 220 valid mappings/s on a dense conv
(../shared/validation/timeloop/MEASUREMENTS.yaml); ZigZag 3.9.1 on ResNet-50
with its per-layer search, about 100 s (../shared/peers/zigzag.sh).

Times are CPU seconds of this process (the machine is shared; wall time is not
per core). Run: .venv/bin/python bench/mapper_rate.py
"""

from __future__ import annotations

import time

from mappings.dataflow import Dataflow
from mappings.mapper import simulate_best
from simulator.arch import load_arch
from simulator.simulate import _default_mapping_cached, _Evaluator, candidate_mappings, plan_layer
from workloads.resolve import load_workload
from workloads.sparsity_spec import parse_sparsity

TIMELOOP_MAPPINGS_PER_S = 220
ZIGZAG_RESNET50_S = 100


def eval_rate(arch_name: str, sparsity: str, repeat: int = 3) -> tuple[float, int]:
    """Mapping evaluations per second over the whole space of res2a_branch2b."""
    arch = load_arch(arch_name)
    lw = load_workload("conv:56x56x64:3x3x64", parse_sparsity(sparsity), seed=0).layers[0]
    plan = plan_layer(lw, arch)
    best = 0.0
    count = 0
    for _ in range(repeat):
        ev = _Evaluator(plan)
        start = time.process_time()
        for df in Dataflow:
            candidate_mappings(plan, df, None, ev)
        wall = time.process_time() - start
        count = ev.evaluations
        best = max(best, count / wall)
    return best, count


def main() -> int:
    print("mapping evaluations per second, one core (conv 56x56x64 3x3x64, all dataflows):")
    for arch, sp in (("eyeriss", "dense"), ("edge", "dense"), ("edge", "nm:2:4")):
        rate, n = eval_rate(arch, sp)
        print(
            f"  {arch:8s} {sp:7s} {n:5d} mappings  {rate:9,.0f}/s  "
            f"= {rate / TIMELOOP_MAPPINGS_PER_S:5.1f}x Timeloop's {TIMELOOP_MAPPINGS_PER_S}/s"
        )
    wl = load_workload("resnet50", parse_sparsity("dense"))
    for arch in ("edge", "eyeriss"):
        spec = load_arch(arch)
        _default_mapping_cached.cache_clear()
        start = time.process_time()
        res, _ = simulate_best(wl, spec, "cycles")
        wall = time.process_time() - start
        print(
            f"ResNet-50 ({len(wl.layers)} layers) per-layer mapping search on {arch}: {wall:.2f} s"
            f" = {ZIGZAG_RESNET50_S / wall:.0f}x faster than ZigZag's ~{ZIGZAG_RESNET50_S} s;"
            f" {res.totals.cycles.total:,} cycles"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
