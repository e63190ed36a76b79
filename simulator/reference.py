"""Cycle-by-cycle reference model: the golden model for the RTL.

Every class here steps registers exactly as the SystemVerilog in `hw/rtl/`
does: one call to `step` is one rising clock edge. State names mirror the
RTL's `_q` flops. It is slow on purpose (plain Python, one PE at a time) and
is only run on small arrays; the tile model is proven equal to it.

PE semantics (DESIGN.md): an N:M PE holds N weight values and N indices of
ceil(log2 M) bits. In sparse mode it takes M activations and multiplies
weight j by activation idx[j]; in dense mode it multiplies weight j by
activation j (only the first N activations are used). Products are summed
into the incoming partial sum with two's-complement wrap at `acc_bits`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from workloads.pruning import nm_keep_indices


def wrap(value: int, bits: int) -> int:
    """Two's-complement wrap of an integer to `bits` bits (what a register holds)."""
    mask = (1 << bits) - 1
    value &= mask
    return value - (1 << bits) if value >> (bits - 1) else value


@dataclass(slots=True)
class NMPE:
    """One N:M sparse PE with stationary weights and a registered psum output.

    Ports (hw/rtl/nm_pe.sv): dense_i, w_load_i, w_i[N], w_idx_i[N], valid_i,
    act_i[M], psum_i -> valid_o, act_o[M], psum_o, w_o[N], w_idx_o[N].
    Latency from valid_i to valid_o is one cycle.
    """

    n: int
    m: int
    acc_bits: int = 32
    w_q: list[int] = field(default_factory=list)
    w_idx_q: list[int] = field(default_factory=list)
    act_q: list[int] = field(default_factory=list)
    psum_q: int = 0
    valid_q: bool = False

    def __post_init__(self) -> None:
        if not 1 <= self.n <= self.m:
            raise ValueError(f"PE needs 1 <= N <= M, got {self.n}:{self.m}")
        self.reset()

    def reset(self) -> None:
        self.w_q = [0] * self.n
        self.w_idx_q = [0] * self.n
        self.act_q = [0] * self.m
        self.psum_q = 0
        self.valid_q = False

    def dot(self, act: Sequence[int], dense: bool) -> int:
        """The combinational sum of this PE's N products for activations `act`."""
        if dense:
            return sum(w * act[j] for j, w in enumerate(self.w_q))
        return sum(w * act[i] for w, i in zip(self.w_q, self.w_idx_q, strict=True))

    def step(
        self,
        *,
        dense: bool,
        w_load: bool,
        w: Sequence[int],
        w_idx: Sequence[int],
        valid: bool,
        act: Sequence[int],
        psum: int,
    ) -> None:
        """One rising clock edge. The MAC uses the weights held *before* the edge."""
        if valid:
            self.psum_q = wrap(psum + self.dot(act, dense), self.acc_bits)
            self.act_q = list(act)
        self.valid_q = valid
        if w_load:
            self.w_q = list(w)
            self.w_idx_q = list(w_idx)


def nm_compress(group: Sequence[int], n: int) -> tuple[list[int], list[int]]:
    """The N:M compressor: the N largest-magnitude values of a group and their
    indices (ascending), ties to the lower index (workloads.pruning rule)."""
    keep = nm_keep_indices(np.asarray(group), n)
    return [int(group[i]) for i in keep], [int(i) for i in keep]


@dataclass(frozen=True, slots=True)
class ArrayRun:
    """What a reference array run produced: output values and cycle counts."""

    output: np.ndarray
    cycles: int
    fold_cycles: tuple[int, ...]


