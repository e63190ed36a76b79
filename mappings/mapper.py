"""The mapper: search dataflows, GLB tilings and loop orders for an objective.

The one module of `mappings` that imports the simulator (DESIGN.md). Every
candidate (dataflow x fitting tile x loop order, `simulator.simulate.
candidate_mappings`) gets an instant lower bound on its objective: compute
cycles are exact in closed form and DRAM time is a floor on the total
(the roofline of that mapping); energy is at least its MACs and DRAM
traffic. Candidates are simulated best-estimate first, and one whose
bound cannot beat the best simulated value is never simulated (branch and
bound), with at most `max_evaluations` full simulations per layer beyond
the incumbents: each dataflow's default tiling, so the result is never
worse than any dataflow's default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mappings.dataflow import Dataflow, Operand
from mappings.mapping import LevelTile, Mapping
from simulator.arch import ArchSpec
from simulator.energy import dram_byte_pj, mac_energy_pj
from simulator.energy_table import EnergyTable
from simulator.results import Comparison, LayerResult, WorkloadResult
from simulator.simulate import (
    Estimate,
    LayerPlan,
    candidate_mappings,
    default_mapping,
    dense_baseline,
    estimate,
    plan_layer,
    simulate_layer,
)
from simulator.tiling import resolve_tile
from workloads.workload import LayerWorkload, Workload

OBJECTIVES = ("cycles", "energy", "edp")


def _value(objective: str, res: LayerResult) -> float:
    cycles, energy = res.cycles.total, res.energy_pj["total"]
    return {"cycles": cycles, "energy": energy, "edp": cycles * energy}[objective]


def _mapping_of(res: LayerResult, dataflow: Dataflow) -> Mapping:
    """The mapping a result ran (its record), as a Mapping."""
    m = res.mapping
    tiles = tuple(LevelTile(t["level"], t["m"], t["n"], t["k"]) for t in m["tiles"])
    return Mapping(dataflow, tiles, m["loop_order"], tuple(Operand(b) for b in m["bypass"]))


def _bound(objective: str, est: Estimate, plan: LayerPlan, table: EnergyTable | None) -> float:
    arch = plan.arch
    energy = est.dram_bytes * dram_byte_pj(arch) + (
        plan.lw.effective_macs * plan.activation_density * mac_energy_pj(arch)
    )
    return {
        "cycles": est.bound_cycles,
        "energy": energy,
        "edp": est.bound_cycles * energy,
    }[objective]


@dataclass(frozen=True, slots=True)
class MapperResult:
    mapping: Mapping
    result: LayerResult
    candidates: int
    evaluated: int


def best_mapping(
    lw: LayerWorkload,
    arch: ArchSpec,
    objective: str = "cycles",
    dataflows: Iterable[Dataflow] = tuple(Dataflow),
    max_evaluations: int = 6,
    table: EnergyTable | None = None,
) -> MapperResult:
    """The best mapping found for one layer, with its simulated result."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    plan = plan_layer(lw, arch)
    scored: list[tuple[Mapping, Estimate]] = []
    for df in dataflows:
        # SCALE-Sim's loop nest leaves only the dataflow to choose; when no tile
        # fits, the default (smallest tiles) is the one candidate
        found = [] if arch.scalesim_compat else candidate_mappings(plan, df)
        if not found:
            m = default_mapping(plan, df)
            tile = resolve_tile(m, plan.gemm)
            found = [(m, estimate(plan, df, tile, m.loop_order, m.bypass))]
        scored += found
    bounds = [_bound(objective, est, plan, table) for _, est in scored]
    order = sorted(range(len(scored)), key=lambda i: (scored[i][1].cycles, bounds[i]))
    # incumbents: each dataflow's default tiling (already the best of a few simulated)
    best: tuple[float, Mapping, LayerResult] | None = None
    for df in dataflows:
        res = simulate_layer(lw, arch, Mapping(df), table)
        value = _value(objective, res)
        if best is None or value < best[0]:
            best = (value, _mapping_of(res, df), res)
    evaluated = 0
    for i in order:
        if best is not None and bounds[i] >= best[0]:
            continue  # cannot win
        if evaluated >= max_evaluations:
            break
        mapping = scored[i][0]
        res = simulate_layer(lw, arch, mapping, table)
        evaluated += 1
        value = _value(objective, res)
        if best is None or value < best[0]:
            best = (value, mapping, res)
    assert best is not None
    return MapperResult(best[1], best[2], len(scored), evaluated)


def simulate_best(
    workload: Workload,
    arch: ArchSpec,
    objective: str = "cycles",
    progress: Callable[[int, int], None] | None = None,
) -> tuple[WorkloadResult, dict[str, Mapping]]:
    """Every layer with its best mapping; the result and the mappings chosen."""
    table = None
    layers, chosen = [], {}
    for i, lw in enumerate(workload.layers):
        found = best_mapping(lw, arch, objective, table=table)
        layers.append(found.result)
        chosen[lw.name] = found.mapping
        if progress:
            progress(i + 1, len(workload.layers))
    return WorkloadResult(arch.name, workload.name, workload.sparsity, tuple(layers)), chosen


def compare_best(workload: Workload, arch: ArchSpec, objective: str = "cycles") -> Comparison:
    """Sparse and dense baseline, each layer at its own best mapping."""
    sparse, _ = simulate_best(workload, arch, objective)
    dense, _ = simulate_best(dense_baseline(workload), arch, objective)
    return Comparison(sparse, dense)


__all__ = ["OBJECTIVES", "MapperResult", "best_mapping", "compare_best", "simulate_best"]
