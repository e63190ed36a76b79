#!/usr/bin/env python3
"""Memory-bound against compute-bound: what 2:4 buys.

1. Batch-1 GEMV (1 x 4096 x 4096) on tpu-v1: every weight crosses DRAM
   (34 GB/s) to be used once, so the layer is mostly memory stall. tpu-v1
   has no 2:4 mode: a 2:4-pruned layer runs dense and stores dense: 1.0x.
2. The same GEMV on the tpu-v1-2of4 what-if preset: 2:4 PEs (2 multipliers,
   its activation feed and weight FIFO scaled to match): compute halves,
   but the run is bound by weight bytes, 8 bits dense against 4 bits of
   values + 1 of indices for 2:4: at most 8/5 = 1.6x.
3. A large GEMM on the edge preset's 2:4 array: with its 256 KiB GLB the 2:4
   run sits at the roofline's knee (~64 MACs per DRAM byte at most: 8% stall,
   1.83x); with a 1 MiB GLB it is compute-bound: close to 2x.

    .venv/bin/python bench/memory_bound.py
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.load import load_arch
from simulator.simulate import compare_to_dense
from workloads.resolve import load_workload
from workloads.sparsity_spec import parse_sparsity


def show(label, arch, shape):
    comp = compare_to_dense(load_workload(shape, parse_sparsity("nm:2:4")), arch)
    print(f"\n{label}: {shape} on {arch.name}")
    for tag, res in (("dense", comp.dense), ("2:4", comp.sparse)):
        lr = res.layers[0]
        c = lr.cycles
        print(
            f"  {tag:<5} mode {lr.mode:<5} compute {c.compute:>11,} (fill/drain {c.fill_drain:,})"
            f"  memory stall {c.memory_stall:>11,} ({c.memory_stall / c.total:5.1%} of "
            f"{c.total:,})  DRAM {lr.dram_bytes / 2**20:8.2f} MiB ({lr.weight_format})"
        )
    print(f"  speedup {comp.speedup:.3f}x total, {comp.compute_speedup:.3f}x compute")
    return comp


def main() -> int:
    show("1. memory-bound", load_arch("tpu-v1"), "gemm:1x4096x4096")
    show("2. memory-bound, 2:4 PEs", load_arch("tpu-v1-2of4"), "gemm:1x4096x4096")
    edge = load_arch("edge")
    show("3. at the knee", edge, "gemm:2048x2048x2048")
    big = dataclasses.replace(edge.glb, capacity_bytes=1 << 20)
    edge_1m = dataclasses.replace(
        edge, memory=dataclasses.replace(edge.memory, levels=(edge.dram, big))
    )
    show("3b. compute-bound (1 MiB GLB)", edge_1m, "gemm:2048x2048x2048")
    return 0


if __name__ == "__main__":
    sys.exit(main())
