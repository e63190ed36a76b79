"""Capacity: does each level hold the tiles a nest puts in it?

Per on-chip level, every operand it keeps takes its tile's bytes (outputs
at the accumulator width), twice when the level is double-buffered; a
partitioned level checks each operand against its share, a shared one
checks the sum. An operand a level does not keep takes nothing there,
except the GLB's staging of a bypassing operand (one fold's worth). A
`resident` operand (network-level scheduling: the layer's input already on
chip, its output staying there) takes no tile at the outermost level
keeping it: the whole tensor is there, in the bytes the schedule reserved.
"""

from __future__ import annotations

from mappings.dataflow import Operand
from simulator.accesses import Nest
from simulator.arch import ArchSpec
from simulator.formats import OperandBytes


def tile_bytes_at(
    tile: tuple[int, int, int], nest: Nest, sizes: OperandBytes
) -> dict[Operand, float]:
    """Bytes one tile of each operand takes (outputs at the accumulator width)."""
    return sizes.tile_bytes(nest.gemm, tile)


def resident_level(arch: ArchSpec, operand: Operand) -> str | None:
    """The level a resident tensor of `operand` lives in: the outermost on-chip
    level keeping that operand (None: no level keeps it)."""
    return next((lv.name for lv in arch.memory.on_chip if operand in lv.holds), None)


def level_need_bytes(
    nest: Nest,
    sizes: OperandBytes,
    arch: ArchSpec,
    staging: dict[Operand, float] | None = None,
    resident: tuple[Operand, ...] = (),
) -> dict[str, dict[Operand, float]]:
    """Per on-chip level, the bytes each operand needs there under the nest."""
    out = {}
    glb = arch.glb.name
    home = {op: resident_level(arch, op) for op in resident}
    for lv in nest.levels:
        spec = arch.memory.level(lv.name)
        copies = arch.memory.copies(spec)
        tiles = tile_bytes_at(lv.tile, nest, sizes)
        need = {op: copies * tiles[op] for op in lv.holds if home.get(op) != lv.name}
        if lv.name == glb and staging:
            for op in spec.holds:
                if op not in lv.holds and op in staging:  # bypassing: staged only
                    need[op] = copies * min(tiles[op], staging[op])
        out[lv.name] = need
    return out


def fits_nest(
    nest: Nest,
    sizes: OperandBytes,
    arch: ArchSpec,
    staging: dict[Operand, float] | None = None,
    resident: tuple[Operand, ...] = (),
) -> bool:
    for name, need in level_need_bytes(nest, sizes, arch, staging, resident).items():
        spec = arch.memory.level(name)
        if spec.capacity_bytes is None:
            continue
        if spec.partition:
            if any(b > (spec.capacity_for(op) or 0) for op, b in need.items()):
                return False
        elif sum(need.values()) > spec.capacity_bytes:
            return False
    return True


class TileFit:
    """`fits_nest` for the nests where every level holds the step level's tile
    (levels inside it hold the same tile; outer ones pass it through), as a
    few multiplications per tile: the mapper asks it for thousands of tiles."""

    def __init__(
        self,
        sizes: OperandBytes,
        arch: ArchSpec,
        gemm,
        bypass: tuple[Operand, ...] = (),
        staging: dict[Operand, float] | None = None,
        resident: tuple[Operand, ...] = (),
    ) -> None:
        g = gemm
        self.per = (
            sizes.inputs / (g.m * g.k),
            sizes.weights / (g.k * g.n),
            sizes.psums / (g.m * g.n),
        )
        glb = arch.glb.name
        home = {op: resident_level(arch, op) for op in resident}
        index = {Operand.INPUTS: 0, Operand.WEIGHTS: 1, Operand.OUTPUTS: 2}
        # per bounded level: (shared capacity or None, ((operand index, copies, cap), ...),
        # ((operand index, copies, staged bytes), ...))
        checks = []
        for spec in arch.memory.on_chip:
            if spec.capacity_bytes is None:
                continue
            copies = arch.memory.copies(spec)
            held = tuple(
                (index[op], copies, spec.capacity_for(op) or 0)
                for op in spec.holds
                if not (spec.name == glb and op in bypass) and home.get(op) != spec.name
            )
            staged = ()
            if spec.name == glb and staging:
                staged = tuple(
                    (index[op], copies, staging[op], spec.capacity_for(op) or 0)
                    for op in spec.holds
                    if op in bypass and op in staging
                )
            shared = None if spec.partition else spec.capacity_bytes
            checks.append((shared, held, staged))
        self.checks = checks

    def __call__(self, tile: tuple[int, int, int]) -> bool:
        tm, tn, tk = tile
        pi, pw, po = self.per
        size = (pi * tm * tk, pw * tk * tn, po * tm * tn)
        for shared, held, staged in self.checks:
            total = 0.0
            for i, copies, cap in held:
                need = copies * size[i]
                if shared is None and need > cap:
                    return False
                total += need
            for i, copies, b, cap in staged:
                need = copies * min(size[i], b)
                if shared is None and need > cap:
                    return False
                total += need
            if shared is not None and total > shared:
                return False
        return True


__all__ = ["TileFit", "fits_nest", "level_need_bytes", "resident_level", "tile_bytes_at"]
