"""Running a Timeloop case's loop nest through sparsim's public path.

The architecture is built as a spec (data, through the same loader as the
presets) from the case's levels: the array from the spatial fan-out, the
GLB from the shared on-chip level, DRAM (or the tutorial's BackingStorage)
outermost, word widths from the stats. The mapping is the nest `plan_case`
derived from the map. Bandwidths are unbounded: counts, not time, are held
to Timeloop here.
"""

from __future__ import annotations

import math

from mappings.dataflow import Dataflow
from mappings.mapping import LevelTile, Mapping
from simulator.arch import parse_arch
from simulator.energy import load_energy_table
from simulator.simulate import simulate
from sparsim.validate.timeloop_compare import Plan
from workloads.specs import parse_shape
from workloads.workload import LayerWorkload, Workload


def arch_doc(plan: Plan) -> dict:
    """A sparsim arch spec for the case (as the YAML would hold it)."""
    rows, cols = plan.array
    m, n, k = plan.problem.gemm
    word = max(1, plan.word_bits // 8)
    glb_kib = max(1, math.ceil((m * k + k * n + m * n * 4) * word / 1024))
    return {
        "name": "timeloop-case",
        "clock_mhz": 1000,
        "pe_array": {
            "rows": rows,
            "cols": cols,
            "multipliers": 1,
            "nm_patterns": [],
            "dataflow": plan.dataflow,
            "data_bits": plan.word_bits if plan.word_bits in (4, 8, 16) else 8,
            "acc_bits": max(16, plan.word_bits),
            "zero_gating": False,
        },
        "memory": {
            "dram": {"bandwidth_bytes_per_cycle": 1e9, "latency_cycles": 0, "burst_bytes": word},
            "glb": {"capacity_kib": glb_kib, "bandwidth_bytes_per_cycle": 1e9},
        },
        "energy": {"table": "default"},
    }


def mapping_of(plan: Plan) -> Mapping:
    glb = next((lp for lp in plan.levels if lp.sparsim == "glb"), None)
    dram = plan.levels[0]
    order = dram.loop_order + "".join(d for d in "nmk" if d not in dram.loop_order)
    tiles = (LevelTile("glb", *glb.tile),) if glb else ()
    return Mapping(Dataflow(plan.dataflow), tiles, order)


def run_plan(plan: Plan) -> tuple[dict[str, dict[str, float]], int]:
    """sparsim's counts per level in words ({level: {"total": words}}) and MACs."""
    arch = parse_arch(arch_doc(plan), "timeloop case")
    m, n, k = plan.problem.gemm
    layer = parse_shape(f"gemm:{m}x{n}x{k}")
    wl = Workload("timeloop-case", (LayerWorkload(layer),))
    res = simulate(wl, arch, mapping_of(plan))
    lr = res.layers[0]
    word = max(1, plan.word_bits / 8)
    table = load_energy_table(arch.energy_table)
    counts: dict[str, dict[str, float]] = {
        "dram": {"total": lr.dram_bytes / word},
        "glb": {"total": lr.glb_bytes / word},
    }
    reg = lr.energy_pj.get("pe_registers")
    if reg is not None and table["pe_register_byte"]:
        # today's result keeps PE register traffic only inside its energy
        counts["pe_registers"] = {"total": reg / table["pe_register_byte"] / word}
    return counts, lr.macs


__all__ = ["arch_doc", "mapping_of", "run_plan"]
