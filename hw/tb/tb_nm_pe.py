"""cocotb bench of hw/rtl/nm_pe.sv against simulator.reference.NMPE.

The same seeded stimulus goes into the RTL and the model; every output is
compared after every rising edge, so the latency (valid_o one cycle after
valid_i) is checked along with the values. Inputs are driven and outputs
sampled at the falling edge: all outputs are registers, so they are stable
there and show the state after the rising edge just passed.

Run through pytest (tests/test_rtl_nm_pe.py); SPARSIM_SEED replays a run and
SPARSIM_CASES sets the cycles per random test.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass

import cocotb
from cocotb.triggers import FallingEdge

from hw.tb.common import (
    bench_cases,
    bench_rng,
    check_outputs,
    clock_and_reset,
    dut_params,
    logger,
    pack,
    record_stats,
    unpack,
)
from simulator.reference import NMPE, wrap

CLOCK_NS = 10


@dataclass(frozen=True, slots=True)
class PEInputs:
    """The PE's inputs for one cycle (one `NMPE.step`)."""

    dense: bool
    w_load: bool
    w: tuple[int, ...]
    w_idx: tuple[int, ...]
    valid: bool
    act: tuple[int, ...]
    psum: int


class NMPEStimulus:
    """Random PE inputs with corner cases weighted in.

    `mode` is "dense", "sparse" or "mixed" (dense_i random per cycle);
    `idle` is the probability of a cycle without valid_i.
    """

    def __init__(self, rng: random.Random, tb: NMPETB, mode: str, idle: float) -> None:
        self.rng, self.tb, self.mode, self.idle = rng, tb, mode, idle
        self.lo, self.hi = -(1 << (tb.data_width - 1)), (1 << (tb.data_width - 1)) - 1
        self.acc_lo, self.acc_hi = -(1 << (tb.acc_width - 1)), (1 << (tb.acc_width - 1)) - 1

    def value(self) -> int:
        r = self.rng.random()
        if r < 0.15:
            return self.rng.choice((self.lo, self.hi))
        if r < 0.25:
            return 0
        return self.rng.randint(self.lo, self.hi)

    def group(self, count: int) -> tuple[int, ...]:
        r = self.rng.random()
        if r < 0.08:
            return (0,) * count
        if r < 0.14:
            return (self.rng.choice((self.lo, self.hi)),) * count
        return tuple(self.value() for _ in range(count))

    def indices(self) -> tuple[int, ...]:
        """Half as the compressor emits them (distinct, ascending), half any in 0..M-1."""
        n, m = self.tb.n, self.tb.m
        if self.rng.random() < 0.5:
            return tuple(sorted(self.rng.sample(range(m), n)))
        return tuple(self.rng.randrange(m) for _ in range(n))

    def psum(self) -> int:
        r = self.rng.random()
        # Near the limits by up to twice the largest possible dot product, so
        # about half of these wrap.
        reach = 2 * self.tb.n * (1 << (2 * self.tb.data_width - 2))
        if r < 0.25:
            return max(self.acc_hi - self.rng.randrange(reach), self.acc_lo)
        if r < 0.5:
            return min(self.acc_lo + self.rng.randrange(reach), self.acc_hi)
        if r < 0.6:
            return 0
        return self.rng.randint(self.acc_lo, self.acc_hi)

    def dense(self) -> bool:
        if self.mode == "mixed":
            return self.rng.random() < 0.5
        return self.mode == "dense"

    def next(self) -> PEInputs:
        return PEInputs(
            dense=self.dense(),
            w_load=self.rng.random() < 0.2,
            w=self.group(self.tb.n),
            w_idx=self.indices(),
            valid=self.rng.random() >= self.idle,
            act=self.group(self.tb.m),
            psum=self.psum(),
        )

    def corners(self) -> list[PEInputs]:
        """A fixed opening: extreme weights and activations, wrap both ways,
        a weight load in the same cycle as a MAC, an all-zero group, back to back.
        In mixed mode the valid cycles alternate between dense and sparse, so even
        the shortest run covers both."""
        n, m = self.tb.n, self.tb.m
        lo, hi = self.lo, self.hi
        idx = tuple(range(m - n, m))
        fixed = self.dense()

        def dense(i: int) -> bool:
            return i % 2 == 0 if self.mode == "mixed" else fixed

        return [
            PEInputs(dense(0), True, (hi,) * n, idx, False, (0,) * m, 0),
            PEInputs(dense(1), False, (hi,) * n, idx, True, (hi,) * m, self.acc_hi),  # wraps up
            PEInputs(dense(2), True, (lo,) * n, idx, True, (lo,) * m, self.acc_lo),  # wraps down
            PEInputs(dense(3), False, (lo,) * n, idx, True, (lo,) * m, self.acc_hi),  # wraps up
            PEInputs(dense(4), False, (lo,) * n, idx, True, (hi,) * m, self.acc_lo),  # wraps down
            PEInputs(dense(5), False, (0,) * n, idx, True, (0,) * m, -1),  # zero group
            PEInputs(dense(6), True, self.group(n), self.indices(), False, (hi,) * m, 5),  # idle
        ]


