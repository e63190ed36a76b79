"""The loop nest over GLB tiles: steps, reuse, traffic, capacity, default tiling.

A layer's per-group GEMM (M x N x K) is cut into GLB tiles (tm, tn, tk); the
loops over them run groups outermost, then `loop_order` (outer to inner).
Each iteration of the innermost loop is a *step*: the array runs that tile's
folds. An operand tile is loaded from DRAM when its indices change from the
previous step (inputs: m, k; weights: k, n); the output tile accumulates in
the GLB while its (m, n) stays, and when it leaves before the reduction is
done (k outside the innermost output loop) its partial sums spill to DRAM
and are read back on the next visit.

Steady state: a loop of t iterations is simulated as its first `window`
iterations plus its last (edge) one; the iterations in between are copies
of iteration `window - 1` (same step classes), stood for by a multiplicity.
So the number of simulated steps grows with the number of distinct tiles,
not with the MAC count (the memory model checks the copies really are in
a periodic regime before extrapolating).
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass

from mappings.dataflow import ROLES, Dataflow, Operand
from mappings.mapping import LOOP_ORDERS, LevelTile, Mapping
from simulator.arch import ArchSpec, LevelKind
from simulator.formats import OperandBytes
from workloads.layers import GemmShape
from workloads.sparsity import NM

DEPENDS = {Operand.INPUTS: "mk", Operand.WEIGHTS: "kn", Operand.OUTPUTS: "mn"}
GLB = "glb"


@dataclass(frozen=True, slots=True)
class Step:
    """One GLB tile as the memory model runs it."""

    index: tuple[int, ...]  # loop indices, outer to inner: (group, loop_order[0], [1], [2])
    mults: tuple[int, ...]  # per loop: iterations its index there stands for
    sizes: tuple[int, int, int]  # (sm, sn, sk) elements
    loads: tuple[tuple[Operand, float], ...]  # DRAM -> GLB bytes (OUTPUTS: psum read-back)
    write_bytes: float  # GLB -> DRAM after the step (final outputs or a psum spill)
    enters_output: bool  # a new output tile starts here (takes an output buffer)
    releases: tuple[Operand, ...]  # input / weight tiles last used by this step
    # the output tile leaves its buffer with nothing to write to DRAM (it stays on
    # chip for the next layer: network-level scheduling)
    keeps_output: bool = False

    @property
    def weight(self) -> int:
        """Steps of the full loop nest this one stands for."""
        return math.prod(self.mults)


@dataclass(frozen=True, slots=True)
class LoopNest:
    gemm: GemmShape
    groups: int
    tile: tuple[int, int, int]
    loop_order: str
    bypass: tuple[Operand, ...] = ()  # operands streamed past the GLB (fetched every step)

    @property
    def trips(self) -> dict[str, int]:
        return {d: -(-getattr(self.gemm, d) // t) for d, t in zip("mnk", self.tile, strict=True)}

    @property
    def steps(self) -> int:
        t = self.trips
        return self.groups * t["m"] * t["n"] * t["k"]


def resolve_tile(mapping: Mapping, gemm: GemmShape) -> tuple[int, int, int]:
    tile = mapping.tile(GLB)
    if tile is None:
        return gemm.m, gemm.n, gemm.k
    t = tile.clamp(gemm)
    return t.m, t.n, t.k


def simulated_indices(trips: int, window: int) -> list[tuple[int, int]]:
    """(index, multiplicity) of a loop's simulated iterations."""
    if trips <= window + 1:
        return [(i, 1) for i in range(trips)]
    head = [(i, 1) for i in range(window - 1)]
    return [*head, (window - 1, trips - window), (trips - 1, 1)]


def enumerate_steps(nest: LoopNest, sizes: OperandBytes, window: int | None) -> list[Step]:
    """The steps of the loop nest (truncated to `window` per loop; None: all)."""
    return list(_enumerate_steps(nest, sizes, window))


