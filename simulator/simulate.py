"""The tile model entry points: `simulate_layer` and `simulate` (pure, no I/O).

Per layer: the mode the array runs (`sparse_modes`), the operands' stored
bytes (`formats`), a mapping (given, or the default tiling below), the
folds and their exact compute cycles (`tile_model.fold_streams`), then the
memory hierarchy's simpy simulation of the GLB tiles (`memory`), which adds
the stall. Energy = action counts x energy per action (`energy`).

Default tiling (when the mapping names no tiles): among GLB tiles that cut
no fold and fit the on-chip levels (every stage), and every loop order,
the one with the fewest estimated cycles: the slowest of compute, every
level's traffic at its bandwidth and the loader's per-step latency (each
load's cut-through time over its path, s - 1 in flight with s stages), plus
the exposed first load and last write-back (`_Evaluator._loader`, one model
for single- and multi-core archs); ties go to less DRAM traffic, then
to larger tiles. A SCALE-Sim arch (`scalesim_compat`) keeps SCALE-Sim's
loop nest: whole operands streamed, no GLB tiling.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from collections.abc import Callable
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass

import numpy as np

from mappings.dataflow import ROLES, Dataflow, Operand
from mappings.mapping import LOOP_ORDERS, LevelTile, Mapping, check_mapping
from simulator import cores
from simulator.accesses import (
    Accesses,
    Nest,
    count_accesses,
    default_nest,
    level_format_scales,
)
from simulator.arch import ArchSpec, LevelKind, MemLevelSpec, PEArraySpec
from simulator.capacity import TileFit, fits_nest
from simulator.energy import ArrayActions, action_costs, energy_estimate_pj, price
from simulator.energy_table import EnergyTable
from simulator.formats import OperandBytes, operand_bytes
from simulator.memory import WINDOWS, MemoryRun, StepCost, path_cycles, run_memory
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
    fold_units,
    glb_mapping,
    tile_bytes,
    tile_options,
)
from workloads.layers import GemmShape, input_window
from workloads.sparsity import NM
from workloads.workload import LayerWorkload, Workload

DEFAULT_FINALISTS = 3  # candidates the default tiling simulates before choosing
FINALIST_SLACK = 1.15  # ... when their estimate is within this factor of the best
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
    real_macs: float | None = None  # nonzero weight x nonzero activation MACs
    # network-level scheduling: the input is on chip already / the output stays
    # there, so the mapping search neither loads nor stores them (nor gives them tiles)
    inputs_resident: bool = False
    outputs_resident: bool = False
    # the weights' nonzero fraction where reads are conditioned on them (gating_saves
    # with inputs), else 1
    weight_density: float = 1.0

    @property
    def stream_density(self) -> float:
        return self.activation_density if self.skip_activations else 1.0

    @property
    def resident(self) -> tuple[Operand, ...]:
        return tuple(
            op
            for op, on in ((Operand.INPUTS, self.inputs_resident),
                           (Operand.OUTPUTS, self.outputs_resident))
            if on
        )  # fmt: skip


def layer_arch(lw: LayerWorkload, arch: ArchSpec) -> ArchSpec:
    """The arch as this layer runs on it: its own operand widths when it has them
    (a quantized layer: bytes moved and MAC energy follow its widths)."""
    wb, ib = getattr(lw, "weight_bits", None), getattr(lw, "input_bits", None)
    if wb is None and ib is None:
        return arch
    pe = arch.pe_array
    widths = {"weight_bits": wb or pe.weight_bits, "input_bits": ib or pe.input_bits}
    return dataclasses.replace(arch, pe_array=dataclasses.replace(pe, **widths))


def plan_layer(lw: LayerWorkload, arch: ArchSpec, residency: Residency | None = None) -> LayerPlan:
    """The layer on the arch; `residency`: what network-level scheduling keeps on chip."""
    arch = layer_arch(lw, arch)
    pe = arch.pe_array
    pattern = select_pattern(lw, pe)
    gemm = lw.gemm
    groups = int(getattr(lw.layer, "groups", 1))
    act = activation_density(lw)
    weights = has_weights(lw)
    nnz = lw.weight_nonzeros / groups if weights else gemm.k * gemm.n
    window = input_window(lw.layer)
    rows_k = (gemm.k, gemm.m) if window is not None and window.transposed else (gemm.m, gemm.k)
    if window is not None and ((window.rows, window.reduction) != rows_k or not window.enumerable):
        # a layer whose GEMM no longer is its conv's, or too large to enumerate
        # its tiles (workloads.window.MAX_EXTENT): a plain matrix
        window = None
    # a conv's input is the ifmap its window reads (padded, as Timeloop counts it)
    inputs = window.elements if window is not None else lw.layer.input_elements / groups
    sizes = operand_bytes(
        gemm.k, gemm.n, gemm.m, nnz, inputs, act, arch, pattern, dense_weights=not weights,
        window=window, output_density=lw.output_density,
    )  # fmt: skip
    whole_window = pattern is None or (pe.multipliers * pattern.m) % pattern.n == 0
    mask = weight_mask(lw) if pe.tile_skipping and weights and whole_window else None
    res = residency or NO_RESIDENCY
    return LayerPlan(
        lw, arch, pattern, gemm, groups, act, pe.activation_skipping and act < 1.0, sizes, mask,
        lw.effective_macs * act, res.inputs_on_chip, res.outputs_on_chip,
        _conditioning_weight_density(lw, pe),
    )  # fmt: skip


@dataclass(frozen=True, slots=True, eq=False)
class CoreView:
    """The busiest core of a multi-core arch under one per-core tile (`simulator.cores`):
    its tiles stacked along M as one GEMM, on the core's share of the shared levels."""

    split: cores.CoreSplit
    plan: LayerPlan
    fetched: dict[Operand, float] | None  # what the sharing level fetches (None: no multicast)


def core_view(plan: LayerPlan, tile: tuple[int, int, int]) -> CoreView:
    """The busiest core's work when each core's outermost private level holds `tile`."""
    arch, g = plan.arch, plan.gemm
    tm, tn, tk = tile
    sp = cores.split(arch, g, plan.groups, tm, tn)
    multicast = cores.multicast_fits(arch, sp, min(tk, g.k), plan.sizes, g)
    shares = cores.bandwidth_shares(arch, sp, g, plan.sizes, multicast)
    sub = GemmShape(sp.waves * sp.tm, sp.tn, g.k)
    share = sub.m * sub.n / (g.m * g.n * plan.groups)
    core = dataclasses.replace(
        plan,
        arch=cores.core_arch(arch, shares),
        gemm=sub,
        groups=1,
        sizes=cores.core_sizes(plan.sizes, g, sub),
        mask=None,  # all-zero tiles are counted over the chip, not per core
        real_macs=None if plan.real_macs is None else plan.real_macs * share,
    )
    fetched = cores.multicast_bytes(sp, g, plan.sizes) if multicast else None
    return CoreView(sp, core, fetched)


def _core_tile(plan: LayerPlan, nest: Nest) -> tuple[int, int, int]:
    """The tile of the outermost private level in the chip's nest."""
    name = cores.private_level(plan.arch)
    return next(lv.tile for lv in nest.levels if lv.name == name)


