"""The ping-pong scratchpad RTL (hw/rtl/pingpong_buf.sv) against simulator.reference.

Each (Width, Depth) of hw.configs is built once and runs every test of
hw/tb/tb_pingpong_buf.py: seeded random tiles with and without idle cycles
and backpressure, compared every cycle against PingPongBufferRef and, through
a scoreboard, against the words written.
"""

from __future__ import annotations

import pytest

from hw.configs import RtlConfig, pytest_params
from hw.sim import build_rtl, run_cocotb


@pytest.mark.rtl
@pytest.mark.parametrize("config", pytest_params("pingpong_buf"))
def test_pingpong_buf_matches_reference(config: RtlConfig) -> None:
    run = run_cocotb(build_rtl(config.block, parameters=config.params), config.bench)
    names = " ".join(t.name for t in run.tests)
    for part in ("idle=0.0", "idle=0.3", "stall=0.0", "stall=0.3"):
        assert part in names, f"no cocotb test {part!r} ran: {names}"
    assert run.cases > 0 and run.cycles >= run.cases, f"{run.cases} cases, {run.cycles} cycles"
