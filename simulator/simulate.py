"""The tile model entry points: `simulate_layer` and `simulate` (pure, no I/O)."""

from __future__ import annotations

import math

from mappings.dataflow import Dataflow
from mappings.mapping import Mapping
from simulator.arch import ArchSpec
from simulator.energy import ActionCounts, EnergyTable, energy_breakdown_pj, load_energy_table
from simulator.memory import simulate_memory
from simulator.results import Comparison, Cycles, LayerResult, WorkloadResult
from simulator.sparse_modes import select_pattern
from simulator.tile_model import compute_timing
from workloads.workload import LayerWorkload, Workload


def simulate_layer(
    lw: LayerWorkload, arch: ArchSpec, mapping: Mapping, table: EnergyTable
) -> LayerResult:
    pe = arch.pe_array
    pattern = select_pattern(lw, pe)
    gemm = lw.gemm
    timing = compute_timing(gemm, pe, mapping.dataflow, pattern)
    mem = simulate_memory(gemm, lw.layer.input_elements, arch, mapping.dataflow, pattern, timing)
    cycles = Cycles(timing.compute_cycles, timing.fill_drain_cycles, mem.stall_cycles)

    grid = timing.grid
    pe_steps = grid.folds * grid.stream_len * pe.pes  # PE-cycles with data flowing
    slots = pe_steps * pe.multipliers
    data_bytes, acc_bytes = pe.data_bits / 8, pe.acc_bits / 8
    window = pe.window(pattern)
    counts = ActionCounts(
        macs=lw.effective_macs,
        gated_macs=max(slots - lw.effective_macs, 0),
        pe_register_bytes=round(
            pe_steps * (window * data_bytes + acc_bytes + pe.multipliers * data_bytes)
        ),
        glb_bytes=mem.glb_read_bytes + mem.glb_write_bytes,
        dram_bytes=mem.dram_bytes,
        metadata_bits=slots * math.ceil(math.log2(window)) if pattern else 0,
        pe_cycles=pe.pes * cycles.total,
        glb_kib_cycles=arch.glb.capacity_bytes / 1024 * cycles.total,
    )
    return LayerResult(
        name=lw.name,
        macs=lw.macs,
        effective_macs=lw.effective_macs,
        mode=str(pattern) if pattern else "dense",
        dataflow=str(mapping.dataflow),
        folds=grid.folds,
        cycles=cycles,
        multiplier_slots=pe.pes * pe.multipliers * cycles.total,
        energy_pj=energy_breakdown_pj(counts, table, pe.zero_gating),
        dram_bytes=mem.dram_bytes,
    )


def simulate(
    workload: Workload,
    arch: ArchSpec,
    mapping: Mapping | None = None,
    table: EnergyTable | None = None,
) -> WorkloadResult:
    """Run every layer of `workload` on `arch` with the tile model."""
    mapping = mapping or Mapping(dataflow=arch.pe_array.dataflow)
    table = table or load_energy_table(arch.energy_table)
    layers = tuple(simulate_layer(lw, arch, mapping, table) for lw in workload.layers)
    return WorkloadResult(arch.name, workload.name, workload.sparsity, layers)


def dense_baseline(workload: Workload) -> Workload:
    """The same layers unpruned: every weight counts, the array runs dense."""
    layers = tuple(LayerWorkload(lw.layer) for lw in workload.layers)
    return Workload(workload.name, layers, sparsity="dense")


def compare_to_dense(
    workload: Workload, arch: ArchSpec, mapping: Mapping | None = None
) -> Comparison:
    """Simulate `workload` and its dense baseline on the same hardware."""
    table = load_energy_table(arch.energy_table)
    return Comparison(
        simulate(workload, arch, mapping, table),
        simulate(dense_baseline(workload), arch, mapping, table),
    )


__all__ = ["Dataflow", "compare_to_dense", "dense_baseline", "simulate", "simulate_layer"]
