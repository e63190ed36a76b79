#!/usr/bin/env python3
"""Steady-state fast path: simulation time of a 4096^3 GEMM against a 1024^3 one.

Both run on a 128 x 128 weight-stationary array (tpu-v1 resized: 700 MHz,
its buffers and DRAM) with the default tiling, which the simulator searches
and checks with the simpy memory model. The 4096-cube GEMM has 64x the MACs
and many more GLB tiles; the simulator steps only a window of each loop and
extrapolates the periodic rest, so the wall time should stay within 1.5x.

    .venv/bin/python bench/steady_state.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.load import load_arch
from simulator.simulate import _default_mapping_cached, simulate_layer
from simulator.tiling import LoopNest, _enumerate_steps
from workloads.layers import Gemm
from workloads.workload import LayerWorkload


def arch_128():
    tpu = load_arch("tpu-v1")
    pe = dataclasses.replace(tpu.pe_array, rows=128, cols=128)
    return dataclasses.replace(tpu, name="tpu-v1-128x128", pe_array=pe)


def timed(lw, arch, repeat):
    walls = []
    for _ in range(repeat):
        _default_mapping_cached.cache_clear()  # time the tiling search too, every run
        _enumerate_steps.cache_clear()  # ... and every loop-nest enumeration
        t0 = time.perf_counter()
        res = simulate_layer(lw, arch)
        walls.append(time.perf_counter() - t0)
    return res, statistics.median(walls)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    arch = arch_128()
    rows = []
    for n in (1024, 4096):
        lw = LayerWorkload(Gemm(f"gemm{n}", n, n, n))
        res, wall = timed(lw, arch, args.repeat)
        t = res.mapping["tiles"][0]
        nest = LoopNest(lw.gemm, 1, resolve_tile_from(res), res.mapping["loop_order"])
        rows.append((n, res, wall, nest.steps))
        print(
            f"{n}^3 GEMM on 128x128: {res.macs / 1e9:,.1f} GMAC, compute {res.cycles.compute:,} "
            f"+ stall {res.cycles.memory_stall:,} cycles; GLB tile {t['m']}x{t['n']}x{t['k']} "
            f"({res.mapping['loop_order']}), {nest.steps:,} tiles, "
            f"{res.simulated_steps} simulated; "
            f"median wall {wall * 1e3:.1f} ms"
        )
    ratio = rows[1][2] / rows[0][2]
    print(f"wall time 4096^3 / 1024^3 = {ratio:.2f} (target <= 1.5) for "
          f"{rows[1][1].macs / rows[0][1].macs:.0f}x the MACs")  # fmt: skip
    return 0 if ratio <= 1.5 else 1


def resolve_tile_from(res) -> tuple[int, int, int]:
    t = res.mapping["tiles"][0]
    return (t["m"], t["n"], t["k"])


if __name__ == "__main__":
    sys.exit(main())
