"""The tile model's compute timing: closed-form cycles per fold.

One model for all dataflows and both fold timings (parameters, not copies).
A fold is one rows x cols tile of the stationary operand (WS: weights,
IS: inputs, OS: outputs); T is its stream length (WS: M rows of A, IS: N
columns of W, OS: the reduction steps). In mode `pattern` each PE reduces
`window` K elements per cycle (DESIGN.md), so K takes `reduction_steps`
PE-cycles. With R x C the array and F the folds, run back to back:

    serialized (SCALE-Sim v3):  each fold  pre + R + C - 2 + T
                                (pre = R weight/input preload for WS/IS, 0 for OS)
    overlapped, WS/IS:          R + (F - 1) * max(T, 2R - 1) + T + R + C - 2
    overlapped, OS:             F * T + R + C - 2

For folds of different T (GLB tiles at a matrix edge) the same recurrence
gives: total = sum over folds of `period_cycles(T_f)` + `tail_cycles(T_last)`.

These equal `simulator.reference.SystolicArrayRef` stepping register by
register (tests/test_tile_vs_reference.py; its module docstring derives
each schedule). SCALE-Sim v3 reports `folds * (2R + C + T - 2) - 1` (WS/IS)
and `folds * (R + C + T - 2) - 1` (OS): the same count, taken from cycle 0
(docs/cycles.md; `ArchSpec.scalesim_compat` reports it that way).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from mappings.dataflow import ROLES, Dataflow, FoldTiming
from simulator.arch import PEArraySpec
from workloads.layers import GemmShape
from workloads.sparsity import NM


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True, slots=True)
class FoldGrid:
    """How a GEMM is cut into folds on the array."""

    row_folds: int  # folds along the array's rows
    col_folds: int  # folds along the array's columns
    stream_len: int  # T: vectors streamed through the array per fold
    preload_cycles: int  # stationary-operand load per fold (serialized timing)
    groups: int = 1  # independent GEMMs of this shape (grouped / depthwise conv)

    @property
    def folds(self) -> int:
        return self.groups * self.row_folds * self.col_folds


@dataclass(frozen=True, slots=True)
class ComputeTiming:
    grid: FoldGrid
    compute_cycles: int  # the array's own timing, fill and drain included
    cycles_per_fold: int  # serialized: a whole fold; overlapped: the fold period

    @property
    def steady_cycles(self) -> int:
        """Cycles in which a fold streams (F * T)."""
        return self.grid.folds * self.grid.stream_len

    @property
    def fill_drain_cycles(self) -> int:
        """Preload, pipeline fill and drain: everything that is not streaming."""
        return self.compute_cycles - self.steady_cycles


def fold_dims(gemm: GemmShape, array: PEArraySpec, dataflow: Dataflow) -> tuple[int, int, int]:
    """(dimension along the array rows, along the columns, streamed) of a GEMM, in
    elements (K for the reduction, not yet in reduction steps)."""
    r = ROLES[dataflow]
    return getattr(gemm, r.rows), getattr(gemm, r.cols), getattr(gemm, r.stream)


def fold_grid(
    gemm: GemmShape,
    array: PEArraySpec,
    dataflow: Dataflow,
    pattern: NM | None,
    groups: int = 1,
) -> FoldGrid:
    # a dimension on the rows or streamed that is K counts in reduction steps
    r = ROLES[dataflow]
    steps = array.reduction_steps(gemm.k, pattern)
    size = {"m": gemm.m, "n": gemm.n, "k": steps}
    return FoldGrid(
        ceil_div(size[r.rows], array.rows),
        ceil_div(size[r.cols], array.cols),
        size[r.stream],
        array.rows if r.preload else 0,
        groups,
    )


def period_cycles(array: PEArraySpec, dataflow: Dataflow, stream_len: int) -> int:
    """Cycles one fold of stream length T adds when folds run back to back."""
    rows, cols = array.rows, array.cols
    if array.fold_timing is FoldTiming.SERIALIZED:
        preload = rows if ROLES[dataflow].preload else 0
        return preload + rows + cols - 2 + stream_len
    if not ROLES[dataflow].preload:  # OS: streams back to back
        return stream_len
    # the next preload starts once the swap passed the bottom row (R - 1), takes R
    return max(stream_len, 2 * rows - 1)


def tail_cycles(array: PEArraySpec, dataflow: Dataflow, last_stream_len: int) -> int:
    """What a run of overlapped folds adds once: first preload, last fill and drain."""
    rows, cols = array.rows, array.cols
    if array.fold_timing is FoldTiming.SERIALIZED:
        return 0
    last = last_stream_len + rows + cols - 2
    if not ROLES[dataflow].preload:
        return last - last_stream_len
    return rows + last - period_cycles(array, dataflow, last_stream_len)


def compute_timing(
    gemm: GemmShape,
    array: PEArraySpec,
    dataflow: Dataflow,
    pattern: NM | None,
    groups: int = 1,
) -> ComputeTiming:
    """Compute cycles of a GEMM (x groups) on the array, fill and drain included."""
    grid = fold_grid(gemm, array, dataflow, pattern, groups)
    period = period_cycles(array, dataflow, grid.stream_len)
    total = grid.folds * period + tail_cycles(array, dataflow, grid.stream_len)
    return ComputeTiming(grid, total, period)


@dataclass(frozen=True, slots=True)
class FoldStreams:
    """The folds a layer runs, as stream length -> count, and the last fold's length.

    Enough for exact compute cycles under either fold timing: total =
    sum(count * period(T)) + tail(T_last).
    """

    counts: tuple[tuple[int, int], ...]  # (T, folds), T >= 1
    last_stream_len: int

    @property
    def folds(self) -> int:
        return sum(c for _, c in self.counts)

    @property
    def steady_cycles(self) -> int:
        return sum(t * c for t, c in self.counts)

    def compute_cycles(self, array: PEArraySpec, dataflow: Dataflow) -> int:
        if not self.counts:
            return 0
        body = sum(c * period_cycles(array, dataflow, t) for t, c in self.counts)
        return body + tail_cycles(array, dataflow, self.last_stream_len)


def _tile_sizes(total: int, tile: int) -> list[tuple[int, int]]:
    """(size, how many) of the tiles cutting `total` into `tile`s: full ones, then the edge."""
    full, edge = divmod(total, tile)
    sizes = [(tile, full)] if full else []
    return [*sizes, (edge, 1)] if edge else sizes


def _skip_stream(t: int, density: float) -> int:
    """Stream length once zero activations are skipped (the stream compacts)."""
    return max(1, math.ceil(t * density)) if t else 0


def fold_streams(
    gemm: GemmShape,
    groups: int,
    tile: tuple[int, int, int],
    array: PEArraySpec,
    dataflow: Dataflow,
    pattern: NM | None,
    step_nonzero: list[np.ndarray] | None = None,
    activation_density: float = 1.0,
) -> FoldStreams:
    """Folds of a layer cut into GLB tiles (tm, tn, tk) of its per-group GEMM.

    Each GLB tile runs as folds on the array (partial folds at tile edges).
    `step_nonzero`: per K tile, (groups, steps, N) from the real mask when
    all-zero weight tiles are skipped (`sparse_modes.reduction_nonzero`):
    WS drops folds whose R x C weight block is zero; IS and OS shorten the
    stream to the weight columns / reduction steps that hold a nonzero, and
    drop a fold whose stream is empty. `activation_density` < 1 compacts the
    activation stream (WS: rows of A, OS: the K stream; IS keeps its
    stationary inputs, so nothing).
    """
    rows, cols = array.rows, array.cols
    tm, tn, tk = tile
    m_tiles, n_tiles, k_tiles = (
        _tile_sizes(gemm.m, tm),
        _tile_sizes(gemm.n, tn),
        _tile_sizes(gemm.k, tk),
    )
    steps_of = [array.reduction_steps(sk, pattern) for sk, _ in k_tiles]
    counts: dict[int, int] = {}

    def add(t: int, c: int) -> None:
        if t > 0 and c > 0:
            counts[t] = counts.get(t, 0) + c

    if dataflow is Dataflow.WS:
        if step_nonzero is None:
            blocks = groups * sum(
                -(-s // rows) * kc * -(-sn // cols) * nc
                for s, (_, kc) in zip(steps_of, k_tiles, strict=True)
                for sn, nc in n_tiles
            )
        else:
            blocks = sum(_live_blocks(nz, rows, cols, tn) for nz in step_nonzero)
        for sm, mc in m_tiles:
            add(_skip_stream(sm, activation_density), blocks * mc)
        last = _skip_stream(m_tiles[-1][0], activation_density)
        return FoldStreams(tuple(sorted(counts.items())), last)

    if dataflow is Dataflow.IS:
        m_blocks = sum(-(-sm // cols) * mc for sm, mc in m_tiles)
        last = n_tiles[-1][0]
        if step_nonzero is None:
            for s, (_, kc) in zip(steps_of, k_tiles, strict=True):
                for sn, nc in n_tiles:
                    add(sn, groups * -(-s // rows) * kc * nc * m_blocks)
        else:
            for nz in step_nonzero:
                live = _live_columns(nz, rows, tn)  # (groups, row blocks, n tiles)
                values, freq = np.unique(live, return_counts=True)
                for t, f in zip(values.tolist(), freq.tolist(), strict=True):
                    add(t, f * m_blocks)
                last = int(live[-1, -1, -1])
        return FoldStreams(tuple(sorted(counts.items())), last)

    # OS: stream the reduction steps of each K tile
    m_blocks = sum(-(-sm // rows) * mc for sm, mc in m_tiles)
    if step_nonzero is None:
        for s, (_, kc) in zip(steps_of, k_tiles, strict=True):
            t = _skip_stream(s, activation_density)
            add(t, groups * kc * m_blocks * sum(-(-sn // cols) * nc for sn, nc in n_tiles))
        last = _skip_stream(steps_of[-1], activation_density)
    else:
        last = 0
        for nz in step_nonzero:
            live = _live_steps(nz, cols, tn)  # (groups, column blocks)
            values, freq = np.unique(live, return_counts=True)
            for t, f in zip(values.tolist(), freq.tolist(), strict=True):
                add(_skip_stream(t, activation_density), f * m_blocks)
            last = _skip_stream(int(live[-1, -1]), activation_density)
    return FoldStreams(tuple(sorted(counts.items())), max(last, 1))


def _blocks(n: int, tile: int, block: int) -> np.ndarray:
    """Block index of each of n positions, blocks restarting at every tile edge."""
    pos = np.arange(n)
    per_tile = -(-tile // block)
    return (pos // tile) * per_tile + (pos % tile) // block


def _live_blocks(nz: np.ndarray, rows: int, cols: int, tn: int) -> int:
    """WS folds whose (rows steps x cols columns) weight block holds a nonzero."""
    g, s, n = nz.shape
    rb = np.arange(s) // rows
    cb = _blocks(n, tn, cols)
    live = np.zeros((g, rb.max() + 1, cb.max() + 1), bool)
    np.logical_or.at(live, (slice(None), rb[:, None], cb[None, :]), nz)
    return int(live.sum())


def _live_columns(nz: np.ndarray, rows: int, tn: int) -> np.ndarray:
    """IS: per (group, row block, N tile) the weight columns with a nonzero in the block."""
    g, s, n = nz.shape
    rb = np.arange(s) // rows
    col_any = np.zeros((g, rb.max() + 1, n), bool)
    np.logical_or.at(col_any, (slice(None), rb, slice(None)), nz)
    tiles = np.arange(n) // tn
    out = np.zeros((g, rb.max() + 1, tiles.max() + 1), np.int64)
    np.add.at(out, (slice(None), slice(None), tiles), col_any)
    return out


def _live_steps(nz: np.ndarray, cols: int, tn: int) -> np.ndarray:
    """OS: per (group, column block) the reduction steps with a nonzero in the block."""
    g, s, n = nz.shape
    cb = _blocks(n, tn, cols)
    step_any = np.zeros((g, s, cb.max() + 1), bool)
    np.logical_or.at(step_any, (slice(None), slice(None), cb), nz)
    return step_any.sum(axis=1)
