"""The N:M sparse PE RTL (hw/rtl/nm_pe.sv) against simulator.reference.NMPE.

Each configuration is built once (sim_build/nm_pe-M<m>-N<n>/, reused across
runs) and runs every test of hw/tb/tb_nm_pe.py: a directed latency / wrap
test, then seeded random stimulus in dense, sparse and mixed mode, each with
back-to-back valid and with random idle cycles, compared every cycle.
SPARSIM_SEED replays a run; SPARSIM_CASES sets the random cycles per test.
"""

from __future__ import annotations

import pytest

from hw.sim import build_rtl, run_cocotb

# (N, M): the parameters go to the build and, through it, to the bench, which
# checks them against the DUT. M must be a power of two (or 1) for sparse mode:
# the RTL selects 0 for an index past M - 1, which the reference model cannot do.
CONFIGS = [(1, 1), (1, 4), (2, 4), (2, 8), (4, 8)]


@pytest.mark.rtl
@pytest.mark.parametrize(("n", "m"), CONFIGS, ids=[f"{n}of{m}" for n, m in CONFIGS])
def test_nm_pe_matches_reference(n: int, m: int) -> None:
    build = build_rtl("nm_pe", parameters={"N": n, "M": m})
    run = run_cocotb(build, "hw.tb.tb_nm_pe")
    names = " ".join(t.name for t in run.tests)
    # Both modes ran, with and without idle cycles (1:1 has only index 0, so
    # its sparse mode is the plain MAC again).
    for part in ("test_latency_and_wrap", "mode=dense", "mode=sparse", "idle=0.0", "idle=0.3"):
        assert part in names, f"no cocotb test {part!r} ran: {names}"