def chip_accesses(
    plan: LayerPlan,
    mapping: Mapping,
    nest: Nest,
    streams: FoldStreams,
    view: CoreView,
    residency: Residency | None = None,
) -> Accesses:
    """Every core's accesses: the single-array count over all tiles (the sum over
    cores), with the shared levels' fetches cut by multicast."""
    acc = layer_accesses(plan, mapping, nest, streams, residency or NO_RESIDENCY)
    if view.fetched is None:
        return acc
    return cores.apply_multicast(acc, plan.arch, view.fetched, plan.sizes)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mapping scored without simulating memory (one mapping evaluation)."""

    compute_cycles: int  # exact (no tile skipping)
    dram_bytes: float
    bound_cycles: int  # a lower bound on total cycles: compute, or DRAM time
    cycles: float  # estimated total: the slowest of compute and each level's traffic, plus
    # the exposed first load and last write
    energy_pj: float  # every level's accesses, MACs, registers, network (leakage at `cycles`)

    def value(self, objective: str) -> float:
        return {
            "cycles": self.cycles,
            "energy": self.energy_pj,
            "edp": self.cycles * self.energy_pj,
        }[objective]


OBJECTIVES = ("cycles", "energy", "edp")


class _Evaluator:
    """Scores mappings of one layer plan; caches what depends on the array tile only."""

    def __init__(self, plan: LayerPlan) -> None:
        self.plan = plan
        # (dataflow, array tile) -> (compute cycles, steady cycles, folds)
        self.compute: dict[tuple, tuple[int, int, FoldStreams]] = {}
        pe = plan.arch.pe_array
        self.real_macs = plan.real_macs
        self.costs = action_costs(plan.arch)
        self.sides: dict = {}
        self.weight_density = plan.weight_density
        self.fit_inputs: dict[tuple[int, int], float] = {}  # every `TileFit` of the plan
        self.at_step: dict[tuple[str, ...], int] = {}  # tiled levels -> the step level's index
        # (step level index, its tile chain and loop order) -> the loader's terms
        self.loader: dict[tuple, tuple[float, float, float]] = {}
        # the loader's paths (down per operand, up for outputs) and what they take alone
        mem = plan.arch.memory
        self.down = {op: mem.path_for(op) for op in Operand}
        self.up = tuple(reversed(self.down[Operand.OUTPUTS]))
        self.path_time: dict[tuple, int] = {}
        self.stages: dict[tuple[Operand, str], int] = {}
        # per step tile (whatever its loop order): one tile's bytes, the exposed loads
        self.step_tiles: dict[tuple, tuple[dict[Operand, float], float]] = {}
        self.resident = plan.resident
        self.pe = pe
        self.pes = pe.pes
        self.stream_density = plan.stream_density
        self.evaluations = 0
        self.port_bandwidth = {lv.name: lv.port_bandwidth for lv in plan.arch.memory.levels}
        self.concurrency = {lv.name: lv.concurrency for lv in plan.arch.memory.levels}
        mem = plan.arch.memory
        # per off-chip link: its name, bandwidth, latency and the operands homed there
        self.links = tuple(
            (src.name, src.bandwidth_bytes_per_cycle, src.latency_cycles,
             frozenset(op for op in Operand if mem.source_for(op) is src))
            for src in mem.off_chip
        )  # fmt: skip
        # a multi-core arch: the busiest core's evaluator per (core tile, multicast)
        self.cores: dict[tuple, tuple[CoreView, _Evaluator]] = {}
        if plan.arch.cores > 1:
            self.chip = cores.chip_arch(plan.arch)
            self.chip_costs = action_costs(self.chip)

    def streams(
        self, dataflow: Dataflow, tile: tuple[int, int, int]
    ) -> tuple[int, int, FoldStreams]:
        """The folds of an array tile: (compute cycles, steady cycles, the folds)."""
        key = (dataflow, tile)
        hit = self.compute.get(key)
        if hit is None:
            plan, pe = self.plan, self.pe
            st = fold_streams(
                plan.gemm, plan.groups, tile, pe, dataflow, plan.pattern, None, plan.stream_density
            )
            hit = self.compute[key] = (st.compute_cycles(pe, dataflow), st.steady_cycles, st)
        return hit

    def step_tile_bytes(self, index: int, nest: Nest) -> dict[Operand, float]:
        """Input and weight tiles of the step level plus its output tile (data width);
        a resident input or output moves nothing."""
        plan = self.plan
        g = plan.gemm
        tm, tn, tk = nest.levels[index].tile
        s = plan.sizes
        inputs = s.inputs * tm * tk / (g.m * g.k)
        if s.window is not None:  # a conv: the first input tile's footprint
            chain = tuple(lv.tile for lv in nest.levels[:index])
            inputs = s.tile_bytes(g, (tm, tn, tk), chain)[Operand.INPUTS]
        return {
            Operand.INPUTS: 0.0 if plan.inputs_resident else inputs,
            Operand.WEIGHTS: s.weights * tk * tn / (g.k * g.n),
            Operand.OUTPUTS: 0.0 if plan.outputs_resident else s.outputs * tm * tn / (g.m * g.n),
        }

    def __call__(self, mapping: Mapping, nest: Nest | None = None) -> Estimate:
        self.evaluations += 1
        plan = self.plan
        arch = plan.arch
        nest = nest or nest_of(plan, mapping)
        if arch.cores > 1:
            return self._chip(mapping, nest)
        compute, slots, real, acc = self._accesses(mapping, nest)
        dram_bytes, off_chip = self._links(acc)
        slowest = off_chip
        levels = tuple([t.level for t in mapping.tiles])  # decide the step level
        at_step = self.at_step.get(levels)
        if at_step is None:
            step = _step_level(arch, mapping)
            at_step = next(i for i, lv in enumerate(nest.levels) if lv.name == step)
            self.at_step[levels] = at_step
        # every on-chip level's traffic at its ports (acc.levels has DRAM first): above
        # the step level all of it (an L2), at and inside it the array-side reads
        for i, (lv, la) in enumerate(zip(nest.levels, acc.levels[1:], strict=False)):
            lbw = self.port_bandwidth[lv.name]
            if math.isinf(lbw):
                continue
            if i < at_step:
                slowest = max(slowest, la.total.total_bytes / (lbw * self.concurrency[lv.name]))
                continue
            reads = 0.0  # the operands' reads (outputs go through the accumulate path)
            for op, a in la.operands:
                if op is not Operand.OUTPUTS:
                    reads += a.reads_bytes
            slowest = max(slowest, reads / lbw)
        pipelined, serial, exposed = self._loader(at_step, nest)
        cycles = max(compute + serial, slowest, pipelined) + exposed
        energy = energy_estimate_pj(
            acc, arch, real, max(slots - real, 0), cycles, plan.pattern, slots, self.costs
        )
        bound = max(compute, math.ceil(off_chip))
        return Estimate(compute, dram_bytes, bound, cycles, energy)

    def _loader(self, at_step: int, nest: Nest) -> tuple[float, float, float]:
        """What the memory model's loader adds to the step level's tiles (single and
        multi-core alike): (pipelined, serial, exposed) cycles.

        Each load alone takes its path's cut-through time (the hops' latencies plus
        its bytes at the bottleneck port, `memory.path_cycles`); an operand with s
        stages keeps s - 1 loads in flight while the array computes, so its loads
        need at least loads x that time / (s - 1) over the layer (`pipelined`, the
        slowest operand: the streams load at once); with one stage nothing overlaps
        the compute (`serial`, added to it). The first step's loads and the last
        write-back are exposed whole (`exposed`)."""
        lv = nest.levels[at_step]
        key = (at_step, tuple(x.tile for x in nest.levels[: at_step + 1]), lv.loop_order)
        hit = self.loader.get(key)
        if hit is not None:
            return hit
        plan = self.plan
        memory = plan.arch.memory
        loops = LoopNest(plan.gemm, plan.groups, lv.tile, lv.loop_order)
        traffic = analytic_traffic(loops, plan.sizes)
        down, up = self.down, self.up
        at_tiles = self.step_tiles.get(key[:2])
        if at_tiles is None:
            first = self.step_tile_bytes(at_step, nest)
            loads = [
                self._path_cycles(first[op], down[op]) for op in (Operand.INPUTS, Operand.WEIGHTS)
            ]
            exposed = max(loads, default=0.0) + self._path_cycles(first[Operand.OUTPUTS], up)
            at_tiles = self.step_tiles[key[:2]] = (tile_bytes(loops, plan.sizes), float(exposed))
        one, exposed = at_tiles
        resident = self.resident
        pipelined = serial = 0.0
        streams = (
            (Operand.INPUTS, traffic.inputs, down[Operand.INPUTS]),
            (Operand.WEIGHTS, traffic.weights, down[Operand.WEIGHTS]),
            (Operand.OUTPUTS, traffic.psum_reads, down[Operand.OUTPUTS]),
            (Operand.OUTPUTS, traffic.output_writes, up),
        )
        for op, total, path in streams:
            if op in resident or one[op] <= 0 or total <= 0:
                continue
            cycles = total / one[op] * self._path_cycles(one[op], path)
            stages = self.stages.get((op, lv.name))
            if stages is None:
                stages = self.stages[(op, lv.name)] = memory.stages_for(op, lv.name)
            if stages > 1:
                pipelined = max(pipelined, cycles / (stages - 1))
            else:
                serial = max(serial, cycles)
        hit = self.loader[key] = (pipelined, serial, exposed)
        return hit

    def _path_cycles(self, nbytes: float, path: tuple[MemLevelSpec, ...]) -> int:
        """`memory.path_cycles`, remembered: a search asks for the same tile sizes
        (`path`: one of this evaluator's own, so its identity names it)."""
        key = (nbytes, id(path))
        hit = self.path_time.get(key)
        if hit is None:
            hit = self.path_time[key] = path_cycles(nbytes, path)
        return hit

    def _accesses(self, mapping: Mapping, nest: Nest) -> tuple[int, int, float, Accesses]:
        """(compute cycles, multiplier slots, real MACs, accesses) of the whole nest."""
        plan = self.plan
        compute, steady, _ = self.streams(mapping.dataflow, nest.array_tile)
        slots = steady * self.pes * self.pe.multipliers
        real = self.real_macs if self.real_macs is not None else slots
        acc = count_accesses(
            nest, plan.arch, mapping.dataflow, plan.pattern, plan.sizes, self.stream_density,
            min(1.0, real / slots) if slots else 1.0, steady * self.pes,
            plan.inputs_resident, plan.outputs_resident, cache=self.sides,
            weight_density=self.weight_density,
        )  # fmt: skip
        return compute, slots, real, acc

    def _links(self, acc: Accesses) -> tuple[float, float]:
        """Bytes over every off-chip link, and the slowest link's time."""
        dram_bytes = off_chip = 0.0
        for name, bw, _, _ in self.links:
            reads, _, updates = acc.level(name).totals()
            nbytes = reads + updates
            dram_bytes += nbytes
            if not math.isinf(bw):
                off_chip = max(off_chip, nbytes / bw)
        return dram_bytes, off_chip

    def _chip(self, mapping: Mapping, nest: Nest) -> Estimate:
        """A multi-core arch: time is the busiest core's (scored by the single-core
        evaluator on its tiles), accesses and energy are every core's."""
        plan = self.plan
        tile = _core_tile(plan, nest)
        sp = cores.split(plan.arch, plan.gemm, plan.groups, tile[0], tile[1])
        key = (sp.tm, sp.tn, cores.multicast_fits(plan.arch, sp, tile[2], plan.sizes, plan.gemm))
        hit = self.cores.get(key)
        if hit is None:
            view = core_view(plan, tile)
            hit = self.cores[key] = (view, _Evaluator(view.plan))
        view, core_ev = hit
        core = core_ev(mapping)
        _, slots, real, acc = self._accesses(mapping, nest)
        if view.fetched is not None:
            acc = cores.apply_multicast(acc, plan.arch, view.fetched, plan.sizes)
        dram_bytes, off_chip = self._links(acc)
        # the core's estimate has its loader and its share of every level; a shared
        # level's whole traffic (multicast counted once) over its whole bandwidth
        cycles = core.cycles
        for name in plan.arch.shared_levels[1:]:
            lv = plan.arch.memory.level(name)
            bw = lv.bandwidth_bytes_per_cycle * lv.concurrency
            if not math.isinf(bw):
                cycles = max(cycles, acc.level(name).total.total_bytes / bw)
        energy = energy_estimate_pj(
            acc, self.chip, real, max(slots - real, 0), cycles, plan.pattern, slots,
            self.chip_costs,
        )  # fmt: skip
        bound = max(core.compute_cycles, math.ceil(off_chip))
        return Estimate(core.compute_cycles, dram_bytes, bound, cycles, energy)


def estimate(plan: LayerPlan, mapping: Mapping) -> Estimate:
    """One mapping's instant score (no memory simulation)."""
    return _Evaluator(plan)(mapping)


def staging_bytes(plan: LayerPlan, dataflow: Dataflow) -> dict[Operand, float]:
    """One fold's worth of the stationary operand: what a bypassing operand stages."""
    pe = plan.arch.pe_array
    g = plan.gemm
    win = pe.window(plan.pattern) if (plan.pattern is None or not pe.nm_any) else 1
    fold_k = min(g.k, pe.rows * win)
    # a tile shorter than a fold stages only itself (fits() takes the smaller)
    inputs = plan.sizes.inputs * fold_k * min(g.m, pe.cols) / (g.k * g.m)
    if plan.sizes.window is not None:  # a conv: the fold's footprint
        fold = (min(g.m, pe.cols), 1, fold_k)
        inputs = plan.sizes.tile_bytes(g, fold)[Operand.INPUTS]
    return {
        Operand.WEIGHTS: plan.sizes.weights * fold_k * min(g.n, pe.cols) / (g.k * g.n),
        Operand.INPUTS: inputs,
    }


@functools.lru_cache(maxsize=8)
def _effective_orders(moving: str) -> tuple[str, ...]:
    """Loop orders that differ once loops of one trip are dropped (the rest tie);
    `moving`: the dimensions whose loops take more than one trip."""
    seen, out = set(), []
    for order in LOOP_ORDERS:
        key = "".join([d for d in order if d in moving])
        if key not in seen:
            seen.add(key)
            out.append(order)
    return tuple(out)


def _with_inner_tiles(
    plan: LayerPlan, mapping: Mapping, staging: dict[Operand, float], evaluator=None
) -> tuple[Mapping, Nest] | None:
    """The mapping if every level holds its tiles; else, when a level inside the
    step level is too small, an (m, n) tile of it that fits, or None.

    K stays whole at the inner levels (partial sums stay in them); where no
    tile fits so, the levels keeping no outputs, and those inside them, cut K
    to one fold (TPU v1's weight FIFO holds weight tiles, not the GLB tile's
    K): their loops run K innermost, so partial sums still stay in the output
    level. Among the fitting tiles that cannot grow, the one `evaluator`
    estimates fastest (how much of the GLB tile an inner level holds decides
    how often operands the GLB does not keep are fetched again)."""
    nest = nest_of(plan, mapping)
    if fits_nest(nest, plan.sizes, plan.arch, staging, plan.resident):
        return mapping, nest
    step = _step_level(plan.arch, mapping)
    names = [lv.name for lv in nest.levels]
    inner = nest.levels[names.index(step) + 1 :]
    if not inner:
        return None
    tm, tn, tk = nest.levels[names.index(step)].tile
    units = fold_units(plan.arch, mapping.dataflow, plan.pattern)
    opts_m = tile_options(tm, min(units["m"], tm), min(units["m"], tm))
    opts_n = tile_options(tn, min(units["n"], tn), min(units["n"], tn))

    def inner_tiles(im: int, in_: int, cut: bool) -> tuple[LevelTile, ...]:
        k, out = tk, []
        for lv in inner:
            if cut and Operand.OUTPUTS not in lv.holds:
                k = min(k, units["k"])
            out.append(LevelTile(lv.name, im, in_, k, "nmk"))
        return tuple(out)

    def fitting(im: int, in_: int, cut: bool) -> tuple[Mapping, Nest] | None:
        m2 = dataclasses.replace(mapping, tiles=mapping.tiles + inner_tiles(im, in_, cut))
        nest2 = nest_of(plan, m2)
        if fits_nest(nest2, plan.sizes, plan.arch, staging, plan.resident):
            return m2, nest2
        return None

    for cut in (False, True):
        # the fitting frontier as a staircase (a smaller tile fits where a larger
        # one does): for m growing, the largest n that fits only shrinks
        front: list[tuple[tuple[int, int], tuple[Mapping, Nest]]] = []
        j = len(opts_n) - 1
        for im in opts_m:
            found = None
            while j >= 0 and (found := fitting(im, opts_n[j], cut)) is None:
                j -= 1
            if found is None:
                break
            if front and front[-1][0][1] == opts_n[j]:
                front.pop()  # the same n with a smaller m: dominated
            front.append(((im, opts_n[j]), found))
        if not front:
            continue
        if evaluator is None:
            return max(front, key=lambda f: (f[0][0] * f[0][1], f[0][1]))[1]
        return min(front, key=lambda f: (evaluator(*f[1]).cycles, -f[0][0] * f[0][1]))[1]
    return None


def candidate_mappings(
    plan: LayerPlan, dataflow: Dataflow, aligned: bool | None = None, evaluator=None
) -> list[tuple[Mapping, Estimate]]:
    """Every fitting mapping of the space for a dataflow, with its estimate: GLB
    tiles (fold-aligned near-divisors and powers of two; when none fits, any
    size) on the fitting frontier (growing a dimension on the array to its
    next option would not fit; every streamed size), x bypass x the loop
    orders that differ; levels inside the
    GLB that cannot hold its tile get the largest (m, n) tile that fits."""
    if aligned is None:
        ev = evaluator or _Evaluator(plan)
        return candidate_mappings(plan, dataflow, True, ev) or candidate_mappings(
            plan, dataflow, False, ev
        )
    ev = evaluator or _Evaluator(plan)
    g = plan.gemm
    staging = staging_bytes(plan, dataflow)
    tiles = candidate_tiles(g, plan.arch, dataflow, plan.pattern, aligned)
    options = [sorted({t[i] for t in tiles}) for i in range(3)]
    following = [dict(itertools.pairwise(opts)) for opts in options]  # next larger option
    names = on_chip_levels(plan.arch)
    inner_levels = names.index(plan.arch.glb.name) < len(names) - 1
    # the frontier is taken over the dims on the array; a shorter streamed tile
    # costs no reuse and lets loads overlap compute, so all its sizes stay
    spatial = ["mnk".index(ROLES[dataflow].rows), "mnk".index(ROLES[dataflow].cols)]
    # the frontier's premise (a larger tile moves no more) fails where levels inside
    # the GLB stage operands (TPU v1's weight FIFO and accumulators): a larger GLB
    # tile makes each step's loads and the exposed first load larger, for reuse the
    # inner levels bound anyway; there every fitting tile is scored
    prune = not inner_levels
    out = []
    # floats: the fit checks multiply by per-element bytes anyway, and a saved workload
    # may give dimensions past int64 (exact below 2**53, far past any capacity above)
    tile_array = np.array(tiles, dtype=np.float64).reshape(-1, 3)
    input_bytes = None  # each tile's input bytes (whatever the bypass)
    for bypass in bypass_options(dataflow):
        quick = TileFit(plan.sizes, plan.arch, g, bypass, staging, plan.resident, ev.fit_inputs)
        if input_bytes is None:
            input_bytes = quick.input_bytes(tiles, tile_array)
        # tile -> its mapping when levels inside the GLB take smaller tiles (None:
        # the GLB tile alone, built only for the tiles on the frontier)
        fitting: dict[tuple[int, int, int], Mapping | None] = {}
        for tile, fits in zip(tiles, quick.fitting(tile_array, input_bytes), strict=True):
            if fits:
                fitting[tile] = None
            elif inner_levels:  # a level inside the GLB may take a smaller tile
                found = _with_inner_tiles(
                    plan, glb_mapping(dataflow, tile, "nmk", bypass), staging, ev
                )
                if found is not None:
                    fitting[tile] = found[0]
        for tile, inner in fitting.items():
            # the frontier: a tile some dimension of which could grow and still fit loses
            grows = False
            for i in spatial if prune else ():
                up = following[i].get(tile[i])
                if up is not None:
                    bigger = (
                        (up, tile[1], tile[2])
                        if i == 0
                        else ((tile[0], up, tile[2]) if i == 1 else (tile[0], tile[1], up))
                    )
                    if bigger in fitting:
                        grows = True
                        break
            if grows:
                continue
            base = inner if inner is not None else glb_mapping(dataflow, tile, "nmk", bypass)
            moving = "".join([d for d, t in zip("mnk", tile, strict=True) if getattr(g, d) > t])
            for order in _effective_orders(moving):
                m = Mapping(base.dataflow, base.tiles, order, base.bypass)
                nest = nest_of(plan, m)
                # with levels inside the GLB the fit depends on the loop order (K
                # outside the output loops spills partial sums to the level outside
                # the accumulating one): each order is checked
                if inner_levels and not fits_nest(
                    nest, plan.sizes, plan.arch, staging, plan.resident
                ):
                    continue
                out.append((m, ev(m, nest)))
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
        plan.arch, dataflow, g, plan.groups, plan.pattern, plan.sizes, plan.stream_density,
        plan.real_macs, plan.inputs_resident, plan.outputs_resident, plan.weight_density,
    )  # fmt: skip