class NMPETB:
    """Drives nm_pe and NMPE with the same inputs and compares all outputs every cycle."""

    def __init__(self, dut) -> None:
        self.dut = dut
        params = dut_params(dut, ("N", "M", "DataWidth", "AccWidth", "IdxWidth"))
        self.n, self.m = params["N"], params["M"]
        self.data_width, self.acc_width = params["DataWidth"], params["AccWidth"]
        self.idx_width = params["IdxWidth"]
        self.model = NMPE(self.n, self.m, self.acc_width)
        self.cycle = 0
        self.coverage: Counter[str] = Counter()

    async def start(self) -> None:
        """Start the clock and hold reset for two cycles; ends at a falling edge."""
        self.drive(self.idle_inputs())
        await clock_and_reset(self.dut, self._after_reset)

    def _after_reset(self) -> None:
        self.model.reset()
        self.compare("after reset")

    def idle_inputs(self) -> PEInputs:
        return PEInputs(True, False, (0,) * self.n, (0,) * self.n, False, (0,) * self.m, 0)

    def drive(self, x: PEInputs) -> None:
        dut = self.dut
        dut.dense_i.value = int(x.dense)
        dut.w_load_i.value = int(x.w_load)
        dut.w_i.value = pack(x.w, self.data_width)
        dut.w_idx_i.value = pack(x.w_idx, self.idx_width)
        dut.valid_i.value = int(x.valid)
        dut.act_i.value = pack(x.act, self.data_width)
        dut.psum_i.value = pack((x.psum,), self.acc_width)

    def sample(self) -> dict[str, object]:
        dut = self.dut
        return {
            "valid_o": int(dut.valid_o.value),
            "psum_o": dut.psum_o.value.to_signed(),
            "act_o": unpack(int(dut.act_o.value), self.m, self.data_width, signed=True),
            "w_o": unpack(int(dut.w_o.value), self.n, self.data_width, signed=True),
            "w_idx_o": unpack(int(dut.w_idx_o.value), self.n, self.idx_width, signed=False),
        }

    def expected(self) -> dict[str, object]:
        model = self.model
        return {
            "valid_o": int(model.valid_q),
            "psum_o": model.psum_q,
            "act_o": list(model.act_q),
            "w_o": list(model.w_q),
            "w_idx_o": list(model.w_idx_q),
        }

    def compare(self, context: str) -> None:
        check_outputs(self.cycle, self.expected(), self.sample(), context)

    async def step(self, x: PEInputs) -> None:
        """One cycle: drive `x`, pass the rising edge, step the model, compare."""
        self.count(x)
        self.drive(x)
        await FallingEdge(self.dut.clk_i)
        self.model.step(
            dense=x.dense,
            w_load=x.w_load,
            w=x.w,
            w_idx=x.w_idx,
            valid=x.valid,
            act=x.act,
            psum=x.psum,
        )
        self.cycle += 1
        self.compare(f"inputs at the edge: {x}")

    async def reset_cycle(self, x: PEInputs) -> None:
        """One cycle in reset (asserted asynchronously, with live inputs), then release."""
        self.drive(x)
        self.dut.rst_ni.value = 0
        await FallingEdge(self.dut.clk_i)
        self.model.reset()
        self.cycle += 1
        self.compare(f"in reset; inputs ignored: {x}")
        self.dut.rst_ni.value = 1
        self.coverage["reset"] += 1

    def count(self, x: PEInputs) -> None:
        cov = self.coverage
        cov["cycles"] += 1
        if not x.valid:
            cov["idle"] += 1
        else:
            cov["valid_dense" if x.dense else "valid_sparse"] += 1
            raw = x.psum + self.model.dot(x.act, x.dense)
            if raw != wrap(raw, self.acc_width):
                cov["wrap"] += 1
            if x.w_load:
                cov["load_during_mac"] += 1
            if not any(x.act):
                cov["zero_act_group"] += 1


