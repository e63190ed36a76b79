"""Capacity: does each level hold the tiles a nest puts in it?

Per on-chip level, every operand it keeps takes its tile's bytes (outputs
at the accumulator width), twice when the level is double-buffered; a
partitioned level checks each operand against its share, a shared one
checks the sum. Outputs take the accumulator width, except at a level
outside another that keeps outputs and reduces all of K in place (TPU v1's
Unified Buffer outside its accumulators): it only ever receives final
values, at the data width. An operand a level does not keep takes nothing there,
except the GLB's staging of a bypassing operand (one fold's worth). A
`resident` operand (network-level scheduling: the layer's input already on
chip, its output staying there) takes no tile at the outermost level
keeping it: the whole tensor is there, in the bytes the schedule reserved.
"""

from __future__ import annotations

import itertools

import numpy as np

from mappings.dataflow import LOOP_DIMS, Operand
from simulator.accesses import Nest, _reuse_factors, level_format_scales
from simulator.arch import ArchSpec
from simulator.formats import OperandBytes


def tile_bytes_at(
    tile: tuple[int, int, int],
    nest: Nest,
    sizes: OperandBytes,
    chain: tuple[tuple[int, int, int], ...] = (),
) -> dict[Operand, float]:
    """Bytes one tile of each operand takes (outputs at the accumulator width;
    `chain`: the tiles of the levels outside it, outer to inner)."""
    return sizes.tile_bytes(nest.gemm, tile, chain)


def resident_level(arch: ArchSpec, operand: Operand) -> str | None:
    """The level a resident tensor of `operand` lives in: the outermost on-chip
    level keeping that operand (None: no level keeps it)."""
    return next((lv.name for lv in arch.memory.on_chip if operand in lv.holds), None)