def default_run(plan: LayerPlan, dataflow: Dataflow) -> tuple[Mapping, _MappedRun]:
    """The default mapping with its simulated run (for this plan's mask)."""
    mapping, run = _default(plan, dataflow)
    if run is None or plan.mask is not None:
        run = _run_mapping(plan, mapping)
    return mapping, run


def rank_key(objective: str):
    """Order of estimates for an objective: its value, ties to less energy."""
    return lambda est: (est.value(objective), est.energy_pj)


def run_value(run: _MappedRun, objective: str) -> tuple[float, float]:
    cycles, energy = run.total, run.energy_pj
    return ({"cycles": cycles, "energy": energy, "edp": cycles * energy}[objective], energy)


def search(
    plan: LayerPlan,
    dataflows: tuple[Dataflow, ...],
    objective: str = "cycles",
    finalists: int = DEFAULT_FINALISTS,
) -> tuple[_MappedRun | None, int, int]:
    """The best mapping for an objective: every candidate estimated, the best
    `finalists` distinct tilings simulated, the best run kept. (run, candidates
    estimated, mappings simulated)."""
    if objective not in OBJECTIVES:
        raise ValueError(f"objective {objective!r}; allowed: {', '.join(OBJECTIVES)}")
    ev = _Evaluator(plan)
    scored = []
    for df in dataflows:
        scored += candidate_mappings(plan, df, None, ev)
    if not scored:
        return None, 0, 0
    key = rank_key(objective)
    ranked = sorted(
        scored,
        key=lambda me: (*key(me[1]), me[1].dram_bytes, len(me[0].bypass), -_volume(me[0])),
    )
    chosen: list[Mapping] = []
    lead = ranked[0][1].value(objective)
    for m, est in ranked:
        if chosen and est.value(objective) > FINALIST_SLACK * lead:
            break  # the estimate already separates the rest
        if all((f.dataflow, f.tiles, f.bypass) != (m.dataflow, m.tiles, m.bypass) for f in chosen):
            chosen.append(m)
        if len(chosen) == finalists:
            break
    runs = [_run_mapping(plan, m) for m in chosen]
    best = min(runs, key=lambda r: run_value(r, objective))
    return best, len(scored), len(runs)


