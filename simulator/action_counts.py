"""Array-level action counts of one tiled GEMM on a weight-stationary array, exactly.

`ws_folds` is the fold sequence a tile controller walks (GLB tiles (tm, tn,
tk) of the GEMM; loops, outermost first: N tile, K tile, M tile, column fold,
row fold; hw/rtl/accel_top.sv walks the same), and `ws_action_counts` counts
what that sequence does to the real operands, with zero gating as DESIGN.md
defines it (a multiplier slot with a zero weight or a zero activation is
gated: operands held, no work, the cycle stays):

    macs                 live multiplier slots: nonzero weight x nonzero activation
    gated_macs           the other multiplier slots of a PE in a streaming cycle
    pe_weight_writes     PE weight registers written: every preload chain shift
                         writes a column's Rows registers; overlapped timing adds
                         one swap (shadow -> working) per PE and fold
    weight_buffer_reads  compressed weight windows read for preloads
    act_buffer_reads     activation windows read for streams
    acc_reads/acc_writes accumulator read-modify-writes (an output's first K fold
                         writes without reading)

Everything is a function of the shape, the tiles, the array and the
operands' zero pattern. Buffer reads count only windows inside the GEMM (the
array's padding rows and columns are driven with zeros, not read).
tests/test_action_counts.py proves the PE-side counts equal
`simulator.reference.SystolicArrayRef` stepping each GLB tile; the RTL top
counts all of them in simulation (hw/tb/tb_accel_top.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mappings.dataflow import FoldTiming
from simulator.arch import PEArraySpec
from workloads.sparsity import NM


@dataclass(frozen=True, slots=True)
class WSFold:
    """One fold: K windows [g0, g_end), output columns [n0, n_end), rows [m0, m_end).

    `g_end`/`n_end` are clipped to the GEMM and its tile (the array's other
    rows/columns are padding); `first`: the first K fold of its outputs.
    """

    g0: int
    g_end: int
    n0: int
    n_end: int
    m0: int
    m_end: int
    first: bool

    @property
    def stream_len(self) -> int:
        return self.m_end - self.m0


@dataclass(frozen=True, slots=True)
class ArrayActionCounts:
    macs: int
    gated_macs: int
    pe_weight_writes: int
    weight_buffer_reads: int
    act_buffer_reads: int
    acc_reads: int
    acc_writes: int


def ws_folds(
    m: int, n: int, k: int, tile: tuple[int, int, int], array: PEArraySpec, pattern: NM | None
) -> list[WSFold]:
    """The folds of an m x n x k GEMM cut into GLB tiles (tm, tn, tk), in order.

    K runs in windows of `array.window(pattern)` elements; tk must be a whole
    number of windows (the tiles of an N:M layer hold whole groups).
    """
    tm, tn, tk = tile
    win = array.window(pattern)
    if tk % win:
        raise ValueError(f"K tile {tk} is not a whole number of {win}-element windows")
    kw, tw = -(-k // win), tk // win
    rows, cols = array.rows, array.cols
    folds = []
    for nt in range(0, n, tn):
        n_tile_end = min(nt + tn, n)
        for kt in range(0, kw, tw):
            k_tile_end = min(kt + tw, kw)
            for mt in range(0, m, tm):
                for n0 in range(nt, n_tile_end, cols):
                    for g0 in range(kt, k_tile_end, rows):
                        folds.append(
                            WSFold(
                                g0,
                                min(g0 + rows, k_tile_end),
                                n0,
                                min(n0 + cols, n_tile_end),
                                mt,
                                min(mt + tm, m),
                                first=g0 == 0,
                            )
                        )
    return folds


def ws_action_counts(
    a: np.ndarray,
    w: np.ndarray,
    tile: tuple[int, int, int],
    array: PEArraySpec,
    pattern: NM | None,
) -> ArrayActionCounts:
    """The action counts of O = A @ W (W already pruned) tiled by `tile` on `array`."""
    m, k = a.shape
    n = w.shape[1]
    folds = ws_folds(m, n, k, tile, array, pattern)
    rows, cols = array.rows, array.cols
    # every (i, k, n) product is one multiplier slot of exactly one fold
    macs = int(((a != 0).astype(np.int64) @ (w != 0).astype(np.int64)).sum())
    pe_steps = sum(f.stream_len for f in folds) * rows * cols
    chain = rows * rows * cols + (rows * cols if array.fold_timing is FoldTiming.OVERLAPPED else 0)
    acc = [(f.stream_len * (f.n_end - f.n0), f.first) for f in folds]
    return ArrayActionCounts(
        macs=macs,
        gated_macs=pe_steps * array.multipliers - macs,
        pe_weight_writes=len(folds) * chain,
        weight_buffer_reads=sum((f.g_end - f.g0) * (f.n_end - f.n0) for f in folds),
        act_buffer_reads=sum(f.stream_len * (f.g_end - f.g0) for f in folds),
        acc_reads=sum(c for c, first in acc if not first),
        acc_writes=sum(c for c, _ in acc),
    )


__all__ = ["ArrayActionCounts", "WSFold", "ws_action_counts", "ws_folds"]