def final_output_levels(nest: Nest) -> set[str]:
    """Levels keeping outputs that receive only final values: the next level
    inside keeping outputs holds each output tile for its whole reduction (the
    loops above it never move K outside its innermost m / n loop)."""
    holders = [i for i, lv in enumerate(nest.levels) if Operand.OUTPUTS in lv.holds]
    if len(holders) < 2:
        return set()
    # only whether a loop moves matters here (2: "more than one trip")
    parent = (nest.gemm.m, nest.gemm.n, nest.gemm.k)
    loops: list[tuple[str, float]] = []
    above = []
    for lv in nest.levels:
        loops += [(d, 2.0 if parent[LOOP_DIMS.index(d)] > lv.tile[LOOP_DIMS.index(d)] else 1.0)
                  for d in lv.loop_order]  # fmt: skip
        above.append(list(loops))
        parent = lv.tile
    return {
        nest.levels[outer].name
        for outer, inner in itertools.pairwise(holders)
        if _reuse_factors(above[inner])[2] <= 1
    }


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
    final = final_output_levels(nest)
    scales = level_format_scales(nest, sizes) if sizes.level_formats else {}
    for i, lv in enumerate(nest.levels):
        spec = arch.memory.level(lv.name)
        copies = arch.memory.copies(spec)
        tiles = tile_bytes_at(lv.tile, nest, sizes, tuple(o.tile for o in nest.levels[:i]))
        for op in (Operand.WEIGHTS, Operand.INPUTS) if sizes.level_formats else ():
            tiles[op] *= scales.get((lv.name, op), 1.0)  # the level's own format
        if lv.name in final:
            g = nest.gemm
            tiles[Operand.OUTPUTS] = sizes.outputs * lv.tile[0] * lv.tile[1] / (g.m * g.n)
            if sizes.level_formats:  # final values, in the level's own format
                tiles[Operand.OUTPUTS] *= scales.get((lv.name, Operand.OUTPUTS), 1.0)
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
    few multiplications per tile over arrays of tiles: the mapper asks it for
    thousands of tiles."""

    def __init__(
        self,
        sizes: OperandBytes,
        arch: ArchSpec,
        gemm,
        bypass: tuple[Operand, ...] = (),
        staging: dict[Operand, float] | None = None,
        resident: tuple[Operand, ...] = (),
        conv_inputs: dict[tuple[int, int], float] | None = None,
    ) -> None:
        g = gemm
        self.gemm, self.sizes = g, sizes
        # (tm, tk) -> a conv's largest input tile footprint (bytes): `conv_inputs`
        # when given, shared by the checkers of one search (same sizes and GEMM)
        self.conv_inputs: dict[tuple[int, int], float] = (
            conv_inputs if conv_inputs is not None else {}
        )
        self.per = (
            sizes.inputs / (g.m * g.k),
            sizes.weights / (g.k * g.n),
            sizes.psums / (g.m * g.n),
        )
        out_final = sizes.outputs / (g.m * g.n)  # at a level outside the accumulating one
        glb = arch.glb.name
        home = {op: resident_level(arch, op) for op in resident}
        index = {Operand.INPUTS: 0, Operand.WEIGHTS: 1, Operand.OUTPUTS: 2}
        # per bounded level: (shared capacity or None, ((operand index, copies, cap), ...),
        # ((operand index, copies, staged bytes), ...))
        checks = []
        on_chip = arch.memory.on_chip
        for pos, spec in enumerate(on_chip):
            # every level holds the tile here, looped over with K innermost (the
            # search's base order): a level inside that keeps outputs reduces in
            # place and this one sees final values (other orders: `fits_nest`)
            inside = any(Operand.OUTPUTS in lv.holds for lv in on_chip[pos + 1 :])
            final = out_final if inside and Operand.OUTPUTS in spec.holds else None
            if spec.capacity_bytes is None:
                continue
            copies = arch.memory.copies(spec)

            def per_copy(op: Operand, spec=spec, copies=copies) -> float:
                """Copies x the level's own format over the memory-wide one."""
                scale = sizes.level_scale(spec.name, op) if sizes.level_formats else 1.0
                return copies * scale if scale != 1.0 else copies

            held = tuple(
                (index[op], per_copy(op), spec.capacity_for(op) or 0)
                for op in spec.holds
                if not (spec.name == glb and op in bypass) and home.get(op) != spec.name
            )
            staged = ()
            if spec.name == glb and staging:
                staged = tuple(
                    (index[op], per_copy(op), staging[op], spec.capacity_for(op) or 0)
                    for op in spec.holds
                    if op in bypass and op in staging
                )
            shared = None if spec.partition else spec.capacity_bytes
            checks.append((shared, held, staged, final))
        self.checks = checks

    def _conv_input(self, tm: int, tk: int) -> float:
        """A conv's input tile: its largest footprint (bytes)."""
        inputs = self.conv_inputs.get((tm, tk))
        if inputs is None:
            inputs = self.sizes.input_footprint_bytes(self.gemm, (tm,), (tk,))[1]
            self.conv_inputs[(tm, tk)] = inputs
        return inputs

    def input_bytes(self, tiles: list[tuple[int, int, int]], array: np.ndarray) -> np.ndarray:
        """Each tile's input bytes (`array`: `tiles` as an (n, 3) float array): the
        same for every bypass, so a search asks once per tile list."""
        if self.sizes.window is not None:
            known = self.conv_inputs
            return np.array(
                [known.get((m, k)) or self._conv_input(m, k) for m, _, k in tiles], dtype=float
            )
        return self.per[0] * array[:, 0] * array[:, 2]

    def fitting(self, array: np.ndarray, inputs: np.ndarray) -> list[bool]:
        """Whether each (tm, tn, tk) tile fits every bounded level, for all tiles
        at once (`array`: the tiles as an (n, 3) float array; `inputs`: their
        `input_bytes`)."""
        tm, tn, tk = array[:, 0], array[:, 1], array[:, 2]
        _, pw, po = self.per
        weights = pw * tk * tn
        fits = np.ones(len(array), dtype=bool)
        for shared, held, staged, final in self.checks:
            size = (inputs, weights, (final if final is not None else po) * tm * tn)
            total = np.zeros(len(array))
            for i, copies, cap in held:
                need = copies * size[i]
                if shared is None:
                    fits &= ~(need > cap)
                total = total + need
            for i, copies, b, cap in staged:
                need = copies * np.minimum(size[i], b)
                if shared is None:
                    fits &= ~(need > cap)
                total = total + need
            if shared is not None:
                fits &= ~(total > shared)
        return fits.tolist()


__all__ = [
    "TileFit",
    "final_output_levels",
    "fits_nest",
    "level_need_bytes",
    "resident_level",
    "tile_bytes_at",
]