@functools.lru_cache(maxsize=1024)
def _default_mapping_cached(
    arch: ArchSpec,
    dataflow: Dataflow,
    gemm: GemmShape,
    groups: int,
    pattern: NM | None,
    sizes: OperandBytes,
    stream_density: float,
    real_macs: float | None,
    inputs_resident: bool = False,
    outputs_resident: bool = False,
    weight_density: float = 1.0,
) -> tuple[Mapping, _MappedRun | None]:
    # only what the default tiling reads: the layer itself and its mask play no
    # part, so the winner's run stands for any layer with these numbers
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
        real_macs=real_macs,
        inputs_resident=inputs_resident,
        outputs_resident=outputs_resident,
        weight_density=weight_density,
    )
    best, _, _ = search(plan, (dataflow,), "cycles")
    if best is not None:
        return best.mapping, best
    # nothing fits: the smallest tiles, and let the memory model show the cost
    tiles = candidate_tiles(gemm, arch, dataflow, pattern, aligned=False)
    smallest = min(
        tiles, key=lambda t: sum(tile_bytes(LoopNest(gemm, groups, t, "nmk"), sizes).values())
    )
    return glb_mapping(dataflow, smallest, "nmk", bypass_options(dataflow)[-1]), None


def _volume(mapping: Mapping) -> int:
    t = mapping.tile(GLB)
    return t.m * t.n * t.k if t else 1


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
    roles = ROLES[dataflow]
    sm, sn, sk = sizes3
    d = plan.stream_density
    data, acc = pe.a_bits / 8, pe.acc_bits / 8
    g = plan.gemm
    size = {"m": sm, "n": sn, "k": pe.reduction_steps(sk, plan.pattern)}
    row_folds, col_folds = -(-size[roles.rows] // pe.rows), -(-size[roles.cols] // pe.cols)
    t = size[roles.stream]
    if Operand.INPUTS in roles.streamed and roles.stream != "n":
        t = max(1, math.ceil(t * d))  # skipped zero activations compact the stream
    tile = {
        Operand.WEIGHTS: plan.sizes.weights * sk * sn / (g.k * g.n),
        Operand.INPUTS: sm * sk * data,  # the lowered (im2col) operand the array reads
    }
    folds_along = {roles.rows: row_folds, roles.cols: col_folds}
    reads = 0.0
    for op, dims in ((Operand.WEIGHTS, "kn"), (Operand.INPUTS, "mk")):
        refetch = math.prod(f for dim, f in folds_along.items() if dim not in dims)
        dens = d if (op is Operand.INPUTS and op in roles.streamed) else 1.0
        reads += tile[op] * refetch * dens
    out_tile = sm * sn * acc
    psums = out_tile * (2 * row_folds - 1) if roles.reduction_on_rows else out_tile
    return row_folds * col_folds * period_cycles(pe, dataflow, t), reads, psums


def _skip_lists(plan: LayerPlan, tile: tuple[int, int, int]) -> list[np.ndarray] | None:
    """Per K tile, (groups, steps, N) nonzero reduction steps of the real mask."""
    if plan.mask is None:
        return None
    win = plan.arch.pe_array.window(plan.pattern)
    tk = tile[2]
    return [
        reduction_nonzero(plan.mask[:, k0 : k0 + tk, :], win) for k0 in range(0, plan.gemm.k, tk)
    ]


def on_chip_levels(arch: ArchSpec) -> tuple[str, ...]:
    return tuple(lv.name for lv in arch.memory.levels if lv.kind is not LevelKind.DRAM)


def _step_level(arch: ArchSpec, mapping: Mapping) -> str:
    """The level whose tiles the memory simulation steps: the GLB when the
    mapping tiles it, else the outermost tiled level (untiled: the GLB)."""
    names = [t.level for t in mapping.tiles]
    if GLB in names or not names:
        return arch.glb.name
    return next(n for n in on_chip_levels(arch) if n in names)


def nest_of(plan: LayerPlan, mapping: Mapping) -> Nest:
    """The mapping's loop nest over every on-chip level (`accesses.default_nest`)."""
    g = plan.gemm
    tiles = {}
    for t in mapping.tiles:  # each tile clamped to the GEMM (LevelTile.clamp)
        clamped = (min(t.m, g.m), min(t.n, g.n), min(t.k, g.k))
        tiles[t.level] = (clamped, t.loop_order or mapping.loop_order)
    step = _step_level(plan.arch, mapping)
    if step not in tiles:
        tiles[step] = ((g.m, g.n, g.k), mapping.loop_order)
    return default_nest(plan.arch, g, plan.groups, tiles, mapping.bypass, step)


def _simpy_nest(plan: LayerPlan, mapping: Mapping, nest: Nest) -> LoopNest:
    """The step level's loop nest for the memory simulation: an operand no
    level at or above the step level keeps is fetched for every step."""
    step = _step_level(plan.arch, mapping)
    names = [lv.name for lv in nest.levels]
    upto = nest.levels[: names.index(step) + 1]
    kept = {op for lv in upto for op in lv.holds}
    bypass = tuple(op for op in (Operand.INPUTS, Operand.WEIGHTS) if op not in kept)
    lv = nest.levels[names.index(step)]
    return LoopNest(plan.gemm, plan.groups, lv.tile, lv.loop_order, bypass)


@dataclass(frozen=True, slots=True, eq=False)
class _MappedRun:
    """A layer under one mapping: its folds, accesses and the memory model's run."""

    mapping: Mapping
    nest: Nest
    streams: FoldStreams
    compute: int
    run: MemoryRun
    accesses: Accesses
    energy_pj: float
    # a multi-core arch: `streams`, `compute` and `run` are the busiest core's; the
    # chip's folds (every core's) and the core view it ran under
    chip: FoldStreams | None = None
    view: CoreView | None = None

    @property
    def total(self) -> int:
        return max(self.compute, self.run.end_cycles)


@dataclass(frozen=True, slots=True)
class Residency:
    """Network-level scheduling for one layer: is its input already on chip (its
    producers left it there), does its output stay on chip for its consumers,
    and how many bytes of the holding level resident tensors take meanwhile."""

    inputs_on_chip: bool = False
    outputs_on_chip: bool = False
    reserved_bytes: float = 0.0
    producers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()


NO_RESIDENCY = Residency()


def layer_accesses(
    plan: LayerPlan,
    mapping: Mapping,
    nest: Nest,
    streams: FoldStreams,
    residency: Residency = NO_RESIDENCY,
) -> Accesses:
    pe = plan.arch.pe_array
    slots = streams.steady_cycles * pe.pes * pe.multipliers
    real = plan.real_macs if plan.real_macs is not None else slots
    live = live_fraction(plan, mapping, nest, streams)
    return count_accesses(
        nest, plan.arch, mapping.dataflow, plan.pattern, plan.sizes, plan.stream_density,
        min(1.0, real / slots) if slots else 1.0, streams.steady_cycles * pe.pes,
        residency.inputs_on_chip, residency.outputs_on_chip, live,
        weight_density=plan.weight_density,
    )  # fmt: skip


def _conditioning_weight_density(lw: LayerWorkload, pe: PEArraySpec) -> float:
    """The weights' nonzero fraction where reads are conditioned on them
    (`gating_saves` with inputs) or the MAC reads them from a buffer (PEs without
    registers, where compressed weights hold only their nonzeros), else 1 (not
    looked at: a mask's count costs)."""
    by_weight = pe.zero_gating and Operand.INPUTS in pe.gating_saves
    if (by_weight or not pe.keeps_operands) and lw.layer.has_weights:
        # the nonzeros the layer's MACs count (a descriptor's density, rounded to a count)
        elements = lw.groups * lw.gemm.k * lw.gemm.n
        return lw.weight_nonzeros / elements if elements else 1.0
    return 1.0


def _link_sizes(plan: LayerPlan) -> OperandBytes:
    """The operands as their off-chip homes store them: the bytes the simpy steps move
    over the links (a home with its own format, `MemLevelSpec.formats`; partial sums
    are never compressed; a three-rank format sized untiled here)."""
    s = plan.sizes
    if not s.level_formats:
        return s
    home = plan.arch.memory.source_for
    scale = {op: s.level_scale(home(op).name, op) for op in Operand}
    return dataclasses.replace(
        s,
        weights=s.weights * scale[Operand.WEIGHTS],
        inputs=s.inputs * scale[Operand.INPUTS],
        outputs=s.outputs * scale[Operand.OUTPUTS],
    )


def _home_scale(plan: LayerPlan, nest: Nest, operand: Operand) -> float:
    """An operand's bytes as its off-chip home stores it over the memory-wide format's
    (a home with its own format: `MemLevelSpec.formats`)."""
    if not plan.sizes.level_formats:
        return 1.0
    home = plan.arch.memory.source_for(operand).name
    return level_format_scales(nest, plan.sizes).get((home, operand), 1.0)


def live_fraction(plan: LayerPlan, mapping: Mapping, nest: Nest, streams: FoldStreams) -> float:
    """Folds left once all-zero weight tiles are skipped, over all folds."""
    if plan.mask is None:
        return 1.0
    every = fold_streams(
        plan.gemm, plan.groups, nest.array_tile, plan.arch.pe_array, mapping.dataflow,
        plan.pattern, None, plan.stream_density,
    ).folds  # fmt: skip
    return streams.folds / every if every else 1.0


def _resident_steps(steps: list, nest: LoopNest, residency: Residency) -> list:
    """Steps without the DRAM transfers a resident input / kept output saves."""
    if not (residency.inputs_on_chip or residency.outputs_on_chip):
        return steps
    k_pos = 1 + nest.loop_order.index("k")
    last_k = nest.trips["k"] - 1
    out = []
    for st in steps:
        loads, releases, write, keep = st.loads, st.releases, st.write_bytes, False
        if residency.inputs_on_chip:
            loads = tuple((op, b) for op, b in loads if op is not Operand.INPUTS)
            releases = tuple(op for op in releases if op is not Operand.INPUTS)
        if residency.outputs_on_chip and write > 0 and st.index[k_pos] == last_k:
            write, keep = 0.0, True  # the final output stays on chip
        out.append(
            dataclasses.replace(
                st, loads=loads, releases=releases, write_bytes=write, keeps_output=keep
            )
        )
    return out


def _port_bytes(accesses: Accesses, nest: Nest, step: str) -> dict[str, float]:
    """Per on-chip level at or inside the step level: the operand bytes its inner
    side reads from it (partial sums go through the accumulate path)."""
    names = [lv.name for lv in nest.levels]
    out = {}
    for lv in nest.levels[names.index(step) :]:
        a = accesses.level(lv.name)
        out[lv.name] = a.of(Operand.INPUTS).reads_bytes + a.of(Operand.WEIGHTS).reads_bytes
    return out


def _run_mapping(
    plan: LayerPlan, mapping: Mapping, residency: Residency = NO_RESIDENCY
) -> _MappedRun:
    pe = plan.arch.pe_array
    dataflow = mapping.dataflow
    if residency is NO_RESIDENCY and plan.resident:  # a search's finalists: the plan says
        residency = Residency(plan.inputs_resident, plan.outputs_resident)
    check_mapping(mapping, on_chip_levels(plan.arch), "mapping")
    nest = nest_of(plan, mapping)
    if plan.arch.cores > 1:
        return _run_chip(plan, mapping, nest, residency)
    tile = nest.array_tile
    streams = fold_streams(
        plan.gemm, plan.groups, tile, pe, dataflow, plan.pattern,
        _skip_lists(plan, tile), plan.stream_density,
    )  # fmt: skip
    compute = streams.compute_cycles(pe, dataflow)
    tail = tail_cycles(pe, dataflow, streams.last_stream_len) if streams.counts else 0
    accesses = layer_accesses(plan, mapping, nest, streams, residency)
    step_nest = _simpy_nest(plan, mapping, nest)
    step = _step_level(plan.arch, mapping)
    nominal = functools.lru_cache(maxsize=None)(
        lambda s: _step_nominal(plan, dataflow, s)
    )  # per distinct tile shape
    link = _link_sizes(plan)  # what crosses the off-chip links, in their homes' formats
    first = _resident_steps(
        enumerate_steps(step_nest, link, window=FIRST_WINDOW), step_nest, residency
    )
    all_steps = step_nest.steps
    nominal_total = compute_nominal_total(first, nominal)
    # the exact compute (and each level's array-side bytes) spread over the steps
    # in proportion to their folds (skipped tiles evenly: the memory model sees the average)
    scale = (compute - tail) / nominal_total if nominal_total else 0.0
    ports = _port_bytes(accesses, nest, step)
    per_cycle = {name: b / (nominal_total or all_steps) for name, b in ports.items()}

    def build(window):
        steps = (
            first
            if window == FIRST_WINDOW
            else _resident_steps(enumerate_steps(step_nest, link, window), step_nest, residency)
        )
        costs = []
        for s in steps:
            nom = nominal(s.sizes)[0] if nominal_total else 1
            port = tuple((name, r * nom) for name, r in per_cycle.items())
            costs.append(StepCost(round(nominal(s.sizes)[0] * scale), port))
        return steps, costs

    run = run_memory(plan.arch.memory, build, tail, step)
    slots = streams.steady_cycles * pe.pes * pe.multipliers
    real = plan.real_macs if plan.real_macs is not None else slots
    total = max(compute, run.end_cycles)
    energy = energy_estimate_pj(
        accesses, plan.arch, real, max(slots - real, 0), total, plan.pattern, slots
    )
    return _MappedRun(mapping, nest, streams, compute, run, accesses, energy)


def _run_chip(plan: LayerPlan, mapping: Mapping, nest: Nest, residency: Residency) -> _MappedRun:
    """A multi-core arch: the busiest core's tiles run through the single-core
    pipeline on its share of the shared levels; accesses and energy are the chip's."""
    view = core_view(plan, _core_tile(plan, nest))
    core = _run_mapping(view.plan, mapping, residency)
    pe = plan.arch.pe_array
    tile = nest.array_tile
    chip = fold_streams(
        plan.gemm, plan.groups, tile, pe, mapping.dataflow, plan.pattern,
        _skip_lists(plan, tile), plan.stream_density,
    )  # fmt: skip
    accesses = chip_accesses(plan, mapping, nest, chip, view, residency)
    slots = chip.steady_cycles * pe.pes * pe.multipliers
    real = plan.real_macs if plan.real_macs is not None else slots
    energy = energy_estimate_pj(
        accesses, cores.chip_arch(plan.arch), real, max(slots - real, 0), core.total,
        plan.pattern, slots,
    )  # fmt: skip
    return _MappedRun(
        mapping, nest, core.streams, core.compute, core.run, accesses, energy, chip, view
    )


def compute_nominal_total(steps, nominal) -> float:
    return sum(s.weight * nominal(s.sizes)[0] for s in steps)


def _fallback(lw: LayerWorkload, plan: LayerPlan) -> dict | None:
    """The mode a sparse layer ran in when the array could not use its sparsity, and why."""
    why = fallback_reason(lw, plan.arch.pe_array, plan.pattern)
    if why is None:
        return None
    return {"mode": str(plan.pattern) if plan.pattern else "dense", "reason": why}


def _bound(arch: ArchSpec, compute: int, stall: int, accesses: Accesses) -> str:
    """`compute`, or the memory level whose traffic takes longest at its bandwidth
    when that is longer than the compute (a stall that no level's traffic
    explains, as an exposed first load, leaves the layer compute bound)."""
    if stall <= 0:
        return "compute"
    worst, name = float(compute), "compute"
    for lv in arch.memory.all_levels:
        bw = lv.bandwidth_bytes_per_cycle * (lv.concurrency if lv.kind is LevelKind.SRAM else 1)
        if math.isinf(bw):
            continue
        t = accesses.level(lv.name).total.total_bytes / bw
        if t > worst:
            worst, name = t, lv.name
    return name


def simulate_layer(
    lw: LayerWorkload,
    arch: ArchSpec,
    mapping: Mapping | None = None,
    table: EnergyTable | None = None,
    residency: Residency = NO_RESIDENCY,
) -> LayerResult:
    """One layer on the arch: cycles (compute, fill/drain, stall), accesses per
    level, energy per level and action. (`table` is unused: the arch carries
    its energy table, read when it was loaded.) `residency`: what network-level
    scheduling keeps on chip (`simulate` decides it from the workload graph)."""
    del table
    plan = plan_layer(lw, arch, residency)
    arch = plan.arch  # with the layer's own widths
    pe = arch.pe_array
    mapping = mapping or Mapping(pe.dataflow)
    dataflow = mapping.dataflow
    mapped = None
    if not mapping.tiles:
        if residency.reserved_bytes > 0:
            # resident tensors take part of the holding level: tile the rest
            small = plan_layer(lw, reserve_bytes(arch, residency.reserved_bytes), residency)
            mapping = _default(small, dataflow)[0]
        else:
            mapping, mapped = _default(plan, dataflow)
    resident = residency.inputs_on_chip or residency.outputs_on_chip
    if mapped is None or plan.mask is not None or resident:
        mapped = _run_mapping(plan, mapping, residency)
    streams, compute, run, nest = mapped.streams, mapped.compute, mapped.run, mapped.nest
    n_cores = arch.cores
    chip = streams
    if n_cores > 1:  # the busiest core's streams time the layer; the chip's count it
        chip = mapped.chip
        accesses = chip_accesses(plan, mapping, nest, chip, mapped.view, residency)
    else:
        # the cached default run was counted with the cached plan (no layer): recount
        accesses = layer_accesses(plan, mapping, nest, streams, residency)
    steady = streams.steady_cycles
    all_folds = (
        chip.folds
        if plan.mask is None
        else fold_streams(
            plan.gemm, plan.groups, nest.array_tile, pe, dataflow,
            plan.pattern, None, plan.stream_density,
        ).folds
    )  # fmt: skip
    report = compute - plan.groups if arch.scalesim_compat and compute else compute
    # the stall against the exact compute (the simulation's per-step compute is
    # the same cycles spread over the tiles, up to rounding)
    stall = max(0, run.end_cycles - compute)
    cycles = Cycles(report, report - steady, stall)

    slots = chip.steady_cycles * pe.pes * pe.multipliers
    real_macs = round(lw.effective_macs * plan.activation_density)
    index_bits = plan.pattern.index_bits if plan.pattern else 0
    actions = ArrayActions(
        macs=real_macs,
        gated_macs=max(slots - real_macs, 0),
        metadata_bits=slots * index_bits,
        pe_cycles=pe.pes * n_cores * cycles.total,
        cycles=cycles.total,
    )
    whole = cores.chip_arch(arch)  # every core's levels and PEs (energy, bound)
    energy, levels = price(accesses, actions, whole)
    off_chip = [accesses.level(src.name).total for src in arch.memory.off_chip]
    glb = accesses.level(arch.glb.name).total
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
        folds=chip.folds,
        cycles=cycles,
        multiplier_slots=pe.pes * pe.multipliers * n_cores * cycles.total,
        energy_pj=energy,
        dram_bytes=round(sum(t.reads_bytes + t.updates_bytes for t in off_chip)),
        glb_bytes=round(glb.total_bytes),
        mapping=mapping.to_dict(),
        weight_format=str(plan.sizes.weight_format),
        zero_activations=zeros,
        skipped_folds=all_folds - chip.folds,
        simulated_steps=run.simulated_steps,
        useful_macs=round(real_macs),
        levels={lv.name: lv.to_dict() for lv in levels},
        bound=_bound(whole, report, stall, accesses),
        fallback=_fallback(lw, plan),
        compulsory_dram_bytes=round(
            plan.groups
            * (
                plan.sizes.weights
                * _home_scale(plan, nest, Operand.WEIGHTS)
                * live_fraction(plan, mapping, nest, chip)
                + (
                    0
                    if residency.inputs_on_chip
                    else plan.sizes.compulsory_inputs * _home_scale(plan, nest, Operand.INPUTS)
                )
                + (
                    0
                    if residency.outputs_on_chip
                    else plan.sizes.outputs * _home_scale(plan, nest, Operand.OUTPUTS)
                )
            )
        ),
        operands=_operand_record(arch, residency),
    )


