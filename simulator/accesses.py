"""Per-level, per-operand accesses from a mapping's loop nest (Timeloop's counts).

The nest: DRAM holds the whole GEMM; every on-chip level (chain order, outer
to inner) holds a tile (tm, tn, tk) of its parent's tile, and the loops over
its tiles inside the parent's tile run in that level's loop order. The
array, under the innermost level, runs each innermost tile as folds
(`mappings.dataflow.ROLES`). Flattened, that is one loop nest, outer to
inner; a level's tile of operand X changes when a loop above it over a
dimension X depends on moves, and is kept (reused) while loops over the
other dimension move inside the innermost such loop:

    fills(L, X) = |X| x prod(trips of loops above L, outside X's innermost
                  moving loop, over a dimension X does not depend on)

(Timeloop's reuse rule; equal to `tiling.analytic_traffic` for one level,
tested.) Outputs: each visit of an output tile to L ends with a write-back to
the next level out holding outputs (partial sums at the accumulator width
while the reduction is not done, the final value at the data width), and
every visit but the first starts with a read-back (a fill) of the partial
sums. So partial sums leave a level only when the loop order spills them.

Output reads at a level are its updates minus the first write of each
output element (a read-modify-write reads the partial sum it adds to; the
very first update of an element has nothing to read): the array's (or the
inner level's) read-backs. The write-back drain to the level outside is
counted once, as that level's update, not also as a read here. This is
Timeloop v3.0.3's convention (`tiling.cpp`, `ComputeReadUpdateReductionAccesses_Legacy`
with first-read elision, the default: reads = content accesses - partition
size, updates = content accesses, fills = parent accesses - partition size);
it is what the Sparseloop tutorial outputs show (conv1d Buffer outputs 45 =
27 updates + 18 reads for 9 outputs; spMspM Buffer Z 960 = 512 + 448).

Per level and operand: `reads` (by the level inside, or the array; outputs:
the read-modify-write read-backs), `fills` (from the level outside), `updates`
(outputs written in from inside), all in bytes of the operand as stored at
that level. A level that does not hold an operand is crossed by it without
an access (Timeloop's bypass). Edge tiles are exact: per dimension the tile
sizes are kept as (size, how many) lists and the array's separable counts
are summed over them.

One concern: this module counts. Energy (`energy`), capacity (`capacity`)
and time (`memory`) price and check these counts; `simulate` joins them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mappings.dataflow import LOOP_DIMS, OPERAND_DIMS, ROLES, Dataflow, Operand
from simulator.arch import ActivationFormat, ArchSpec, LevelKind, WeightFormat
from simulator.formats import RANK_FORMATS, OperandBytes, rank_format_bits
from workloads.layers import GemmShape
from workloads.sparsity import NM

PE_REGISTERS = "pe_registers"
OPERANDS = (Operand.WEIGHTS, Operand.INPUTS, Operand.OUTPUTS)
_DIM_INDEX = {d: i for i, d in enumerate(LOOP_DIMS)}

Extents = tuple[tuple[int, int], ...]  # (tile size, how many) along one dimension


@dataclass(frozen=True, slots=True)
class NestLevel:
    """One on-chip level in the nest: the tile it holds, the loops over its tiles."""

    name: str
    tile: tuple[int, int, int]  # (m, n, k) elements of one group's GEMM
    loop_order: str  # loops over this level's tiles inside its parent's tile
    holds: tuple[Operand, ...]  # operands kept here under this mapping


@dataclass(frozen=True, slots=True)
class Nest:
    gemm: GemmShape
    groups: int
    levels: tuple[NestLevel, ...]  # on-chip, outer to inner (DRAM implicit above)

    @property
    def array_tile(self) -> tuple[int, int, int]:
        """The tile the array runs as folds: the innermost level's."""
        return self.levels[-1].tile if self.levels else (self.gemm.m, self.gemm.n, self.gemm.k)


@dataclass(frozen=True, slots=True)
class OperandAccesses:
    reads_bytes: float = 0.0
    fills_bytes: float = 0.0
    updates_bytes: float = 0.0

    @property
    def total_bytes(self) -> float:
        return self.reads_bytes + self.fills_bytes + self.updates_bytes

    def __add__(self, other: OperandAccesses) -> OperandAccesses:
        return OperandAccesses(
            self.reads_bytes + other.reads_bytes,
            self.fills_bytes + other.fills_bytes,
            self.updates_bytes + other.updates_bytes,
        )


