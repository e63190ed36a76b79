"""Reference systolic arrays of N:M PEs, stepped cycle by cycle (the RTL's golden model).

One model, `SystolicArrayRef(rows, cols, n, m, dataflow, fold_timing, acc_bits)`,
for the three dataflows and both fold timings. It steps real registers and
returns the output values, the cycle count and, on request, a per-cycle trace
of what the array's edges were driven with and what left the array
(`ArrayRun.trace`, one `CycleIO` per clock edge), so an RTL bench can drive the
same stimulus and compare every cycle.

Conventions. R x C PEs, PE (r, c) in row r (top = 0) and column c (left = 0).
`win` = K elements one PE reduces per cycle: N in dense mode, M in sparse
mode. A GEMM O (M_gemm x N_gemm) = A (M_gemm x K) @ W (K x N_gemm) is cut
into folds, column folds outer and row folds inner. Cycle e is the e-th
rising edge (0-based); "at edge e" means a register takes its value at that
edge; the cycle count of a run is (edge of the last output) + 1. Inputs
that enter the array at an edge travel one PE per edge (skew), so an operand
fed at the left edge of row r at edge e reaches PE (r, c) at edge e + c.

Weight stationary (WS; PE = `NMPE`, T = M_gemm). PE (r, c) holds the weight
window W[k0 + r*win : +win, n0 + c] (compressed: N values + N indices in
sparse mode). Preload: a shift chain down each column, fed at the top, the
bottom row's window first; column c is fed at edges P + c .. P + c + R - 1.
Stream: activation row i's window r (A[i, k0 + r*win : +win], zero-padded to
M) enters the left of row r at edge S + i + r (S = P + R) and moves right;
partial sums move down; the partial sum of O[i, n0 + c] over this fold's K
slice leaves the bottom of column c at edge S + i + R - 1 + c (the bottom
PE's `valid_q`/`psum_q`). Row folds of one column tile are summed outside
the array (accumulator SRAM).

Input stationary (IS; PE = `NMPEIS`, T = N_gemm). The WS schedule with the
operands' roles swapped: PE (r, c) holds the input window
A[m0 + c, k0 + r*win : +win] (padded to M), loaded by the same skewed shift
chain; weight column j's window r (W[k0 + r*win : +win, j], compressed)
enters the left of row r at edge S + j + r; the partial sum of O[m0 + c, j]
leaves the bottom of column c at edge S + j + R - 1 + c.

Output stationary (OS; PE = `NMPEOS`, T = ceil(K / win)). PE (r, c)
accumulates O[m0 + r, n0 + c]. Window t of A's row m0 + r enters the left of
row r at edge S + t + r with `first` (t = 0) and `last` (t = T - 1) flags;
window t of W's column n0 + c (compressed) enters the top of column c at
edge S + t + c; both meet in PE (r, c) at edge S + t + r + c. Nothing is
preloaded. Outputs are read in place: PE (r, c)'s `out_valid_q` pulses at
edge S + T - 1 + r + c with the finished value in `out_q` (a second
accumulator register, so the next fold may start accumulating at once; how
the GLB collects the out registers is outside the array, hidden behind the
next fold as in SCALE-Sim v3, which counts no OS drain).

Fold timing. SERIALIZED (SCALE-Sim v3): a fold starts (its preload, or its
stream for OS) at the edge after the previous fold's last output, and the
chain loads straight into the PEs' working registers. Per fold that is
2R + C + T - 2 cycles for WS/IS (preload R, then the last output leaves
T + R + C - 2 edges after the stream starts) and R + C + T - 2 for OS.

OVERLAPPED (double-buffered PE registers). OS: the folds' streams run back to
back (S' = S + T), the out register holds the previous result: total
F*T + R + C - 2. WS/IS: every PE has a shadow register; the preload chain
runs through the shadows while the working registers compute. A `swap` bit
enters the left of row r at edge S + r - 1 and moves right one PE per edge,
one cycle ahead of the fold's first operand: at that edge the PE copies the
shadow into its working register (the shadow's incoming value, so a swap may
coincide with the last shift of the chain). The next fold's preload may
start once the swap has passed the bottom row (P' >= S + R - 1; skew keeps
every column safe) and after the chain is free (P' >= P + R); its stream
starts when the stream port is free and its weights are in (S' >= S + T,
S' >= P' + R). Hence S' = S + max(T, 2R - 1) and, with the first fold
exactly as serialized, total R + (F - 1) * max(T, 2R - 1) + T + R + C - 2.
The tile model's closed form (simulator.tile_model) is proven equal to these
runs in tests/test_tile_vs_reference.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mappings.dataflow import ROLES, Dataflow, FoldTiming
from simulator.reference.pe import NMPE, NMPEIS, NMPEOS, nm_compress, wrap

Vec = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LeftIn:
    """What the controller drives into the left edge of one row at one edge.

    `vec`: activations (WS, OS; M wide) or weight values (IS; N wide);
    `idx`: weight indices (IS; else empty). `first`/`last`: OS accumulator
    control. `swap`: WS/IS overlapped, take the shadow registers.
    """

    valid: bool = False
    vec: Vec = ()
    idx: Vec = ()
    first: bool = False
    last: bool = False
    swap: bool = False


@dataclass(frozen=True, slots=True)
class TopIn:
    """What the controller drives into the top edge of one column at one edge.

    WS/IS: `load` shifts the stationary chain with `vec` (WS: N weight values,
    IS: M inputs) and `idx` (WS: N indices). OS: `valid` with the weight
    window (N values, N indices) of the operand meeting the activations.
    """

    load: bool = False
    valid: bool = False
    vec: Vec = ()
    idx: Vec = ()


@dataclass(frozen=True, slots=True)
class OutputBeat:
    """One value that left the array at `cycle` (held in PE (row, col)'s output register).

    WS/IS: the bottom row's psum, the partial sum of O[m, n] over fold `fold`'s
    K slice. OS: the finished O[m, n]. Values wrap at `acc_bits`.
    """

    cycle: int
    fold: int
    row: int
    col: int
    m: int
    n: int
    value: int


@dataclass(frozen=True, slots=True)
class CycleIO:
    """One clock edge: the edge inputs driven before it, the outputs after it."""

    cycle: int
    left: tuple[LeftIn, ...]
    top: tuple[TopIn, ...]
    outputs: tuple[OutputBeat, ...]


@dataclass(frozen=True, slots=True)
class ArrayRun:
    """What a reference array run produced: output values and cycle counts."""

    output: np.ndarray
    cycles: int
    fold_cycles: tuple[int, ...]  # per fold: its first edge (load or stream) to its last output
    fold_starts: tuple[int, ...] = ()  # per fold: the edge its stream starts (S)
    trace: tuple[CycleIO, ...] = ()


@dataclass(slots=True)
class _Fold:
    """One fold's operands as the array's edges see them."""

    stationary: list[list[tuple[Vec, Vec]]]  # [r][c] -> (values, indices); empty for OS
    left: list[list[tuple[Vec, Vec]]]  # [t][r] -> (vec, idx)
    top: list[list[tuple[Vec, Vec]]]  # [t][c] -> (values, indices); OS only
    stream_len: int
    out_coord: tuple[int, int]  # (m0, n0): origin of the fold's output tile
    load_start: int | None = None  # P: column 0's first chain edge
    stream_start: int | None = None  # S: row 0's first operand edge
    beats_left: int = 0
    last_beat: int = -1


@dataclass(slots=True)
class _Cell:
    """A PE plus the array-level registers around it (shadow, swap pipeline)."""

    pe: NMPE | NMPEIS | NMPEOS
    shadow: Vec = ()
    shadow_idx: Vec = ()
    swap_q: bool = False


class SystolicArrayRef:
    """A rows x cols systolic array of N:M PEs for one dataflow and fold timing."""

    def __init__(
        self,
        rows: int,
        cols: int,
        n: int,
        m: int,
        dataflow: Dataflow = Dataflow.WS,
        fold_timing: FoldTiming = FoldTiming.SERIALIZED,
        acc_bits: int = 32,
    ) -> None:
        if rows < 1 or cols < 1:
            raise ValueError(f"array needs rows, cols >= 1, got {rows} x {cols}")
        self.rows, self.cols, self.n, self.m = rows, cols, n, m
        self.dataflow = Dataflow(dataflow)
        self.fold_timing = FoldTiming(fold_timing)
        self.acc_bits = acc_bits
        pe_cls = {Dataflow.WS: NMPE, Dataflow.IS: NMPEIS, Dataflow.OS: NMPEOS}[self.dataflow]
        self.cells = [[_Cell(pe_cls(n, m, acc_bits)) for _ in range(cols)] for _ in range(rows)]

    def window(self, dense: bool) -> int:
        return self.n if dense else self.m

    # ---- operands -------------------------------------------------------------------

    def _compress(self, group: np.ndarray, dense: bool, where: str) -> tuple[Vec, Vec]:
        """A weight window as the PE stores it: N values + N indices."""
        if dense:
            return tuple(int(v) for v in group), tuple(range(self.n))
        if np.count_nonzero(group) > self.n:
            raise ValueError(
                f"window of {len(group)} at {where} has "
                f"{np.count_nonzero(group)} nonzeros > N = {self.n}"
            )
        vals, idx = nm_compress(group, self.n)
        return tuple(vals), tuple(idx)

    def _pad(self, window: np.ndarray) -> Vec:
        """An activation window widened to the PE's M activation lanes."""
        return tuple(int(v) for v in window) + (0,) * (self.m - len(window))

    def _folds(self, a: np.ndarray, w: np.ndarray, dense: bool) -> tuple[list[_Fold], tuple]:
        rows, cols, win = self.rows, self.cols, self.window(dense)
        m_rows, k = a.shape
        n_cols = w.shape[1]
        df = self.dataflow
        # padding from the dataflow's roles: the rows' dimension to whole row
        # tiles (K: rows x window lanes), the columns' to whole columns, a
        # streamed K to whole windows
        roles = ROLES[df]
        size = {"m": m_rows, "n": n_cols, "k": k}
        unit = {"m": 1, "n": 1, "k": win}
        unit[roles.rows] = rows * unit[roles.rows]
        unit[roles.cols] = cols
        m_pad, n_pad, k_pad = (-(-size[d] // unit[d]) * unit[d] for d in "mnk")
        row_dim, row_tile = size[roles.rows], unit[roles.rows]  # what the array rows tile
        col_dim = size[roles.cols]
        a_p = np.zeros((m_pad, k_pad), np.int64)
        a_p[:m_rows, :k] = a
        w_p = np.zeros((k_pad, n_pad), np.int64)
        w_p[:k, :n_cols] = w
        folds = []
        for j in range(0, -(-col_dim // cols) * cols, cols):
            for i in range(0, -(-row_dim // row_tile) * row_tile, row_tile):
                if df is Dataflow.WS:  # i: K slice, j: N tile
                    stat = [
                        [
                            self._compress(
                                w_p[i + r * win : i + (r + 1) * win, j + c], dense, f"PE ({r}, {c})"
                            )
                            for c in range(cols)
                        ]
                        for r in range(rows)
                    ]
                    left = [
                        [
                            (self._pad(a_p[t, i + r * win : i + (r + 1) * win]), ())
                            for r in range(rows)
                        ]
                        for t in range(m_rows)
                    ]
                    folds.append(_Fold(stat, left, [], m_rows, (0, j)))
                elif df is Dataflow.IS:  # i: K slice, j: M tile
                    stat = [
                        [
                            (self._pad(a_p[j + c, i + r * win : i + (r + 1) * win]), ())
                            for c in range(cols)
                        ]
                        for r in range(rows)
                    ]
                    left = [
                        [
                            self._compress(
                                w_p[i + r * win : i + (r + 1) * win, t],
                                dense,
                                f"row {r}, column {t}",
                            )
                            for r in range(rows)
                        ]
                        for t in range(n_cols)
                    ]
                    folds.append(_Fold(stat, left, [], n_cols, (j, 0)))
                else:  # OS, i: M tile, j: N tile
                    t_len = k_pad // win
                    left = [
                        [(self._pad(a_p[i + r, t * win : (t + 1) * win]), ()) for r in range(rows)]
                        for t in range(t_len)
                    ]
                    top = [
                        [
                            self._compress(
                                w_p[t * win : (t + 1) * win, j + c], dense, f"column {j + c}"
                            )
                            for c in range(cols)
                        ]
                        for t in range(t_len)
                    ]
                    folds.append(_Fold([], left, top, t_len, (i, j)))
        return folds, (m_pad, max(n_pad, n_cols))

    # ---- schedule (the controller) --------------------------------------------------

    def _schedule(self, folds: list[_Fold], f: int, e: int) -> None:
        """Decide at edge e whether fold f (the next unstarted one) starts loading/streaming.

        Every condition is something the controller observes: outputs seen,
        the chain's and the stream port's occupancy, where the swap bit is.
        """
        rows = self.rows
        fold, prev = folds[f], folds[f - 1] if f else None
        stationary = self.dataflow is not Dataflow.OS
        if self.fold_timing is FoldTiming.SERIALIZED:
            # start once every output of the previous fold has left the array
            if prev is not None and (prev.beats_left or prev.last_beat >= e):
                return
            if stationary:
                if fold.load_start is None:
                    fold.load_start = e
                if e == fold.load_start + rows:
                    fold.stream_start = e
            else:
                fold.stream_start = e
            return
        if not stationary:  # OS overlapped: back to back on the stream port
            if prev is None or e >= prev.stream_start + prev.stream_len:
                fold.stream_start = e
            return
        if fold.load_start is None:
            chain_free = prev is None or e >= prev.load_start + rows
            # the previous fold's swap bit has passed the bottom row of column 0
            swapped = prev is None or (
                prev.stream_start is not None and e >= prev.stream_start + rows - 1
            )
            if chain_free and swapped:
                fold.load_start = e
        if fold.load_start is not None and fold.stream_start is None:
            # decided one edge ahead: the swap bit enters row 0 at edge S - 1, and
            # it may coincide with the chain's last shift (it takes the shadow's new value)
            port_free = prev is None or e + 1 >= prev.stream_start + prev.stream_len
            loaded = e >= fold.load_start + rows - 1
            if port_free and loaded:
                fold.stream_start = e + 1

    # ---- run --------------------------------------------------------------------------

    def run_gemm(
        self, a: np.ndarray, w: np.ndarray, dense: bool, *, trace: bool = False
    ) -> ArrayRun:
        """C = A @ W (A: M x K, W: K x N already masked), stepped edge by edge."""
        a = np.asarray(a, dtype=np.int64)
        w = np.asarray(w, dtype=np.int64)
        m_rows, n_cols = a.shape[0], w.shape[1]
        folds, out_shape = self._folds(a, w, dense)
        return self._run(folds, out_shape, (m_rows, n_cols), dense, trace)

    def run_tiles(
        self,
        a: np.ndarray,
        w: np.ndarray,
        tiles: list[tuple[int, int, int, int, int, int]],
        dense: bool,
    ) -> ArrayRun:
        """C = A @ W run as a sequence of GEMM tiles (m0, m1, n0, n1, k0, k1), each
        tile's folds after the previous tile's, back to back as one stream of
        folds (the controller chains them as it chains one GEMM's folds)."""
        a = np.asarray(a, dtype=np.int64)
        w = np.asarray(w, dtype=np.int64)
        folds: list[_Fold] = []
        for m0, m1, n0, n1, k0, k1 in tiles:
            tile_folds, _ = self._folds(a[m0:m1, k0:k1], w[k0:k1, n0:n1], dense)
            for f in tile_folds:
                f.out_coord = (f.out_coord[0] + m0, f.out_coord[1] + n0)
            folds += tile_folds
        # room for the padded edge folds' (zero) outputs past the matrix
        pad = self.rows + self.cols
        shape = (a.shape[0] + pad, w.shape[1] + pad)
        return self._run(folds, shape, (a.shape[0], w.shape[1]), dense, False)

    def _run(
        self, folds: list[_Fold], out_shape: tuple, shape: tuple[int, int], dense: bool, trace: bool
    ) -> ArrayRun:
        m_rows, n_cols = shape
        rows, cols = self.rows, self.cols
        df = self.dataflow
        for fold in folds:
            fold.beats_left = rows * cols if df is Dataflow.OS else fold.stream_len * cols
        shadow_width = self.m if df is Dataflow.IS else self.n
        for row in self.cells:
            for cell in row:
                cell.pe.reset()
                cell.shadow, cell.shadow_idx = (0,) * shadow_width, (0,) * self.n
                cell.swap_q = False
        out = np.zeros(out_shape, np.int64)
        records: list[CycleIO] = []
        next_fold, e = 0, 0
        while any(f.beats_left for f in folds):
            while next_fold < len(folds):
                self._schedule(folds, next_fold, e)
                if folds[next_fold].stream_start is None:
                    break
                next_fold += 1
            left, top = self._edge_inputs(folds[: next_fold + 1], e)
            self._step(left, top, dense)
            beats = self._collect(folds, e)
            for beat in beats:
                # (OS: each fold's outputs once; += so that K tiles accumulate)
                out[beat.m, beat.n] += beat.value
            if trace:
                records.append(CycleIO(e, tuple(left), tuple(top), tuple(beats)))
            e += 1
        wrapped = np.vectorize(lambda v: wrap(int(v), self.acc_bits), otypes=[np.int64])(out)
        firsts = [f.load_start if f.load_start is not None else f.stream_start for f in folds]
        return ArrayRun(
            output=wrapped[:m_rows, :n_cols],
            cycles=e,
            fold_cycles=tuple(f.last_beat + 1 - s for f, s in zip(folds, firsts, strict=True)),
            fold_starts=tuple(f.stream_start for f in folds),
            trace=tuple(records),
        )

    def _edge_inputs(self, folds: list[_Fold], e: int) -> tuple[list[LeftIn], list[TopIn]]:
        rows, cols = self.rows, self.cols
        overlapped = self.fold_timing is FoldTiming.OVERLAPPED
        os_flow = self.dataflow is Dataflow.OS
        left = [LeftIn() for _ in range(rows)]
        top = [TopIn() for _ in range(cols)]
        for fold in folds:
            s, p, t_len = fold.stream_start, fold.load_start, fold.stream_len
            if p is not None:
                for c in range(cols):
                    step = e - p - c
                    if 0 <= step < rows:  # bottom row's window first
                        vec, idx = fold.stationary[rows - 1 - step][c]
                        top[c] = TopIn(load=True, vec=vec, idx=idx)
            if s is None:
                continue
            for r in range(rows):
                t = e - s - r
                swap = overlapped and not os_flow and t == -1
                if 0 <= t < t_len:
                    vec, idx = fold.left[t][r]
                    left[r] = LeftIn(
                        True, vec, idx, first=os_flow and t == 0, last=os_flow and t == t_len - 1
                    )
                elif swap:
                    left[r] = LeftIn(
                        valid=left[r].valid, vec=left[r].vec, idx=left[r].idx, swap=True
                    )
            if os_flow:
                for c in range(cols):
                    t = e - s - c
                    if 0 <= t < t_len:
                        vec, idx = fold.top[t][c]
                        top[c] = TopIn(valid=True, vec=vec, idx=idx)
        return left, top

    def _step(self, left: list[LeftIn], top: list[TopIn], dense: bool) -> None:
        """One rising edge of every PE: inputs are sampled from pre-edge registers."""
        rows, cols, cells = self.rows, self.cols, self.cells
        df = self.dataflow
        overlapped = self.fold_timing is FoldTiming.OVERLAPPED
        idle_m, idle_n = (0,) * self.m, (0,) * self.n
        updates = []
        for r in range(rows):
            for c in range(cols):
                cell = cells[r][c]
                pe = cell.pe
                if c == 0:
                    lin = left[r]
                    h_valid, h_vec, h_idx = lin.valid, lin.vec, lin.idx
                    h_first, h_last, h_swap = lin.first, lin.last, lin.swap
                else:
                    lp = cells[r][c - 1].pe
                    h_swap = cells[r][c - 1].swap_q
                    h_valid = lp.valid_q
                    if df is Dataflow.IS:
                        h_vec, h_idx = tuple(lp.w_q), tuple(lp.w_idx_q)
                    else:
                        h_vec, h_idx = tuple(lp.act_q), ()
                    h_first = df is Dataflow.OS and lp.first_q
                    h_last = df is Dataflow.OS and lp.last_q
                if df is Dataflow.OS:
                    if r == 0:
                        v_vec, v_idx = top[c].vec or idle_n, top[c].idx or idle_n
                    else:
                        up = cells[r - 1][c].pe
                        v_vec, v_idx = tuple(up.w_q), tuple(up.w_idx_q)
                    updates.append(
                        (
                            cell,
                            dict(
                                dense=dense,
                                valid=h_valid,
                                first=h_first,
                                last=h_last,
                                act=h_vec or idle_m,
                                w=v_vec,
                                w_idx=v_idx,
                            ),
                            None,
                        )
                    )
                    continue
                # WS / IS: the stationary chain comes from above (or the top edge)
                if r == 0:
                    load, ch_vec, ch_idx = top[c].load, top[c].vec, top[c].idx
                elif overlapped:
                    up = cells[r - 1][c]
                    load, ch_vec, ch_idx = top[c].load, up.shadow, up.shadow_idx
                else:
                    up_pe = cells[r - 1][c].pe
                    load = top[c].load
                    if df is Dataflow.WS:
                        ch_vec, ch_idx = tuple(up_pe.w_q), tuple(up_pe.w_idx_q)
                    else:
                        ch_vec, ch_idx = tuple(up_pe.x_q), ()
                # the column's chain shifts as one: the top edge's load strobe
                # reaches every row (a column-wide enable)
                psum = cells[r - 1][c].pe.psum_q if r else 0
                if overlapped:
                    new_shadow = (ch_vec, ch_idx) if load else (cell.shadow, cell.shadow_idx)
                    w_load, st_vec, st_idx = h_swap, new_shadow[0], new_shadow[1]
                else:
                    new_shadow = None
                    w_load, st_vec, st_idx = load, ch_vec, ch_idx
                if df is Dataflow.WS:
                    kwargs = dict(
                        dense=dense,
                        w_load=w_load,
                        w=list(st_vec) if w_load else pe.w_q,
                        w_idx=list(st_idx) if w_load else pe.w_idx_q,
                        valid=h_valid,
                        act=list(h_vec) if h_valid else list(idle_m),
                        psum=psum,
                    )
                else:
                    kwargs = dict(
                        dense=dense,
                        x_load=w_load,
                        x=list(st_vec) if w_load else pe.x_q,
                        valid=h_valid,
                        w=list(h_vec) if h_valid else list(idle_n),
                        w_idx=list(h_idx) if h_valid else list(idle_n),
                        psum=psum,
                    )
                updates.append((cell, kwargs, (new_shadow, h_swap)))
        for cell, kwargs, extra in updates:
            cell.pe.step(**kwargs)
            if extra is not None:
                new_shadow, swap = extra
                if new_shadow is not None:
                    cell.shadow, cell.shadow_idx = new_shadow
                cell.swap_q = swap

    def _collect(self, folds: list[_Fold], e: int) -> list[OutputBeat]:
        """Outputs held in the array's output registers right after edge e."""
        rows, cols = self.rows, self.cols
        beats = []
        if self.dataflow is Dataflow.OS:
            for r in range(rows):
                for c in range(cols):
                    pe = self.cells[r][c].pe
                    if not pe.out_valid_q:
                        continue
                    fold = self._fold_at(folds, e - r - c)  # its last window entered row 0
                    m0, n0 = fold.out_coord
                    beats.append(self._beat(fold, folds, e, r, c, m0 + r, n0 + c, pe.out_q))
            return beats
        for c in range(cols):
            pe = self.cells[rows - 1][c].pe
            if not pe.valid_q:
                continue
            fold = self._fold_at(folds, e - (rows - 1) - c)
            t = e - fold.stream_start - (rows - 1) - c
            m0, n0 = fold.out_coord
            m, n = (m0 + t, n0 + c) if self.dataflow is Dataflow.WS else (m0 + c, n0 + t)
            beats.append(self._beat(fold, folds, e, rows - 1, c, m, n, pe.psum_q))
        return beats

    @staticmethod
    def _fold_at(folds: list[_Fold], row0_edge: int) -> _Fold:
        """The fold whose operand entered row 0 at `row0_edge` (streams never overlap)."""
        for fold in folds:
            s = fold.stream_start
            if s is not None and s <= row0_edge < s + fold.stream_len:
                return fold
        raise AssertionError(f"an output left the array at an unexpected cycle ({row0_edge})")

    @staticmethod
    def _beat(fold, folds, e, r, c, m, n, value) -> OutputBeat:
        fold.beats_left -= 1
        fold.last_beat = e
        return OutputBeat(e, folds.index(fold), r, c, m, n, int(value))


class WSArrayRef(SystolicArrayRef):
    """The weight-stationary array with SCALE-Sim's serialized fold timing."""

    def __init__(self, rows: int, cols: int, n: int, m: int, acc_bits: int = 32) -> None:
        super().__init__(rows, cols, n, m, Dataflow.WS, FoldTiming.SERIALIZED, acc_bits)
