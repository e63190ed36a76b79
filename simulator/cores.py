"""Multi-core chips: a layer's output tiles dealt to identical cores in waves.

An arch with `cores > 1` (`ArchSpec.cores`, YAML `cores: {count, shared}`) has
that many copies of its PE array and of every memory level not in
`shared_levels`; the shared levels (DRAM, an L2) serve them all. The unit of
work is the tile of the outermost private level (a GPU's CTA tile): the
layer's output tiles (groups x M blocks x N blocks; K is never split, which
would need a cross-core reduction) are dealt in order, N fastest, to the
cores: tile t runs on core t mod cores, in wave t // cores. The busiest core
runs ceil(tiles / cores) tiles, so wave quantization follows from the counts.

This module holds the arithmetic (no model): the split, the bytes the shared
level above the cores fetches once per wave for the cores of that wave
(multicast of a row block of the input or a column block of the weights),
the bandwidth share of each shared level, and the arch as one core sees it
(shared bandwidth scaled) or as energy prices the whole chip (private
levels and PEs replicated). `simulate` runs the busiest core's tiles
through the single-core pipeline and counts the chip's accesses with it.

Approximations, stated: the busiest core's tiles are timed as one GEMM of
them stacked along M (all full-size, as a GPU's edge CTA runs its whole tile
predicated), so when a tile holds all of K the core keeps its weight column
block across them; a conv's tiles on one core read the plain (im2col) input
matrix, not the shared halo; each shared level's share is the busiest core's
fraction of the tiles (waves / tiles), the last partial wave included; the
chip's accesses are the single-array count over every tile, so reuse between
consecutive tiles of the loop order counts as if one core ran them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mappings.dataflow import Operand
from simulator.accesses import Accesses, LevelAccesses, OperandAccesses
from simulator.arch import ArchSpec, LevelKind, MemLevelSpec
from simulator.formats import OperandBytes
from workloads.layers import GemmShape


@dataclass(frozen=True, slots=True)
class CoreSplit:
    """A layer's output tiles over the cores (tile sizes clamped to the GEMM)."""

    tm: int
    tn: int
    m_blocks: int
    n_blocks: int
    groups: int
    cores: int

    @property
    def tiles(self) -> int:
        return self.groups * self.m_blocks * self.n_blocks

    @property
    def waves(self) -> int:
        """Tiles of the busiest core (its tile sequence, one per wave)."""
        return -(-self.tiles // self.cores)

    @property
    def active(self) -> int:
        """Cores running at once in a full wave."""
        return min(self.cores, self.tiles)


def split(arch: ArchSpec, gemm: GemmShape, groups: int, tm: int, tn: int) -> CoreSplit:
    tm, tn = min(tm, gemm.m), min(tn, gemm.n)
    return CoreSplit(tm, tn, -(-gemm.m // tm), -(-gemm.n // tn), groups, arch.cores)


def private_level(arch: ArchSpec) -> str:
    """The outermost level each core has its own copy of (its tile is the core's)."""
    return next(lv.name for lv in arch.memory.on_chip if lv.name not in arch.shared_levels)


def sharing_level(arch: ArchSpec) -> MemLevelSpec | None:
    """The innermost shared on-chip level (an L2): the cores read it, it multicasts."""
    lv = arch.memory.level(arch.shared_levels[-1])
    return lv if lv.kind is LevelKind.SRAM else None


def _edge_count(lo: int, hi: int, period: int) -> int:
    """Ids in [lo, hi] that are the last of their period (an edge block)."""
    return (hi + 1) // period - lo // period


def multicast_bytes(sp: CoreSplit, gemm: GemmShape, sizes: OperandBytes) -> dict[Operand, float]:
    """Input and weight bytes the shared level fetches from its parent when each
    wave's cores share their row blocks of the input and column blocks of the
    weights (each distinct block fetched once per wave, with all its K)."""
    in_row = sizes.inputs / gemm.m  # bytes per output row of the input (over all K)
    w_col = sizes.weights / gemm.n
    m_edge = gemm.m - (sp.m_blocks - 1) * sp.tm
    n_edge = gemm.n - (sp.n_blocks - 1) * sp.tn
    per_group = sp.m_blocks * sp.n_blocks
    rows = cols = 0.0
    for start in range(0, sp.tiles, sp.cores):
        end = min(start + sp.cores, sp.tiles)  # tiles [start, end) run in this wave
        # row blocks (ids across groups): a contiguous range
        r0, r1 = start // sp.n_blocks, (end - 1) // sp.n_blocks
        edges = _edge_count(r0, r1, sp.m_blocks)
        rows += (r1 - r0 + 1 - edges) * sp.tm + edges * m_edge
        # column blocks: per group touched, a cyclic run of the group's columns
        g0, g1 = start // per_group, (end - 1) // per_group
        for g in range(g0, g1 + 1):
            a = max(start, g * per_group) - g * per_group
            b = min(end, (g + 1) * per_group) - g * per_group
            if b - a >= sp.n_blocks:
                cols += (sp.n_blocks - 1) * sp.tn + n_edge
                continue
            first, last = a % sp.n_blocks, (b - 1) % sp.n_blocks
            has_edge = last >= sp.n_blocks - 1 or last < first
            cols += (b - a - has_edge) * sp.tn + has_edge * n_edge
    return {Operand.INPUTS: rows * in_row, Operand.WEIGHTS: cols * w_col}


def unshared_bytes(sp: CoreSplit, sizes: OperandBytes) -> dict[Operand, float]:
    """The same fetches with every tile's blocks fetched for it alone."""
    return {
        Operand.INPUTS: sp.groups * sp.n_blocks * sizes.inputs,
        Operand.WEIGHTS: sp.groups * sp.m_blocks * sizes.weights,
    }


def multicast_fits(arch: ArchSpec, sp: CoreSplit, tk: int, sizes: OperandBytes, gemm) -> bool:
    """The sharing level holds one K step of every active core's tiles (double-
    buffered when it is), so a block fetched for one core waits there for the others."""
    lv = sharing_level(arch)
    if lv is None or lv.capacity_bytes is None:
        return lv is not None
    step = sp.tm * tk * sizes.inputs / (gemm.m * gemm.k) + tk * sp.tn * sizes.weights / (
        gemm.k * gemm.n
    )
    return sp.active * step * arch.memory.copies(lv) <= lv.capacity_bytes


def bandwidth_shares(
    arch: ArchSpec, sp: CoreSplit, gemm: GemmShape, sizes: OperandBytes, multicast: bool
) -> dict[str, float]:
    """Per shared level (and the host), the fraction of its bandwidth the busiest core has.

    The cores of a wave divide each shared level's bandwidth: over the layer the
    busiest core moves waves / tiles of the cores' traffic. Above the sharing
    level, multicast shrinks the chip's traffic by the ratio of the cores' own
    fetches to the fetches made (outputs, written once, included), so the same
    time buys the core that many more of its own bytes."""
    share = sp.waves / sp.tiles
    names = list(arch.shared_levels)
    if arch.memory.host is not None:
        names.append(arch.memory.host.name)
    inner = sharing_level(arch)
    ratio = 1.0
    if multicast and inner is not None:
        mc, alone = multicast_bytes(sp, gemm, sizes), unshared_bytes(sp, sizes)
        out = sp.groups * sizes.outputs
        made = sum(mc.values()) + out
        ratio = (sum(alone.values()) + out) / made if made else 1.0
    return {
        name: min(1.0, share * (1.0 if inner is not None and name == inner.name else ratio))
        for name in names
    }


def core_arch(arch: ArchSpec, shares: dict[str, float]) -> ArchSpec:
    """One core as its tiles see the chip: its own array and private levels, each
    shared level at the core's share of its bandwidth."""

    def scaled(lv: MemLevelSpec) -> MemLevelSpec:
        f = shares.get(lv.name)
        if f is None or f == 1.0:
            return lv
        return dataclasses.replace(lv, bandwidth_bytes_per_cycle=lv.bandwidth_bytes_per_cycle * f)

    mem = arch.memory
    memory = dataclasses.replace(
        mem,
        levels=tuple(scaled(lv) for lv in mem.levels),
        host=scaled(mem.host) if mem.host is not None else None,
    )
    return dataclasses.replace(arch, memory=memory, cores=1)


def chip_arch(arch: ArchSpec) -> ArchSpec:
    """The whole chip for energy and bounds: every private level and the PE array
    replicated `cores` times (capacity, banks, macros and bandwidth; an access
    still reaches one core's macro, so its energy is a core's; leakage is all
    cores')."""
    n = arch.cores
    if n == 1:
        return arch

    def replicated(lv: MemLevelSpec) -> MemLevelSpec:
        if lv.name in arch.shared_levels:
            return lv
        leak = lv.energy.leakage_pj_per_cycle
        return dataclasses.replace(
            lv,
            capacity_bytes=None if lv.capacity_bytes is None else lv.capacity_bytes * n,
            partition=tuple((op, size * n) for op, size in lv.partition),
            banks=lv.banks * n,
            macros=lv.macros * n,
            bandwidth_bytes_per_cycle=lv.bandwidth_bytes_per_cycle * n,
            energy=lv.energy
            if leak is None
            else dataclasses.replace(lv.energy, leakage_pj_per_cycle=leak * n),
        )

    mem = arch.memory
    memory = dataclasses.replace(mem, levels=tuple(replicated(lv) for lv in mem.levels))
    pe = dataclasses.replace(arch.pe_array, rows=arch.pe_array.rows * n)
    return dataclasses.replace(arch, memory=memory, pe_array=pe, cores=1)


def core_sizes(sizes: OperandBytes, gemm: GemmShape, sub: GemmShape) -> OperandBytes:
    """One group's operand bytes scaled to the busiest core's share `sub` (its
    tiles stacked along M, all of K): inputs as the plain matrix (a conv's halo
    is not shared between tiles of one core), weights its column block."""
    fi = sub.m / gemm.m
    fw = sub.n / gemm.n
    fo = sub.m * sub.n / (gemm.m * gemm.n)
    return dataclasses.replace(
        sizes,
        weights=sizes.weights * fw,
        weight_metadata=sizes.weight_metadata * fw,
        _dense_weights=sizes._dense_weights * fw,
        inputs=sizes.inputs * fi,
        input_metadata=sizes.input_metadata * fi,
        outputs=sizes.outputs * fo,
        psums=sizes.psums * fo,
        window=None,
        # the levels' own formats, scaled to the core's share as the operands are
        level_formats=tuple(
            (name, op, total * f, meta * f, fmt, density, bits, elements * f, length)
            for name, op, total, meta, fmt, density, bits, elements, length in sizes.level_formats
            for f in ({Operand.WEIGHTS: fw, Operand.INPUTS: fi}.get(op, fo),)
        ),
    )


def apply_multicast(
    accesses: Accesses,
    arch: ArchSpec,
    fetched: dict[Operand, float],
    sizes: OperandBytes | None = None,
) -> Accesses:
    """The chip's accesses with each operand's fetches into the sharing level (and
    every shared level's reads above it) cut to what multicast fetches (`fetched`,
    in the memory-wide format: a level with its own format, `sizes.level_formats`,
    caps at that format's bytes)."""
    inner = sharing_level(arch)
    if inner is None:
        return accesses
    above = set(arch.shared_levels) - {inner.name}
    if arch.memory.host is not None:
        above.add(arch.memory.host.name)
    levels = []
    for lv in accesses.levels:
        if lv.name not in above and lv.name != inner.name:
            levels.append(lv)
            continue
        ops = []
        for op, a in lv.operands:
            cap = fetched.get(op)
            if cap is not None and sizes is not None and sizes.level_formats:
                cap *= sizes.level_scale(lv.name, op)
            if cap is not None and op in inner.holds:
                reads = a.reads_bytes if lv.name == inner.name else min(a.reads_bytes, cap)
                a = OperandAccesses(reads, min(a.fills_bytes, cap), a.updates_bytes)
            ops.append((op, a))
        levels.append(LevelAccesses(lv.name, tuple(ops)))
    return Accesses(tuple(levels), accesses.network_hop_bits, accesses.array_tiles)
