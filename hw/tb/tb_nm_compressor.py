"""cocotb bench of hw/rtl/nm_compressor.sv against simulator.reference.NMCompressorRef.

Every cycle the same inputs go into the RTL and the model, and every output
is compared: the registered ones (valid_o, w_o, w_idx_o) at the falling edge
after each rising edge, the combinational ready_o once the cycle's inputs
have settled. A scoreboard checks on top that the groups come out in order
as `nm_compress` of the groups taken, so the cycle model itself is checked
against the pruning rule. The upstream driver keeps a group on group_i until
it is taken (valid/ready rule); random idle cycles (valid_i low) and
backpressure (ready_i low) come from the test's parameters.

Run through pytest (tests/test_rtl_nm_compressor.py); SPARSIM_SEED replays a
run and SPARSIM_CASES sets the groups per random test.
"""

from __future__ import annotations

import random
from collections import Counter, deque

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly

from hw.tb.common import (
    bench_cases,
    bench_rng,
    check_coverage,
    check_outputs,
    clock_and_reset,
    dut_params,
    logger,
    pack,
    record_stats,
    unpack,
)
from simulator.reference import NMCompressorRef, nm_compress


class NMCompressorTB:
    """Drives nm_compressor and NMCompressorRef alike and compares them every cycle."""

    def __init__(self, dut) -> None:
        self.dut = dut
        params = dut_params(dut, ("N", "M", "DataWidth", "IdxWidth"))
        self.n, self.m = params["N"], params["M"]
        self.data_width, self.idx_width = params["DataWidth"], params["IdxWidth"]
        self.lo, self.hi = -(1 << (self.data_width - 1)), (1 << (self.data_width - 1)) - 1
        self.model = NMCompressorRef(self.n, self.m)
        self.cycle = 0
        self.taken: deque[tuple[int, ...]] = deque()
        self.done: list[tuple[tuple[int, ...], list[int], list[int]]] = []
        self.coverage: Counter[str] = Counter()

    async def start(self) -> None:
        """Start the clock and hold reset for two cycles; ends at a falling edge."""
        self.drive(False, (0,) * self.m, False)
        await clock_and_reset(self.dut, self._after_reset)

    def _after_reset(self) -> None:
        self.model.reset()
        self.compare("after reset")

    def drive(self, valid: bool, group: tuple[int, ...], ready: bool) -> None:
        self.dut.valid_i.value = int(valid)
        self.dut.group_i.value = pack(group, self.data_width)
        self.dut.ready_i.value = int(ready)

    def sample(self) -> dict[str, object]:
        dut = self.dut
        return {
            "valid_o": int(dut.valid_o.value),
            "w_o": unpack(int(dut.w_o.value), self.n, self.data_width, signed=True),
            "w_idx_o": unpack(int(dut.w_idx_o.value), self.n, self.idx_width, signed=False),
        }

    def expected(self) -> dict[str, object]:
        return {
            "valid_o": int(self.model.valid_q),
            "w_o": list(self.model.w_q),
            "w_idx_o": list(self.model.w_idx_q),
        }

    def compare(self, context: str) -> None:
        check_outputs(self.cycle, self.expected(), self.sample(), context)

    async def step(self, valid: bool, group: tuple[int, ...], ready: bool) -> bool:
        """One cycle; returns whether the group was taken."""
        self.drive(valid, group, ready)
        await ReadOnly()
        want_ready = int(self.model.ready_o(ready))
        check_outputs(
            self.cycle,
            {"ready_o": want_ready},
            {"ready_o": int(self.dut.ready_o.value)},
            f"combinational, with ready_i = {int(ready)}",
        )
        out_fire = self.model.valid_q and ready
        if out_fire:
            # The scoreboard: the group leaving now is the oldest one taken.
            group_in = self.taken.popleft()
            self.done.append((group_in, list(self.model.w_q), list(self.model.w_idx_q)))
        await FallingEdge(self.dut.clk_i)
        take = self.model.step(valid=valid, group=group, ready=ready)
        if take:
            self.taken.append(group)
        self.cycle += 1
        self.count(valid, ready, take, out_fire)
        self.compare(f"inputs at the edge: valid_i={int(valid)} group_i={group} ready_i={ready}")
        return take

    def count(self, valid: bool, ready: bool, take: bool, out_fire: bool) -> None:
        cov = self.coverage
        cov["cycles"] += 1
        cov["taken"] += take
        cov["stalled_in"] += valid and not take
        cov["backpressure"] += self.model.valid_q and not ready
        cov["idle"] += not valid
        cov["back_to_back"] += take and out_fire

    def check_scoreboard(self) -> None:
        """Every group that left equals nm_compress of the group taken, in order."""
        for k, (group, vals, idx) in enumerate(self.done):
            mags = sorted((abs(v) for v in group), reverse=True)
            if self.n < self.m and mags[self.n - 1] == mags[self.n]:
                self.coverage["tie_at_cut"] += 1  # the tie rule decides what is kept
            self.coverage["most_negative"] += self.lo in group
            want_vals, want_idx = nm_compress(group, self.n)
            assert (vals, idx) == (want_vals, want_idx), (
                f"group {k} {group}: model gave {vals} at {idx}, "
                f"nm_compress gives {want_vals} at {want_idx}"
            )