def activation_level(arch: ArchSpec):
    """Where resident activations live: the outermost on-chip level keeping inputs."""
    for lv in arch.memory.on_chip:
        if Operand.INPUTS in lv.holds:
            return lv
    return arch.glb


def activation_budget_bytes(arch: ArchSpec) -> float:
    lv = activation_level(arch)
    cap = lv.capacity_for(Operand.INPUTS)
    return float(cap) if cap is not None else math.inf


def reserve_bytes(arch: ArchSpec, nbytes: float) -> ArchSpec:
    """The arch with `nbytes` of the activation level taken (by resident tensors)."""
    lv = activation_level(arch)
    take = math.ceil(nbytes)
    if lv.partition:
        part = tuple(
            (op, max(0, size - take) if op is Operand.INPUTS else size) for op, size in lv.partition
        )
        new = dataclasses.replace(lv, partition=part)
    elif lv.capacity_bytes is not None:
        new = dataclasses.replace(lv, capacity_bytes=max(0, lv.capacity_bytes - take))
    else:
        return arch
    levels = tuple(new if x.name == lv.name else x for x in arch.memory.levels)
    return dataclasses.replace(arch, memory=dataclasses.replace(arch.memory, levels=levels))


def _operand_record(arch: ArchSpec, residency: Residency) -> dict:
    on_chip = activation_level(arch).name
    return {
        "weights": {"from": arch.memory.source_for(Operand.WEIGHTS).name},
        "inputs": {
            "from": on_chip
            if residency.inputs_on_chip
            else arch.memory.source_for(Operand.INPUTS).name,
            "producers": list(residency.producers),
        },
        "outputs": {
            "to": on_chip
            if residency.outputs_on_chip
            else arch.memory.source_for(Operand.OUTPUTS).name,
            "consumers": list(residency.consumers),
        },
    }


