"""Reference systolic arrays built from `NMPE`s, stepped cycle by cycle."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.reference.pe import NMPE, nm_compress, wrap


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
