"""What the systolic array benches (tb_ws_array, tb_is_array, tb_os_array) share.

The golden model is simulator.reference.SystolicArrayRef: for one GEMM it
returns a per-edge trace of what the controller drove into each row's left
edge and each column's top edge, and of every output that left the array.
The RTL arrays take those inputs *unskewed* (one activation row, one weight
row per cycle) and skew them inside, as real arrays do; the WS and IS arrays
also de-skew their outputs (IS: the WS ports with the operands' roles
swapped). So the bench turns the trace into port values:

    port input at edge e, array row r     = trace[e + r].left[r]
    port input at edge e, array column c  = trace[e + c].top[c]
    WS/IS output at edge e, column c      = trace[e - (Cols-1-c)] output of column c
    OS output at edge e, PE (r, c)        = trace[e] output of PE (r, c)

and checks on the way that the trace is representable at the ports (every
row sees the same valid/first/last/swap at its skewed edge, every column the
same load strobe). A reference schedule that the RTL's fixed skew cannot
follow fails the bench with a ScheduleError naming the edge.

Every edge the bench drives the port values, and after the rising edge
compares every valid bit and every valid value; the run's last valid output
must fall on the reference's last edge (equal total latency). On top, the
RTL's outputs, placed at the reference's output coordinates and summed over
the K folds, must equal A @ W computed by numpy.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import numpy as np
from cocotb.triggers import FallingEdge

from hw.tb.common import check_outputs, clock_and_reset, dut_params, logger, pack, unpack
from mappings.dataflow import Dataflow, FoldTiming
from simulator.reference import CycleIO, LeftIn, SystolicArrayRef, TopIn, wrap
from workloads.pruning import prune_nm
from workloads.sparsity import NM

IDLE_LEFT = LeftIn()
IDLE_TOP = TopIn()


class ScheduleError(AssertionError):
    """The reference's schedule cannot be driven through the RTL array's ports."""


@dataclass(frozen=True, slots=True)
class PortCycle:
    """One edge at the array's ports: what to drive before it, what to see after it.

    `coords` maps an output name of `expected` holding a value to the
    (m, n) output element the reference says it belongs to.
    """

    inputs: dict[str, int]
    expected: dict[str, object]
    coords: dict[str, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Gemm:
    """One random GEMM: O = A @ W, A (m x k), W (k x n), W already N:M pruned if sparse."""

    a: np.ndarray
    w: np.ndarray
    dense: bool

    def __str__(self) -> str:
        m, k = self.a.shape
        return f"{m}x{k}x{self.w.shape[1]} GEMM ({'dense' if self.dense else 'sparse'})"


class ArrayBench:
    """Drives ws_array / os_array and SystolicArrayRef with the same GEMMs."""

    def __init__(self, dut, dataflow: Dataflow, fold_timing: FoldTiming | None = None) -> None:
        self.dut = dut
        self.dataflow = dataflow
        names = ["Rows", "Cols", "N", "M", "DataWidth", "AccWidth", "IdxWidth"]
        if dataflow is not Dataflow.OS:
            names.append("Overlapped")
        p = dut_params(dut, names)
        self.rows, self.cols, self.n, self.m = p["Rows"], p["Cols"], p["N"], p["M"]
        self.data_width, self.acc_width, self.idx_width = (
            p["DataWidth"],
            p["AccWidth"],
            p["IdxWidth"],
        )
        if dataflow is not Dataflow.OS:
            # The array's structure fixes the fold timing.
            fold_timing = FoldTiming.OVERLAPPED if p["Overlapped"] else FoldTiming.SERIALIZED
        assert fold_timing is not None, "OS: the test picks the fold timing"
        self.fold_timing = fold_timing
        self.ref = SystolicArrayRef(
            self.rows, self.cols, self.n, self.m, dataflow, fold_timing, self.acc_width
        )
        self.cycle = 0  # edges since the bench started
        self.gemms = 0
        self.coverage: Counter[str] = Counter()
        self.lo, self.hi = -(1 << (self.data_width - 1)), (1 << (self.data_width - 1)) - 1

    # ---- stimulus ---------------------------------------------------------------------

    def value(self, rng: random.Random) -> int:
        r = rng.random()
        if r < 0.1:
            return rng.choice((self.lo, self.hi))
        if r < 0.25:
            return 0
        return rng.randint(self.lo, self.hi)

    def random_gemm(self, rng: random.Random, dense: bool, largest: bool = False) -> Gemm:
        """Shapes from one element to about three folds each way, partial folds
        included (`largest`: the largest shape, several folds every way)."""
        rows, cols = self.rows, self.cols
        win = self.n if dense else self.m

        def pick(top: int) -> int:
            return top if largest else rng.randint(1, top)

        if self.dataflow is Dataflow.WS:
            m_rows = pick(2 * rows)
            k = pick(2 * rows * win + 1)
        elif self.dataflow is Dataflow.IS:  # columns tile M, the stream is N
            m_rows = pick(2 * cols + 1)
            k = pick(2 * rows * win + 1)
        else:
            m_rows = pick(2 * rows + 1)
            k = pick(3 * win + 1)
        n_cols = pick(2 * cols + 1)
        a = np.array([[self.value(rng) for _ in range(k)] for _ in range(m_rows)], np.int64)
        w = np.array([[self.value(rng) for _ in range(n_cols)] for _ in range(k)], np.int64)
        if not dense:
            w, _ = prune_nm(w, NM(self.n, self.m), axis=0)
        return Gemm(a, w, dense)

    # ---- trace -> ports ---------------------------------------------------------------

    def port_cycles(self, trace: tuple[CycleIO, ...]) -> list[PortCycle]:
        """The run's trace as unskewed port values, one PortCycle per edge."""
        self._check_no_early_inputs(trace)
        build = {
            Dataflow.WS: self._ws_cycle,
            Dataflow.IS: self._is_cycle,
            Dataflow.OS: self._os_cycle,
        }[self.dataflow]
        return [build(trace, e) for e in range(len(trace))]

    @staticmethod
    def _left(trace: tuple[CycleIO, ...], e: int, r: int) -> LeftIn:
        return trace[e].left[r] if 0 <= e < len(trace) else IDLE_LEFT

    @staticmethod
    def _top(trace: tuple[CycleIO, ...], e: int, c: int) -> TopIn:
        return trace[e].top[c] if 0 <= e < len(trace) else IDLE_TOP

    def _check_no_early_inputs(self, trace: tuple[CycleIO, ...]) -> None:
        """A row r input before edge r (a column c input before edge c) has no port edge."""
        for cyc in trace[: max(self.rows, self.cols)]:
            for r, lin in enumerate(cyc.left):
                if cyc.cycle < r and lin != IDLE_LEFT:
                    raise ScheduleError(f"edge {cyc.cycle}: row {r} driven before its skew")
            for c, tin in enumerate(cyc.top):
                if cyc.cycle < c and tin != IDLE_TOP:
                    raise ScheduleError(f"edge {cyc.cycle}: column {c} driven before its skew")

    def _same(self, what: str, e: int, values: list) -> object:
        if any(v != values[0] for v in values):
            raise ScheduleError(
                f"port edge {e}: {what} differs between rows/columns at their skewed "
                f"edges ({values}); the RTL array has one {what} for all"
            )
        return values[0]

    def _vec(self, vec: tuple[int, ...], width: int, count: int) -> tuple[int, ...]:
        return vec if vec else (0,) * count

    def _rows_in(self, trace, e: int) -> list[LeftIn]:
        return [self._left(trace, e + r, r) for r in range(self.rows)]

    def _cols_in(self, trace, e: int) -> list[TopIn]:
        return [self._top(trace, e + c, c) for c in range(self.cols)]

    def _pack_rows(self, lefts: list[LeftIn]) -> int:
        lanes = [v for lin in lefts for v in self._vec(lin.vec, self.data_width, self.m)]
        return pack(lanes, self.data_width)

    def _pack_cols(self, tops: list[TopIn]) -> tuple[int, int]:
        vals = [v for t in tops for v in self._vec(t.vec, self.data_width, self.n)]
        idx = [v for t in tops for v in self._vec(t.idx, self.idx_width, self.n)]
        return pack(vals, self.data_width), pack(idx, self.idx_width)

    def _ws_cycle(self, trace, e: int) -> PortCycle:
        lefts, tops = self._rows_in(trace, e), self._cols_in(trace, e)
        load = self._same("w_load_i", e, [t.load for t in tops])
        valid = self._same("act_valid_i", e, [lin.valid for lin in lefts])
        swap = self._same("swap_i", e, [lin.swap for lin in lefts])
        w, w_idx = self._pack_cols(tops)
        inputs = {
            "w_load_i": int(load),
            "w_i": w,
            "w_idx_i": w_idx,
            "act_valid_i": int(valid),
            "swap_i": int(swap),
            "act_i": self._pack_rows(lefts),
        }
        return PortCycle(inputs, *self._deskewed_outputs(trace, e))

    def _is_cycle(self, trace, e: int) -> PortCycle:
        """IS: the WS ports with the operands' roles swapped (inputs down the
        chain, compressed weights from the left); outputs de-skewed alike."""
        lefts, tops = self._rows_in(trace, e), self._cols_in(trace, e)
        load = self._same("x_load_i", e, [t.load for t in tops])
        valid = self._same("w_valid_i", e, [lin.valid for lin in lefts])
        swap = self._same("swap_i", e, [lin.swap for lin in lefts])
        w = [v for lin in lefts for v in self._vec(lin.vec, self.data_width, self.n)]
        w_idx = [v for lin in lefts for v in self._vec(lin.idx, self.idx_width, self.n)]
        x = [v for t in tops for v in self._vec(t.vec, self.data_width, self.m)]
        inputs = {
            "x_load_i": int(load),
            "x_i": pack(x, self.data_width),
            "w_valid_i": int(valid),
            "swap_i": int(swap),
            "w_i": pack(w, self.data_width),
            "w_idx_i": pack(w_idx, self.idx_width),
        }
        return PortCycle(inputs, *self._deskewed_outputs(trace, e))

    def _deskewed_outputs(self, trace, e: int) -> tuple[dict[str, object], dict]:
        """WS/IS: column c's bottom output delayed by Cols-1-c (the de-skew)."""
        valids, expected, coords = [], {}, {}
        for c in range(self.cols):
            src = e - (self.cols - 1 - c)
            beats = [b for b in (trace[src].outputs if src >= 0 else ()) if b.col == c]
            valids.append(int(bool(beats)))
            if beats:
                expected[f"out_psum_o[{c}]"] = beats[0].value
                coords[f"out_psum_o[{c}]"] = (beats[0].m, beats[0].n)
        return {"out_valid_o": valids, **expected}, coords

    def _os_cycle(self, trace, e: int) -> PortCycle:
        lefts, tops = self._rows_in(trace, e), self._cols_in(trace, e)
        valid = self._same("act_valid_i", e, [lin.valid for lin in lefts])
        first = self._same("act_first_i", e, [lin.first for lin in lefts])
        last = self._same("act_last_i", e, [lin.last for lin in lefts])
        # The RTL takes the weights with the activations' valid: they must coincide.
        self._same("act_valid_i (weights' valid)", e, [valid] + [t.valid for t in tops])
        w, w_idx = self._pack_cols(tops)
        inputs = {
            "act_valid_i": int(valid),
            "act_first_i": int(first),
            "act_last_i": int(last),
            "act_i": self._pack_rows(lefts),
            "w_i": w,
            "w_idx_i": w_idx,
        }
        valids = [0] * (self.rows * self.cols)
        expected, coords = {}, {}
        for beat in trace[e].outputs:
            j = beat.row * self.cols + beat.col
            valids[j] = 1
            expected[f"out_o[{beat.row},{beat.col}]"] = beat.value
            coords[f"out_o[{beat.row},{beat.col}]"] = (beat.m, beat.n)
        return PortCycle(inputs, {"out_valid_o": valids, **expected}, coords)

    # ---- driving ----------------------------------------------------------------------

    def idle_inputs(self) -> dict[str, int]:
        names = {
            Dataflow.WS: ("w_load_i", "w_i", "w_idx_i", "act_valid_i", "swap_i", "act_i"),
            Dataflow.IS: ("x_load_i", "x_i", "w_valid_i", "swap_i", "w_i", "w_idx_i"),
            Dataflow.OS: ("act_valid_i", "act_first_i", "act_last_i", "act_i", "w_i", "w_idx_i"),
        }[self.dataflow]
        return dict.fromkeys(names, 0)

    def drive(self, inputs: dict[str, int]) -> None:
        for name, value in inputs.items():
            getattr(self.dut, name).value = value

    def sample(self, expected: dict[str, object]) -> dict[str, object]:
        """The outputs named in `expected`, read from the DUT."""
        dut = self.dut
        if self.dataflow is not Dataflow.OS:
            count, vec, name = self.cols, dut.out_psum_o, "out_psum_o[{}]"
        else:
            count, vec, name = self.rows * self.cols, dut.out_o, "out_o[{},{}]"
        valids = unpack(int(dut.out_valid_o.value), count, 1, signed=False)
        values = unpack(int(vec.value), count, self.acc_width, signed=True)
        actual: dict[str, object] = {"out_valid_o": valids}
        for j, value in enumerate(values):
            key = (
                name.format(j)
                if self.dataflow is not Dataflow.OS
                else name.format(*divmod(j, self.cols))
            )
            if key in expected:
                actual[key] = value
        return actual

    async def start(self) -> None:
        """Start the clock and hold reset for two cycles; ends at a falling edge."""
        self.drive(self.idle_inputs())
        self.dut.dense_i.value = 0
        await clock_and_reset(self.dut)

    async def idle(self, cycles: int) -> None:
        """Idle edges: nothing driven, no output may be valid."""
        quiet = self.idle_inputs()
        for _ in range(cycles):
            self.drive(quiet)
            await FallingEdge(self.dut.clk_i)
            none_valid = {"out_valid_o": self.sample({})["out_valid_o"]}
            want = {"out_valid_o": [0] * len(none_valid["out_valid_o"])}
            check_outputs(self.cycle, want, none_valid, "idle between GEMMs")
            self.cycle += 1
            self.coverage["idle"] += 1

    async def reset(self) -> None:
        """One cycle in reset between GEMMs (asynchronous assert, synchronous release)."""
        self.drive(self.idle_inputs())
        self.dut.rst_ni.value = 0
        await FallingEdge(self.dut.clk_i)
        self.dut.rst_ni.value = 1
        self.cycle += 1
        self.coverage["reset"] += 1

    async def run_gemm(self, gemm: Gemm) -> int:
        """Run one GEMM on the RTL and the reference, edge by edge; returns its cycles."""
        run = self.ref.run_gemm(gemm.a, gemm.w, gemm.dense, trace=True)
        want = np.vectorize(lambda v: wrap(int(v), self.acc_width), otypes=[np.int64])(
            gemm.a @ gemm.w
        )
        assert np.array_equal(run.output, want), f"{gemm}: the reference itself is wrong"
        cycles = self.port_cycles(run.trace)
        got = np.zeros(want.shape, np.int64)
        self.dut.dense_i.value = int(gemm.dense)
        last_valid = -1
        for e, pc in enumerate(cycles):
            self.drive(pc.inputs)
            await FallingEdge(self.dut.clk_i)
            actual = self.sample(pc.expected)
            check_outputs(
                self.cycle,
                pc.expected,
                actual,
                f"GEMM {self.gemms} ({gemm}, {len(run.fold_cycles)} folds, "
                f"{self.fold_timing}): edge {e} of {run.cycles}; inputs "
                + ", ".join(f"{k}={v:#x}" for k, v in pc.inputs.items()),
            )
            if any(actual["out_valid_o"]):
                last_valid = e
            for key, (m, n) in pc.coords.items():
                if m < got.shape[0] and n < got.shape[1]:  # padding rows/columns fall away
                    got[m, n] += int(actual[key])
            self.cycle += 1
        assert last_valid + 1 == run.cycles, (
            f"GEMM {self.gemms} ({gemm}): last RTL output at edge {last_valid}, "
            f"the reference's run takes {run.cycles} cycles"
        )
        got = np.vectorize(lambda v: wrap(int(v), self.acc_width), otypes=[np.int64])(got)
        assert np.array_equal(got, want), (
            f"GEMM {self.gemms} ({gemm}): RTL outputs summed over folds differ from A @ W "
            f"at {np.argwhere(got != want)[:5].tolist()}"
        )
        self.count(gemm, run)
        self.gemms += 1
        return run.cycles

    def count(self, gemm: Gemm, run) -> None:
        cov = self.coverage
        cov["gemms"] += 1
        cov["dense" if gemm.dense else "sparse"] += 1
        cov["multi_fold"] += len(run.fold_cycles) > 1
        raw = gemm.a @ gemm.w
        cov["wrap"] += bool(np.any(raw != run.output))

    def log_coverage(self) -> None:
        logger.info("coverage: %s", dict(self.coverage))


async def random_gemms(dut, bench: ArrayBench, rng: random.Random, cases: int, gaps: bool) -> None:
    """`cases` random GEMMs, back to back or with random idle gaps (and now and
    then a reset) between them. Every third GEMM is dense, and the first one
    has the largest shape, so any seed covers sparse, dense and several folds."""
    await bench.start()
    for k in range(cases):
        if gaps:
            r = rng.random()
            if r < 0.1:
                await bench.reset()
            elif r < 0.6:
                await bench.idle(rng.randint(1, 4))
        await bench.run_gemm(bench.random_gemm(rng, dense=k % 3 == 1, largest=k == 0))
    await bench.idle(2)
    bench.log_coverage()
    for item in ("sparse", "multi_fold", *(("dense",) if cases > 1 else ())):
        assert bench.coverage[item] > 0, f"stimulus never produced {item}: {dict(bench.coverage)}"