MappingChoice = Mapping | MappingABC[str, Mapping] | None


def simulate(
    workload: Workload,
    arch: ArchSpec,
    mapping: MappingChoice = None,
    table: EnergyTable | None = None,
    keep_on_chip: bool = True,
    progress: Callable[[int, int], None] | None = None,
    io_on_chip: bool = False,
) -> WorkloadResult:
    """Run every layer of `workload` on `arch` with the tile model.

    `mapping`: one for every layer (its tiles clamped to each layer; no
    tiles: each layer's default tiling), or one per layer name.
    `keep_on_chip`: network-level scheduling (`schedule_residency`): a layer's
    output stays on chip for its consumers when the activation level holds it.
    `io_on_chip`: the workload runs inside a larger network whose neighbours
    produce its inputs and consume its outputs on chip (`schedule_residency`).
    `progress` is called with (layers done, layers) after each layer.
    """
    plan = schedule_residency(workload, arch, io_on_chip) if keep_on_chip else {}
    layers = []
    for i, lw in enumerate(workload.layers):
        m = mapping.get(lw.name) if isinstance(mapping, MappingABC) else mapping
        layers.append(simulate_layer(lw, arch, m, None, plan.get(lw.name, NO_RESIDENCY)))
        if progress:
            progress(i + 1, len(workload.layers))
    return WorkloadResult(
        arch.name, workload.name, workload.sparsity, tuple(layers), clock_mhz=arch.clock_mhz
    )