@cocotb.test()
async def test_latency_and_wrap(dut) -> None:
    """Directed: valid_o rises exactly one edge after valid_i, with a hand-computed
    psum (dense, extremes, wrap), then a sparse MAC whose indices pick distinct acts."""
    tb = NMPETB(dut)
    await tb.start()
    n, m = tb.n, tb.m
    lo = -(1 << (tb.data_width - 1))
    acc_hi = (1 << (tb.acc_width - 1)) - 1
    idle = tb.idle_inputs()

    await tb.step(PEInputs(True, True, (lo,) * n, (0,) * n, False, (0,) * m, 0))
    assert int(dut.valid_o.value) == 0
    await tb.step(PEInputs(True, False, (lo,) * n, (0,) * n, True, (lo,) * m, acc_hi))
    assert int(dut.valid_o.value) == 1, "valid_o must rise one cycle after valid_i"
    # acc_hi + n * lo * lo wraps past the top (written out, not via the model).
    half = 1 << (tb.acc_width - 1)
    want = (acc_hi + n * lo * lo + half) % (2 * half) - half
    assert want < 0
    assert dut.psum_o.value.to_signed() == want, f"psum_o {dut.psum_o.value.to_signed()} != {want}"
    await tb.step(idle)
    assert int(dut.valid_o.value) == 0, "valid_o must fall one cycle after valid_i"
    assert dut.psum_o.value.to_signed() == want, "psum_o must hold while valid_i is low"

    # Sparse: weight j = j + 1 picks activation idx[j] = M - 1 - j (acts 1, 2, ..., M).
    weights = tuple(j + 1 for j in range(n))
    idx = tuple(m - 1 - j for j in range(n))
    acts = tuple(i + 1 for i in range(m))
    await tb.step(PEInputs(False, True, weights, idx, False, (0,) * m, 0))
    await tb.step(PEInputs(False, False, weights, idx, True, acts, 7))
    want = 7 + sum(weights[j] * acts[idx[j]] for j in range(n))
    assert dut.psum_o.value.to_signed() == want, f"sparse psum_o {dut.psum_o.value} != {want}"
    record_stats("test_latency_and_wrap", cases=tb.cycle, cycles=tb.cycle)


@cocotb.test()
@cocotb.parametrize(mode=["dense", "sparse", "mixed"], idle=[0.0, 0.3])
async def test_random(dut, mode: str, idle: float) -> None:
    """Seeded random stimulus vs the model, every output every cycle.

    idle=0.0 is back-to-back valid; idle=0.3 inserts random idle cycles. One
    asynchronous reset lands at a random cycle.
    """
    tb = NMPETB(dut)
    rng = bench_rng(f"nm_pe/random/{mode}/{idle}")
    stim = NMPEStimulus(rng, tb, mode, idle)
    await tb.start()
    cases = bench_cases()
    reset_at = rng.randrange(cases // 2, cases) if cases > 20 else -1
    for x in stim.corners():
        await tb.step(x)
    for i in range(cases):
        if i == reset_at:
            await tb.reset_cycle(stim.next())
        else:
            await tb.step(stim.next())
    logger.info("coverage: %s", dict(tb.coverage))
    want = {"dense": ("valid_dense",), "sparse": ("valid_sparse",)}.get(
        mode, ("valid_dense", "valid_sparse")
    )
    for item in (*want, "wrap", "load_during_mac", "zero_act_group"):
        assert tb.coverage[item] > 0, f"stimulus never produced {item}: {dict(tb.coverage)}"
    if idle:
        assert tb.coverage["idle"] > 0, f"no idle cycle: {dict(tb.coverage)}"
    record_stats(f"test_random/{mode}/{idle}", cases=cases, cycles=tb.cycle)
