"""The accelerator top's parameters come from an arch YAML (hw.accel_config)."""

from __future__ import annotations

import pytest

from hw.accel_config import ARCH_DIR, accel_parameters, load_accel_arch
from hw.configs import ACCEL_ARCHS, ACCEL_SLOW_ARCHS, configs
from simulator.load import load_arch
from simulator.spec_reader import SpecError


def test_parameters_follow_the_yaml() -> None:
    p = accel_parameters(load_accel_arch("accel-8x8-2of4"))
    assert (p["Rows"], p["Cols"], p["N"], p["M"]) == (8, 8, 2, 4)
    assert (p["Overlapped"], p["Gating"], p["AccWidth"]) == (1, 1, 32)
    # 1:4 on two multipliers: a PE of 8 lanes (window = multipliers * m / n)
    q = accel_parameters(load_accel_arch("accel-4x4-1of4"))
    assert (q["N"], q["M"], q["Overlapped"]) == (2, 8, 0)
    # the GLB in thirds, operands double-buffered: 16 KiB / 3 / 2 banks / 4-byte windows
    assert p["ADepth"] == 16 * 1024 // 3 // 2 // 4
    assert p["ODepth"] == 16 * 1024 // 3 // 4


def test_edge_preset_maps_too() -> None:
    p = accel_parameters(load_arch("edge"))
    assert (p["Rows"], p["N"], p["M"], p["Overlapped"]) == (16, 2, 4, 0)


def test_every_accel_config_is_its_yaml() -> None:
    built = {c.arch: dict(c.params) for c in configs("accel_top", slow=True)}
    assert set(built) == {*ACCEL_ARCHS, *ACCEL_SLOW_ARCHS}
    for arch in built:
        assert (ARCH_DIR / f"{arch}.yaml").is_file()
        assert built[arch] == dict(accel_parameters(load_accel_arch(arch)))


@pytest.mark.parametrize(
    ("preset", "field"),
    [("a100-sparse", "pe_array.dataflow"), ("vegeta", "pe_array.nm_patterns")],
)
def test_what_the_rtl_cannot_build_is_a_spec_error(preset: str, field: str) -> None:
    with pytest.raises(SpecError) as err:
        accel_parameters(load_arch(preset))
    assert field in str(err.value) and preset in str(err.value)
