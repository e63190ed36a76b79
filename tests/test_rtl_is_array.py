"""The input-stationary array RTL (hw/rtl/is_array.sv) against SystolicArrayRef (IS).

Each configuration of hw.configs (the CI matrix; the full cross product of
sizes, N:M and fold timings under --slow) is built once and runs
hw/tb/tb_is_array.py: seeded random GEMMs, back to back and with idle cycles
and resets between them, driven from the reference's per-edge trace and
compared at every edge (hw/tb/array_bench.py).
"""

from __future__ import annotations

import pytest

from hw.configs import RtlConfig, pytest_params
from hw.sim import build_rtl, run_cocotb


@pytest.mark.rtl
@pytest.mark.parametrize("config", pytest_params("is_array"))
def test_is_array_matches_reference(config: RtlConfig) -> None:
    run = run_cocotb(build_rtl(config.block, parameters=config.params), config.bench)
    names = " ".join(t.name for t in run.tests)
    for part in ("gaps=False", "gaps=True"):
        assert part in names, f"no cocotb test {part!r} ran: {names}"
    assert run.cases > 0 and run.cycles > run.cases, f"{run.cases} cases, {run.cycles} cycles"
