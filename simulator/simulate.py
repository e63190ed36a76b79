"""The tile model entry points: `simulate_layer` and `simulate` (pure, no I/O).

Per layer: the mode the array runs (`sparse_modes`), the operands' stored
bytes (`formats`), a mapping (given, or the default tiling below), the
folds and their exact compute cycles (`tile_model.fold_streams`), then the
memory hierarchy's simpy simulation of the GLB tiles (`memory`), which adds
the stall. Energy = action counts x energy per action (`energy`).

Default tiling (when the mapping names no tiles): among GLB tiles that cut
no fold and fit the on-chip levels (double-buffered), and every loop order,
the one with the fewest estimated cycles: max(compute, DRAM time) plus the
exposed first load and last write-back; ties go to less DRAM traffic, then
to larger tiles. A SCALE-Sim arch (`scalesim_compat`) keeps SCALE-Sim's
loop nest: whole operands streamed, no GLB tiling.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass

import numpy as np

from mappings.dataflow import Dataflow, Operand
from mappings.mapping import LOOP_ORDERS, Mapping, check_mapping
from simulator.arch import ArchSpec
from simulator.energy import ActionCounts, EnergyTable, energy_breakdown_pj, load_energy_table
from simulator.formats import OperandBytes, operand_bytes
from simulator.memory import WINDOWS, MemoryRun, StepCost, burst_bytes, run_memory
from simulator.results import Comparison, Cycles, LayerResult, WorkloadResult
from simulator.sparse_modes import (
    activation_density,
    fallback_reason,
    has_weights,
    reduction_nonzero,
    select_pattern,
    weight_mask,
)
from simulator.tile_model import FoldStreams, fold_streams, period_cycles, tail_cycles
from simulator.tiling import (
    GLB,
    LoopNest,
    analytic_traffic,
    bypass_options,
    candidate_tiles,
    enumerate_steps,
    fits,
    glb_mapping,
    resolve_tile,
    tile_bytes,
)
from workloads.layers import GemmShape
from workloads.sparsity import NM
from workloads.workload import LayerWorkload, Workload

DEFAULT_FINALISTS = 3  # candidates the default tiling simulates before choosing
FIRST_WINDOW = WINDOWS[0]


@dataclass(frozen=True, slots=True, eq=False)
class LayerPlan:
    """A layer on an arch, before any mapping: mode, densities, stored bytes."""

    lw: LayerWorkload
    arch: ArchSpec
    pattern: NM | None
    gemm: GemmShape  # one group's
    groups: int
    activation_density: float
    skip_activations: bool
    sizes: OperandBytes  # one group's operands as stored
    mask: np.ndarray | None  # (groups, K, N) when all-zero tiles are skipped

    @property
    def stream_density(self) -> float:
        return self.activation_density if self.skip_activations else 1.0


def plan_layer(lw: LayerWorkload, arch: ArchSpec) -> LayerPlan:
    pe = arch.pe_array
    pattern = select_pattern(lw, pe)
    gemm = lw.gemm
    groups = int(getattr(lw.layer, "groups", 1))
    act = activation_density(lw)
    weights = has_weights(lw)
    nnz = lw.weight_nonzeros / groups if weights else gemm.k * gemm.n
    inputs = lw.layer.input_elements / groups
    sizes = operand_bytes(
        gemm.k, gemm.n, gemm.m, nnz, inputs, act, arch, pattern, dense_weights=not weights
    )
    whole_window = pattern is None or (pe.multipliers * pattern.m) % pattern.n == 0
    mask = weight_mask(lw) if pe.tile_skipping and weights and whole_window else None
    return LayerPlan(
        lw, arch, pattern, gemm, groups, act, pe.activation_skipping and act < 1.0, sizes, mask
    )


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mapping scored without simulating memory."""

    compute_cycles: int  # exact (no tile skipping)
    dram_bytes: float
    bound_cycles: int  # a lower bound on total cycles: compute, or DRAM time
    cycles: float  # estimated total: bound plus the exposed first load and last write


