"""cocotb bench of hw/rtl/pingpong_buf.sv against simulator.reference.PingPongBufferRef.

The same writes and read-readies go into the RTL and the model every cycle,
and every output (all registers) is compared at the falling edge after each
rising edge. A scoreboard checks on top that the read stream equals the
written one, word for word and tile for tile. The writer holds a word on
wr_data_i until it is taken (valid/ready rule); random idle cycles (wr_valid_i
low) and backpressure (rd_ready_i low) come from the test's parameters.
Tiles are 1..Depth words: closed by wr_last_i, or by a full bank.

Run through pytest (tests/test_rtl_pingpong_buf.py); SPARSIM_SEED replays a
run and SPARSIM_CASES sets the words written per random test.
"""

from __future__ import annotations

from collections import Counter

import cocotb
from cocotb.triggers import FallingEdge

from hw.tb.common import (
    bench_cases,
    bench_rng,
    check_coverage,
    check_outputs,
    clock_and_reset,
    dut_params,
    logger,
    record_stats,
)
from simulator.reference import PingPongBufferRef


class PingPongTB:
    """Drives pingpong_buf and PingPongBufferRef alike and compares them every cycle."""

    def __init__(self, dut) -> None:
        self.dut = dut
        params = dut_params(dut, ("Width", "Depth"))
        self.width, self.depth = params["Width"], params["Depth"]
        self.model = PingPongBufferRef(self.depth)
        self.cycle = 0
        self.written: list[list[int]] = [[]]  # tiles as written (the last one open)
        self.read: list[list[int]] = [[]]  # tiles as read
        self.coverage: Counter[str] = Counter()

    async def start(self) -> None:
        self.drive(False, 0, False, False)
        await clock_and_reset(self.dut, self._after_reset)

    def _after_reset(self) -> None:
        self.model.reset()
        self.compare("after reset")

    def drive(self, valid: bool, data: int, last: bool, ready: bool) -> None:
        dut = self.dut
        dut.wr_valid_i.value = int(valid)
        dut.wr_data_i.value = data
        dut.wr_last_i.value = int(last)
        dut.rd_ready_i.value = int(ready)

    def sample(self) -> dict[str, object]:
        dut = self.dut
        return {
            "wr_ready_o": int(dut.wr_ready_o.value),
            "rd_valid_o": int(dut.rd_valid_o.value),
            "rd_data_o": int(dut.rd_data_o.value),
            "rd_last_o": int(dut.rd_last_o.value),
        }

    def expected(self) -> dict[str, object]:
        m = self.model
        return {
            "wr_ready_o": int(m.wr_ready_o),
            "rd_valid_o": int(m.rd_valid_q),
            "rd_data_o": m.rd_data_q,
            "rd_last_o": int(m.rd_last_q),
        }

    def compare(self, context: str) -> None:
        check_outputs(self.cycle, self.expected(), self.sample(), context)

    async def step(self, valid: bool, data: int, last: bool, ready: bool) -> bool:
        """One cycle; returns whether the word was written."""
        m = self.model
        if m.rd_valid_q and ready:  # the word on the read port is taken at this edge
            self.read[-1].append(m.rd_data_q)
            if m.rd_last_q:
                self.read.append([])
        self.count(valid, ready)
        self.drive(valid, data, last, ready)
        await FallingEdge(self.dut.clk_i)
        wrote = m.step(wr_valid=valid, wr_data=data, wr_last=last, rd_ready=ready)
        if wrote:
            self.written[-1].append(data)
            if last or len(self.written[-1]) == self.depth:
                self.coverage["closed_by_last" if last else "closed_by_full"] += 1
                self.written.append([])
        self.cycle += 1
        self.compare(
            f"inputs at the edge: wr_valid_i={int(valid)} wr_data_i={data:#x} "
            f"wr_last_i={int(last)} rd_ready_i={int(ready)}"
        )
        return wrote

    def count(self, valid: bool, ready: bool) -> None:
        m, cov = self.model, self.coverage
        cov["cycles"] += 1
        cov["both_banks_full"] += all(m.full_q)
        cov["write_stalled"] += valid and not m.wr_ready_o
        cov["backpressure"] += m.rd_valid_q and not ready
        cov["idle"] += not valid
        cov["write_while_reading"] += valid and m.wr_ready_o and m.rd_valid_q and ready

    def check_scoreboard(self) -> None:
        """The read side gave back exactly the tiles written, in order."""
        written = [t for t in self.written if t]
        read = [t for t in self.read if t]
        assert self.written[-1] == [], f"the last tile was never closed: {self.written[-1]}"
        assert self.read[-1] == [], f"a tile was read without rd_last_o: {self.read[-1]}"
        for k, (w, r) in enumerate(zip(written, read, strict=False)):
            assert w == r, f"tile {k}: wrote {[hex(v) for v in w]}, read {[hex(v) for v in r]}"
        assert len(written) == len(read), f"{len(written)} tiles written, {len(read)} read"


@cocotb.test()
@cocotb.parametrize(idle=[0.0, 0.3], stall=[0.0, 0.3])
async def test_random(dut, idle: float, stall: float) -> None:
    """Seeded random tiles, with and without idle cycles (wr_valid_i low with
    probability `idle`) and backpressure (rd_ready_i low with probability `stall`)."""
    tb = PingPongTB(dut)
    rng = bench_rng(f"pingpong_buf/random/{idle}/{stall}")
    await tb.start()
    cases = bench_cases()
    depth = tb.depth

    def tile_len() -> int:
        return depth if rng.random() < 0.3 else rng.randint(1, depth)

    words, pos, length = 0, 0, tile_len()
    valid, data, last = False, 0, False
    while words < cases or tb.model.rd_valid_q or any(tb.model.full_q):
        if not valid and words < cases:  # a word offered stays until it is taken
            valid = rng.random() >= idle
            if valid:
                data = rng.getrandbits(tb.width)
                end = pos == length - 1 or words == cases - 1
                # a tile of Depth words may also end without wr_last_i
                last = end and not (pos == depth - 1 and rng.random() < 0.5)
        ready = rng.random() >= stall
        if await tb.step(valid, data, last, ready):
            words += 1
            pos += 1
            if last or pos == depth:
                pos, length = 0, tile_len()
            valid = False
    tb.check_scoreboard()
    logger.info("coverage: %s", dict(tb.coverage))
    want = ["closed_by_last", "closed_by_full", "write_while_reading"]
    if stall:
        want += ["both_banks_full", "write_stalled", "backpressure"]
    if idle:
        want += ["idle"]
    check_coverage(tb.coverage, want, cases)
    record_stats(f"test_random/{idle}/{stall}", cases=cases, cycles=tb.cycle)