class WSArrayRef:
    """A rows x cols weight-stationary systolic array of N:M PEs.

    Row r of the array holds a window of K elements (N dense, or M sparse) of
    one weight column per PE; activations enter at the left edge skewed by one
    cycle per row and move right; partial sums move down and leave at the
    bottom. Per fold: `rows` cycles of weight preload (a shift chain from the
    top), then T + rows + cols - 2 cycles until the last output leaves
    (fill, steady state, drain). Folds run back to back (serialized timing).
    """

    def __init__(self, rows: int, cols: int, n: int, m: int, acc_bits: int = 32) -> None:
        self.rows, self.cols, self.n, self.m, self.acc_bits = rows, cols, n, m, acc_bits
        self.pes = [[NMPE(n, m, acc_bits) for _ in range(cols)] for _ in range(rows)]

    def window(self, dense: bool) -> int:
        return self.n if dense else self.m

    def pack_tile(self, w_tile: np.ndarray, dense: bool) -> tuple[np.ndarray, np.ndarray]:
        """Pack a (rows*window) x cols weight tile into per-PE (values, indices).

        Sparse mode runs the N:M compressor on each window; the window must
        hold at most N nonzeros (the mask satisfies the pattern).
        """
        win = self.window(dense)
        vals = np.zeros((self.rows, self.cols, self.n), dtype=np.int64)
        idx = np.zeros((self.rows, self.cols, self.n), dtype=np.int64)
        for r in range(self.rows):
            for c in range(self.cols):
                group = w_tile[r * win : (r + 1) * win, c]
                if dense:
                    vals[r, c] = group
                    idx[r, c] = np.arange(self.n)
                    continue
                if np.count_nonzero(group) > self.n:
                    raise ValueError(
                        f"window of {win} at row {r}, column {c} has "
                        f"{np.count_nonzero(group)} nonzeros > N = {self.n}"
                    )
                vals[r, c], idx[r, c] = nm_compress(group, self.n)
        return vals, idx

    def run_fold(
        self, vals: np.ndarray, idx: np.ndarray, acts: np.ndarray, dense: bool
    ) -> tuple[np.ndarray, int]:
        """Preload (vals, idx) and stream `acts` (T x rows x window).

        Returns the T x cols outputs collected at the bottom edge and the
        cycles the fold took.
        """
        rows, cols = self.rows, self.cols
        t_len = acts.shape[0]
        cycles = 0
        idle_act = [0] * self.m
        for pe_row in self.pes:
            for pe in pe_row:
                pe.reset()
        # Weight preload: the row fed first ends at the bottom.
        for p in range(rows):
            top = rows - 1 - p
            for r in reversed(range(rows)):
                for c in reversed(range(cols)):
                    src_w = vals[top, c] if r == 0 else self.pes[r - 1][c].w_q
                    src_i = idx[top, c] if r == 0 else self.pes[r - 1][c].w_idx_q
                    self.pes[r][c].step(
                        dense=dense,
                        w_load=True,
                        w=[int(v) for v in src_w],
                        w_idx=[int(i) for i in src_i],
                        valid=False,
                        act=idle_act,
                        psum=0,
                    )
            cycles += 1
        out = np.zeros((t_len, cols), dtype=np.int64)
        for s in range(t_len + rows + cols - 2):
            for r in reversed(range(rows)):
                for c in reversed(range(cols)):
                    pe = self.pes[r][c]
                    if c == 0:
                        i = s - r
                        valid = 0 <= i < t_len
                        act = (
                            list(acts[i, r]) + [0] * (self.m - acts.shape[2]) if valid else idle_act
                        )
                    else:
                        left = self.pes[r][c - 1]
                        valid, act = left.valid_q, left.act_q
                    psum = self.pes[r - 1][c].psum_q if r else 0
                    pe.step(
                        dense=dense,
                        w_load=False,
                        w=pe.w_q,
                        w_idx=pe.w_idx_q,
                        valid=valid,
                        act=[int(a) for a in act],
                        psum=psum,
                    )
            cycles += 1
            for c in range(cols):
                bottom = self.pes[rows - 1][c]
                i = s - (rows - 1) - c
                if bottom.valid_q:
                    assert 0 <= i < t_len, "output left the array at an unexpected cycle"
                    out[i, c] = bottom.psum_q
        return out, cycles

    def run_gemm(self, a: np.ndarray, w: np.ndarray, dense: bool) -> ArrayRun:
        """C = A @ W with A (M x K) streaming and W (K x N, already masked) stationary."""
        a = np.asarray(a, dtype=np.int64)
        w = np.asarray(w, dtype=np.int64)
        m_rows, k = a.shape
        n_cols = w.shape[1]
        win = self.window(dense)
        k_tile, n_tile = self.rows * win, self.cols
        k_pad = -(-k // k_tile) * k_tile
        n_pad = -(-n_cols // n_tile) * n_tile
        a_p = np.zeros((m_rows, k_pad), np.int64)
        a_p[:, :k] = a
        w_p = np.zeros((k_pad, n_pad), np.int64)
        w_p[:k, :n_cols] = w
        out = np.zeros((m_rows, n_pad), np.int64)
        fold_cycles = []
        for j in range(0, n_pad, n_tile):
            for i in range(0, k_pad, k_tile):
                vals, idx = self.pack_tile(w_p[i : i + k_tile, j : j + n_tile], dense)
                acts = a_p[:, i : i + k_tile].reshape(m_rows, self.rows, win)
                part, cyc = self.run_fold(vals, idx, acts, dense)
                out[:, j : j + n_tile] += part
                fold_cycles.append(cyc)
        wrapped = np.vectorize(lambda v: wrap(int(v), self.acc_bits), otypes=[np.int64])(out)
        return ArrayRun(wrapped[:, :n_cols], sum(fold_cycles), tuple(fold_cycles))
