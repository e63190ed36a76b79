"""The N:M sparse PE RTL (hw/rtl/nm_pe.sv) against simulator.reference.NMPE.

Each configuration of hw.configs is built once (sim_build/nm_pe-M<m>-N<n>/,
reused across runs) and runs every test of hw/tb/tb_nm_pe.py: a directed
latency / wrap test, then seeded random stimulus in dense, sparse and mixed
mode, each with back-to-back valid and with random idle cycles, compared
every cycle. SPARSIM_SEED (--seed) replays a run; SPARSIM_CASES (--cases)
sets the random cycles per test.
"""

from __future__ import annotations

import pytest

from hw.configs import RtlConfig, pytest_params
from hw.sim import build_rtl, run_cocotb


@pytest.mark.rtl
@pytest.mark.parametrize("config", pytest_params("nm_pe"))
def test_nm_pe_matches_reference(config: RtlConfig) -> None:
    run = run_cocotb(build_rtl(config.block, parameters=config.params), config.bench)
    names = " ".join(t.name for t in run.tests)
    # Both modes ran, with and without idle cycles (1:1 has only index 0, so
    # its sparse mode is the plain MAC again).
    for part in ("test_latency_and_wrap", "mode=dense", "mode=sparse", "idle=0.0", "idle=0.3"):
        assert part in names, f"no cocotb test {part!r} ran: {names}"
    assert run.cases > 0 and run.cycles >= run.cases, f"{run.cases} cases, {run.cycles} cycles"