def estimate(
    plan: LayerPlan,
    dataflow: Dataflow,
    tile: tuple[int, int, int],
    loop_order: str,
    bypass: tuple[Operand, ...] = (),
) -> Estimate:
    pe = plan.arch.pe_array
    streams = fold_streams(
        plan.gemm, plan.groups, tile, pe, dataflow, plan.pattern, None, plan.stream_density
    )
    compute = streams.compute_cycles(pe, dataflow)
    nest = LoopNest(plan.gemm, plan.groups, tile, loop_order, bypass)
    return _estimate_with(plan, dataflow, nest, compute)


def _estimate_with(plan: LayerPlan, dataflow: Dataflow, nest: LoopNest, compute: int) -> Estimate:
    dram = plan.arch.dram
    traffic = analytic_traffic(nest, plan.sizes).total
    bw = dram.bandwidth_bytes_per_cycle
    dram_cycles = 0.0 if math.isinf(bw) else traffic / bw
    # the array's operand reads from the GLB (full tiles: an upper estimate)
    glb_bw = plan.arch.glb.port_bandwidth
    reads = _step_nominal(plan, dataflow, nest.tile)[1] * nest.steps
    glb_cycles = 0.0 if math.isinf(glb_bw) else reads / glb_bw
    tiles = tile_bytes(nest, plan.sizes)
    exposed = 0.0 if math.isinf(bw) else (
        (tiles[Operand.INPUTS] + tiles[Operand.WEIGHTS]) / bw
        + 2 * dram.latency_cycles
        + tiles[Operand.OUTPUTS] * plan.arch.pe_array.data_bits / plan.arch.pe_array.acc_bits / bw
    )  # fmt: skip
    bound = max(compute, math.ceil(dram_cycles))
    return Estimate(compute, traffic, bound, max(compute, dram_cycles, glb_cycles) + exposed)


def staging_bytes(plan: LayerPlan, dataflow: Dataflow) -> dict[Operand, float]:
    """One fold's worth of the stationary operand: what a bypassing operand stages."""
    pe = plan.arch.pe_array
    g = plan.gemm
    win = pe.window(plan.pattern) if (plan.pattern is None or not pe.nm_any) else 1
    fold_k = min(g.k, pe.rows * win)
    # a tile shorter than a fold stages only itself (fits() takes the smaller)
    return {
        Operand.WEIGHTS: plan.sizes.weights * fold_k * min(g.n, pe.cols) / (g.k * g.n),
        Operand.INPUTS: plan.sizes.inputs * fold_k * min(g.m, pe.cols) / (g.k * g.m),
    }


def candidate_mappings(
    plan: LayerPlan, dataflow: Dataflow, aligned: bool | None = None
) -> list[tuple[Mapping, Estimate]]:
    """Every fitting (tile, loop order, bypass) for a dataflow with its estimate:
    tiles aligned to the folds, or (when none of those fits) any power of two."""
    if aligned is None:
        return candidate_mappings(plan, dataflow, True) or candidate_mappings(plan, dataflow, False)
    out = []
    pe = plan.arch.pe_array
    staging = staging_bytes(plan, dataflow)
    for tile in candidate_tiles(plan.gemm, plan.arch, dataflow, plan.pattern, aligned):
        streams = fold_streams(
            plan.gemm, plan.groups, tile, pe, dataflow, plan.pattern, None, plan.stream_density
        )
        compute = streams.compute_cycles(pe, dataflow)
        for bypass in bypass_options(dataflow):
            nest = LoopNest(plan.gemm, plan.groups, tile, "nmk", bypass)
            if not fits(nest, plan.sizes, plan.arch, staging):
                continue
            for order in LOOP_ORDERS:
                nest = LoopNest(plan.gemm, plan.groups, tile, order, bypass)
                out.append(
                    (
                        glb_mapping(dataflow, tile, order, bypass),
                        _estimate_with(plan, dataflow, nest, compute),
                    )
                )
    return out


def default_mapping(plan: LayerPlan, dataflow: Dataflow) -> Mapping:
    """The default tiling (module docstring)."""
    return _default(plan, dataflow)[0]


def _default(plan: LayerPlan, dataflow: Dataflow) -> tuple[Mapping, _MappedRun | None]:
    """The default tiling and, when it was simulated for an identical plan, its run."""
    g = plan.gemm
    if plan.arch.scalesim_compat:
        return glb_mapping(dataflow, (g.m, g.n, g.k), "nmk"), None
    return _default_mapping_cached(
        plan.arch, dataflow, g, plan.groups, plan.pattern, plan.sizes, plan.stream_density
    )