class GroupStimulus:
    """Random weight groups, rich in ties and extremes."""

    def __init__(self, rng: random.Random, tb: NMCompressorTB) -> None:
        self.rng, self.tb = rng, tb

    def value(self, palette: tuple[int, ...]) -> int:
        r = self.rng.random()
        if r < 0.5:
            return self.rng.choice(palette)
        if r < 0.6:
            return self.rng.choice((self.tb.lo, self.tb.hi, -self.tb.hi, 0))
        return self.rng.randint(self.tb.lo, self.tb.hi)

    def group(self) -> tuple[int, ...]:
        tb, rng = self.tb, self.rng
        r = rng.random()
        if r < 0.05:
            return (0,) * tb.m
        if r < 0.1:  # one magnitude, random signs: every comparison is a tie
            mag = rng.randint(0, tb.hi)
            return tuple(rng.choice((mag, -mag)) for _ in range(tb.m))
        # a few magnitudes shared by several entries, both signs
        mags = [rng.randint(0, tb.hi) for _ in range(rng.randint(1, 3))]
        palette = tuple(s * v for v in mags for s in (1, -1))
        return tuple(self.value(palette) for _ in range(tb.m))


@cocotb.test()
async def test_directed_ties(dut) -> None:
    """Hand-written groups: the most negative value beats the largest positive one,
    equal magnitudes go to the lower index, kept indices ascend."""
    tb = NMCompressorTB(dut)
    await tb.start()
    n, m, lo, hi = tb.n, tb.m, tb.lo, tb.hi
    cases = [
        # all magnitudes equal, signs alternate: indices 0..N-1 are kept
        (tuple(5 if i % 2 else -5 for i in range(m)), list(range(n))),
        # the most negative value, at the last index, beats every hi
        ((hi,) * (m - 1) + (lo,), [*range(n - 1), m - 1]),
        # magnitudes rise with the index: the top N indices, ascending
        (tuple((i + 1) * (-1) ** i for i in range(m)), list(range(m - n, m))),
        # all zero: a tie everywhere
        ((0,) * m, list(range(n))),
    ]
    for group, want_idx in cases:
        await tb.step(True, group, True)  # taken at this edge, on the outputs after it
        got_idx = unpack(int(dut.w_idx_o.value), n, tb.idx_width, signed=False)
        got_vals = unpack(int(dut.w_o.value), n, tb.data_width, signed=True)
        assert got_idx == want_idx, f"group {group}: kept {got_idx}, expected {want_idx}"
        assert got_vals == [group[i] for i in want_idx], f"group {group}: values {got_vals}"
        await tb.step(False, group, True)
    tb.check_scoreboard()
    record_stats("test_directed_ties", cases=len(cases), cycles=tb.cycle)


@cocotb.test()
@cocotb.parametrize(idle=[0.0, 0.3], stall=[0.0, 0.3])
async def test_random(dut, idle: float, stall: float) -> None:
    """Seeded random groups, with and without idle cycles (valid_i low with
    probability `idle`) and backpressure (ready_i low with probability `stall`)."""
    tb = NMCompressorTB(dut)
    rng = bench_rng(f"nm_compressor/random/{idle}/{stall}")
    stim = GroupStimulus(rng, tb)
    await tb.start()
    cases = bench_cases()
    sent = 0
    group, valid = stim.group(), False
    while sent < cases or tb.taken or tb.model.valid_q:
        if not valid and sent < cases:  # a held group stays until it is taken
            valid = rng.random() >= idle
            group = stim.group() if valid else group
        ready = rng.random() >= stall
        if await tb.step(valid, group, ready):
            sent += 1
            valid = False
    tb.check_scoreboard()
    logger.info("coverage: %s", dict(tb.coverage))
    assert len(tb.done) == cases, f"{len(tb.done)} groups came out of {cases} taken"
    want = ["back_to_back", "most_negative", *(["tie_at_cut"] if tb.n < tb.m else [])]
    want += ["idle"] if idle else []
    want += ["backpressure", "stalled_in"] if stall else []
    check_coverage(tb.coverage, want, cases)
    record_stats(f"test_random/{idle}/{stall}", cases=cases, cycles=tb.cycle)