@dataclass(frozen=True, slots=True)
class LevelAccesses:
    name: str
    operands: tuple[tuple[Operand, OperandAccesses], ...]

    def of(self, op: Operand) -> OperandAccesses:
        for o, a in self.operands:
            if o is op:
                return a
        return OperandAccesses()

    @property
    def total(self) -> OperandAccesses:
        return OperandAccesses(*self.totals())

    def totals(self) -> tuple[float, float, float]:
        """(reads, fills, updates) bytes over the operands, as plain numbers (the
        mapper's hot path): summed in operand order from 0.0, as adding
        OperandAccesses would."""
        reads = fills = updates = 0.0
        for _, a in self.operands:
            reads += a.reads_bytes
            fills += a.fills_bytes
            updates += a.updates_bytes
        return reads, fills, updates


@dataclass(frozen=True, slots=True)
class Accesses:
    """Everything a layer's nest moves: per level (DRAM first, PE registers last),
    array network hops and the array's own action counts."""

    levels: tuple[LevelAccesses, ...]
    network_hop_bits: float
    array_tiles: int  # innermost tiles the array ran

    def level(self, name: str) -> LevelAccesses:
        for lv in self.levels:
            if lv.name == name:
                return lv
        raise KeyError(name)


def _split(extents: Extents, tile: int) -> Extents:
    out: dict[int, int] = {}
    for size, count in extents:
        full, edge = divmod(size, tile)
        if full:
            out[tile] = out.get(tile, 0) + full * count
        if edge:
            out[edge] = out.get(edge, 0) + count
    return tuple(out.items())


def _count(extents: Extents) -> int:
    """How many tiles (a loop, not a generator: the mapper's hot path)."""
    n = 0
    for _, c in extents:
        n += c
    return n


def _sum(extents: Extents) -> int:
    """The tiles' sizes, summed."""
    total = 0
    for size, c in extents:
        total += size * c
    return total


def _reuse_factors(loops: list[tuple[str, float]]) -> tuple[float, float, float]:
    """How many times a tile of weights (kn), inputs (mk) and outputs (mn) is
    (re)loaded per distinct tile: the trips of the loops over the dimension it
    does not depend on, outside its innermost moving (more than one trip) loop."""
    last_m = last_n = last_k = -1  # the innermost moving loop over each dimension
    for i, (d, trips) in enumerate(loops):
        if trips > 1:
            if d == "m":
                last_m = i
            elif d == "n":
                last_n = i
            else:
                last_k = i
    out = []
    for q, other in ((max(last_k, last_n), "m"), (max(last_m, last_k), "n"),
                     (max(last_m, last_n), "k")):  # fmt: skip
        if q <= 0:
            out.append(1.0)
            continue
        product = 1  # as math.prod: left to right from the integer 1
        for j in range(q):
            d, t = loops[j]
            if d == other:
                product *= t
        out.append(product)
    return out[0], out[1], out[2]


@dataclass(frozen=True, slots=True)
class _ArraySide:
    counts: tuple[dict[str, int], ...]  # per level (DRAM first): tiles along m, n, k
    trips: tuple[tuple[float, float, float], ...]  # per on-chip level: average m, n, k trips
    array_reads: dict[Operand, float]
    out_updates: float  # bytes
    out_reads: float  # bytes
    hops: float