@functools.lru_cache(maxsize=1024)
def _default_mapping_cached(
    arch: ArchSpec,
    dataflow: Dataflow,
    gemm: GemmShape,
    groups: int,
    pattern: NM | None,
    sizes: OperandBytes,
    stream_density: float,
) -> tuple[Mapping, _MappedRun | None]:
    # only what the default tiling reads: the layer itself and its mask play no
    # part, so the winner's run stands for any layer with these (mask-free) numbers
    plan = LayerPlan(
        lw=None,  # type: ignore[arg-type]
        arch=arch,
        pattern=pattern,
        gemm=gemm,
        groups=groups,
        activation_density=stream_density,
        skip_activations=stream_density < 1.0,
        sizes=sizes,
        mask=None,
    )
    scored = candidate_mappings(plan, dataflow)
    if scored:
        ranked = sorted(
            scored,
            key=lambda me: (
                me[1].cycles,
                me[1].dram_bytes,
                len(me[0].bypass),
                -math.prod(_tile_of(me[0])),
            ),
        )
        # the estimate ranks; the memory model decides among the few best
        # distinct tiles (loop orders often tie: keep each tile's first)
        finalists: list[Mapping] = []
        for m, _ in ranked:
            if all((f.tiles, f.bypass) != (m.tiles, m.bypass) for f in finalists):
                finalists.append(m)
            if len(finalists) == DEFAULT_FINALISTS:
                break
        runs = [_run_mapping(plan, m) for m in finalists]
        best = min(runs, key=lambda r: r.total)
        return best.mapping, best
    # nothing fits: the smallest tiles, and let the memory model show the cost
    tiles = candidate_tiles(gemm, arch, dataflow, pattern, aligned=False)
    smallest = min(
        tiles, key=lambda t: sum(tile_bytes(LoopNest(gemm, groups, t, "nmk"), sizes).values())
    )
    return glb_mapping(dataflow, smallest, "nmk", bypass_options(dataflow)[-1]), None


def _tile_of(mapping: Mapping) -> tuple[int, int, int]:
    t = mapping.tile(GLB)
    return (t.m, t.n, t.k) if t else (1, 1, 1)


