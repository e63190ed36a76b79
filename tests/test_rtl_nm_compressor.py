"""The N:M compressor RTL (hw/rtl/nm_compressor.sv) against simulator.reference.

Each (N, M) of hw.configs is built once (sim_build/nm_compressor-M<m>-N<n>/)
and runs every test of hw/tb/tb_nm_compressor.py: directed tie cases, then
seeded random groups with and without idle cycles and backpressure, compared
every cycle against NMCompressorRef and, through a scoreboard, nm_compress.
"""

from __future__ import annotations

import pytest

from hw.configs import RtlConfig, pytest_params
from hw.sim import build_rtl, run_cocotb


@pytest.mark.rtl
@pytest.mark.parametrize("config", pytest_params("nm_compressor"))
def test_nm_compressor_matches_reference(config: RtlConfig) -> None:
    run = run_cocotb(build_rtl(config.block, parameters=config.params), config.bench)
    names = " ".join(t.name for t in run.tests)
    for part in ("test_directed_ties", "idle=0.0", "idle=0.3", "stall=0.0", "stall=0.3"):
        assert part in names, f"no cocotb test {part!r} ran: {names}"
    assert run.cases > 0 and run.cycles > run.cases // 2, f"{run.cases} cases, {run.cycles} cycles"