def _array_side(
    arch: ArchSpec,
    dataflow: Dataflow,
    pattern: NM | None,
    sizes: OperandBytes,
    gemm: GemmShape,
    groups: int,
    tiles: tuple[tuple[int, int, int], ...],
    stream_density: float,
) -> _ArraySide:
    """What depends on the tiles only (not on loop orders or holds): cached, so a
    search over loop orders and bypass pays for it once per tile set."""
    pe = arch.pe_array
    roles = ROLES[dataflow]
    g = gemm
    ext = [{d: ((getattr(g, d), 1),) for d in LOOP_DIMS}]
    level_counts = [dict.fromkeys(LOOP_DIMS, 1)]
    for tile in tiles:
        parent = ext[-1]
        ext.append({d: _split(parent[d], t) for d, t in zip(LOOP_DIMS, tile, strict=True)})
        level_counts.append({d: _count(ext[-1][d]) for d in LOOP_DIMS})
    counts = tuple(level_counts)
    trips = tuple(
        tuple(counts[i + 1][d] / counts[i][d] for d in LOOP_DIMS) for i in range(len(tiles))
    )
    m_n = g.m * g.n
    per_elem = {
        Operand.WEIGHTS: sizes.weights / (g.k * g.n),
        Operand.INPUTS: sizes.input_element_bytes(g),
    }
    # a compressed input's stored bytes hold only its nonzeros (and their metadata):
    # the skipping PEs' compacted stream is those bytes, not a density of them again
    compact = arch.memory.activation_format is ActivationFormat.DENSE
    acc_b = pe.acc_bits / 8
    e = ext[-1]

    def folds_along(dim: str, array_len: int) -> Extents:
        if dim == "k":
            return tuple((-(-pe.reduction_steps(s, pattern) // array_len), c) for s, c in e["k"])
        return tuple((-(-s // array_len), c) for s, c in e[dim])

    fold_ext = {
        roles.rows: folds_along(roles.rows, pe.rows),
        roles.cols: folds_along(roles.cols, pe.cols),
    }
    sums = {d: _sum(e[d]) for d in LOOP_DIMS}
    n_e = counts[-1]
    fsums = {d: _sum(f) for d, f in fold_ext.items()}

    def tile_sum(op_dims: str, refetch: str = "") -> float:
        """Sum over array tiles of (tile elements of op_dims) x (folds along `refetch`)."""
        total = 1.0
        for d in LOOP_DIMS:
            total *= sums[d] if d in op_dims else fsums[d] if d in refetch else n_e[d]
        return groups * total

    array_reads: dict[Operand, float] = {}
    hops = 0.0
    if not pe.keeps_operands:
        # no PE registers: every MAC reads both operands from the innermost level
        # and read-modify-writes its partial sum there; nothing hops PE to PE
        macs = tile_sum("mnk")
        for op in (Operand.WEIGHTS, Operand.INPUTS):
            dens = stream_density if (op is Operand.INPUTS and op in roles.streamed) else 1.0
            array_reads[op] = macs * per_elem[op] * (dens if compact else 1.0)
        out_reads = max(0.0, macs - groups * m_n) * acc_b
        return _ArraySide(counts, trips, array_reads, macs * acc_b, out_reads, 0.0)
    for op in (Operand.WEIGHTS, Operand.INPUTS):
        dims = OPERAND_DIMS[op]
        # refetched once per fold along the array dimension it does not span
        refetch = "".join(d for d in (roles.rows, roles.cols) if d not in dims)
        elems = tile_sum(dims, refetch)
        dens = stream_density if (op is Operand.INPUTS and op in roles.streamed) else 1.0
        array_reads[op] = elems * per_elem[op] * (dens if compact else 1.0)
        bits = (pe.w_bits if op is Operand.WEIGHTS else pe.a_bits) * dens
        if op is roles.stationary:
            hops += elems * bits * (pe.rows + 1) / 2  # shifted down the rows on preload
        else:
            span = pe.cols if refetch == roles.cols or not refetch else pe.rows
            hops += elems * bits * span  # forwarded PE to PE across the array
    if roles.reduction_on_rows:
        # every K fold adds its partial sums into the output tile below the array
        out_updates = tile_sum("mn", "k")
        hops += out_updates * pe.acc_bits * pe.rows
    else:
        out_updates = tile_sum("mn")  # outputs stay in the PEs over the tile's K
    # read-modify-write: every update but each output's very first
    out_reads = max(0.0, out_updates - groups * m_n) * acc_b
    return _ArraySide(counts, trips, array_reads, out_updates * acc_b, out_reads, hops)


class _Links:
    """Per operand its off-chip home and burst; whether a conv's input transfers
    are whole bursts (a tile, then the slid-in parts: whole elements, so whole
    bursts when the burst divides an element). One per layer (a search's cache)."""

    __slots__ = ("all_at_dram", "burst", "source", "whole_input_bursts")

    def __init__(self, arch: ArchSpec, sizes: OperandBytes, gemm: GemmShape) -> None:
        mem = arch.memory
        self.source = {op: mem.source_for(op) for op in OPERANDS}
        self.burst = {op: src.burst_bytes for op, src in self.source.items()}
        self.all_at_dram = all(src is mem.dram for src in self.source.values())
        elem = sizes.input_element_bytes(gemm) if sizes.window is not None else 0.0
        burst = self.burst[Operand.INPUTS]
        self.whole_input_bursts = elem > 0 and burst > 0 and elem % burst == 0


def level_format_bytes(nest: Nest, sizes: OperandBytes) -> dict[tuple[str, Operand], tuple]:
    """Per (level, operand) stored in the level's own format (`MemLevelSpec.formats`):
    (bytes, metadata bytes) of the whole operand as that level stores it.

    A three-rank format follows the tiling, as Sparseloop assigns a level's ranks outer
    to inner to the loops inside its tile (NVlabs/timeloop, `representation-analyzer.cpp`,
    `ApplyRanksOuterToInner`): per tile of the level, the outer rank runs over the
    tiles of the levels inside it (their loops over the operand's dimensions, flattened
    into that one rank), the inner two over the innermost tile: weights a fiber per
    output column over K, activations a fiber per pixel over the channels (outputs: over
    the output channels). Untiled,
    the outer rank is one fiber (a dummy rank). Other formats: the whole operand's."""
    out: dict[tuple[str, Operand], tuple] = {}
    names = [lv.name for lv in nest.levels]
    g = nest.gemm
    for name, op, total, meta, fmt, density, bits, elements, length in sizes.level_formats:
        if len(RANK_FORMATS.get(fmt, ())) != 3 or not elements:
            out[(name, op)] = (total, meta)
            continue
        idx = names.index(name) if name in names else -1  # off chip: above every level
        dims = OPERAND_DIMS[op]
        parent = (g.m, g.n, g.k) if idx < 0 else nest.levels[idx].tile
        trips = 1
        for lv in nest.levels[idx + 1 :]:
            for d in dict.fromkeys(lv.loop_order):
                if d in dims:
                    i = LOOP_DIMS.index(d)
                    trips *= -(-min(parent[i], getattr(g, d)) // lv.tile[i])
            parent = tuple(min(p, t) for p, t in zip(parent, lv.tile, strict=True))
        tm, tn, tk = parent  # the innermost tile (the level's own, untiled below it)
        if op is Operand.WEIGHTS:
            fibers, fiber = tn, tk
        elif op is Operand.OUTPUTS:  # a fiber over the output channels, per pixel
            fibers, fiber = tm, tn
        else:  # a fiber over the channels (a conv's) or K, per pixel
            fiber = max(1, min(length, tk))
            fibers = max(1, round(tm * tk / fiber))
        tile_bits, tile_meta = rank_format_bits(fmt, (trips, fibers, fiber), density, bits)
        tiles = elements / (trips * fibers * fiber)
        out[(name, op)] = (tile_bits * tiles / 8, tile_meta * tiles / 8)
    return out


def level_format_scales(nest: Nest, sizes: OperandBytes) -> dict[tuple[str, Operand], float]:
    """`level_format_bytes` over the memory-wide format's bytes: what every count and
    tile of the operand at that level is multiplied by."""
    out = {}
    for key, (total, _) in level_format_bytes(nest, sizes).items():
        base = sizes.whole(key[1])[0]
        out[key] = total / base if base else 1.0
    return out


def count_accesses(
    nest: Nest,
    arch: ArchSpec,
    dataflow: Dataflow,
    pattern: NM | None,
    sizes: OperandBytes,
    stream_density: float = 1.0,
    mac_fraction: float = 1.0,
    steady_pe_cycles: float = 0.0,
    inputs_resident: bool = False,
    outputs_resident: bool = False,
    live_folds: float = 1.0,
    cache: dict | None = None,
    weight_density: float = 1.0,
) -> Accesses:
    """Accesses of every level for one layer's nest (bytes, all groups).

    `inputs_resident` / `outputs_resident`: the layer's input is already on
    chip in the outermost level keeping inputs (its producer left it there),
    / its output stays in the outermost level keeping outputs for its
    consumers: no DRAM transfer for them (network-level scheduling).
    `live_folds`: the fraction of folds left once all-zero weight tiles are
    skipped; a skipped fold's weights move nowhere and its stream is not read.
    `cache`: a dict the caller keeps for one layer (a search), keyed by tiles.

    `stream_density`: the streamed activations' density when zeros are
    skipped; `mac_fraction`: real MACs over multiplier slots (gating saves
    the register reads only the zero operand needed); `steady_pe_cycles`:
    PE-cycles spent streaming (from the tile model); `weight_density`: the
    weights' nonzero fraction, for reads conditioned on the weights (`gating_saves`
    with inputs) and compressed weights read by PEs without registers.
    """
    pe = arch.pe_array
    g = nest.gemm
    groups = nest.groups
    levels = nest.levels
    tiles = tuple([lv.tile for lv in levels])  # (lists: cheaper than generators here)
    side = cache.get((dataflow, tiles)) if cache is not None else None
    if side is None:
        side = _array_side(arch, dataflow, pattern, sizes, g, groups, tiles, stream_density)
        if cache is not None:
            cache[(dataflow, tiles)] = side
    counts = side.counts
    # flattened loops, outer to inner, with their (average) trips
    loops: list[tuple[str, float]] = []
    loops_above: list[list[tuple[str, float]]] = []
    # the loops that move (more than one trip), with their level, outer to inner;
    # and how many of them lie above each level
    moving: list[tuple[str, int]] = []
    moving_above: list[int] = []
    for i, lv in enumerate(levels):
        t = side.trips[i]
        for d in lv.loop_order:
            trips = t[_DIM_INDEX[d]]
            loops.append((d, trips))
            if trips > 1:
                moving.append((d, i))
        loops_above.append(loops[:])
        moving_above.append(len(moving))
    m_n = g.m * g.n
    full_w, full_i = sizes.weights * groups * live_folds, sizes.inputs * groups
    acc_b, out_b = pe.acc_bits / 8, sizes.outputs / m_n
    # levels with their own formats (MemLevelSpec.formats): counts are kept in the
    # memory-wide format's bytes and each level's records scaled to its own format
    scales: dict[tuple[str, Operand], float] = {}
    weight_fmt, input_thin = sizes.weight_format, 0
    if sizes.level_formats:
        scales = level_format_scales(nest, sizes)
        array_fmt = {}  # operand -> the format of the level the array reads it from
        for op in (Operand.WEIGHTS, Operand.INPUTS):
            at = next((lv.name for lv in reversed(levels) if op in lv.holds), None)
            array_fmt[op] = sizes.stored(at or arch.memory.source_for(op).name, op)[2]
        weight_fmt = array_fmt[Operand.WEIGHTS]
        mem_compact = arch.memory.activation_format is ActivationFormat.DENSE
        level_compact = array_fmt[Operand.INPUTS] == "dense"
        if Operand.INPUTS in ROLES[dataflow].streamed and 0.0 < stream_density < 1.0:
            # a compressed input holds only its nonzeros: the skipping PEs' stream
            # is thinned by the density only where the array reads it dense
            if mem_compact and not level_compact:
                input_thin = -1
            elif level_compact and not mem_compact:
                input_thin = 1
    key = (
        dataflow, tiles, mac_fraction, steady_pe_cycles, live_folds, weight_density,
        weight_fmt, input_thin,
    )  # fmt: skip
    demand = cache.get(key) if cache is not None else None
    if demand is None:
        demand = _array_demand(
            arch, dataflow, pattern, side, groups, m_n, stream_density, mac_fraction,
            steady_pe_cycles, live_folds, weight_density, weight_fmt, input_thin,
        )  # fmt: skip
        if cache is not None:
            cache[key] = demand
    reads_w, reads_i, array_out_updates, array_out_reads, registers = demand

    # --- level by level, inner to outer: what each level's inner side asks of it
    # (running: what the level inside, or the array, takes of each operand)
    fill_w, fill_i = reads_w, reads_i
    inner_out_updates = array_out_updates
    inner_out_reads = array_out_reads  # read-backs the inside takes from this level
    per_level: list[LevelAccesses] = []
    # transfers into the outermost holder so far (DRAM moves whole bursts per transfer)
    inner_counts = counts[-1]
    array_tiles = groups * inner_counts["m"] * inner_counts["n"] * inner_counts["k"]
    # (an operand no level keeps streams to the array once per array tile at least)
    n_w = n_i = n_ob = n_ou = float(array_tiles)
    # the outermost level keeping an input / output that stays on chip
    outer_i = _outermost(levels, Operand.INPUTS) if inputs_resident else -1
    outer_o = _outermost(levels, Operand.OUTPUTS) if outputs_resident else -1
    for idx in range(len(levels) - 1, -1, -1):
        lv = levels[idx]
        holds, above = lv.holds, loops_above[idx]
        acc: list[tuple[Operand, OperandAccesses]] = []
        n_tiles = counts[idx + 1]
        reuse_w, reuse_i, visits = _reuse_factors(above)
        if Operand.WEIGHTS in holds:
            reuse = reuse_w
            fills = full_w * reuse
            scale = scales.get((lv.name, Operand.WEIGHTS), 1.0) if scales else 1.0
            acc.append((Operand.WEIGHTS, _in_format(fill_w, fills, scale)))
            fill_w = fills
            n_w = groups * n_tiles["k"] * n_tiles["n"] * reuse
        if Operand.INPUTS in holds:
            reuse = reuse_i
            fills = full_i * reuse
            if sizes.window is not None:
                # a conv's input tiles overlap (the halo): each tile's footprint
                footprint = _input_footprint(sizes, g, tiles, idx, moving, moving_above[idx], cache)
                fills = footprint * groups * reuse
            if idx == outer_i:
                fills = 0.0  # the whole input is here already
            scale = scales.get((lv.name, Operand.INPUTS), 1.0) if scales else 1.0
            acc.append((Operand.INPUTS, _in_format(fill_i, fills, scale)))
            fill_i = fills
            n_i = groups * n_tiles["m"] * n_tiles["k"] * reuse
        if Operand.OUTPUTS in holds:
            final = groups * m_n * out_b
            if idx == outer_o:
                final = 0.0  # stays here for the consumers
            if scales and final:
                # final outputs go up in the format of the level receiving them
                up = next(
                    (levels[j].name for j in range(idx - 1, -1, -1)
                     if Operand.OUTPUTS in levels[j].holds),
                    arch.memory.source_for(Operand.OUTPUTS).name,
                )  # fmt: skip
                final *= scales.get((up, Operand.OUTPUTS), 1.0)
            spills = groups * m_n * (visits - 1) * acc_b
            drained = final + spills  # written back to the next level out
            read_back = spills  # filled back from it
            # reads: the inside's read-modify-write read-backs only (the drain
            # upwards is the next level's update, not a read here: Timeloop v3)
            acc.append(
                (Operand.OUTPUTS, OperandAccesses(inner_out_reads, read_back, inner_out_updates))
            )
            inner_out_updates, inner_out_reads = drained, read_back
            out_tiles = groups * n_tiles["m"] * n_tiles["n"]
            n_ou, n_ob = out_tiles * visits, out_tiles * (visits - 1)
        per_level.append(LevelAccesses(lv.name, tuple(acc)))
    mem = arch.memory
    links = cache.get("links") if cache is not None else None
    if links is None:  # the same for every nest of the layer
        links = _Links(arch, sizes, g)
        if cache is not None:
            cache["links"] = links
    burst = links.burst
    w, i, o = Operand.WEIGHTS, Operand.INPUTS, Operand.OUTPUTS
    if scales:  # the off-chip home's own format
        fill_w *= scales.get((links.source[w].name, w), 1.0)
        fill_i *= scales.get((links.source[i].name, i), 1.0)
    dram = (
        (w, OperandAccesses(_rounded(fill_w, n_w, burst[w]), 0.0, 0.0)),
        (i, OperandAccesses(
            fill_i if links.whole_input_bursts else _rounded(fill_i, n_i, burst[i]), 0.0, 0.0
        )),
        (o, OperandAccesses(
            _rounded(inner_out_reads, n_ob, burst[o]), 0.0,
            _rounded(inner_out_updates, n_ou, burst[o]),
        )),
    )  # fmt: skip
    # an operand whose off-chip home is the host crosses its link, not DRAM's (the
    # host's record goes last: the chain's records keep their places)
    if links.all_at_dram:  # (no host, or it homes none of them)
        at_dram, at_host = dram, ()
    else:
        source = links.source
        at_dram = tuple((op, a) for op, a in dram if source[op] is mem.dram)
        at_host = tuple((op, a) for op, a in dram if source[op] is not mem.dram)
    levels_out = [LevelAccesses(arch.dram.name, at_dram)]
    levels_out += reversed(per_level)

    levels_out.append(registers)
    if mem.host is not None:
        levels_out.append(LevelAccesses(mem.host.name, at_host))
    return Accesses(tuple(levels_out), side.hops, array_tiles)


def _array_demand(
    arch: ArchSpec,
    dataflow: Dataflow,
    pattern: NM | None,
    side: _ArraySide,
    groups: int,
    m_n: int,
    stream_density: float,
    mac_fraction: float,
    steady_pe_cycles: float,
    live_folds: float,
    weight_density: float,
    weight_fmt: str,
    input_thin: int,
) -> tuple[float, float, float, float, LevelAccesses]:
    """What the array asks of the innermost level (weight and input reads, output
    updates and read-backs, bytes) and its PE registers' accesses: the same for
    every loop order and bypass of a tile set (`count_accesses`' cache keeps it).
    `weight_fmt`: the format the array reads weights in; `input_thin`: -1 / +1 when
    the level feeding the array stores inputs compressed / dense where the memory-wide
    format is the other (its stream un-thinned / thinned by the density), else 0."""
    pe = arch.pe_array
    roles = ROLES[dataflow]
    reads_w = side.array_reads[Operand.WEIGHTS] * live_folds
    reads_i = side.array_reads[Operand.INPUTS] * live_folds
    if input_thin < 0:
        reads_i /= stream_density
    elif input_thin > 0:
        reads_i *= stream_density
    out_updates, out_reads = side.out_updates, side.out_reads
    zeros_act = pe.zero_gating or stream_density < 1.0
    # a zero weight's MAC does not read its input (Sparseloop's Inputs SAF on Weights)
    by_weight = pe.zero_gating and Operand.INPUTS in pe.gating_saves
    saves = pe.gating_saves
    if not pe.keeps_operands and pattern is None and steady_pe_cycles > 0 and zeros_act:
        # no PE registers: the MAC's operand reads are the innermost level's, so the
        # register rule below applies there: a gated or skipped MAC reads no weight
        # and does no read-modify-write (its activation is read: it shows the zero),
        # and each output's first real MAC reads nothing (Sparseloop's gating and
        # skipping). Real MACs (mac_fraction of the slots) over the nest's MACs:
        dense_macs = side.out_updates / (pe.acc_bits / 8)
        real = mac_fraction * steady_pe_cycles * pe.multipliers
        done = min(1.0, real / dense_macs) if dense_macs else 1.0
        if done < 1.0 - 1e-9 and by_weight:
            # reads conditioned on the weights too (`gating_saves` with inputs; with
            # weights as well, the two-operand intersection), as Sparseloop's SAFs count
            # them in expectation: a read stays with the probability its condition is
            # nonzero, the partial sums' read-modify-writes in proportion to the MACs
            reads_i *= weight_density
            if stream_density < 1.0 or Operand.WEIGHTS in saves:
                reads_w *= done / weight_density if weight_density else 0.0
            if stream_density < 1.0 or Operand.OUTPUTS in saves:
                out_updates *= done
                out_reads *= done
        elif done < 1.0 - 1e-9:  # (all MACs real: float noise of mac_fraction, no zeros)
            # skipping saves every read of a skipped MAC; gating those in `gating_saves`
            skipped = stream_density < 1.0
            if skipped or Operand.WEIGHTS in saves:
                # stored compressed, the weights' zeros are not read already: the real
                # MACs over them are the activations' part alone
                packed = weight_fmt != WeightFormat.DENSE and weight_density > 0
                reads_w *= done / weight_density if packed else done
            if skipped or Operand.OUTPUTS in saves:
                out_updates *= done
                out_reads = max(0.0, out_updates - groups * m_n * pe.acc_bits / 8)
    w, i, o = Operand.WEIGHTS, Operand.INPUTS, Operand.OUTPUTS
    # --- PE registers: per streaming PE-cycle (gating saves the reads only the
    # zero operand needed, those of `gating_saves`: the weight read, the psum update)
    if pe.keeps_operands:
        lanes = pe.window(pattern) if (pattern is None or not pe.nm_any) else pe.multipliers
        gate = mac_fraction if pe.zero_gating else 1.0
        w_reg = steady_pe_cycles * pe.multipliers * pe.w_bits / 8
        if Operand.WEIGHTS in saves:
            # (conditioned on the weights too, a weight read stays when its input is nonzero)
            w_reg *= gate if not by_weight else gate / weight_density if weight_density else 0.0
        a_reg = steady_pe_cycles * lanes * pe.a_bits / 8
        if by_weight:
            a_reg *= weight_density
        o_reg = steady_pe_cycles * (pe.acc_bits / 8)
        if Operand.OUTPUTS in saves:
            o_reg *= gate
        # a stationary operand's registers are filled by the array's reads of it
        w_fill = reads_w if roles.stationary is w else w_reg
        a_fill = reads_i if roles.stationary is i else a_reg
        regs = (
            (w, OperandAccesses(w_reg, w_fill, 0.0)),
            (i, OperandAccesses(a_reg, a_fill, 0.0)),
            # the same read-modify-write rule: each partial sum the array sends out
            # was started by one PE with nothing to read (WS/IS: the top of a K
            # fold's column; OS: an output's first MAC of the tile)
            # (the first real MAC: a gated one neither reads nor starts it)
            (o, OperandAccesses(max(0.0, o_reg - out_updates), 0.0, o_reg)),
        )
    else:  # the PEs keep nothing: no register accesses
        regs = ((w, OperandAccesses()), (i, OperandAccesses()), (o, OperandAccesses()))
    return reads_w, reads_i, out_updates, out_reads, LevelAccesses(PE_REGISTERS, regs)


def _in_format(reads: float, fills: float, scale: float) -> OperandAccesses:
    """A level's reads and fills of an operand in its own format: `scale` times the
    memory-wide format's bytes (1: the same format)."""
    if scale != 1.0:
        return OperandAccesses(reads * scale, fills * scale, 0.0)
    return OperandAccesses(reads, fills, 0.0)


def _outermost(levels: tuple[NestLevel, ...], op: Operand) -> int:
    """The index of the outermost level keeping `op` (-1: none)."""
    return next((i for i, lv in enumerate(levels) if op in lv.holds), -1)


def _input_footprint(
    sizes: OperandBytes,
    gemm: GemmShape,
    tiles: tuple[tuple[int, int, int], ...],
    idx: int,
    moving: list[tuple[str, int]],
    last: int,
    cache: dict | None,
) -> float:
    """Every input tile of level idx once (one group): the sum of their
    footprints, less what successive tiles share when the innermost moving loop
    above the level slides them (`workloads.window`). `moving[:last]`: the loops
    above the level that move, outer to inner, with their levels."""
    m_chain = tuple([t[0] for t in tiles[: idx + 1]])
    k_chain = tuple([t[2] for t in tiles[: idx + 1]])
    slide = None
    if last and moving[last - 1][0] in "mk":
        axis = moving[last - 1][0]
        run = last
        while run > 0 and moving[run - 1][0] == axis:
            run -= 1
        # the run of successive tiles lies inside the tile of the level whose
        # loops (over this axis) start it: chain depth = that level's index
        slide = (axis, moving[run][1])
    # remembered in the search's cache too: its hits skip hashing the window
    key = ("footprint", m_chain, k_chain, slide)
    hit = cache.get(key) if cache is not None else None
    if hit is None:
        hit = sizes.input_footprint_bytes(gemm, m_chain, k_chain, slide)[0]
        if cache is not None:
            cache[key] = hit
    return hit


def _rounded(nbytes: float, transfers: float, burst: int) -> float:
    """`nbytes` moved in `transfers` transfers of whole bursts."""
    if nbytes <= 0 or burst <= 1 or transfers <= 0:
        return nbytes
    return transfers * math.ceil(nbytes / transfers / burst - 1e-9) * burst


def default_nest(
    arch: ArchSpec,
    gemm: GemmShape,
    groups: int,
    tiles: dict[str, tuple[tuple[int, int, int], str]],
    bypass: tuple[Operand, ...] = (),
    step_level: str | None = None,
) -> Nest:
    """The nest for the on-chip levels: each level's (tile, loop order) from
    `tiles`; a level not in it holds its parent's tile (no loops of its own),
    except that levels inside `step_level` default to the step level's tile.
    `bypass`: operands the GLB does not keep under this mapping."""
    levels = []
    parent = (gemm.m, gemm.n, gemm.k)
    glb = arch.glb.name
    for lv in arch.memory.levels:
        if lv.kind is LevelKind.DRAM:
            continue
        if lv.name in tiles:
            tile, order = tiles[lv.name]
        elif step_level is not None and step_level in tiles:
            # outer levels pass the step tile through (its loop order governs:
            # the step level's own loops then run once), inner ones hold it too
            tile, order = tiles[step_level]
        else:
            tile, order = parent, "nmk"
        tile = (min(parent[0], tile[0]), min(parent[1], tile[1]), min(parent[2], tile[2]))
        holds = lv.holds
        if bypass and lv.name == glb:
            holds = tuple([op for op in holds if op not in bypass])
        levels.append(NestLevel(lv.name, tile, order, holds))
        parent = tile
    return Nest(gemm, groups, tuple(levels))


__all__ = [
    "PE_REGISTERS",
    "Accesses",
    "LevelAccesses",
    "Nest",
    "NestLevel",
    "OperandAccesses",
    "count_accesses",
    "default_nest",
]