@functools.lru_cache(maxsize=512)
def _enumerate_steps(nest: LoopNest, sizes: OperandBytes, window: int | None) -> tuple[Step, ...]:
    # cached: a mapping's nest is enumerated again for each window, for its
    # dense baseline and for every layer of the same shape
    trips = nest.trips
    dims = "g" + nest.loop_order
    counts = {"g": nest.groups, **trips}
    levels = [
        [(i, 1) for i in range(counts[d])]
        if window is None
        else simulated_indices(counts[d], window)
        for d in dims
    ]
    flat = []
    for combo in itertools.product(*levels):
        flat.append((tuple(i for i, _ in combo), tuple(w for _, w in combo)))
    g = nest.gemm
    per = {
        Operand.INPUTS: sizes.input_element_bytes(g),
        Operand.WEIGHTS: sizes.weights / (g.k * g.n),
    }
    window = sizes.window
    moving = [d for d in dims if counts[d] > 1]
    slide = moving[-1] if moving and moving[-1] in "mk" else None
    # positions in an index (g, loop_order...) of the loops each operand's tile follows
    where = {op: (0, *(dims.index(d) for d in DEPENDS[op])) for op in Operand}
    pos_m, pos_n, pos_k = (dims.index(d) for d in "mnk")
    tm, tn, tk = nest.tile
    last_k = trips["k"] - 1
    m_n = g.m * g.n

    # per step, the tile of each operand it uses (inputs, weights, outputs)
    order = (Operand.INPUTS, Operand.WEIGHTS, Operand.OUTPUTS)
    keys = [tuple(tuple(idx[p] for p in where[op]) for op in order) for idx, _ in flat]
    i_in, i_w, i_out = 0, 1, 2
    bypassed = {op: op in nest.bypass for op in (Operand.INPUTS, Operand.WEIGHTS)}

    steps = []
    n_flat = len(flat)
    for pos, (idx, mults) in enumerate(flat):
        here = keys[pos]
        prev = keys[pos - 1] if pos else None
        nxt = keys[pos + 1] if pos + 1 < n_flat else None
        sm = min(tm, g.m - idx[pos_m] * tm)
        sn = min(tn, g.n - idx[pos_n] * tn)
        sk = min(tk, g.k - idx[pos_k] * tk)
        loads = []
        for op, j in ((Operand.INPUTS, i_in), (Operand.WEIGHTS, i_w)):
            if prev is None or bypassed[op] or prev[j] != here[j]:
                if op is Operand.INPUTS and window is not None and not bypassed[op]:
                    # the tile's footprint, less what the tile before shares when
                    # the innermost moving loop slides it (workloads.window)
                    fetched = window.tile_fetch((tm, tk), (idx[pos_m], idx[pos_k]), slide)
                    loads.append((op, per[op] * fetched))
                    continue
                area = sm * sk if op is Operand.INPUTS else sk * sn
                loads.append((op, per[op] * area))
        enters = prev is None or prev[i_out] != here[i_out]
        if enters and idx[pos_k] > 0:
            loads.append((Operand.OUTPUTS, sizes.psums * sm * sn / m_n))
        write = 0.0
        if nxt is None or nxt[i_out] != here[i_out]:
            done = idx[pos_k] == last_k
            write = (sizes.outputs if done else sizes.psums) * sm * sn / m_n
        releases = tuple(
            op
            for op, j in ((Operand.INPUTS, i_in), (Operand.WEIGHTS, i_w))
            if nxt is None or bypassed[op] or nxt[j] != here[j]
        )
        steps.append(
            Step(
                index=idx,
                mults=mults,
                sizes=(sm, sn, sk),
                loads=tuple(loads),
                write_bytes=write,
                enters_output=enters,
                releases=releases,
            )
        )
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class Traffic:
    """DRAM bytes of a loop nest (per operand), before burst rounding."""

    inputs: float
    weights: float
    psum_reads: float
    output_writes: float

    @property
    def reads(self) -> float:
        return self.inputs + self.weights + self.psum_reads

    @property
    def total(self) -> float:
        return self.reads + self.output_writes


def analytic_traffic(nest: LoopNest, sizes: OperandBytes) -> Traffic:
    """DRAM traffic in closed form (equals summing `enumerate_steps`; tested)."""
    t = nest.trips
    order = nest.loop_order
    pos = {d: i for i, d in enumerate(order)}

    def inner(dims: str) -> int:
        """Position of the innermost loop over `dims` that has more than one trip."""
        moving = [pos[d] for d in dims if t[d] > 1]
        return max(moving) if moving else -1

    def reread(op: Operand) -> int:
        if op in nest.bypass:  # fetched for every step that uses it
            return math.prod(t[d] for d in order if d not in DEPENDS[op])
        # a tile reloads whenever an outer loop it does not depend on moves on
        q = inner(DEPENDS[op])
        return math.prod(t[d] for d in order[:q] if d not in DEPENDS[op]) if q > 0 else 1

    g = nest.groups
    spills = t["k"] - 1 if t["k"] > 1 and pos["k"] < inner("mn") else 0
    inputs = sizes.inputs
    if sizes.window is not None:  # a conv: every input tile's footprint (less the slide)
        tm, _, tk = nest.tile
        moving = [d for d in order if t[d] > 1]
        slide = (moving[-1], 0) if moving and moving[-1] in "mk" else None
        inputs = sizes.input_footprint_bytes(nest.gemm, (tm,), (tk,), slide)[0]
    return Traffic(
        inputs=g * inputs * reread(Operand.INPUTS),
        weights=g * sizes.weights * reread(Operand.WEIGHTS),
        psum_reads=g * sizes.psums * spills,
        output_writes=g * (sizes.outputs + sizes.psums * spills),
    )


