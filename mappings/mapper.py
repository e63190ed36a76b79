"""The mapper: search dataflows, tilings at every level, loop orders and bypass
for an objective (cycles, energy, EDP; ties to less energy).

The one module of `mappings` that imports the simulator (DESIGN.md). Every
candidate gets an instant estimate (`simulator.simulate.estimate`: exact
compute cycles, every level's accesses from the loop nest, energy priced per
level and action); the best few by the objective's estimate are simulated
with the memory model, and so is each dataflow's default mapping, so the
result is never worse than any dataflow's default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mappings.dataflow import Dataflow
from mappings.mapping import Mapping
from simulator.arch import ArchSpec
from simulator.energy_table import EnergyTable
from simulator.results import LayerResult, WorkloadResult
from simulator.simulate import (
    NO_RESIDENCY,
    OBJECTIVES,
    Residency,
    default_run,
    plan_layer,
    reserve_bytes,
    run_value,
    schedule_residency,
    search,
    simulate_layer,
)
from workloads.workload import LayerWorkload, Workload


@dataclass(frozen=True, slots=True)
class MapperResult:
    mapping: Mapping
    result: LayerResult
    candidates: int  # mappings estimated
    evaluated: int  # mappings simulated (memory model)


def best_mapping(
    lw: LayerWorkload,
    arch: ArchSpec,
    objective: str = "cycles",
    dataflows: Iterable[Dataflow] = tuple(Dataflow),
    max_evaluations: int = 6,
    table: EnergyTable | None = None,
    residency: Residency = NO_RESIDENCY,
) -> MapperResult:
    """The best mapping found for one layer, with its simulated result.

    Every candidate of every dataflow (tiles at every level, loop orders,
    bypass: `simulator.simulate.candidate_mappings`) is estimated; the
    `max_evaluations` best by the objective's estimate are simulated, and so
    is each dataflow's default, so the result is never worse than a default.
    `residency`: what network-level scheduling keeps on chip for this layer
    (`simulator.simulate.schedule_residency`): the search tiles what is left.
    """
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    dataflows = tuple(dataflows)
    held = residency.reserved_bytes
    plan = plan_layer(lw, reserve_bytes(arch, held) if held > 0 else arch, residency)
    # incumbents: each dataflow's default (cached across layers)
    runs = [default_run(plan, df)[1] for df in dataflows]
    candidates = evaluated = 0
    if not arch.scalesim_compat:
        run, candidates, evaluated = search(plan, dataflows, objective, max_evaluations)
        if run is not None:
            runs.append(run)
    best = min(runs, key=lambda r: run_value(r, objective))
    result = simulate_layer(lw, arch, best.mapping, None, residency)
    return MapperResult(best.mapping, result, max(candidates, len(dataflows)), evaluated)


def simulate_best(
    workload: Workload,
    arch: ArchSpec,
    objective: str = "cycles",
    progress: Callable[[int, int], None] | None = None,
    io_on_chip: bool = False,
) -> tuple[WorkloadResult, dict[str, Mapping]]:
    """Every layer with its best mapping, under the network-level schedule that
    `simulate` uses (`io_on_chip` as there); the result and the mappings chosen."""
    layers, chosen = [], {}
    schedule = schedule_residency(workload, arch, io_on_chip)
    for i, lw in enumerate(workload.layers):
        found = best_mapping(lw, arch, objective, residency=schedule.get(lw.name, NO_RESIDENCY))
        layers.append(found.result)
        chosen[lw.name] = found.mapping
        if progress:
            progress(i + 1, len(workload.layers))
    result = WorkloadResult(
        arch.name, workload.name, workload.sparsity, tuple(layers), clock_mhz=arch.clock_mhz
    )
    return result, chosen


__all__ = ["OBJECTIVES", "MapperResult", "best_mapping", "simulate_best"]