RESIDENT_SHARE = 0.5  # at most this share of the activation level holds resident tensors


def schedule_residency(
    workload: Workload, arch: ArchSpec, io_on_chip: bool = False
) -> dict[str, Residency]:
    """Which layer outputs stay on chip, in topological order over the graph
    (residual branches included: a tensor stays until its last consumer ran).

    A layer's output stays when its consumers exist and, with every tensor
    still live, it fits in `RESIDENT_SHARE` of the activation level (the rest
    is left to the layers' own tiles, which are searched in it). A layer's
    input comes from chip when every producer's output stayed.

    `io_on_chip`: the workload is a piece of a larger network run on the same
    chip (the roofline's premise for TPU v1: activations live in the Unified
    Buffer, only weights cross DRAM). A layer without producers then finds its
    input on chip and a layer without consumers leaves its output there, under
    the same capacity rule.
    """
    if arch.scalesim_compat or not workload.layers:
        return {}
    graph = workload.graph
    names = [lw.name for lw in workload.layers]
    if graph is None:
        preds = {n: ([names[i - 1]] if i else []) for i, n in enumerate(names)}
    else:
        preds = {n: list(graph.predecessors(n)) for n in names}
    succs: dict[str, list[str]] = {n: [] for n in names}
    for n in names:
        for p in preds[n]:
            succs[p].append(n)
    budget = RESIDENT_SHARE * activation_budget_bytes(arch)
    pe = arch.pe_array
    out_bytes = {lw.name: lw.layer.output_elements * pe.data_bits / 8 for lw in workload.layers}
    live: dict[str, int] = {}  # resident tensor -> consumers still to run
    resident: set[str] = set()
    result = {}
    for lw in workload.layers:
        name = lw.name
        inputs_on_chip = bool(preds[name]) and all(p in resident for p in preds[name])
        held = sum(out_bytes[t] for t in live)
        if io_on_chip and not preds[name]:  # the network input, live for this layer
            in_bytes = lw.layer.input_elements * pe.a_bits / 8
            if held + in_bytes <= budget:
                inputs_on_chip, held = True, held + in_bytes
        wanted = bool(succs[name]) or io_on_chip
        keep = wanted and held + out_bytes[name] <= budget
        reserved = held + (out_bytes[name] if keep else 0.0)
        result[name] = Residency(
            inputs_on_chip, keep, reserved if math.isfinite(budget) else 0.0,
            tuple(preds[name]), tuple(succs[name]),
        )  # fmt: skip
        for p in preds[name]:
            if p in live:
                live[p] -= 1
                if live[p] == 0:
                    del live[p]
        if keep:
            resident.add(name)
            live[name] = len(succs[name])
    return result