def _step_nominal(
    plan: LayerPlan, dataflow: Dataflow, sizes3: tuple[int, int, int]
) -> tuple[int, float, float]:
    """One GLB tile, all folds live: (compute cycles, operand bytes the array reads
    from the GLB, partial-sum bytes it accumulates).

    Partial sums accumulate in the output tile's buffer beside the array (an
    accumulator memory, as TPU and Gemmini have), so they cost energy but do
    not compete with operand reads for GLB bandwidth.
    """
    pe = plan.arch.pe_array
    rows, cols = pe.rows, pe.cols
    sm, sn, sk = sizes3
    steps = pe.reduction_steps(sk, plan.pattern)
    d = plan.stream_density
    data, acc = pe.data_bits / 8, pe.acc_bits / 8
    g = plan.gemm
    w_tile = plan.sizes.weights * sk * sn / (g.k * g.n)
    a_tile = sm * sk * data  # the lowered (im2col) operand the array reads
    out_tile = sm * sn * acc
    row_folds = -(-steps // rows)
    if dataflow is Dataflow.WS:
        folds, t = row_folds * -(-sn // cols), max(1, math.ceil(sm * d))
        reads, psums = w_tile + -(-sn // cols) * a_tile * d, out_tile * (2 * row_folds - 1)
    elif dataflow is Dataflow.IS:
        folds, t = row_folds * -(-sm // cols), sn
        reads, psums = a_tile + -(-sm // cols) * w_tile, out_tile * (2 * row_folds - 1)
    else:
        folds, t = -(-sm // rows) * -(-sn // cols), max(1, math.ceil(steps * d))
        reads, psums = -(-sn // cols) * a_tile * d + -(-sm // rows) * w_tile, out_tile
    return folds * period_cycles(pe, dataflow, t), reads, psums


def _skip_lists(plan: LayerPlan, tile: tuple[int, int, int]) -> list[np.ndarray] | None:
    """Per K tile, (groups, steps, N) nonzero reduction steps of the real mask."""
    if plan.mask is None:
        return None
    win = plan.arch.pe_array.window(plan.pattern)
    tk = tile[2]
    return [
        reduction_nonzero(plan.mask[:, k0 : k0 + tk, :], win) for k0 in range(0, plan.gemm.k, tk)
    ]


@dataclass(frozen=True, slots=True, eq=False)
class _MappedRun:
    """A layer under one mapping: its folds and the memory model's run."""

    mapping: Mapping
    streams: FoldStreams
    compute: int
    run: MemoryRun
    steps: list
    nominal: Callable

    @property
    def total(self) -> int:
        return max(self.compute, self.run.end_cycles)


def _run_mapping(plan: LayerPlan, mapping: Mapping) -> _MappedRun:
    pe = plan.arch.pe_array
    dataflow = mapping.dataflow
    check_mapping(mapping, (GLB,), "mapping")
    tile = resolve_tile(mapping, plan.gemm)
    nest = LoopNest(plan.gemm, plan.groups, tile, mapping.loop_order, mapping.bypass)
    streams = fold_streams(
        plan.gemm, plan.groups, tile, pe, dataflow, plan.pattern,
        _skip_lists(plan, tile), plan.stream_density,
    )  # fmt: skip
    compute = streams.compute_cycles(pe, dataflow)
    tail = tail_cycles(pe, dataflow, streams.last_stream_len) if streams.counts else 0
    nominal = functools.lru_cache(maxsize=None)(
        lambda s: _step_nominal(plan, dataflow, s)
    )  # per distinct tile shape
    steps = first = enumerate_steps(nest, plan.sizes, window=FIRST_WINDOW)
    nominal_total = sum(s.weight * nominal(s.sizes)[0] for s in steps)
    # the exact compute spread over the tiles in proportion to their folds
    # (skipped tiles are spread evenly: the memory model sees the average)
    scale = (compute - tail) / nominal_total if nominal_total else 0.0

    def build(window):
        steps = first if window == FIRST_WINDOW else enumerate_steps(nest, plan.sizes, window)
        costs = [StepCost(round(nominal(s.sizes)[0] * scale), nominal(s.sizes)[1]) for s in steps]
        return steps, costs

    run = run_memory(plan.arch.memory, build, tail)
    return _MappedRun(mapping, streams, compute, run, steps, nominal)


def simulate_layer(
    lw: LayerWorkload,
    arch: ArchSpec,
    mapping: Mapping | None = None,
    table: EnergyTable | None = None,
) -> LayerResult:
    """One layer on the arch: cycles (compute, fill/drain, stall), traffic, energy."""
    table = table or load_energy_table(arch.energy_table)
    pe = arch.pe_array
    plan = plan_layer(lw, arch)
    mapping = mapping or Mapping(pe.dataflow)
    dataflow = mapping.dataflow
    mapped = None
    if not mapping.tiles:
        mapping, mapped = _default(plan, dataflow)
    if mapped is None or plan.mask is not None:
        mapped = _run_mapping(plan, mapping)
    streams, compute, run, full_steps, nominal = (
        mapped.streams, mapped.compute, mapped.run, mapped.steps, mapped.nominal,
    )  # fmt: skip
    steady = streams.steady_cycles
    all_folds = (
        streams.folds
        if plan.mask is None
        else fold_streams(
            plan.gemm, plan.groups, resolve_tile(mapping, plan.gemm), pe, dataflow,
            plan.pattern, None, plan.stream_density,
        ).folds
    )  # fmt: skip
    dram = arch.dram
    dram_read = sum(s.weight * sum(burst_bytes(b, dram) for _, b in s.loads) for s in full_steps)
    dram_write = sum(s.weight * burst_bytes(s.write_bytes, dram) for s in full_steps)
    glb_array = sum(s.weight * sum(nominal(s.sizes)[1:]) for s in full_steps)
    glb_bytes = round(glb_array + dram_read + dram_write)

    report = compute - plan.groups if arch.scalesim_compat and compute else compute
    # the stall against the exact compute (the simulation's per-step compute is
    # the same cycles spread over the tiles, up to rounding)
    stall = max(0, run.end_cycles - compute)
    cycles = Cycles(report, report - steady, stall)

    pe_steps = steady * pe.pes
    slots = pe_steps * pe.multipliers
    real_macs = round(lw.effective_macs * plan.activation_density)
    index_bits = plan.pattern.index_bits if plan.pattern else 0
    window = pe.window(plan.pattern) if (plan.pattern is None or not pe.nm_any) else 1
    data_b, acc_b = pe.data_bits / 8, pe.acc_bits / 8
    counts = ActionCounts(
        macs=real_macs,
        gated_macs=max(slots - real_macs, 0),
        pe_register_bytes=round(pe_steps * (window * data_b + acc_b + pe.multipliers * data_b)),
        glb_bytes=glb_bytes,
        dram_bytes=round(dram_read + dram_write),
        metadata_bits=slots * index_bits,
        pe_cycles=pe.pes * cycles.total,
        glb_kib_cycles=(arch.glb.capacity_bytes or 0) / 1024 * cycles.total,
    )
    if plan.activation_density >= 1.0:
        zeros = "dense"
    elif plan.skip_activations:
        zeros = "skipped"
    else:
        zeros = "gated" if pe.zero_gating else "computed"
    return LayerResult(
        name=lw.name,
        macs=lw.macs,
        effective_macs=lw.effective_macs,
        mode=str(plan.pattern) if plan.pattern else "dense",
        dataflow=str(dataflow),
        folds=streams.folds,
        cycles=cycles,
        multiplier_slots=pe.pes * pe.multipliers * cycles.total,
        energy_pj=energy_breakdown_pj(counts, table, pe.zero_gating),
        dram_bytes=round(dram_read + dram_write),
        glb_bytes=glb_bytes,
        mapping=mapping.to_dict(),
        weight_format=str(plan.sizes.weight_format),
        zero_activations=zeros,
        skipped_folds=all_folds - streams.folds,
        simulated_steps=run.simulated_steps,
        fallback=fallback_reason(lw, pe, plan.pattern),
    )


MappingChoice = Mapping | MappingABC[str, Mapping] | None


def simulate(
    workload: Workload,
    arch: ArchSpec,
    mapping: MappingChoice = None,
    table: EnergyTable | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> WorkloadResult:
    """Run every layer of `workload` on `arch` with the tile model.

    `mapping`: one for every layer (its tiles clamped to each layer; no
    tiles: each layer's default tiling), or one per layer name. `progress`
    is called with (layers done, layers) after each layer.
    """
    table = table or load_energy_table(arch.energy_table)
    layers = []
    for i, lw in enumerate(workload.layers):
        m = mapping.get(lw.name) if isinstance(mapping, MappingABC) else mapping
        layers.append(simulate_layer(lw, arch, m, table))
        if progress:
            progress(i + 1, len(workload.layers))
    return WorkloadResult(arch.name, workload.name, workload.sparsity, tuple(layers))


def dense_baseline(workload: Workload) -> Workload:
    """The same layers unpruned (channel-pruned layers at their original size),
    dense activations: every weight and activation counts, the array runs dense."""
    layers = tuple(LayerWorkload(getattr(lw, "dense_layer", lw.layer)) for lw in workload.layers)
    return Workload(workload.name, layers, sparsity="dense")


def compare_to_dense(
    workload: Workload,
    arch: ArchSpec,
    mapping: MappingChoice = None,
    dense_mapping: MappingChoice = None,
    progress: Callable[[int, int], None] | None = None,
) -> Comparison:
    """Simulate `workload` and its dense baseline on the same hardware
    (`progress`: (layer runs done, layer runs) over both)."""
    table = load_energy_table(arch.energy_table)
    n = len(workload.layers)

    def part(offset: int) -> Callable[[int, int], None] | None:
        return (lambda done, _: progress(offset + done, 2 * n)) if progress else None

    return Comparison(
        simulate(workload, arch, mapping, table, part(0)),
        simulate(dense_baseline(workload), arch, dense_mapping or mapping, table, part(n)),
    )


__all__ = [
    "Dataflow",
    "Estimate",
    "LayerPlan",
    "candidate_mappings",
    "compare_to_dense",
    "default_mapping",
    "dense_baseline",
    "estimate",
    "plan_layer",
    "simulate",
    "simulate_layer",
]
