"""The tile model's compute timing: closed-form cycles per fold.

One model for all dataflows (a parameter, not three copies). A fold is one
rows x cols tile of the stationary operand. For the array in mode `pattern`
each PE reduces `window` K elements per cycle (DESIGN.md). Per fold:

    preload (rows, WS/IS only) + fill (rows + cols - 2) + steady (T)

with T the streamed length. This equals `simulator.reference` stepping
cycle by cycle (tests/test_tile_vs_reference.py) and SCALE-Sim v3's
`2R + C + T - 2` (WS/IS) and `R + C + T - 2` (OS) per fold, where SCALE-Sim
reports one cycle less in total because it counts from 0 (docs/cycles.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from mappings.dataflow import Dataflow, FoldTiming
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
    preload_cycles: int  # stationary-operand load per fold

    @property
    def folds(self) -> int:
        return self.row_folds * self.col_folds


@dataclass(frozen=True, slots=True)
class ComputeTiming:
    grid: FoldGrid
    cycles_per_fold: int
    fill_drain_per_fold: int  # preload + pipeline fill and drain

    @property
    def compute_cycles(self) -> int:
        return self.grid.folds * self.cycles_per_fold

    @property
    def fill_drain_cycles(self) -> int:
        return self.grid.folds * self.fill_drain_per_fold


def fold_grid(
    gemm: GemmShape, array: PEArraySpec, dataflow: Dataflow, pattern: NM | None
) -> FoldGrid:
    win = array.window(pattern)
    rows, cols = array.rows, array.cols
    if dataflow is Dataflow.WS:  # rows <- K windows, cols <- N, stream M
        return FoldGrid(ceil_div(gemm.k, rows * win), ceil_div(gemm.n, cols), gemm.m, rows)
    if dataflow is Dataflow.IS:  # rows <- K windows, cols <- M, stream N
        return FoldGrid(ceil_div(gemm.k, rows * win), ceil_div(gemm.m, cols), gemm.n, rows)
    # OS: rows <- M, cols <- N, stream K windows; nothing to preload
    return FoldGrid(ceil_div(gemm.m, rows), ceil_div(gemm.n, cols), ceil_div(gemm.k, win), 0)


def compute_timing(
    gemm: GemmShape, array: PEArraySpec, dataflow: Dataflow, pattern: NM | None
) -> ComputeTiming:
    """Compute cycles of a GEMM on the array, fill and drain included."""
    if array.fold_timing is not FoldTiming.SERIALIZED:
        raise NotImplementedError(f"fold timing {array.fold_timing}")
    grid = fold_grid(gemm, array, dataflow, pattern)
    fill_drain = grid.preload_cycles + array.rows + array.cols - 2
    return ComputeTiming(grid, fill_drain + grid.stream_len, fill_drain)
