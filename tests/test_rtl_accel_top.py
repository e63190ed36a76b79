"""The accelerator top (hw/rtl/accel_top.sv): whole tiled GEMMs and convs from its buffers.

Each arch of hw.configs.ACCEL_ARCHS (hw/arch/*.yaml) is built once with the
parameters hw.accel_config derives from it, and runs hw/tb/tb_accel_top.py:
random GEMMs and im2col convs with random GLB tiles, dense and N:M. Per case:
the array's control every edge equals the fold schedule, cycles_o equals the
tile model's compute cycles for the same shape, tiles and arch, outputs equal
numpy, and the RTL's action counts equal simulator.action_counts.
"""

from __future__ import annotations

import pytest

from hw.configs import RtlConfig, pytest_params
from hw.sim import build_rtl, run_cocotb


@pytest.mark.rtl
@pytest.mark.parametrize("config", pytest_params("accel_top"))
def test_accel_top_matches_tile_model(config: RtlConfig) -> None:
    build = build_rtl(config.block, **config.build_options())
    run = run_cocotb(build, config.bench, extra_env=config.env)
    assert "test_random_layers" in " ".join(t.name for t in run.tests)
    assert run.cases >= 20 and run.cycles > run.cases, f"{run.cases} cases, {run.cycles} cycles"