def tile_bytes(nest: LoopNest, sizes: OperandBytes) -> dict[Operand, float]:
    """GLB bytes one tile of each operand takes (outputs at the accumulator width)."""
    return sizes.tile_bytes(nest.gemm, nest.tile)


def fits(
    nest: LoopNest,
    sizes: OperandBytes,
    arch: ArchSpec,
    staging: dict[Operand, float] | None = None,
) -> bool:
    """Do the tiles (double-buffered where the level is) fit every on-chip level
    that keeps them (`holds`)?

    A bypassed operand needs only its `staging` bytes (one fold's worth) there.
    """
    tiles = tile_bytes(nest, sizes)
    for op in nest.bypass:
        tiles[op] = min(tiles[op], (staging or {}).get(op, tiles[op]))
    for level in arch.memory.levels:
        if level.kind is not LevelKind.SRAM or level.capacity_bytes is None:
            continue
        copies = arch.memory.copies(level)
        need = {op: copies * b for op, b in tiles.items() if op in level.holds}
        if level.partition:
            if any(need[op] > level.capacity_for(op) for op in need):
                return False
        elif sum(need.values()) > level.capacity_bytes:
            return False
    return True


def fold_units(arch: ArchSpec, dataflow: Dataflow, pattern: NM | None) -> dict[str, int]:
    """Tile sizes that cut no fold: the dims on the rows and columns by the array
    (K by rows x window), the streamed dim by 1 (K: by the window)."""
    pe = arch.pe_array
    win = max(pe.window(pattern) if (pattern is None or not pe.nm_any) else 1, 1)
    roles = ROLES[dataflow]
    units = {roles.rows: pe.rows, roles.cols: pe.cols, roles.stream: 1}
    units["k"] *= win
    return units


def tile_options(full: int, unit: int, minimum: int) -> list[int]:
    """Tile sizes along one dimension: the whole of it; the near-divisors that
    cut it into j nearly equal parts (ceil(full / j) rounded up to `unit`, j up
    to 16: awkward sizes get tiles that waste little); and the power-of-two
    multiples of `unit` from `minimum` up (small tiles for small buffers)."""
    opts = {full}
    for j in (2, 3, 4, 5, 6, 8, 12, 16):
        part = -(-full // j)
        size = -(-part // unit) * unit
        if minimum <= size < full:
            opts.add(size)
    size = unit
    while size < full:
        if size >= minimum:
            opts.add(size)
        size *= 2
    return sorted(opts)


def candidate_tiles(
    gemm: GemmShape, arch: ArchSpec, dataflow: Dataflow, pattern: NM | None, aligned: bool = True
) -> list[tuple[int, int, int]]:
    """GLB tiles to try. Aligned: multiples of the fold (no partial folds); else,
    for when nothing aligned fits, any size from 1 (folds cut short)."""
    units = fold_units(arch, dataflow, pattern) if aligned else dict.fromkeys("mnk", 1)
    if not aligned:  # still whole reduction windows: a K tile cuts no N:M group
        pe = arch.pe_array
        units["k"] = max(pe.window(pattern) if (pattern is None or not pe.nm_any) else 1, 1)
    streamed = ROLES[dataflow].stream
    # a stream shorter than the array's fill is mostly fill: keep streamed tiles long
    pe = arch.pe_array
    minimum = {d: units[d] for d in "mnk"}
    if aligned:
        minimum[streamed] = min(getattr(gemm, streamed), 2 * (pe.rows + pe.cols))
    per_dim = [tile_options(getattr(gemm, d), units[d], minimum[d]) for d in "mnk"]
    return list(itertools.product(*per_dim))


def glb_mapping(
    dataflow: Dataflow,
    tile: tuple[int, int, int],
    loop_order: str,
    bypass: tuple[Operand, ...] = (),
) -> Mapping:
    return Mapping(dataflow, (LevelTile(GLB, *tile),), loop_order, bypass)


def bypass_options(dataflow: Dataflow) -> tuple[tuple[Operand, ...], ...]:
    """The stationary operand may stream past the GLB (WS weights, IS inputs)."""
    stationary = ROLES[dataflow].stationary
    return ((),) if stationary is Operand.OUTPUTS else ((), (stationary,))


__all__ = [
    "LOOP_ORDERS",
    "LoopNest",
    "Step",
    "Traffic",
    "analytic_traffic",
    "bypass_options",
    "candidate_tiles",
    "enumerate_steps",
    "fits",
    "fold_units",
    "glb_mapping",
    "resolve_tile",
    "simulated_indices",
    "tile_bytes",
]