def dense_baseline(workload: Workload) -> Workload:
    """The same layers unpruned (channel-pruned layers at their original size),
    dense activations: every weight and activation counts, the array runs dense."""
    layers = tuple(
        LayerWorkload(
            getattr(lw, "dense_layer", lw.layer),
            weight_bits=lw.weight_bits,
            input_bits=lw.input_bits,
        )
        for lw in workload.layers
    )
    return Workload(workload.name, layers, sparsity="dense", graph=workload.graph)


def mappings_of(result: WorkloadResult) -> dict[str, Mapping]:
    """The mapping each layer of a result ran, by layer name."""
    return {lr.name: Mapping.from_dict(lr.mapping) for lr in result.layers}


def compare_to_dense(
    workload: Workload,
    arch: ArchSpec,
    mapping: MappingChoice = None,
    dense_mapping: MappingChoice = None,
    compare: str = "same",
    progress: Callable[[int, int], None] | None = None,
    io_on_chip: bool = False,
) -> Comparison:
    """Simulate `workload` and its dense baseline on the same hardware.

    compare="same" (default): the dense baseline runs each layer on the
    mapping the sparse run used (so the ratio is the sparsity's alone);
    "best": each run takes its own default mapping (or `dense_mapping`).
    `progress`: (layer runs done, layer runs) over both runs.
    `io_on_chip`: as for `simulate`, in both runs.
    """
    if compare not in ("same", "best"):
        raise ValueError(f"compare {compare!r}; allowed: same, best")
    n = len(workload.layers)

    def part(offset: int) -> Callable[[int, int], None] | None:
        return (lambda done, _: progress(offset + done, 2 * n)) if progress else None

    sparse = simulate(workload, arch, mapping, progress=part(0), io_on_chip=io_on_chip)
    if dense_mapping is None and compare == "same":
        dense_mapping = same_mappings(workload, sparse)
    dense = simulate(
        dense_baseline(workload), arch, dense_mapping or mapping, progress=part(n),
        io_on_chip=io_on_chip,
    )  # fmt: skip
    return Comparison(sparse, dense, compare=compare)


def same_mappings(workload: Workload, sparse: WorkloadResult) -> dict[str, Mapping]:
    """The sparse run's mappings for the dense baseline's layers. A layer whose
    pruning changed its shape (channel pruning, block-diagonal lowering) has no
    such mapping: tiles clamped from the smaller layer would handicap the dense
    one, so it takes its own default mapping."""
    chosen = mappings_of(sparse)
    return {
        lw.name: chosen[lw.name]
        for lw in workload.layers
        if lw.name in chosen and getattr(lw, "dense_layer", lw.layer) == lw.layer
    }


__all__ = [
    "Dataflow",
    "Estimate",
    "LayerPlan",
    "candidate_mappings",
    "compare_to_dense",
    "default_mapping",
    "dense_baseline",
    "estimate",
    "mappings_of",
    "plan_layer",
    "same_mappings",
    "simulate",
    "simulate_layer",
]
